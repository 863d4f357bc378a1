"""Spreadsheets in and out: CSV (UTF-8, UTF-8 with BOM, GB18030 as Chinese Excel saves it) and
XLSX (openpyxl). Reading gives a header row and text rows; every problem is an InvalidInput a
person can act on, and a file over a size limit is refused while it is read, before it costs
memory. Writing guards against formula injection (text cells in XLSX, an apostrophe in CSV that
reading takes off again), so that what we write reads back exactly as it was.
"""

from __future__ import annotations

import csv
import io
import lzma
import re
import zipfile
import zlib
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sync.errors import invalid

MAX_ROWS = 100_000
MAX_COLUMNS = 200
MAX_CELLS = 3_000_000  # filled cells: 100,000 rows of 30 columns, what memory allows while an import is planned
MAX_SHEET_ROWS = 2 * MAX_ROWS + 1  # how far down a sheet may reach, blank rows included
MAX_UNPACKED = 256 * 1024 * 1024  # what an .xlsx (a zip of XML) may unpack to: our export of 100,000 cards is 112 MiB
FORMULA_START = re.compile(r"^[=@\t\r]|^[+-](?![\d\s().]*$)")  # +86 138… is a phone, +SUM(…) is not
XLSX_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"  # its media type
CREATOR = "Fieldcards"  # the author our .xlsx files carry: their cells are read exactly as typed
# What a damaged or unusual zip raises while it is read (a truncated part, a lying size, a method
# or encryption zipfile does not know): each is a file to refuse, never a 500.
_BROKEN_ZIP = (zipfile.BadZipFile, OSError, ValueError, EOFError, zlib.error, lzma.LZMAError, NotImplementedError, RuntimeError)


@dataclass
class Table:
    headers: list[str]
    rows: list[list[str]]  # each as long as headers
    # (row number in the sheet, column number) of cells holding formulas: reported, never imported
    formulas: list[tuple[int, int, str]]


def kind_of(filename: str) -> str:
    lower = filename.lower()
    if lower.endswith(".csv"):
        return "csv"
    if lower.endswith(".xlsx"):
        return "xlsx"
    raise invalid("file", "use a .csv or .xlsx file (in Excel: Save As → CSV UTF-8 or Excel Workbook)")


def read_table(filename: str, raw: bytes) -> Table:
    """The first sheet's rows as text. Sizes are checked while reading, so a file over a limit is
    refused as soon as it passes it, without reading the rest into memory."""
    if not raw.strip():
        raise invalid("file", "the file is empty")
    rows: list[list[str]] = []
    if kind_of(filename) == "xlsx":
        formulas, unguard = _read_xlsx(raw, rows)
    else:
        formulas, unguard = [], _unguard_csv
        _read_csv(raw, rows)
    if not rows:
        raise invalid("file", "the file has no rows")
    width = max(len(row) for row in rows)
    columns = [_Column() for _ in range(width)]
    padded = [
        [column.one(unguard(cell.strip())) for column, cell in zip(columns, row)] + [""] * (width - len(row)) for row in rows
    ]
    return Table(headers=padded[0], rows=padded[1:], formulas=formulas)


class _Column:
    """One string object for each value a column repeats (a region, a segment, a company, a tag
    list): a 50,000-row sheet held 350,000 cell strings, ~27 MB, while it was planned. A column
    whose values hardly repeat (names, phones) stops being looked at after REPEATS_UP_TO values."""

    REPEATS_UP_TO = 2000

    def __init__(self) -> None:
        self.seen: dict[str, str] | None = {}

    def one(self, text: str) -> str:
        seen = self.seen
        if seen is None:
            return text
        same = seen.setdefault(text, text)
        if len(seen) > self.REPEATS_UP_TO:
            self.seen = None
        return same


def _keep(rows: list[list[str]], cells: list[str], counted: list[int]) -> None:
    """Add a row unless it is blank, its empty cells at the end left off; refuse the file the
    moment it has too many rows, columns or cells. `counted` holds the cells kept so far."""
    while cells and not cells[-1].strip():
        cells.pop()
    if not cells:
        return
    if len(cells) > MAX_COLUMNS:
        raise invalid(
            "file",
            f"the file has {len(cells)} columns, more than the {MAX_COLUMNS} a file may have; "
            "this does not look like a customer list",
        )
    if len(rows) > MAX_ROWS:  # the header and MAX_ROWS rows are in already
        raise invalid("file", f"the file has more than {MAX_ROWS:,} rows; import at most {MAX_ROWS:,} at a time")
    counted[0] += len(cells)
    if counted[0] > MAX_CELLS:
        raise invalid("file", f"the file has more than {MAX_CELLS:,} filled cells; import at most {MAX_CELLS:,} at a time")
    rows.append(cells)


