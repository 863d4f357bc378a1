"""Point-in-time restore: Litestream restores into a scratch file while the server still serves;
then, in a short maintenance window, the live file is kept as `pre-restore-<time>.db`, the
restored one takes its place under a new epoch, and replication starts again. Devices see the
new epoch, re-send their journals, and the work the restore rolled back comes back.
"""

from __future__ import annotations

import json
import os
import sqlite3
from collections.abc import Callable
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from sync import audit, db
from sync import journal
from sync.office import replay
from sync.protocol.engine import Engine
from sync.times import utc_now
from sync.errors import invalid
from sync.db import Store

from ..config import Config
from .litestream import BackupError, Replicator, restore_to
from .snapshot import open_snapshot

ROLLED_BACK_SHOWN = 50
PENDING_REPLAY = "pending_replay"
# Every file a restore works on before it is done carries this prefix: a restore killed midway
# leaves only such files, and the next start removes them.
SCRATCH = "restore-scratch-"


def parse_moment(text: str) -> str | None:
    """RFC 3339 (any offset, fractional seconds allowed) as UTC `…Z`; None for `latest`."""
    if text.strip().lower() == "latest":
        return None
    try:
        moment = datetime.fromisoformat(text.strip().replace("Z", "+00:00").replace("z", "+00:00"))
    except ValueError:
        raise invalid("to", f"not a time: {text[:40]!r}; use RFC 3339 like 2026-11-24T09:30:00Z, or latest") from None
    if moment.tzinfo is None:
        raise invalid("to", "the time needs a zone, like 2026-11-24T09:30:00Z or +08:00")
    return moment.astimezone(timezone.utc).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def _stamp() -> str:
    return datetime.now(timezone.utc).strftime("%Y%m%dT%H%M%SZ")


def read_database(path: Path) -> tuple[str, dict[str, int], dict[str, Any] | None]:
    """Integrity, counts and latest change of a database file (a scratch restore or a drill)."""
    conn = db.connect(path)
    try:
        return db.integrity(conn), db.counts(conn), db.latest_change(conn)
    finally:
        conn.close()


def _checked(path: Path) -> str:
    """`ok` when the file is a whole Fieldcards database: integrity checked and its tables there."""
    try:
        check, _, _ = read_database(path)
    except sqlite3.DatabaseError as error:  # an empty or cut-off copy has no tables
        return str(error)
    return check


def _sync_dir(directory: Path) -> None:
    """Make the renames in `directory` durable: a power cut must not undo a swap half way."""
    fd = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def clean_leftovers(data_dir: Path) -> list[Path]:
    """Remove what a restore killed midway left (scratch databases, an unfinished copy of the
    previous one, their -wal and -shm). Called at start, before anything opens the database."""
    removed = []
    for leftover in sorted(data_dir.glob(SCRATCH + "*")):
        if leftover.is_file():
            leftover.unlink(missing_ok=True)
            removed.append(leftover)
    return removed


