"""Import through the API: upload, check the recognised columns, preview, start, watch, fetch failed rows."""

from __future__ import annotations

import datetime as dt

from django.http import StreamingHttpResponse
from ninja import File, Form, Router, Schema, Status
from ninja.files import UploadedFile
from pydantic import Field

from krug.core.api import ERRORS
from krug.core.custom_fields_api import CustomFieldOut
from krug.transfer import importer, mapping, new_fields, services
from krug.transfer.models import ImportJob

router = Router(tags=["import"])


class ImportOut(Schema):
    id: int
    entity: str
    file_name: str
    size: int
    format: dict = Field(description="kind (csv/xlsx), encoding and delimiter as detected; header_row; garbled: "
                                     "a piece of text that looks mis-decoded, if any; sheet")
    sheets: list[str] = Field(description="a workbook's sheets in the order of its tabs ([] for CSV)")
    sheet: str = Field(description="the sheet that is read: unless chosen, the first whose header names a field "
                                   "and has rows under it ('' for CSV)")
    header: list[str]
    header_row: int = Field(description="the header's row in the file, from 1; the rows above it are not read")
    mapping: list[str] = Field(description="for each column the field it fills; '' = skipped")
    key: str = Field(description="upsert by this field; '' = every row is new unless it is a duplicate")
    values: dict[str, dict[str, str | dict[str, str]]] = Field(
        description="what the values of a value column become (see GET /imports/{id}/values): field -> {value, "
                    "casefolded: option, '' = as if empty}; a stage's by pipeline: \"stage\" -> {pipeline id, or "
                    "'*' for the stage of that name in any pipeline: {value: stage}}")
    status: str
    total_rows: int | None = Field(description="the file's data rows: counted by the first preview (GET "
                                               "/imports/{id}/preview) or at the start; null before")
    done_rows: int
    percent: int
    created: int
    updated: int
    merged: int
    skipped: int
    failed: int
    warned: int = Field(description="rows imported with a warning (a deal whose contact's name fits no contact, "
                                    "or several): listed with the failed rows, their problems marked `warning`")
    error: str
    warnings: list[str] = Field(description="what to check before importing, e.g. text that looks garbled")
    created_at: dt.datetime
    started_at: dt.datetime | None
    finished_at: dt.datetime | None

    @staticmethod
    def resolve_header_row(obj) -> int:
        return obj.format.get("header_row") or 1

    @staticmethod
    def resolve_warnings(obj) -> list[str]:
        return services.warnings(obj)

    @staticmethod
    def resolve_percent(obj) -> int:
        if obj.status == ImportJob.Status.DONE:
            return 100
        return int(100 * obj.done_rows / obj.total_rows) if obj.total_rows else 0


class MappingIn(Schema):
    sheet: str | None = Field(None, description="read this sheet of the workbook (by name, as in `sheets`); its "
                                                "header row is found and the mapping guessed again, unless given "
                                                "too. An unknown sheet answers 422 on `sheet`")
    header_row: int | None = Field(None, description="read the header from this row (from 1) of the first 20; "
                                                     "the mapping is then guessed again unless given too")
    mapping: list[str] | None = Field(None, description="one field name (or '') per column, see /imports/fields")
    key: str | None = Field(None, description="external_id, email, phone (contacts, leads), inn (companies) or ''")
    values: dict[str, dict[str, str | None | dict[str, str | None]]] | None = Field(
        None, description="what values of the file become, per field: {\"owner\": {\"Мария Петрова\": \"petrova\"}, "
                          "\"client_type\": {\"Клиенты\": \"new\"}}; an option's value (see GET /imports/{id}/values) "
                          "or '' for 'as if the cell were empty'. A field given replaces its choices; a value that "
                          "is not an option answers 422 on `values.<field>`. A stage is chosen per pipeline, by the "
                          "pipeline's id or name: {\"stage\": {\"Воронка\": {\"Переговоры\": \"Negotiation\"}}}, "
                          "a stage of that pipeline, else 422 on `values.stage.<pipeline>`; {\"stage\": "
                          "{\"Переговоры\": \"Negotiation\"}} (or under '*') chooses the stage of that name in "
                          "every pipeline that has one")


