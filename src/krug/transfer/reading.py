"""Reading an uploaded table: CSV in UTF-8, UTF-16, Windows-1251, KOI8-R or DOS (CP866) with `,` `;` or tab,
and XLSX/XLS/ODS through python-calamine (one sheet of a workbook, chosen by name: `TableFormat.sheet`). Rows
come out lazily as lists of strings, so a million-row CSV never sits in memory; every problem is a `FileProblem`
with a message a person can act on.
"""

from __future__ import annotations

import csv
import datetime as dt
import logging
import math
import re
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, replace
from pathlib import Path

from django.utils.translation import gettext as _

log = logging.getLogger(__name__)

MAX_BYTES = 1024 * 1024 * 1024  # 1 GB: a million contacts in CSV are ~150 MB, so this is a mistake, not a base
SNIFF_BYTES = 256 * 1024
DELIMITERS = (",", ";", "\t")
SPREADSHEET_MAGIC = {b"PK\x03\x04": "xlsx", b"\xd0\xcf\x11\xe0": "xls"}
#: the encodings a CSV may be in, as people know them
ENCODINGS = {"utf-8-sig": "UTF-8", "utf-16": "UTF-16", "utf-16-le": "UTF-16", "utf-16-be": "UTF-16",
             "cp1251": "Windows-1251", "koi8_r": "KOI8-R", "cp866": "DOS (CP866)"}
SINGLE_BYTE = ("cp1251", "koi8_r", "cp866")  # in this order when two read equally well
HEADER_SEARCH = 20  # the header is looked for among the first rows of the file, up to this one
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
    encoding: str = ""  # csv only: a key of ENCODINGS
    delimiter: str = ""  # csv only
    header_row: int = 0  # the header's row in the file, from 1; 0: the first non-empty row
    garbled: str = ""  # a piece of text that looks mis-decoded (mojibake), when the file has some
    sheet: str = ""  # a workbook's sheet, by name; '' (a job from before sheets were chosen): the first one

    def as_dict(self) -> dict:
        return {"kind": self.kind, "encoding": self.encoding, "delimiter": self.delimiter,
                "header_row": self.header_row, "garbled": self.garbled, "sheet": self.sheet}


@dataclass(frozen=True)
class Sheet:
    """A worksheet of a workbook, as its tab shows it."""

    name: str
    hidden: bool = False


# ---- which encoding reads as Russian --------------------------------------------------------------------
# A Cyrillic code page decoded as another gives letters all the same, but the wrong ones: KOI8-R read as
# Windows-1251 is mostly rare upper-case letters ("бПЮМ"), Windows-1251 read as KOI8-R likewise ("ЗТЙЗПТШЕЧ").
# So each candidate's text is scored by how often its letters occur in Russian, with a penalty for what real
# text does not have: symbols no Russian word holds, a capital inside a word, a Cyrillic letter in a Latin word.

_PER_MILLE = {"о": 109.7, "е": 84.5, "а": 80.1, "и": 73.5, "н": 67.0, "т": 62.6, "с": 54.7, "р": 47.3, "в": 45.4,
              "л": 44.0, "к": 34.9, "м": 32.1, "д": 29.8, "п": 28.1, "у": 26.2, "я": 20.1, "ы": 19.0, "ь": 17.4,
              "г": 17.0, "з": 16.5, "б": 15.9, "ч": 14.4, "й": 12.1, "х": 9.7, "ж": 9.4, "ш": 7.3, "ю": 6.4,
              "ц": 4.8, "щ": 3.6, "э": 3.2, "ф": 2.6, "ъ": 0.4, "ё": 0.4, "і": 2.0, "ї": 0.5, "є": 0.5, "ґ": 0.1,
              "ў": 0.5}
