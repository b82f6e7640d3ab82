"""Export of a filtered list to CSV or XLSX, with the list's own filters and permissions.

Records are read in id-ordered chunks (keyset, no OFFSET), so memory stays flat whatever the size: CSV
streams straight to the browser; XLSX is written by XlsxWriter in constant-memory mode in the background.
Every export is an `ExportJob` row and an audit entry: who took which list out, when, how many rows.
Cells that a spreadsheet would run as a formula (= + - @ first) are escaped.
"""

from __future__ import annotations

import csv
import io
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from django.conf import settings
from django.db import transaction
from django.http import QueryDict
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from krug.core import audit
from krug.core.errors import Conflict, NotFound, ValidationFailed
from krug.core.models import AuditEntry
from krug.transfer.models import ExportJob
from krug.transfer.services import safe_cell

CHUNK = 2000
ENTITIES = ("contacts", "companies", "leads", "deals")

Column = tuple[Any, Callable[[Any], Any]]


def _owner(obj) -> str:
    return (obj.owner.get_full_name() or obj.owner.username) if obj.owner_id else ""


def _date(value) -> str:
    return value.isoformat() if value else ""


COLUMNS: dict[str, list[Column]] = {
    "contacts": [
        ("ID", lambda c: c.pk),
        (gettext_lazy("Surname"), lambda c: c.surname),
        (gettext_lazy("First name"), lambda c: c.first_name),
        (gettext_lazy("Patronymic"), lambda c: c.patronymic),
        (gettext_lazy("Position"), lambda c: c.position),
        (gettext_lazy("Company"), lambda c: c.company.name if c.company_id else ""),
        (gettext_lazy("Phones"), lambda c: ", ".join(p.number if p.valid else p.raw for p in c.phones.all())),
        (gettext_lazy("E-mails"), lambda c: ", ".join(e.email for e in c.emails.all())),
        (gettext_lazy("City"), lambda c: c.city),
        (gettext_lazy("Source"), lambda c: c.source),
        (gettext_lazy("Client type"), lambda c: c.get_client_type_display()),
        (gettext_lazy("Tags"), lambda c: ", ".join(t.name for t in c.tags.all())),
        (gettext_lazy("Birthday"), lambda c: _date(c.birthday)),
        (gettext_lazy("Opted out of mailings"), lambda c: _("yes") if c.opt_out else ""),
        (gettext_lazy("Owner"), _owner),
        (gettext_lazy("Created"), lambda c: _date(c.created_at)),
    ],
    "companies": [
        ("ID", lambda c: c.pk),
        (gettext_lazy("Name"), lambda c: c.name),
        (gettext_lazy("Legal form"), lambda c: c.get_legal_form_display() if c.legal_form else ""),
        (gettext_lazy("INN"), lambda c: c.inn),
        (gettext_lazy("KPP"), lambda c: c.kpp),
        (gettext_lazy("OGRN"), lambda c: c.ogrn),
        (gettext_lazy("Industry"), lambda c: c.industry),
        (gettext_lazy("Region"), lambda c: c.region),
        (gettext_lazy("City"), lambda c: c.city),
        (gettext_lazy("Website"), lambda c: c.website),
        (gettext_lazy("Phone"), lambda c: c.phone),
        (gettext_lazy("E-mail"), lambda c: c.email),
        (gettext_lazy("Owner"), _owner),
        (gettext_lazy("Created"), lambda c: _date(c.created_at)),
    ],
    "leads": [
        ("ID", lambda x: x.pk),
        (gettext_lazy("Request"), lambda x: x.title),
        (gettext_lazy("Status"), lambda x: x.get_status_display()),
        (gettext_lazy("Source"), lambda x: x.get_source_display()),
        (gettext_lazy("Surname"), lambda x: x.surname),
        (gettext_lazy("First name"), lambda x: x.first_name),
        (gettext_lazy("Company"), lambda x: x.company_name),
        (gettext_lazy("Phone"), lambda x: x.phone),
        (gettext_lazy("E-mail"), lambda x: x.email),
        ("utm_source", lambda x: x.utm_source),
        ("utm_campaign", lambda x: x.utm_campaign),
        (gettext_lazy("Owner"), _owner),
        (gettext_lazy("Created"), lambda x: _date(x.created_at)),
    ],
    "deals": [
        ("ID", lambda d: d.pk),
        (gettext_lazy("Title"), lambda d: d.title),
        (gettext_lazy("Amount"), lambda d: d.amount),
        (gettext_lazy("Currency"), lambda d: d.currency),
        (gettext_lazy("Pipeline"), lambda d: d.pipeline.name),
        (gettext_lazy("Stage"), lambda d: d.stage.name),
        (gettext_lazy("Company"), lambda d: d.company.name if d.company_id else ""),
        (gettext_lazy("Contact"), lambda d: str(d.contact) if d.contact_id else ""),
        (gettext_lazy("Expected close"), lambda d: _date(d.expected_close)),
        (gettext_lazy("Loss reason"), lambda d: d.loss_reason),
        (gettext_lazy("Owner"), _owner),
        (gettext_lazy("Created"), lambda d: _date(d.created_at)),
    ],
}


