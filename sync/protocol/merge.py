"""How one field of a card merges when a device's edit arrives (contract section 4, "Merge rules").

Pure functions over plain JSON values: the engine hands in the stored value, the value the device
saw (`was`) and the value it wants (`new`), and gets back a `FieldOutcome`. Nothing here reads a
clock, a file or a database, so every rule can be tested in three lines.
"""

from __future__ import annotations

import difflib
from dataclasses import dataclass
from typing import Any, Literal

__all__ = [
    "FieldOutcome",
    "Status",
    "merge_lines",
    "merge_notes",
    "merge_scalar",
    "merge_set",
    "values_equal",
]

Status = Literal["unchanged", "applied", "merged", "conflict"]


@dataclass(frozen=True)
class FieldOutcome:
    value: Any  # the field's value after the merge
    status: Status
    # Only for status == "conflict": the value that lost (kept in a conflict record for a person) and
    # whether the incoming value won (True) or the current stored value stayed (False).
    loser: Any = None
    incoming_won: bool = False


def values_equal(a: Any, b: Any) -> bool:
    """Equality as JSON sees it: arrays by position, objects by key, and a bool is not a number.

    Python's `==` says `True == 1` and `[True] == [1]`, which would let a device turn a checkbox
    into a count (or the reverse) without anyone noticing, so booleans are compared apart.
    Tuples count as arrays because JSON has only one sequence type.
    """
    if type(a) is str or a is None:  # the common cases first; the same answer as the last line
        return type(a) is type(b) and a == b
    if isinstance(a, bool) or isinstance(b, bool):
        return isinstance(a, bool) and isinstance(b, bool) and a == b
    if isinstance(a, (int, float)) and isinstance(b, (int, float)):
        return a == b  # JSON has one number type: 1 and 1.0 are the same value
    if isinstance(a, (list, tuple)) and isinstance(b, (list, tuple)):
        return len(a) == len(b) and all(values_equal(x, y) for x, y in zip(a, b))
    if isinstance(a, dict) and isinstance(b, dict):
        return a.keys() == b.keys() and all(values_equal(a[k], b[k]) for k in a)
    # Strings, None, and anything a caller passes that is not JSON: same type and equal.
    return type(a) is type(b) and a == b


def _contains(items: list[Any], value: Any) -> bool:
    # A linear scan rather than a set: elements may be unhashable (custom `choices` could hold
    # objects) and must compare with JSON equality; sets are capped at 20 elements anyway.
    return any(values_equal(item, value) for item in items)


def _same_elements(a: list[Any], b: list[Any]) -> bool:
    return all(_contains(b, x) for x in a) and all(_contains(a, x) for x in b)


def merge_set(current: list[Any], was: list[Any], new: list[Any]) -> FieldOutcome:
    """Apply the device's additions and removals (`was` → `new`) to the stored list.

    Only the difference is replayed, so elements another device added or removed meanwhile stay
    as they are: two reps adding different phone numbers both keep theirs. Sets never conflict.
    """
    added = [x for x in new if not _contains(was, x)]
    removed = [x for x in was if not _contains(new, x)]
    result: list[Any] = []
    # Stored order first, so a card's first phone stays first; duplicates are dropped on the way
    # because these fields are sets (contract section 3).
    for x in current:
        if not _contains(removed, x) and not _contains(result, x):
            result.append(x)
    for x in added:
        if not _contains(result, x):
            result.append(x)
    if values_equal(result, current):
        # Covers a removal someone already made and an addition someone already made.
        return FieldOutcome(result, "unchanged")
    if values_equal(current, was) and _same_elements(result, new):
        # The device edited the latest value. Its element order may still differ from `result`
        # (a reorder is not an add or a remove), but it got every element it asked for.
        return FieldOutcome(result, "applied")
    return FieldOutcome(result, "merged")


def _later_wins(current: Any, new: Any, current_at: str, new_at: str) -> FieldOutcome:
    # HLC strings sort as their clocks do. On a tie (or an unstamped incoming edit) the stored
    # value stays: replacing it would change the card without a reason to prefer the newcomer.
    if new_at > current_at:
        return FieldOutcome(new, "conflict", loser=current, incoming_won=True)
    return FieldOutcome(current, "conflict", loser=new, incoming_won=False)


