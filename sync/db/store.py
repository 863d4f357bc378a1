"""Every SQL statement of Fieldcards: schema and migrations, connections, reads and writes.

One writer connection (serialised by a lock, one transaction per sync batch) and one read
connection per thread. The app never checkpoints: Litestream owns the WAL (see docs/operations.md).
Queries are named after what they return; values are always bound as parameters.
"""
from __future__ import annotations

import json
import secrets
import sqlite3
import threading
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import sqlite_utils

from sync.access import OwnerScope, User
from sync.jsontext import dumps

PRAGMAS = (
    "PRAGMA journal_mode=WAL",
    "PRAGMA busy_timeout=5000",
    # FULL: a commit is on disk before the phone is told "saved", even across a power cut (issue 12;
    # NORMAL in WAL mode survives a crash of the process but may lose the last commits to a power
    # cut). Cost measured by bench/durability.py: about 0.35 ms per commit, once per sync batch.
    "PRAGMA synchronous=FULL",
    "PRAGMA foreign_keys=ON",
)


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


# --- schema -------------------------------------------------------------------------------


def _migration_1(db: sqlite_utils.Database) -> None:
    """The first schema: users, tokens, devices, cards, change streams, history, conflicts."""
    db["meta"].create({"key": str, "value": str}, pk="key", if_not_exists=True)
    db["users"].create(
        {"name": str, "role": str, "display": str, "created_at": str, "disabled": int},
        pk="name", not_null={"role", "created_at"}, defaults={"disabled": 0}, if_not_exists=True,
    )
    db["tokens"].create(
        {"id": str, "user": str, "hash": str, "label": str, "created_at": str,
         "last_used_at": str, "revoked_at": str},
        pk="id", not_null={"user", "hash"}, foreign_keys=[("user", "users", "name")], if_not_exists=True,
    )
    db["tokens"].create_index(["hash"], unique=True, if_not_exists=True)
    db["devices"].create(
        {"id": str, "user": str, "first_sync": str, "last_sync": str, "pending": int,
         "app": str, "user_agent": str, "revoked_at": str},
        pk="id", if_not_exists=True,
    )
    # `data` is the full card as the contract's JSON, so a pull streams it without re-encoding.
    # `seq` is the card's position in the change stream: bumped on every change.
    db["cards"].create(
        {"id": str, "owner": str, "deleted": int, "version": int, "seq": int,
         "created_at": str, "updated_at": str, "merged_into": str,
         "clocks": str, "search": str, "data": str},
        pk="id", not_null={"owner", "version", "seq", "data"}, if_not_exists=True,
    )
    db["cards"].create_index(["seq"], unique=True, if_not_exists=True)
    db["cards"].create_index(["owner", "seq"], if_not_exists=True)
    # Normalised phones (`p:+86…`) and emails (`e:…`) of live cards, for duplicate warnings.
    db["card_keys"].create({"key": str, "card": str}, pk=("key", "card"), if_not_exists=True)
    db["card_keys"].create_index(["card"], if_not_exists=True)
    db["activities"].create(
        {"id": str, "card": str, "seq": int, "data": str}, pk="id", not_null={"card", "seq", "data"},
        if_not_exists=True,
    )
    db["activities"].create_index(["seq"], unique=True, if_not_exists=True)
    db["activities"].create_index(["card"], if_not_exists=True)
    # A card leaving one user's view while it stays alive (reassigned away from a rep).
    db["exits"].create(
        {"seq": int, "card": str, "user": str, "reason": str, "into_card": str}, pk="seq", if_not_exists=True,
    )
    db["exits"].create_index(["user", "seq"], if_not_exists=True)
    db["exits"].create_index(["card", "user"], if_not_exists=True)
    db["history"].create(
        {"id": int, "card": str, "version": int, "at": str, "authored_at": str, "received_at": str,
         "user": str, "device": str, "mutation": str, "changes": str},
        pk="id", if_not_exists=True,
    )
    db["history"].create_index(["card", "version"], if_not_exists=True)
    db["conflicts"].create(
        {"id": str, "card": str, "field": str, "status": str, "kept": str, "other": str,
         "kept_by": str, "other_by": str, "kept_at": str, "other_at": str, "created_at": str,
         "mutation": str, "resolved_at": str, "resolved_by": str},
        pk="id", if_not_exists=True,
    )
    db["conflicts"].create_index(["card", "status"], if_not_exists=True)
    db["conflicts"].create_index(["status"], if_not_exists=True)
    # Results of accepted mutations, so a retried push returns the same answer and applies nothing.
    db["mutations"].create(
        {"id": str, "user": str, "device": str, "received_at": str, "result": str},
        pk="id", if_not_exists=True,
    )
    db["mutations"].create_index(["received_at"], if_not_exists=True)


def _migration_2(db: sqlite_utils.Database) -> None:
    """The audit log: append-only, each entry carrying the hash of the one before it."""
    db["audit"].create(
        {"id": int, "at": str, "actor": str, "action": str, "target": str, "detail": str,
         "prev_hash": str, "hash": str},
        pk="id", not_null={"at", "actor", "action", "hash"}, if_not_exists=True,
    )


def _migration_3(db: sqlite_utils.Database) -> None:
    """Identity: passkeys, one-time invites and challenges, browser sessions (see sync/people/identity.py)."""
    if "webauthn_id" not in db["users"].columns_dict:
        db["users"].add_column("webauthn_id", str)
    db["credentials"].create(
        {"id": str, "user": str, "public_key": str, "sign_count": int, "transports": str, "label": str,
         "created_at": str, "last_used_at": str},
        pk="id", not_null={"user", "public_key"}, foreign_keys=[("user", "users", "name")], if_not_exists=True,
    )
    db["credentials"].create_index(["user"], if_not_exists=True)
    # Invites and sessions are stored by the SHA-256 of their secret, like tokens. Expiries are Unix seconds.
    db["invites"].create(
        {"id": str, "user": str, "created_by": str, "created_at": str, "expires": int, "used_at": str},
        pk="id", not_null={"user", "expires"}, if_not_exists=True,
    )
    db["challenges"].create(
        {"id": str, "purpose": str, "challenge": str, "user": str, "invite": str, "expires": int},
        pk="id", not_null={"purpose", "challenge", "expires"}, if_not_exists=True,
    )
    db["sessions"].create(
        {"id": str, "user": str, "created_at": str, "last_seen": int, "expires": int, "user_agent": str,
         "revoked_at": str},
        pk="id", not_null={"user", "last_seen", "expires"}, if_not_exists=True,
    )
    db["sessions"].create_index(["user"], if_not_exists=True)


def _migration_4(db: sqlite_utils.Database) -> None:
    """Spreadsheet imports, each one batch that can be undone row by row."""
    db["imports"].create(
        {"id": str, "user": str, "created_at": str, "filename": str, "mode": str, "match": str,
         "summary": str, "undone_at": str, "undone_by": str},
        pk="id", not_null={"user", "created_at"}, if_not_exists=True,
    )
    # before/after: the fields the import changed, as they were and as it wrote them.
    db["import_rows"].create(
        {"import": str, "row": int, "card": str, "action": str, "before": str, "after": str},
        pk=("import", "row"), if_not_exists=True,
    )


def _migration_5(db: sqlite_utils.Database) -> None:
    """Merges: what each card looked like before, so a merge can be undone."""
    db["merges"].create(
        {"id": str, "into": str, "from": str, "snapshot": str, "result": str, "by": str, "at": str,
         "undone_at": str, "undone_by": str},
        pk="id", not_null={"into", "from", "snapshot"}, if_not_exists=True,
    )


def _migration_6(db: sqlite_utils.Database) -> None:
    """The server's own work (imports, merges, resolutions, office edits), journaled so that a
    restore re-applies what it rolled back, as phones re-send theirs (sync/journal.py)."""
    db["journal"].create(
        {"id": int, "at": str, "user": str, "role": str, "kind": str, "ref": str, "payload": str,
         "excluded_at": str, "excluded_by": str},
        pk="id", not_null={"at", "user", "role", "kind", "payload"}, if_not_exists=True,
    )
    db["journal"].create_index(["at"], if_not_exists=True)


def _migration_7(db: sqlite_utils.Database) -> None:
    """Which credential a device last synced with (`token:<id>` or `session:<hash>`), so that
    revoking a lost phone can revoke its token or end its session too."""
    if "credential" not in db["devices"].columns_dict:
        db["devices"].add_column("credential", str)


def _migration_8(db: sqlite_utils.Database) -> None:
    """Erased customers: the card row stays as a tombstone with no data, so devices learn it left
    (`remove`, reason `erased`) and later mutations are refused (sync/outward/privacy.py)."""
    if "erased" not in db["cards"].columns_dict:
        db["cards"].add_column("erased", int, not_null_default=0)


def _migration_9(db: sqlite_utils.Database) -> None:
    """Cards written before contract 1.1 get its new fields (location, stage, follow_ups) empty, so
    every card a client pulls has the same shape."""
    db.execute("UPDATE cards SET data = json_set(data, '$.location', json('null'), '$.stage', json('null'), "
               "'$.follow_ups', json('[]')) WHERE erased = 0 AND json_type(data, '$.follow_ups') IS NULL")


def _migration_teams(db: sqlite_utils.Database) -> None:
    """Teams: reps grouped under managers, who see and change their team's cards (sync/people/teams.py)."""
    db["teams"].create({"id": str, "name": str, "created_at": str}, pk="id", not_null={"name"}, if_not_exists=True)
    db["team_members"].create({"team": str, "user": str, "manages": int}, pk=("team", "user"),
                              defaults={"manages": 0}, if_not_exists=True)
    db["team_members"].create_index(["user"], if_not_exists=True)


def _migration_links(db: sqlite_utils.Database) -> None:
    """Customer links (sync/cards/links.py): declared by a device, opened and answered by a customer."""
    db["links"].create(
        {"id": str, "card": str, "purpose": str, "survey": str, "expires": str, "created_by": str,
         "created_at": str, "used_at": str, "revoked_at": str, "answer": str},
        pk="id", not_null={"card", "purpose", "expires"}, if_not_exists=True,
    )
    db["links"].create_index(["card"], if_not_exists=True)


