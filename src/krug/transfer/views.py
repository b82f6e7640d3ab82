"""Import and export in the browser: upload → check the columns → preview → run with a live progress bar →
report with the failed rows to download; exports of the list on screen. The work is the services'."""

from __future__ import annotations

from pathlib import Path

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, StreamingHttpResponse
from django.shortcuts import redirect, render
from django.urls import path, reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from krug.core import custom_fields
from krug.core.errors import DomainError
from krug.core.models import CustomField
from krug.transfer import export, importer, mapping, new_fields, services, stage_values, values
from krug.transfer.models import ExportJob, ImportJob
from krug.web import ui

ENTITY_LABELS = {"contacts": gettext_lazy("Contacts"), "companies": gettext_lazy("Companies"),
                 "leads": gettext_lazy("Leads"), "deals": gettext_lazy("Deals")}


def _job(request, pk) -> ImportJob:
    try:
        return importer.get_job(request.user, pk)
    except DomainError as exc:
        raise Http404(exc.message) from exc


@login_required
def index(request):
    imports = ImportJob.objects.filter(by=request.user)[:20]
    exports = ExportJob.objects.filter(by=request.user)[:20]
    return render(request, "transfer/index.html", {
        "section": "clients", "imports": imports, "exports": exports, "entities": list(importer.IMPORTERS),
        "entity": request.GET.get("entity", "contacts"), "errors": {}})


@login_required
@require_POST
def upload(request):
    entity = request.POST.get("entity", "contacts")
    file = request.FILES.get("file")
    errors = {}
    if file is None:
        errors = {"file": [_("Choose a CSV or Excel file.")]}
    else:
        try:
            job = services.upload(request.user, entity, file.name, file.chunks())
            return redirect("transfer:import", job.pk)
        except DomainError as exc:
            errors = ui.field_errors(exc)
    return render(request, "transfer/index.html", {
        "section": "clients", "imports": ImportJob.objects.filter(by=request.user)[:20],
        "exports": ExportJob.objects.filter(by=request.user)[:20], "entities": list(importer.IMPORTERS),
        "entity": entity, "errors": errors}, status=422)


def _mapping_context(job: ImportJob, user, errors: dict | None = None, *, new_field: dict | None = None,
                     made: tuple[int, str] | None = None) -> dict:
    """The mapping page: each column with its examples, the field it goes into and its problem; the rows the
    header may be on; what looks wrong with the file. A column mapped to nothing offers to make a field for it
    (to an administrator; anyone else is told whom to ask): `new_field` is that form, open with its problems,
    `made` the column a field was just made for, with the field's label."""
    from krug.transfer import reading

    errors = errors or {}
    may_add = custom_fields.may_define(user)
    targets = mapping.targets(job.entity, services.custom_fields_of(job.entity))
    fmt = services.table_format(job)
    try:
        leading = reading.leading_rows(Path(job.path), fmt)
    except reading.FileProblem:
        leading = []
    header_row = fmt.header_row or (leading[0][0] if leading else 1)
    sample = [cells for number, cells in leading if number > header_row][:3]
    columns = [{"index": i, "header": h, "chosen": job.mapping[i] if i < len(job.mapping) else "",
                "examples": [row[i] for row in sample if i < len(row) and row[i]][:3],
                "errors": errors.get(f"mapping.{i}", []),
                "new_field": new_field if new_field and new_field["column"] == i else None,
                "made": made[1] if made and made[0] == i else ""}
               for i, h in enumerate(job.header)]
    return {"section": "clients", "job": job, "columns": columns, "targets": list(targets.values()),
            "keys": [(k, targets[k].label) for k in mapping.KEYS[job.entity]], "errors": errors,
            "entity_label": ENTITY_LABELS.get(job.entity, job.entity), "warnings": services.warnings(job),
            "encoding": reading.ENCODINGS.get(fmt.encoding, fmt.encoding), "header_row": header_row,
            "header_choices": [{"number": n, "text": " · ".join(c for c in cells if c)} for n, cells in leading],
            "rows": None, "values": _values_context(job, errors), "may_add_fields": may_add,
            "who_adds_fields": "" if may_add else new_fields.who_adds_fields(),
            "field_types": CustomField.Type.choices}


def _values_context(job: ImportJob, errors: dict) -> dict | None:
    """The values of the owner, type, source, pipeline, stage and pick-list columns, each with what it becomes,
    and each field's problem (`values.<field>`)."""
    if not values.fields(job):
        return None
    found = values.found(job)
    for item in found["fields"]:
        if item["field"] == "stage":  # a list of a pipeline's stage values, chosen as `values.stage.<its id>`
            item["field"] = f"stage.{item['pipeline_id'] or stage_values.ANY}"
        item["errors"] = errors.get(f"values.{item['field']}", [])
        item["failing"] = sum(v["rows"] for v in item["values"] if v["becomes"] is None)
    return found


