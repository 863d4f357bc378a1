"""Teams (issue 19; contract 7): an admin groups reps under managers. A manager sees and changes
the cards of their team's reps, reassigns within the team, resolves their conflicts and sees
their figures; their phone syncs the team's cards. Changing a team moves that visibility: cards
that leave a manager's view reach their devices as `remove` / `revoked`, cards that enter it are
streamed to them again, whole, with their activities and attachments."""

from __future__ import annotations

import re
import uuid
from typing import Any

from sync import audit, db
from sync.access import User, admin_only
from sync.errors import FieldError, InvalidInput, NotFound
from sync.times import utc_now

NAME_RE = re.compile(r"^[a-z0-9._-]{1,64}$")


def visible_teams(st: db.Store, user: User) -> list[dict[str, Any]]:
    """Office and admins see every team; a manager the teams they manage; a rep their own."""
    with st.read() as conn:
        found = db.teams(conn)
    if user.sees_everything:
        return found
    return [t for t in found if user.name in t["managers"] or user.name in t["members"]]


def _check(conn: Any, body: object) -> tuple[str, list[str], list[str]]:
    if not isinstance(body, dict) or set(body) - {"name", "members", "managers"}:
        raise InvalidInput("send name, members and managers", [FieldError("", "unknown keys")])
    errors: list[FieldError] = []
    name = body.get("name")
    if not isinstance(name, str) or not 1 <= len(name.strip()) <= 100:
        errors.append(FieldError("name", "1–100 characters"))
    lists: dict[str, list[str]] = {}
    for key, role in (("members", "rep"), ("managers", "manager")):
        value = body.get(key, [])
        if not isinstance(value, list) or len(value) > 500 or not all(isinstance(v, str) for v in value):
            errors.append(FieldError(key, "a list of user names"))
            continue
        lists[key] = list(dict.fromkeys(value))
        for i, who in enumerate(lists[key]):
            found = db.user_named(conn, who) if NAME_RE.match(who) else None
            if found is None:
                errors.append(FieldError(f"{key}[{i}]", f"there is no active user named {who[:64]!r}"))
            elif found.role != role:
                errors.append(FieldError(f"{key}[{i}]", f"{who} is {found.role}, not {role}"))
    if errors:
        raise InvalidInput("; ".join(f"{e.path}: {e.message}" for e in errors[:5]), errors)
    return str(name).strip(), lists["members"], lists["managers"]


def save(st: db.Store, admin: User, body: object, team_id: str | None = None) -> dict[str, Any]:
    """Create (no `team_id`) or replace a team, moving what its managers see."""
    admin_only(admin, "may change teams")
    with st.write() as conn:
        name, members, managers = _check(conn, body)
        if team_id is not None and not db.team_exists(conn, team_id):
            raise NotFound("no such team")
        team_id = team_id or str(uuid.uuid4())
        before_team = next((t for t in db.teams(conn) if t["id"] == team_id), None)
        involved = set(managers) | set(before_team["managers"] if before_team else [])
        before = {m: _sees(conn, m) for m in involved}
        db.save_team(conn, team_id, name, members, managers, utc_now())
        seq = db.last_seq(conn)
        for manager in sorted(involved):
            after = _sees(conn, manager)
            for owner in sorted(before[manager] - after - {manager}):
                for card in db.live_card_ids_of(conn, owner):  # leaves their view: `remove` / `revoked`
                    seq += 1
                    db.mark_exit(conn, seq, card, manager, "revoked", None)
            for owner in sorted(after - before[manager] - {manager}):
                for card in db.live_card_ids_of(conn, owner):  # enters it: streamed again, whole
                    seq += 1
                    db.move_card_to_seq(conn, card, seq)
                    for activity in db.activity_ids_of_card(conn, card):
                        seq += 1
                        db.move_activity_to_seq(conn, activity, seq)
                    for attachment in db.attachment_ids_of_card(conn, card):
                        seq += 1
                        db.move_attachment(conn, attachment, card, seq)
        db.set_meta(conn, "seq", str(seq))
        audit.record(conn, admin.name, "team.save", team_id, {"name": name, "members": members, "managers": managers})
        return next(t for t in db.teams(conn) if t["id"] == team_id)


def _sees(conn: Any, manager: str) -> set[str]:
    found = db.user_named(conn, manager)
    return set(found.team) if found is not None else set()