def _migration_attachments(db: sqlite_utils.Database) -> None:
    """Attachments (photos, files) and their bytes, content-addressed by SHA-256, in the database so
    that Litestream replicates them with the cards (sync/cards/attachments.py)."""
    db["attachments"].create(
        {"id": str, "card": str, "activity": str, "name": str, "type": str, "size": int, "sha256": str,
         "by": str, "created_at": str, "uploaded": int, "seq": int},
        pk="id", not_null={"card", "name", "type", "size", "sha256", "seq"}, defaults={"uploaded": 0},
        if_not_exists=True,
    )
    db["attachments"].create_index(["seq"], unique=True, if_not_exists=True)
    db["attachments"].create_index(["card"], if_not_exists=True)
    db["attachments"].create_index(["sha256"], if_not_exists=True)
    db["blob_chunks"].create({"sha256": str, "offset": int, "data": bytes}, pk=("sha256", "offset"),
                             if_not_exists=True)
    db["blobs"].create({"sha256": str, "size": int, "data": bytes}, pk="sha256", if_not_exists=True)


def _migration_import_problems(db: sqlite_utils.Database) -> None:
    """The rows of an import that had problems, with the problems, for the file to fix and import again."""
    if "problems" not in db["imports"].columns_dict:
        db["imports"].add_column("problems", str)


def _migration_webhooks(db: sqlite_utils.Database) -> None:
    """Webhooks (sync/outward/webhooks.py): endpoints, the outbox (one row per event per endpoint, written in
    the transaction of the change it reports) and the log of every delivery attempt."""
    db["webhook_endpoints"].create(
        {"id": str, "url": str, "events": str, "secret": str, "enabled": int, "failing": int,
         "failing_since": str, "created_by": str, "created_at": str, "updated_at": str},
        pk="id", not_null={"url", "events", "secret"}, defaults={"enabled": 1, "failing": 0}, if_not_exists=True,
    )
    db.execute("CREATE TABLE IF NOT EXISTS webhook_outbox (id INTEGER PRIMARY KEY AUTOINCREMENT, "
               "endpoint TEXT NOT NULL, event TEXT NOT NULL, type TEXT NOT NULL, key TEXT NOT NULL, "
               "body TEXT NOT NULL, created_at TEXT NOT NULL, status TEXT NOT NULL DEFAULT 'pending', "
               "attempts INTEGER NOT NULL DEFAULT 0, first_attempt_at TEXT, next_attempt_at REAL NOT NULL DEFAULT 0, "
               "delivered_at TEXT, UNIQUE(endpoint, event))")
    db.execute("CREATE INDEX IF NOT EXISTS webhook_outbox_due ON webhook_outbox(endpoint, status, key, id)")
    db["webhook_attempts"].create(
        {"id": int, "delivery": int, "endpoint": str, "event": str, "at": str, "status_code": int,
         "error": str, "duration_ms": int},
        pk="id", not_null={"delivery", "endpoint", "at"}, if_not_exists=True,
    )
    db["webhook_attempts"].create_index(["delivery"], if_not_exists=True)


def _migration_consent(db: sqlite_utils.Database) -> None:
    """Cards get the `consent` field (issue 18) empty, so every card a client pulls has the same shape."""
    db.execute("UPDATE cards SET data = json_set(data, '$.consent', json('null')) "
               "WHERE erased = 0 AND json_type(data, '$.consent') IS NULL")


def _migration_pool(db: sqlite_utils.Database) -> None:
    """The shared pool (issue 19): claims of pool cards, the round each pool card is in, and
    name + company keys beside the phone and email keys (the company-wide duplicate check)."""
    db["pool_entries"].create({"card": str, "since": str}, pk="card", if_not_exists=True)
    db["claims"].create(
        {"mutation": str, "card": str, "user": str, "device": str, "at": str, "since": str,
         "received_at": str, "status": str, "version": int},
        pk="mutation", not_null={"card", "user", "at", "received_at", "status"}, if_not_exists=True,
    )
    db["claims"].create_index(["card"], if_not_exists=True)
    db["claims"].create_index(["user", "received_at"], if_not_exists=True)
    db["colleague_hits"].create({"card": str, "code": str, "user": str, "at": str}, pk=("card", "code"),
                                if_not_exists=True)
    rows = db.execute("SELECT id, json_extract(data, '$.name'), json_extract(data, '$.company') FROM cards "
                      "WHERE deleted = 0 AND erased = 0").fetchall()
    db.conn.executemany("INSERT OR IGNORE INTO card_keys(key, card) VALUES (?, ?)",
                        [(key, card) for card, name, company in rows
                         for key in [name_company_key(name, company)] if key])


def _migration_device_names(db: sqlite_utils.Database) -> None:
    """Issue 15: a name the user gives their phone ("王伟的华为"), so a lost one is recognised."""
    if "name" not in db["devices"].columns_dict:
        db["devices"].add_column("name", str)


def name_company_key(name: object, company: object) -> str | None:
    """`n:<name>|<company>`, case and spaces folded; None without a company (a name alone is too common)."""
    if not isinstance(name, str) or not isinstance(company, str) or not company.strip():
        return None
    return f"n:{_fold(name)}|{_fold(company)}"


def _fold(text: str) -> str:
    return "".join(text.casefold().split())


MIGRATIONS = (_migration_1, _migration_2, _migration_3, _migration_4, _migration_5, _migration_6, _migration_7,
              _migration_8, _migration_9, _migration_attachments, _migration_links,
              _migration_teams, _migration_import_problems, _migration_webhooks, _migration_consent, _migration_pool,
              _migration_device_names)


def migrate(conn: sqlite3.Connection) -> int:
    """Apply the migrations this database has not seen yet; returns the schema version reached."""
    db = sqlite_utils.Database(conn)
    version = conn.execute("PRAGMA user_version").fetchone()[0]
    for number, migration in enumerate(MIGRATIONS, start=1):
        if number <= version:
            continue
        conn.execute("BEGIN IMMEDIATE")
        try:
            migration(db)
            conn.execute(f"PRAGMA user_version={number:d}")
            conn.execute("COMMIT")
        except BaseException:
            conn.execute("ROLLBACK")
            raise
        version = number
    return version


def new_epoch() -> str:
    return secrets.token_urlsafe(12)


def begin_new_epoch(conn: sqlite3.Connection) -> str:
    """After a restore: devices that saw the old epoch will reset and re-send their journals."""
    epoch = new_epoch()
    set_meta(conn, "epoch", epoch)
    return epoch


def latest_change(conn: sqlite3.Connection) -> dict[str, Any] | None:
    """The newest history entry: what a drill compares between the live database and a restore."""
    row = conn.execute("SELECT id, card, version, received_at FROM history ORDER BY id DESC LIMIT 1").fetchone()
    return dict(zip(("id", "card", "version", "received_at"), row)) if row else None


def history_after(conn: sqlite3.Connection, history_id: int, limit: int) -> list[dict[str, Any]]:
    """History entries newer than `history_id`: the changes a restore would roll back."""
    rows = conn.execute(
        "SELECT id, card, version, received_at, user, device, mutation, changes FROM history WHERE id > ? "
        "ORDER BY id LIMIT ?", (history_id, limit),
    )
    keys = ("id", "card", "version", "received_at", "user", "device", "mutation")
    return [{**dict(zip(keys, r[:7])), "changes": json.loads(r[7])} for r in rows]


def count_history_after(conn: sqlite3.Connection, history_id: int) -> int:
    return conn.execute("SELECT count(*) FROM history WHERE id > ?", (history_id,)).fetchone()[0]


def history_sources_after(conn: sqlite3.Connection, history_id: int) -> list[tuple[str | None, str, int]]:
    """(device, user, changes) for the history newer than `history_id`: who would re-send what."""
    rows = conn.execute("SELECT device, user, count(*) FROM history WHERE id > ? GROUP BY device, user",
                        (history_id,))
    return [(r[0], r[1], r[2]) for r in rows]


def devices_not_synced_since(conn: sqlite3.Connection, moment: str) -> list[dict[str, Any]]:
    return [d for d in all_devices(conn) if not d["revoked_at"] and (d["last_sync"] or "") < moment]


# --- rows that travel -------------------------------------------------------------------


@dataclass
class CardRow:
    """A stored card with the bookkeeping the merge needs; `card` is the contract's JSON object."""

    card: dict[str, Any]
    clocks: dict[str, list[str]]  # field -> [at, user, device] of the write that set it
    seq: int
    merged_into: str | None

    @property
    def id(self) -> str:
        return self.card["id"]

    @property
    def owner(self) -> str:
        return self.card["owner"]

    @property
    def deleted(self) -> bool:
        return bool(self.card["deleted"])

    @property
    def version(self) -> int:
        return int(self.card["version"])


@dataclass(frozen=True)
class StreamRow:
    """One entry of the change stream, still as stored: `kind` is card, activity, attachment or exit."""

    seq: int
    kind: str
    ref: str  # card id
    data: str | None
    deleted: bool = False
    reason: str | None = None
    into: str | None = None


# --- the store --------------------------------------------------------------------------


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
    def write(self) -> Iterator[sqlite3.Connection]:
        """The one writer, inside BEGIN IMMEDIATE … COMMIT. Returning means SQLite committed."""
        with self._write_lock:
            conn = self._writer
            conn.execute("BEGIN IMMEDIATE")
            try:
                yield conn
            except BaseException:
                conn.execute("ROLLBACK")
                raise
            conn.execute("COMMIT")

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


# --- meta -------------------------------------------------------------------------------


def meta_value(conn: sqlite3.Connection, key: str) -> str | None:
    row = conn.execute("SELECT value FROM meta WHERE key = ?", (key,)).fetchone()
    return row[0] if row else None


def set_meta(conn: sqlite3.Connection, key: str, value: str) -> None:
    conn.execute(
        "INSERT INTO meta(key, value) VALUES (?, ?) ON CONFLICT(key) DO UPDATE SET value = excluded.value",
        (key, value),
    )


def delete_meta(conn: sqlite3.Connection, key: str) -> None:
    conn.execute("DELETE FROM meta WHERE key = ?", (key,))


def last_seq(conn: sqlite3.Connection) -> int:
    return int(meta_value(conn, "seq") or 0)


# --- users and tokens -------------------------------------------------------------------


