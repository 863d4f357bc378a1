"""The schema: numbered migrations applied at start, each idempotent."""

from __future__ import annotations

import sqlite3
from typing import Any

import sqlite_utils


def _create(db: sqlite_utils.Database, name: str, columns: str, *, pk: Any = "id", not_null: str = "", **options: Any) -> None:
    """`CREATE TABLE IF NOT EXISTS` through sqlite-utils: the columns in order as `"id card seq:int
    data:bytes"` (TEXT unless a type is named), the key `id` unless `pk` says otherwise, `not_null`
    as the names of the columns that are. Applied migrations are history: this shorthand gives
    sqlite-utils what their dicts gave it, and tests/test_schema.py holds the schema they make."""
    types = {"int": int, "bytes": bytes}
    spec = {column: types[kind] if kind else str for column, _, kind in (word.partition(":") for word in columns.split())}
    db.table(name).create(spec, pk=pk, if_not_exists=True, not_null=set(not_null.split()) or None, **options)


def _migration_1(db: sqlite_utils.Database) -> None:
    """The first schema: users, tokens, devices, cards, change streams, history, conflicts."""
    _create(db, "meta", "key value", pk="key")
    _create(
        db, "users", "name role display created_at disabled:int", pk="name", not_null="role created_at", defaults={"disabled": 0}
    )
    _create(
        db,
        "tokens",
        "id user hash label created_at last_used_at revoked_at",
        not_null="user hash",
        foreign_keys=[("user", "users", "name")],
    )
    db.table("tokens").create_index(["hash"], unique=True, if_not_exists=True)
    _create(db, "devices", "id user first_sync last_sync pending:int app user_agent revoked_at")
    # `data` is the full card as the contract's JSON, so a pull streams it without re-encoding.
    # `seq` is the card's position in the change stream: bumped on every change.
    _create(
        db,
        "cards",
        "id owner deleted:int version:int seq:int created_at updated_at merged_into clocks search data",
        not_null="owner version seq data",
    )
    db.table("cards").create_index(["seq"], unique=True, if_not_exists=True)
    db.table("cards").create_index(["owner", "seq"], if_not_exists=True)
    # Normalised phones (`p:+86…`) and emails (`e:…`) of live cards, for duplicate warnings.
    _create(db, "card_keys", "key card", pk=("key", "card"))
    db.table("card_keys").create_index(["card"], if_not_exists=True)
    _create(db, "activities", "id card seq:int data", not_null="card seq data")
    db.table("activities").create_index(["seq"], unique=True, if_not_exists=True)
    db.table("activities").create_index(["card"], if_not_exists=True)
    # A card leaving one user's view while it stays alive (reassigned away from a rep).
    _create(db, "exits", "seq:int card user reason into_card", pk="seq")
    db.table("exits").create_index(["user", "seq"], if_not_exists=True)
    db.table("exits").create_index(["card", "user"], if_not_exists=True)
    _create(db, "history", "id:int card version:int at authored_at received_at user device mutation changes")
    db.table("history").create_index(["card", "version"], if_not_exists=True)
    _create(
        db,
        "conflicts",
        "id card field status kept other kept_by other_by kept_at other_at created_at mutation resolved_at resolved_by",
    )
    db.table("conflicts").create_index(["card", "status"], if_not_exists=True)
    db.table("conflicts").create_index(["status"], if_not_exists=True)
    # Results of accepted mutations, so a retried push returns the same answer and applies nothing.
    _create(db, "mutations", "id user device received_at result")
    db.table("mutations").create_index(["received_at"], if_not_exists=True)


def _migration_2(db: sqlite_utils.Database) -> None:
    """The audit log: append-only, each entry carrying the hash of the one before it."""
    _create(db, "audit", "id:int at actor action target detail prev_hash hash", not_null="at actor action hash")


