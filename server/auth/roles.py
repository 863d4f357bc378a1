"""Role gates for endpoints; per-card rights live in `sync.access`."""
from __future__ import annotations

from sync.access import User
from sync.errors import NotAllowed


def require_admin(user: User) -> None:
    if not user.is_admin:
        raise NotAllowed("only admins may do this")


def require_office(user: User) -> None:
    if not user.sees_everything:
        raise NotAllowed("only office staff and admins may do this")