def _read_csv(raw: bytes, rows: list[list[str]]) -> None:
    if b"\x00" in raw[:4096]:
        raise invalid("file", "this is not a text CSV file (it holds binary data)")
    for encoding in ("utf-8-sig", "gb18030"):
        try:
            text = raw.decode(encoding)
            break
        except UnicodeDecodeError:
            continue
    else:
        raise invalid("file", "the file is neither UTF-8 nor GB18030 text; save it as CSV UTF-8")
    counted = [0]
    try:
        for row in csv.reader(io.StringIO(text), delimiter=_delimiter(text)):
            _keep(rows, row, counted)
    except csv.Error as error:
        raise invalid("file", f"the CSV cannot be read: {error}") from None


def _delimiter(text: str) -> str:
    """The one of , ; and tab that the header row uses most (Excel writes ; where the decimal mark is
    a comma), else csv.Sniffer's guess from the data. Only the delimiter is guessed: every
    spreadsheet quotes with ", while the sniffer takes the formula guard's apostrophes for quotes
    and a tab in a note for the delimiter."""
    header = re.sub(r'"[^"]*"', "", text[:8192].split("\n", 1)[0])
    counts = {d: header.count(d) for d in ",;\t"}
    best = max(counts, key=lambda d: counts[d])
    if counts[best]:
        return best
    try:
        return csv.Sniffer().sniff(text[:8192], delimiters=",;\t").delimiter
    except csv.Error:
        return ","


def _read_xlsx(raw: bytes, rows: list[list[str]]) -> tuple[list[tuple[int, int, str]], Callable[[str], str]]:
    """Streams the first sheet with openpyxl's read-only reader, after `_scan_xlsx` has bounded
    what the parse can cost. Formulas are kept apart to be reported (data_only would hide them)."""
    from xml.etree.ElementTree import ParseError

    from openpyxl import load_workbook

    merged = _scan_xlsx(raw)
    formulas: list[tuple[int, int, str]] = []
    try:
        book = load_workbook(io.BytesIO(raw), read_only=True, data_only=False)
    except (*_BROKEN_ZIP, KeyError, TypeError, ParseError) as error:  # openpyxl's words for bad XML
        raise invalid("file", f"this is not a valid Excel .xlsx file ({str(error)[:80]})") from None
    try:
        if not book.worksheets:
            raise invalid("file", "the workbook has no sheet")
        sheet = book.worksheets[0]
        ranges = merged.get(getattr(sheet, "_worksheet_path", ""), [])
        if ranges:
            raise invalid("file", f"the sheet has merged cells ({', '.join(ranges[:3])}); unmerge them so every row stands alone")
        # The size a sheet declares may be anything (A1:XFD1048576 for two cells): openpyxl would
        # pad every row to it. Read what is there instead.
        sheet.reset_dimensions()
        counted = [0]
        for number, row in enumerate(sheet.iter_rows(), start=1):
            if number > MAX_SHEET_ROWS:
                raise invalid(
                    "file", f"the sheet goes on past row {MAX_SHEET_ROWS:,}; import at most {MAX_ROWS:,} rows at a time"
                )
            cells = []
            for column, cell in enumerate(row, start=1):
                if cell.data_type == "f":
                    formulas.append((number, column, str(cell.value)[:60]))
                    cells.append("")
                else:
                    cells.append(_cell_text(cell.value))
            _keep(rows, cells, counted)
        ours = book.properties is not None and book.properties.creator == CREATOR
    except (*_BROKEN_ZIP, KeyError, TypeError, ParseError) as error:  # openpyxl's words for bad XML
        raise invalid("file", f"this is not a valid Excel .xlsx file ({str(error)[:80]})") from None
    finally:
        book.close()
    return formulas, (_as_typed if ours else _unguard)