def _posted_values(post, mapped: list[str]) -> dict[str, dict] | None:
    """The value choices the form sends (`v:<field>:<value key>`; a stage's `v:stage.<pipeline id>:<value key>`,
    chosen per pipeline), for the fields still mapped: a choice equal to what Krug makes of the value by itself
    (`r:...`), or "?" (none), is not kept."""
    chosen: dict[str, dict] = {}
    for name, target in post.items():
        if not name.startswith("v:") or name.count(":") < 2:
            continue
        _v, field, key = name.split(":", 2)
        field, _dot, pipeline = field.partition(".") if field.startswith("stage.") else (field, "", "")
        if field not in mapped:
            continue
        choices = chosen.setdefault(field, {})
        if pipeline:
            choices = choices.setdefault(pipeline, {})
        if target != "?" and target != post.get("r" + name[1:]):
            choices[key] = target
    return chosen or None


def _errors(exc: DomainError) -> dict[str, list[str]]:
    """A refusal's messages by field, a column's kept apart (`mapping.3`) to show beside its own choice."""
    return {name: list(messages) for name, messages in exc.errors.items()} if exc.errors else {"form": [exc.message]}


@login_required
def import_job(request, pk):
    job = _job(request, pk)
    if job.status == ImportJob.Status.UPLOADED:
        return render(request, "transfer/mapping.html", _mapping_context(job, request.user))
    return render(request, "transfer/progress.html", {"section": "clients", "job": job,
                                                      "entity_label": ENTITY_LABELS.get(job.entity, job.entity)})


@login_required
def import_status(request, pk):
    """The progress block, polled by the progress page every second while the import runs."""
    return render(request, "transfer/_progress.html", {"job": _job(request, pk)})


def _sheet(request, job: ImportJob):
    """The workbook's sheet chosen on the mapping page: its header row, columns and rows are read again."""
    return _read_again(request, job, lambda: {"sheet": request.POST.get("sheet", "")})


def _header_row(request, job: ImportJob):
    """The header row chosen on the mapping page: the columns are recognised again from it."""
    return _read_again(request, job, lambda: {"header_row": int(request.POST.get("header_row", ""))})


def _read_again(request, job: ImportJob, change):
    """Apply `change()` (the sheet or the header row) and show the page again; a refusal beside its field."""
    try:
        services.configure(request.user, job, **change())
    except ValueError:
        errors = {"header_row": [_("Choose a row.")]}
    except DomainError as exc:
        job.refresh_from_db()
        errors = _errors(exc)
    else:
        return redirect("transfer:import", job.pk)
    return render(request, "transfer/mapping.html", _mapping_context(job, request.user, errors), status=422)


@login_required
@require_POST
def import_configure(request, pk):
    """The mapping page's buttons: choose the sheet or the header row, make a field for a column, check the first
    rows or start the import. The check answers HTMX with the whole form, so a problem shows beside its column and
    an earlier one goes away; a refusal is answered with 200 then, as the card's edit form is, since htmx does not
    swap a 4xx answer."""
    job = _job(request, pk)
    go = request.POST.get("go", "")
    if go == "sheet":
        return _sheet(request, job)
    if go == "header":
        return _header_row(request, job)
    if go.startswith("field:"):
        return _new_field(request, job, go.removeprefix("field:"))
    chosen = [request.POST.get(f"col{i}", "") for i in range(len(job.header))]
    try:
        services.configure(request.user, job, mapping_=chosen, key=request.POST.get("key", ""),
                           values_=_posted_values(request.POST, chosen))
        if go == "start":
            services.start(request.user, job)
            return redirect("transfer:import", job.pk)
        rows = services.preview(request.user, job)
    except DomainError as exc:
        _as_posted(request, job, chosen)
        return _mapping_form(request, _mapping_context(job, request.user, _errors(exc)), refused=True)
    return _mapping_form(request, {**_mapping_context(job, request.user), "rows": rows})


def _mapping_form(request, context: dict, *, refused: bool = False):
    """The mapping form for HTMX (200 even when refused: htmx swaps no 4xx), else the whole page."""
    if request.headers.get("HX-Request"):
        return render(request, "transfer/_mapping_form.html", context)
    return render(request, "transfer/mapping.html", context, status=422 if refused else 200)


