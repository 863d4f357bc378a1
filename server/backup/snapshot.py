"""Encrypted snapshots: a second backup location that does not trust where it is kept.

Litestream 0.5 cannot encrypt its replica, so a copy that must survive a lost or leaked bucket is
written here: a consistent copy through SQLite's backup API, checked, then sealed with AES-256-GCM
under a key file that lives apart from the data.

File layout (all integers big-endian):

    MAGIC (8 bytes) | header length (4) | header (JSON) | chunk*
    chunk = ciphertext length (4) | AES-GCM ciphertext with its 16-byte tag

Each chunk holds up to CHUNK bytes of the database. The per-file key is HKDF(key file, salt from
the header); the nonce is the header's 7-byte prefix, the chunk index (4) and a final flag (1), so
chunks cannot be reordered, dropped or cut off without the tag failing (the STREAM construction),
and the whole header is the associated data of every chunk, so it cannot be altered either.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import os
import secrets
import stat
import struct
from collections.abc import Iterator
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, BinaryIO

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from sync import db

from ..config import Config
from .litestream import BackupError

MAGIC = b"FCSNAP01"
SUFFIX = ".fcsnap"
CHUNK = 1024 * 1024
KEY_PREFIX = "fieldcards-snapshot-key-v1:"
_LENGTH = struct.Struct(">I")
MAX_HEADER = 64 * 1024


class SnapshotError(BackupError):
    """A snapshot that cannot be written or read; the message says what to do."""


# --- the key file ------------------------------------------------------------------------------


def create_key(path: Path) -> str:
    """Write a new random key to `path` (mode 0600, never over an existing file); returns its id."""
    key = secrets.token_bytes(32)
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        raise SnapshotError(
            f"{path} exists already; a key is never overwritten (it may be the only way to open older snapshots)"
        ) from None
    with os.fdopen(fd, "w") as out:
        out.write(KEY_PREFIX + base64.b64encode(key).decode() + "\n")
    return key_id(key)


def load_key(path: Path) -> bytes:
    """The 32-byte key from a key file, refusing one that other users can read."""
    try:
        mode = path.stat().st_mode
        text = path.read_text(encoding="ascii", errors="replace").strip()
    except FileNotFoundError:
        raise SnapshotError(f"no key file at {path}; make one with: fieldcards backup keygen {path}") from None
    if mode & (stat.S_IRWXG | stat.S_IRWXO):
        raise SnapshotError(
            f"the key file {path} can be read by other users (mode {stat.S_IMODE(mode):o}); run: chmod 600 {path}"
        )
    if not text.startswith(KEY_PREFIX):
        raise SnapshotError(f"{path} is not a Fieldcards snapshot key (made by fieldcards backup keygen)")
    try:
        key = base64.b64decode(text[len(KEY_PREFIX) :], validate=True)
    except ValueError:
        key = b""
    if len(key) != 32:
        raise SnapshotError(f"the key in {path} is damaged: it must be 32 bytes")
    return key


def key_id(key: bytes) -> str:
    """A short public name of a key, so a snapshot can say which key it needs without revealing it."""
    return hmac.new(key, b"fieldcards snapshot key id", hashlib.sha256).hexdigest()[:16]


def _file_key(key: bytes, salt: bytes) -> AESGCM:
    derived = HKDF(algorithm=hashes.SHA256(), length=32, salt=salt, info=b"fieldcards snapshot v1").derive(key)
    return AESGCM(derived)


def _nonce(prefix: bytes, index: int, final: bool) -> bytes:
    return prefix + struct.pack(">I", index) + (b"\x01" if final else b"\x00")


def _refuse_key_beside(key_path: Path, *places: Path) -> None:
    """A snapshot kept beside its key, or a key kept in the data, protects nothing."""
    key_dir = key_path.resolve().parent
    for place in places:
        place = place.resolve()
        if key_dir == place or place in key_dir.parents:
            raise SnapshotError(f"keep the key file apart from {place}: move {key_path} elsewhere")


# --- writing -----------------------------------------------------------------------------------


def _stamp() -> str:
    return datetime.now(timezone.utc).strftime("%Y%m%dT%H%M%SZ")


def _describe(path: Path) -> dict[str, Any]:
    conn = db.connect(path)
    try:
        check = db.integrity(conn)
        if check != "ok":
            raise SnapshotError(f"the copy failed its integrity check, nothing written: {check}")
        latest = db.latest_change(conn)
        return {
            "epoch": db.meta_value(conn, "epoch"),
            "counts": db.counts(conn),
            "latest_change": latest["received_at"] if latest else None,
        }
    finally:
        conn.close()


def write_snapshot(config: Config, target_dir: Path, key_path: Path, *, keep: int | None = None) -> dict[str, Any]:
    """Copy the live database, check it, seal it into `target_dir`; returns what was written."""
    key = load_key(key_path)
    _refuse_key_beside(key_path, config.data_dir, target_dir)
    if not config.db_path.exists():
        raise SnapshotError(f"no database at {config.db_path}")
    target_dir.mkdir(parents=True, exist_ok=True)
    stamp = _stamp()
    plain = config.data_dir / f"snapshot-scratch-{stamp}.db"  # plaintext stays beside the plaintext live file
    final = target_dir / f"fieldcards-{stamp}{SUFFIX}"
    partial = final.with_name(final.name + ".partial")
    try:
        db.copy_database(config.db_path, plain)
        source = _describe(plain)
        header = {
            "format": 1,
            "cipher": "AES-256-GCM",
            "kdf": "HKDF-SHA256",
            "chunk": CHUNK,
            "salt": base64.b64encode(secrets.token_bytes(16)).decode(),
            "nonce_prefix": base64.b64encode(secrets.token_bytes(7)).decode(),
            "key_id": key_id(key),
            "created_at": datetime.now(timezone.utc).isoformat(timespec="seconds"),
            "source": source,
        }
        with plain.open("rb") as src, partial.open("wb") as out:
            _seal(src, out, key, header)
            out.flush()
            os.fsync(out.fileno())
        partial.replace(final)  # a snapshot is either whole under its name or absent
    finally:
        plain.unlink(missing_ok=True)
        partial.unlink(missing_ok=True)
    removed = _prune(target_dir, keep) if keep else []
    return {
        "file": str(final),
        "bytes": final.stat().st_size,
        "key_id": header["key_id"],
        "created_at": header["created_at"],
        "source": source,
        "pruned": removed,
    }


def _seal(src: BinaryIO, out: BinaryIO, key: bytes, header: dict[str, Any]) -> None:
    header_bytes = json.dumps(header, sort_keys=True, ensure_ascii=False).encode()
    out.write(MAGIC + _LENGTH.pack(len(header_bytes)) + header_bytes)
    aead = _file_key(key, base64.b64decode(header["salt"]))
    prefix = base64.b64decode(header["nonce_prefix"])
    aad = MAGIC + header_bytes
    index, chunk = 0, src.read(CHUNK)
    while True:
        following = src.read(CHUNK) if chunk else b""
        final = not following
        sealed = aead.encrypt(_nonce(prefix, index, final), chunk, aad)
        out.write(_LENGTH.pack(len(sealed)) + sealed)
        if final:
            return
        index, chunk = index + 1, following


def _prune(target_dir: Path, keep: int) -> list[str]:
    """Keep the newest `keep` snapshots (names sort by time)."""
    snapshots = sorted(target_dir.glob(f"fieldcards-*{SUFFIX}"))
    old = snapshots[:-keep] if keep > 0 else []
    for path in old:
        path.unlink()
    return [str(p) for p in old]


# --- reading -----------------------------------------------------------------------------------


def read_header(src: BinaryIO, name: str) -> tuple[dict[str, Any], bytes]:
    if src.read(len(MAGIC)) != MAGIC:
        raise SnapshotError(f"{name} is not a Fieldcards snapshot")
    raw_length = src.read(_LENGTH.size)
    length = _LENGTH.unpack(raw_length)[0] if len(raw_length) == _LENGTH.size else 0
    header_bytes = src.read(length) if 0 < length <= MAX_HEADER else b""
    try:
        header = json.loads(header_bytes) if len(header_bytes) == length else None
    except ValueError:
        header = None
    if not isinstance(header, dict) or header.get("format") != 1:
        raise SnapshotError(f"{name} has a damaged header")
    return header, header_bytes


def _chunks(src: BinaryIO, name: str, limit: int) -> Iterator[bytes]:
    while True:
        raw = src.read(_LENGTH.size)
        if not raw:
            return
        length = _LENGTH.unpack(raw)[0] if len(raw) == _LENGTH.size else -1
        sealed = src.read(length) if 16 <= length <= limit + 16 else b""
        if len(sealed) != length or length < 16:
            raise SnapshotError(f"{name} is truncated or damaged: a chunk is cut short")
        yield sealed


def open_snapshot(path: Path, key_path: Path, out: Path) -> dict[str, Any]:
    """Decrypt `path` into `out`, checking every chunk; returns the header. Nothing is left at
    `out` unless the whole file decrypted and authenticated."""
    key = load_key(key_path)
    name = path.name
    try:
        src = path.open("rb")
    except FileNotFoundError:
        raise SnapshotError(f"no snapshot at {path}") from None
    try:
        with src, out.open("wb") as plain:
            header, header_bytes = read_header(src, name)
            if header.get("key_id") != key_id(key):
                raise SnapshotError(
                    f"wrong key: {name} was sealed with key {header.get('key_id')}, {key_path} is key {key_id(key)}"
                )
            _unseal(src, plain, key, header, header_bytes, name)
        return header
    except BaseException:
        out.unlink(missing_ok=True)
        raise


def _unseal(src: BinaryIO, plain: BinaryIO, key: bytes, header: dict[str, Any], header_bytes: bytes, name: str) -> None:
    try:
        aead = _file_key(key, base64.b64decode(header["salt"]))
        prefix = base64.b64decode(header["nonce_prefix"])
        chunk_size = int(header["chunk"])
    except (KeyError, ValueError, TypeError):
        raise SnapshotError(f"{name} has a damaged header") from None
    aad = MAGIC + header_bytes
    index, finished = 0, False
    for sealed in _chunks(src, name, chunk_size):
        if finished:
            raise SnapshotError(f"{name} has been altered: data after its last chunk")
        try:
            plain.write(aead.decrypt(_nonce(prefix, index, False), sealed, aad))
        except InvalidTag:
            try:
                plain.write(aead.decrypt(_nonce(prefix, index, True), sealed, aad))
                finished = True
            except InvalidTag:
                raise SnapshotError(
                    f"{name} has been altered or damaged (chunk {index} fails its check); nothing restored"
                ) from None
        index += 1
    if not finished:
        raise SnapshotError(f"{name} is truncated: its last chunk is missing; nothing restored")
