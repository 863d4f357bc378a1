"""Connections with our pragmas, and the `Store`: one writer connection (serialised by a lock, one
transaction per sync batch) and one read connection per thread. The app never checkpoints:
Litestream owns the WAL (see docs/operations.md)."""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from sync.db.meta import meta_value, new_epoch, set_meta
from sync.db.migrations import migrate


PRAGMAS = (
    "PRAGMA journal_mode=WAL",
    "PRAGMA busy_timeout=5000",
    # FULL: a commit is on disk before the phone is told "saved", even across a power cut (issue 12;
    # NORMAL in WAL mode survives a crash of the process but may lose the last commits to a power
    # cut). Cost measured by bench/durability.py: about 0.35 ms per commit, once per sync batch.
    "PRAGMA synchronous=FULL",
    "PRAGMA foreign_keys=ON",
)


# The page cache of a large write transaction (an import, its undo, a replay: `Store.write(large=
# True)`; SQLite's default is 2 MiB). With random ids every write landed in random places of the
# card, key and history B-trees, and with 2 MiB the writer re-read their pages from the OS again
# and again: 16 MiB held a 50,000-row import's writer 4.6–5.2 s instead of 5.5–6.1. Since our
# clients and imports make time-ordered ids, new keys land at the end of the trees: 4 MiB and
# 16 MiB then give the same times (4.19–4.29 s and 4.24–4.80 s in-process), and 12 MiB less is
# held at the import's peak. The cache is given back when the transaction ends (docs/performance.md,
# the import's fifth to seventh passes).
LARGE_WRITE_CACHE_KIB = 4096
DEFAULT_CACHE_KIB = 2000  # SQLite's own default, for every other transaction and the readers


def connect(path: Path | str, *, autocheckpoint: bool = False) -> sqlite3.Connection:
    """Open a connection with our pragmas. `isolation_level=None`: we issue BEGIN/COMMIT ourselves.

    While Litestream replicates, it owns checkpoints (an app-side checkpoint would race it), so
    ours are off. Without Litestream (`--no-backup`) SQLite's passive autocheckpoint keeps the WAL
    from growing forever.
    """
    conn = sqlite3.connect(str(path), isolation_level=None, check_same_thread=False, timeout=5.0)
    for pragma in PRAGMAS:
        conn.execute(pragma)
    conn.execute(f"PRAGMA wal_autocheckpoint={1000 if autocheckpoint else 0}")
    return conn


class Store:
    """Owns the database file: the one writer, per-thread readers, and the epoch."""

    def __init__(self, path: Path | str, *, autocheckpoint: bool = False) -> None:
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self.autocheckpoint = autocheckpoint
        self._writer = connect(self.path, autocheckpoint=autocheckpoint)
        self._write_lock = threading.Lock()
        self._local = threading.local()
        self._readers: list[sqlite3.Connection] = []
        self._readers_lock = threading.Lock()
        self.generation = 0  # bumped by reopen() so per-thread readers reconnect after a restore
        migrate(self._writer)
        if meta_value(self._writer, "epoch") is None:
            with self.write() as tx:
                set_meta(tx, "epoch", new_epoch())
                set_meta(tx, "seq", "0")

    @contextmanager
    def write(self, *, large: bool = False) -> Iterator[sqlite3.Connection]:
        """The one writer, inside BEGIN IMMEDIATE … COMMIT. Returning means SQLite committed.
        `large`: a transaction of thousands of rows gets a larger page cache while it runs
        (`LARGE_WRITE_CACHE_KIB`), given back to the system when it ends."""
        with self._write_lock:
            conn = self._writer
            if large:
                conn.execute(f"PRAGMA cache_size=-{LARGE_WRITE_CACHE_KIB}")
            try:
                conn.execute("BEGIN IMMEDIATE")
                try:
                    yield conn
                except BaseException:
                    conn.execute("ROLLBACK")
                    raise
                conn.execute("COMMIT")
            finally:
                if large:
                    conn.execute(f"PRAGMA cache_size=-{DEFAULT_CACHE_KIB}")
                    conn.execute("PRAGMA shrink_memory")

    @contextmanager
    def read(self) -> Iterator[sqlite3.Connection]:
        """A read-only snapshot on this thread's own connection."""
        conn = getattr(self._local, "conn", None)
        if conn is None or getattr(self._local, "generation", -1) != self.generation:
            if conn is not None:
                conn.close()
                with self._readers_lock:
                    self._readers.remove(conn)
            conn = connect(self.path, autocheckpoint=self.autocheckpoint)
            self._local.conn, self._local.generation = conn, self.generation
            with self._readers_lock:
                self._readers.append(conn)
        conn.execute("BEGIN")
        try:
            yield conn
        finally:
            conn.execute("COMMIT")

    @contextmanager
    def swapped(self) -> Iterator[None]:
        """Hold the writer while the database file is replaced (a restore), then reconnect.

        Readers on other threads notice the new generation and reconnect on their next read;
        the old file stays readable to them through its open descriptor until then.
        """
        with self._write_lock:
            self._writer.close()
            self.generation += 1
            try:
                yield
            finally:
                self._writer = connect(self.path, autocheckpoint=self.autocheckpoint)
                migrate(self._writer)

    @property
    def epoch(self) -> str:
        with self.read() as conn:
            return meta_value(conn, "epoch") or ""

    def close(self) -> None:
        with self._readers_lock:
            for conn in self._readers:
                conn.close()
            self._readers.clear()
        self._writer.close()


def begin(conn: sqlite3.Connection) -> None:
    """BEGIN IMMEDIATE on a connection of our own (not the Store's writer, which does this itself)."""
    conn.execute("BEGIN IMMEDIATE")


def commit(conn: sqlite3.Connection) -> None:
    conn.execute("COMMIT")


def savepoint(conn: sqlite3.Connection, name: str) -> None:
    """Savepoints let one mutation of a batch be undone alone; `name` is one of our constants."""
    conn.execute(f"SAVEPOINT {name}")


def rollback_to(conn: sqlite3.Connection, name: str) -> None:
    conn.execute(f"ROLLBACK TO {name}")
    conn.execute(f"RELEASE {name}")


def release(conn: sqlite3.Connection, name: str) -> None:
    conn.execute(f"RELEASE {name}")


def ping(conn: sqlite3.Connection) -> None:
    """The cheapest statement: proves the connection answers (readiness)."""
    conn.execute("SELECT 1")
