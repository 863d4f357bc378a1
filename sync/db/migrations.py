"""The schema: numbered migrations applied at start, each idempotent."""

from __future__ import annotations

import sqlite3
import sqlite_utils


def _migration_1(db: sqlite_utils.Database) -> None:
    """The first schema: users, tokens, devices, cards, change streams, history, conflicts."""
    db.table("meta").create({"key": str, "value": str}, pk="key", if_not_exists=True)
    db.table("users").create(
        {"name": str, "role": str, "display": str, "created_at": str, "disabled": int},
        pk="name",
        not_null={"role", "created_at"},
        defaults={"disabled": 0},
        if_not_exists=True,
    )
    db.table("tokens").create(
        {"id": str, "user": str, "hash": str, "label": str, "created_at": str, "last_used_at": str, "revoked_at": str},
        pk="id",
        not_null={"user", "hash"},
        foreign_keys=[("user", "users", "name")],
        if_not_exists=True,
    )
    db.table("tokens").create_index(["hash"], unique=True, if_not_exists=True)
    db.table("devices").create(
        {
            "id": str,
            "user": str,
            "first_sync": str,
            "last_sync": str,
            "pending": int,
            "app": str,
            "user_agent": str,
            "revoked_at": str,
        },
        pk="id",
        if_not_exists=True,
    )
    # `data` is the full card as the contract's JSON, so a pull streams it without re-encoding.
    # `seq` is the card's position in the change stream: bumped on every change.
    db.table("cards").create(
        {
            "id": str,
            "owner": str,
            "deleted": int,
            "version": int,
            "seq": int,
            "created_at": str,
            "updated_at": str,
            "merged_into": str,
            "clocks": str,
            "search": str,
            "data": str,
        },
        pk="id",
        not_null={"owner", "version", "seq", "data"},
        if_not_exists=True,
    )
    db.table("cards").create_index(["seq"], unique=True, if_not_exists=True)
    db.table("cards").create_index(["owner", "seq"], if_not_exists=True)
    # Normalised phones (`p:+86…`) and emails (`e:…`) of live cards, for duplicate warnings.
    db.table("card_keys").create({"key": str, "card": str}, pk=("key", "card"), if_not_exists=True)
    db.table("card_keys").create_index(["card"], if_not_exists=True)
    db.table("activities").create(
        {"id": str, "card": str, "seq": int, "data": str},
        pk="id",
        not_null={"card", "seq", "data"},
        if_not_exists=True,
    )
    db.table("activities").create_index(["seq"], unique=True, if_not_exists=True)
    db.table("activities").create_index(["card"], if_not_exists=True)
    # A card leaving one user's view while it stays alive (reassigned away from a rep).
    db.table("exits").create(
        {"seq": int, "card": str, "user": str, "reason": str, "into_card": str},
        pk="seq",
        if_not_exists=True,
    )
    db.table("exits").create_index(["user", "seq"], if_not_exists=True)
    db.table("exits").create_index(["card", "user"], if_not_exists=True)
    db.table("history").create(
        {
            "id": int,
            "card": str,
            "version": int,
            "at": str,
            "authored_at": str,
            "received_at": str,
            "user": str,
            "device": str,
            "mutation": str,
            "changes": str,
        },
        pk="id",
        if_not_exists=True,
    )
    db.table("history").create_index(["card", "version"], if_not_exists=True)
    db.table("conflicts").create(
        {
            "id": str,
            "card": str,
            "field": str,
            "status": str,
            "kept": str,
            "other": str,
            "kept_by": str,
            "other_by": str,
            "kept_at": str,
            "other_at": str,
            "created_at": str,
            "mutation": str,
            "resolved_at": str,
            "resolved_by": str,
        },
        pk="id",
        if_not_exists=True,
    )
    db.table("conflicts").create_index(["card", "status"], if_not_exists=True)
    db.table("conflicts").create_index(["status"], if_not_exists=True)
    # Results of accepted mutations, so a retried push returns the same answer and applies nothing.
    db.table("mutations").create(
        {"id": str, "user": str, "device": str, "received_at": str, "result": str},
        pk="id",
        if_not_exists=True,
    )
    db.table("mutations").create_index(["received_at"], if_not_exists=True)


