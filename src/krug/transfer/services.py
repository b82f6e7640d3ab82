"""Import jobs from upload to report: store the file, recognise its columns, preview, queue, report failures."""

from __future__ import annotations

import csv
import io
import re
import uuid
from collections.abc import Iterable, Iterator
from dataclasses import replace
from pathlib import Path
from typing import IO

from django.conf import settings
from django.db import transaction
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from krug.core import custom_fields
from krug.core.errors import Conflict, ValidationFailed
from krug.transfer import importer, mapping, reading, values
from krug.transfer.models import ImportJob

STALE_AFTER = 120  # seconds without a heartbeat before a running import is taken over


def _folder() -> Path:
    folder = Path(settings.DATA_DIR) / "imports" / uuid.uuid4().hex
    folder.mkdir(parents=True, exist_ok=True)
    return folder


#: an import's entity -> the entity custom fields are defined for
FIELD_ENTITIES = {"contacts": "contact", "companies": "company", "leads": "lead", "deals": "deal"}


def custom_fields_of(entity: str) -> dict:
    return custom_fields.definitions(FIELD_ENTITIES[entity])


def upload(by, entity: str, file_name: str, stream: IO[bytes] | Iterable[bytes], *, sheet: str = "") -> ImportJob:
    """Store an uploaded file and recognise it: format and encoding, a workbook's sheet (`sheet`, else the
    first with a table: `_default_sheet`), the header row (the one among the first non-empty rows that names
    the most fields, so a title above it is skipped) and a guessed mapping. Nothing is imported yet. A file
    that cannot be read as a table, or has no rows under its header, is refused here with the reason (field
    `file`, or `sheet` for the sheet asked for)."""
    if entity not in importer.IMPORTERS:
        raise ValidationFailed.single("entity", _("must be one of %(v)s") % {"v": ", ".join(importer.IMPORTERS)})
    safe = re.sub(r"[^\w.\-]+", "_", Path(file_name or "upload").name)[:120] or "upload"
    path = _folder() / safe
    size = 0
    chunks = iter(lambda: stream.read(1024 * 1024), b"") if hasattr(stream, "read") else stream
    with path.open("wb") as out:
        for chunk in chunks:
            size += len(chunk)
            if size > reading.MAX_BYTES:
                out.close()
                path.unlink()
                raise ValidationFailed.single("file", _("The file is larger than %(limit)s MB. Split it into parts "
                                                        "or upload it as CSV, which is several times smaller than "
                                                        "XLSX.") % {"limit": reading.MAX_BYTES // (1024 * 1024)})
            out.write(chunk)
    custom = custom_fields_of(entity)
    try:
        fmt = reading.detect(path)
        sheets = reading.sheets(path, fmt)
        if sheet:
            fmt = replace(fmt, sheet=reading.sheet_named(sheets, sheet))
            leading = _sheet_rows(path, fmt)
        elif sheets:
            fmt, leading = _default_sheet(path, fmt, sheets, entity, custom)
        else:
            leading = reading.leading_rows(path, fmt)
        if not leading:
            raise reading.FileProblem(_("The file has no header row."))
        fmt = replace(fmt, header_row=mapping.header_row(entity, leading[:HEADER_CANDIDATES], custom))
        header = _header_at(path, fmt, leading, field="sheet" if sheet else "file")
    except reading.FileProblem as exc:
        path.unlink(missing_ok=True)
        raise ValidationFailed.single(exc.field, exc.message) from exc
    exported = mapping.exported_entity(header)
    if exported and exported != entity:  # its Krug IDs are another kind's: they would name the wrong records
        path.unlink(missing_ok=True)
        kind = entity_label(exported)
        raise ValidationFailed.single("entity", _("This file is Krug's export of %(kind)s: import it as %(kind)s.")
                                      % {"kind": kind})
    guessed = mapping.guess(entity, header, custom)
    key = mapping.default_key(guessed)
    job = ImportJob.objects.create(entity=entity, file_name=file_name or safe, path=str(path), size=size,
                                    format=fmt.as_dict(), sheet=fmt.sheet, sheets=[s.name for s in sheets],
                                    header=header, mapping=guessed, key=key, by=by,
                                    language=translation.get_language() or "")
    remembered = values.remembered(job)  # what the user chose for these values in his earlier files
    if remembered:
        job.values = remembered
        job.save(update_fields=["values"])
    return job


HEADER_CANDIDATES = 5  # the header is guessed among the first non-empty rows, up to this many


def _sheet_rows(path: Path, fmt: reading.TableFormat) -> list[tuple[int, list[str]]]:
    """The leading rows of the sheet `fmt` names; FileProblem on `sheet` when it is empty."""
    leading = reading.leading_rows(path, replace(fmt, header_row=0))
    if not leading:
        raise reading.FileProblem(_("The sheet «%(sheet)s» is empty: choose the sheet that holds the table.")
                                  % {"sheet": fmt.sheet}, field="sheet")
    return leading


def _default_sheet(path: Path, fmt: reading.TableFormat, sheets: list[reading.Sheet], entity: str,
                   custom: dict) -> tuple[reading.TableFormat, list[tuple[int, list[str]]]]:
    """The sheet an upload reads unless told, with its leading rows: of those whose header names a field of
    `entity` and has rows under it (so a title page, a sheet of instructions or another kind's export of Krug
    is passed over), the one named for the kind («Контакты» for contacts), else the first whose header fills
    what a new record needs, else the first; failing those, the first with more than one row, else the first
    that is not empty. Visible sheets come before hidden ones (lists for a drop-down, a macro's data). A
    workbook of Bitrix24's «Компании» and «Контакты» uploaded as contacts read the companies before."""
    found, tables = [], []
    for sheet in sorted(sheets, key=lambda s: s.hidden):  # a stable sort: the tabs' order within each
        candidate = replace(fmt, sheet=sheet.name)
        leading = reading.leading_rows(path, candidate)
        if not leading:
            continue
        found.append((candidate, leading))
        number = mapping.header_row(entity, leading[:HEADER_CANDIDATES], custom)
        guessed = mapping.guess(entity, dict(leading)[number], custom)
        if (any(guessed) and mapping.exported_entity(dict(leading)[number]) in ("", entity)
                and any(row > number for row, _cells in leading)):
            complete = all(any(name in guessed for name in group) for group in mapping.REQUIRED[entity])
            tables.append(((_named_for(sheet.name, entity), complete), len(tables), candidate, leading))
    if tables:
        _rank, _order, candidate, leading = min(tables, key=lambda t: (not t[0][0], not t[0][1], t[1]))
        return candidate, leading
    for candidate, leading in found:
        if len(leading) > 1:
            return candidate, leading
    if not found:
        raise reading.FileProblem(_("Every sheet of the workbook is empty."))
    return found[0]


#: what a sheet of each kind is called (its name casefolded, or its first word)
_SHEET_NAMES = {"contacts": {"контакты", "контакт", "contacts", "contact", "люди", "people"},
                "companies": {"компании", "компания", "companies", "company", "организации", "контрагенты",
                              "accounts"},
                "leads": {"лиды", "лид", "заявки", "заявка", "leads", "lead", "обращения"},
                "deals": {"сделки", "сделка", "deals", "deal", "opportunities"}}


def _named_for(sheet: str, entity: str) -> bool:
    words = sheet.casefold().replace("ё", "е").split()
    return bool(words) and (" ".join(words) in _SHEET_NAMES[entity] or words[0] in _SHEET_NAMES[entity])


def _header_at(path: Path, fmt: reading.TableFormat, leading: list[tuple[int, list[str]]],
               field: str = "header_row") -> list[str]:
    """The header at `fmt.header_row`, which must be one of the `leading` rows and have data under it;
    FileProblem on `field` when it is not."""
    cells = dict(leading).get(fmt.header_row)
    if cells is None:
        raise reading.FileProblem(_("choose one of the rows shown: a non-empty row among the first %(n)d")
                                  % {"n": reading.HEADER_SEARCH}, field=field)
    if not any(number > fmt.header_row for number, _cells in leading):  # no data in the first rows: look on
        _header, sample = reading.header_and_sample(path, fmt, limit=1)
        if not sample:
            raise reading.FileProblem(_("The file has a header but no rows under it: there is nothing to "
                                        "import."), field=field)
    return cells


def table_format(job: ImportJob) -> reading.TableFormat:
    return reading.TableFormat(**job.format)


def warnings(job: ImportJob) -> list[str]:
    """What the user should know before importing the file: its text looks garbled (a wrong encoding), or,
    with an upsert key, no column fills what a new record needs (refused without a key, `mapping.check`)."""
    return _missing_for_new(job) + _garbled(job)


def _missing_for_new(job: ImportJob) -> list[str]:
    """A file of changes may lack a name; a migration's file whose ID column chose the key must not: every row
    naming no record would fail. Said before the import, not row by row after it."""
    if not job.key or job.mapping is None:
        return []
    known = mapping.targets(job.entity, custom_fields_of(job.entity))
    missing = [group for group in mapping.REQUIRED[job.entity] if not any(name in job.mapping for name in group)]
    return [_("No column fills %(fields)s: a row that names no record already in Krug by %(key)s will fail, since "
              "a new record needs it. Map the column that holds it, if the file has one.")
            % {"fields": ", ".join(str(known[n].label) for n in group), "key": known[job.key].label}
            for group in missing if job.key in known]


def _garbled(job: ImportJob) -> list[str]:
    example = job.format.get("garbled")
    if not example:
        return []
    encoding = reading.ENCODINGS.get(job.format.get("encoding", ""), job.format.get("encoding", ""))
    return [_("The text in the file looks garbled (for example «%(example)s»): somewhere on its way it was "
              "converted from the wrong encoding. The file is read as %(encoding)s. Open the original table, "
              "save it as \"CSV UTF-8\" or as an .xlsx workbook and upload that.")
            % {"example": example, "encoding": encoding}]


def check_mapping(job: ImportJob, mapping_: list[str] | None = None, key: str | None = None,
                  header: list[str] | None = None) -> None:
    """`mapping.check` for the job; a file whose text looks garbled says so too (field `file`), since a
    garbled header is why nothing maps."""
    try:
        mapping.check(job.entity, job.header if header is None else header,
                      job.mapping if mapping_ is None else mapping_, job.key if key is None else key,
                      custom_fields_of(job.entity))
    except ValidationFailed as exc:
        for message in _garbled(job):
            exc.errors.setdefault("file", []).append(message)
        raise


def configure(by, job: ImportJob, *, mapping_: list[str] | None = None, key: str | None = None,
              header_row: int | None = None, sheet: str | None = None,
              values_: dict | None = None) -> ImportJob:
    """Change a workbook's sheet, the header row, the mapping or the upsert key before the import starts;
    checked now, not half-way through. Another sheet has its header row found again (unless one is given);
    a new header row takes the mapping guessed from it (checked at the preview and the start, as an upload's
    is), unless a mapping is given too. `values_` chooses what a value column's values become
    (`transfer.values.check`), field by field: a field given replaces its choices, the others keep theirs."""
    unstarted(job)
    header, fmt, guessed, reread = job.header, table_format(job), False, False
    try:
        other = _other_sheet(job, fmt, sheet, header_row)
        if other is not None:
            (fmt, header), reread = other, True
        elif header_row is not None and header_row != (fmt.header_row or None):
            fmt = replace(fmt, header_row=header_row)
            header, reread = _header_at(Path(job.path), fmt, reading.leading_rows(Path(job.path), fmt)), True
    except reading.FileProblem as exc:
        raise ValidationFailed.single(exc.field, exc.message) from exc
    if reread and mapping_ is None:
        guessed, mapping_ = True, mapping.guess(job.entity, header, custom_fields_of(job.entity))
        if key is None:
            key = mapping.default_key(mapping_)
    new_mapping = job.mapping if mapping_ is None else [m or "" for m in mapping_]
    new_key = job.key if key is None else key
    if not guessed:
        check_mapping(job, new_mapping, new_key, header)
    chosen, mapped_before = dict(job.values or {}), {name for _position, name in values.fields(job)}
    job.header, job.format, job.mapping, job.key = header, fmt.as_dict(), new_mapping, new_key
    for name, choices in values.remembered(job).items():  # a column newly mapped starts from earlier choices
        if name not in mapped_before:
            chosen.setdefault(name, choices)
    if values_ is not None:
        chosen.update(values.check(job, values_))
    job.values = still_mapped(job, chosen)
    job.sheet = fmt.sheet  # the reader takes it from the format; the field is for people and queries
    if reread:  # another sheet or header row: the rows counted (`row_count`) are not these
        job.total_rows = None
    job.save(update_fields=["header", "format", "sheet", "mapping", "key", "values", "total_rows"])
    return job


def still_mapped(job: ImportJob, chosen: dict) -> dict:
    """The value choices of the fields the job's columns are still mapped to: a column mapped elsewhere takes its
    choices along."""
    columns = {name for _position, name in values.fields(job)}
    return {name: choices for name, choices in chosen.items() if name in columns and choices}


def unstarted(job: ImportJob) -> None:
    """Conflict once the import has started: its mapping, and the fields it fills, can no longer change."""
    if job.status != ImportJob.Status.UPLOADED:
        raise Conflict(_("This import has started; its mapping can no longer change"))


def _other_sheet(job: ImportJob, fmt: reading.TableFormat, sheet: str | None,
                 header_row: int | None) -> tuple[reading.TableFormat, list[str]] | None:
    """(format, header) of the sheet `sheet` names when it is not the job's, its header at `header_row` or
    found as an upload finds it; None when the sheet stays. FileProblem on `sheet` (or `header_row`)."""
    if sheet is None or (fmt.kind == "csv" and not sheet):
        return None
    path = Path(job.path)
    name = reading.sheet_named([reading.Sheet(n) for n in job.sheets] or reading.sheets(path, fmt), sheet)
    if name == fmt.sheet:
        return None
    fmt = replace(fmt, sheet=name)
    leading = _sheet_rows(path, fmt)
    custom = custom_fields_of(job.entity)
    fmt = replace(fmt, header_row=header_row or mapping.header_row(job.entity, leading[:HEADER_CANDIDATES], custom))
    header = _header_at(path, fmt, leading, field="header_row" if header_row else "sheet")
    exported = mapping.exported_entity(header)
    if exported and exported != job.entity:
        raise reading.FileProblem(_("This sheet is Krug's export of %(kind)s: import it as %(kind)s.")
                                  % {"kind": entity_label(exported)}, field="sheet")
    return fmt, header


def entity_label(entity: str) -> str:
    return str(importer.entity_model(entity)._meta.verbose_name_plural)


def preview(by, job: ImportJob, limit: int = 10) -> list[dict]:
    """The first rows as they would be imported, each with its outcome and errors and what it writes, field by
    field (`transfer.preview`: `fields`, and `other_errors`, those about no column); nothing is kept. When the
    file has no more rows than these, they are its count (`row_count`)."""
    from krug.transfer.preview import Reader

    check_mapping(job)
    ctx = importer.Context(job)
    shown, whole = [], True
    with transaction.atomic():
        reader = Reader(ctx)
        for number, cells in importer.data_rows(job):
            if len(shown) >= limit:
                whole = False
                break
            outcome, errors, record_id = importer.import_one(ctx, cells)
            errors = [{**e, "label": mapping.field_label(job.entity, e["field"]) if e.get("field") else ""}
                      for e in errors]
            fields, elsewhere = reader.fields(cells, errors, record_id)
            shown.append({"row": number, "values": dict(zip(job.header, cells, strict=False)), "outcome": outcome,
                          "errors": errors, "fields": fields, "other_errors": elsewhere})
        transaction.set_rollback(True)
    if whole and job.total_rows is None:
        _keep_count(job, len(shown))
    return shown


def row_count(job: ImportJob) -> int:
    """The file's data rows, counted once and kept on the job, whose run needs the count for its progress anyway:
    a million CSV rows take about 3 s to read, too long to count again at each preview."""
    if job.total_rows is None:
        _keep_count(job, importer.count_rows(job))
    return job.total_rows


def _keep_count(job: ImportJob, count: int) -> None:
    """Keep the count on the job, unless its sheet or header row changed while the file was read (`configure`
    forgets a count then)."""
    job.total_rows = count
    ImportJob.objects.filter(pk=job.pk, sheet=job.sheet, format__header_row=job.format.get("header_row")) \
        .update(total_rows=count)


def start(by, job: ImportJob) -> ImportJob:
    """Queue the import for `krug worker`; the job shows its progress while it runs."""
    from krug.transfer.tasks import import_task

    if job.status != ImportJob.Status.UPLOADED:
        raise Conflict(_("This import has already started"))
    check_mapping(job)
    job.status = ImportJob.Status.QUEUED
    job.save(update_fields=["status"])
    transaction.on_commit(lambda: import_task.enqueue(job.pk))
    return job


def cancel(by, job: ImportJob) -> ImportJob:
    """Stop an import between chunks: what is written stays (it is whole rows), the rest is not read."""
    if job.status not in (ImportJob.Status.UPLOADED, ImportJob.Status.QUEUED, ImportJob.Status.RUNNING):
        raise Conflict(_("This import has already ended"))
    ImportJob.objects.filter(pk=job.pk).update(status=ImportJob.Status.CANCELLED, finished_at=timezone.now())
    job.refresh_from_db()
    return job


def resume_stale(now=None) -> list[int]:
    """Queue again the imports whose worker died (no heartbeat for STALE_AFTER seconds); they resume at their
    checkpoint. Called by the worker's routine."""
    from datetime import timedelta

    from krug.transfer.tasks import import_task

    now = now or timezone.now()
    stale = list(ImportJob.objects.filter(status=ImportJob.Status.RUNNING,
                                          heartbeat_at__lt=now - timedelta(seconds=STALE_AFTER))
                 .values_list("pk", flat=True))
    for job_id in stale:
        ImportJob.objects.filter(pk=job_id).update(heartbeat_at=now)
        transaction.on_commit(lambda job_id=job_id: import_task.enqueue(job_id))
    return stale


def csv_text(rows: Iterable[list], *, every: int = 500) -> Iterator[str]:
    """CSV for Excel (UTF-8 with BOM, `;`) produced as the rows come, `every` rows a piece."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, delimiter=";")
    yield "\ufeff"
    for count, row in enumerate(rows, start=1):
        writer.writerow(row)
        if count % every == 0:
            yield buffer.getvalue()
            buffer.seek(0)
            buffer.truncate()
    yield buffer.getvalue()


def failed_rows_csv(job: ImportJob) -> Iterator[str]:
    """The failed rows as CSV: the original columns plus the row number and the errors, so they can be fixed
    and imported again. Every cell a spreadsheet could run as a formula is escaped, the header's too: the file
    holds what someone else uploaded."""
    def rows():
        yield [_("Row"), *[safe_cell(h) for h in job.header], _("Errors")]
        for error in job.row_errors.iterator(chunk_size=2000):
            problems = "; ".join(f"{mapping.field_label(job.entity, e['field'])}: {e['message']}" if e.get("field")
                                 else e["message"] for e in error.errors)
            yield [error.row, *[safe_cell(v) for v in error.values], safe_cell(problems)]

    return csv_text(rows())


def own_job(model, by, job_id: int, missing: str):
    """An import or export its owner (or an administrator) may look at; anyone else gets 404."""
    from krug.core.errors import NotFound
    from krug.core.permissions import Role, role_of

    job = model.objects.filter(pk=job_id).first()
    if job is None or (job.by_id != by.pk and role_of(by) != Role.ADMIN):
        raise NotFound(missing)
    return job


def safe_cell(value) -> str:
    """A value for a cell of the failed-rows file, escaped as exports escape it (`export.csv_safe`)."""
    from krug.transfer.export import csv_safe

    return csv_safe("" if value is None else str(value))
