"""Export of a filtered list to CSV or XLSX, with the list's own filters and permissions.

Records are read in id-ordered chunks (keyset, no OFFSET), so memory stays flat whatever the size: CSV
streams straight to the browser; XLSX is written by XlsxWriter in constant-memory mode in the background.
Every export is an `ExportJob` row and an audit entry: who took which list out, when, how many rows.
Cells that a spreadsheet would run as a formula (= + - @ first) are escaped.
"""

from __future__ import annotations

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
from krug.core.errors import Conflict, ValidationFailed
from krug.core.models import AuditEntry
from krug.transfer.models import ExportJob
from krug.transfer.services import csv_text, own_job, safe_cell

CHUNK = 2000
ENTITIES = ("contacts", "companies", "leads", "deals")

Column = tuple[Any, Callable[[dict], Any]]


def _owner(row: dict) -> str:
    name = f"{row['owner__first_name']} {row['owner__last_name']}".strip()
    return name or row["owner__username"] or ""


def _date(value) -> str:
    return value.isoformat() if value else ""


def _choice(choices) -> Callable[[Any], str]:
    labels = dict(choices)
    return lambda value: str(labels.get(value, value or ""))


OWNER = ("owner__first_name", "owner__last_name", "owner__username")


def _contacts_columns() -> list[Column]:
    from krug.clients.models import Contact

    client_type = _choice(Contact.ClientType.choices)
    return [
        ("ID", lambda r: r["id"]),
        (gettext_lazy("Surname"), lambda r: r["surname"]),
        (gettext_lazy("First name"), lambda r: r["first_name"]),
        (gettext_lazy("Patronymic"), lambda r: r["patronymic"]),
        (gettext_lazy("Position"), lambda r: r["position"]),
        (gettext_lazy("Company"), lambda r: r["company__name"] or ""),
        (gettext_lazy("Phones"), lambda r: ", ".join(r["phones"])),
        (gettext_lazy("E-mails"), lambda r: ", ".join(r["emails"])),
        (gettext_lazy("City"), lambda r: r["city"]),
        (gettext_lazy("Source"), lambda r: r["source"]),
        (gettext_lazy("Client type"), lambda r: client_type(r["client_type"])),
        (gettext_lazy("Tags"), lambda r: ", ".join(r["tags"])),
        (gettext_lazy("Birthday"), lambda r: _date(r["birthday"])),
        (gettext_lazy("Opted out of mailings"), lambda r: _("yes") if r["opt_out"] else ""),
        (gettext_lazy("Owner"), _owner),
        (gettext_lazy("Created"), lambda r: _date(r["created_at"])),
    ]


def _companies_columns() -> list[Column]:
    from krug.clients.models import Company

    legal_form = _choice(Company.LegalForm.choices)
    return [("ID", lambda r: r["id"]), (gettext_lazy("Name"), lambda r: r["name"]),
            (gettext_lazy("Legal form"), lambda r: legal_form(r["legal_form"])),
            (gettext_lazy("INN"), lambda r: r["inn"]), (gettext_lazy("KPP"), lambda r: r["kpp"]),
            (gettext_lazy("OGRN"), lambda r: r["ogrn"]), (gettext_lazy("Industry"), lambda r: r["industry"]),
            (gettext_lazy("Region"), lambda r: r["region"]), (gettext_lazy("City"), lambda r: r["city"]),
            (gettext_lazy("Website"), lambda r: r["website"]), (gettext_lazy("Phone"), lambda r: r["phone"]),
            (gettext_lazy("E-mail"), lambda r: r["email"]), (gettext_lazy("Owner"), _owner),
            (gettext_lazy("Created"), lambda r: _date(r["created_at"]))]


def _leads_columns() -> list[Column]:
    from krug.clients.models import Lead

    status, source = _choice(Lead.Status.choices), _choice(Lead.Source.choices)
    return [("ID", lambda r: r["id"]), (gettext_lazy("Request"), lambda r: r["title"]),
            (gettext_lazy("Status"), lambda r: status(r["status"])),
            (gettext_lazy("Source"), lambda r: source(r["source"])),
            (gettext_lazy("Surname"), lambda r: r["surname"]), (gettext_lazy("First name"), lambda r: r["first_name"]),
            (gettext_lazy("Company"), lambda r: r["company_name"]), (gettext_lazy("Phone"), lambda r: r["phone"]),
            (gettext_lazy("E-mail"), lambda r: r["email"]), ("utm_source", lambda r: r["utm_source"]),
            ("utm_campaign", lambda r: r["utm_campaign"]), (gettext_lazy("Owner"), _owner),
            (gettext_lazy("Created"), lambda r: _date(r["created_at"]))]


