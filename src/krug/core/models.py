"""Shared base models: timestamps, authorship, owner, version for optimistic locking, soft deletion;
plus the audit trail, record sharing and administrator-defined custom fields."""

from __future__ import annotations

from django.conf import settings
from django.contrib.contenttypes.models import ContentType
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from krug.core import permissions


class KrugQuerySet(models.QuerySet):
    def alive(self):
        return self.filter(deleted_at__isnull=True)

    def in_bin(self):
        return self.filter(deleted_at__isnull=False)

    def visible_to(self, user, action: str = permissions.VIEW, *, deleted: bool = False):
        """The one permission door: the records `user` may `action`, alive (or, with deleted=True, binned)."""
        qs = self.in_bin() if deleted else self.alive()
        return permissions.restrict(qs, user, action)

    def visible_on(self, user, field: str, parent):
        """The live records attached to `parent` (a record `user` is known to see, such as the card being shown)
        by `field` that he may see (`permissions.restrict_on`)."""
        return permissions.restrict_on(self.alive(), user, field, parent)


# The columns that say who did something (created, changed or deleted a record; wrote an audit entry or a
# timeline event), and of what kind an audited record is, carry no foreign-key constraint in the database
# (`db_constraint=False`). Django still applies their `on_delete` when a user is deleted, and the services
# deactivate users rather than delete them. A constraint cost the database a lookup and a lock of the user's row
# for every row written: a million-contact import makes some 6.4 million such checks. Who created or deleted a
# record has no index either: no list or filter asks it, and each index is written for every row an import
# writes (a user's deletion, which sets them to null, reads the tables through).


def binned_index(name: str) -> models.Index:
    """The index of a large table's deleted records, newest first (the bin lists them so), and of them only. An
    index of every row's `deleted_at` held a null for each live record: written for every row an import makes,
    and read by no query, except that SQLite, without statistics, took `deleted_at IS NULL` (every permission
    check) for a rare value and walked the whole table by it: a deal file's contacts looked for by name took
    3.4 s a query among 100,000 contacts instead of 0.02 (session 23)."""
    return models.Index(fields=["-deleted_at"], name=name, condition=models.Q(deleted_at__isnull=False))


class TrackedModel(models.Model):
    """Who created and changed a record and when, its version, and soft deletion."""

    created_at = models.DateTimeField(default=timezone.now, editable=False)
    updated_at = models.DateTimeField(default=timezone.now, db_index=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+",
        db_constraint=False, db_index=False,  # see the note above TrackedModel
    )
    updated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+",
        db_constraint=False,  # see the note above TrackedModel
    )
    version = models.PositiveIntegerField(default=1)
    deleted_at = models.DateTimeField(null=True, blank=True)  # indexed in the bin only: `binned_index`
    deleted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+",
        db_constraint=False, db_index=False,  # see the note above TrackedModel
    )

    objects = KrugQuerySet.as_manager()

    #: decides who may do what; see krug.core.permissions
    access: permissions.Policy = permissions.ADMIN_ONLY
    #: fields the audit trail and version check cover (set by each model)
    audited_fields: tuple[str, ...] = ()

    class Meta:
        abstract = True

    @property
    def is_deleted(self) -> bool:
        return self.deleted_at is not None


class OwnedModel(TrackedModel):
    """A record with a responsible user; ownership drives visibility (see permissions.OwnerPolicy)."""

    owner = models.ForeignKey(  # no index of its own: each owned model has an (owner, -id) one for its lists
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+", db_index=False,
    )

    access = permissions.OWNER

    class Meta:
        abstract = True


class AuditEntry(models.Model):
    """One change to one record: who, when, what, old -> new."""

    class Action(models.TextChoices):
        CREATE = "create", _("created")
        UPDATE = "update", _("updated")
        DELETE = "delete", _("moved to recycle bin")
        RESTORE = "restore", _("restored")
        PURGE = "purge", _("purged")
        MERGE = "merge", _("merged")
        SHARE = "share", _("shared")
        EXPORT = "export", _("exported")

    # no index of its own (audit_object_idx starts with it), no constraint (see TrackedModel)
    content_type = models.ForeignKey(ContentType, on_delete=models.CASCADE, related_name="+", db_index=False,
                                     db_constraint=False)
    object_id = models.BigIntegerField()
    object_repr = models.CharField(max_length=300, blank=True)
    action = models.CharField(max_length=16, choices=Action.choices)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+",
        db_constraint=False,  # see the note above TrackedModel
    )
    at = models.DateTimeField(default=timezone.now)
    changes = models.JSONField(default=dict, blank=True)

    class Meta:
        indexes = [models.Index(fields=["content_type", "object_id", "-id"], name="audit_object_idx")]

    def __str__(self) -> str:
        return f"{self.action} {self.object_repr}"


class Share(models.Model):
    """A record an owner or head shared with another user: that user may see and edit it."""

    content_type = models.ForeignKey(ContentType, on_delete=models.CASCADE, related_name="+")
    object_id = models.BigIntegerField()
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="shares")
    created_at = models.DateTimeField(default=timezone.now)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["content_type", "object_id", "user"], name="share_unique")
        ]
        indexes = [models.Index(fields=["user", "content_type", "object_id"], name="share_user_idx")]


class CustomField(models.Model):
    """A field an administrator adds to an entity without code; values live in the record's `custom` JSON."""

    class Type(models.TextChoices):
        TEXT = "text", _("text")
        NUMBER = "number", _("number")
        DATE = "date", _("date")
        CHOICE = "choice", _("choice")
        BOOLEAN = "boolean", _("yes/no")

    entity = models.CharField(max_length=32)
    key = models.SlugField(max_length=64)
    label = models.CharField(max_length=120)
    type = models.CharField(max_length=16, choices=Type.choices)
    choices = models.JSONField(default=list, blank=True)
    required = models.BooleanField(default=False)
    position = models.PositiveIntegerField(default=0)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["entity", "position", "id"]
        constraints = [models.UniqueConstraint(fields=["entity", "key"], name="custom_field_unique_key")]

    def __str__(self) -> str:
        return f"{self.entity}.{self.key}"
