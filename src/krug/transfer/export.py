"""Export of a filtered list to CSV or XLSX, with the list's own filters and permissions.

Records are read in id-ordered chunks (keyset, no OFFSET), so memory stays flat whatever the size: CSV
streams straight to the browser; XLSX is written by XlsxWriter in constant-memory mode in the background.
Every export is an `ExportJob` row and an audit entry; so is every download, since each one hands personal
data out again (a CSV is read anew from the database each time).

XLSX cells are typed: numbers, dates and datetimes (in the site's time zone) are cells Excel sums and
filters, and text is always a string cell, never a formula, so it is written exactly as it is. CSV has no
types: Excel guesses them, so a value it would run as a formula (= + - @ first) gets a leading `'`, unless it
is plainly a number or a phone (`+79161234567`, `-1500,50`), which no formula can hide in.
"""

from __future__ import annotations

import datetime as dt
import re
import uuid
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any

from django.conf import settings
from django.db import transaction
from django.db.models import Count, IntegerField, OuterRef, Subquery, Value
from django.db.models.functions import Coalesce
from django.http import QueryDict
from django.utils import timezone, translation
from django.utils.text import capfirst
from django.utils.translation import gettext as _

from krug.core import audit
from krug.core.errors import Conflict, FieldErrors, ValidationFailed
from krug.core.models import AuditEntry
from krug.transfer import export_columns
from krug.transfer.models import ExportJob
from krug.transfer.services import csv_text, own_job

CHUNK = 2000
ENTITIES = ("contacts", "companies", "leads", "deals")
#: what a list's address carries besides its filters: the page cursor, the API's page size, the sort order,
#: the open saved view (its filters are in the address too) and the leads inbox's error message. An export
#: reads every row in Krug ID order, so these change nothing and are dropped; any other parameter that no
#: filter reads is refused, so a typo cannot export the whole base.
LIST_CONTROLS = frozenset({"cursor", "limit", "order", "view", "error"})


def _queryset(by, entity: str, params) -> Any:
    from krug.clients import filters as client_filters
    from krug.clients.models import Company, Contact, Lead
    from krug.sales import filters as sales_filters
    from krug.sales.models import Deal

    if entity == "contacts":
        return client_filters.contacts(Contact.objects.visible_to(by), params)
    if entity == "companies":
        return client_filters.companies(Company.objects.visible_to(by), params)
    if entity == "leads":
        return client_filters.leads(Lead.objects.visible_to(by), params)
    return sales_filters.deals(Deal.objects.visible_to(by), params)


class _Asked(QueryDict):
    """A query string that remembers which parameters the filters asked for."""

    def __init__(self, query_string: str | None = None, mutable: bool = False, encoding: str | None = None):
        super().__init__(query_string, mutable=mutable, encoding=encoding)
        self.asked: set[str] = set()

    def __getitem__(self, key):
        self.asked.add(key)
        return super().__getitem__(key)

    def getlist(self, key, default=None):
        self.asked.add(key)
        return super().getlist(key, default)


def checked_filters(by, entity: str, query: str) -> QueryDict:
    """The query's filters, run through the list's own filter functions: a bad value is refused by them, a
    parameter none of them reads (`bogus=1`, `citty=Тула`) is refused here, naming it; list controls are dropped."""
    kept = QueryDict(mutable=True)
    for name, values in QueryDict(query or "").lists():
        if name not in LIST_CONTROLS:
            kept.setlist(name, values)
    params = _Asked(kept.urlencode())
    _queryset(by, entity, params)
    unknown = sorted(set(params) - params.asked)
    if unknown:
        from krug.core import custom_fields

        known = sorted(name for name in params.asked if not name.startswith(custom_fields.FILTER_PREFIX))
        if custom_fields.definitions(export_columns.SINGULAR[entity]):
            known.append(custom_fields.FILTER_PREFIX + "<key>")
        errors = FieldErrors()
        for name in unknown:
            errors.add(name, _("not a filter of this list (its filters: %(known)s)") % {"known": ", ".join(known)})
        errors.raise_if_any()
    if len(readable_query(kept)) > ExportJob._meta.get_field("query").max_length:
        raise ValidationFailed.single("query", _("too many filters"))
    return kept


