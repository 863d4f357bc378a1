"""Spreadsheets in and out, in process over a Store in tmp_path (issue 11): a workbook too big to
read is refused before it costs memory, an export never fails on what is stored, and export then
import gives back every card exactly, in CSV and XLSX, with English and Chinese headers."""

from __future__ import annotations

import io
import subprocess
import sys
import textwrap
import uuid
import zipfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from openpyxl import load_workbook
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE

from sync.office import exporter, importer
from sync import db
from sync.cards import template
from sync.access import User
from sync.protocol.engine import Engine
from sync.errors import InvalidInput
from sync.office.spreadsheet import (
    MAX_CELLS,
    MAX_COLUMNS,
    MAX_SHEET_ROWS,
    MAX_UNPACKED,
    UNWRITABLE,
    join_list,
    read_table,
    split_list,
    write_csv,
    write_xlsx,
)
from sync.db import Store
from sync.people.users import add_user
from sync.cards.validate import CARD_FIELDS

ROOT = Path(__file__).resolve().parent.parent

# --- a workbook too big to read ------------------------------------------------------------------

_PARTS = {
    "[Content_Types].xml": '<?xml version="1.0"?><Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
    '<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
    '<Default Extension="xml" ContentType="application/xml"/>'
    '<Override PartName="/xl/workbook.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/>'
    '<Override PartName="/xl/worksheets/sheet1.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/>'
    "</Types>",
    "_rels/.rels": '<?xml version="1.0"?><Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
    '<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument" '
    'Target="xl/workbook.xml"/></Relationships>',
    "xl/workbook.xml": '<?xml version="1.0"?><workbook xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" '
    'xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships">'
    '<sheets><sheet name="Sheet1" sheetId="1" r:id="rId1"/></sheets></workbook>',
    "xl/_rels/workbook.xml.rels": '<?xml version="1.0"?><Relationships '
    'xmlns="http://schemas.openxmlformats.org/package/2006/relationships"><Relationship Id="rId1" '
    'Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/worksheet" Target="worksheets/sheet1.xml"/>'
    "</Relationships>",
}
SHEET_OPEN = b'<?xml version="1.0"?><worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">'


def workbook(sheet: bytes, *, row: bytes = b"", rows: int = 0) -> bytes:
    """A minimal .xlsx whose one sheet holds `sheet` (XML inside <worksheet>), or sheetData of
    `row` `rows` times, written by hand as a hostile tool would, so that it can say anything."""
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, text in _PARTS.items():
            archive.writestr(name, text)
        with archive.open("xl/worksheets/sheet1.xml", "w") as part:
            part.write(SHEET_OPEN + sheet + (b"<sheetData>" if rows else b""))
            for _ in range(rows):
                part.write(row)
            part.write((b"</sheetData>" if rows else b"") + b"</worksheet>")
    return out.getvalue()


def text_cell(ref: str, text: str) -> bytes:
    return f'<c r="{ref}" t="inlineStr"><is><t>{text}</t></is></c>'.encode()


def refusal(name: str, data: bytes) -> str:
    with pytest.raises(InvalidInput) as refused:
        read_table(name, data)
    return refused.value.fields[0].message


# 4.5 million cells in 22,500 rows of 200: the shape of the file that took a server to 1.6 GB.
FILLED_ROW = b"<row>" + b"<c><v>1</v></c>" * 200 + b"</row>"


@pytest.mark.parametrize(
    "row",
    [
        FILLED_ROW,
        b"<row>" + b"<c/>" * 200 + b"</row>",
        b"<x:row>" + b'<x:c t="inlineStr"><x:is><x:t>x</x:t></x:is></x:c>' * 200 + b"</x:row>",  # a namespace prefix
    ],
    ids=["numbers", "empty", "prefixed"],
)
def test_a_workbook_of_millions_of_cells_is_refused_naming_the_limit(row: bytes):
    data = workbook(b"", row=row, rows=22_500)
    assert len(data) < 1024 * 1024  # small on the wire: only the cells count
    assert f"more than {MAX_CELLS:,} cells" in refusal("big.xlsx", data)


