"""One user must not slow down another (issue 11): a rep's one-change sync and a sign-in-sized
request, timed while office staff run heavy work. Prints figures; asserts nothing.

    .venv/bin/python bench/stall.py                 # 20,000 cards, 6 XLSX exports at once
    .venv/bin/python bench/stall.py --cards 5000    # quick

Phases: quiet (nothing else running), during 6 concurrent XLSX exports of every card (they queue
in the heavy lane: 2 at a time), and during a 5,000-row import (which holds SQLite's one writer
while it commits: all or nothing). For each, a rep syncs one edit every 50 ms: p50, p99 and max.
"""

from __future__ import annotations

import argparse
import platform
import random
import sys
import tempfile
import threading
import time
import uuid
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.sync import fake_card, percentile, push  # noqa: E402
from server.process import start_server, stop_server  # noqa: E402
from sync.protocol.hlc import Clock  # noqa: E402
from sync.db import Store  # noqa: E402
from sync.people.users import add_user, create_token  # noqa: E402


def rep_syncs(url: str, token: str, card: str, until: threading.Event) -> list[float]:
    """One edit per sync every 50 ms until `until` is set; returns latencies in ms."""
    clock, latencies = Clock("rep-phone"), []
    with httpx.Client(base_url=url, headers={"authorization": f"Bearer {token}"}, timeout=300) as client:
        n = 0
        while not until.is_set():
            n += 1
            body = {
                "device": "rep-phone",
                "mutations": [
                    {"id": str(uuid.uuid4()), "op": "card.put", "card": card, "at": clock.now(), "fields": {"title": f"t{n}"}}
                ],
            }
            started = time.perf_counter()
            assert client.post("/api/v1/sync", json=body).status_code == 200
            latencies.append((time.perf_counter() - started) * 1000)
            time.sleep(0.05)
    return latencies


def phase(name: str, url: str, token: str, card: str, work) -> None:  # type: ignore[no-untyped-def]
    done = threading.Event()
    found: list[float] = []
    watcher = threading.Thread(target=lambda: found.extend(rep_syncs(url, token, card, done)))
    watcher.start()
    started = time.perf_counter()
    work()
    seconds = time.perf_counter() - started
    done.set()
    watcher.join()
    print(
        f"{name:<34} {seconds:6.1f} s   rep sync p50 {percentile(found, 0.5):7.1f} ms   "
        f"p99 {percentile(found, 0.99):7.1f} ms   max {max(found):7.1f} ms   ({len(found)} syncs)"
    )


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--cards", type=int, default=20_000)
    parser.add_argument("--exports", type=int, default=6)
    args = parser.parse_args()
    print(f"# stall: {platform.node()} {platform.machine()}, Python {platform.python_version()}, {args.cards:,} cards")
    with tempfile.TemporaryDirectory() as tmp:
        data = Path(tmp) / "data"
        data.mkdir()
        st = Store(data / "fieldcards.db")
        add_user(st, "office", "office")
        add_user(st, "rep1", "rep")
        office_token, rep_token = create_token(st, "office"), create_token(st, "rep1")
        st.close()
        proc, url = start_server(data, "--no-backup")
        try:
            rng = random.Random(7)
            with httpx.Client(base_url=url, headers={"authorization": f"Bearer {office_token}"}, timeout=600) as office:
                push(office, Clock("seed"), [fake_card(rng) for _ in range(args.cards)])
            with httpx.Client(base_url=url, headers={"authorization": f"Bearer {rep_token}"}, timeout=60) as rep:
                card = str(uuid.uuid4())
                rep.post(
                    "/api/v1/sync",
                    json={
                        "device": "rep-phone",
                        "mutations": [
                            {
                                "id": str(uuid.uuid4()),
                                "op": "card.put",
                                "card": card,
                                "at": Clock("x").now(),
                                "fields": {"name": "Rep's customer"},
                            }
                        ],
                    },
                )

            phase("quiet", url, rep_token, card, lambda: time.sleep(3))

            def exports() -> None:
                def one() -> None:
                    with httpx.Client(base_url=url, headers={"authorization": f"Bearer {office_token}"}, timeout=900) as c:
                        status = c.get("/api/v1/export", params={"format": "xlsx"}).status_code
                        assert status in (200, 429), status

                threads = [threading.Thread(target=one) for _ in range(args.exports)]
                for t in threads:
                    t.start()
                for t in threads:
                    t.join()

            phase(f"{args.exports} XLSX exports at once", url, rep_token, card, exports)

            def an_import() -> None:
                rows = "\n".join(f"导入客户{i},导入公司{i},1380000{i:04d}" for i in range(5000))
                with httpx.Client(base_url=url, headers={"authorization": f"Bearer {office_token}"}, timeout=900) as c:
                    r = c.post(
                        "/api/v1/imports",
                        files={"file": ("big.csv", f"姓名,公司,电话\n{rows}\n".encode(), "text/csv")},
                        data={"mode": "create"},
                    )
                    assert r.status_code == 200, r.text

            phase("a 5,000-row import", url, rep_token, card, an_import)
        finally:
            stop_server(proc)


if __name__ == "__main__":
    main()