def readable_query(params: QueryDict) -> str:
    """The filters as a query string a person can read in the export log (`city=Тула`, not `city=%D0%A2…`):
    only what would change its meaning (% & = + # and white space) is percent-encoded."""
    def quoted(text: str) -> str:
        return re.sub(r"[%&=+#\s]", lambda m: "".join(f"%{b:02X}" for b in m.group().encode()), text)

    return "&".join(f"{quoted(name)}={quoted(value)}" for name, values in params.lists() for value in values)


def records(by, entity: str, params) -> Iterator[dict]:
    """Every row of the filtered list the user may see, in id order, CHUNK at a time, as plain dicts; each
    chunk reads its related lists in a fixed number of queries."""
    qs = _queryset(by, entity, params).order_by("pk").values(*export_columns.FIELDS[entity])
    extras = export_columns.EXTRAS.get(entity)
    last = 0
    while True:
        chunk = list(qs.filter(pk__gt=last)[:CHUNK])
        if not chunk:
            return
        if extras:
            extras(chunk, by)
        yield from chunk
        last = chunk[-1]["id"]


# ---- cells -------------------------------------------------------------------------------------------------

_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
_NUMBER_LIKE = re.compile(r"[+-]?\d+([.,]\d+)?")  # a signed number, an E.164 phone: Excel reads them as they are


def csv_safe(text: str) -> str:
    """Text that Excel will not run as a formula: a leading `'` when it starts like one, except for numbers and
    E.164 phones (one or several, comma-separated): a sign, digits and maybe a decimal part. `+7-1` or
    `+7 (916) 777-00-01` is escaped: Excel would compute the one and fail on the other."""
    if text[:1] not in _FORMULA_START:
        return text
    if text[0] in "+-" and all(_NUMBER_LIKE.fullmatch(part.strip()) for part in text.split(",")):
        return text
    return "'" + text


def _csv_formats() -> tuple[str, str, str]:
    """(date, datetime, decimal separator) that Excel of the user's language reads as dates and numbers: in
    Russian 24.11.2026 12:53 and 36000,50 (the ru-RU formats, also what Krug's pages show); otherwise the ISO
    2026-11-24 12:53 and 36000.50, which Excel reads in any locale."""
    if (translation.get_language() or "").startswith("ru"):
        return "%d.%m.%Y", "%d.%m.%Y %H:%M", ","
    return "%Y-%m-%d", "%Y-%m-%d %H:%M", "."


def csv_cell(value: Any, formats: tuple[str, str, str]) -> str:
    """A typed value as CSV text: datetimes in the site's time zone, numbers with the language's decimal sign."""
    date_format, datetime_format, decimal_sign = formats
    if value is None:
        return ""
    if isinstance(value, bool):
        return _("yes") if value else _("no")
    if isinstance(value, dt.datetime):
        return timezone.localtime(value).strftime(datetime_format) if timezone.is_aware(value) \
            else value.strftime(datetime_format)
    if isinstance(value, dt.date):
        return value.strftime(date_format)
    if isinstance(value, int | float | Decimal):
        return str(value).replace(".", decimal_sign)
    return csv_safe(str(value))


