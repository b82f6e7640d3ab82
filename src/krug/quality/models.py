"""Data-quality reference data an administrator edits."""

from __future__ import annotations

from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class TitleSynonym(models.Model):
    """One way of writing a job title and the standard title it means (`CEOn` -> `Генеральный директор`)."""

    variant = models.CharField(_("variant"), max_length=200)
    key = models.CharField(max_length=200, unique=True, help_text="titles.title_key(variant)")
    title = models.CharField(_("standard title"), max_length=200)
    updated_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["title", "variant"]
        verbose_name = _("job title synonym")

    def __str__(self) -> str:
        return f"{self.variant} → {self.title}"


class MatchKey(models.Model):
    """A blocking key of a contact or company (see quality.matching): records sharing a key are compared
    when one is entered, so the duplicate check reads a few index rows instead of the whole base."""

    entity = models.CharField(max_length=8)
    record_id = models.BigIntegerField()
    key = models.CharField(max_length=120)

    class Meta:
        indexes = [models.Index(fields=["entity", "key"], name="matchkey_lookup_idx"),
                   models.Index(fields=["entity", "record_id"], name="matchkey_record_idx")]


class Merge(models.Model):
    """One merge of duplicates into a survivor, with what it takes to undo it."""

    entity = models.CharField(max_length=8)
    survivor_id = models.BigIntegerField()
    merged_ids = models.JSONField(default=list)
    survivor_before = models.JSONField(default=dict, help_text="the survivor's fields before the merge")
    moved = models.JSONField(default=list, help_text="[[app_label.model, field, [ids], from_id], ...]")
    dropped = models.JSONField(default=list, help_text="phones/e-mails dropped as repeats: [[model, row], ...]")
    tags_added = models.JSONField(default=list)
    automatic = models.BooleanField(default=False)
    by = models.ForeignKey("accounts.User", null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    at = models.DateTimeField(default=timezone.now)
    undone_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        indexes = [models.Index(fields=["entity", "survivor_id"], name="merge_survivor_idx")]