class Restorer:
    """Restores the database of one server (or of a stopped data directory, from the CLI)."""

    def __init__(
        self,
        config: Config,
        st: Store,
        replicator: Replicator | None,
        set_maintenance: Callable[[str | None], None] = lambda reason: None,
        engine: Engine | None = None,
    ) -> None:
        self.config = config
        self.store = st
        self.replicator = replicator
        self.set_maintenance = set_maintenance
        # The engine re-applies the server's journaled work after the swap (the CLI has none running).
        self.engine = engine or Engine(st, default_region=config.default_region)

    def _scratch(self, moment: str | None) -> Path:
        scratch = restore_to(self.config, moment, self.config.data_dir / f"{SCRATCH}{_stamp()}.db")
        check, _, _ = read_database(scratch)
        if check != "ok":
            scratch.unlink(missing_ok=True)
            raise BackupError(f"the restored database failed its integrity check: {check}")
        return scratch

    def _preview(self, scratch: Path, moment: str | None) -> dict[str, Any]:
        _, then, latest_then = read_database(scratch)
        conn = db.connect(scratch)
        try:
            journal_then = db.last_journal_id(conn) if db.has_journal(conn) else 0
        finally:
            conn.close()
        with self.store.read() as conn:
            now = db.counts(conn)
            after = latest_then["id"] if latest_then else 0
            rolled_back = db.count_history_after(conn, after)
            shown = db.history_after(conn, after, ROLLED_BACK_SHOWN)
            sources = db.history_sources_after(conn, after)
            server_work = db.journal_after(conn, journal_then)
            devices = {d["id"]: d for d in db.all_devices(conn)}
        return {
            "to": moment or "latest",
            "then": then,
            "now": now,
            "rolled_back": {"changes": rolled_back, "first": shown},
            **_what_comes_back(sources, server_work, devices),
        }

    def preview(self, text: str) -> dict[str, Any]:
        """What a restore to `text` would give and roll back; writes nothing."""
        moment = parse_moment(text)
        scratch = self._scratch(moment)
        try:
            return self._preview(scratch, moment)
        finally:
            scratch.unlink(missing_ok=True)

    def restore(self, text: str, *, by: str, exclude: list[int] | None = None) -> dict[str, Any]:
        """Restore to `text`; `exclude` names journal entries of server work (from the preview's
        `server_work.entries`) not to re-apply, e.g. the bad import the restore is meant to undo."""
        moment = parse_moment(text)
        return self._adopt(self._scratch(moment), moment, by=by, action="backup.restore", excluded=set(exclude or []))

    def snapshot_scratch(self, snapshot: Path, key_path: Path) -> tuple[Path, dict[str, Any]]:
        """Decrypt an encrypted snapshot into a checked scratch file; returns it with its header."""
        scratch = self.config.data_dir / f"{SCRATCH}{_stamp()}.db"
        header = open_snapshot(snapshot, key_path, scratch)
        check, _, _ = read_database(scratch)
        if check != "ok":
            scratch.unlink(missing_ok=True)
            raise BackupError(f"the snapshot decrypted but failed its integrity check: {check}")
        return scratch, header

    def preview_snapshot(self, snapshot: Path, key_path: Path) -> dict[str, Any]:
        scratch, header = self.snapshot_scratch(snapshot, key_path)
        try:
            return self._preview(scratch, header["created_at"]) | {"snapshot": str(snapshot)}
        finally:
            scratch.unlink(missing_ok=True)

    def restore_snapshot(self, snapshot: Path, key_path: Path, *, by: str) -> dict[str, Any]:
        scratch, header = self.snapshot_scratch(snapshot, key_path)
        return self._adopt(
            scratch, header["created_at"], by=by, action="backup.restore_snapshot", extra={"snapshot": str(snapshot)}
        )

    def _adopt(
        self,
        scratch: Path,
        moment: str | None,
        *,
        by: str,
        action: str,
        extra: dict[str, Any] | None = None,
        excluded: set[int] | None = None,
    ) -> dict[str, Any]:
        """Make a checked scratch file the live database: preview, stamp, swap, then re-apply the
        server's own work that the restore rolled back (all under maintenance)."""
        excluded = excluded or set()
        try:
            preview = self._preview(scratch, moment)
            offered = {e["id"] for e in preview["server_work"]["entries"] if e["kind"] not in journal.NEVER_EXCLUDED}
            unknown = sorted(excluded - offered)
            if unknown:
                raise invalid(
                    "exclude", f"not server work after the restore point that may be excluded (erasures never are): {unknown[:5]}"
                )
            with self.store.read() as conn:
                known_devices = [d["id"] for d in db.all_devices(conn) if not d["revoked_at"]]
            record = {
                "to": moment or "latest",
                "at": utc_now(),
                "by": by,
                "preview_then": preview["then"],
                "rolled_back": preview["rolled_back"]["changes"],
                "devices": known_devices,
                "excluded": sorted(excluded),
                **(extra or {}),
            }
            self.set_maintenance(f"restoring to {moment or 'the latest replica'}")
            try:
                epoch = self._stamp_scratch(scratch, record, action)
                kept = self._swap(scratch)
                replayed = self.finish_pending()
            finally:
                self.set_maintenance(None)
        finally:
            scratch.unlink(missing_ok=True)
        return {**record, "epoch": epoch, "pre_restore": str(kept), "preview": preview, "reapplied": replayed}

    def finish_pending(self) -> dict[str, Any] | None:
        """Re-apply the journal entries a restore carried forward, if any are waiting. Called right
        after the swap, and at start (a restore killed after its swap finishes here)."""
        with self.store.read() as conn:
            raw = db.meta_value(conn, PENDING_REPLAY)
            if not raw:
                return None
            pending = json.loads(raw)
            entries = db.journal_after(conn, pending["after"])
        outcome = replay.replay(self.engine, entries, set(pending["excluded"]))
        with self.store.write() as conn:
            db.delete_meta(conn, PENDING_REPLAY)
            audit.record(conn, pending["by"], "backup.reapply", pending["to"], outcome)
        return outcome

    def _stamp_scratch(self, scratch: Path, record: dict[str, Any], action: str) -> str:
        """New epoch, the audit entries written since the restore point (the audit log is never
        rolled back) and the restore itself go into the restored file before it goes live, so no
        request can ever see the restored data under the old epoch."""
        conn = db.connect(scratch)
        try:
            db.migrate(conn)
            db.begin(conn)
            epoch = db.begin_new_epoch(conn)
            db.set_meta(conn, "last_restore", json.dumps({**record, "epoch": epoch}, ensure_ascii=False))
            with self.store.read() as live:
                audit.copy_entries(live, conn)
                # Access is never rolled back: a token revoked, a user disabled or a phone revoked
                # after the restore point stays so, and a user made after it keeps working.
                # (A live database with no users is a fresh one after the disk was lost: then the
                # restored access state is all there is, and it stays.)
                has_people = db.user_count(live) > 0
                access = db.copy_access_state(live, conn) if has_people else {}
                # The server's own work after the point comes forward too, to be re-applied.
                after = db.last_journal_id(conn)
                carried = journal.carry_forward(live, conn)
                # The drill record describes the replica, not the data: it must not roll back either.
                last_drill = db.meta_value(live, "last_drill")
            if last_drill:
                db.set_meta(conn, "last_drill", last_drill)
            for entry_id in record.get("excluded", []):
                db.exclude_journal_entry(conn, entry_id, record["at"], record["by"])
            db.set_meta(
                conn,
                PENDING_REPLAY,
                json.dumps({"after": after, "excluded": record.get("excluded", []), "by": record["by"], "to": record["to"]}),
            )
            detail = {
                "rolled_back": record["rolled_back"],
                "epoch": epoch,
                "access_kept": access,
                "server_work": journal.count_by_kind(carried),
                "excluded": record.get("excluded", []),
            }
            if "snapshot" in record:
                detail["snapshot"] = record["snapshot"]
            audit.record(conn, record["by"], action, record["to"], detail)
            db.commit(conn)
            return epoch
        finally:
            conn.close()

    def _swap(self, scratch: Path) -> Path:
        """Maintenance is on: stop replication, keep the live file, put the restored one in place.

        Killed at any step, the data directory holds a database a restart opens whole, the old
        or the restored one: the copy of the live file is named `pre-restore-*` only once it is
        complete and checked, and both WALs are emptied into their files before the rename, so
        the restored file never meets the old file's WAL (SQLite would replay it onto it)."""
        try:
            if self.replicator is not None:
                self.replicator.stop()  # a file replaced under a running Litestream stops backups silently
            live = self.config.db_path
            stamp = _stamp()
            kept = self.config.data_dir / f"pre-restore-{stamp}.db"
            copying = self.config.data_dir / f"{SCRATCH}{stamp}-previous.db"
            with self.store.swapped():
                db.copy_database(live, copying)
                check = _checked(copying)
                if check != "ok":
                    copying.unlink(missing_ok=True)
                    raise BackupError(f"the copy of the live database failed its check ({check}); nothing was restored")
                copying.replace(kept)
                if not (db.empty_wal(scratch) and db.empty_wal(live)):
                    raise BackupError("a reader kept the database busy; nothing was restored, try again")
                scratch.replace(live)
                for suffix in ("-wal", "-shm"):
                    Path(f"{live}{suffix}").unlink(missing_ok=True)
                _sync_dir(self.config.data_dir)
            return kept
        finally:
            if self.replicator is not None:
                self.replicator.start()