class _XlsxCells:
    """Writes typed values as typed cells: numbers, dates and datetimes Excel can sum and filter, text as text."""

    def __init__(self, book, sheet):
        self.sheet = sheet
        # 14 and 22 are Excel's built-in short date and date-time formats: shown in the reader's own locale
        self.date = book.add_format({"num_format": 14})
        self.datetime = book.add_format({"num_format": 22})
        self.money = book.add_format({"num_format": "#,##0.00"})

    def write(self, row: int, col: int, value: Any) -> None:
        sheet = self.sheet
        if value is None or value == "":
            return
        if isinstance(value, bool):
            sheet.write_string(row, col, _("yes") if value else _("no"))
        elif isinstance(value, dt.datetime):
            local = timezone.localtime(value) if timezone.is_aware(value) else value
            sheet.write_datetime(row, col, local.replace(tzinfo=None, microsecond=0), self.datetime)
        elif isinstance(value, dt.date):
            sheet.write_datetime(row, col, value, self.date)
        elif isinstance(value, Decimal):
            sheet.write_number(row, col, float(value), self.money)
        elif isinstance(value, int | float):
            sheet.write_number(row, col, value)
        else:  # a string cell, never a formula: written exactly as it is, nothing to escape
            sheet.write_string(row, col, str(value))


# ---- jobs --------------------------------------------------------------------------------------------------

def create(by, entity: str, fmt: str, query: str) -> ExportJob:
    """Record an export (the personal-data access log) after checking its filters; XLSX is queued."""
    if entity not in ENTITIES:
        raise ValidationFailed.single("entity", _("must be one of %(v)s") % {"v": ", ".join(ENTITIES)})
    if fmt not in ExportJob.Format.values:
        raise ValidationFailed.single("format", _("must be one of %(v)s") % {"v": ", ".join(ExportJob.Format.values)})
    params = checked_filters(by, entity, query)
    # an XLSX is written by the worker, in whatever language it runs: the file keeps the asker's
    job = ExportJob.objects.create(entity=entity, format=fmt, query=readable_query(params), by=by,
                                   language=translation.get_language() or "")
    audit.record(AuditEntry.Action.EXPORT, job, by, {"event": "created", "entity": entity, "format": fmt,
                                                      "filters": job.query})
    if fmt == ExportJob.Format.XLSX:
        from krug.transfer.tasks import export_task

        transaction.on_commit(lambda: export_task.enqueue(job.pk))
    return job


def get_job(by, job_id: int) -> ExportJob:
    return own_job(ExportJob, by, job_id, _("no such export"))


def _download_entries(job_id):
    from django.contrib.contenttypes.models import ContentType

    return AuditEntry.objects.filter(content_type=ContentType.objects.get_for_model(ExportJob), object_id=job_id,
                                     action=AuditEntry.Action.EXPORT, changes__event="download")


def jobs_for(by, *, user: int | None = None):
    """The export log `by` may read, newest first: everyone's for an administrator (or one user's, when asked),
    a user's own otherwise; with who made each and how many times it was downloaded."""
    from krug.core.permissions import Role, role_of

    counted = _download_entries(OuterRef("pk")).order_by().values("object_id").annotate(n=Count("id")).values("n")
    jobs = ExportJob.objects.select_related("by").annotate(
        downloads=Coalesce(Subquery(counted, output_field=IntegerField()), Value(0)))
    if role_of(by) != Role.ADMIN:
        jobs = jobs.filter(by=by)
    if user is not None:
        jobs = jobs.filter(by=user)
    return jobs


def downloads(job: ExportJob) -> int:
    """How many times a job was downloaded (the log's count when it was read with `jobs_for`)."""
    counted = getattr(job, "downloads", None)
    if counted is not None:
        return counted
    return _download_entries(job.pk).count()


def _record_download(job: ExportJob, by, rows: int | None) -> AuditEntry:
    return audit.record(AuditEntry.Action.EXPORT, job, by, {
        "event": "download", "entity": job.entity, "format": job.format, "filters": job.query, "rows": rows})


def stream_csv(job: ExportJob, by=None) -> Iterator[str]:
    """The CSV of a job, read from the database as it is sent (UTF-8 with BOM and `;`, as Excel expects).
    Each download reads the live data again, so each is an audit entry of who took it and when, written before
    the first row goes out; its row count is filled in when the last one has (or the client went away)."""
    entry = _record_download(job, by or job.by, None)
    language, zone = translation.get_language(), timezone.get_current_timezone()
    return _csv_pieces(job, entry, language, zone)


