"""Where a push spends its time: `Engine.sync` in-process (no HTTP), on new cards like the ones
bench/sync.py pushes, in batches of 1,000. Prints cards/s (wall clock, and per CPU second, steadier on a busy machine), then with
--profile the top of cProfile, or with --parts the CPU each part of a push takes per card.
Asserts nothing.

    .venv/bin/python bench/push_profile.py                  # 5,000 cards, cards/s only
    .venv/bin/python bench/push_profile.py --profile 25     # and the 25 costliest functions
    .venv/bin/python bench/push_profile.py --parts          # µs of CPU per card, part by part
"""

from __future__ import annotations

import argparse
import cProfile
import gc
import io
import json
import pstats
import random
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.sync import ID_KINDS, fake_card  # noqa: E402
from sync.cards.pinyin import with_phrases  # noqa: E402
from sync.access import User  # noqa: E402
from sync.protocol.engine import Engine  # noqa: E402
from sync.protocol.hlc import Clock  # noqa: E402
from sync.protocol.model import parse_sync_request  # noqa: E402
from sync.db import Store  # noqa: E402


def batches(cards: list[dict], clock: Clock, new_id: Callable[[], str]) -> list[bytes]:
    """The request bodies as the wire carries them, so the profile can include decoding."""
    out = []
    for start in range(0, len(cards), 1000):
        mutations = [
            {"id": new_id(), "op": "card.put", "card": new_id(), "at": clock.now(), "fields": fields}
            for fields in cards[start : start + 1000]
        ]
        out.append(json.dumps({"device": "bench-pusher", "mutations": mutations, "limit": 1}, ensure_ascii=False).encode())
    return out


def push(engine: Engine, user: User, bodies: list[bytes]) -> None:
    from server.api.body import parse_json_bytes  # the server's own decoding and checks

    for body in bodies:
        response = engine.sync(user, parse_sync_request(parse_json_bytes(body, "", "the request body")))
        assert all(r["status"] == "applied" for r in response.results), response.results[:1]


class Parts:
    """CPU of this thread spent in each part of a push, by wrapping the parts where the engine
    calls them: every function of `sync.db`, and validation, the envelope, search text, the
    webhook outbox, the journal, the result and decoding. Closer to the real cost than cProfile,
    whose overhead falls hardest on small Python functions; a part called inside another is
    counted in the outer one only. The cyclic garbage collector's pauses are counted apart: they
    fall on whichever part happens to allocate when one is due."""

    def __init__(self) -> None:
        self.spent: dict[str, float] = {}
        self.calls: dict[str, int] = {}
        self._inside = False
        self.gc = 0.0
        self._gc_started = 0.0

    def _collecting(self, phase: str, _info: dict) -> None:
        if phase == "start":
            self._gc_started = time.thread_time()
        else:
            self.gc += time.thread_time() - self._gc_started

    def wrap(self, owner: object, name: str, label: str) -> None:
        original = getattr(owner, name)

        def timed(*args, **kwargs):  # type: ignore[no-untyped-def]
            if self._inside:
                return original(*args, **kwargs)
            self._inside = True
            started, gc_before = time.thread_time(), self.gc
            try:
                return original(*args, **kwargs)
            finally:
                spent = time.thread_time() - started - (self.gc - gc_before)
                self.spent[label] = self.spent.get(label, 0.0) + spent
                self.calls[label] = self.calls.get(label, 0) + 1
                self._inside = False

        setattr(owner, name, timed)

    def install(self) -> None:
        import server.api.body
        import sync.db
        import sync.protocol.batch as batch
        from sync import events, journal

        for name in dir(sync.db):
            value = getattr(sync.db, name)
            if name[0].islower() and callable(value) and not isinstance(value, type):
                self.wrap(sync.db, name, f"db.{name}")
        for name in ("validate_card_fields", "parse_mutation", "search_text"):
            self.wrap(batch, name, name)
        self.wrap(batch.Batch, "_result", "Batch._result")
        self.wrap(events, "emit", "events.emit")
        self.wrap(journal, "record", "journal.record")
        self.wrap(server.api.body, "parse_json_bytes", "parse_json_bytes")
        self.wrap(sys.modules[__name__], "parse_sync_request", "parse_sync_request")
        gc.callbacks.append(self._collecting)

    def report(self, cards: int, cpu: float) -> str:
        lines = [f"{'part':36s} {'us/card':>8s} {'calls':>7s}"]
        for label, spent in sorted(self.spent.items(), key=lambda item: -item[1]):
            if spent * 1e6 / cards >= 0.1:
                lines.append(f"{label:36s} {spent * 1e6 / cards:8.1f} {self.calls[label]:7d}")
        lines.append(f"{'cyclic garbage collector':36s} {self.gc * 1e6 / cards:8.1f}")
        listed = sum(self.spent.values()) + self.gc
        lines.append(f"{'(the rest of the engine)':36s} {(cpu - listed) * 1e6 / cards:8.1f}")
        lines.append(f"{'total':36s} {cpu * 1e6 / cards:8.1f}")
        return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cards", type=int, default=5000)
    parser.add_argument("--profile", type=int, default=0, metavar="N", help="print the N costliest functions")
    parser.add_argument("--parts", action="store_true", help="print the CPU per card of each part of a push")
    parser.add_argument("--ids", choices=sorted(ID_KINDS), default="ordered", help="as in bench/sync.py")
    args = parser.parse_args()
    parts = Parts() if args.parts else None
    if parts:
        parts.install()
    rng = random.Random(args.cards)
    bodies = batches([fake_card(rng) for _ in range(args.cards)], Clock("bench"), ID_KINDS[args.ids])
    with tempfile.TemporaryDirectory() as tmp:
        st = Store(Path(tmp) / "fieldcards.db", autocheckpoint=True)  # as `fieldcards serve --no-backup`
        engine, user = Engine(st), User("office", "office")
        with_phrases()  # as `fieldcards serve` does at start: not a cost of the first push
        profiler = cProfile.Profile() if args.profile else None
        started, cpu, thread_cpu = time.perf_counter(), time.process_time(), time.thread_time()
        if profiler:
            profiler.enable()
        push(engine, user, bodies)
        if profiler:
            profiler.disable()
        seconds, cpu, thread_cpu = time.perf_counter() - started, time.process_time() - cpu, time.thread_time() - thread_cpu
        st.close()
    print(
        json.dumps(
            {
                "cards": args.cards,
                "in_process_push_cards_per_s": round(args.cards / seconds),
                "seconds": round(seconds, 2),
                "cpu_seconds": round(cpu, 2),
                "cards_per_cpu_s": round(args.cards / cpu),
                "profiled": bool(profiler or parts),
            }
        )
    )
    if parts:
        print(parts.report(args.cards, thread_cpu))
    if profiler:
        text = io.StringIO()
        pstats.Stats(profiler, stream=text).sort_stats("tottime").print_stats(args.profile)
        print(text.getvalue())
        text = io.StringIO()
        pstats.Stats(profiler, stream=text).sort_stats("cumulative").print_stats(args.profile)
        print(text.getvalue())


if __name__ == "__main__":
    main()