def _as_posted(request, job: ImportJob, chosen: list[str]) -> None:
    """The job as the form left it, not saved: its columns, key and value choices shown again as chosen (the
    choices as `configure` would keep them; when one is not an option, those kept before)."""
    job.mapping, job.key = chosen, request.POST.get("key", "")
    try:
        job.values = {**(job.values or {}), **values.check(job, _posted_values(request.POST, chosen) or {})}
    except DomainError:
        return


def _new_field(request, job: ImportJob, column: str):
    """«Make a field…» saved: the field is made and its column mapped to it (`new_fields.new_field`); the form
    comes back with the user's other choices as he left them, or with the problem beside the new field's input."""
    chosen = [request.POST.get(f"col{i}", "") for i in range(len(job.header))]
    index = int(column) if column.isdigit() else -1
    form = {"column": index, "label": request.POST.get(f"nf-label-{index}", ""),
            "type": request.POST.get(f"nf-type-{index}", ""), "choices": request.POST.get(f"nf-choices-{index}", "")}
    choices = [line for line in form["choices"].splitlines() if line.strip()]
    try:
        field = new_fields.new_field(request.user, job, index, label=form["label"], type_=form["type"],
                                     choices=choices if form["type"] == CustomField.Type.CHOICE else [])
    except DomainError as exc:
        _as_posted(request, job, chosen)
        if not 0 <= index < len(job.header):  # no column to show the form beside
            return _mapping_form(request, _mapping_context(job, request.user, {"form": [exc.message]}), refused=True)
        context = _mapping_context(job, request.user, new_field={**form, "errors": _errors(exc)})
        return _mapping_form(request, context, refused=True)
    chosen[index] = f"cf.{field.key}"
    _as_posted(request, job, chosen)
    return _mapping_form(request, _mapping_context(job, request.user, made=(index, field.label)))


@login_required
def import_new_field(request, pk):
    """The «Make a field…» form of a column, filled with what its header and values suggest."""
    job = _job(request, pk)
    column = request.GET.get("column", "")
    if not column.isdigit() or int(column) >= len(job.header):
        raise Http404(_("no such column"))
    if not custom_fields.may_define(request.user):
        return render(request, "transfer/_new_field.html", {"job": job,
                                                            "who_adds_fields": new_fields.who_adds_fields()})
    suggested = new_fields.suggest_field(job, int(column))
    form = {**suggested, "column": int(column), "choices": "\n".join(suggested["choices"]), "errors": {}}
    return render(request, "transfer/_new_field.html", {"job": job, "nf": form, "may_add_fields": True,
                                                        "field_types": CustomField.Type.choices})


@login_required
def import_rows(request, pk):
    """How many rows the file has, counted once (`services.row_count`), for the preview's figure."""
    job = _job(request, pk)
    shown = request.GET.get("shown", "")
    return render(request, "transfer/_preview_count.html", {"job": job, "total": services.row_count(job),
                                                            "shown": int(shown) if shown.isdigit() else 0})


@login_required
@require_POST
def import_cancel(request, pk):
    try:
        services.cancel(request.user, _job(request, pk))
    except DomainError as exc:
        messages.error(request, exc.message)
    return redirect("transfer:import", pk)


@login_required
def failed_rows(request, pk):
    job = _job(request, pk)
    response = StreamingHttpResponse(services.failed_rows_csv(job), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="import-{job.pk}-failed-rows.csv"'
    return response


@login_required
@require_POST
def export_list(request):
    """The list's export button: CSV downloads at once, XLSX is prepared in the background."""
    entity, fmt = request.POST.get("entity", ""), request.POST.get("format", "csv")
    back = ui.safe_next(request, reverse("transfer:index"))
    try:
        job = export.create(request.user, entity, fmt, request.POST.get("query", ""))
    except DomainError as exc:
        messages.error(request, exc.message)
        return redirect(back)
    if job.format == ExportJob.Format.CSV:
        return redirect(f"/api/v1/exports/{job.pk}/download")
    messages.success(request, _("The Excel file is being prepared; it will appear below in a moment."))
    return redirect(reverse("transfer:index") + "#exports")  # not below the list of imports


urlpatterns = [
    path("", index, name="index"),
    path("import/", upload, name="upload"),
    path("import/<int:pk>/", import_job, name="import"),
    path("import/<int:pk>/status/", import_status, name="import_status"),
    path("import/<int:pk>/mapping/", import_configure, name="import_configure"),
    path("import/<int:pk>/new-field/", import_new_field, name="import_new_field"),
    path("import/<int:pk>/rows/", import_rows, name="import_rows"),
    path("import/<int:pk>/cancel/", import_cancel, name="import_cancel"),
    path("import/<int:pk>/failed-rows.csv", failed_rows, name="failed_rows"),
    path("export/", export_list, name="export"),
]