def insert_user(conn: sqlite3.Connection, name: str, role: str, display: str, now: str) -> None:
    conn.execute(
        "INSERT INTO users(name, role, display, created_at, disabled) VALUES (?, ?, ?, ?, 0)",
        (name, role, display, now),
    )


# --- teams -------------------------------------------------------------------------------------


def teams(conn: sqlite3.Connection) -> list[dict[str, Any]]:
    found = []
    for team_id, name, created in conn.execute("SELECT id, name, created_at FROM teams ORDER BY name, id"):
        members = conn.execute("SELECT user, manages FROM team_members WHERE team = ? ORDER BY user", (team_id,)).fetchall()
        found.append({"id": team_id, "name": name, "created_at": created,
                      "members": [u for u, m in members if not m], "managers": [u for u, m in members if m]})
    return found


def save_team(conn: sqlite3.Connection, team_id: str, name: str, members: Sequence[str], managers: Sequence[str],
              now: str) -> None:
    conn.execute("INSERT INTO teams(id, name, created_at) VALUES (?, ?, ?) ON CONFLICT(id) DO UPDATE SET name = excluded.name",
                 (team_id, name, now))
    conn.execute("DELETE FROM team_members WHERE team = ?", (team_id,))
    conn.executemany("INSERT INTO team_members(team, user, manages) VALUES (?, ?, ?)",
                     [(team_id, u, 0) for u in members] + [(team_id, u, 1) for u in managers])


def team_exists(conn: sqlite3.Connection, team_id: str) -> bool:
    return conn.execute("SELECT 1 FROM teams WHERE id = ?", (team_id,)).fetchone() is not None


def delete_team(conn: sqlite3.Connection, team_id: str) -> None:
    conn.execute("DELETE FROM team_members WHERE team = ?", (team_id,))
    conn.execute("DELETE FROM teams WHERE id = ?", (team_id,))


def live_card_ids_of(conn: sqlite3.Connection, owner: str) -> list[str]:
    return [r[0] for r in conn.execute("SELECT id FROM cards WHERE owner = ? AND deleted = 0 ORDER BY seq", (owner,))]


def move_card_to_seq(conn: sqlite3.Connection, card_id: str, seq: int) -> None:
    conn.execute("UPDATE cards SET seq = ? WHERE id = ?", (seq, card_id))


def user_named(conn: sqlite3.Connection, name: str) -> User | None:
    row = conn.execute(
        "SELECT name, role, display FROM users WHERE name = ? AND disabled = 0", (name,)
    ).fetchone()
    return with_team(conn, User(*row)) if row else None


def with_team(conn: sqlite3.Connection, user: User) -> User:
    """A manager with the reps of the teams they manage; anyone else as they are."""
    if user.role != "manager":
        return user
    rows = conn.execute("SELECT DISTINCT m.user FROM team_members m JOIN team_members me ON me.team = m.team "
                        "WHERE me.user = ? AND me.manages = 1 AND m.manages = 0", (user.name,))
    return replace(user, team=frozenset(r[0] for r in rows))


def user_exists(conn: sqlite3.Connection, name: str) -> bool:
    return conn.execute("SELECT 1 FROM users WHERE name = ?", (name,)).fetchone() is not None


def insert_token(conn: sqlite3.Connection, token_id: str, user: str, token_hash: str, label: str, now: str) -> None:
    conn.execute(
        "INSERT INTO tokens(id, user, hash, label, created_at) VALUES (?, ?, ?, ?, ?)",
        (token_id, user, token_hash, label, now),
    )


def user_for_token_hash(conn: sqlite3.Connection, token_hash: str) -> tuple[str, User] | None:
    """The live token with this hash and its user; the hash is an index key, so no timing leak."""
    row = conn.execute(
        "SELECT t.id, u.name, u.role, u.display FROM tokens t JOIN users u ON u.name = t.user "
        "WHERE t.hash = ? AND t.revoked_at IS NULL AND u.disabled = 0",
        (token_hash,),
    ).fetchone()
    return (row[0], with_team(conn, User(row[1], row[2], row[3]))) if row else None


def touch_token(conn: sqlite3.Connection, token_id: str, now: str) -> None:
    conn.execute("UPDATE tokens SET last_used_at = ? WHERE id = ?", (now, token_id))


# --- devices ----------------------------------------------------------------------------


def device_revoked(conn: sqlite3.Connection, device: str) -> bool:
    row = conn.execute("SELECT revoked_at FROM devices WHERE id = ?", (device,)).fetchone()
    return bool(row and row[0])


def record_device(
    conn: sqlite3.Connection, device: str, user: str, now: str, pending: int | None,
    app: str | None, user_agent: str | None, credential: str | None = None,
) -> None:
    conn.execute(
        "INSERT INTO devices(id, user, first_sync, last_sync, pending, app, user_agent, credential) "
        "VALUES (?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT(id) DO UPDATE SET user = excluded.user, "
        "last_sync = excluded.last_sync, pending = coalesce(excluded.pending, devices.pending), "
        "app = coalesce(excluded.app, devices.app), "
        "user_agent = coalesce(excluded.user_agent, devices.user_agent), "
        "credential = coalesce(excluded.credential, devices.credential)",
        (device, user, now, now, pending, app, user_agent, credential),
    )


def device_credential(conn: sqlite3.Connection, device: str) -> str | None:
    row = conn.execute("SELECT credential FROM devices WHERE id = ?", (device,)).fetchone()
    return row[0] if row else None


def device_known(conn: sqlite3.Connection, device: str) -> bool:
    return conn.execute("SELECT 1 FROM devices WHERE id = ?", (device,)).fetchone() is not None


def active_devices_of_user(conn: sqlite3.Connection, user: str) -> int:
    """Devices of this user that are not revoked: what the per-user device cap counts."""
    return conn.execute("SELECT count(*) FROM devices WHERE user = ? AND revoked_at IS NULL", (user,)).fetchone()[0]


DEVICE_KEYS = ("id", "user", "first_sync", "last_sync", "pending", "app", "user_agent", "revoked_at", "name")


def all_devices(conn: sqlite3.Connection, *, limit: int = -1, offset: int = 0) -> list[dict[str, Any]]:
    rows = conn.execute(
        f"SELECT {', '.join(DEVICE_KEYS)} FROM devices ORDER BY last_sync DESC, id LIMIT ? OFFSET ?", (limit, offset)
    ).fetchall()
    return [dict(zip(DEVICE_KEYS, row)) for row in rows]


def device_of(conn: sqlite3.Connection, device: str) -> dict[str, Any] | None:
    row = conn.execute(f"SELECT {', '.join(DEVICE_KEYS)} FROM devices WHERE id = ?", (device,)).fetchone()
    return dict(zip(DEVICE_KEYS, row)) if row else None


def name_device(conn: sqlite3.Connection, device: str, name: str | None) -> None:
    conn.execute("UPDATE devices SET name = ? WHERE id = ?", (name, device))


def revoke_device(conn: sqlite3.Connection, device: str, now: str) -> bool:
    cur = conn.execute("UPDATE devices SET revoked_at = ? WHERE id = ? AND revoked_at IS NULL", (now, device))
    return cur.rowcount > 0 or conn.execute("SELECT 1 FROM devices WHERE id = ?", (device,)).fetchone() is not None


# --- cards ------------------------------------------------------------------------------


# Fields added after 1.0 (contract 7), with the value a card written before them has.
LATER_FIELDS: dict[str, Any] = {"location": None, "stage": None, "follow_ups": [], "consent": None}


def card_row(conn: sqlite3.Connection, card_id: str) -> CardRow | None:
    row = conn.execute(
        "SELECT data, clocks, seq, merged_into FROM cards WHERE id = ?", (card_id,)
    ).fetchone()
    if row is None:
        return None
    card = json.loads(row[0])
    if not card.get("erased"):
        for name, empty in LATER_FIELDS.items():
            card.setdefault(name, list(empty) if isinstance(empty, list) else empty)
    return CardRow(card, json.loads(row[1] or "{}"), row[2], row[3])


def save_card(conn: sqlite3.Connection, row: CardRow, search: str) -> None:
    """Insert or replace the stored card; `row.seq` must already be the new stream position."""
    card = row.card
    conn.execute(
        "INSERT INTO cards(id, owner, deleted, version, seq, created_at, updated_at, merged_into, "
        "clocks, search, data) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT(id) DO UPDATE SET "
        "owner = excluded.owner, deleted = excluded.deleted, version = excluded.version, "
        "seq = excluded.seq, updated_at = excluded.updated_at, merged_into = excluded.merged_into, "
        "clocks = excluded.clocks, search = excluded.search, data = excluded.data",
        (
            card["id"], card["owner"] or "", int(card["deleted"]), card["version"], row.seq,
            card["created_at"], card["updated_at"], row.merged_into,
            dumps(row.clocks), search, dumps(card),
        ),
    )


def replace_card_keys(conn: sqlite3.Connection, card_id: str, keys: Sequence[str]) -> None:
    conn.execute("DELETE FROM card_keys WHERE card = ?", (card_id,))
    add_card_keys(conn, card_id, keys)


def add_card_keys(conn: sqlite3.Connection, card_id: str, keys: Sequence[str]) -> None:
    """The keys of a card that has none stored yet (a new card)."""
    conn.executemany("INSERT OR IGNORE INTO card_keys(key, card) VALUES (?, ?)", [(k, card_id) for k in keys])


def owned(owner: OwnerScope, column: str) -> tuple[str, list[Any]]:
    """` AND <column> = ?` for one owner, `IN (…)` for a manager's team, nothing for everyone."""
    if owner is None:
        return "", []
    if isinstance(owner, str):
        return f" AND {column} = ?", [owner]
    return f" AND {column} IN ({','.join('?' * len(owner))})", list(owner)


def shares_a_key(conn: sqlite3.Connection, card_id: str, keys: Sequence[str]) -> bool:
    """Whether another card holds one of these keys: a look at the key index alone. Most cards share
    no key with any other (a new card of a push asks this), so the joins below mostly never run."""
    if not keys:
        return False
    marks = ",".join("?" * len(keys))
    return conn.execute(f"SELECT 1 FROM card_keys WHERE key IN ({marks}) AND card != ? LIMIT 1",
                        [*keys, card_id]).fetchone() is not None


