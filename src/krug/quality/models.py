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


class _KeyHash(models.Model):
    """A blocking key of a record (see quality.matching), stored as a 64-bit hash (`duplicates.key_hash`):
    records sharing a key are compared when one is entered, so the duplicate check reads a few index rows
    instead of the whole base. The hash is the primary key's first half and the record its second, so one
    narrow b-tree answers "who holds this key" by itself; the record index serves replacing a record's keys.
    A base of a million contacts holds some ten million keys: as text, with a surrogate id, they took
    2.4 times the contacts' own space and most of an import's writes."""

    pk = models.CompositePrimaryKey("hash", "record_id")
    hash = models.BigIntegerField()
    record_id = models.BigIntegerField()

    class Meta:
        abstract = True


class ContactKey(_KeyHash):
    class Meta:
        indexes = [models.Index(fields=["record_id"], name="contactkey_record_idx")]


class CompanyKey(_KeyHash):
    class Meta:
        indexes = [models.Index(fields=["record_id"], name="companykey_record_idx")]


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


class QualitySettings(models.Model):
    """The administrator's data-quality settings (one row): match rules and automatic merging."""

    match_rules = models.JSONField(default=dict, blank=True, help_text="quality.scan.MatchRules fields")
    auto_merge_above = models.FloatField(null=True, blank=True,
                                         help_text="merge pairs scoring at least this automatically; empty = off")

    class InvalidPhones(models.TextChoices):
        REJECT = "reject", _("reject with a field error")
        KEEP = "keep", _("keep as typed and flag")

    invalid_phones = models.CharField(max_length=8, choices=InvalidPhones.choices, default=InvalidPhones.REJECT)
    nightly_scan_hour = models.PositiveSmallIntegerField(
        null=True, blank=True, default=3,
        help_text="local hour at which `krug worker` queues the nightly duplicate scans; empty = never")
    updated_at = models.DateTimeField(default=timezone.now)

    @classmethod
    def current(cls) -> QualitySettings:
        from krug.core import memo

        return memo.remembered("quality_settings", lambda: cls.objects.order_by("id").first() or cls.objects.create())


class ScanRun(models.Model):
    """One full duplicate scan, with its progress for the UI and the API."""

    class Status(models.TextChoices):
        QUEUED = "queued", _("queued")
        RUNNING = "running", _("running")
        DONE = "done", _("done")
        FAILED = "failed", _("failed")

    entity = models.CharField(max_length=8, default="contact")
    status = models.CharField(max_length=8, choices=Status.choices, default=Status.QUEUED)
    stage = models.CharField(max_length=32, blank=True, help_text="what the scan is doing now")
    done = models.PositiveIntegerField(default=0)
    total = models.PositiveIntegerField(default=0)
    records = models.PositiveIntegerField(default=0)
    found = models.PositiveIntegerField(default=0)
    merged = models.PositiveIntegerField(default=0)
    rules = models.JSONField(default=dict, blank=True)
    error = models.TextField(blank=True)
    by = models.ForeignKey("accounts.User", null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(default=timezone.now)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)


class DuplicatePair(models.Model):
    """Two records a scan believes are one, with the score and the reasons; open until merged or dismissed."""

    class Status(models.TextChoices):
        OPEN = "open", _("open")
        MERGED = "merged", _("merged")
        DISMISSED = "dismissed", _("not a duplicate")

    entity = models.CharField(max_length=8, default="contact")
    a_id = models.BigIntegerField()
    b_id = models.BigIntegerField()
    score = models.FloatField()
    reasons = models.JSONField(default=list)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.OPEN)
    scan = models.ForeignKey(ScanRun, null=True, blank=True, on_delete=models.SET_NULL, related_name="pairs")
    found_at = models.DateTimeField(default=timezone.now)
    decided_by = models.ForeignKey("accounts.User", null=True, blank=True, on_delete=models.SET_NULL,
                                   related_name="+")

    class Meta:
        constraints = [models.UniqueConstraint(fields=["entity", "a_id", "b_id"], name="duplicate_pair_unique")]
        indexes = [models.Index(fields=["entity", "status", "-score"], name="duplicate_open_idx"),
                   models.Index(fields=["entity", "b_id"], name="duplicate_b_idx")]


class HealthSnapshot(models.Model):
    """The data health of one day, for the whole base (owner empty) and per manager, so the trend shows."""

    date = models.DateField()
    owner = models.ForeignKey("accounts.User", null=True, blank=True, on_delete=models.CASCADE, related_name="+")
    total = models.PositiveIntegerField(default=0)
    clean = models.PositiveIntegerField(default=0)
    duplicates_open = models.PositiveIntegerField(default=0)
    completeness = models.JSONField(default=dict, help_text="field -> records that have it")
    flagged = models.JSONField(default=dict, help_text="cleanup rule -> records it flags")

    class Meta:
        constraints = [models.UniqueConstraint(fields=["date", "owner"], name="health_day_owner_unique"),
                       models.UniqueConstraint(fields=["date"], condition=models.Q(owner__isnull=True),
                                               name="health_day_total_unique")]
        indexes = [models.Index(fields=["owner", "-date"], name="health_owner_idx")]
