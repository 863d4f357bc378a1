"""Restore drills: prove the replica restores. The latest replica is restored into a scratch
directory, checked with `PRAGMA integrity_check`, and compared with the live database (card and
activity counts, the latest change). The result is recorded; the server runs one a day."""

from __future__ import annotations

import json
import tempfile
import time
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from sync import audit, db
from sync.times import utc_now
from sync.db import Store

from ..config import Config
from .litestream import BackupError, restore_to
from .restore import read_database

# Changes younger than this may not have reached the replica yet: replication lag, not a failure.
LAG_ALLOWED_S = 60


def _age_seconds(received_at: str) -> float:
    moment = datetime.fromisoformat(received_at.replace("Z", "+00:00"))
    return (datetime.now(timezone.utc) - moment).total_seconds()


def run_drill(config: Config, st: Store) -> dict[str, Any]:
    started = time.monotonic()
    result: dict[str, Any] = {"at": utc_now(), "ok": False}
    with tempfile.TemporaryDirectory(dir=config.data_dir, prefix="drill-") as scratch_dir:
        try:
            restored = restore_to(config, None, Path(scratch_dir) / "drill.db")
            check, restored_counts, restored_latest = read_database(restored)
            with st.read() as conn:
                live_counts = db.counts(conn)
                live_latest = db.latest_change(conn)
                behind = db.history_after(conn, restored_latest["id"] if restored_latest else 0, 1000)
            stale = [h for h in behind if _age_seconds(h["received_at"]) > LAG_ALLOWED_S]
            result.update(
                integrity=check,
                restored=restored_counts,
                live=live_counts,
                restored_latest=restored_latest,
                live_latest=live_latest,
                behind=len(behind),
            )
            if check != "ok":
                result["message"] = f"the restored database is damaged: {check}"
            elif stale:
                result["message"] = (
                    f"the replica is missing {len(behind)} changes, the oldest from "
                    f"{stale[0]['received_at']}: replication is behind or broken"
                )
            else:
                result["ok"] = True
                result["message"] = (
                    f"restored {restored_counts['cards']} cards and {restored_counts['activities']} "
                    f"activities; {len(behind)} changes of the last {LAG_ALLOWED_S} s still in flight"
                )
        except BackupError as error:
            result["message"] = str(error)
    result["seconds"] = round(time.monotonic() - started, 2)
    with st.write() as conn:
        db.set_meta(conn, "last_drill", json.dumps(result, ensure_ascii=False))
        audit.record(conn, "system", "backup.drill", "passed" if result["ok"] else "failed", {"message": result.get("message")})
    with open(config.data_dir / "drills.jsonl", "a", encoding="utf-8") as log:
        log.write(json.dumps(result, ensure_ascii=False) + "\n")
    return result


def last_drill(st: Store) -> dict[str, Any] | None:
    with st.read() as conn:
        raw = db.meta_value(conn, "last_drill")
    return json.loads(raw) if raw else None