def cards_sharing_keys(conn: sqlite3.Connection, card_id: str, keys: Sequence[str], owner: OwnerScope) -> list[str]:
    """Other live cards with one of these phone/email keys, restricted to `owner` when given."""
    if not keys:
        return []
    marks = ",".join("?" * len(keys))
    sql = (
        f"SELECT DISTINCT k.card FROM card_keys k JOIN cards c ON c.id = k.card "
        f"WHERE k.key IN ({marks}) AND k.card != ? AND c.deleted = 0"
    )
    params: list[Any] = [*keys, card_id]
    clause, values = owned(owner, "c.owner")
    return [r[0] for r in conn.execute(sql + clause + " ORDER BY k.card LIMIT 20", params + values)]


def live_cards(conn: sqlite3.Connection, owner: OwnerScope) -> list[dict[str, Any]]:
    """Every card that is not deleted, only `owner`'s when given, as the contract's JSON."""
    clause, values = owned(owner or None, "owner")
    return [json.loads(r[0]) for r in conn.execute("SELECT data FROM cards WHERE deleted = 0" + clause, values)]


def live_activities(conn: sqlite3.Connection, owner: OwnerScope) -> list[dict[str, Any]]:
    """The activities of those cards."""
    clause, values = owned(owner or None, "c.owner")
    sql = "SELECT a.data FROM activities a JOIN cards c ON c.id = a.card WHERE c.deleted = 0" + clause
    return [json.loads(r[0]) for r in conn.execute(sql, values)]


def card_json(conn: sqlite3.Connection, card_id: str) -> dict[str, Any] | None:
    row = conn.execute("SELECT data FROM cards WHERE id = ?", (card_id,)).fetchone()
    return json.loads(row[0]) if row else None


def _contains(q: str) -> str:
    """A LIKE pattern (with ESCAPE '\\') matching text that contains `q`, lowercased."""
    escaped = q.lower().replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


def list_cards(
    conn: sqlite3.Connection, *, owner: OwnerScope, q: str | None, segment: str | None,
    tag: str | None, region: str | None, due_before: str | None, include_deleted: bool,
    after: str | None, limit: int,
) -> list[dict[str, Any]]:
    """Cards matching the filters, in id order from `after` (keyset pagination)."""
    where, params = ["erased = 0"], []
    if not include_deleted:
        where.append("deleted = 0")
    if owner is not None:
        clause, values = owned(owner, "owner")
        where.append(clause.removeprefix(" AND "))
        params.extend(values)
    if q:
        where.append("search LIKE ? ESCAPE '\\'")
        params.append(_contains(q))
    if segment == "none":  # cards with no segment yet
        where.append("json_extract(data, '$.segment') IS NULL")
    elif segment:
        where.append("json_extract(data, '$.segment') = ?")
        params.append(segment)
    if region:
        where.append("json_extract(data, '$.region') = ?")
        params.append(region)
    if tag:
        where.append("EXISTS (SELECT 1 FROM json_each(cards.data, '$.tags') WHERE value = ?)")
        params.append(tag)
    if due_before:
        where.append("json_extract(data, '$.follow_up') <= ?")
        params.append(due_before)
    if after:
        where.append("id > ?")
        params.append(after)
    sql = f"SELECT data FROM cards WHERE {' AND '.join(where)} ORDER BY id LIMIT ?"
    return [json.loads(r[0]) for r in conn.execute(sql, [*params, limit])]


def mark_exit(conn: sqlite3.Connection, seq: int, card_id: str, user: str, reason: str, into: str | None) -> None:
    conn.execute(
        "INSERT INTO exits(seq, card, user, reason, into_card) VALUES (?, ?, ?, ?, ?)",
        (seq, card_id, user, reason, into),
    )


def managers_of(conn: sqlite3.Connection, owner: str | None) -> set[str]:
    """The managers who see `owner`'s cards (through the teams `owner` is a member of)."""
    if not owner:
        return set()
    rows = conn.execute("SELECT DISTINCT boss.user FROM team_members m JOIN team_members boss ON boss.team = m.team "
                        "WHERE m.user = ? AND m.manages = 0 AND boss.manages = 1", (owner,))
    return {r[0] for r in rows}


def card_left_user(conn: sqlite3.Connection, card_id: str, user: str) -> bool:
    """Whether this card was once the user's and was reassigned away (their edits become conflicts)."""
    return conn.execute(
        "SELECT 1 FROM exits WHERE card = ? AND user = ? AND reason = 'revoked' LIMIT 1", (card_id, user)
    ).fetchone() is not None


# --- activities -------------------------------------------------------------------------


def activity_exists(conn: sqlite3.Connection, activity_id: str) -> bool:
    return conn.execute("SELECT 1 FROM activities WHERE id = ?", (activity_id,)).fetchone() is not None


def activity_author(conn: sqlite3.Connection, activity_id: str) -> str | None:
    """Who logged the activity with this id, or None when there is none."""
    row = conn.execute("SELECT json_extract(data, '$.by') FROM activities WHERE id = ?", (activity_id,)).fetchone()
    return None if row is None else str(row[0] or "")


def insert_activity(conn: sqlite3.Connection, activity: dict[str, Any], seq: int) -> None:
    conn.execute(
        "INSERT INTO activities(id, card, seq, data) VALUES (?, ?, ?, ?)",
        (activity["id"], activity["card"], seq, dumps(activity)),
    )


def activity_ids_of_card(conn: sqlite3.Connection, card_id: str) -> list[str]:
    return [r[0] for r in conn.execute("SELECT id FROM activities WHERE card = ? ORDER BY seq", (card_id,))]


def move_activity_to_seq(conn: sqlite3.Connection, activity_id: str, seq: int) -> None:
    conn.execute("UPDATE activities SET seq = ? WHERE id = ?", (seq, activity_id))


def activities_of_card(conn: sqlite3.Connection, card_id: str) -> list[dict[str, Any]]:
    rows = conn.execute(
        "SELECT data FROM activities WHERE card = ? ORDER BY json_extract(data, '$.at'), seq", (card_id,)
    )
    return [json.loads(r[0]) for r in rows]


# --- the change stream ------------------------------------------------------------------


def stream_after(conn: sqlite3.Connection, after: int, owner: OwnerScope, user: str, limit: int) -> list[StreamRow]:
    """Up to `limit` stream entries after `after`, oldest first, that `user` may see.

    Three indexed range scans merged in Python: a single UNION ... ORDER BY would sort every
    row past the cursor on each page of a full pull.
    """
    if owner is None:
        cards = conn.execute(
            "SELECT seq, id, data, deleted, merged_into, erased FROM cards WHERE seq > ? ORDER BY seq LIMIT ?",
            (after, limit),
        ).fetchall()
        acts = conn.execute(
            "SELECT a.seq, a.card, a.data FROM activities a JOIN cards c ON c.id = a.card "
            "WHERE a.seq > ? AND c.deleted = 0 ORDER BY a.seq LIMIT ?",
            (after, limit),
        ).fetchall()
        exits: list[tuple] = []
        files = conn.execute(
            f"SELECT a.seq, a.card, {ATTACHMENT_JSON} FROM attachments a JOIN cards c ON c.id = a.card "
            "WHERE a.seq > ? AND c.deleted = 0 ORDER BY a.seq LIMIT ?", (after, limit),
        ).fetchall()
    else:
        # One owner (a rep) or a manager's team: `owner IN (…)` uses the same (owner, seq) index.
        mine, values = owned(owner, "owner")
        theirs, _ = owned(owner, "c.owner")
        cards = conn.execute(
            f"SELECT seq, id, data, deleted, merged_into, erased FROM cards WHERE seq > ?{mine} "
            "ORDER BY seq LIMIT ?",
            (after, *values, limit),
        ).fetchall()
        acts = conn.execute(
            "SELECT a.seq, a.card, a.data FROM activities a JOIN cards c ON c.id = a.card "
            f"WHERE a.seq > ?{theirs} AND c.deleted = 0 ORDER BY a.seq LIMIT ?",
            (after, *values, limit),
        ).fetchall()
        exits = conn.execute(
            "SELECT seq, card, reason, into_card FROM exits WHERE user = ? AND seq > ? ORDER BY seq LIMIT ?",
            (user, after, limit),
        ).fetchall()
        files = conn.execute(
            f"SELECT a.seq, a.card, {ATTACHMENT_JSON} FROM attachments a JOIN cards c ON c.id = a.card "
            f"WHERE a.seq > ?{theirs} AND c.deleted = 0 ORDER BY a.seq LIMIT ?", (after, *values, limit),
        ).fetchall()
    rows = [StreamRow(s, "card", i, d, bool(x), "erased" if e else "merged" if m else "deleted", m)
            for s, i, d, x, m, e in cards]
    rows += [StreamRow(s, "activity", c, d) for s, c, d in acts]
    rows += [StreamRow(s, "exit", c, None, False, r, i) for s, c, r, i in exits]
    rows += [StreamRow(s, "attachment", c, d) for s, c, d in files]
    rows.sort(key=lambda r: r.seq)
    return rows[:limit]


# --- history ----------------------------------------------------------------------------


def insert_history(
    conn: sqlite3.Connection, *, card: str, version: int, at: str, authored_at: str, received_at: str,
    user: str, device: str | None, mutation: str | None, changes: dict[str, list[Any]],
) -> None:
    conn.execute(
        "INSERT INTO history(card, version, at, authored_at, received_at, user, device, mutation, changes) "
        "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
        (card, version, at, authored_at, received_at, user, device, mutation,
         dumps(changes)),
    )


def history_of_card(conn: sqlite3.Connection, card_id: str) -> list[dict[str, Any]]:
    rows = conn.execute(
        "SELECT version, at, authored_at, received_at, user, device, mutation, changes FROM history "
        "WHERE card = ? ORDER BY id",
        (card_id,),
    )
    keys = ("version", "at", "authored_at", "received_at", "user", "device", "mutation")
    found = [{**dict(zip(keys, r[:7])), "changes": json.loads(r[7])} for r in rows]
    for entry in found:  # a change a customer made through a link names the link (contract 7)
        if (entry["device"] or "").startswith("link:"):
            entry["via"] = entry["device"].removeprefix("link:")
    return found


