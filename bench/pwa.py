"""The PWA in headless Chromium against a real server. Prints figures; asserts nothing.

    .venv/bin/python bench/pwa.py              # 5,000 cards
    .venv/bin/python bench/pwa.py --cards 20000

Figures: the first sync of the whole book into IndexedDB (the app's own device.js over HTTP),
search over the book per keystroke (the app's matches() alone, and in the real cards screen from
the keystroke to the list on screen), and a cold start offline: a new page, with the network off, until the first
card of the list is on screen.
"""

from __future__ import annotations

import argparse
import json
import platform
import random
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from playwright.sync_api import sync_playwright  # noqa: E402

from server.auth import sessions  # noqa: E402
from server.config import Config  # noqa: E402
from sync.protocol.client import Device  # noqa: E402
from sync.db import Store  # noqa: E402
from sync.people.users import add_user, create_token  # noqa: E402
from server.process import CHROMIUM, CHROMIUM_FLAGS, start_server, stop_server  # noqa: E402


SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗"
GIVEN = "伟芳娜敏静丽强磊军洋勇艳杰娟涛明超秀霞平刚桂英"
COMPANIES = ["上海贸易", "北京科技", "深圳电子", "广州食品", "杭州网络", "Acme Ltd", "Globex"]

FIRST_SYNC = """async () => {
  const { openDb, deleteDb } = await import('/js/app/db.js');
  const { Device } = await import('/js/app/device.js');
  const { httpSend } = await import('/js/app/syncloop.js');
  const { usePinyin } = await import('/js/app/search.js');
  const { pinyin } = await import('/vendor/pinyin-pro/index.mjs');
  usePinyin(pinyin);
  await deleteDb('bench');
  const store = await openDb('bench');
  const device = await Device.open(store, { appVersion: 'bench' });
  const t0 = performance.now();
  const report = await device.sync(httpSend());
  const ms = performance.now() - t0;
  const count = await store.count('cards');
  store.close();
  return { ms, count, rounds: report.rounds };
}"""

SEARCH = """async (queries) => {
  const { openDb } = await import('/js/app/db.js');
  const { matches } = await import('/js/app/search.js');
  const store = await openDb('bench');
  const rows = await store.cards();
  const times = [];
  let found = 0;
  for (const query of queries) {
    const t0 = performance.now();
    const hits = rows.filter((row) => matches(row.search, query));
    hits.sort((a, b) => (a.view.name < b.view.name ? -1 : 1));
    times.push(performance.now() - t0);
    found += hits.length;
  }
  store.close();
  return { times, found, rows: rows.length };
}"""


def make_book(url: str, token: str, cards: int, tmp: Path) -> None:
    rng = random.Random(7)
    phone = Device(url, token, tmp / "seed.db")
    for n in range(cards):
        phone.create_card(
            name=rng.choice(SURNAMES) + rng.choice(GIVEN) + rng.choice(["", rng.choice(GIVEN)]),
            company=rng.choice(COMPANIES),
            phones=[f"+86138{n:08d}"],
            emails=[f"c{n}@example.cn"],
            tags=rng.sample(["vip", "new", "lead", "key"], 2),
            segment=rng.choice("ABC"),
            notes="拜访记录 " * 5,
        )
    phone.sync()
    phone.close()


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--cards", type=int, default=5000)
    args = parser.parse_args()
    tmp = Path(tempfile.mkdtemp(prefix="fieldcards-bench-pwa-"))
    data = tmp / "data"
    proc, url = start_server(data, "--no-backup")
    try:
        st = Store(data / "fieldcards.db")
        add_user(st, "rep1", "rep")
        token = create_token(st, "rep1")
        with st.write() as conn:
            session = sessions.start(conn, Config.load(str(data)), "rep1", "bench")
        st.close()
        make_book(url, token, args.cards, tmp)
        local = url.replace("127.0.0.1", "localhost")
        figures: dict[str, object] = {"cards": args.cards}
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_FLAGS, headless=True)
            context = browser.new_context(viewport={"width": 390, "height": 844})
            context.add_cookies([{"name": sessions.COOKIE, "value": session, "domain": "localhost", "path": "/"}])
            page = context.new_page()
            page.goto(local + "/signin.html")
            first = page.evaluate(FIRST_SYNC)
            figures.update(
                first_sync_s=round(first["ms"] / 1000, 2), first_sync_cards=first["count"], first_sync_rounds=first["rounds"]
            )
            typed = [w[:n] for w in ("wangwei", "zhang", "13800001", "上海", "vip") for n in range(1, len(w) + 1)]
            search = page.evaluate(SEARCH, typed)
            figures.update(
                search_keystroke_p50_ms=round(statistics.median(search["times"]), 1),
                search_keystroke_p95_ms=round(percentile(search["times"], 0.95), 1),
                search_keystrokes=len(typed),
            )
            try:
                figures.update(cold_start(context, local))
                figures.update(typing_in_the_app(context, local, typed))
            except Exception as error:  # the figure is missing, the others still count: say why
                figures["cold_start_offline_ms"] = f"not measured: {str(error).splitlines()[0][:120]}"
            browser.close()
        print(f"machine: {platform.platform()}, {__import__('os').cpu_count()} cores, Python {platform.python_version()}")
        print(json.dumps(figures))
    finally:
        stop_server(proc)


TYPE_IN_THE_APP = """async (queries) => {
  const box = document.getElementById('q');
  const frame = () => new Promise((resolve) => requestAnimationFrame(resolve));
  const dom = [], painted = [];
  for (const query of queries) {
    await frame();  // start at the beginning of a frame, as a keystroke would
    const t0 = performance.now();
    box.value = query;
    box.dispatchEvent(new Event('input', { bubbles: true }));  // filters and redraws the list synchronously
    dom.push(performance.now() - t0);
    await frame();  // the next frame shows it
    painted.push(performance.now() - t0);
  }
  return { dom, painted };
}"""


def typing_in_the_app(context, local: str, queries: list[str]) -> dict[str, object]:
    """Keystroke to the updated list on screen, in the real cards screen over the whole book."""
    page = context.new_page()
    page.goto(local + "/index.html#/cards")
    page.wait_for_selector("[data-card-id]", timeout=120_000)
    times = page.evaluate(TYPE_IN_THE_APP, queries)
    page.close()
    return {
        "search_list_updated_p50_ms": round(statistics.median(times["dom"]), 1),
        "search_list_updated_p95_ms": round(percentile(times["dom"], 0.95), 1),
        "search_next_frame_p50_ms": round(statistics.median(times["painted"]), 1),
        "search_next_frame_p95_ms": round(percentile(times["painted"], 0.95), 1),
    }


def cold_start(context, local: str) -> dict[str, object]:
    """The app synced once online (service worker installed, book in IndexedDB); then offline, a
    new page until the first card of the list shows."""
    page = context.new_page()
    page.goto(local + "/index.html")
    deadline = time.time() + 60  # wait_for_function would need eval, which our CSP forbids
    while not page.evaluate("() => navigator.serviceWorker.controller !== null") and time.time() < deadline:
        time.sleep(0.2)
    page.wait_for_selector("[data-card-id]", timeout=120_000)
    page.close()
    context.set_offline(True)
    times = []
    for _ in range(3):
        page = context.new_page()
        started = time.perf_counter()
        page.goto(local + "/index.html")
        page.wait_for_selector("[data-card-id]", timeout=30_000)
        times.append((time.perf_counter() - started) * 1000)
        page.close()
    context.set_offline(False)
    return {"cold_start_offline_ms": round(statistics.median(times)), "cold_start_runs": len(times)}


if __name__ == "__main__":
    main()
