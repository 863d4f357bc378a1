"""The rows that travel between the store and the engine."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


@dataclass
class CardRow:
    """A stored card with the bookkeeping the merge needs; `card` is the contract's JSON object."""

    card: dict[str, Any]
    clocks: dict[str, list[Any]]  # field -> [at, user, device] of the write that set it (device None: the server)
    seq: int
    merged_into: str | None

    @property
    def id(self) -> str:
        return self.card["id"]

    @property
    def owner(self) -> str:
        return self.card["owner"]

    @property
    def deleted(self) -> bool:
        return bool(self.card["deleted"])

    @property
    def version(self) -> int:
        return int(self.card["version"])


@dataclass(frozen=True)
class StreamRow:
    """One entry of the change stream, still as stored: `kind` is card, activity, attachment or exit."""

    seq: int
    kind: str
    ref: str  # card id
    data: bytes | None  # the stored JSON as UTF-8
    deleted: bool = False
    reason: str | None = None
    into: str | None = None
