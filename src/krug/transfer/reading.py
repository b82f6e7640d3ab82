"""Reading an uploaded table: CSV in UTF-8 (with or without BOM) or Windows-1251 with `,` `;` or tab, and
XLSX/XLS/ODS through python-calamine. Rows come out lazily as lists of strings, so a million-row CSV never
sits in memory; every problem is a `FileProblem` with a message a person can act on.
"""

from __future__ import annotations

import csv
import datetime as dt
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from django.utils.translation import gettext as _

MAX_BYTES = 1024 * 1024 * 1024  # 1 GB: a million contacts in CSV are ~150 MB, so this is a mistake, not a base
SNIFF_BYTES = 256 * 1024
DELIMITERS = (",", ";", "\t")
SPREADSHEET_MAGIC = {b"PK\x03\x04": "xlsx", b"\xd0\xcf\x11\xe0": "xls"}
csv.field_size_limit(1024 * 1024)


class FileProblem(Exception):
    """The file cannot be read as a table; the message says why and what to do."""

    def __init__(self, message: str, *, field: str = "file"):
        super().__init__(message)
        self.message = message
        self.field = field


@dataclass(frozen=True)
class TableFormat:
    kind: str  # csv or xlsx/xls/ods
    encoding: str = ""  # csv only: utf-8-sig or cp1251
    delimiter: str = ""  # csv only

    def as_dict(self) -> dict:
        return {"kind": self.kind, "encoding": self.encoding, "delimiter": self.delimiter}


def _encoding(sample: bytes) -> str:
    """utf-8-sig for UTF-8 (a BOM is dropped either way), cp1251 for what is not UTF-8 but reads as Cyrillic."""
    try:
        sample.decode("utf-8")
        return "utf-8-sig"
    except UnicodeDecodeError as exc:
        if exc.start >= len(sample) - 4:  # the sample cut a multi-byte character in two
            return "utf-8-sig"
    text = sample.decode("cp1251", errors="replace")
    letters = sum(ch.isalpha() for ch in text)
    cyrillic = sum("а" <= ch.lower() <= "я" or ch in "ёЁ" for ch in text)
    if "\ufffd" in text or (letters and cyrillic / letters < 0.3 and any(b >= 0x80 for b in sample)):
        raise FileProblem(_("The file is neither UTF-8 nor Windows-1251 text. Save it from Excel as "
                            "\"CSV UTF-8\" or as an .xlsx workbook and upload it again."))
    return "cp1251"


def _delimiter(text: str) -> str:
    """The delimiter that splits the first lines into the same, largest number of columns."""
    lines = [line for line in text.splitlines()[:20] if line.strip()]
    if not lines:
        raise FileProblem(_("The file is empty."))
    best, best_score = ",", (-1, -1)
    for candidate in DELIMITERS:
        try:
            widths = [len(row) for row in csv.reader(lines, delimiter=candidate)]
        except csv.Error:
            continue
        consistent = sum(w == widths[0] for w in widths)
        score = (consistent if widths[0] > 1 else 0, widths[0])
        if score > best_score:
            best, best_score = candidate, score
    return best


def detect(path: Path) -> TableFormat:
    """The table's format, or FileProblem (too large, empty, a broken workbook, an unknown encoding)."""
    size = path.stat().st_size
    if size == 0:
        raise FileProblem(_("The file is empty."))
    if size > MAX_BYTES:
        raise FileProblem(_("The file is %(size)s MB; the limit is %(limit)s MB. Split it into parts or upload it "
                            "as CSV, which is several times smaller than XLSX.")
                          % {"size": size // (1024 * 1024), "limit": MAX_BYTES // (1024 * 1024)})
    with path.open("rb") as handle:
        sample = handle.read(SNIFF_BYTES)
    for magic, kind in SPREADSHEET_MAGIC.items():
        if sample.startswith(magic):
            if kind == "xlsx" and path.suffix.lower() == ".ods":
                kind = "ods"
            _open_workbook(path)  # a broken workbook is refused now, not half-way through the import
            return TableFormat(kind)
    if b"\x00" in sample[:4096]:
        raise FileProblem(_("This is not a table: upload a CSV file or an Excel workbook (.xlsx)."))
    encoding = _encoding(sample)
    text = sample.decode(encoding, errors="ignore")
    return TableFormat("csv", encoding, _delimiter(text))


def _open_workbook(path: Path):
    from python_calamine import CalamineWorkbook

    try:
        workbook = CalamineWorkbook.from_path(str(path))
        if not workbook.sheet_names:
            raise FileProblem(_("The workbook has no sheets."))
        return workbook
    except FileProblem:
        raise
    except Exception as exc:  # calamine raises its own error types for every kind of damage
        raise FileProblem(_("The workbook cannot be read (%(why)s). Open it in Excel, save it again as .xlsx "
                            "or CSV UTF-8, and upload that.") % {"why": str(exc)[:200]}) from exc


def _cell(value) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "1" if value else "0"
    if isinstance(value, float):
        return str(int(value)) if value.is_integer() else repr(value)
    if isinstance(value, dt.datetime):
        return value.date().isoformat() if value.time() == dt.time() else value.isoformat(sep=" ")
    if isinstance(value, dt.date):
        return value.isoformat()
    return str(value).strip()


def rows(path: Path, fmt: TableFormat) -> Iterator[list[str]]:
    """Every row, the header first, as stripped strings; trailing empty rows of a workbook are skipped."""
    if fmt.kind == "csv":
        with path.open("r", encoding=fmt.encoding, errors="strict", newline="") as handle:
            reader = csv.reader(handle, delimiter=fmt.delimiter)
            try:
                for row in reader:
                    yield [cell.strip() for cell in row]
            except UnicodeDecodeError as exc:
                raise FileProblem(_("Line %(line)d is not %(encoding)s text; the file mixes encodings. Save it "
                                    "again as CSV UTF-8.") % {"line": reader.line_num + 1,
                                                              "encoding": fmt.encoding}) from exc
            except csv.Error as exc:
                raise FileProblem(_("Line %(line)d is not valid CSV: %(why)s")
                                  % {"line": reader.line_num, "why": exc}) from exc
        return
    workbook = _open_workbook(path)
    sheet = workbook.get_sheet_by_index(0)
    for row in sheet.iter_rows():
        cells = [_cell(v) for v in row]
        yield cells


def header_and_sample(path: Path, fmt: TableFormat, limit: int = 10) -> tuple[list[str], list[list[str]]]:
    """The header and the first `limit` non-empty data rows, for mapping and the preview."""
    header: list[str] | None = None
    sample: list[list[str]] = []
    for row in rows(path, fmt):
        if header is None:
            if any(row):
                header = row
            continue
        if any(row):
            sample.append(row)
        if len(sample) >= limit:
            break
    if header is None:
        raise FileProblem(_("The file has no header row."))
    return header, sample
