"""Who may see and change what (contract section 6), as plain predicates over a `User`.

The server authenticates; these functions decide. Sync pulls, card reads and every write ask here.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from sync.errors import NotAllowed

ROLES = ("rep", "manager", "office", "admin")
# What a query is restricted to: one owner (a rep), several (a manager's team), or None (everyone).
OwnerScope = str | tuple[str, ...] | None


@dataclass(frozen=True)
class User:
    name: str
    role: str
    display: str = ""
    # A manager's team: the reps whose cards they see and change (loaded when they sign in).
    team: frozenset[str] = field(default_factory=frozenset)

    @property
    def sees_everything(self) -> bool:
        """Office and admin work on every card; a rep only on their own."""
        return self.role in ("office", "admin")

    @property
    def is_admin(self) -> bool:
        return self.role == "admin"


def can_see(user: User, owner: str | None) -> bool:
    return user.sees_everything or owner == user.name or (user.role == "manager" and owner in user.team)


def can_reassign(user: User, new_owner: str | None = None) -> bool:
    """Office and admins give any card to anyone; a manager within their team (and to themselves)."""
    if user.sees_everything:
        return True
    return user.role == "manager" and (new_owner is None or new_owner == user.name or new_owner in user.team)


def owner_filter(user: User) -> OwnerScope:
    """The owner(s) a query must be restricted to, or None when the user sees every card."""
    if user.sees_everything:
        return None
    if user.role == "manager":
        return tuple(sorted(user.team | {user.name}))
    return user.name


def office_only(user: User, action: str) -> None:
    """Office staff and admins only: anyone else is refused with "only office staff and admins <action>"."""
    if not user.sees_everything:
        raise NotAllowed(f"only office staff and admins {action}")


def admin_only(user: User, action: str) -> None:
    """Admins only: anyone else is refused with "only admins <action>"."""
    if not user.is_admin:
        raise NotAllowed(f"only admins {action}")