def _migration_2(db: sqlite_utils.Database) -> None:
    """The audit log: append-only, each entry carrying the hash of the one before it."""
    db.table("audit").create(
        {"id": int, "at": str, "actor": str, "action": str, "target": str, "detail": str, "prev_hash": str, "hash": str},
        pk="id",
        not_null={"at", "actor", "action", "hash"},
        if_not_exists=True,
    )


def _migration_3(db: sqlite_utils.Database) -> None:
    """Identity: passkeys, one-time invites and challenges, browser sessions (see sync/db/identity.py)."""
    if "webauthn_id" not in db.table("users").columns_dict:
        db.table("users").add_column("webauthn_id", str)
    db.table("credentials").create(
        {
            "id": str,
            "user": str,
            "public_key": str,
            "sign_count": int,
            "transports": str,
            "label": str,
            "created_at": str,
            "last_used_at": str,
        },
        pk="id",
        not_null={"user", "public_key"},
        foreign_keys=[("user", "users", "name")],
        if_not_exists=True,
    )
    db.table("credentials").create_index(["user"], if_not_exists=True)
    # Invites and sessions are stored by the SHA-256 of their secret, like tokens. Expiries are Unix seconds.
    db.table("invites").create(
        {"id": str, "user": str, "created_by": str, "created_at": str, "expires": int, "used_at": str},
        pk="id",
        not_null={"user", "expires"},
        if_not_exists=True,
    )
    db.table("challenges").create(
        {"id": str, "purpose": str, "challenge": str, "user": str, "invite": str, "expires": int},
        pk="id",
        not_null={"purpose", "challenge", "expires"},
        if_not_exists=True,
    )
    db.table("sessions").create(
        {"id": str, "user": str, "created_at": str, "last_seen": int, "expires": int, "user_agent": str, "revoked_at": str},
        pk="id",
        not_null={"user", "last_seen", "expires"},
        if_not_exists=True,
    )
    db.table("sessions").create_index(["user"], if_not_exists=True)


def _migration_4(db: sqlite_utils.Database) -> None:
    """Spreadsheet imports, each one batch that can be undone row by row."""
    db.table("imports").create(
        {
            "id": str,
            "user": str,
            "created_at": str,
            "filename": str,
            "mode": str,
            "match": str,
            "summary": str,
            "undone_at": str,
            "undone_by": str,
        },
        pk="id",
        not_null={"user", "created_at"},
        if_not_exists=True,
    )
    # before/after: the fields the import changed, as they were and as it wrote them.
    db.table("import_rows").create(
        {"import": str, "row": int, "card": str, "action": str, "before": str, "after": str},
        pk=("import", "row"),
        if_not_exists=True,
    )


def _migration_5(db: sqlite_utils.Database) -> None:
    """Merges: what each card looked like before, so a merge can be undone."""
    db.table("merges").create(
        {
            "id": str,
            "into": str,
            "from": str,
            "snapshot": str,
            "result": str,
            "by": str,
            "at": str,
            "undone_at": str,
            "undone_by": str,
        },
        pk="id",
        not_null={"into", "from", "snapshot"},
        if_not_exists=True,
    )


def _migration_6(db: sqlite_utils.Database) -> None:
    """The server's own work (imports, merges, resolutions, office edits), journaled so that a
    restore re-applies what it rolled back, as phones re-send theirs (sync/journal.py)."""
    db.table("journal").create(
        {
            "id": int,
            "at": str,
            "user": str,
            "role": str,
            "kind": str,
            "ref": str,
            "payload": str,
            "excluded_at": str,
            "excluded_by": str,
        },
        pk="id",
        not_null={"at", "user", "role", "kind", "payload"},
        if_not_exists=True,
    )
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
    db.table("teams").create({"id": str, "name": str, "created_at": str}, pk="id", not_null={"name"}, if_not_exists=True)
    db.table("team_members").create(
        {"team": str, "user": str, "manages": int}, pk=("team", "user"), defaults={"manages": 0}, if_not_exists=True
    )
    db.table("team_members").create_index(["user"], if_not_exists=True)


