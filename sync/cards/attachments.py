"""Photos and files on a card or an activity (contract 7; issue 16), kept in SQLite so that
Litestream replicates them and a point-in-time restore brings them back consistent with the cards.

A device declares an attachment with an `attachment.add` mutation (its id, name, type, size and
SHA-256) and uploads the bytes separately, in chunks, resumably:

    GET /api/v1/attachments/{id}/upload            → {"offset": bytes received, "size", "uploaded"}
    PUT /api/v1/attachments/{id}/upload?offset=N   body: the next chunk (at most CHUNK_MAX bytes)

A chunk must start where the server's received bytes end (otherwise 409 with the right offset),
so a chunk the server already has is never sent again, and an upload cut halfway continues where
it stopped. When the last byte arrives the SHA-256 is checked; bytes the server already holds
under the same hash (content addressing) make an attachment uploaded at once.
"""

from __future__ import annotations

import hashlib
import re
import sqlite3
from typing import Any

from sync import db
from sync.errors import Conflict, FieldError, InvalidInput, NotFound, TooLarge
from sync.cards.validate import canonical_uuid

CHUNK_MAX = 1024 * 1024
SIZE_MAX = 10 * 1024 * 1024  # per file (default; issue 16)
QUOTA_PER_USER = 2 * 1024 * 1024 * 1024
SHA_RE = re.compile(r"^[0-9a-f]{64}$")
# What a phone takes or picks in the field. Never HTML, SVG or scripts: they could run in our origin.
ALLOWED_TYPES = frozenset(
    {
        "image/jpeg",
        "image/png",
        "image/webp",
        "image/heic",
        "image/heif",
        "image/gif",
        "application/pdf",
        "text/plain",
        "text/csv",
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
        "application/msword",
        "application/vnd.ms-excel",
        "audio/mpeg",
        "audio/mp4",
        "audio/aac",
    }
)
# Shown in the page (an <img>); everything else is downloaded.
INLINE_TYPES = frozenset({"image/jpeg", "image/png", "image/webp", "image/gif"})
_NAME_BAD = re.compile(r"[\x00-\x1f\x7f/\\\\]")


def validate_declaration(value: Any, *, card_id: str) -> dict[str, Any]:
    """The `attachment` of an `attachment.add` mutation, checked; InvalidInput with paths."""
    if not isinstance(value, dict):
        raise InvalidInput("attachment must be an object", [FieldError("", "must be an object")])
    errors: list[FieldError] = []
    known = {"id", "activity", "name", "type", "size", "sha256"}
    errors += [FieldError(str(k)[:60], "unknown field") for k in value if k not in known]
    out: dict[str, Any] = {}
    try:
        out["id"] = canonical_uuid(value.get("id"))
    except ValueError as error:
        errors.append(FieldError("id", str(error)))
    activity = value.get("activity")
    if activity is None:
        out["activity"] = None
    else:
        try:
            out["activity"] = canonical_uuid(activity)
        except ValueError as error:
            errors.append(FieldError("activity", str(error)))
    name = value.get("name")
    if not isinstance(name, str) or not 1 <= len(name.strip()) <= 200 or _NAME_BAD.search(name):
        errors.append(FieldError("name", "a file name of 1–200 characters, without control characters or slashes"))
    else:
        out["name"] = name.strip()
    kind = value.get("type")
    if kind not in ALLOWED_TYPES:
        errors.append(FieldError("type", f"not an allowed type: {str(kind)[:60]!r} (photos, PDF, Office files, text, audio)"))
    else:
        out["type"] = kind
    size = value.get("size")
    if isinstance(size, bool) or not isinstance(size, int) or not 1 <= size <= SIZE_MAX:
        errors.append(FieldError("size", f"the size in bytes, from 1 to {SIZE_MAX:,}"))
    else:
        out["size"] = size
    digest = value.get("sha256")
    if not isinstance(digest, str) or not SHA_RE.match(digest):
        errors.append(FieldError("sha256", "the SHA-256 of the bytes, as 64 lowercase hex digits"))
    else:
        out["sha256"] = digest
    if errors:
        raise InvalidInput.listing(errors)
    out["card"] = card_id
    return out


def same_declaration(stored: dict[str, Any], declared: dict[str, Any]) -> bool:
    return all(stored.get(k) == declared.get(k) for k in ("card", "activity", "name", "type", "size", "sha256"))


def upload_state(conn: sqlite3.Connection, attachment: dict[str, Any]) -> dict[str, Any]:
    offset = attachment["size"] if attachment["uploaded"] else db.blob_received(conn, attachment["sha256"])
    return {"id": attachment["id"], "offset": offset, "size": attachment["size"], "uploaded": bool(attachment["uploaded"])}


def accept_chunk(conn: sqlite3.Connection, attachment: dict[str, Any], offset: int, chunk: bytes) -> dict[str, Any]:
    """Append one chunk at `offset`; on the last byte check the hash and mark every attachment of
    that content uploaded. Runs in the caller's write transaction."""
    if attachment["uploaded"]:
        return upload_state(conn, attachment)
    received = db.blob_received(conn, attachment["sha256"])
    if offset != received:
        raise Conflict(
            f"the server has {received} bytes of this file: send from offset {received}",
            [FieldError("offset", f"expected {received}")],
        )
    if len(chunk) > CHUNK_MAX:
        raise TooLarge(f"a chunk is at most {CHUNK_MAX} bytes")
    if not chunk:
        raise InvalidInput("an empty chunk", [FieldError("", "send the next bytes of the file")])
    if received + len(chunk) > attachment["size"]:
        raise InvalidInput(
            "more bytes than the declared size", [FieldError("", f"the file was declared as {attachment['size']} bytes")]
        )
    db.append_blob_chunk(conn, attachment["sha256"], received, chunk)
    if received + len(chunk) == attachment["size"]:
        data = db.blob_bytes(conn, attachment["sha256"])
        if hashlib.sha256(data).hexdigest() != attachment["sha256"]:
            db.drop_blob_chunks(conn, attachment["sha256"])
            raise InvalidInput(
                "the bytes do not match the declared SHA-256; upload the file again from offset 0",
                [FieldError("sha256", "does not match the uploaded bytes")],
            )
        db.complete_blob(conn, attachment["sha256"], data)
        mark_uploaded(conn, attachment["sha256"])
        attachment = {**attachment, "uploaded": 1}
    return upload_state(conn, attachment)


def mark_uploaded(conn: sqlite3.Connection, sha256: str) -> None:
    """Every attachment waiting for these bytes is uploaded now, each at a new stream position so
    that the devices that see it pull `uploaded: true`."""
    seq = db.last_seq(conn)
    for attachment_id in db.waiting_for_bytes(conn, sha256):
        seq += 1
        db.mark_uploaded(conn, attachment_id, seq)
    db.set_meta(conn, "seq", str(seq))


def public(attachment: dict[str, Any]) -> dict[str, Any]:
    """As clients see it (contract 7): the declaration, who added it, when, and `uploaded`."""
    keys = ("id", "card", "activity", "name", "type", "size", "sha256", "by", "created_at")
    return {**{k: attachment.get(k) for k in keys}, "uploaded": bool(attachment.get("uploaded"))}


def find(conn: sqlite3.Connection, attachment_id: str) -> dict[str, Any]:
    try:
        attachment_id = canonical_uuid(attachment_id)
    except ValueError:
        raise NotFound("no such attachment") from None
    found = db.attachment_row(conn, attachment_id)
    if found is None:
        raise NotFound("no such attachment")
    return found
