"""Import jobs with their progress and per-row outcome, and the ids records had in the system they came from."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import pgettext_lazy


class ImportJob(models.Model):
    """One uploaded file on its way into the base. `done_rows` is the checkpoint: every row before it is
    written (or reported failed) in the same transaction that moved the checkpoint, so a killed worker resumes
    there and writes each good row exactly once."""

    class Status(models.TextChoices):
        UPLOADED = "uploaded", pgettext_lazy("job", "uploaded")
        QUEUED = "queued", pgettext_lazy("job", "queued")
        RUNNING = "running", pgettext_lazy("job", "running")
        DONE = "done", pgettext_lazy("job", "done")
        FAILED = "failed", pgettext_lazy("job", "failed")
        CANCELLED = "cancelled", pgettext_lazy("job", "cancelled")

    entity = models.CharField(max_length=16)
    file_name = models.CharField(max_length=255)
    path = models.CharField(max_length=500, help_text="the uploaded file under KRUG_DATA/imports")
    size = models.BigIntegerField(default=0)
    format = models.JSONField(default=dict, help_text="kind, encoding, delimiter as detected")
    sheets = models.JSONField(default=list, blank=True, help_text="a workbook's sheets in the order of its tabs")
    sheet = models.TextField(blank=True, help_text="the workbook's sheet that is read (the reader takes it from "
                                                   "`format`); '' for CSV")
    header = models.JSONField(default=list)
    mapping = models.JSONField(default=list, help_text="for each column the field it fills, '' to skip")
    key = models.CharField(max_length=32, blank=True, help_text="upsert by this field; empty = always create")
    values = models.JSONField(default=dict, blank=True, help_text="what a value column's values become: field -> "
                                                                  "{value (transfer.values.norm): option, '' = empty}")
    status = models.CharField(max_length=12, choices=Status.choices, default=Status.UPLOADED)
    language = models.CharField(max_length=16, blank=True, help_text="the language of the user who uploaded the "
                                                                     "file: the run reports its rows in it")
    tally = models.JSONField(default=dict, blank=True, help_text="the value columns' values as last counted "
                                                                 "(`values.found`), with what they were counted for")
    total_rows = models.PositiveIntegerField(null=True, blank=True)
    done_rows = models.PositiveIntegerField(default=0)
    created = models.PositiveIntegerField(default=0)
    updated = models.PositiveIntegerField(default=0)
    merged = models.PositiveIntegerField(default=0, help_text="rows that matched an existing record as a duplicate")
    skipped = models.PositiveIntegerField(default=0, help_text="empty rows and rows with nothing to change")
    failed = models.PositiveIntegerField(default=0)
    error = models.TextField(blank=True)
    by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(default=timezone.now)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    heartbeat_at = models.DateTimeField(null=True, blank=True, help_text="the worker's last sign of life")

    class Meta:
        ordering = ["-id"]

    def __str__(self) -> str:
        return f"{self.file_name} → {self.entity}"

    @property
    def warned(self) -> int:
        """Rows imported with a warning (a deal whose contact's name fits no contact, or several): kept with the
        failed rows (`row_errors`), their problems marked `warning` (`importer.WARNING`), and not counted in
        `failed`."""
        return self.row_errors.filter(errors__0__warning=True).count()


class ImportRowError(models.Model):
    """A row that was not imported: its number in the file (the header is row 1), the values and why."""

    job = models.ForeignKey(ImportJob, on_delete=models.CASCADE, related_name="row_errors")
    row = models.PositiveIntegerField()
    values = models.JSONField(default=list)
    errors = models.JSONField(default=list, help_text="[{field, message}]")

    class Meta:
        ordering = ["row"]
        constraints = [models.UniqueConstraint(fields=["job", "row"], name="import_error_row_unique")]


class ExternalKey(models.Model):
    """The id a record had in the system it was imported from, for upserts by that id. `merged`: the id came
    with a row merged into the record (a duplicate of it), so a row naming it later is merged too (fills in
    what the record lacks) rather than updating the record by key."""

    entity = models.CharField(max_length=16)
    external_id = models.CharField(max_length=120)
    record_id = models.BigIntegerField()
    merged = models.BooleanField(default=False)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["entity", "external_id"], name="external_key_unique")]
        indexes = [models.Index(fields=["entity", "record_id"], name="external_key_record_idx")]


class ExportJob(models.Model):
    """One export of a filtered list: the record of who took which personal data out, and when, and the
    file (XLSX is written in the background; CSV streams straight from the database)."""

    class Format(models.TextChoices):
        CSV = "csv", "CSV"
        XLSX = "xlsx", "XLSX"

    class Status(models.TextChoices):
        QUEUED = "queued", pgettext_lazy("job", "queued")
        RUNNING = "running", pgettext_lazy("job", "running")
        DONE = "done", pgettext_lazy("job", "done")
        FAILED = "failed", pgettext_lazy("job", "failed")

    entity = models.CharField(max_length=16)
    format = models.CharField(max_length=4, choices=Format.choices)
    query = models.CharField(max_length=2000, blank=True, help_text="the list's filters as a query string")
    language = models.CharField(max_length=16, blank=True, help_text="the language of the user who asked: the "
                                                                     "file's headers and words are in it")
    status = models.CharField(max_length=8, choices=Status.choices, default=Status.QUEUED)
    rows = models.PositiveIntegerField(default=0)
    path = models.CharField(max_length=500, blank=True)
    error = models.TextField(blank=True)
    by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(default=timezone.now)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-id"]

    def __str__(self) -> str:
        return f"{self.entity}.{self.format} ({self.query or 'all'})"