def test_refusing_millions_of_cells_keeps_memory_flat():
    """Measured in a process of its own: the peak RSS may not grow while the file is refused."""
    script = textwrap.dedent("""
        import resource, sys
        from tests.test_spreadsheet import FILLED_ROW, workbook
        from sync.errors import InvalidInput
        from sync.office.spreadsheet import read_table
        data = workbook(b"", row=FILLED_ROW, rows=22_500)
        before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        try:
            read_table("big.xlsx", data)
        except InvalidInput:
            pass
        else:
            sys.exit("not refused")
        print((resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before) // 1024)
    """)
    done = subprocess.run([sys.executable, "-c", script], cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    assert int(done.stdout) < 50, f"peak RSS grew by {done.stdout.strip()} MB"  # it grew by 1.5 GB before


def test_a_sheet_declaring_a_huge_size_is_read_as_what_it_holds():
    sheet = (
        b'<dimension ref="A1:XFD1048576"/><sheetData><row r="1">'
        + text_cell("A1", "name")
        + b'</row><row r="2">'
        + text_cell("A2", "王伟")
        + b"</row></sheetData>"
    )
    table = read_table("a.xlsx", workbook(sheet))
    assert (table.headers, table.rows) == (["name"], [["王伟"]])


def test_cells_far_apart_are_refused_naming_the_limit():
    far_down = (
        b'<sheetData><row r="1">'
        + text_cell("A1", "name")
        + b'</row><row r="1048576">'
        + text_cell("A1048576", "x")
        + b"</row></sheetData>"
    )
    assert f"past row {MAX_SHEET_ROWS:,}" in refusal("a.xlsx", workbook(far_down))
    far_right = (
        b'<sheetData><row r="1">'
        + text_cell("A1", "name")
        + b'</row><row r="2">'
        + text_cell("XFD2", "x")
        + b"</row></sheetData>"
    )
    assert f"more than the {MAX_COLUMNS} a file may have" in refusal("a.xlsx", workbook(far_right))
    # The same row over and over is parsed each time but yields nothing to count while reading.
    repeated = b"<sheetData>" + (b'<row r="1">' + text_cell("A1", "n") + b"</row>") * (MAX_SHEET_ROWS + 1) + b"</sheetData>"
    assert f"more than {MAX_SHEET_ROWS:,} rows" in refusal("a.xlsx", workbook(repeated))


def test_a_zip_bomb_is_refused_by_what_it_unpacks_to():
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED, compresslevel=1) as archive:
        for name, text in _PARTS.items():
            archive.writestr(name, text)
        with archive.open("xl/worksheets/sheet1.xml", "w", force_zip64=True) as sheet:
            sheet.write(SHEET_OPEN)
            spaces = b" " * (4 << 20)
            for _ in range(MAX_UNPACKED // len(spaces) + 1):
                sheet.write(spaces)
            sheet.write(b"</worksheet>")
    assert len(out.getvalue()) < 5 * 1024 * 1024  # it fits in an upload
    assert f"more than the {MAX_UNPACKED // 2**20} MiB" in refusal("bomb.xlsx", out.getvalue())


def test_a_csv_over_the_limits_is_refused_while_it_is_read():
    wide = ("name," + ",".join(["x"] * MAX_COLUMNS) + "\n").encode()
    assert f"more than the {MAX_COLUMNS} a file may have" in refusal("a.csv", wide)
    assert "more than 100,000 rows" in refusal("a.csv", b"name\n" + b"a\n" * 100_001)
    assert read_table("a.csv", b"name\n" + b"a\n" * 100_000).rows[-1] == ["a"]


def test_merged_cells_are_found_in_the_first_sheet_only():
    merged = (
        b'<sheetData><row r="1">' + text_cell("A1", "name") + b"</row></sheetData>"
        b'<mergeCells count="1"><mergeCell ref="A2:B2"/></mergeCells>'
    )
    assert "merged cells (A2:B2)" in refusal("a.xlsx", workbook(merged))


# --- what no spreadsheet can hold ----------------------------------------------------------------


def test_the_unwritable_characters_are_those_openpyxl_refuses_and_lone_surrogates():
    for code in range(0x10000):
        char = chr(code)
        expected = bool(ILLEGAL_CHARACTERS_RE.match(char)) or 0xD800 <= code <= 0xDFFF
        assert bool(UNWRITABLE.match(char)) == expected, hex(code)
    for write, name in ((write_csv, "a.csv"), (write_xlsx, "a.xlsx")):
        table = read_table(name, write(["name"], [["a\ud800b\x00c"]]))
        assert table.rows == [["a\ufffdb\ufffdc"]]


@pytest.fixture
def book(tmp_path: Path) -> Iterator[tuple[Store, Engine, User]]:
    st = Store(tmp_path / "fieldcards.db")
    engine = Engine(st)
    yield st, engine, setup_people(st)
    st.close()


CUSTOM_FIELDS = [
    {"key": "wechat", "label": {"en": "WeChat", "zh-CN": "微信号"}, "type": "text"},
    {"key": "budget", "label": {"en": "Budget", "zh-CN": "预算"}, "type": "number"},
    {"key": "since", "label": {"en": "Customer since", "zh-CN": "合作日期"}, "type": "date"},
    {"key": "source", "label": {"en": "Source", "zh-CN": "来源"}, "type": "choice", "choices": ["展会; 上海", "=web", "朋友"]},
    {
        "key": "likes",
        "label": {"en": "Likes", "zh-CN": "兴趣"},
        "type": "choices",
        "choices": ["tea, green", "golf", "'quoted'", "a|b", '"big" deals'],
    },
]


def setup_people(st: Store) -> User:
    """The same people and card template in every database: returns the office user."""
    admin = add_user(st, "admin", "admin")
    add_user(st, "rep1", "rep")
    template.save(st, admin, {"custom_fields": CUSTOM_FIELDS})
    return add_user(st, "office", "office")


def create(engine: Engine, user: User, **fields: Any) -> str:
    card = str(uuid.uuid4())
    [result] = engine.apply(
        user,
        "test-device",
        [{"id": str(uuid.uuid4()), "op": "card.put", "card": card, "at": engine.clock.now(), "fields": fields}],
    )
    assert result["status"] == "applied", result
    return card


def test_an_export_never_fails_on_control_characters_already_stored(book):
    st, engine, office = book
    card = create(engine, office, name="placeholder", tags=["t"])
    # Stored before the validator refused them (or by a device that did not check): written
    # straight into the store, past validation.
    with st.write() as conn:
        row = db.card_row(conn, card)
        row.card.update(
            name="A\x00B", company="\x1b[31mred", notes="line\x0bbreak\x01", tags=["t\x1b"], custom={"wechat": "\x00id"}
        )
        db.save_card(conn, row, "")
    for fmt in ("xlsx", "csv"):
        data, _, _, count = exporter.export(st, office, {"format": fmt})
        assert count == 1
        table = read_table(f"x.{fmt}", data)
        cells = dict(zip(table.headers, table.rows[0]))
        assert (cells["name"], cells["company"], cells["notes"]) == ("A\ufffdB", "\ufffd[31mred", "line\ufffdbreak\ufffd")
        assert (cells["tags"], cells["custom.wechat"]) == ("t\ufffd", "\ufffdid")
    sheet = load_workbook(io.BytesIO(exporter.export(st, office, {"format": "xlsx"})[0])).worksheets[0]
    assert sheet["B2"].value == "A\ufffdB"


# --- export then import changes nothing ------------------------------------------------------------

CARDS: list[dict[str, Any]] = [
    {
        "name": "'Quote",
        "company": "=SUM(A1:A9)",
        "title": "+经理",
        "tags": ["a; b", "c,d", "e、f", "g|h", "普通"],
        "phones": ["13812345678", "+86 139 0000 1111"],
        "emails": ["wang@example.cn"],
        "notes": "第一行\n第二行：=不是公式",
        "segment": "A",
        "owner": "rep1",
        "birthday": "1980-05-06",
        "follow_up": "2026-12-01",
        "custom": {
            "wechat": "wx_wang",
            "budget": 12000,
            "since": "2019-03-01",
            "source": "展会; 上海",
            "likes": ["tea, green", "'quoted'", "a|b", '"big" deals'],
        },
    },
    {
        "name": '=HYPERLINK("http://x")',
        "company": "-减号公司",
        "tags": ["'apostrophe", "=eq", '"quoted"', "+plus"],
        "emails": ["o'brien@example.cn", "li@example.cn"],
        "address": "@上海市浦东新区",
        "region": "上海",
        "industry": "-制造",
        "notes": "'=1+1\n\n三行",
        "custom": {"wechat": "'=x", "budget": 2.5, "source": "=web", "likes": ["golf"]},
    },
    {
        "name": "+上海贸易",
        "phones": ["+8613700001111"],
        "tags": ["-minus", "@at", "''two"],
        "segment": "C",
        "custom": {"wechat": "@wx", "source": "朋友"},
    },
    {"name": "-负号", "title": "''", "notes": "-1 是负数", "emails": ["chen@example.cn"]},
    {"name": "@提及", "company": "'", "industry": "#N/A", "phones": ["02161234567"]},
    {"name": "王伟", "company": "上海贸易有限公司", "phones": ["13611112222"], "tags": ["vip"]},
]


def cards_of(st: Store) -> dict[str, dict[str, Any]]:
    with st.read() as conn:
        return {c["name"]: c for c in db.live_cards(conn, None)}


def import_file(engine: Engine, user: User, name: str, data: bytes) -> dict[str, Any]:
    plan = importer.plan_import(engine, user, read_table(name, data), mapping=None, match=["phone", "email"], mode="upsert")
    assert plan.errors == [], plan.errors
    return importer.run_import(engine, user, plan, filename=name, mode="upsert", match=["phone", "email"])


@pytest.mark.parametrize("fmt,lang", [("csv", "en"), ("xlsx", "en"), ("csv", "zh-CN"), ("xlsx", "zh-CN")])
def test_export_then_import_into_a_fresh_database_gives_every_card_back(book, tmp_path: Path, fmt: str, lang: str):
    st, engine, office = book
    for card in CARDS:
        create(engine, office, **card)
    before = cards_of(st)
    assert len(before) == len(CARDS)
    data, _, _, _ = exporter.export(st, office, {"format": fmt, "lang": lang})

    fresh = Store(tmp_path / "fresh.db")
    try:
        fresh_engine = Engine(fresh)
        done = import_file(fresh_engine, setup_people(fresh), f"export.{fmt}", data)
        assert (done["create"], done["update"], done["errors"]) == (len(CARDS), 0, [])
        after = cards_of(fresh)
    finally:
        fresh.close()
    assert set(after) == set(before)
    for name, card in before.items():
        assert {f: after[name][f] for f in CARD_FIELDS} == {f: card[f] for f in CARD_FIELDS}, name

    # Into the same database, matched by card id: nothing to do.
    again = import_file(engine, office, f"export.{fmt}", data)
    assert (again["create"], again["update"]) == (0, 0)
    assert cards_of(st) == before


def test_xlsx_cells_are_text_and_carry_no_guard_apostrophe(book):
    st, engine, office = book
    for card in CARDS:
        create(engine, office, **card)
    sheet = load_workbook(io.BytesIO(exporter.export(st, office, {"format": "xlsx"})[0])).worksheets[0]
    headers = [c.value for c in sheet[1]]
    rows = {row[headers.index("name")].value: row for row in sheet.iter_rows(min_row=2)}
    assert set(rows) == {c["name"] for c in CARDS}  # "'Quote" as stored: no apostrophe added or lost
    company = rows["'Quote"][headers.index("company")]
    assert (company.value, company.data_type, company.quotePrefix) == ("=SUM(A1:A9)", "s", True)
    assert all(cell.data_type not in ("f", "e") for row in sheet.iter_rows() for cell in row)  # no formula, no #N/A
    # An apostrophe starts only the cells whose value starts with one: none was added as a guard.
    starting = [c.value for row in sheet.iter_rows() for c in row if isinstance(c.value, str) and c.value.startswith("'")]
    stored = [
        join_list(v) if isinstance(v, list) else str(v)
        for card in cards_of(st).values()
        for v in [*(card.get(c) for c in exporter.COLUMNS), *card["custom"].values()]
        if v not in (None, [], "")
    ]
    assert sorted(starting) == sorted(text for text in stored if text.startswith("'"))
    assert len(starting) == 6


def test_csv_guards_formulas_and_apostrophes_and_reads_them_back():
    values = ["=1+1", "'=1+1", "'hello", "''", "'", "+SUM(A1)", "-x", "@x", "\tx", "+8613812345678", "-5", "plain"]
    text = write_csv(["n", "v"], [[str(n), v] for n, v in enumerate(values)]).decode("utf-8-sig")
    lines = [line.split(",", 1)[1] for line in text.split("\r\n")[1:-1]]
    assert lines[:4] == ["'=1+1", "''=1+1", "''hello", "'''"] and lines[-3:] == ["+8613812345678", "-5", "plain"]
    assert [row[1] for row in read_table("a.csv", text.encode()).rows] == values


def test_list_cells_keep_values_holding_separators_and_read_what_people_type():
    values = ["a; b", "c,d", "普通、文", "line\nbreak", '"q" uote', 'say "hi"', '"a,b"@x.cn', "x|y", "plain"]
    assert split_list(join_list(values)) == values
    assert join_list(["a; b", "c"]) == '"a; b"; c'
    assert split_list("vip、重点") == ["vip", "重点"]
    assert split_list("a, b ;c\nd|e；f，g") == list("abcdefg")
    assert split_list('"vip", "重点"') == ["vip", "重点"]
    assert split_list('"big" client; x') == ['"big" client', "x"]  # a quote followed by more text is text
    assert split_list('"open; x') == ['"open', "x"]


def test_our_xlsx_from_before_still_loses_its_guard_apostrophes():
    """Exports made before the guard moved out of XLSX cells held `'=x` for `=x`: no mark of ours."""
    from openpyxl import Workbook

    old = Workbook()
    old.active.append(["name", "company"])
    old.active.append(["王伟", "'+上海"])
    out = io.BytesIO()
    old.save(out)
    assert read_table("old.xlsx", out.getvalue()).rows == [["王伟", "+上海"]]


def test_formula_cells_in_an_uploaded_sheet_are_still_reported():
    from openpyxl import Workbook

    sheet_book = Workbook()
    sheet_book.active.append(["name", "notes"])
    sheet_book.active.append(["王伟", "=1+1"])
    out = io.BytesIO()
    sheet_book.save(out)
    table = read_table("a.xlsx", out.getvalue())
    assert table.formulas == [(2, 2, "=1+1")] and table.rows == [["王伟", ""]]