def edited_by_other_device_since(conn: sqlite3.Connection, card_id: str, version: int, device: str) -> bool:
    """Whether a device other than `device` changed the card after `version` (delete-vs-edit rule)."""
    return conn.execute(
        "SELECT 1 FROM history WHERE card = ? AND version > ? AND (device IS NULL OR device != ?) LIMIT 1",
        (card_id, version, device),
    ).fetchone() is not None


def mutation_ids_in_history(conn: sqlite3.Connection) -> set[str]:
    return {r[0] for r in conn.execute("SELECT DISTINCT mutation FROM history WHERE mutation IS NOT NULL")}


# --- conflicts --------------------------------------------------------------------------

CONFLICT_KEYS = ("id", "card", "field", "status", "kept", "other", "kept_by", "other_by",
                 "kept_at", "other_at", "created_at")


def insert_conflict(conn: sqlite3.Connection, record: dict[str, Any], mutation: str | None) -> None:
    conn.execute(
        "INSERT INTO conflicts(id, card, field, status, kept, other, kept_by, other_by, kept_at, other_at, "
        "created_at, mutation) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        (record["id"], record["card"], record["field"], record["status"],
         json.dumps(record["kept"], ensure_ascii=False), json.dumps(record["other"], ensure_ascii=False),
         record["kept_by"], record["other_by"], record["kept_at"], record["other_at"], record["created_at"],
         mutation),
    )


def _conflict_from_row(row: Sequence[Any]) -> dict[str, Any]:
    record = dict(zip(CONFLICT_KEYS, row))
    record["kept"] = json.loads(record["kept"])
    record["other"] = json.loads(record["other"])
    return record


def conflict_by_id(conn: sqlite3.Connection, conflict_id: str) -> dict[str, Any] | None:
    row = conn.execute(f"SELECT {', '.join(CONFLICT_KEYS)} FROM conflicts WHERE id = ?", (conflict_id,)).fetchone()
    return _conflict_from_row(row) if row else None


def list_conflicts(conn: sqlite3.Connection, *, status: str | None, owner: OwnerScope, card: str | None) -> list[dict[str, Any]]:
    cols = ", ".join(f"k.{c}" for c in CONFLICT_KEYS)
    sql = f"SELECT {cols} FROM conflicts k JOIN cards c ON c.id = k.card WHERE 1 = 1"
    params: list[Any] = []
    if status:
        sql += " AND k.status = ?"
        params.append(status)
    clause, values = owned(owner, "c.owner")
    sql += clause
    params.extend(values)
    if card:
        sql += " AND k.card = ?"
        params.append(card)
    return [_conflict_from_row(r) for r in conn.execute(sql + " ORDER BY k.created_at, k.id LIMIT 1000", params)]


def resolve_conflict_row(conn: sqlite3.Connection, conflict_id: str, user: str, now: str) -> None:
    conn.execute(
        "UPDATE conflicts SET status = 'resolved', resolved_at = ?, resolved_by = ? WHERE id = ?",
        (now, user, conflict_id),
    )


# --- mutation results (idempotency) -------------------------------------------------------


def stored_result(conn: sqlite3.Connection, mutation_id: str) -> tuple[str, dict[str, Any]] | None:
    row = conn.execute("SELECT user, result FROM mutations WHERE id = ?", (mutation_id,)).fetchone()
    return (row[0], json.loads(row[1])) if row else None


def store_result(conn: sqlite3.Connection, mutation_id: str, user: str, device: str, now: str, result: dict[str, Any]) -> None:
    conn.execute(
        "INSERT INTO mutations(id, user, device, received_at, result) VALUES (?, ?, ?, ?, ?)",
        (mutation_id, user, device, now, dumps(result)),
    )


def forget_results_before(conn: sqlite3.Connection, cutoff: str) -> int:
    """Drop idempotency records older than the contract's 90-day promise."""
    return conn.execute("DELETE FROM mutations WHERE received_at < ?", (cutoff,)).rowcount


def counts(conn: sqlite3.Connection) -> dict[str, int]:
    return {
        "cards": conn.execute("SELECT count(*) FROM cards WHERE deleted = 0").fetchone()[0],
        "activities": conn.execute("SELECT count(*) FROM activities").fetchone()[0],
        "changes": conn.execute("SELECT count(*) FROM history").fetchone()[0],
    }


def integrity(conn: sqlite3.Connection) -> str:
    """`ok`, or the first problem PRAGMA integrity_check found."""
    return str(conn.execute("PRAGMA integrity_check").fetchone()[0])


def empty_wal(path: Path) -> bool:
    """Checkpoint every WAL frame into the database file and truncate the `-wal` to nothing, so
    the file can be renamed or replaced without committed work left behind in (or a stale WAL
    left in front of) it. False when a reader kept the WAL from being emptied."""
    conn = connect(path)
    try:
        busy, _, _ = conn.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchone()
    finally:
        conn.close()
    return busy == 0


# --- customer links ---------------------------------------------------------------------------

LINK_KEYS = ("id", "card", "purpose", "survey", "expires", "created_by", "created_at", "used_at", "revoked_at", "answer")


def insert_link(conn: sqlite3.Connection, link: dict[str, Any]) -> None:
    conn.execute(f"INSERT INTO links({', '.join(LINK_KEYS)}) VALUES ({', '.join('?' for _ in LINK_KEYS)})",
                 tuple(link.get(k) for k in LINK_KEYS))


def link_row(conn: sqlite3.Connection, link_id: str) -> dict[str, Any] | None:
    row = conn.execute(f"SELECT {', '.join(LINK_KEYS)} FROM links WHERE id = ?", (link_id,)).fetchone()
    return dict(zip(LINK_KEYS, row)) if row else None


def use_link(conn: sqlite3.Connection, link_id: str, now: str, answer: str) -> None:
    conn.execute("UPDATE links SET used_at = coalesce(used_at, ?), answer = coalesce(answer, ?) WHERE id = ?",
                 (now, answer, link_id))


def revoke_link(conn: sqlite3.Connection, link_id: str, now: str) -> None:
    conn.execute("UPDATE links SET revoked_at = coalesce(revoked_at, ?) WHERE id = ?", (now, link_id))


def forget_link_answers(conn: sqlite3.Connection, card_id: str, now: str) -> None:
    """An erasure: the customer's answers (their choices, their address) go; the links are withdrawn."""
    conn.execute("UPDATE links SET answer = NULL, revoked_at = coalesce(revoked_at, ?) WHERE card = ?", (now, card_id))


def links_of_card(conn: sqlite3.Connection, card_id: str) -> list[dict[str, Any]]:
    rows = conn.execute(f"SELECT {', '.join(LINK_KEYS)} FROM links WHERE card = ? ORDER BY created_at", (card_id,))
    return [dict(zip(LINK_KEYS, r)) for r in rows]


# --- attachments -----------------------------------------------------------------------------

ATTACHMENT_KEYS = ("id", "card", "activity", "name", "type", "size", "sha256", "by", "created_at", "uploaded")
# The contract's attachment object, built by SQLite for the pull (uploaded as true/false).
ATTACHMENT_JSON = ("json_object('id', a.id, 'card', a.card, 'activity', a.activity, 'name', a.name, 'type', a.type, "
                   "'size', a.size, 'sha256', a.sha256, 'by', a.by, 'created_at', a.created_at, "
                   "'uploaded', json(CASE WHEN a.uploaded THEN 'true' ELSE 'false' END))")


def insert_attachment(conn: sqlite3.Connection, attachment: dict[str, Any], seq: int) -> None:
    conn.execute(f"INSERT INTO attachments({', '.join(ATTACHMENT_KEYS)}, seq) VALUES ({', '.join('?' for _ in ATTACHMENT_KEYS)}, ?)",
                 (*(attachment.get(k) for k in ATTACHMENT_KEYS), seq))


def attachment_row(conn: sqlite3.Connection, attachment_id: str) -> dict[str, Any] | None:
    row = conn.execute(f"SELECT {', '.join(ATTACHMENT_KEYS)} FROM attachments WHERE id = ?", (attachment_id,)).fetchone()
    return dict(zip(ATTACHMENT_KEYS, row)) if row else None


def attachments_of_card(conn: sqlite3.Connection, card_id: str) -> list[dict[str, Any]]:
    rows = conn.execute(f"SELECT {', '.join(ATTACHMENT_KEYS)} FROM attachments WHERE card = ? ORDER BY seq", (card_id,))
    return [dict(zip(ATTACHMENT_KEYS, r)) for r in rows]


def attachment_ids_of_card(conn: sqlite3.Connection, card_id: str) -> list[str]:
    return [r[0] for r in conn.execute("SELECT id FROM attachments WHERE card = ? ORDER BY seq", (card_id,))]


def move_attachment(conn: sqlite3.Connection, attachment_id: str, card_id: str, seq: int) -> None:
    conn.execute("UPDATE attachments SET card = ?, seq = ? WHERE id = ?", (card_id, seq, attachment_id))


def bytes_declared_by(conn: sqlite3.Connection, user: str) -> int:
    return int(conn.execute("SELECT coalesce(sum(size), 0) FROM attachments WHERE by = ?", (user,)).fetchone()[0])


def blob_complete(conn: sqlite3.Connection, sha256: str) -> bool:
    return conn.execute("SELECT 1 FROM blobs WHERE sha256 = ?", (sha256,)).fetchone() is not None


def blob_received(conn: sqlite3.Connection, sha256: str) -> int:
    row = conn.execute("SELECT coalesce(sum(length(data)), 0) FROM blob_chunks WHERE sha256 = ?", (sha256,)).fetchone()
    return int(row[0])


def append_blob_chunk(conn: sqlite3.Connection, sha256: str, offset: int, data: bytes) -> None:
    conn.execute('INSERT INTO blob_chunks(sha256, "offset", data) VALUES (?, ?, ?)', (sha256, offset, data))


def blob_bytes(conn: sqlite3.Connection, sha256: str) -> bytes:
    done = conn.execute("SELECT data FROM blobs WHERE sha256 = ?", (sha256,)).fetchone()
    if done:
        return bytes(done[0])
    return b"".join(bytes(r[0]) for r in conn.execute('SELECT data FROM blob_chunks WHERE sha256 = ? ORDER BY "offset"',
                                                      (sha256,)))


