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

    code = "error"
    status = 400

    def __init__(self, message: str, fields: list[FieldError] | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.fields = list(fields or [])

    def to_json(self) -> dict:
        # `fields` is always present (contract 7), an empty list when no single value is at fault.
        body: dict = {"code": self.code, "message": self.message, "fields": [f.to_json() for f in self.fields]}
        return {"error": body}


class InvalidInput(FieldcardsError):
    """The input breaks a rule; `fields` says which value and why."""

    code = "invalid_request"
    status = 400

    def under(self, prefix: str) -> "InvalidInput":
        return InvalidInput(self.message, [f.under(prefix) for f in self.fields])


class Unauthenticated(FieldcardsError):
    code = "unauthenticated"
    status = 401


class NotAllowed(FieldcardsError):
    code = "forbidden"
    status = 403


class NotFound(FieldcardsError):
    code = "not_found"
    status = 404


class Conflict(FieldcardsError):
    code = "conflict"
    status = 409


class Gone(FieldcardsError):
    """Something that existed and is no more (an expired, used or withdrawn customer link)."""

    code = "gone"
    status = 410


class TooLarge(FieldcardsError):
    code = "too_large"
    status = 413


class TooSlow(FieldcardsError):
    """The request body did not arrive in time."""

    code = "timeout"
    status = 408


class RetryLater(FieldcardsError):
    """An answer that tells the client when to try again (the `Retry-After` header)."""

    def __init__(self, message: str, retry_after: int = 30) -> None:
        super().__init__(message)
        self.retry_after = retry_after


class RateLimited(RetryLater):
    code = "rate_limited"
    status = 429


class Busy(RetryLater):
    """Heavy work (exports, imports, reports) is queued full; the caller retries later."""

    code = "busy"
    status = 429


class Maintenance(RetryLater):
    """The database is being restored; clients retry after `retry_after` seconds."""

    code = "maintenance"
    status = 503


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
