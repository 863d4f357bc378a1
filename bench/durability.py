"""What `synchronous=FULL` costs against NORMAL (issue 12), on this machine's disk. Prints figures;
asserts nothing.

    .venv/bin/python bench/durability.py

Three figures per mode, each on a real SQLite file in WAL mode under the data directory's disk:
single-row commits per second (the worst case: a phone pushing one change per sync), commits of a
1,000-card batch (the sync path's usual shape: one transaction per batch), and the time per commit.
"""

from __future__ import annotations

import json
import platform
import sqlite3
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
CARD = json.dumps(
    {"name": "王伟", "company": "上海贸易有限公司", "phones": ["+8613812345678"], "notes": "x" * 400}, ensure_ascii=False
)


def measure(mode: str, folder: Path) -> dict[str, float]:
    conn = sqlite3.connect(str(folder / f"{mode}.db"), isolation_level=None)
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute(f"PRAGMA synchronous={mode}")
    conn.execute("CREATE TABLE cards(id INTEGER PRIMARY KEY, data TEXT)")
    singles = 1000
    start = time.perf_counter()
    for _ in range(singles):
        conn.execute("BEGIN IMMEDIATE")
        conn.execute("INSERT INTO cards(data) VALUES (?)", (CARD,))
        conn.execute("COMMIT")
    single_s = time.perf_counter() - start
    batches = 20
    start = time.perf_counter()
    for _ in range(batches):
        conn.execute("BEGIN IMMEDIATE")
        conn.executemany("INSERT INTO cards(data) VALUES (?)", [(CARD,)] * 1000)
        conn.execute("COMMIT")
    batch_s = time.perf_counter() - start
    conn.close()
    return {
        "commits_per_s": singles / single_s,
        "ms_per_commit": single_s / singles * 1000,
        "cards_per_s_in_batches_of_1000": batches * 1000 / batch_s,
    }


def main() -> None:
    print(
        f"# durability: {platform.node()} {platform.machine()}, Python {platform.python_version()}, "
        f"SQLite {sqlite3.sqlite_version}"
    )
    with tempfile.TemporaryDirectory(dir=ROOT) as tmp:
        for mode in ("NORMAL", "FULL"):
            found = measure(mode, Path(tmp))
            print(
                f"synchronous={mode:<6}  {found['commits_per_s']:>8,.0f} single-row commits/s  "
                f"{found['ms_per_commit']:.3f} ms/commit  "
                f"{found['cards_per_s_in_batches_of_1000']:>9,.0f} cards/s in batches of 1,000"
            )


if __name__ == "__main__":
    main()
