"""Point-in-time restore: Litestream restores into a scratch file while the server still serves;
then, in a short maintenance window, the live file is kept as `pre-restore-<time>.db`, the
restored one takes its place under a new epoch, and replication starts again. Devices see the
new epoch, re-send their journals, and the work the restore rolled back comes back.
"""
from __future__ import annotations

import json
from collections.abc import Callable
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from sync import audit, store
from sync.engine import utc_now
from sync.errors import invalid
from sync.store import Store

from ..config import Config
from .litestream import BackupError, Replicator, restore_to
from .snapshot import open_snapshot

ROLLED_BACK_SHOWN = 50


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


def _read(path: Path) -> tuple[str, dict[str, int], dict[str, Any] | None]:
    conn = store.connect(path)
    try:
        return store.integrity(conn), store.counts(conn), store.latest_change(conn)
    finally:
        conn.close()


class Restorer:
    """Restores the database of one server (or of a stopped data directory, from the CLI)."""

    def __init__(self, config: Config, st: Store, replicator: Replicator | None,
                 set_maintenance: Callable[[str | None], None] = lambda reason: None) -> None:
        self.config = config
        self.store = st
        self.replicator = replicator
        self.set_maintenance = set_maintenance

    def _scratch(self, moment: str | None) -> Path:
        scratch = restore_to(self.config, moment, self.config.data_dir / f"restore-scratch-{_stamp()}.db")
        check, _, _ = _read(scratch)
        if check != "ok":
            scratch.unlink(missing_ok=True)
            raise BackupError(f"the restored database failed its integrity check: {check}")
        return scratch

    def _preview(self, scratch: Path, moment: str | None) -> dict[str, Any]:
        _, then, latest_then = _read(scratch)
        with self.store.read() as conn:
            now = store.counts(conn)
            after = latest_then["id"] if latest_then else 0
            rolled_back = store.count_history_after(conn, after)
            shown = store.history_after(conn, after, ROLLED_BACK_SHOWN)
        return {"to": moment or "latest", "then": then, "now": now,
                "rolled_back": {"changes": rolled_back, "first": shown}}

    def preview(self, text: str) -> dict[str, Any]:
        """What a restore to `text` would give and roll back; writes nothing."""
        moment = parse_moment(text)
        scratch = self._scratch(moment)
        try:
            return self._preview(scratch, moment)
        finally:
            scratch.unlink(missing_ok=True)

    def restore(self, text: str, *, by: str) -> dict[str, Any]:
        moment = parse_moment(text)
        return self._adopt(self._scratch(moment), moment, by=by, action="backup.restore")

    def snapshot_scratch(self, snapshot: Path, key_path: Path) -> tuple[Path, dict[str, Any]]:
        """Decrypt an encrypted snapshot into a checked scratch file; returns it with its header."""
        scratch = self.config.data_dir / f"restore-scratch-{_stamp()}.db"
        header = open_snapshot(snapshot, key_path, scratch)
        check, _, _ = _read(scratch)
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
        return self._adopt(scratch, header["created_at"], by=by, action="backup.restore_snapshot",
                           extra={"snapshot": str(snapshot)})

    def _adopt(self, scratch: Path, moment: str | None, *, by: str, action: str,
               extra: dict[str, Any] | None = None) -> dict[str, Any]:
        """Make a checked scratch file the live database: preview, stamp, swap."""
        try:
            preview = self._preview(scratch, moment)
            with self.store.read() as conn:
                known_devices = [d["id"] for d in store.all_devices(conn) if not d["revoked_at"]]
            record = {"to": moment or "latest", "at": utc_now(), "by": by, "preview_then": preview["then"],
                      "rolled_back": preview["rolled_back"]["changes"], "devices": known_devices, **(extra or {})}
            self.set_maintenance(f"restoring to {moment or 'the latest replica'}")
            try:
                epoch = self._stamp_scratch(scratch, record, action)
                kept = self._swap(scratch)
            finally:
                self.set_maintenance(None)
        finally:
            scratch.unlink(missing_ok=True)
        return {**record, "epoch": epoch, "pre_restore": str(kept), "preview": preview}

    def _stamp_scratch(self, scratch: Path, record: dict[str, Any], action: str) -> str:
        """New epoch, the audit entries written since the restore point (the audit log is never
        rolled back) and the restore itself go into the restored file before it goes live, so no
        request can ever see the restored data under the old epoch."""
        conn = store.connect(scratch)
        try:
            store.migrate(conn)
            conn.execute("BEGIN IMMEDIATE")
            epoch = store.begin_new_epoch(conn)
            store.set_meta(conn, "last_restore", json.dumps({**record, "epoch": epoch}, ensure_ascii=False))
            with self.store.read() as live:
                audit.copy_entries(live, conn)
                # The drill record describes the replica, not the data: it must not roll back either.
                last_drill = store.meta_value(live, "last_drill")
            if last_drill:
                store.set_meta(conn, "last_drill", last_drill)
            detail = {"rolled_back": record["rolled_back"], "epoch": epoch}
            if "snapshot" in record:
                detail["snapshot"] = record["snapshot"]
            audit.record(conn, record["by"], action, record["to"], detail)
            conn.execute("COMMIT")
            return epoch
        finally:
            conn.close()

    def _swap(self, scratch: Path) -> Path:
        """Maintenance is on: stop replication, keep the live file, put the restored one in place."""
        try:
            if self.replicator is not None:
                self.replicator.stop()  # a file replaced under a running Litestream stops backups silently
            db = self.config.db_path
            kept = self.config.data_dir / f"pre-restore-{_stamp()}.db"
            with self.store.swapped():
                store.copy_database(db, kept)
                scratch.replace(db)
                for suffix in ("-wal", "-shm"):
                    Path(f"{db}{suffix}").unlink(missing_ok=True)
            return kept
        finally:
            if self.replicator is not None:
                self.replicator.start()


def restore_status(st: Store) -> dict[str, Any] | None:
    """The last restore and the devices that have not synced since (their work may still be out there)."""
    with st.read() as conn:
        raw = store.meta_value(conn, "last_restore")
        if not raw:
            return None
        record = json.loads(raw)
        devices = {d["id"]: d for d in store.all_devices(conn)}
    waiting = [
        {"id": d, "user": devices.get(d, {}).get("user"), "last_sync": devices.get(d, {}).get("last_sync")}
        for d in record.get("devices", [])
        if (devices.get(d, {}).get("last_sync") or "") < record["at"]
    ]
    return {k: v for k, v in record.items() if k != "devices"} | {"devices_not_synced": waiting}