# Where a device's changes come from, by the `device` recorded in history.
SERVER_DEVICES = ("import:", "undo:", "merge:", "unmerge:")


def _what_comes_back(
    sources: list[tuple[str | None, str, int]], server_work: list[dict[str, Any]], devices: dict[str, dict[str, Any]]
) -> dict[str, Any]:
    """The preview's account of the rolled-back work, by kind and count: what phones are expected
    to re-send, what the server re-applies from its journal (each entry can be excluded), and
    what will not come back (changes from revoked devices, or server writes with no journal)."""
    from_devices: dict[str, dict[str, Any]] = {}
    lost: dict[str, Any] = {"changes": 0, "devices": []}
    for device, user, count in sources:
        if not device or device.startswith(SERVER_DEVICES):
            continue  # the server's own work: counted from its journal below
        known = devices.get(device)
        if known is None or known.get("revoked_at"):
            lost["changes"] += count
            lost["devices"].append(device)
            continue
        entry = from_devices.setdefault(device, {"id": device, "user": user, "changes": 0})
        entry["changes"] += count
    return {
        "device_work": {
            "changes": sum(d["changes"] for d in from_devices.values()),
            "devices": sorted(from_devices.values(), key=lambda d: d["id"]),
        },
        "server_work": {"by_kind": journal.count_by_kind(server_work), "entries": journal.describe(server_work)},
        "lost": lost,
    }


def restore_status(st: Store) -> dict[str, Any] | None:
    """The last restore and the devices that have not synced since (their work may still be out there)."""
    with st.read() as conn:
        raw = db.meta_value(conn, "last_restore")
        if not raw:
            return None
        record = json.loads(raw)
        devices = {d["id"]: d for d in db.all_devices(conn)}
    waiting = [
        {"id": d, "user": devices.get(d, {}).get("user"), "last_sync": devices.get(d, {}).get("last_sync")}
        for d in record.get("devices", [])
        if (devices.get(d, {}).get("last_sync") or "") < record["at"]
    ]
    return {k: v for k, v in record.items() if k != "devices"} | {"devices_not_synced": waiting}