_LOG_P = {letter: math.log(per_mille / 1000) for letter, per_mille in _PER_MILLE.items()}
_NEUTRAL = set("«»№–—\u00a0…“”„‘’°•")
_PUNCTUATION = -4.0  # quotes, dashes, №: as often as a rare letter
_ODD = -8.0  # a character Russian text does not have (box drawing, Ђ, a replacement character)
_CAPITAL_INSIDE = -4.0  # "зТЙЗ": an upper-case letter right after a lower-case one
_TOKENS = re.compile(r"[^\W\d_]+|[^\x00-\x7f]")  # runs of letters, and single other non-ASCII characters
GOOD_RUSSIAN = -3.7  # the score of plain Russian text is about -3.0, of a few short names down to -3.6
UNREADABLE = -5.0  # below this no candidate reads as Russian: the encoding is unknown
SCORED_CHARS = 8000  # non-ASCII characters scored: plenty, and a 256 KB sample is judged in 0.1 s
MISREAD_MARGIN = 0.6  # a misreading scores 1.0-1.3 below the text it was


def russian_score(text: str) -> tuple[float, int]:
    """(mean score per non-ASCII character, how many were scored) of `text` as Russian; (0, 0) when it has
    no non-ASCII character."""
    total, count = 0.0, 0
    for match in _TOKENS.finditer(text):
        token = match.group()
        if count >= SCORED_CHARS:
            break
        if token.isascii():
            continue
        if len(token) == 1 and not token.isalpha():
            total, count = total + (_PUNCTUATION if token in _NEUTRAL else _ODD), count + 1
            continue
        latin = any(ch.isascii() for ch in token)  # "Mьller": a Western letter read as a Cyrillic one
        previous_lower = False
        for ch in token:
            if ch.isascii():
                previous_lower = ch.islower()
                continue
            lower = ch.lower()
            total += _ODD if latin else _LOG_P.get(lower, _ODD)
            if previous_lower and ch != lower:
                total += _CAPITAL_INSIDE
            previous_lower = ch == lower
            count += 1
    return (total / count, count) if count else (0.0, 0)


def _single_byte(sample: bytes) -> str:
    """The Cyrillic code page that reads the sample as the most Russian-looking text."""
    best, best_score = "", -math.inf
    for encoding in SINGLE_BYTE:
        try:
            text = sample.decode(encoding)
        except UnicodeDecodeError:
            continue
        score, _count = russian_score(text)
        if score > best_score + 1e-9:
            best, best_score = encoding, score
    if not best or best_score < UNREADABLE:
        raise FileProblem(_("The file's encoding is not one Krug reads (UTF-8, UTF-16, Windows-1251, KOI8-R, DOS). "
                            "Save it from Excel as \"CSV UTF-8\" or as an .xlsx workbook and upload it again."))
    return best


