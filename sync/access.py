"""Who may see and change what (contract section 6), as plain predicates over a `User`.

The server authenticates; these functions decide. Sync pulls, card reads and every write ask here.
"""
from __future__ import annotations

from dataclasses import dataclass

ROLES = ("rep", "office", "admin")


@dataclass(frozen=True)
class User:
    name: str
    role: str
    display: str = ""

    @property
    def sees_everything(self) -> bool:
        """Office and admin work on every card; a rep only on their own."""
        return self.role in ("office", "admin")

    @property
    def is_admin(self) -> bool:
        return self.role == "admin"


def can_see(user: User, owner: str) -> bool:
    return user.sees_everything or owner == user.name


def can_reassign(user: User) -> bool:
    return user.sees_everything


def owner_filter(user: User) -> str | None:
    """The owner a query must be restricted to, or None when the user sees every card."""
    return None if user.sees_everything else user.name