class ValueOut(Schema):
    value: str = Field(description="as the file spells it (its first spelling)")
    key: str = Field(description="the value casefolded, as `values` keys it")
    rows: int
    recognised: str | None = Field(description="what Krug makes of it by itself; null: its rows would fail")
    becomes: str | None = Field(description="the choice made, else `recognised`")
    chosen: bool
    problem: str = Field(description="why an owner is not recognised: no such user, or one the importing user "
                                     "may not assign records to ('' otherwise)")


class OptionOut(Schema):
    value: str
    label: str


class ValueFieldOut(Schema):
    field: str
    pipeline: str | None = Field(None, description="a stage's values are listed by the pipeline their rows are in "
                                                   "(after its own choice; the default one for a row without): "
                                                   "its name, null for rows whose pipeline is not recognised")
    pipeline_id: int | None = Field(None, description="its id, the key of `values.stage` its choices go under")
    label: str
    values: list[ValueOut] = Field(description="the ones that would fail first, then by rows")
    more: int = Field(description="different values not listed (a column is listed up to 300 values)")
    options: list[OptionOut] = Field(description="what a value may become, besides ''")


class ValuesOut(Schema):
    fields: list[ValueFieldOut]
    rows: int = Field(description="rows read")
    complete: bool = Field(description="false when the file has more rows than were read (200,000)")


class FieldOut(Schema):
    name: str
    label: str
    repeatable: bool


class PreviewFieldOut(Schema):
    field: str = Field(description="the field the row fills, as the mapping names it (a contact's phone and e-mail "
                                   "columns of every kind are one field each: phone, email)")
    label: str
    value: str = Field(description="what the record holds after the row, in the interface's language: parsed, "
                                   "normalised and through the value choices ('' when the row fails on it)")
    raw: str = Field(description="the file's cell (the cells, comma separated, of several columns)")
    changed: bool = Field(description="whether `value` differs from `raw`")
    note: str = Field(description="a new company or one found in the base, a phone kept as typed; '' else")
    errors: list[str] = Field(description="the row's problems with this field")


class PreviewRowOut(Schema):
    row: int
    values: dict[str, str] = Field(description="the file's cells by their header")
    outcome: str = Field(description="created, updated, merged, skipped or failed: what the import would do")
    errors: list[dict]
    fields: list[PreviewFieldOut] = Field(description="what the row becomes, field by field, in the columns' order")


class NewFieldIn(Schema):
    column: int = Field(description="the column's index in `header`, from 0")
    label: str | None = Field(None, description="by default the column's header; no field of the entity may have it")
    type: str | None = Field(None, description="text, number, date, boolean or choice; by default suggested by the "
                                               "column's values in the first 1,000 rows")
    choices: list[str] | None = Field(None, description="a choice field's choices; by default the column's values")


class NewFieldOut(Schema):
    field: CustomFieldOut
    mapping: list[str] = Field(description="the import's mapping, the column now filling `cf.<key>`")


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
def upload(request, file: UploadedFile | None = File(None), entity: str = Form("contacts"),
           sheet: str = Form("", description="a workbook's sheet to read, by name; by default the first whose "
                                             "header names a field and has rows under it")):
    from django.utils.translation import gettext as _

    from krug.core.errors import ValidationFailed

    if file is None:  # refused here rather than by the schema: the field is `file`, the message translated
        raise ValidationFailed.single("file", _("Choose a CSV or Excel file."))
    job = services.upload(request.auth, entity, file.name, file.chunks(), sheet=sheet)
    return Status(201, job)


@router.get("/imports/{int:pk}", response={200: ImportOut, **ERRORS}, operation_id="imports_get",
            summary="An import's mapping, progress and report")
def get_import(request, pk: int):
    return importer.get_job(request.auth, pk)


@router.patch("/imports/{int:pk}", response={200: ImportOut, **ERRORS}, operation_id="imports_configure",
              summary="Change the sheet, the header row, the mapping or the upsert key before starting")
def configure(request, pk: int, payload: MappingIn):
    return services.configure(request.auth, importer.get_job(request.auth, pk), mapping_=payload.mapping,
                              key=payload.key, header_row=payload.header_row, sheet=payload.sheet,
                              values_=payload.values)


@router.get("/imports/{int:pk}/values", response={200: ValuesOut, **ERRORS}, operation_id="imports_values",
            summary="The values of owner, type, source, pipeline, stage and pick-list columns, with what each becomes")
def import_values(request, pk: int):
    from krug.transfer import values

    return values.found(importer.get_job(request.auth, pk))