def _migration_3(db: sqlite_utils.Database) -> None:
    """Identity: passkeys, one-time invites and challenges, browser sessions (see sync/db/identity.py)."""
    if "webauthn_id" not in db.table("users").columns_dict:
        db.table("users").add_column("webauthn_id", str)
    _create(
        db,
        "credentials",
        "id user public_key sign_count:int transports label created_at last_used_at",
        not_null="user public_key",
        foreign_keys=[("user", "users", "name")],
    )
    db.table("credentials").create_index(["user"], if_not_exists=True)
    # Invites and sessions are stored by the SHA-256 of their secret, like tokens. Expiries are Unix seconds.
    _create(db, "invites", "id user created_by created_at expires:int used_at", not_null="user expires")
    _create(db, "challenges", "id purpose challenge user invite expires:int", not_null="purpose challenge expires")
    _create(
        db, "sessions", "id user created_at last_seen:int expires:int user_agent revoked_at", not_null="user last_seen expires"
    )
    db.table("sessions").create_index(["user"], if_not_exists=True)


def _migration_4(db: sqlite_utils.Database) -> None:
    """Spreadsheet imports, each one batch that can be undone row by row."""
    _create(db, "imports", "id user created_at filename mode match summary undone_at undone_by", not_null="user created_at")
    # before/after: the fields the import changed, as they were and as it wrote them.
    _create(db, "import_rows", "import row:int card action before after", pk=("import", "row"))


def _migration_5(db: sqlite_utils.Database) -> None:
    """Merges: what each card looked like before, so a merge can be undone."""
    _create(db, "merges", "id into from snapshot result by at undone_at undone_by", not_null="into from snapshot")


def _migration_6(db: sqlite_utils.Database) -> None:
    """The server's own work (imports, merges, resolutions, office edits), journaled so that a
    restore re-applies what it rolled back, as phones re-send theirs (sync/journal.py)."""
    _create(db, "journal", "id:int at user role kind ref payload excluded_at excluded_by", not_null="at user role kind payload")
    db.table("journal").create_index(["at"], if_not_exists=True)


def _migration_7(db: sqlite_utils.Database) -> None:
    """Which credential a device last synced with (`token:<id>` or `session:<hash>`), so that
    revoking a lost phone can revoke its token or end its session too."""
    if "credential" not in db.table("devices").columns_dict:
        db.table("devices").add_column("credential", str)


def _migration_8(db: sqlite_utils.Database) -> None:
    """Erased customers: the card row stays as a tombstone with no data, so devices learn it left
    (`remove`, reason `erased`) and later mutations are refused (sync/outward/privacy.py)."""
    if "erased" not in db.table("cards").columns_dict:
        db.table("cards").add_column("erased", int, not_null_default=0)


def _migration_9(db: sqlite_utils.Database) -> None:
    """Cards written before contract 1.1 get its new fields (location, stage, follow_ups) empty, so
    every card a client pulls has the same shape."""
    db.execute(
        "UPDATE cards SET data = json_set(data, '$.location', json('null'), '$.stage', json('null'), "
        "'$.follow_ups', json('[]')) WHERE erased = 0 AND json_type(data, '$.follow_ups') IS NULL"
    )


def _migration_teams(db: sqlite_utils.Database) -> None:
    """Teams: reps grouped under managers, who see and change their team's cards (sync/people/teams.py)."""
    _create(db, "teams", "id name created_at", not_null="name")
    _create(db, "team_members", "team user manages:int", pk=("team", "user"), defaults={"manages": 0})
    db.table("team_members").create_index(["user"], if_not_exists=True)


def _migration_links(db: sqlite_utils.Database) -> None:
    """Customer links (sync/cards/links.py): declared by a device, opened and answered by a customer."""
    _create(
        db,
        "links",
        "id card purpose survey expires created_by created_at used_at revoked_at answer",
        not_null="card purpose expires",
    )
    db.table("links").create_index(["card"], if_not_exists=True)


def _migration_attachments(db: sqlite_utils.Database) -> None:
    """Attachments (photos, files) and their bytes, content-addressed by SHA-256, in the database so
    that Litestream replicates them with the cards (sync/cards/attachments.py)."""
    _create(
        db,
        "attachments",
        "id card activity name type size:int sha256 by created_at uploaded:int seq:int",
        not_null="card name type size sha256 seq",
        defaults={"uploaded": 0},
    )
    db.table("attachments").create_index(["seq"], unique=True, if_not_exists=True)
    db.table("attachments").create_index(["card"], if_not_exists=True)
    db.table("attachments").create_index(["sha256"], if_not_exists=True)
    _create(db, "blob_chunks", "sha256 offset:int data:bytes", pk=("sha256", "offset"))
    _create(db, "blobs", "sha256 size:int data:bytes", pk="sha256")


