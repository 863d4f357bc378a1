"""The one exception hierarchy of Fieldcards, modelled on httpx's `_exceptions.py`.

The server maps each class to an HTTP status and the contract's error shape in one handler;
the sync engine turns the same classes into per-mutation `rejected` results.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class FieldError:
    """One problem with one input value: `path` in the contract's dotted/indexed form."""

    path: str
    message: str

    def to_json(self) -> dict[str, str]:
        return {"path": self.path, "message": self.message}

    def under(self, prefix: str) -> "FieldError":
        """The same error seen from an enclosing object: `phones[0]` under `fields`."""
        if not prefix:
            return self
        if not self.path:
            return FieldError(prefix, self.message)
        joiner = "" if self.path.startswith("[") else "."
        return FieldError(f"{prefix}{joiner}{self.path}", self.message)


class FieldcardsError(Exception):
    """Base of every error we raise on purpose. `code` is the contract's stable error code."""

    code: str = "error"
    status: int = 400

    def __init_subclass__(cls, code: str | None = None, status: int | None = None, **rest: Any) -> None:
        # `class NotFound(FieldcardsError, code="not_found", status=404)`: the code and the HTTP
        # status side by side in the class line, where a reader of this file looks for them.
        super().__init_subclass__(**rest)
        if code is not None:
            cls.code = code
        if status is not None:
            cls.status = status

    def __init__(self, message: str, fields: list[FieldError] | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.fields = list(fields or [])

    def to_json(self) -> dict:
        # `fields` is always present (contract 7), an empty list when no single value is at fault.
        body: dict = {"code": self.code, "message": self.message, "fields": [f.to_json() for f in self.fields]}
        return {"error": body}


class InvalidInput(FieldcardsError, code="invalid_request", status=400):
    """The input breaks a rule; `fields` says which value and why."""

    @classmethod
    def listing(cls, errors: list[FieldError]) -> "InvalidInput":
        """The error for every problem found in one object; its message names the first five."""
        return cls("; ".join(f"{e.path}: {e.message}" for e in errors[:5]), errors)

    def under(self, prefix: str) -> "InvalidInput":
        return InvalidInput(self.message, [f.under(prefix) for f in self.fields])


class Unauthenticated(FieldcardsError, code="unauthenticated", status=401):
    """No valid token or session: the caller must sign in."""


class NotAllowed(FieldcardsError, code="forbidden", status=403):
    """Signed in, but this role may not do this."""


class NotFound(FieldcardsError, code="not_found", status=404):
    """No such thing, or one the caller may not see (never told apart)."""


class Conflict(FieldcardsError, code="conflict", status=409):
    """It exists already, or clashes with what is stored."""


class Gone(FieldcardsError, code="gone", status=410):
    """Something that existed and is no more (an expired, used or withdrawn customer link)."""


class TooLarge(FieldcardsError, code="too_large", status=413):
    """A body, file or list over its limit."""


class TooSlow(FieldcardsError, code="timeout", status=408):
    """The request body did not arrive in time."""


class RetryLater(FieldcardsError):
    """An answer that tells the client when to try again (the `Retry-After` header)."""

    def __init__(self, message: str, retry_after: int = 30) -> None:
        super().__init__(message)
        self.retry_after = retry_after


class RateLimited(RetryLater, code="rate_limited", status=429):
    """Too many tries from one address or for one link; retry after the wait."""


class Busy(RetryLater, code="busy", status=429):
    """Heavy work (exports, imports, reports) is queued full; the caller retries later."""


class Maintenance(RetryLater, code="maintenance", status=503):
    """The database is being restored; clients retry after `retry_after` seconds."""


def invalid(path: str, message: str) -> InvalidInput:
    """Shorthand for the common single-field error."""
    return InvalidInput(f"{path}: {message}" if path else message, [FieldError(path, message)])


def still_undoable(record: tuple[Any, ...] | None, undone_at: int, what: str) -> tuple[Any, ...]:
    """The stored record of an import or a merge that may be undone: NotFound when there is none,
    invalid when its `undone_at` column (at that index) says it was undone already."""
    if record is None:
        raise NotFound(f"no such {what}")
    if record[undone_at]:
        raise invalid(what, f"this {what} was undone already")
    return record