def merge_scalar(current: Any, was: Any, new: Any, *, current_at: str, new_at: str) -> FieldOutcome:
    """Take `new` if the device saw the stored value; otherwise the later clock wins a conflict.

    `current_at` is the clock of the write that produced `current` ("" when none is known, which
    sorts before every real clock). The losing value is returned so it can be kept in a conflict
    record: no value is dropped silently.
    """
    if values_equal(current, new):
        # Checked before `was`: a device that agrees with the stored value has nothing to say,
        # whatever it thought the value was before.
        return FieldOutcome(current, "unchanged")
    if values_equal(current, was):
        return FieldOutcome(new, "applied")
    return _later_wins(current, new, current_at, new_at)


def merge_notes(current: str | None, was: str | None, new: str | None, *, current_at: str, new_at: str) -> FieldOutcome:
    """Like `merge_scalar`, but concurrent edits to different lines of the notes both survive."""
    if values_equal(current, new):
        return FieldOutcome(current, "unchanged")
    if values_equal(current, was):
        return FieldOutcome(new, "applied")
    # Empty and missing notes are the same text to a line merge.
    merged = merge_lines(was or "", current or "", new or "")
    if merged is None:
        return _later_wins(current, new, current_at, new_at)
    if merged == (current or ""):
        # Everything the device changed is already in the stored notes (e.g. the same line was
        # fixed on two devices): nothing to write, and nothing was combined.
        return FieldOutcome(current, "unchanged")
    return FieldOutcome(merged or None, "merged")  # notes are null rather than "" when empty


# A hunk replaces base lines [start, end) with `lines`; start == end is a pure insertion.
_Hunk = tuple[int, int, tuple[str, ...]]


def _split(text: str) -> list[str]:
    # split("\n") rather than splitlines(): "\n".join undoes it exactly, and the final element
    # ("" when the text ends with a newline) stands for the trailing newline. So appending "c" to
    # "a\nb" is an insertion after "b", not an edit of the line "b" that would collide with an
    # edit of "b" on the other side. It also leaves "\r" and other separators untouched.
    return text.split("\n")


def _hunks(base: list[str], other: list[str]) -> list[_Hunk]:
    # autojunk off: with it, lines repeated in long notes (blank lines) are ignored as anchors,
    # which makes hunks needlessly wide and turns mergeable edits into conflicts.
    matcher = difflib.SequenceMatcher(None, base, other, autojunk=False)
    return [(i1, i2, tuple(other[j1:j2])) for tag, i1, i2, j1, j2 in matcher.get_opcodes() if tag != "equal"]


def _collide(a: _Hunk, b: _Hunk) -> bool:
    if a[0] == a[1] and b[0] == b[1]:
        # Two insertions at the same place: no order of the two is more right than the other.
        return a[0] == b[0]
    # Half-open ranges sharing a base line. An insertion strictly inside the other's range also
    # counts; one at its edge (before its first or after its last line) does not, so a line
    # appended at the end merges with an edit of the last line.
    return a[0] < b[1] and b[0] < a[1]


def merge_lines(base: str, ours: str, theirs: str) -> str | None:
    """Three-way line merge, like diff3: both sides' changes to `base`, or None if they collide.

    Changes are compared in base coordinates. Changes that touch different base lines are both
    applied; the same change made on both sides is applied once; changes to the same lines, or
    two different insertions at the same place, give None so the caller can fall back to a
    conflict for a person. The result does not depend on which side is `ours`.
    """
    base_lines = _split(base)
    mine = _hunks(base_lines, _split(ours))
    others = _hunks(base_lines, _split(theirs))
    # Identical hunks are one change made twice, not a collision.
    hunks = sorted(set(mine) | set(others), key=lambda h: (h[0], h[1]))
    for a in mine:
        for b in others:
            if a != b and _collide(a, b):
                return None
    # Sorting by (start, end) puts an insertion before a change that starts at the same line,
    # and non-colliding hunks never overlap, so one left-to-right pass rebuilds the text.
    out: list[str] = []
    pos = 0
    for start, end, lines in hunks:
        out.extend(base_lines[pos:start])
        out.extend(lines)
        pos = end
    out.extend(base_lines[pos:])
    return "\n".join(out)