def _csv_pieces(job: ExportJob, entry: AuditEntry, language: str | None, zone) -> Iterator[str]:
    count = 0

    def rows():
        nonlocal count
        columns = export_columns.columns(job.entity)
        formats = _csv_formats()
        yield [str(label) for label, _getter in columns]
        for count, row in enumerate(records(job.by, job.entity, QueryDict(job.query)), start=1):  # noqa: B007
            yield [csv_cell(getter(row), formats) for _label, getter in columns]

    # the response is sent after the view returns: keep the request's language and time zone for it
    with translation.override(language), timezone.override(zone):
        try:
            yield from csv_text(rows())
        finally:
            AuditEntry.objects.filter(pk=entry.pk).update(changes={**entry.changes, "rows": count})
            ExportJob.objects.filter(pk=job.pk).update(rows=count, status=ExportJob.Status.DONE,
                                                       finished_at=timezone.now())


def write_xlsx(job_id: int) -> ExportJob:
    """Write the job's XLSX file (constant memory) and mark it done; run by the worker, in the language of the
    user who asked for it (its headers, sheet name, yes and no), not the worker's own."""
    job = ExportJob.objects.select_related("by").get(pk=job_id)
    if job.status == ExportJob.Status.DONE:
        return job
    ExportJob.objects.filter(pk=job_id).update(status=ExportJob.Status.RUNNING)
    folder = Path(settings.DATA_DIR) / "exports" / uuid.uuid4().hex
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{job.entity}.xlsx"
    try:
        with translation.override(job.language or settings.LANGUAGE_CODE):
            count = _write_xlsx(job, path)
    except Exception as exc:
        ExportJob.objects.filter(pk=job_id).update(status=ExportJob.Status.FAILED, error=str(exc)[:2000],
                                                   finished_at=timezone.now())
        raise
    ExportJob.objects.filter(pk=job_id).update(status=ExportJob.Status.DONE, rows=count, path=str(path),
                                               finished_at=timezone.now())
    return ExportJob.objects.get(pk=job_id)


def _write_xlsx(job: ExportJob, path: Path) -> int:
    """The rows of the job's list as a typed, filtered sheet at `path`; how many rows it has."""
    import xlsxwriter

    book = xlsxwriter.Workbook(str(path), {"constant_memory": True, "strings_to_formulas": False,
                                           "strings_to_urls": False, "strings_to_numbers": False})
    sheet = book.add_worksheet(capfirst(export_columns.plural_label(job.entity))[:31])
    columns = export_columns.columns(job.entity)
    labels = [str(label) for label, _getter in columns]
    for col, label in enumerate(labels):  # widths before the rows: constant memory writes row by row
        sheet.set_column(col, col, min(max(len(label) + 4, 12), 40))
    sheet.freeze_panes(1, 0)
    bold = book.add_format({"bold": True})
    for col, label in enumerate(labels):
        sheet.write_string(0, col, label, bold)
    cells = _XlsxCells(book, sheet)
    count = 0
    for count, row in enumerate(records(job.by, job.entity, QueryDict(job.query)), start=1):
        for col, (_label, getter) in enumerate(columns):
            cells.write(count, col, getter(row))
    sheet.autofilter(0, 0, count, len(columns) - 1)
    book.close()
    return count


def open_file(job: ExportJob, by):
    """The finished XLSX file of a job, opened for download; the download is an audit entry (who, when)."""
    if job.format != ExportJob.Format.XLSX or job.status != ExportJob.Status.DONE or not job.path:
        raise Conflict(_("The file is not ready yet"))
    try:
        handle = Path(job.path).open("rb")
    except FileNotFoundError as exc:
        raise Conflict(_("The file is no longer kept; export the list again")) from exc
    _record_download(job, by, job.rows)
    return handle
