"""How many reps one server carries (issue 14): a fleet of simulated phones on a realistic day,
against `fieldcards serve` with Litestream replicating to a local file replica (as `make run`).
Prints figures per fleet size and the largest size that kept sync p99 < 200 ms with no error;
asserts nothing.

    .venv/bin/python bench/fleet.py                           # 100, 200, 400, 800, 1600 reps
    .venv/bin/python bench/fleet.py --sizes 50,100 --seconds 30 --no-backup   # quick

The day, at its busiest hour (twice the day's average rate):
- every rep holds 300 cards of their own, and their app is open: it polls every 30 s (a no-op
  sync: nothing to send, nothing new), at a random phase;
- a rep makes 40 edits and logs 15 activities a day (8 working hours): in the busy hour, one
  mutation every ~4.4 minutes per rep, each synced at once, as the app does after an edit;
- 10% of the reps come back after 3 days offline during that hour with 200 queued mutations
  (150 edits, 50 activities), sent in one sync, then poll like the others.

A size passes when the app's syncs (polls and edits) have p99 < 200 ms, no request fails and no
mutation is rejected, and every returner's 200-mutation sync is answered within 5 s. Each size
runs for `--seconds` of that hour (the returners due in that slice of it arrive in it).
Devices start from the server's cursor, as phones that already hold their cards. Latency is
measured by the load generator on the same machine; its own CPU is printed too.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import platform
import random
import sys
import tempfile
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.measure import cpu_seconds, rss_mb  # noqa: E402
from sync.ids import time_ordered_uuid  # noqa: E402
from bench.sync import fake_card  # noqa: E402
from server.process import start_server, stop_server  # noqa: E402
from sync.protocol import cursor as cursors  # noqa: E402
from sync.access import User  # noqa: E402
from sync.protocol.engine import Engine  # noqa: E402
from sync.protocol.hlc import Clock  # noqa: E402
from sync.db import Store  # noqa: E402
from sync.people.users import add_user, create_token  # noqa: E402

CARDS_PER_REP = 300
POLL_S = 30.0
BUSY_HOUR_FACTOR = 2.0
MUTATIONS_PER_DAY = 40 + 15
DAY_S = 8 * 3600
RETURNER_SHARE = 0.10
RETURNER_QUEUE = 200
P99_LIMIT_MS = 200.0  # the app's own syncs: polls and an edit's sync
RETURNER_LIMIT_MS = 5000.0  # a phone back after 3 days sends 200 mutations at once: seconds, not minutes


@dataclass
class Rep:
    name: str
    token: str
    cards: list[str]
    device: str = field(default_factory=lambda: str(uuid.uuid4()))
    cursor: str | None = None
    follow_ups: dict[str, str] = field(default_factory=dict)  # card -> the value this phone last wrote
    clock: Clock = field(init=False)

    def __post_init__(self) -> None:
        self.clock = Clock(self.device)

    def edit(self) -> dict:
        card = random.choice(self.cards)
        was = self.follow_ups.get(card)
        new = f"2027-{random.randint(1, 12):02d}-{random.randint(1, 28):02d}"
        self.follow_ups[card] = new
        return {
            "id": time_ordered_uuid(),
            "op": "card.put",
            "card": card,
            "at": self.clock.now(),
            "fields": {"follow_up": new},
            "was": {"follow_up": was},
        }

    def activity(self) -> dict:
        card = random.choice(self.cards)
        return {
            "id": time_ordered_uuid(),
            "op": "activity.add",
            "card": card,
            "at": self.clock.now(),
            "activity": {
                "id": time_ordered_uuid(),
                "card": card,
                "kind": random.choice(["visit", "call"]),
                "at": "2026-12-04T09:30:00Z",
                "text": "拜访，聊了新品",
            },
        }

    def mutation(self) -> dict:
        return self.edit() if random.random() < 40 / 55 else self.activity()


def seed(data: Path, reps: list[Rep], count: int) -> None:
    """Users, tokens and 300 cards each for reps `len(reps)`..`count-1`, written in-process."""
    st = Store(data / "fieldcards.db")
    try:
        engine = Engine(st)
        clock = Clock("seed")
        for n in range(len(reps), count):
            rng = random.Random(n)
            name = f"rep{n:05d}"
            add_user(st, name, "rep")
            token = create_token(st, name)
            cards = [time_ordered_uuid() for _ in range(CARDS_PER_REP)]
            engine.apply(
                User(name, "rep"),
                "seed",
                [
                    {"id": time_ordered_uuid(), "op": "card.put", "card": c, "at": clock.now(), "fields": fake_card(rng)}
                    for c in cards
                ],
            )
            reps.append(Rep(name, token, cards))
        with st.read() as conn:
            epoch = conn.execute("SELECT value FROM meta WHERE key = 'epoch'").fetchone()[0]
            seq = int(conn.execute("SELECT value FROM meta WHERE key = 'seq'").fetchone()[0])
    finally:
        st.close()
    for rep in reps:  # phones that hold their cards already: they start at the end of the stream
        rep.cursor = cursors.encode(epoch, seq)


@dataclass
class Figures:
    committed: list[float] = field(default_factory=list)  # wall-clock times at which edits were acknowledged
    polls: list[float] = field(default_factory=list)
    edits: list[float] = field(default_factory=list)
    returns: list[float] = field(default_factory=list)
    errors: int = 0
    error_kinds: dict[str, int] = field(default_factory=dict)


async def one_sync(client: httpx.AsyncClient, rep: Rep, mutations: list[dict], out: list[float], figures: Figures) -> None:
    body = {
        "device": rep.device,
        "cursor": rep.cursor,
        "limit": 1000,
        "pending": len(mutations),
        "app": "fleet",
        "mutations": mutations,
    }
    started = time.perf_counter()
    try:
        answer = await client.post("/api/v1/sync", json=body, headers={"authorization": f"Bearer {rep.token}"})
    except httpx.HTTPError as error:
        figures.errors += 1
        figures.error_kinds[type(error).__name__] = figures.error_kinds.get(type(error).__name__, 0) + 1
        return
    out.append((time.perf_counter() - started) * 1000)
    if answer.status_code != 200:
        figures.errors += 1
        figures.error_kinds[str(answer.status_code)] = figures.error_kinds.get(str(answer.status_code), 0) + 1
        return
    data = answer.json()
    rep.cursor = data["cursor"]
    if mutations:
        figures.committed.append(time.time())
    rejected = [r for r in data["results"] if r["status"] == "rejected"]
    if rejected:
        figures.errors += len(rejected)
        figures.error_kinds["rejected"] = figures.error_kinds.get("rejected", 0) + len(rejected)


async def rep_day(client: httpx.AsyncClient, rep: Rep, seconds: float, returns_at: float | None, figures: Figures) -> None:
    start = time.perf_counter()
    mutation_every = DAY_S / (MUTATIONS_PER_DAY * BUSY_HOUR_FACTOR)
    next_poll = random.uniform(0, POLL_S)
    next_edit = random.expovariate(1 / mutation_every)
    while True:
        now = time.perf_counter() - start
        if returns_at is not None and returns_at <= min(next_poll, next_edit):
            await asyncio.sleep(max(0.0, returns_at - now))
            await one_sync(client, rep, [rep.mutation() for _ in range(RETURNER_QUEUE)], figures.returns, figures)
            returns_at = None
            continue
        due = min(next_poll, next_edit)
        if due >= seconds:
            return
        await asyncio.sleep(max(0.0, due - now))
        if next_edit <= next_poll:
            await one_sync(client, rep, [rep.mutation()], figures.edits, figures)
            next_edit += random.expovariate(1 / mutation_every)
        else:
            await one_sync(client, rep, [], figures.polls, figures)
            next_poll += POLL_S


def percentile(values: list[float], p: float) -> float:
    """The p-th percentile (0–100) of the latencies, 0 when there are none."""
    if not values:
        return 0.0
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(len(ordered) * p / 100))]


def replication_lag(replica: Path, committed: list[float]) -> dict:
    """For each acknowledged write, the time until Litestream wrote the next level-0 file of the
    replica (the write is in it, or in an earlier one): how far the backup trails the database."""
    written = sorted(p.stat().st_mtime for p in replica.rglob("*.ltx") if p.parent.name == "0")
    lags = []
    for moment in committed:
        later = next((w for w in written if w >= moment), None)  # lists are short: a linear scan is fine
        if later is not None:
            lags.append(later - moment)
    return {
        "replica_lag_p50_s": round(percentile(lags, 50), 2),
        "replica_lag_max_s": round(max(lags, default=0), 2),
        "replica_l0_files": len(written),
    }


def wait_for_replica(replica: Path, limit_s: float = 900.0) -> float:
    """The seed was written while no Litestream ran: on start it copies the whole database to the
    replica. Wait until that copy stops growing, so that the run measures a server in its steady
    state, not one busy with its first backup. Returns the seconds it took."""
    started = time.perf_counter()
    last, still = -1, 0
    while time.perf_counter() - started < limit_s and still < 3:
        time.sleep(2)
        size = sum(p.stat().st_size for p in replica.rglob("*") if p.is_file()) if replica.exists() else 0
        still = still + 1 if size == last and size > 0 else 0
        last = size
    return round(time.perf_counter() - started, 1)


def restore_drill(data: Path) -> dict:
    """How long the largest database takes to come back from the replica (`fieldcards drill`:
    Litestream restores the latest point into a scratch file and the drill checks it)."""
    import subprocess

    started = time.perf_counter()
    done = subprocess.run(
        [sys.executable, "-m", "server.cli", "--data", str(data), "drill", "--json"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=3600,
    )
    return {
        "restore_drill_s": round(time.perf_counter() - started, 1),
        "drill_exit": done.returncode,
        "db_mb": round((data / "fieldcards.db").stat().st_size / 2**20),
    }


async def run_size(url: str, reps: list[Rep], seconds: float, server_pid: int) -> tuple[dict, list[float]]:
    figures = Figures()
    # The returners due in this slice of the busy hour; at least one, so that every run carries one.
    due = max(1, round(len(reps) * RETURNER_SHARE * seconds / 3600))
    returners = set(random.sample(range(len(reps)), min(due, len(reps))))
    limits = httpx.Limits(max_connections=256, max_keepalive_connections=256)
    server_cpu, mine_cpu = cpu_seconds(server_pid), time.process_time()
    started = time.perf_counter()
    async with httpx.AsyncClient(base_url=url, timeout=60, limits=limits) as client:
        await asyncio.gather(
            *(
                rep_day(client, rep, seconds, random.uniform(0, seconds) if n in returners else None, figures)
                for n, rep in enumerate(reps)
            )
        )
    wall = time.perf_counter() - started
    every = figures.polls + figures.edits + figures.returns
    regular = figures.polls + figures.edits
    return {
        "reps": len(reps),
        "seconds": round(wall, 1),
        "syncs": len(every),
        "errors": figures.errors,
        "error_kinds": figures.error_kinds,
        "p50_ms": round(percentile(regular, 50), 1),
        "p99_ms": round(percentile(regular, 99), 1),
        "poll_p99_ms": round(percentile(figures.polls, 99), 1),
        "edit_p99_ms": round(percentile(figures.edits, 99), 1),
        "returner_syncs": len(figures.returns),
        "returner_max_ms": round(max(figures.returns, default=0), 1),
        "server_cpu_pct": round(100 * (cpu_seconds(server_pid) - server_cpu) / wall),
        "load_generator_cpu_pct": round(100 * (time.process_time() - mine_cpu) / wall),
        "server_rss_mb": round(rss_mb(server_pid)),
        "syncs_per_s": round(len(every) / wall, 1),
    }, figures.committed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", default="100,200,400,800,1600", help="fleet sizes, in order")
    parser.add_argument("--seconds", type=float, default=60.0, help="length of each run")
    parser.add_argument("--no-backup", action="store_true", help="without Litestream")
    args = parser.parse_args()
    sizes = [int(s) for s in args.sizes.split(",")]
    print(
        f"# fleet: {platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}, "
        f"{CARDS_PER_REP} cards per rep, {args.seconds:.0f} s per size, "
        f"{'no backup' if args.no_backup else 'Litestream to a file replica'}"
    )
    best = 0
    with tempfile.TemporaryDirectory() as tmp:
        data = Path(tmp) / "data"
        data.mkdir()
        reps: list[Rep] = []
        for size in sizes:
            started = time.perf_counter()
            seed(data, reps, size)
            seeded = time.perf_counter() - started
            proc, url = start_server(data, *(["--no-backup"] if args.no_backup else []))
            if not args.no_backup:
                found_wait = wait_for_replica(data / "replica")
            try:
                found, committed = asyncio.run(run_size(url, reps[:size], args.seconds, proc.pid))
                time.sleep(2)  # Litestream's last sync of the run
            finally:
                stop_server(proc)
            if not args.no_backup:
                found.update(replication_lag(data / "replica", committed))
            db_mb = (data / "fieldcards.db").stat().st_size / 2**20
            found.update(cards=size * CARDS_PER_REP, db_mb=round(db_mb), seeded_s=round(seeded, 1))
            if not args.no_backup:
                found.update(replica_caught_up_s=found_wait)
            ok = found["errors"] == 0 and found["p99_ms"] < P99_LIMIT_MS and found["returner_max_ms"] < RETURNER_LIMIT_MS
            print({**found, "ok": ok}, flush=True)
            if not ok:
                break
            best = size
        if not args.no_backup:
            print(restore_drill(data), flush=True)
    print(
        f"largest fleet with sync p99 < {P99_LIMIT_MS:.0f} ms, no error and returners within "
        f"{RETURNER_LIMIT_MS / 1000:.0f} s: {best} reps"
    )


if __name__ == "__main__":
    main()