def drop_blob_chunks(conn: sqlite3.Connection, sha256: str) -> None:
    conn.execute("DELETE FROM blob_chunks WHERE sha256 = ?", (sha256,))


def complete_blob(conn: sqlite3.Connection, sha256: str, data: bytes) -> None:
    conn.execute("INSERT OR REPLACE INTO blobs(sha256, size, data) VALUES (?, ?, ?)", (sha256, len(data), data))
    drop_blob_chunks(conn, sha256)


def waiting_for_bytes(conn: sqlite3.Connection, sha256: str) -> list[str]:
    return [r[0] for r in conn.execute("SELECT id FROM attachments WHERE sha256 = ? AND uploaded = 0 ORDER BY seq",
                                       (sha256,))]


def mark_uploaded(conn: sqlite3.Connection, attachment_id: str, seq: int) -> None:
    conn.execute("UPDATE attachments SET uploaded = 1, seq = ? WHERE id = ?", (seq, attachment_id))


def forget_orphan_blobs(conn: sqlite3.Connection) -> None:
    conn.execute("DELETE FROM blobs WHERE sha256 NOT IN (SELECT sha256 FROM attachments)")
    conn.execute("DELETE FROM blob_chunks WHERE sha256 NOT IN (SELECT sha256 FROM attachments)")


# --- erasure (personal-information rights) -----------------------------------------------------


def cards_merged_into(conn: sqlite3.Connection, card_id: str) -> list[str]:
    return [r[0] for r in conn.execute("SELECT id FROM cards WHERE merged_into = ?", (card_id,))]


def _forget_import_problems(conn: sqlite3.Connection, card_id: str) -> None:
    """An erased customer's row leaves the problems kept with imports (sync/office/importer.py problem_rows)."""
    found = conn.execute("SELECT id, problems FROM imports WHERE instr(problems, ?) > 0", (card_id,)).fetchall()
    for import_id, text in found:
        record = json.loads(text)
        gone = {row[0] for row in record["rows"] if len(row) > 2 and row[2] == card_id}
        record["rows"] = [row for row in record["rows"] if row[0] not in gone]
        record["problems"] = [p for p in record["problems"] if p["row"] not in gone]
        conn.execute("UPDATE imports SET problems = ? WHERE id = ?", (json.dumps(record, ensure_ascii=False), import_id))


def erase_card(conn: sqlite3.Connection, card_id: str, owner: str, version: int, seq: int, now: str) -> None:
    """Purge one card: its history, activities, conflicts, duplicate keys, search text, import rows,
    merge snapshots and stored mutation results. The row stays as a tombstone with no personal data
    at a new stream position, so devices are told it left (`erased`)."""
    for sql in ("DELETE FROM history WHERE card = ?", "DELETE FROM activities WHERE card = ?",
                "DELETE FROM conflicts WHERE card = ?", "DELETE FROM card_keys WHERE card = ?",
                'DELETE FROM import_rows WHERE card = ?', "DELETE FROM attachments WHERE card = ?"):
        conn.execute(sql, (card_id,))
    forget_orphan_blobs(conn)
    _forget_import_problems(conn, card_id)
    conn.execute('DELETE FROM merges WHERE "into" = ? OR instr("from", ?) > 0 OR instr(snapshot, ?) > 0',
                 (card_id, card_id, card_id))
    gone = json.dumps({"id": "", "status": "rejected", "code": "not_found",
                       "errors": [{"path": "card", "message": "this customer's data was erased"}]})
    conn.execute("UPDATE mutations SET result = json_set(?, '$.id', json_extract(result, '$.id')) "
                 "WHERE instr(result, ?) > 0", (gone, card_id))
    tombstone = {"id": card_id, "owner": owner, "deleted": True, "erased": True, "version": version,
                 "updated_at": now}
    conn.execute("UPDATE cards SET data = ?, clocks = '{}', search = '', deleted = 1, erased = 1, merged_into = NULL, "
                 "version = ?, seq = ?, updated_at = ? WHERE id = ?",
                 (json.dumps(tombstone), version, seq, now, card_id))


def deleted_cards_before(conn: sqlite3.Connection, cutoff: str) -> list[tuple[str, str, int]]:
    """(id, owner, version) of cards a person deleted before `cutoff` (not merged, not erased)."""
    return [(r[0], r[1], r[2]) for r in conn.execute(
        "SELECT id, owner, version FROM cards WHERE deleted = 1 AND erased = 0 AND merged_into IS NULL "
        "AND updated_at < ? ORDER BY updated_at", (cutoff,))]


def journal_mentioning(conn: sqlite3.Connection, card_id: str) -> list[tuple[int, str]]:
    return [(r[0], r[1]) for r in conn.execute("SELECT id, payload FROM journal WHERE instr(payload, ?) > 0",
                                               (card_id,))]


def replace_journal_payload(conn: sqlite3.Connection, entry_id: int, payload: str) -> None:
    conn.execute("UPDATE journal SET payload = ? WHERE id = ?", (payload, entry_id))


def import_rows_of_card(conn: sqlite3.Connection, card_id: str) -> list[dict[str, Any]]:
    rows = conn.execute('SELECT r."import", i.filename, i.created_at, r.row, r.action, r.after FROM import_rows r '
                        'JOIN imports i ON i.id = r."import" WHERE r.card = ? ORDER BY i.created_at', (card_id,))
    return [{"import": r[0], "file": r[1], "at": r[2], "row": r[3], "action": r[4], "values": json.loads(r[5] or "{}")}
            for r in rows]


def audit_about(conn: sqlite3.Connection, target: str) -> list[dict[str, Any]]:
    rows = conn.execute(f"SELECT {', '.join(AUDIT_KEYS)} FROM audit WHERE target = ? ORDER BY id", (target,))
    return [dict(zip(AUDIT_KEYS, r)) for r in rows]


# --- the server's journal ---------------------------------------------------------------------


JOURNAL_KEYS = ("id", "at", "user", "role", "kind", "ref", "payload", "excluded_at", "excluded_by")


def insert_journal(conn: sqlite3.Connection, at: str, user: str, role: str, kind: str, ref: str | None,
                   payload: str) -> int:
    cur = conn.execute("INSERT INTO journal(at, user, role, kind, ref, payload) VALUES (?, ?, ?, ?, ?, ?)",
                       (at, user, role, kind, ref, payload))
    return int(cur.lastrowid or 0)


def last_journal_id(conn: sqlite3.Connection) -> int:
    return int(conn.execute("SELECT coalesce(max(id), 0) FROM journal").fetchone()[0])


def journal_after(conn: sqlite3.Connection, after: int) -> list[dict[str, Any]]:
    """Journal entries newer than `after`, oldest first, payload still as JSON text."""
    rows = conn.execute(f"SELECT {', '.join(JOURNAL_KEYS)} FROM journal WHERE id > ? ORDER BY id", (after,))
    return [dict(zip(JOURNAL_KEYS, row)) for row in rows]


def insert_journal_entry(conn: sqlite3.Connection, entry: dict[str, Any]) -> None:
    """An entry copied as it is, id included (a restore carries the live journal forward)."""
    conn.execute(f"INSERT INTO journal({', '.join(JOURNAL_KEYS)}) VALUES ({', '.join('?' for _ in JOURNAL_KEYS)})",
                 tuple(entry[k] for k in JOURNAL_KEYS))


def exclude_journal_entry(conn: sqlite3.Connection, entry_id: int, at: str, by: str) -> None:
    conn.execute("UPDATE journal SET excluded_at = ?, excluded_by = ? WHERE id = ?", (at, by, entry_id))


def forget_journal_before(conn: sqlite3.Connection, cutoff: str) -> int:
    return conn.execute("DELETE FROM journal WHERE at < ?", (cutoff,)).rowcount


# Who may do what: never rolled back by a restore (issue 12). Parents before children, so that
# deleting children first and inserting parents first keeps every foreign key whole.
# Webhook endpoints (their settings and secrets) are access-like: a restore must not roll them back.
ACCESS_TABLES = ("users", "tokens", "credentials", "invites", "sessions", "devices", "teams", "team_members",
                 "webhook_endpoints")
ACCESS_META = "calendar:%"  # private calendar feed keys, one per user
# The key that signs customer links (a restore must not void them), and the admin's privacy
# notice and lost-phone lock, the pool's rules and the duplicate check's key (settings, not
# customer data: a restore must not roll them back).
ACCESS_KEYS = ("link_key", "privacy_notice", "lock_after_days", "pool_settings", "dedupe_key")


def copy_access_state(live: sqlite3.Connection, restored: sqlite3.Connection) -> dict[str, int]:
    """Replace the restored database's users, roles, disabled flags, tokens, passkeys, invites,
    sessions, devices (and their revocations) and calendar keys with the live ones. Runs inside
    the caller's transaction on `restored`. Returns the rows copied per table."""
    copied: dict[str, int] = {}
    for table in reversed(ACCESS_TABLES):
        restored.execute(f"DELETE FROM {table}")  # table names are the constants above
    restored.execute("DELETE FROM challenges")  # a few minutes' worth, tied to the old file
    for table in ACCESS_TABLES:
        columns = [row[1] for row in live.execute(f"PRAGMA table_info({table})")]
        names = ", ".join(f'"{c}"' for c in columns)
        marks = ", ".join("?" for _ in columns)
        rows = live.execute(f"SELECT {names} FROM {table}").fetchall()
        restored.executemany(f"INSERT INTO {table}({names}) VALUES ({marks})", rows)
        copied[table] = len(rows)
    restored.execute("DELETE FROM meta WHERE key LIKE ?", (ACCESS_META,))
    keys = live.execute("SELECT key, value FROM meta WHERE key LIKE ?", (ACCESS_META,)).fetchall()
    restored.executemany("INSERT INTO meta(key, value) VALUES (?, ?)", keys)
    for key in ACCESS_KEYS:
        value = meta_value(live, key)
        if value is not None:
            set_meta(restored, key, value)
    copied["calendar_keys"] = len(keys)
    return copied


def copy_database(source: Path, target: Path) -> None:
    """A consistent copy of a live database through SQLite's backup API (WAL content included)."""
    src = sqlite3.connect(str(source), timeout=5.0)
    dst = sqlite3.connect(str(target))
    try:
        src.backup(dst)
    finally:
        dst.close()
        src.close()


