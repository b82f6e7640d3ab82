"""The one permission door.

Every model names a policy (`Model.access`). `restrict(queryset, user, action)` turns the policy into a
filter, and every list, card, search, timeline, export and job goes through it via
`Model.objects.visible_to(user, action)`. Object checks reuse the same filter (`can`), so the rules are
written once.

Rules (PRODUCT.md §9): an admin sees and does everything; a head sees and edits everything of the teams
he leads and may delete (to the recycle bin) and restore it; a manager sees and edits what he owns or
what was shared with him, and never deletes; purging needs an admin. Records without an owner form a
common pool that everyone sees and only heads and admins edit.
"""

from __future__ import annotations

from django.db.models import Exists, OuterRef, Q, TextChoices
from django.utils.translation import gettext_lazy as _

VIEW = "view"
CHANGE = "change"
DELETE = "delete"
RESTORE = "restore"
PURGE = "purge"
ACTIONS = (VIEW, CHANGE, DELETE, RESTORE, PURGE)


class Role(TextChoices):
    ADMIN = "admin", _("Administrator")
    HEAD = "head", _("Head of sales")
    MANAGER = "manager", _("Manager")


NOTHING = Q(pk__in=[])
EVERYTHING = Q()


def role_of(user) -> str | None:
    if user is None or not getattr(user, "is_authenticated", False) or not user.is_active:
        return None
    return Role.ADMIN if user.is_superuser else user.role


class Policy:
    """Turns (user, action) into a Q over a model."""

    def q(self, model, user, action: str) -> Q:  # pragma: no cover - interface
        raise NotImplementedError


class AdminOnlyPolicy(Policy):
    def q(self, model, user, action):
        return EVERYTHING if role_of(user) == Role.ADMIN else NOTHING


class ReferencePolicy(Policy):
    """Reference data (pipelines, products, users): everyone reads, administrators change."""

    def q(self, model, user, action):
        role = role_of(user)
        if role is None:
            return NOTHING
        if action == VIEW or role == Role.ADMIN:
            return EVERYTHING
        return NOTHING


class OwnerPolicy(Policy):
    """Ownership, team, sharing and the unowned pool, as described in the module docstring."""

    owner_field = "owner"

    def q(self, model, user, action):
        role = role_of(user)
        if role is None:
            return NOTHING
        if role == Role.ADMIN:
            return EVERYTHING
        if action == PURGE:
            return NOTHING
        owner = self.owner_field
        if role == Role.HEAD:
            team = Q(**{owner: user}) | Q(**{f"{owner}__team__head": user})
            if action in (VIEW, CHANGE, DELETE, RESTORE):
                return team | Q(**{f"{owner}__isnull": True}) | self._shared(model, user)
            return NOTHING
        # manager
        if action == VIEW:
            return Q(**{owner: user}) | Q(**{f"{owner}__isnull": True}) | self._shared(model, user)
        if action == CHANGE:
            return Q(**{owner: user}) | self._shared(model, user)
        return NOTHING

    @staticmethod
    def _shared(model, user) -> Q:
        from django.contrib.contenttypes.models import ContentType

        from krug.core.models import Share

        ct = ContentType.objects.get_for_model(model)
        return Q(pk__in=Share.objects.filter(content_type=ct, user=user).values("object_id"))


class RowExists(Exists):
    """EXISTS that PostgreSQL asks row by row (an index probe of the parent's key), never by first hashing
    every row of the subquery. Where it expects to test many rows, PostgreSQL turns a correlated EXISTS into a
    hashed `IN` of the whole subquery, also under a LIMIT: a page of 50 tasks for a manager at a million
    contacts hashed the 200,000 deals and companies he sees first (85 ms of 87). It cannot pull up a subquery
    with an OFFSET, so `OFFSET 0` keeps the probe."""

    template = "EXISTS(%(subquery)s OFFSET 0)"


class AttachedPolicy(OwnerPolicy):
    """Activities: the owner's rules, and in addition anyone who may see the client or deal the activity
    is attached to may see it (so a client card shows every touchpoint), but not change it."""

    def __init__(self, *parents: str):
        self.parents = parents

    def q(self, model, user, action):
        own = super().q(model, user, action)
        if action != VIEW or role_of(user) in (None, Role.ADMIN):
            return own
        # EXISTS for the record's own client or deal, not `field IN (every one he sees)`: PostgreSQL hashes
        # such a list only while it fits in work_mem, and past that (a manager's 200,000 clients at a million)
        # it compared each activity with the whole list: a dashboard's count of overdue tasks ran for minutes
        for field in self.parents:
            parent_model = model._meta.get_field(field).related_model
            own |= Q(RowExists(parent_model.objects.visible_to(user, VIEW).filter(pk=OuterRef(field))))
        return own


ADMIN_ONLY = AdminOnlyPolicy()
REFERENCE = ReferencePolicy()
OWNER = OwnerPolicy()


def restrict(queryset, user, action: str = VIEW):
    """Filter `queryset` to what `user` may `action`, by the model's policy."""
    if action not in ACTIONS:
        raise ValueError(f"unknown action {action!r}")
    q = queryset.model.access.q(queryset.model, user, action)
    return queryset.filter(q) if q != EVERYTHING else queryset


def restrict_on(queryset, user, field: str, parent):
    """The records of `queryset` attached to `parent` by `field` that `user` may view, `parent` being a record the
    caller has found he may view (the card being shown). An activity attached to a client or deal the user sees is
    his to see (`AttachedPolicy`), so for those this asks only which are attached: the policy's own filter reads
    every client and deal the user sees, which on a card's timeline or task list at a million contacts meant
    the manager's whole book on every request. Other models go through `restrict` as usual."""
    queryset = queryset.filter(**{field: parent})
    if attached_by(queryset.model, field):
        return queryset if role_of(user) is not None else queryset.none()
    return restrict(queryset, user, VIEW)


def attached_by(model, field: str) -> bool:
    """Whether whoever sees the record `field` names may see `model`'s records attached by it (`AttachedPolicy`)."""
    access = model.access
    return isinstance(access, AttachedPolicy) and field in access.parents


def unrestricted(model, user, action: str) -> bool:
    """Whether `user` may `action` every live record of `model` (an administrator, by the model's policy)."""
    return model.access.q(model, user, action) == EVERYTHING


def can(user, action: str, obj) -> bool:
    """Object-level check through the same filter as the lists."""
    qs = type(obj).objects.filter(pk=obj.pk)
    qs = qs.in_bin() if obj.deleted_at is not None else qs.alive()
    return restrict(qs, user, action).exists()


def can_assign(user, new_owner) -> bool:
    """Who may make `new_owner` responsible for a record: anyone himself, a head his team, an admin anyone."""
    role = role_of(user)
    if role == Role.ADMIN:
        return True
    if new_owner is None:
        return role == Role.HEAD
    if new_owner.pk == user.pk:
        return True
    if role == Role.HEAD:
        return new_owner.team_id is not None and new_owner.team.head_id == user.pk
    return False