def _migration_links(db: sqlite_utils.Database) -> None:
    """Customer links (sync/cards/links.py): declared by a device, opened and answered by a customer."""
    db.table("links").create(
        {
            "id": str,
            "card": str,
            "purpose": str,
            "survey": str,
            "expires": str,
            "created_by": str,
            "created_at": str,
            "used_at": str,
            "revoked_at": str,
            "answer": str,
        },
        pk="id",
        not_null={"card", "purpose", "expires"},
        if_not_exists=True,
    )
    db.table("links").create_index(["card"], if_not_exists=True)


def _migration_attachments(db: sqlite_utils.Database) -> None:
    """Attachments (photos, files) and their bytes, content-addressed by SHA-256, in the database so
    that Litestream replicates them with the cards (sync/cards/attachments.py)."""
    db.table("attachments").create(
        {
            "id": str,
            "card": str,
            "activity": str,
            "name": str,
            "type": str,
            "size": int,
            "sha256": str,
            "by": str,
            "created_at": str,
            "uploaded": int,
            "seq": int,
        },
        pk="id",
        not_null={"card", "name", "type", "size", "sha256", "seq"},
        defaults={"uploaded": 0},
        if_not_exists=True,
    )
    db.table("attachments").create_index(["seq"], unique=True, if_not_exists=True)
    db.table("attachments").create_index(["card"], if_not_exists=True)
    db.table("attachments").create_index(["sha256"], if_not_exists=True)
    db.table("blob_chunks").create({"sha256": str, "offset": int, "data": bytes}, pk=("sha256", "offset"), if_not_exists=True)
    db.table("blobs").create({"sha256": str, "size": int, "data": bytes}, pk="sha256", if_not_exists=True)


def _migration_import_problems(db: sqlite_utils.Database) -> None:
    """The rows of an import that had problems, with the problems, for the file to fix and import again."""
    if "problems" not in db.table("imports").columns_dict:
        db.table("imports").add_column("problems", str)


def _migration_webhooks(db: sqlite_utils.Database) -> None:
    """Webhooks (sync/outward/webhooks.py): endpoints, the outbox (one row per event per endpoint, written in
    the transaction of the change it reports) and the log of every delivery attempt."""
    db.table("webhook_endpoints").create(
        {
            "id": str,
            "url": str,
            "events": str,
            "secret": str,
            "enabled": int,
            "failing": int,
            "failing_since": str,
            "created_by": str,
            "created_at": str,
            "updated_at": str,
        },
        pk="id",
        not_null={"url", "events", "secret"},
        defaults={"enabled": 1, "failing": 0},
        if_not_exists=True,
    )
    db.execute(
        "CREATE TABLE IF NOT EXISTS webhook_outbox (id INTEGER PRIMARY KEY AUTOINCREMENT, "
        "endpoint TEXT NOT NULL, event TEXT NOT NULL, type TEXT NOT NULL, key TEXT NOT NULL, "
        "body TEXT NOT NULL, created_at TEXT NOT NULL, status TEXT NOT NULL DEFAULT 'pending', "
        "attempts INTEGER NOT NULL DEFAULT 0, first_attempt_at TEXT, next_attempt_at REAL NOT NULL DEFAULT 0, "
        "delivered_at TEXT, UNIQUE(endpoint, event))"
    )
    db.execute("CREATE INDEX IF NOT EXISTS webhook_outbox_due ON webhook_outbox(endpoint, status, key, id)")
    db.table("webhook_attempts").create(
        {
            "id": int,
            "delivery": int,
            "endpoint": str,
            "event": str,
            "at": str,
            "status_code": int,
            "error": str,
            "duration_ms": int,
        },
        pk="id",
        not_null={"delivery", "endpoint", "at"},
        if_not_exists=True,
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
    db.table("pool_entries").create({"card": str, "since": str}, pk="card", if_not_exists=True)
    db.table("claims").create(
        {
            "mutation": str,
            "card": str,
            "user": str,
            "device": str,
            "at": str,
            "since": str,
            "received_at": str,
            "status": str,
            "version": int,
        },
        pk="mutation",
        not_null={"card", "user", "at", "received_at", "status"},
        if_not_exists=True,
    )
    db.table("claims").create_index(["card"], if_not_exists=True)
    db.table("claims").create_index(["user", "received_at"], if_not_exists=True)
    db.table("colleague_hits").create({"card": str, "code": str, "user": str, "at": str}, pk=("card", "code"), if_not_exists=True)
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
