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
