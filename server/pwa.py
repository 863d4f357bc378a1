"""Serving the PWA: its static files, the service worker with the app's build stamped in, and the
front-end packages npm installed (under /vendor, straight from node_modules, never committed).

The build version is a hash of every file the app consists of, so any change to the app (or to a
vendored package) makes a new `/sw.js`, which browsers install as an update.
"""

from __future__ import annotations

import hashlib
import json
import threading
from pathlib import Path

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Mount, Route
from starlette.staticfiles import StaticFiles

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_PWA_DIR = ROOT / "pwa"
# URL prefix -> folder inside node_modules. Only what the app imports is served.
VENDOR = {
    "pinyin-pro": Path("pinyin-pro") / "dist" / "esm",
    "qrcode-generator": Path("qrcode-generator") / "dist",
}  # customer links' QR codes (issue 17)
SHELL_SUFFIXES = {".html", ".js", ".mjs", ".css", ".json", ".png", ".svg", ".webmanifest"}


def node_modules() -> Path:
    return ROOT / "node_modules"


class Build:
    """The list of files a device keeps for offline use, and their hash; recomputed when a file changes."""

    def __init__(self, pwa_dir: Path) -> None:
        self.pwa_dir = pwa_dir
        self._lock = threading.Lock()
        self._stamp: tuple = ()
        self._cached: tuple[str, list[str]] = ("", [])

    def _files(self) -> list[tuple[str, Path]]:
        found = [
            ("/" + p.relative_to(self.pwa_dir).as_posix(), p)
            for p in self.pwa_dir.rglob("*")
            if p.is_file() and p.suffix in SHELL_SUFFIXES and p.name != "sw.js"
        ]
        for prefix, folder in VENDOR.items():
            base = node_modules() / folder
            if base.is_dir():
                found += [(f"/vendor/{prefix}/" + p.relative_to(base).as_posix(), p) for p in base.rglob("*") if p.is_file()]
        return sorted(found)

    def current(self) -> tuple[str, list[str]]:
        files = self._files()
        stamp = tuple((url, *_mtime_and_size(p)) for url, p in files)
        with self._lock:
            if stamp != self._stamp:
                digest = hashlib.sha256()
                for url, path in files:
                    digest.update(url.encode() + b"\0" + path.read_bytes())
                self._stamp, self._cached = stamp, (digest.hexdigest()[:16], [url for url, _ in files])
            return self._cached


def _mtime_and_size(path: Path) -> tuple[int, int]:
    info = path.stat()
    return info.st_mtime_ns, info.st_size


def routes(pwa_dir: Path) -> list[BaseRoute]:
    build = Build(pwa_dir)
    worker = pwa_dir / "sw.js"

    async def service_worker(request: Request) -> Response:
        version, shell = build.current()
        body = f"const BUILD = {json.dumps({'version': version, 'shell': shell})};\n" + worker.read_text()
        # Browsers must always ask for the newest worker; everything else may be cached by it.
        return Response(body, media_type="text/javascript", headers={"cache-control": "no-cache"})

    found: list[BaseRoute] = [Route("/sw.js", service_worker)]
    for prefix, folder in VENDOR.items():
        base = node_modules() / folder
        if base.is_dir():
            found.append(Mount(f"/vendor/{prefix}", StaticFiles(directory=base)))
    found.append(Mount("/", StaticFiles(directory=pwa_dir, html=True), name="pwa"))
    return found
