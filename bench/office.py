"""Spreadsheet import at scale against a real server: a 50,000-row CSV with Chinese headers,
dry run and import through the API (as the office screen does: the import uses its preview's
plan), then undo, then the same import with no preview before it. Prints figures; asserts nothing.

An import is all or nothing, so it holds the one writer while it applies; a rep's phone that
syncs meanwhile waits. A probe pushes one small edit every 20 ms during the import and the
undo: its longest wait is how long the writer was held (to within the probe's period).

    .venv/bin/python bench/office.py            # 50,000 rows
    .venv/bin/python bench/office.py --rows 20000
    .venv/bin/python bench/office.py --rows 20000 --in-process   # the writer's hold, timed exactly
"""

from __future__ import annotations

import argparse
import contextlib
import csv
import io
import json
import platform
import random
import sqlite3
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from sync.cards.pinyin import with_phrases  # noqa: E402
from sync.office import importer  # noqa: E402
from sync.access import User  # noqa: E402
from sync.protocol.engine import Engine  # noqa: E402
from sync.protocol.hlc import Clock  # noqa: E402
from sync.office.spreadsheet import read_table  # noqa: E402
from sync.db import Store  # noqa: E402
from sync.people.users import add_user, create_token  # noqa: E402
from server.process import start_server, stop_server  # noqa: E402
from bench.measure import Beside, PeakRSS  # noqa: E402

SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗"
GIVEN = "伟芳娜敏静丽强磊军洋勇艳杰娟涛明超秀霞平刚桂英"


def sheet(rows: int) -> bytes:
    rng = random.Random(3)
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(["姓名", "公司", "手机", "邮箱", "地区", "客户等级", "标签", "备注"])
    for n in range(rows):
        writer.writerow(
            [
                rng.choice(SURNAMES) + rng.choice(GIVEN) + rng.choice(GIVEN),
                f"公司{n % 997}",
                f"139{n:08d}",
                f"c{n}@example.cn",
                rng.choice(["上海", "北京", "广州"]),
                rng.choice("ABC"),
                "vip、新",
                "导入",
            ]
        )
    return out.getvalue().encode("utf-8-sig")


class Probe(Beside):
    """A rep's phone pushing one small edit every `period` s, recording how long each sync took."""

    def __init__(self, url: str, token: str, period: float = 0.02) -> None:
        self.url, self.token, self.period = url, token, period
        self.waits: list[float] = []
        super().__init__()

    def _run(self) -> None:
        clock = Clock("probe")
        with httpx.Client(base_url=self.url, headers={"authorization": f"Bearer {self.token}"}, timeout=600) as c:
            card = str(uuid.uuid4())
            while not self._stop.is_set():
                mutation = {
                    "id": str(uuid.uuid4()),
                    "op": "card.put",
                    "card": card,
                    "at": clock.now(),
                    "fields": {"name": "探针", "notes": str(len(self.waits))},
                }
                started = time.perf_counter()
                c.post("/api/v1/sync", json={"device": "probe", "mutations": [mutation], "limit": 1}).raise_for_status()
                self.waits.append(time.perf_counter() - started)
                self._stop.wait(self.period)

    def longest(self) -> float:
        return round(max(self.waits, default=0.0), 2)


class TimedStore(Store):
    """A store that remembers how long each write transaction held the writer."""

    holds: list[float]

    @contextlib.contextmanager
    def write(self, *, large: bool = False) -> Iterator[sqlite3.Connection]:
        with super().write(large=large) as conn:
            started = time.perf_counter()
            try:
                yield conn
            finally:
                self.holds = [*getattr(self, "holds", []), time.perf_counter() - started]


