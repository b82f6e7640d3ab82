"""Import through the API: upload, check the recognised columns, preview, start, watch, fetch failed rows."""

from __future__ import annotations

import datetime as dt

from django.http import StreamingHttpResponse
from ninja import File, Form, Router, Schema, Status
from ninja.files import UploadedFile
from pydantic import Field

from krug.core.api import ERRORS
from krug.transfer import importer, mapping, services
from krug.transfer.models import ImportJob

router = Router(tags=["import"])


class ImportOut(Schema):
    id: int
    entity: str
    file_name: str
    size: int
    format: dict = Field(description="kind (csv/xlsx), encoding and delimiter as detected")
    header: list[str]
    mapping: list[str] = Field(description="for each column the field it fills; '' = skipped")
    key: str = Field(description="upsert by this field; '' = every row is new unless it is a duplicate")
    status: str
    total_rows: int | None
    done_rows: int
    percent: int
    created: int
    updated: int
    merged: int
    skipped: int
    failed: int
    error: str
    created_at: dt.datetime
    started_at: dt.datetime | None
    finished_at: dt.datetime | None

    @staticmethod
    def resolve_percent(obj) -> int:
        if obj.status == ImportJob.Status.DONE:
            return 100
        return int(100 * obj.done_rows / obj.total_rows) if obj.total_rows else 0


class MappingIn(Schema):
    mapping: list[str] | None = Field(None, description="one field name (or '') per column, see /imports/fields")
    key: str | None = Field(None, description="external_id, email, phone (contacts, leads), inn (companies) or ''")


class FieldOut(Schema):
    name: str
    label: str
    repeatable: bool


class PreviewRowOut(Schema):
    row: int
    values: dict[str, str]
    outcome: str = Field(description="created, updated, merged, skipped or failed: what the import would do")
    errors: list[dict]


@router.get("/imports/fields", response={200: list[FieldOut], **ERRORS}, operation_id="imports_fields",
            summary="The fields a column can be mapped to, custom fields included")
def fields(request, entity: str = "contacts"):
    from krug.core.errors import ValidationFailed

    if entity not in importer.IMPORTERS:
        raise ValidationFailed.single("entity", "must be one of " + ", ".join(importer.IMPORTERS))
    return [{"name": t.name, "label": str(t.label), "repeatable": t.repeatable}
            for t in mapping.targets(entity, services.custom_fields_of(entity)).values()]


@router.post("/imports", response={201: ImportOut, **ERRORS}, operation_id="imports_upload",
             summary="Upload a CSV or XLSX file; its columns are recognised, nothing is imported yet")
def upload(request, file: UploadedFile = File(...), entity: str = Form("contacts")):
    job = services.upload(request.auth, entity, file.name, file.chunks())
    return Status(201, job)


@router.get("/imports/{int:pk}", response={200: ImportOut, **ERRORS}, operation_id="imports_get",
            summary="An import's mapping, progress and report")
def get_import(request, pk: int):
    return importer.get_job(request.auth, pk)


@router.patch("/imports/{int:pk}", response={200: ImportOut, **ERRORS}, operation_id="imports_configure",
              summary="Change the mapping or the upsert key before starting")
def configure(request, pk: int, payload: MappingIn):
    return services.configure(request.auth, importer.get_job(request.auth, pk), mapping_=payload.mapping,
                              key=payload.key)


@router.get("/imports/{int:pk}/preview", response={200: list[PreviewRowOut], **ERRORS},
            operation_id="imports_preview", summary="The first rows as they would be imported, with their errors")
def preview(request, pk: int, rows: int = 10):
    return services.preview(request.auth, importer.get_job(request.auth, pk), limit=max(1, min(rows, 50)))


@router.post("/imports/{int:pk}/start", response={202: ImportOut, **ERRORS}, operation_id="imports_start",
             summary="Run the import in the background (`krug worker`); poll GET /imports/{id} for progress")
def start(request, pk: int):
    return Status(202, services.start(request.auth, importer.get_job(request.auth, pk)))


@router.post("/imports/{int:pk}/cancel", response={200: ImportOut, **ERRORS}, operation_id="imports_cancel",
             summary="Stop an import after the chunk it is writing; whole rows already written stay")
def cancel(request, pk: int):
    return services.cancel(request.auth, importer.get_job(request.auth, pk))


@router.get("/imports/{int:pk}/failed-rows.csv", operation_id="imports_failed_rows",
            summary="The rows that were not imported, with the error of each, as CSV to fix and import again")
def failed_rows(request, pk: int):
    job = importer.get_job(request.auth, pk)
    response = StreamingHttpResponse(services.failed_rows_csv(job), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="import-{job.pk}-failed-rows.csv"'
    return response