def _utf16(sample: bytes) -> str:
    """utf-16 for text with a byte order mark (Excel's "Unicode text"), utf-16-le/-be for text without one
    whose every other byte is zero (Latin text) or 0x04 (Cyrillic); else ''."""
    if sample.startswith((b"\xff\xfe", b"\xfe\xff")):
        return "utf-16"
    head = sample[:4096]
    if len(head) < 8:
        return ""
    even, odd = head[0::2], head[1::2]
    for encoding, high, low in (("utf-16-le", odd, even), ("utf-16-be", even, odd)):
        if sum(b in (0, 4) for b in high) > 0.9 * len(high) and low.count(0) < 0.05 * len(low):
            try:
                head[: len(head) // 2 * 2].decode(encoding)
            except UnicodeDecodeError:
                continue
            return encoding
    return ""


def _encoding(sample: bytes) -> str:
    """The encoding of a CSV sample: UTF-16, UTF-8 (a BOM is dropped either way), or the Cyrillic code page
    that reads it as Russian."""
    utf16 = _utf16(sample)
    if utf16:
        return utf16
    if b"\x00" in sample[:4096]:
        raise FileProblem(_("This is not a table: upload a CSV file or an Excel workbook (.xlsx)."))
    try:
        sample.decode("utf-8")
        return "utf-8-sig"
    except UnicodeDecodeError as exc:
        if exc.reason == "unexpected end of data" and len(sample) == SNIFF_BYTES:
            return "utf-8-sig"  # the sample cut a multi-byte character in two
    return _single_byte(sample)


#: how text in one encoding reads when taken for another: (what it was read as, what it was)
_MISREADINGS = (("cp1251", "utf-8"), ("cp1252", "cp1251"), ("latin-1", "cp1251"), ("cp1251", "koi8_r"),
                ("koi8_r", "cp1251"), ("cp866", "cp1251"), ("cp1251", "cp866"))
_LOST = re.compile(r"[^\s,;]*\?{3,}[^\s,;]*")
_CYRILLIC = re.compile(r"[\u0400-\u04ff]")


def garbled(text: str) -> str:
    """A word of `text` that looks mis-decoded ("Р˜РІР°РЅ", "Èâàíîâ", "ЙЧБОПЧ") when the text reads far better
    as Russian once that misreading is undone, or letters replaced by "???"; '' when the text looks right."""
    lines = text[:65536].splitlines()
    while lines and _CYRILLIC.search(lines[0]):  # a header (or title) typed again by hand above the rows
        lines.pop(0)
    body = "\n".join(lines)
    lost = _LOST.findall(body)
    if len(lost) >= 3 and not _CYRILLIC.search(body):  # every Cyrillic letter of the rows became "?"
        return lost[0][:40]
    score, count = russian_score(text)
    if not count:
        return ""
    words = [w for w in re.split(r"[\s,;]+", text) if not w.isascii()][:2000]
    for read_as, was in _MISREADINGS:
        fixed, example = [], ""
        for word in words:
            try:  # a character the misreading lost ("И" in UTF-8 read as Windows-1251) stays lost
                repaired = word.replace("\ufffd", "?").encode(read_as).decode(was, errors="replace")
            except UnicodeError:
                repaired = word
            if repaired.count("\ufffd") > word.count("\ufffd"):
                repaired = word
            if repaired != word and not example:
                example = word
            fixed.append(repaired)
        if example:
            fixed_score, _count = russian_score(" ".join(fixed))
            if fixed_score > GOOD_RUSSIAN and fixed_score > score + MISREAD_MARGIN:
                return example[:40]
    return ""


def _delimiter(text: str) -> str:
    """The delimiter that splits the most of the first lines into the same number (more than one) of columns;
    a title line above the header does not count."""
    lines = [line for line in text.splitlines()[:HEADER_SEARCH + 20] if line.strip()]
    if not lines:
        raise FileProblem(_("The file is empty."))
    best, best_score = ",", (0, 0)
    for candidate in DELIMITERS:
        try:
            widths = [len(row) for row in csv.reader(lines, delimiter=candidate)]
        except csv.Error:
            continue
        wide = Counter(w for w in widths if w > 1)
        if not wide:
            continue
        width, lines_of_width = max(wide.items(), key=lambda item: (item[1], item[0]))
        if (lines_of_width, width) > best_score:
            best, best_score = candidate, (lines_of_width, width)
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
    encoding = _encoding(sample)
    text = sample.decode(encoding, errors="ignore")
    return TableFormat("csv", encoding, _delimiter(text), garbled=garbled(text))


def _open_workbook(path: Path):
    from python_calamine import CalamineWorkbook

    try:
        workbook = CalamineWorkbook.from_path(str(path))
        if not _worksheets(workbook):
            raise FileProblem(_("The workbook has no sheets."))
        return workbook
    except FileProblem:
        raise
    except Exception as exc:  # calamine raises its own error types for every kind of damage
        log.warning("workbook %s cannot be read: %s", path.name, exc)
        raise FileProblem(_("The workbook cannot be read: it is damaged or not really an Excel file. Open it in "
                            "Excel, save it again as .xlsx or CSV UTF-8, and upload that.")) from exc


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


def _all_rows(path: Path, fmt: TableFormat) -> Iterator[list[str]]:
    if fmt.kind == "csv":
        with path.open("r", encoding=fmt.encoding, errors="strict", newline="") as handle:
            reader = csv.reader(handle, delimiter=fmt.delimiter)
            try:
                for row in reader:
                    yield [cell.strip() for cell in row]
            except UnicodeDecodeError as exc:
                raise FileProblem(_("Line %(line)d is not %(encoding)s text; the file mixes encodings. Save it "
                                    "again as CSV UTF-8.") % {"line": reader.line_num + 1,
                                                              "encoding": ENCODINGS.get(fmt.encoding,
                                                                                        fmt.encoding)}) from exc
            except csv.Error as exc:
                raise FileProblem(_("Line %(line)d is not valid CSV: %(why)s")
                                  % {"line": reader.line_num, "why": exc}) from exc
        return
    workbook = _open_workbook(path)
    if not fmt.sheet:
        sheet = workbook.get_sheet_by_index(0)
    elif fmt.sheet in workbook.sheet_names:
        sheet = workbook.get_sheet_by_name(fmt.sheet)
    else:
        raise FileProblem(_("The workbook has no sheet «%(sheet)s»; its sheets: %(sheets)s.")
                          % {"sheet": fmt.sheet, "sheets": _names(_worksheets(workbook))}, field="sheet")
    for row in sheet.iter_rows():
        yield [_cell(v) for v in row]


def _worksheets(workbook) -> list[Sheet]:
    """The sheets that hold cells, in the workbook's order: a chart sheet has none to import."""
    from python_calamine import SheetTypeEnum, SheetVisibleEnum

    return [Sheet(meta.name, hidden=meta.visible != SheetVisibleEnum.Visible) for meta in workbook.sheets_metadata
            if meta.typ == SheetTypeEnum.WorkSheet]


def _names(found: list[Sheet]) -> str:
    return ", ".join(f"«{sheet.name}»" for sheet in found)


def sheets(path: Path, fmt: TableFormat) -> list[Sheet]:
    """A workbook's worksheets in the order of its tabs, hidden ones included; [] for a CSV file."""
    return [] if fmt.kind == "csv" else _worksheets(_open_workbook(path))


def sheet_named(found: list[Sheet], asked: str) -> str:
    """The name of the sheet `asked` names, as the workbook spells it: Excel tells sheet names apart without
    their case, so «клиенты» is the sheet «Клиенты». FileProblem on `sheet`, listing the sheets, for any other
    name, and for a CSV file, which has no sheets."""
    if not found:
        raise FileProblem(_("A CSV file has no sheets: leave the sheet out."), field="sheet")
    if not asked.strip():
        raise FileProblem(_("Choose one of the workbook's sheets: %(sheets)s.") % {"sheets": _names(found)},
                          field="sheet")
    wanted = asked.strip().casefold()
    for sheet in found:
        if sheet.name == asked or sheet.name.strip().casefold() == wanted:
            return sheet.name
    raise FileProblem(_("The workbook has no sheet «%(sheet)s»; its sheets: %(sheets)s.")
                      % {"sheet": asked, "sheets": _names(found)}, field="sheet")


def rows(path: Path, fmt: TableFormat) -> Iterator[list[str]]:
    """Every row as stripped strings, one for each row of the file (so their count from 1 is the file's own
    row number); the rows above the chosen header come out empty, so the header is the first non-empty row."""
    for number, row in enumerate(_all_rows(path, fmt), start=1):
        yield [] if number < fmt.header_row else row


def leading_rows(path: Path, fmt: TableFormat, limit: int = HEADER_SEARCH) -> list[tuple[int, list[str]]]:
    """(row number, cells) of the non-empty rows among the first `limit` rows, whatever the chosen header:
    where the header is looked for."""
    found = []
    for number, row in enumerate(_all_rows(path, replace(fmt, header_row=0)), start=1):
        if number > limit:
            break
        if any(row):
            found.append((number, row))
    return found


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