def in_process(rows: int) -> dict[str, object]:
    """The same import without HTTP: plan, then apply, timing the writer exactly."""
    with tempfile.TemporaryDirectory() as tmp:
        st = TimedStore(Path(tmp) / "fieldcards.db", autocheckpoint=True)
        engine, user = Engine(st), User("office", "office")
        with_phrases()  # as `fieldcards serve` does at start
        table = read_table("big.csv", sheet(rows))
        started = time.perf_counter()
        plan = importer.plan_import(engine, user, table, mapping=None, match=["phone", "email"], mode="upsert")
        planned = time.perf_counter()
        st.holds = []
        importer.run_import(engine, user, plan, filename="big.csv", mode="upsert", match=["phone", "email"])
        done = time.perf_counter()
        st.close()
    return {
        "rows": rows,
        "in_process_plan_s": round(planned - started, 2),
        "in_process_import_s": round(done - planned, 2),
        "in_process_writer_held_s": round(max(st.holds), 2),
    }


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int, default=50_000)
    parser.add_argument("--in-process", action="store_true", help="only the import without HTTP, writer timed exactly")
    args = parser.parse_args()
    if args.in_process:
        print(json.dumps(in_process(args.rows)))
        return
    tmp = Path(tempfile.mkdtemp(prefix="fieldcards-bench-office-"))
    proc, url = start_server(tmp / "data", "--no-backup")
    try:
        st = Store(tmp / "data" / "fieldcards.db")
        add_user(st, "office", "office")
        token = create_token(st, "office")
        add_user(st, "rep1", "rep")
        rep_token = create_token(st, "rep1")
        st.close()
        data = sheet(args.rows)
        figures: dict[str, object] = {"rows": args.rows, "file_mb": round(len(data) / 1048576, 1)}
        with httpx.Client(base_url=url, headers={"authorization": f"Bearer {token}"}, timeout=600) as client:
            for label, form in (("dry_run", {"dry_run": "true"}), ("import", {})):
                started = time.perf_counter()
                with Probe(url, rep_token) as probe, PeakRSS(proc.pid) as rss:
                    answer = client.post("/api/v1/imports", files={"file": ("big.csv", data)}, data={"mode": "upsert", **form})
                figures[f"{label}_s"] = round(time.perf_counter() - started, 1)
                figures[f"{label}_server_rss_mb_before_peak_after"] = [
                    round(rss.before_mb),
                    round(rss.peak_mb),
                    round(rss.now_mb()),
                ]
                figures[f"{label}_status"] = answer.status_code
                if label == "import":
                    figures["import_longest_sync_wait_s"] = probe.longest()
                if answer.status_code == 200:
                    figures[f"{label}_created"] = answer.json()["create"]
                    import_id = answer.json()["import"]
            started = time.perf_counter()
            with Probe(url, rep_token) as probe, PeakRSS(proc.pid) as rss:
                undone = client.post(f"/api/v1/imports/{import_id}/undo")
            figures["undo_s"] = round(time.perf_counter() - started, 1)
            figures["undo_server_rss_mb_before_peak_after"] = [round(rss.before_mb), round(rss.peak_mb), round(rss.now_mb())]
            figures["undo_status"] = undone.status_code
            figures["undo_longest_sync_wait_s"] = probe.longest()
            # The import above follows its preview, as on the office screen, and uses the preview's
            # plan (sync/office/previews.py). The same file once more with no preview before it is
            # planned in the request: the import as a script or another client sends it.
            started = time.perf_counter()
            with Probe(url, rep_token) as probe, PeakRSS(proc.pid) as rss:
                cold = client.post("/api/v1/imports", files={"file": ("big.csv", data)}, data={"mode": "upsert"})
            figures["import_without_preview_s"] = round(time.perf_counter() - started, 1)
            figures["import_without_preview_rss_mb_before_peak_after"] = [
                round(rss.before_mb),
                round(rss.peak_mb),
                round(rss.now_mb()),
            ]
            figures["import_without_preview_status"] = cold.status_code
            figures["import_without_preview_longest_sync_wait_s"] = probe.longest()
        print(f"machine: {platform.platform()}, 2 cores, Python {platform.python_version()}")
        print(json.dumps(figures))
    finally:
        stop_server(proc)


if __name__ == "__main__":
    main()
