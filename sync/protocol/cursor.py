"""Opaque sync cursors: the position in the change stream, bound to the epoch it came from.

A cursor from another epoch (the database was restored since) is not an error: the engine answers
with `reset`, and the device pulls from the start.
"""

from __future__ import annotations

import base64
import binascii

from sync.errors import invalid

PREFIX = "c1"


def encode(epoch: str, seq: int) -> str:
    raw = f"{PREFIX}:{epoch}:{seq}".encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode(cursor: str) -> tuple[str, int]:
    """(epoch, seq) of a cursor; InvalidInput at path `cursor` if it is not one of ours."""
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        prefix, epoch, seq = base64.urlsafe_b64decode(padded.encode()).decode().rsplit(":", 2)
        number = int(seq)
    except (ValueError, binascii.Error, UnicodeDecodeError):
        raise invalid("cursor", "not a cursor issued by this server; send null to pull from the start") from None
    if prefix != PREFIX or number < 0:
        raise invalid("cursor", "not a cursor issued by this server; send null to pull from the start")
    return epoch, number
