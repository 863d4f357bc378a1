"""Devices as people see them: the name a user gives their phone ("王伟的华为"), so that a lost
one is recognised in the admin's list next to its model, last sync and unsent count."""

from __future__ import annotations

import unicodedata
from typing import Any

from sync import db
from sync.access import User
from sync.errors import NotFound, invalid
from sync.db import Store

MAX_NAME = 60


def clean_name(value: Any) -> str | None:
    """A device name: text of at most 60 characters without control characters; "" clears it."""
    if not isinstance(value, str):
        raise invalid("name", 'a text of at most 60 characters, or "" to clear it')
    name = " ".join(value.split())
    if len(name) > MAX_NAME:
        raise invalid("name", f"at most {MAX_NAME} characters (this has {len(name)})")
    if any(unicodedata.category(ch) in ("Cc", "Cf", "Cs", "Co", "Cn") for ch in name):
        raise invalid("name", "no control or invisible characters")
    return name or None


def rename(st: Store, user: User, device: str, value: Any) -> dict[str, Any]:
    """Name a device: one's own, or any as an admin. Another user's device is not found (its
    existence is not revealed)."""
    name = clean_name(value)
    with st.write() as conn:
        found = db.device_of(conn, device)
        if found is None or (found["user"] != user.name and user.role != "admin"):
            raise NotFound("no such device")
        db.name_device(conn, device, name)
        return db.device_of(conn, device) or found