# Tags counted in an .xlsx's XML before it is parsed: an upper bound on its cells (`<c …>`, and
# `<col>`, `<cfRule>`… too), rows and shared texts, with or without a namespace prefix (`<x:c>`).
_CELL_TAGS, _ROW_TAGS, _TEXT_TAGS = (b"<c", b":c"), (b"<row", b":row"), (b"<si", b":si")
_MERGED = re.compile(rb"<(?:[\w.-]+:)?mergeCell\b[^>]*?\bref=[\"']([^\"']{1,40})")


def _scan_xlsx(raw: bytes) -> dict[str, list[str]]:
    """Refuse a workbook too big to parse before openpyxl parses any of it (it reads every sheet
    once just to find its size): a zip bomb by what its directory says the parts unpack to (zipfile
    never unpacks more than that), then rows and cells by counting tags in the unpacked XML, which
    is fast. A file of 4.5 million empty cells is refused here in a fraction of a second. Returns
    the merged ranges found in each part."""
    try:
        archive = zipfile.ZipFile(io.BytesIO(raw))
    except _BROKEN_ZIP as error:
        raise invalid("file", f"this is not a valid Excel .xlsx file ({str(error)[:80]})") from None
    parts = archive.infolist()
    unpacked = sum(part.file_size for part in parts)
    if unpacked > MAX_UNPACKED:
        raise invalid(
            "file",
            f"the workbook unpacks to {unpacked // 2**20:,} MiB, more than the "
            f"{MAX_UNPACKED // 2**20} MiB a file may have; import at most {MAX_ROWS:,} rows at a time",
        )
    cells = rows = texts = 0
    merged: dict[str, list[str]] = {}
    try:
        for part in parts:  # every part: openpyxl parses a sheet whatever its name
            with archive.open(part) as stream:
                tail = b""
                while chunk := stream.read(1 << 20):
                    # A tag cut by the chunk boundary is counted once: count over the end of the
                    # last chunk and the new one, less what that end held on its own.
                    joined = tail + chunk
                    cells += sum(joined.count(t) - tail.count(t) for t in _CELL_TAGS)
                    rows += sum(joined.count(t) - tail.count(t) for t in _ROW_TAGS)
                    texts += sum(joined.count(t) - tail.count(t) for t in _TEXT_TAGS)
                    for ref in _MERGED.findall(joined) if b"mergeCell" in joined else ():
                        found = merged.setdefault(part.filename, [])
                        if ref.decode("ascii", "replace") not in found:
                            found.append(ref.decode("ascii", "replace"))
                    if cells > MAX_CELLS or texts > MAX_CELLS:
                        raise invalid(
                            "file", f"the workbook holds more than {MAX_CELLS:,} cells; import at most {MAX_CELLS:,} at a time"
                        )
                    if rows > MAX_SHEET_ROWS:
                        raise invalid(
                            "file",
                            f"the workbook has more than {MAX_SHEET_ROWS:,} rows, blank ones "
                            f"included; import at most {MAX_ROWS:,} rows at a time",
                        )
                    tail = joined[-200:]  # longer than any tag counted or merged range
    except _BROKEN_ZIP as error:
        raise invalid("file", f"this is not a valid Excel .xlsx file ({str(error)[:80]})") from None
    return merged


def _cell_text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, datetime):
        return value.date().isoformat()
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, float) and value.is_integer():
        return str(int(value))  # 13812345678.0 as Excel stores a phone typed as a number
    return str(value)


# The formula guard. In CSV a cell that Excel would run as a formula (starting with = + - @, a tab
# or a carriage return) is written with an apostrophe in front, and so is a cell that starts with an
# apostrophe of its own; reading takes exactly one apostrophe off such a cell, so `=1+1`, `'=1+1`
# and `'hello` all come back as they were. Our .xlsx files need no guard: every cell is a text cell.
def _guard_csv(cell: str) -> str:
    return "'" + cell if cell.startswith("'") or FORMULA_START.match(cell) else cell


def _unguard_csv(cell: str) -> str:
    rest = cell[1:]
    return rest if cell.startswith("'") and (rest.startswith("'") or FORMULA_START.match(rest)) else cell


def _unguard(cell: str) -> str:
    """An .xlsx from anyone else, or our own from before: an apostrophe before a formula goes."""
    return cell[1:] if cell.startswith("'") and FORMULA_START.match(cell[1:]) else cell


def _as_typed(cell: str) -> str:
    return cell


