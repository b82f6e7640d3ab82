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
