"""Operations on users, teams and API tokens."""

from __future__ import annotations

import secrets

from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from krug.accounts.models import ApiToken, SavedView, Team, User, hash_token
from krug.core.errors import FieldErrors, ValidationFailed
from krug.core.permissions import Role

TOKEN_PREFIX = "krug_"


@transaction.atomic
def create_user(username: str, *, role: str = Role.MANAGER, team: Team | None = None, password: str | None = None,
                first_name: str = "", last_name: str = "", email: str = "") -> User:
    """A new active user; a head given a team becomes that team's head."""
    errors = FieldErrors()
    username = (username or "").strip()
    if not username:
        errors.add("username", _("required"))
    elif User.objects.filter(username__in={username, username.lower()}).exists():
        errors.add("username", _("already taken"))
    if role not in Role.values:
        errors.add("role", _("must be one of %(roles)s") % {"roles": ", ".join(Role.values)})
    if password:
        try:
            validate_password(password)
        except ValidationError as exc:
            for message in exc.messages:
                errors.add("password", message)
    errors.raise_if_any()
    user = User(username=username, role=role, team=team, first_name=first_name, last_name=last_name,
                email=email, is_staff=role == Role.ADMIN, is_superuser=role == Role.ADMIN)
    if password:
        user.set_password(password)
    else:
        user.set_unusable_password()
    user.save()
    if team is not None and role == Role.HEAD and team.head_id is None:
        team.head = user
        team.save(update_fields=["head"])
    return user


def get_or_create_team(name: str) -> Team:
    team, _created = Team.objects.get_or_create(name=name.strip())
    return team


def issue_token(user: User, name: str = "") -> str:
    """Make an API token and return it; it is stored hashed and cannot be shown again."""
    token = TOKEN_PREFIX + secrets.token_urlsafe(32)
    ApiToken.objects.create(user=user, name=name, key_hash=hash_token(token), prefix=token[:12])
    return token


def user_for_token(token: str) -> User | None:
    found = (
        ApiToken.objects.select_related("user", "user__team")
        .filter(key_hash=hash_token(token), revoked_at__isnull=True, user__is_active=True)
        .first()
    )
    if found is None:
        return None
    now = timezone.now()
    if found.last_used_at is None or (now - found.last_used_at).total_seconds() > 60:
        ApiToken.objects.filter(pk=found.pk).update(last_used_at=now)
    return found.user


@transaction.atomic
def update_user(user: User, data: dict) -> User:
    """Change role, team, names or active flag; deactivating revokes the user's tokens and sessions."""
    errors = FieldErrors()
    if "role" in data and data["role"] not in Role.values:
        errors.add("role", _("must be one of %(roles)s") % {"roles": ", ".join(Role.values)})
    if "team_id" in data and data["team_id"] is not None and not Team.objects.filter(pk=data["team_id"]).exists():
        errors.add("team_id", _("no such team"))
    errors.raise_if_any()
    for name in ("role", "team_id", "first_name", "last_name", "email", "is_active"):
        if name in data and (data[name] is not None or name == "team_id"):
            setattr(user, name, data[name])
    user.is_superuser = user.is_staff = user.role == Role.ADMIN
    user.save()
    if not user.is_active:
        ApiToken.objects.filter(user=user, revoked_at__isnull=True).update(revoked_at=timezone.now())
        _end_sessions(user)
    return user


def _end_sessions(user: User) -> None:
    from django.contrib.sessions.models import Session

    for session in Session.objects.filter(expire_date__gt=timezone.now()).iterator():
        if session.get_decoded().get("_auth_user_id") == str(user.pk):
            session.delete()


@transaction.atomic
def create_team(name: str, head_id: int | None = None) -> Team:
    errors = FieldErrors()
    name = (name or "").strip()
    if not name:
        errors.add("name", _("required"))
    elif any(t.casefold() == name.casefold() for t in Team.objects.values_list("name", flat=True)):
        errors.add("name", _("a team with this name exists"))
    head = None
    if head_id is not None:
        head = User.objects.filter(pk=head_id, role=Role.HEAD, is_active=True).first()
        if head is None:
            errors.add("head_id", _("no such active head of sales"))
    errors.raise_if_any()
    team = Team.objects.create(name=name, head=head)
    if head is not None and head.team_id is None:
        head.team = team
        head.save(update_fields=["team"])
    return team


# ---- saved views ----------------------------------------------------------------------------------------

VIEW_IGNORED = {"cursor", "csrfmiddlewaretoken", "view", "name"}


def save_view(user: User, entity: str, name: str, query) -> SavedView:
    """Keep a list's filters under a name (saving under an existing name replaces it). `query` is a QueryDict
    or a dict; the paging cursor and form tokens are dropped, and the filters are checked before saving."""
    from django.http import QueryDict

    from krug.clients import filters

    errors = FieldErrors()
    name = " ".join((name or "").split())
    if entity not in SavedView.ENTITIES:
        errors.add("entity", _("must be one of %(v)s") % {"v": ", ".join(SavedView.ENTITIES)})
    if not name:
        errors.add("name", _("required"))
    elif len(name) > 80:
        errors.add("name", _("at most 80 characters"))
    errors.raise_if_any()
    kept = QueryDict(mutable=True)
    items = query.lists() if hasattr(query, "lists") else ((k, v if isinstance(v, list) else [v])
                                                            for k, v in dict(query).items())
    for key, values in items:
        values = [str(v) for v in values if v not in (None, "")]
        if key not in VIEW_IGNORED and values:
            kept.setlist(key, values)
    if entity in filters.FOR_ENTITY:
        from krug.clients.models import Company, Contact, Lead

        model = {"contacts": Contact, "companies": Company, "leads": Lead}[entity]
        filters.FOR_ENTITY[entity](model.objects.none(), kept)  # raises ValidationFailed on a bad filter
    text = kept.urlencode()
    if len(text) > 2000:
        raise ValidationFailed.single("query", _("too many filters"))
    view, _created = SavedView.objects.update_or_create(user=user, entity=entity, name=name,
                                                        defaults={"query": text})
    return view


def delete_view(user: User, view_id: int) -> None:
    from krug.core.errors import NotFound

    deleted, _rows = SavedView.objects.filter(user=user, pk=view_id).delete()
    if not deleted:
        raise NotFound(_("no such saved view"))


def views_for(user: User, entity: str) -> list[SavedView]:
    return list(SavedView.objects.filter(user=user, entity=entity))