# --- the pool (issue 19) -------------------------------------------------------------------------
# A card without an owner is in the pool; the `owner` column holds '' for it (the card's JSON, null).
# `pool_entries` names the round a pool card is in (the stamp it entered the pool at): a claim of
# that round may still be beaten by an earlier one. Assigning the card by hand ends the round.


def pool_since(conn: sqlite3.Connection, card_id: str) -> str | None:
    row = conn.execute("SELECT since FROM pool_entries WHERE card = ?", (card_id,)).fetchone()
    return row[0] if row else None


def set_pool_since(conn: sqlite3.Connection, card_id: str, since: str) -> None:
    conn.execute("INSERT INTO pool_entries(card, since) VALUES (?, ?) "
                 "ON CONFLICT(card) DO UPDATE SET since = excluded.since", (card_id, since))


def end_pool_round(conn: sqlite3.Connection, card_id: str) -> None:
    conn.execute("DELETE FROM pool_entries WHERE card = ?", (card_id,))


def insert_claim(conn: sqlite3.Connection, claim: dict[str, Any]) -> None:
    conn.execute(
        "INSERT INTO claims(mutation, card, user, device, at, since, received_at, status, version) "
        "VALUES (:mutation, :card, :user, :device, :at, :since, :received_at, :status, :version)", claim)


def winning_claim(conn: sqlite3.Connection, card_id: str, since: str) -> dict[str, Any] | None:
    row = conn.execute("SELECT mutation, user, at, version FROM claims WHERE card = ? AND since = ? "
                       "AND status = 'won'", (card_id, since)).fetchone()
    return None if row is None else dict(zip(("mutation", "user", "at", "version"), row))


def set_claim_status(conn: sqlite3.Connection, mutation_id: str, status: str) -> None:
    conn.execute("UPDATE claims SET status = ? WHERE mutation = ?", (status, mutation_id))


def claims_won_since(conn: sqlite3.Connection, user: str, since: str) -> int:
    """Claims this user made that took a card, received at or after `since` (the per-day limit)."""
    return conn.execute("SELECT count(*) FROM claims WHERE user = ? AND received_at >= ? "
                        "AND status IN ('won', 'displaced')", (user, since)).fetchone()[0]


def lost_claim(conn: sqlite3.Connection, card_id: str, user: str) -> bool:
    """Whether this user claimed the card and a colleague's earlier claim took it: their offline
    edits and activities on it are kept for the winner, as for a card reassigned away."""
    return conn.execute("SELECT 1 FROM claims WHERE card = ? AND user = ? AND status IN ('lost', 'displaced') "
                        "LIMIT 1", (card_id, user)).fetchone() is not None


def cards_held(conn: sqlite3.Connection, user: str) -> int:
    return conn.execute("SELECT count(*) FROM cards WHERE owner = ? AND deleted = 0", (user,)).fetchone()[0]


def card_history_after(conn: sqlite3.Connection, card_id: str, version: int) -> list[tuple[int, str, dict[str, Any]]]:
    """(version, user, changes) of the card's history after `version`, oldest first."""
    rows = conn.execute("SELECT version, user, changes FROM history WHERE card = ? AND version > ? ORDER BY id",
                        (card_id, version))
    return [(v, u, json.loads(c)) for v, u, c in rows]


def replace_result(conn: sqlite3.Connection, mutation_id: str, result: dict[str, Any]) -> None:
    """A claim beaten later by an earlier one: a retry of it must learn that it lost."""
    conn.execute("UPDATE mutations SET result = ? WHERE id = ?", (dumps(result), mutation_id))


def owners_sharing_keys(conn: sqlite3.Connection, card_id: str, keys: Sequence[str]) -> list[tuple[str, str]]:
    """(card, owner) of other live cards holding one of these keys; owner '' is the pool."""
    if not keys:
        return []
    marks = ",".join("?" * len(keys))
    return conn.execute(
        f"SELECT DISTINCT c.id, c.owner FROM card_keys k JOIN cards c ON c.id = k.card "
        f"WHERE k.key IN ({marks}) AND k.card != ? AND c.deleted = 0 AND c.erased = 0 ORDER BY c.id LIMIT 50",
        [*keys, card_id]).fetchall()


def owners_of(conn: sqlite3.Connection, card_ids: Sequence[str]) -> dict[str, str | None]:
    """card -> owner (None: the pool), in chunks under SQLite's variable limit."""
    found: dict[str, str | None] = {}
    for start in range(0, len(card_ids), 500):
        chunk = card_ids[start:start + 500]
        rows = conn.execute(f"SELECT id, owner FROM cards WHERE id IN ({','.join('?' * len(chunk))})", chunk)
        found.update({card: owner or None for card, owner in rows})
    return found


def record_colleague_hit(conn: sqlite3.Connection, card_id: str, code: str, user: str, now: str) -> None:
    conn.execute("INSERT OR IGNORE INTO colleague_hits(card, code, user, at) VALUES (?, ?, ?, ?)",
                 (card_id, code, user, now))


def colleague_hits_since(conn: sqlite3.Connection, user: str, since: str) -> int:
    return conn.execute("SELECT count(*) FROM colleague_hits WHERE user = ? AND at >= ?", (user, since)).fetchone()[0]


def colleague_hit_cards(conn: sqlite3.Connection) -> dict[str, str]:
    """Cards that collided with a colleague's or a pool card when synced: card -> code."""
    return dict(conn.execute("SELECT card, code FROM colleague_hits"))


def keys_for_buckets(conn: sqlite3.Connection) -> list[tuple[str, bool]]:
    """Every live card's duplicate keys, with whether the card is in the pool."""
    return [(k, owner == "") for k, owner in conn.execute(
        "SELECT k.key, c.owner FROM card_keys k JOIN cards c ON c.id = k.card WHERE c.deleted = 0 AND c.erased = 0")]


def cards_to_reclaim(conn: sqlite3.Connection, owner: OwnerScope = None
                     ) -> list[tuple[str, str, str | None, str, str | None, str | None, str]]:
    """(id, owner, segment, created_at, when the owner was set, last activity, name) of every owned
    live card, only `owner`'s when given."""
    clause, values = owned(owner, "c.owner")
    return conn.execute(
        "SELECT c.id, c.owner, json_extract(c.data, '$.segment'), c.created_at, json_extract(c.clocks, '$.owner[0]'), "
        "(SELECT max(json_extract(a.data, '$.at')) FROM activities a WHERE a.card = c.id), json_extract(c.data, '$.name') "
        f"FROM cards c WHERE c.owner != '' AND c.deleted = 0 AND c.erased = 0 AND c.merged_into IS NULL{clause} "
        "ORDER BY c.id", values).fetchall()


# --- audit log --------------------------------------------------------------------------------

AUDIT_KEYS = ("id", "at", "actor", "action", "target", "detail", "prev_hash", "hash")


def last_audit(conn: sqlite3.Connection) -> tuple[int, str] | None:
    row = conn.execute("SELECT id, hash FROM audit ORDER BY id DESC LIMIT 1").fetchone()
    return (row[0], row[1]) if row else None


def insert_audit(conn: sqlite3.Connection, entry: dict[str, Any]) -> None:
    conn.execute(
        "INSERT INTO audit(id, at, actor, action, target, detail, prev_hash, hash) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
        tuple(entry[k] for k in AUDIT_KEYS),
    )


def audit_entries(conn: sqlite3.Connection, after: int = 0, limit: int = 1000) -> list[dict[str, Any]]:
    rows = conn.execute(f"SELECT {', '.join(AUDIT_KEYS)} FROM audit WHERE id > ? ORDER BY id LIMIT ?", (after, limit))
    return [dict(zip(AUDIT_KEYS, r)) for r in rows]


# --- webhooks (sync/outward/webhooks.py) --------------------------------------------------------------

ENDPOINT_COLUMNS = ("id", "url", "events", "secret", "enabled", "failing", "failing_since", "created_by",
                    "created_at", "updated_at")


def _endpoint(row: Sequence[Any]) -> dict[str, Any]:
    found = dict(zip(ENDPOINT_COLUMNS, row))
    found["events"] = json.loads(found["events"])
    found["enabled"], found["failing"] = bool(found["enabled"]), bool(found["failing"])
    return found


def webhook_endpoints(conn: sqlite3.Connection) -> list[dict[str, Any]]:
    cols = ", ".join(ENDPOINT_COLUMNS)
    return [_endpoint(r) for r in conn.execute(f"SELECT {cols} FROM webhook_endpoints ORDER BY created_at, id")]


def webhook_endpoint(conn: sqlite3.Connection, endpoint_id: str) -> dict[str, Any] | None:
    cols = ", ".join(ENDPOINT_COLUMNS)
    row = conn.execute(f"SELECT {cols} FROM webhook_endpoints WHERE id = ?", (endpoint_id,)).fetchone()
    return _endpoint(row) if row else None


def save_webhook_endpoint(conn: sqlite3.Connection, endpoint: dict[str, Any]) -> None:
    values = {**endpoint, "events": json.dumps(endpoint["events"]), "enabled": int(endpoint["enabled"]),
              "failing": int(endpoint["failing"])}
    cols = ", ".join(ENDPOINT_COLUMNS)
    marks = ", ".join("?" for _ in ENDPOINT_COLUMNS)
    conn.execute(f"INSERT OR REPLACE INTO webhook_endpoints({cols}) VALUES ({marks})",
                 [values[c] for c in ENDPOINT_COLUMNS])


def endpoints_listening_to(conn: sqlite3.Connection, event_type: str) -> list[str]:
    """Enabled endpoints subscribed to this event type."""
    return [r[0] for r in conn.execute(
        "SELECT id FROM webhook_endpoints WHERE enabled = 1 AND EXISTS "
        "(SELECT 1 FROM json_each(webhook_endpoints.events) WHERE value = ?)", (event_type,))]


def insert_outbox(conn: sqlite3.Connection, endpoint: str, event: str, event_type: str, key: str, body: str,
                  now: str) -> None:
    """Queue one event for one endpoint; the same event (same id) is queued once."""
    conn.execute("INSERT OR IGNORE INTO webhook_outbox(endpoint, event, type, key, body, created_at) "
                 "VALUES (?, ?, ?, ?, ?, ?)", (endpoint, event, event_type, key, body, now))


