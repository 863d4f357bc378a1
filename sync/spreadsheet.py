"""Spreadsheets in and out: CSV (UTF-8, UTF-8 with BOM, GB18030 as Chinese Excel saves it) and
XLSX (openpyxl). Reading gives a header row and text rows; every problem is an InvalidInput a
person can act on. Writing guards against formula injection: a cell that would start a formula
in Excel gets a leading apostrophe, which reading takes off again.
"""
from __future__ import annotations

import csv
import io
import re
import zipfile
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from .errors import invalid

MAX_ROWS = 100_000
MAX_COLUMNS = 200
FORMULA_START = re.compile(r"^[=@\t\r]|^[+-](?![\d\s().]*$)")  # +86 138… is a phone, +SUM(…) is not


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
    if not raw.strip():
        raise invalid("file", "the file is empty")
    rows, formulas = _read_xlsx(raw) if kind_of(filename) == "xlsx" else (_read_csv(raw), [])
    rows = [row for row in rows if any(cell.strip() for cell in row)]
    if not rows:
        raise invalid("file", "the file has no rows")
    if len(rows) - 1 > MAX_ROWS:
        raise invalid("file", f"the file has {len(rows) - 1:,} rows; import at most {MAX_ROWS:,} at a time")
    width = max(len(row) for row in rows)
    if width > MAX_COLUMNS:
        raise invalid("file", f"the file has {width} columns; this does not look like a customer list")
    padded = [[_unguard(cell.strip()) for cell in row] + [""] * (width - len(row)) for row in rows]
    return Table(headers=padded[0], rows=padded[1:], formulas=formulas)


def _read_csv(raw: bytes) -> list[list[str]]:
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
    try:
        dialect = csv.Sniffer().sniff(text[:8192], delimiters=",;\t")
    except csv.Error:
        dialect = csv.excel
    try:
        return list(csv.reader(io.StringIO(text), dialect))
    except csv.Error as error:
        raise invalid("file", f"the CSV cannot be read: {error}") from None


def _read_xlsx(raw: bytes) -> tuple[list[list[str]], list[tuple[int, int, str]]]:
    from openpyxl import load_workbook

    try:
        book = load_workbook(io.BytesIO(raw), data_only=False)
    except (zipfile.BadZipFile, KeyError, OSError, ValueError) as error:
        raise invalid("file", f"this is not a valid Excel .xlsx file ({str(error)[:80]})") from None
    sheet = book.worksheets[0]
    if sheet.merged_cells.ranges:
        merged = ", ".join(str(r) for r in list(sheet.merged_cells.ranges)[:3])
        raise invalid("file", f"the sheet has merged cells ({merged}); unmerge them so every row stands alone")
    rows: list[list[str]] = []
    formulas: list[tuple[int, int, str]] = []
    for number, row in enumerate(sheet.iter_rows(), start=1):
        cells = []
        for column, cell in enumerate(row, start=1):
            if cell.data_type == "f":
                formulas.append((number, column, str(cell.value)[:60]))
                cells.append("")
            else:
                cells.append(_cell_text(cell.value))
        rows.append(cells)
    return rows, formulas


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


def _unguard(cell: str) -> str:
    return cell[1:] if cell.startswith("'") and FORMULA_START.match(cell[1:]) else cell


def _guard(cell: str) -> str:
    return "'" + cell if FORMULA_START.match(cell) else cell


# --- writing -----------------------------------------------------------------------------------

def write_csv(headers: Sequence[str], rows: Iterable[Sequence[str]]) -> bytes:
    """UTF-8 with a BOM, so that Excel opens Chinese text correctly."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(headers)
    for row in rows:
        writer.writerow([_guard(cell) for cell in row])
    return b"\xef\xbb\xbf" + out.getvalue().encode("utf-8")


def write_xlsx(headers: Sequence[str], rows: Iterable[Sequence[str]], title: str = "Cards") -> bytes:
    from openpyxl import Workbook

    book = Workbook(write_only=True)
    sheet = book.create_sheet(title)
    sheet.append(list(headers))
    for row in rows:
        sheet.append([_guard(cell) for cell in row])  # text cells: a value is never run as a formula
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()
