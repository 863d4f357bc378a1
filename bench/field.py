"""The rep's day in the field (issue 16). Prints figures; asserts nothing.

    .venv/bin/python bench/field.py                  # 5,000 cards, a 10 MiB file
    .venv/bin/python bench/field.py --cards 20000 --mib 10

Figures:
- Nearby: the PWA's own module (pwa/js/app/geo.js) under node sorting the book by distance from
  where the rep stands (10% of the cards without a location), and My day's nearest-next route
  over 30 follow-ups. The goal is under 100 ms for 5,000 cards on a phone; a phone is some 3 to 5
  times slower than this machine's node.
- Upload: a 10 MiB file through `fieldcards serve` over HTTP with the reference client's resumable
  upload (sync/protocol/client.py), in the PWA's 256 KiB chunks and in the server's largest, 1 MiB.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from server.process import start_server, stop_server  # noqa: E402
from sync.protocol.client import Device  # noqa: E402
from sync.db import Store  # noqa: E402
from sync.people.users import add_user, create_token  # noqa: E402

NEARBY = r"""
import { byDistance, routeOrder } from "./pwa/js/app/geo.js";
const [cards, runs] = [Number(process.argv[1]), Number(process.argv[2])];
let seed = 42;
const random = () => ((seed = (seed * 1103515245 + 12345) % 2147483648) / 2147483648);
// A book around Shanghai (about 60 km across); every tenth card has no location yet.
const rows = Array.from({ length: cards }, (_, n) => ({ id: `c${n}`, view: {
  name: `客户${n}`, location: n % 10 === 9 ? null : { lat: 31.0 + random() * 0.5, lng: 121.2 + random() * 0.6 } } }));
const here = { lat: 31.2304, lng: 121.4737 };
const place = (row) => row.view.location;
const time = (work) => {
  const ms = [];
  for (let i = 0; i < runs; i += 1) {
    const t0 = performance.now();
    work();
    ms.push(performance.now() - t0);
  }
  ms.sort((a, b) => a - b);
  return { median: ms[Math.floor(runs / 2)], p95: ms[Math.min(runs - 1, Math.floor(runs * 0.95))] };
};
const sorted = byDistance(rows, here, place);
const day = rows.slice(0, 30);
console.log(JSON.stringify({
  nearby: time(() => byDistance(rows, here, place)),
  route: time(() => routeOrder(day, here, place)),
  first: sorted[0].distance, unplaced: sorted.filter((x) => x.distance === null).length,
}));
"""


def nearby(cards: int, runs: int) -> dict:
    out = subprocess.run(
        ["node", "--input-type=module", "-e", NEARBY, str(cards), str(runs)], cwd=ROOT, capture_output=True, text=True, check=True
    )
    return json.loads(out.stdout)


def upload(mib: int, chunks: list[int]) -> list[tuple[int, float]]:
    figures = []
    with tempfile.TemporaryDirectory() as tmp_name:
        tmp = Path(tmp_name)
        proc, url = start_server(tmp / "data", "--no-backup")
        try:
            st = Store(tmp / "data" / "fieldcards.db")
            add_user(st, "rep1", "rep")
            token = create_token(st, "rep1")
            st.close()
            phone = Device(url, token, tmp / "phone.db")
            card = phone.create_card(name="黄浦茶庄")
            for chunk in chunks:
                data = os.urandom(mib * 1024 * 1024)  # new bytes each time: the same content would be held already
                phone.add_attachment(card, data, f"order-{chunk}.pdf", "application/pdf")
                phone.sync()
                t0 = time.perf_counter()
                sent = phone.upload_files(chunk=chunk)
                seconds = time.perf_counter() - t0
                figures.append((chunk, sent / 2**20 / seconds))
            phone.close()
        finally:
            stop_server(proc)
    return figures


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--cards", type=int, default=5000)
    parser.add_argument("--runs", type=int, default=21)
    parser.add_argument("--mib", type=int, default=10)
    args = parser.parse_args()
    node = subprocess.run(["node", "--version"], capture_output=True, text=True).stdout.strip()
    print(f"field: {platform.python_implementation()} {platform.python_version()}, node {node}, {os.cpu_count()} cores")
    found = nearby(args.cards, args.runs)
    print(
        f"  Nearby, {args.cards:,} cards by distance (geo.js under node): median {found['nearby']['median']:.1f} ms, "
        f"p95 {found['nearby']['p95']:.1f} ms ({found['unplaced']:,} without a location listed after)"
    )
    print(f"  My day, nearest-next route over 30 follow-ups: median {found['route']['median']:.2f} ms")
    for chunk, rate in upload(args.mib, [256 * 1024, 1024 * 1024]):
        print(f"  upload of a {args.mib} MiB file over HTTP in {chunk // 1024} KiB chunks (reference client): {rate:.1f} MiB/s")


if __name__ == "__main__":
    main()
