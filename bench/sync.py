"""Sync throughput and latency against a real server on 127.0.0.1. Prints figures; asserts nothing.

    .venv/bin/python bench/sync.py                 # 5,000 and 100,000 cards (a few minutes)
    .venv/bin/python bench/sync.py --sizes 5000    # quick
    .venv/bin/python bench/sync.py --sizes 5000 --push-only

For each book size: initial push in batches of 1,000 (cards/s), a fresh device's full pull
(cards/s, seconds), no-op sync p50/p99 over 500 calls, then 32 concurrent devices doing no-op and
small-edit syncs for 10 s (requests/s, p50/p99), and the server's RSS.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import random
import statistics
import sys
import tempfile
import threading
import time
import uuid
from collections.abc import Callable
from pathlib import Path

import httpx
import orjson

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from sync.protocol.hlc import Clock  # noqa: E402
from sync.db import Store  # noqa: E402
from sync.people.users import add_user, create_token  # noqa: E402
from server.process import start_server, stop_server  # noqa: E402
from sync.ids import time_ordered_uuid  # noqa: E402
from bench.measure import PeakRSS, cpu_seconds, rss_mb  # noqa: E402

ID_KINDS: dict[str, Callable[[], str]] = {"ordered": time_ordered_uuid, "random": lambda: str(uuid.uuid4())}

SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗"
GIVEN = "伟芳娜秀英敏静丽强磊军洋勇艳杰娟涛明超秀兰霞平刚"
LATIN = ["James Smith", "Maria Garcia", "Akira Tanaka", "Anna Müller", "Olivia Brown", "Lucas Martin"]
COMPANIES = ["上海贸易有限公司", "北京科技股份", "深圳电子", "Acme Trading", "Globex Ltd", "杭州茶业"]
TAGS = ["vip", "新客户", "老客户", "lead", "distributor", "华东", "华南", "expo-2026"]
MOBILE_PREFIXES = (
    [f"13{d}" for d in range(10)] + ["150", "151", "152", "155", "157", "158", "159"] + [f"18{d}" for d in range(10)]
)
NOTE = "客户对新产品很感兴趣，下次拜访带样品。Interested in the new range; bring samples next visit. "


def fake_card(rng: random.Random) -> dict:
    if rng.random() < 0.6:
        name = rng.choice(SURNAMES) + "".join(rng.choice(GIVEN) for _ in range(rng.randint(1, 2)))
    else:
        name = rng.choice(LATIN)
    phones = [f"+86{rng.choice(MOBILE_PREFIXES)}{rng.randint(0, 99999999):08d}"]
    if rng.random() < 0.2:
        phones.append(f"+1650{rng.randint(2000000, 9999999)}")
    fields = {
        "name": name,
        "company": rng.choice(COMPANIES),
        "title": rng.choice(["经理", "Buyer", "总监", None]),
        "phones": phones,
        "emails": [f"user{rng.randint(0, 10**9)}@example.com"],
        "address": "上海市浦东新区世纪大道100号",
        "region": rng.choice(["华东", "华南", "华北"]),
        "industry": rng.choice(["零售", "制造", "Retail"]),
        "segment": rng.choice("ABC"),
        "tags": rng.sample(TAGS, rng.randint(0, 3)),
        "follow_up": f"2026-12-{rng.randint(1, 28):02d}",
        "notes": NOTE * rng.randint(1, 3),
    }
    return fields


def percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(len(ordered) * p))]


def push(client: httpx.Client, clock: Clock, cards: list[dict], new_id: Callable[[], str]) -> tuple[float, list[str]]:
    """The clock times the server: the bodies are encoded before it starts, as a phone's outbox
    already holds its mutations, in UTF-8 as the app's `JSON.stringify` sends them (httpx's
    `json=` escapes every Chinese character and took ~6 ms of client time per batch), and the
    answers are read with orjson (the standard parser took ~8 ms more)."""
    ids, bodies = [], []
    for start in range(0, len(cards), 1000):
        mutations = []
        for fields in cards[start : start + 1000]:
            card_id = new_id()
            ids.append(card_id)
            mutations.append({"id": new_id(), "op": "card.put", "card": card_id, "at": clock.now(), "fields": fields})
        bodies.append(orjson.dumps({"device": "bench-pusher", "mutations": mutations, "limit": 1}))
    headers = {"content-type": "application/json"}
    started = time.perf_counter()
    for body in bodies:
        r = client.post("/api/v1/sync", content=body, headers=headers)
        r.raise_for_status()
        assert all(x["status"] == "applied" for x in orjson.loads(r.content)["results"])
    return time.perf_counter() - started, ids


def full_pull(client: httpx.Client, device: str) -> tuple[float, int, str, float]:
    """A fresh device's pull of everything, pages of 5,000, each answer read with orjson; also
    how long the bare `orjson.loads` of the same bytes takes (issue 14: the pull should cost at
    most twice what the client's own decoding does)."""
    cursor, count, pages = None, 0, []
    started = time.perf_counter()
    while True:
        answer = client.post("/api/v1/sync", json={"device": device, "cursor": cursor, "limit": 5000})
        body = orjson.loads(answer.content)
        pages.append(answer.content)
        count += sum(1 for c in body["changes"] if c["type"] == "card")
        cursor = body["cursor"]
        if not body["more"]:
            break
    took = time.perf_counter() - started
    decoding = time.perf_counter()
    for page in pages:
        orjson.loads(page)
    return took, count, cursor, time.perf_counter() - decoding


def concurrent(
    url: str, tokens: list[str], card_ids: list[str], seconds: float, interval: float | None
) -> tuple[int, list[float]]:
    """32 devices alternate no-op and small-edit syncs. With `interval`, each device syncs once per
    interval (a paced, open load); without, as fast as answers come (closed loop, max throughput).
    Every device first pulls the whole book; the clock starts when all have."""
    latencies: list[float] = []
    lock = threading.Lock()
    stop_at: list[float] = []
    ready = threading.Barrier(33, action=lambda: stop_at.append(time.time() + seconds))

    def device(n: int) -> None:
        clock = Clock(f"load-{n}")
        with httpx.Client(base_url=url, headers={"authorization": f"Bearer {tokens[n % len(tokens)]}"}, timeout=60) as c:
            _, _, cursor, _ = full_pull(c, f"load-{n}")
            ready.wait()
            mine: list[float] = []
            i = 0
            next_at = time.perf_counter() + (interval or 0) * n / 32
            while time.time() < stop_at[0]:
                if interval:
                    time.sleep(max(0.0, next_at - time.perf_counter()))
                    next_at += interval
                mutations = []
                if i % 2:
                    card = card_ids[(n * 7919 + i) % len(card_ids)]
                    mutations = [
                        {
                            "id": str(uuid.uuid4()),
                            "op": "card.put",
                            "card": card,
                            "at": clock.now(),
                            "fields": {"follow_up": f"2027-01-{1 + i % 28:02d}"},
                        }
                    ]
                t0 = time.perf_counter()
                r = c.post("/api/v1/sync", json={"device": f"load-{n}", "cursor": cursor, "mutations": mutations})
                mine.append(time.perf_counter() - t0)
                cursor = r.json()["cursor"]
                i += 1
            with lock:
                latencies.extend(mine)

    threads = [threading.Thread(target=device, args=(n,)) for n in range(32)]
    for t in threads:
        t.start()
    ready.wait()
    for t in threads:
        t.join()
    return len(latencies), latencies


def run(size: int, tmp: Path, *, push_only: bool = False, ids_kind: str = "ordered") -> dict:
    data = tmp / f"data-{size}"
    proc, url = start_server(data, "--no-backup")
    try:
        st = Store(data / "fieldcards.db")
        add_user(st, "office", "office")
        token = create_token(st, "office")
        st.close()
        rng = random.Random(size)
        cards = [fake_card(rng) for _ in range(size)]
        avg_bytes = statistics.mean(len(json.dumps(c, ensure_ascii=False).encode()) for c in cards[:500])
        headers = {"authorization": f"Bearer {token}"}
        with httpx.Client(base_url=url, headers=headers, timeout=600) as client:
            cpu_before = cpu_seconds(proc.pid)
            push_s, ids = push(client, Clock("bench"), cards, ID_KINDS[ids_kind])
            push_cpu_s = cpu_seconds(proc.pid) - cpu_before
            rss_after_push = round(rss_mb(proc.pid))
            pushed = {
                "push_ids": ids_kind,
                "push_cards_per_s": round(size / push_s),
                "push_cards_per_server_cpu_s": round(size / push_cpu_s) if push_cpu_s else None,
            }
            if push_only:
                return {"cards": size, "card_json_bytes": round(avg_bytes), **pushed, "rss_mb_after_push": rss_after_push}
            pull_s, pulled, cursor, bare_s = full_pull(client, "bench-fresh")
            noop = []
            for _ in range(500):
                t0 = time.perf_counter()
                client.post("/api/v1/sync", json={"device": "bench-fresh", "cursor": cursor}).raise_for_status()
                noop.append(time.perf_counter() - t0)
        rss_after_pull = rss_mb(proc.pid)
        with PeakRSS(proc.pid) as under_load:  # each load starts with 32 concurrent full pulls
            paced_requests, paced = concurrent(url, [token], ids, 10.0, interval=0.1)
            requests, latencies = concurrent(url, [token], ids, 10.0, interval=None)
        return {
            "cards": size,
            "card_json_bytes": round(avg_bytes),
            **pushed,
            "pull_cards_per_s": round(pulled / pull_s),
            "pull_seconds": round(pull_s, 2),
            "pull_bare_orjson_loads_s": round(bare_s, 2),
            "pull_vs_orjson": round(pull_s / bare_s, 1),
            "pulled": pulled,
            "noop_p50_ms": round(percentile(noop, 0.5) * 1000, 1),
            "noop_p99_ms": round(percentile(noop, 0.99) * 1000, 1),
            "paced_32_requests_per_s": round(paced_requests / 10.0),
            "paced_32_p50_ms": round(percentile(paced, 0.5) * 1000, 1),
            "paced_32_p99_ms": round(percentile(paced, 0.99) * 1000, 1),
            "closed_32_requests_per_s": round(requests / 10.0),
            "closed_32_p50_ms": round(percentile(latencies, 0.5) * 1000, 1),
            "closed_32_p99_ms": round(percentile(latencies, 0.99) * 1000, 1),
            "rss_mb_after_push": rss_after_push,
            "rss_mb_after_pull": round(rss_after_pull),
            "rss_mb_peak_during_load": round(under_load.peak_mb),
            "rss_mb_after_load": round(rss_mb(proc.pid)),
        }
    finally:
        stop_server(proc)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="5000,100000")
    parser.add_argument("--push-only", action="store_true", help="only the initial push (a quick check)")
    parser.add_argument(
        "--ids",
        choices=sorted(ID_KINDS),
        default="ordered",
        help="the ids of the pushed cards and mutations: time-ordered as the PWA and the reference client make them "
        "(the default), or random (UUIDv4) as other clients may",
    )
    args = parser.parse_args()
    print(f"machine: {platform.platform()}, {os.cpu_count()} cores, Python {platform.python_version()}")
    with tempfile.TemporaryDirectory() as tmp:
        for size in (int(s) for s in args.sizes.split(",")):
            figures = run(size, Path(tmp), push_only=args.push_only, ids_kind=args.ids)
            print(json.dumps(figures, ensure_ascii=False))


if __name__ == "__main__":
    main()
