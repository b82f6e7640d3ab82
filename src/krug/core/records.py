"""The life cycle every tracked record shares: create, versioned update, recycle bin, restore, purge.

Entity services validate and normalise their own fields, then call these so that version checks,
authorship, audit entries and permission checks work the same everywhere.
"""

from __future__ import annotations

from typing import Any, TypeVar

from django.db import models, transaction
from django.db.models import F
from django.utils import timezone
from django.utils.translation import gettext as _

from krug.core import audit, permissions
from krug.core.errors import Forbidden, NotFound, ValidationFailed, VersionConflict
from krug.core.models import AuditEntry, TrackedModel

M = TypeVar("M", bound=TrackedModel)


def get_for(user, model: type[M], pk: int, action: str = permissions.VIEW, *, deleted: bool = False) -> M:
    """The record if `user` may see it; 404 otherwise (existence never leaks), 403 if he sees but may not act."""
    qs = model.objects.filter(pk=pk)
    obj = qs.visible_to(user, permissions.VIEW, deleted=deleted).first()
    if obj is None:
        raise NotFound(_("%(entity)s %(id)s not found") % {"entity": model._meta.verbose_name, "id": pk})
    if action != permissions.VIEW and not permissions.can(user, action, obj):
        raise Forbidden(_("You may not %(action)s this %(entity)s") % {
            "action": action, "entity": model._meta.verbose_name})
    return obj


def check_owner(user, owner, field: str = "owner") -> None:
    """Refuse to give a record to someone the user may not assign records to."""
    if not permissions.can_assign(user, owner):
        raise ValidationFailed.single(field, _("You may not assign records to this user"))


def create(model: type[M], fields: dict[str, Any], by) -> M:
    """Insert a record with authorship and write its audit entry."""
    obj = model(**fields, created_by=by, updated_by=by)
    obj.save(force_insert=True)
    audit.record(AuditEntry.Action.CREATE, obj, by, {k: [None, v] for k, v in audit.snapshot(
        obj, obj.audited_fields).items() if v not in (None, "", [], {})})
    return obj


def update(obj: M, fields: dict[str, Any], by, *, expected_version: int | None = None) -> dict[str, list]:
    """Apply `fields` if the record still has `expected_version`; returns the audit diff.

    The write is a compare-and-swap on the version column, so two people saving the same card never
    silently overwrite each other: the second one gets VersionConflict and nothing is written.
    """
    if expected_version is not None and expected_version != obj.version:
        raise VersionConflict(extra={"current_version": obj.version})
    before = audit.snapshot(obj, obj.audited_fields)
    for name, value in fields.items():
        setattr(obj, name, value)
    after = audit.snapshot(obj, obj.audited_fields)
    changes = audit.diff(before, after)
    if not changes:
        return {}
    now = timezone.now()
    values = {obj._meta.get_field(n).attname: getattr(obj, obj._meta.get_field(n).attname) for n in fields}
    updated = type(obj).objects.filter(pk=obj.pk, version=obj.version).update(
        **values, version=F("version") + 1, updated_at=now, updated_by=by
    )
    if not updated:
        current = type(obj).objects.filter(pk=obj.pk).values_list("version", flat=True).first()
        raise VersionConflict(extra={"current_version": current})
    obj.version += 1
    obj.updated_at, obj.updated_by = now, by
    audit.record(AuditEntry.Action.UPDATE, obj, by, changes)
    return changes


def touch(obj: M, by) -> None:
    """Bump version and updated_at for a change that lives outside the row (tags, phones, line items)."""
    now = timezone.now()
    type(obj).objects.filter(pk=obj.pk).update(version=F("version") + 1, updated_at=now, updated_by=by)
    obj.version += 1
    obj.updated_at, obj.updated_by = now, by


def _set_deleted(obj: TrackedModel, by, deleted: bool) -> None:
    now = timezone.now() if deleted else None
    type(obj).objects.filter(pk=obj.pk).update(
        deleted_at=now, deleted_by=by if deleted else None, version=F("version") + 1,
        updated_at=timezone.now(), updated_by=by,
    )
    obj.deleted_at, obj.deleted_by = now, (by if deleted else None)
    obj.version += 1


@transaction.atomic
def move_to_bin(obj: TrackedModel, by) -> None:
    """Soft-delete: the record disappears from every list but can be restored."""
    _set_deleted(obj, by, True)
    audit.record(AuditEntry.Action.DELETE, obj, by)


@transaction.atomic
def restore(obj: TrackedModel, by) -> None:
    _set_deleted(obj, by, False)
    audit.record(AuditEntry.Action.RESTORE, obj, by)


@transaction.atomic
def purge(obj: TrackedModel, by) -> None:
    """Delete for good (admins only, from the bin); the audit entry stays."""
    audit.record(AuditEntry.Action.PURGE, obj, by, audit.snapshot(obj, obj.audited_fields))
    try:
        obj.delete()
    except models.ProtectedError as exc:
        raise ValidationFailed.single(
            "id", _("Still referenced by %(n)d other records; purge those first") % {
                "n": len(exc.protected_objects)}) from exc