def _deals_columns() -> list[Column]:
    def contact(r: dict) -> str:
        return " ".join(filter(None, [r["contact__surname"], r["contact__first_name"]]))

    return [("ID", lambda r: r["id"]), (gettext_lazy("Title"), lambda r: r["title"]),
            (gettext_lazy("Amount"), lambda r: r["amount"]), (gettext_lazy("Currency"), lambda r: r["currency"]),
            (gettext_lazy("Pipeline"), lambda r: r["pipeline__name"]),
            (gettext_lazy("Stage"), lambda r: r["stage__name"]),
            (gettext_lazy("Company"), lambda r: r["company__name"] or ""), (gettext_lazy("Contact"), contact),
            (gettext_lazy("Expected close"), lambda r: _date(r["expected_close"])),
            (gettext_lazy("Loss reason"), lambda r: r["loss_reason"]), (gettext_lazy("Owner"), _owner),
            (gettext_lazy("Created"), lambda r: _date(r["created_at"]))]


COLUMNS: dict[str, Callable[[], list[Column]]] = {
    "contacts": _contacts_columns, "companies": _companies_columns, "leads": _leads_columns, "deals": _deals_columns}
#: the columns each entity's rows are read with (only what the file shows: no ORM objects are built)
FIELDS: dict[str, tuple[str, ...]] = {
    "contacts": ("id", "surname", "first_name", "patronymic", "position", "company__name", "city", "source",
                 "client_type", "birthday", "opt_out", "created_at", *OWNER),
    "companies": ("id", "name", "legal_form", "inn", "kpp", "ogrn", "industry", "region", "city", "website", "phone",
                  "email", "created_at", *OWNER),
    "leads": ("id", "title", "status", "source", "surname", "first_name", "company_name", "phone", "email",
              "utm_source", "utm_campaign", "created_at", *OWNER),
    "deals": ("id", "title", "amount", "currency", "pipeline__name", "stage__name", "company__name",
              "contact__surname", "contact__first_name", "expected_close", "loss_reason", "created_at", *OWNER),
}


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


def _lists(rows: list[dict]) -> None:
    """Phones, e-mails and tags of a chunk of contacts, in three queries."""
    from krug.clients.models import Contact, ContactEmail, ContactPhone

    by_id = {r["id"]: r for r in rows}
    for r in rows:
        r["phones"], r["emails"], r["tags"] = [], [], []
    ids = list(by_id)
    for cid, number, raw, valid in ContactPhone.objects.filter(contact_id__in=ids).order_by(
            "contact_id", "position", "id").values_list("contact_id", "number", "raw", "valid"):
        by_id[cid]["phones"].append(number if valid else raw)
    for cid, email in ContactEmail.objects.filter(contact_id__in=ids).order_by(
            "contact_id", "position", "id").values_list("contact_id", "email"):
        by_id[cid]["emails"].append(email)
    for cid, name in Contact.tags.through.objects.filter(contact_id__in=ids).values_list("contact_id", "tag__name"):
        by_id[cid]["tags"].append(name)


def records(by, entity: str, params) -> Iterator[dict]:
    """Every row of the filtered list the user may see, in id order, CHUNK at a time, as plain dicts."""
    qs = _queryset(by, entity, params).order_by("pk").values(*FIELDS[entity])
    last = 0
    while True:
        chunk = list(qs.filter(pk__gt=last)[:CHUNK])
        if not chunk:
            return
        if entity == "contacts":
            _lists(chunk)
        yield from chunk
        last = chunk[-1]["id"]


def _cells(columns: list[Column], row: dict) -> list[str]:
    return [safe_cell(getter(row)) for _label, getter in columns]


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
    return own_job(ExportJob, by, job_id, _("no such export"))


def stream_csv(job: ExportJob) -> Iterator[str]:
    """The CSV of a job, read from the database as it is sent (UTF-8 with BOM and `;`, as Excel expects)."""
    columns = COLUMNS[job.entity]()
    count = 0

    def rows():
        nonlocal count
        yield [str(label) for label, _getter in columns]
        for count, row in enumerate(records(job.by, job.entity, QueryDict(job.query)), start=1):  # noqa: B007
            yield _cells(columns, row)

    yield from csv_text(rows())
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
        columns = COLUMNS[job.entity]()
        sheet.write_row(0, 0, [str(label) for label, _getter in columns], bold)
        count = 0
        for count, row in enumerate(records(job.by, job.entity, QueryDict(job.query)), start=1):
            sheet.write_row(count, 0, _cells(columns, row))
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
