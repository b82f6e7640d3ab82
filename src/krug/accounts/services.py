"""Operations on users, teams and API tokens."""

from __future__ import annotations

import secrets

from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from krug.accounts.models import ApiToken, Team, User, hash_token
from krug.core.errors import FieldErrors
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
    elif User.objects.filter(username__iexact=username).exists():
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