def forget_outbox_of_cards(conn: sqlite3.Connection, card_ids: Sequence[str]) -> int:
    """An erasure: queued and sent event bodies of these cards hold personal data; drop them."""
    marks = ", ".join("?" for _ in card_ids)
    doomed = f"SELECT id FROM webhook_outbox WHERE key IN ({marks})"
    conn.execute(f"DELETE FROM webhook_attempts WHERE delivery IN ({doomed})", list(card_ids))
    return conn.execute(f"DELETE FROM webhook_outbox WHERE key IN ({marks})", list(card_ids)).rowcount


OUTBOX_COLUMNS = ("id", "endpoint", "event", "type", "key", "body", "created_at", "status", "attempts",
                  "first_attempt_at", "next_attempt_at", "delivered_at")


def due_deliveries(conn: sqlite3.Connection, endpoint: str, now: float, limit: int) -> list[dict[str, Any]]:
    """Pending deliveries of one endpoint that are due and first in line for their card: an event
    for a card waits while an older one for the same card is still pending."""
    cols = ", ".join(f"o.{c}" for c in OUTBOX_COLUMNS)
    rows = conn.execute(
        f"SELECT {cols} FROM webhook_outbox o WHERE o.endpoint = ? AND o.status = 'pending' "
        "AND o.next_attempt_at <= ? AND NOT EXISTS (SELECT 1 FROM webhook_outbox p WHERE p.endpoint = o.endpoint "
        "AND p.status = 'pending' AND p.key = o.key AND p.id < o.id) ORDER BY o.id LIMIT ?",
        (endpoint, now, limit)).fetchall()
    return [dict(zip(OUTBOX_COLUMNS, r)) for r in rows]


def delivery(conn: sqlite3.Connection, delivery_id: int) -> dict[str, Any] | None:
    cols = ", ".join(OUTBOX_COLUMNS)
    row = conn.execute(f"SELECT {cols} FROM webhook_outbox WHERE id = ?", (delivery_id,)).fetchone()
    return dict(zip(OUTBOX_COLUMNS, row)) if row else None


def deliveries_of(conn: sqlite3.Connection, endpoint: str, limit: int) -> list[dict[str, Any]]:
    """The newest deliveries of an endpoint with their attempts (the delivery log), bodies left out."""
    cols = ", ".join(c for c in OUTBOX_COLUMNS if c != "body")
    rows = conn.execute(f"SELECT {cols} FROM webhook_outbox WHERE endpoint = ? ORDER BY id DESC LIMIT ?",
                        (endpoint, limit)).fetchall()
    found = [dict(zip([c for c in OUTBOX_COLUMNS if c != "body"], r)) for r in rows]
    for item in found:
        item["attempts_log"] = [dict(zip(("at", "status_code", "error", "duration_ms"), a)) for a in conn.execute(
            "SELECT at, status_code, error, duration_ms FROM webhook_attempts WHERE delivery = ? ORDER BY id",
            (item["id"],))]
    return found


def record_attempt(conn: sqlite3.Connection, item: dict[str, Any], at: str, status_code: int | None,
                   error: str | None, duration_ms: int, outcome: str, next_attempt_at: float) -> None:
    """Log one attempt and move the delivery on: `delivered`, `failed` (given up) or still `pending`."""
    conn.execute("INSERT INTO webhook_attempts(delivery, endpoint, event, at, status_code, error, duration_ms) "
                 "VALUES (?, ?, ?, ?, ?, ?, ?)", (item["id"], item["endpoint"], item["event"], at, status_code,
                                                  error, duration_ms))
    conn.execute("UPDATE webhook_outbox SET status = ?, attempts = attempts + 1, "
                 "first_attempt_at = COALESCE(first_attempt_at, ?), next_attempt_at = ?, "
                 "delivered_at = CASE WHEN ? = 'delivered' THEN ? ELSE delivered_at END WHERE id = ?",
                 (outcome, at, next_attempt_at, outcome, at, item["id"]))


def requeue_delivery(conn: sqlite3.Connection, delivery_id: int) -> None:
    conn.execute("UPDATE webhook_outbox SET status = 'pending', attempts = 0, first_attempt_at = NULL, "
                 "next_attempt_at = 0 WHERE id = ?", (delivery_id,))


def set_endpoint_failing(conn: sqlite3.Connection, endpoint: str, failing: bool, now: str) -> None:
    conn.execute("UPDATE webhook_endpoints SET failing = ?, failing_since = ? WHERE id = ?",
                 (int(failing), now if failing else None, endpoint))


# --- the customer's voice: what customers changed, follow-up items over time (sync/cards/followups.py) ---


def answered_links(conn: sqlite3.Connection, since: str, owner: OwnerScope) -> list[tuple[str, str, str, str]]:
    """(link, card, card name, used_at) of the links answered since `since`, on live cards of `owner`."""
    clause, values = owned(owner, "c.owner")
    sql = ("SELECT l.id, l.card, json_extract(c.data, '$.name'), l.used_at FROM links l JOIN cards c ON c.id = l.card "
           "WHERE l.used_at >= ? AND c.deleted = 0" + clause + " ORDER BY l.used_at DESC LIMIT 500")
    return [tuple(r) for r in conn.execute(sql, [since, *values])]


def changes_via_link(conn: sqlite3.Connection, card_id: str, link_id: str) -> list[dict[str, list[Any]]]:
    """The changes the customer made through one link, oldest first."""
    rows = conn.execute("SELECT changes FROM history WHERE card = ? AND device = ? ORDER BY id",
                        (card_id, f"link:{link_id}"))
    return [json.loads(r[0]) for r in rows]


def follow_up_history(conn: sqlite3.Connection, card_id: str) -> list[dict[str, Any]]:
    """`{"at", "before", "after"}` of each change of a card's follow-up items, oldest first."""
    rows = conn.execute("SELECT received_at, json_extract(changes, '$.follow_ups') FROM history "
                        "WHERE card = ? AND json_extract(changes, '$.follow_ups') IS NOT NULL ORDER BY id", (card_id,))
    found = []
    for at, pair in rows:
        before, after = json.loads(pair)
        found.append({"at": at, "before": before, "after": after})
    return found


def survey_links(conn: sqlite3.Connection) -> list[tuple[str, str | None]]:
    """(card, used_at) of every survey link not withdrawn: the survey response rate's sent and answered."""
    return [tuple(r) for r in conn.execute("SELECT card, used_at FROM links WHERE purpose = 'survey' AND revoked_at IS NULL")]


def stage_facts(conn: sqlite3.Connection) -> dict[str, tuple[str | None, str | None]]:
    """card → (first purchase, last visit or purchase), from the activities, for the lifecycle stages."""
    rows = conn.execute(
        "SELECT card, min(CASE WHEN json_extract(data, '$.kind') = 'purchase' THEN json_extract(data, '$.at') END), "
        "max(json_extract(data, '$.at')) FROM activities "
        "WHERE json_extract(data, '$.kind') IN ('visit', 'purchase') GROUP BY card")
    return {card: (first, last) for card, first, last in rows}


def card_stages(conn: sqlite3.Connection) -> list[tuple[str, str | None, str]]:
    """(card, stage, created_at) of every live card."""
    return [tuple(r) for r in conn.execute(
        "SELECT id, json_extract(data, '$.stage'), json_extract(data, '$.created_at') FROM cards "
        "WHERE deleted = 0 AND merged_into IS NULL")]


def stage_history(conn: sqlite3.Connection) -> list[tuple[str, str, str | None, str | None]]:
    """(card, received_at, stage before, stage after) of every change of a stage, oldest first."""
    rows = conn.execute("SELECT card, received_at, json_extract(changes, '$.stage[0]'), json_extract(changes, '$.stage[1]') "
                        "FROM history WHERE json_extract(changes, '$.stage') IS NOT NULL ORDER BY id")
    return [tuple(r) for r in rows]


def touches_of(conn: sqlite3.Connection, card_id: str) -> list[str]:
    """The times of a card's visits and purchases."""
    return [r[0] for r in conn.execute(
        "SELECT json_extract(data, '$.at') FROM activities WHERE card = ? "
        "AND json_extract(data, '$.kind') IN ('visit', 'purchase')", (card_id,))]


# --- rep scorecards (sync/office/scorecards.py) --------------------------------------------------------


def rep_names(conn: sqlite3.Connection) -> list[str]:
    """Every rep who is not disabled, by name."""
    return [r[0] for r in conn.execute("SELECT name FROM users WHERE role = 'rep' AND disabled = 0 ORDER BY name")]


def activities_by(conn: sqlite3.Connection, users: Sequence[str], first: str, last: str) -> list[dict[str, Any]]:
    """The activities these users logged on days first..last (by the activity's own time)."""
    marks = ",".join("?" * len(users))
    rows = conn.execute(f"SELECT data FROM activities WHERE json_extract(data, '$.by') IN ({marks}) "
                        "AND substr(json_extract(data, '$.at'), 1, 10) BETWEEN ? AND ?", [*users, first, last])
    return [json.loads(r[0]) for r in rows]


def cards_created_by(conn: sqlite3.Connection, users: Sequence[str], first: str, last: str) -> dict[str, int]:
    """How many cards each of these users created on days first..last."""
    marks = ",".join("?" * len(users))
    rows = conn.execute(f"SELECT user, count(*) FROM history WHERE version = 1 AND user IN ({marks}) "
                        "AND substr(received_at, 1, 10) BETWEEN ? AND ? GROUP BY user", [*users, first, last])
    return {user: count for user, count in rows}


def ratings_on_cards(conn: sqlite3.Connection, cards: Sequence[str], first: str, last: str) -> list[tuple[str, int]]:
    """(card, rating) of the feedback on these cards on days first..last."""
    found: list[tuple[str, int]] = []
    for start in range(0, len(cards), 500):
        part = cards[start:start + 500]
        marks = ",".join("?" * len(part))
        found += [tuple(r) for r in conn.execute(
            f"SELECT card, json_extract(data, '$.rating') FROM activities WHERE card IN ({marks}) "
            "AND json_extract(data, '$.kind') = 'feedback' AND json_extract(data, '$.rating') IS NOT NULL "
            "AND substr(json_extract(data, '$.at'), 1, 10) BETWEEN ? AND ?", [*part, first, last])]
    return found
