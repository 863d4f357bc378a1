"""Where a push spends its time: `Engine.sync` in-process (no HTTP), on new cards like the ones
bench/sync.py pushes, in batches of 1,000. Prints cards/s (wall clock, and per CPU second, steadier on a busy machine), then with
--profile the top of cProfile. Asserts nothing.

    .venv/bin/python bench/push_profile.py                  # 5,000 cards, cards/s only
    .venv/bin/python bench/push_profile.py --profile 25     # and the 25 costliest functions
"""
from __future__ import annotations

import argparse
import cProfile
import io
import json
import pstats
import random
import sys
import tempfile
import time
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.sync import fake_card  # noqa: E402
from sync.access import User  # noqa: E402
from sync.protocol.engine import Engine  # noqa: E402
from sync.protocol.hlc import Clock  # noqa: E402
from sync.protocol.model import parse_sync_request  # noqa: E402
from sync.db import Store  # noqa: E402


def batches(cards: list[dict], clock: Clock) -> list[bytes]:
    """The request bodies as the wire carries them, so the profile can include decoding."""
    out = []
    for start in range(0, len(cards), 1000):
        mutations = [{"id": str(uuid.uuid4()), "op": "card.put", "card": str(uuid.uuid4()), "at": clock.now(),
                      "fields": fields} for fields in cards[start:start + 1000]]
        out.append(json.dumps({"device": "bench-pusher", "mutations": mutations, "limit": 1},
                              ensure_ascii=False).encode())
    return out


def push(engine: Engine, user: User, bodies: list[bytes]) -> None:
    from server.api.body import parse_json_bytes  # the server's own decoding and checks
    for body in bodies:
        response = engine.sync(user, parse_sync_request(parse_json_bytes(body, "", "the request body")))
        assert all(r["status"] == "applied" for r in response.results), response.results[:1]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cards", type=int, default=5000)
    parser.add_argument("--profile", type=int, default=0, metavar="N", help="print the N costliest functions")
    args = parser.parse_args()
    rng = random.Random(args.cards)
    bodies = batches([fake_card(rng) for _ in range(args.cards)], Clock("bench"))
    with tempfile.TemporaryDirectory() as tmp:
        st = Store(Path(tmp) / "fieldcards.db", autocheckpoint=True)  # as `fieldcards serve --no-backup`
        engine, user = Engine(st), User("office", "office")
        profiler = cProfile.Profile() if args.profile else None
        started, cpu = time.perf_counter(), time.process_time()
        if profiler:
            profiler.enable()
        push(engine, user, bodies)
        if profiler:
            profiler.disable()
        seconds, cpu = time.perf_counter() - started, time.process_time() - cpu
        st.close()
    print(json.dumps({"cards": args.cards, "in_process_push_cards_per_s": round(args.cards / seconds),
                      "seconds": round(seconds, 2), "cpu_seconds": round(cpu, 2),
                      "cards_per_cpu_s": round(args.cards / cpu), "profiled": bool(profiler)}))
    if profiler:
        text = io.StringIO()
        pstats.Stats(profiler, stream=text).sort_stats("tottime").print_stats(args.profile)
        print(text.getvalue())
        text = io.StringIO()
        pstats.Stats(profiler, stream=text).sort_stats("cumulative").print_stats(args.profile)
        print(text.getvalue())


if __name__ == "__main__":
    main()