def _queryset(by, entity: str, params) -> Any:
    from krug.clients import filters as client_filters
    from krug.clients.models import Company, Contact, Lead
    from krug.sales import filters as sales_filters
    from krug.sales.models import Deal

    if entity == "contacts":
        qs = client_filters.contacts(Contact.objects.visible_to(by), params)
        return qs.select_related("company", "owner").prefetch_related("phones", "emails", "tags")
    if entity == "companies":
        return client_filters.companies(Company.objects.visible_to(by), params).select_related("owner")
    if entity == "leads":
        return client_filters.leads(Lead.objects.visible_to(by), params).select_related("owner")
    return sales_filters.deals(Deal.objects.visible_to(by), params).select_related(
        "pipeline", "stage", "company", "contact", "owner")


def records(by, entity: str, params) -> Iterator[Any]:
    """Every record of the filtered list the user may see, in id order, CHUNK at a time."""
    qs = _queryset(by, entity, params).order_by("pk")
    last = 0
    while True:
        chunk = list(qs.filter(pk__gt=last)[:CHUNK])
        if not chunk:
            return
        yield from chunk
        last = chunk[-1].pk


def _cells(entity: str, obj) -> list[str]:
    return [safe_cell(getter(obj)) for _label, getter in COLUMNS[entity]]


def create(by, entity: str, fmt: str, query: str) -> ExportJob:
    """Record an export (the personal-data access log) after checking its filters; XLSX is queued."""
    if entity not in ENTITIES:
        raise ValidationFailed.single("entity", _("must be one of %(v)s") % {"v": ", ".join(ENTITIES)})
    if fmt not in ExportJob.Format.values:
        raise ValidationFailed.single("format", _("must be one of %(v)s") % {"v": ", ".join(ExportJob.Format.values)})
    params = QueryDict(query or "")
    _queryset(by, entity, params)  # a bad filter is refused now, naming the parameter
    job = ExportJob.objects.create(entity=entity, format=fmt, query=params.urlencode(), by=by)
    audit.record(AuditEntry.Action.EXPORT, job, by, {"entity": entity, "format": fmt, "filters": job.query})
    if fmt == ExportJob.Format.XLSX:
        from krug.transfer.tasks import export_task

        transaction.on_commit(lambda: export_task.enqueue(job.pk))
    return job


def get_job(by, job_id: int) -> ExportJob:
    from krug.core.permissions import Role, role_of

    job = ExportJob.objects.filter(pk=job_id).first()
    if job is None or (job.by_id != by.pk and role_of(by) != Role.ADMIN):
        raise NotFound(_("no such export"))
    return job


def stream_csv(job: ExportJob) -> Iterator[str]:
    """The CSV of a job, read from the database as it is sent (UTF-8 with BOM and `;`, as Excel expects)."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, delimiter=";")

    def flush() -> str:
        text = buffer.getvalue()
        buffer.seek(0)
        buffer.truncate()
        return text

    yield "\ufeff"
    writer.writerow([str(label) for label, _getter in COLUMNS[job.entity]])
    count = 0
    for count, obj in enumerate(records(job.by, job.entity, QueryDict(job.query)), start=1):
        writer.writerow(_cells(job.entity, obj))
        if count % 500 == 0:
            yield flush()
    yield flush()
    ExportJob.objects.filter(pk=job.pk).update(rows=count, status=ExportJob.Status.DONE, finished_at=timezone.now())


def write_xlsx(job_id: int) -> ExportJob:
    """Write the job's XLSX file (constant memory) and mark it done; run by the worker."""
    import xlsxwriter

    job = ExportJob.objects.select_related("by").get(pk=job_id)
    if job.status == ExportJob.Status.DONE:
        return job
    ExportJob.objects.filter(pk=job_id).update(status=ExportJob.Status.RUNNING)
    folder = Path(settings.DATA_DIR) / "exports" / uuid.uuid4().hex
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{job.entity}.xlsx"
    try:
        book = xlsxwriter.Workbook(str(path), {"constant_memory": True, "strings_to_formulas": False,
                                               "strings_to_urls": False})
        sheet = book.add_worksheet()
        bold = book.add_format({"bold": True})
        sheet.write_row(0, 0, [str(label) for label, _getter in COLUMNS[job.entity]], bold)
        count = 0
        for count, obj in enumerate(records(job.by, job.entity, QueryDict(job.query)), start=1):
            sheet.write_row(count, 0, _cells(job.entity, obj))
        book.close()
    except Exception as exc:
        ExportJob.objects.filter(pk=job_id).update(status=ExportJob.Status.FAILED, error=str(exc)[:2000],
                                                   finished_at=timezone.now())
        raise
    ExportJob.objects.filter(pk=job_id).update(status=ExportJob.Status.DONE, rows=count, path=str(path),
                                               finished_at=timezone.now())
    return ExportJob.objects.get(pk=job_id)


def file_of(job: ExportJob) -> Path:
    if job.format != ExportJob.Format.XLSX or job.status != ExportJob.Status.DONE or not job.path:
        raise Conflict(_("The file is not ready yet"))
    return Path(job.path)