# --- several values in one cell ------------------------------------------------------------------

LIST_SEPARATORS = ";,；，、|\n\r"
_SEPARATOR = re.compile(r"[;,；，、|\n\r]")


def join_list(items: Iterable[str]) -> str:
    """Phones, emails, tags or choices in one cell, `a; b`, as `split_list` reads them back. A value
    holding a separator (any of `; , ； ， 、 |` or a line break), starting with a double quote or
    with spaces at either end is put in double quotes, its own double quotes doubled, as in CSV:
    the tags `a; b` and `c` give `"a; b"; c`."""

    def quoted(item: str) -> str:
        if item.startswith('"') or item != item.strip() or any(c in LIST_SEPARATORS for c in item):
            return '"' + item.replace('"', '""') + '"'
        return item

    return "; ".join(quoted(item) for item in items)


def split_list(text: str) -> list[str]:
    """The values of a cell written by a person (`vip、重点`, `a, b`, one per line) or by
    `join_list`. A value in double quotes is taken whole; any other is cut at every separator and
    its spaces trimmed. A quote that does not close, or is followed by more text, is plain text."""
    if '"' not in text:  # what nearly every cell holds: no quoting to undo
        return [part.strip() for part in _SEPARATOR.split(text) if part.strip()]
    items: list[str] = []
    i, n = 0, len(text)
    while i < n:
        if text[i] in LIST_SEPARATORS or text[i].isspace():
            i += 1
            continue
        if text[i] == '"':
            end = _closing_quote(text, i + 1)
            after = end + 1 if end is not None else n
            while after < n and text[after].isspace() and text[after] not in LIST_SEPARATORS:
                after += 1
            if end is not None and (after == n or text[after] in LIST_SEPARATORS):
                items.append(text[i + 1 : end].replace('""', '"'))
                i = after
                continue
        found = _SEPARATOR.search(text, i)
        j = found.start() if found else n
        items.append(text[i:j].strip())
        i = j
    return [item for item in items if item]


def _closing_quote(text: str, start: int) -> int | None:
    i = start
    while (i := text.find('"', i)) != -1:
        if text[i + 1 : i + 2] != '"':
            return i
        i += 2
    return None


# --- writing -----------------------------------------------------------------------------------

# Characters no spreadsheet can hold: C0 controls other than tab, line feed and carriage return
# (openpyxl.cell.cell.ILLEGAL_CHARACTERS_RE refuses them, XML 1.0 has no way to write them), and
# lone surrogates, which are not Unicode and cannot be written as UTF-8. Stored data may hold them
# (the validator came to refuse them later), and an export never fails on stored data: each is
# written as U+FFFD, the replacement character, in CSV and XLSX alike.
UNWRITABLE = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff]")


def _writable(cell: object) -> str:
    return UNWRITABLE.sub("\ufffd", str(cell))


def write_csv(headers: Sequence[str], rows: Iterable[Sequence[str]]) -> bytes:
    """UTF-8 with a BOM, so that Excel opens Chinese text correctly."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow([_writable(cell) for cell in headers])
    for row in rows:
        writer.writerow([_guard_csv(_writable(cell)) for cell in row])
    return b"\xef\xbb\xbf" + out.getvalue().encode("utf-8")


def write_xlsx(headers: Sequence[str], rows: Iterable[Sequence[str]], title: str = "Cards") -> bytes:
    """Every cell a text cell holding the value as it is: `=1+1` is stored as text, not a formula,
    and marked with Excel's quote prefix, so that editing the cell in Excel keeps it text."""
    from openpyxl import Workbook
    from openpyxl.cell import WriteOnlyCell

    book = Workbook(write_only=True)
    book.properties.creator = CREATOR
    sheet = book.create_sheet(title)

    def text_cell(value: object) -> Any:
        text = _writable(value)
        if not FORMULA_START.match(text) and not text.startswith("#"):
            return text  # openpyxl writes it as a text cell: quicker than a cell of our own
        cell = WriteOnlyCell(sheet, value=text)
        cell.data_type = "s"  # openpyxl takes `=…` for a formula and `#N/A` for an error value
        cell.quotePrefix = FORMULA_START.match(text) is not None
        return cell

    sheet.append([text_cell(cell) for cell in headers])
    for row in rows:
        sheet.append([text_cell(cell) for cell in row])
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()
