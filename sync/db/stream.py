"""The change stream a device pulls, after its cursor."""

from __future__ import annotations

import sqlite3
from sync.access import OwnerScope
from sync.db.attachments import ATTACHMENT_JSON
from sync.db.cards import owned
from sync.db.rows import StreamRow


def stream_after(conn: sqlite3.Connection, after: int, owner: OwnerScope, user: str, limit: int) -> list[StreamRow]:
    """Up to `limit` stream entries after `after`, oldest first, that `user` may see. Each entry's
    JSON comes as SQLite holds it, UTF-8 bytes (`CAST(... AS BLOB)`): a pull page is joined from
    them and sent, never decoded into Python text and encoded again.

    Three indexed range scans merged in Python: a single UNION ... ORDER BY would sort every
    row past the cursor on each page of a full pull.
    """
    if owner is None:
        cards = conn.execute(
            "SELECT seq, id, CAST(data AS BLOB), deleted, merged_into, erased FROM cards WHERE seq > ? ORDER BY seq LIMIT ?",
            (after, limit),
        ).fetchall()
        acts = conn.execute(
            "SELECT a.seq, a.card, CAST(a.data AS BLOB) FROM activities a JOIN cards c ON c.id = a.card "
            "WHERE a.seq > ? AND c.deleted = 0 ORDER BY a.seq LIMIT ?",
            (after, limit),
        ).fetchall()
        exits: list[tuple] = []
        files = conn.execute(
            f"SELECT a.seq, a.card, CAST({ATTACHMENT_JSON} AS BLOB) FROM attachments a JOIN cards c ON c.id = a.card "
            "WHERE a.seq > ? AND c.deleted = 0 ORDER BY a.seq LIMIT ?",
            (after, limit),
        ).fetchall()
    else:
        # One owner (a rep) or a manager's team: `owner IN (…)` uses the same (owner, seq) index.
        mine, values = owned(owner, "owner")
        theirs, _ = owned(owner, "c.owner")
        cards = conn.execute(
            f"SELECT seq, id, CAST(data AS BLOB), deleted, merged_into, erased FROM cards WHERE seq > ?{mine} ORDER BY seq LIMIT ?",
            (after, *values, limit),
        ).fetchall()
        acts = conn.execute(
            "SELECT a.seq, a.card, CAST(a.data AS BLOB) FROM activities a JOIN cards c ON c.id = a.card "
            f"WHERE a.seq > ?{theirs} AND c.deleted = 0 ORDER BY a.seq LIMIT ?",
            (after, *values, limit),
        ).fetchall()
        exits = conn.execute(
            "SELECT seq, card, reason, into_card FROM exits WHERE user = ? AND seq > ? ORDER BY seq LIMIT ?",
            (user, after, limit),
        ).fetchall()
        files = conn.execute(
            f"SELECT a.seq, a.card, CAST({ATTACHMENT_JSON} AS BLOB) FROM attachments a JOIN cards c ON c.id = a.card "
            f"WHERE a.seq > ?{theirs} AND c.deleted = 0 ORDER BY a.seq LIMIT ?",
            (after, *values, limit),
        ).fetchall()
    rows = [StreamRow(s, "card", i, d, bool(x), "erased" if e else "merged" if m else "deleted", m) for s, i, d, x, m, e in cards]
    rows += [StreamRow(s, "activity", c, d) for s, c, d in acts]
    rows += [StreamRow(s, "exit", c, None, False, r, i) for s, c, r, i in exits]
    rows += [StreamRow(s, "attachment", c, d) for s, c, d in files]
    rows.sort(key=lambda r: r.seq)
    return rows[:limit]