@router.get("/imports/{int:pk}/preview", response={200: list[PreviewRowOut], **ERRORS},
            operation_id="imports_preview", summary="The first rows as they would be imported, with their errors")
def preview(request, pk: int, rows: int = 10):
    """The rows' `fields` say what each becomes; the file's rows are counted once too (`total_rows` of GET
    /imports/{id}: about 3 s for a million CSV rows, which the start then need not spend)."""
    job = importer.get_job(request.auth, pk)
    shown = services.preview(request.auth, job, limit=max(1, min(rows, 50)))
    services.row_count(job)
    return shown


@router.post("/imports/{int:pk}/fields", response={201: NewFieldOut, **ERRORS}, operation_id="imports_new_field",
             summary="Create a custom field for a column Krug has no field for, and map the column to it "
                     "(administrators; 409 once the import has started)")
def new_field(request, pk: int, payload: NewFieldIn):
    job = importer.get_job(request.auth, pk)
    field = new_fields.new_field(request.auth, job, payload.column, label=payload.label, type_=payload.type,
                                 choices=payload.choices)
    return Status(201, {"field": field, "mapping": job.mapping})


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


# ---- export ----------------------------------------------------------------------------------------------

class ExportIn(Schema):
    entity: str = Field("contacts", description="contacts, companies, leads or deals")
    format: str = Field("csv", description="csv (streamed at once) or xlsx (written in the background)")
    query: str = Field("", description="the list's filters as a query string, the same as the list endpoint's; "
                                       "a parameter that is not a filter of the list answers 422 naming it "
                                       "(cursor, limit, order and view are dropped: rows come in Krug ID order)")


class ExportUserOut(Schema):
    id: int
    username: str
    full_name: str


class ExportOut(Schema):
    id: int
    entity: str
    format: str
    query: str = Field(description="the filters the rows were chosen by ('' = the whole list the user sees)")
    status: str
    rows: int = Field(description="rows in the file (a CSV: in its latest download)")
    user: ExportUserOut = Field(description="who made the export")
    downloads: int = Field(description="how many times it was downloaded; each download is in the audit trail")
    download_url: str
    created_at: dt.datetime
    finished_at: dt.datetime | None

    @staticmethod
    def resolve_user(obj) -> dict:
        return {"id": obj.by.pk, "username": obj.by.username, "full_name": obj.by.get_full_name()}

    @staticmethod
    def resolve_downloads(obj) -> int:
        from krug.transfer import export

        return export.downloads(obj)

    @staticmethod
    def resolve_download_url(obj) -> str:
        return f"/api/v1/exports/{obj.pk}/download"


@router.post("/exports", response={201: ExportOut, **ERRORS}, operation_id="exports_create",
             summary="Export a filtered list; recorded in the export log and the audit trail")
def create_export(request, payload: ExportIn):
    from krug.transfer import export

    return Status(201, export.create(request.auth, payload.entity, payload.format, payload.query))


@router.get("/exports", response={200: list[ExportOut], **ERRORS}, operation_id="exports_list",
            summary="The export log, newest first: your own exports, or everyone's for an administrator (who took "
                    "which list, with which filters, in which format, how many rows, when)")
def list_exports(request, user: int | None = None, limit: int = 50):
    """`user`: an administrator's filter by the user who exported (others see only their own anyway)."""
    from krug.transfer import export

    return list(export.jobs_for(request.auth, user=user)[: max(1, min(limit, 200))])


@router.get("/exports/{int:pk}", response={200: ExportOut, **ERRORS}, operation_id="exports_get")
def get_export(request, pk: int):
    from krug.transfer import export

    return export.get_job(request.auth, pk)


@router.get("/exports/{int:pk}/download", operation_id="exports_download",
            summary="The file: CSV streams as it is read; XLSX once the worker has written it (409 before). "
                    "Each download is an audit entry")
def download(request, pk: int):
    from django.http import FileResponse

    from krug.transfer import export

    job = export.get_job(request.auth, pk)
    if job.format == "csv":
        response = StreamingHttpResponse(export.stream_csv(job, request.auth), content_type="text/csv; charset=utf-8")
        response["Content-Disposition"] = f'attachment; filename="{job.entity}-{job.pk}.csv"'
        return response
    return FileResponse(export.open_file(job, request.auth), as_attachment=True,
                        filename=f"{job.entity}-{job.pk}.xlsx")