def _migration_import_problems(db: sqlite_utils.Database) -> None:
    """The rows of an import that had problems, with the problems, for the file to fix and import again."""
    if "problems" not in db.table("imports").columns_dict:
        db.table("imports").add_column("problems", str)


def _migration_webhooks(db: sqlite_utils.Database) -> None:
    """Webhooks (sync/outward/webhooks.py): endpoints, the outbox (one row per event per endpoint, written in
    the transaction of the change it reports) and the log of every delivery attempt."""
    _create(
        db,
        "webhook_endpoints",
        "id url events secret enabled:int failing:int failing_since created_by created_at updated_at",
        not_null="url events secret",
        defaults={"enabled": 1, "failing": 0},
    )
    db.execute(
        "CREATE TABLE IF NOT EXISTS webhook_outbox (id INTEGER PRIMARY KEY AUTOINCREMENT, "
        "endpoint TEXT NOT NULL, event TEXT NOT NULL, type TEXT NOT NULL, key TEXT NOT NULL, "
        "body TEXT NOT NULL, created_at TEXT NOT NULL, status TEXT NOT NULL DEFAULT 'pending', "
        "attempts INTEGER NOT NULL DEFAULT 0, first_attempt_at TEXT, next_attempt_at REAL NOT NULL DEFAULT 0, "
        "delivered_at TEXT, UNIQUE(endpoint, event))"
    )
    db.execute("CREATE INDEX IF NOT EXISTS webhook_outbox_due ON webhook_outbox(endpoint, status, key, id)")
    _create(
        db,
        "webhook_attempts",
        "id:int delivery:int endpoint event at status_code:int error duration_ms:int",
        not_null="delivery endpoint at",
    )
    db.table("webhook_attempts").create_index(["delivery"], if_not_exists=True)


def _migration_consent(db: sqlite_utils.Database) -> None:
    """Cards get the `consent` field (issue 18) empty, so every card a client pulls has the same shape."""
    db.execute(
        "UPDATE cards SET data = json_set(data, '$.consent', json('null')) "
        "WHERE erased = 0 AND json_type(data, '$.consent') IS NULL"
    )


def _migration_pool(db: sqlite_utils.Database) -> None:
    """The shared pool (issue 19): claims of pool cards, the round each pool card is in, and
    name + company keys beside the phone and email keys (the company-wide duplicate check)."""
    _create(db, "pool_entries", "card since", pk="card")
    _create(
        db,
        "claims",
        "mutation card user device at since received_at status version:int",
        pk="mutation",
        not_null="card user at received_at status",
    )
    db.table("claims").create_index(["card"], if_not_exists=True)
    db.table("claims").create_index(["user", "received_at"], if_not_exists=True)
    _create(db, "colleague_hits", "card code user at", pk=("card", "code"))
    rows = db.execute(
        "SELECT id, json_extract(data, '$.name'), json_extract(data, '$.company') FROM cards WHERE deleted = 0 AND erased = 0"
    ).fetchall()
    db.conn.executemany(
        "INSERT OR IGNORE INTO card_keys(key, card) VALUES (?, ?)",
        [(key, card) for card, name, company in rows for key in [name_company_key(name, company)] if key],
    )


def _migration_device_names(db: sqlite_utils.Database) -> None:
    """Issue 15: a name the user gives their phone ("王伟的华为"), so a lost one is recognised."""
    if "name" not in db.table("devices").columns_dict:
        db.table("devices").add_column("name", str)


def name_company_key(name: object, company: object) -> str | None:
    """`n:<name>|<company>`, case and spaces folded; None without a company (a name alone is too common)."""
    if not isinstance(name, str) or not isinstance(company, str) or not company.strip():
        return None
    return f"n:{_fold(name)}|{_fold(company)}"


def _fold(text: str) -> str:
    return "".join(text.casefold().split())


MIGRATIONS = (
    _migration_1,
    _migration_2,
    _migration_3,
    _migration_4,
    _migration_5,
    _migration_6,
    _migration_7,
    _migration_8,
    _migration_9,
    _migration_attachments,
    _migration_links,
    _migration_teams,
    _migration_import_problems,
    _migration_webhooks,
    _migration_consent,
    _migration_pool,
    _migration_device_names,
)


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
