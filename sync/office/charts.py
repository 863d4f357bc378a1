"""Dashboard charts drawn on the server as SVG: horizontal bars for counts, columns for weeks, a
shaded table for the segment × region pivot. No script, no external fonts: an <img> shows them
under our CSP, on a phone as on a desktop (they scale to the width they are given)."""

from __future__ import annotations

from typing import Any
from xml.sax.saxutils import escape

from sync.errors import invalid

BAR = "#0b5cad"
INK = "#1b1f24"
MUTED = "#57606a"
FONT = 'font-family="system-ui, PingFang SC, Microsoft YaHei, Noto Sans CJK SC, WenQuanYi Zen Hei, sans-serif"'
BAR_FIGURES = ("by_segment", "by_region", "by_industry", "by_owner", "by_tag")
WEEK_FIGURES = ("new_cards_per_week", "activities_per_week")


def _svg(width: int, height: int, title: str, body: list[str]) -> str:
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width} {height}" width="{width}" height="{height}" '
        f'role="img" aria-label="{escape(title)}" {FONT}><title>{escape(title)}</title>'
        f'<rect width="100%" height="100%" fill="#fff"/>{"".join(body)}</svg>'
    )


def bars(items: list[dict[str, Any]], title: str, limit: int = 15) -> str:
    items = items[:limit]
    top = max((i["count"] for i in items), default=0) or 1
    row, label_w, width = 28, 140, 560
    body = []
    for n, item in enumerate(items):
        y = 8 + n * row
        length = round((width - label_w - 60) * item["count"] / top)
        body.append(
            f'<text x="{label_w - 8}" y="{y + 18}" text-anchor="end" font-size="13" fill="{INK}">'
            f"{escape(str(item['key'])[:18])}</text>"
        )
        body.append(f'<rect x="{label_w}" y="{y + 4}" width="{max(length, 1)}" height="{row - 10}" fill="{BAR}" rx="2"/>')
        body.append(f'<text x="{label_w + length + 6}" y="{y + 18}" font-size="13" fill="{MUTED}">{item["count"]}</text>')
    if not items:
        body.append(f'<text x="16" y="28" font-size="13" fill="{MUTED}">—</text>')
    return _svg(width, 16 + max(len(items), 1) * row, title, body)


def columns(items: list[dict[str, Any]], title: str) -> str:
    top = max((i["count"] for i in items), default=0) or 1
    width, height, base = 560, 200, 170
    step = (width - 40) / max(len(items), 1)
    body = [f'<line x1="20" y1="{base}" x2="{width - 20}" y2="{base}" stroke="{MUTED}"/>']
    for n, item in enumerate(items):
        x = 20 + n * step
        h = round(140 * item["count"] / top)
        body.append(f'<rect x="{x + 4:.1f}" y="{base - h}" width="{step - 8:.1f}" height="{h}" fill="{BAR}" rx="2"/>')
        body.append(
            f'<text x="{x + step / 2:.1f}" y="{base - h - 4}" text-anchor="middle" font-size="11" fill="{INK}">'
            f"{item['count']}</text>"
        )
        body.append(
            f'<text x="{x + step / 2:.1f}" y="{base + 16}" text-anchor="middle" font-size="10" fill="{MUTED}">'
            f"{escape(str(item['key'])[-3:])}</text>"
        )
    return _svg(width, height, title, body)


def heat(pivot: dict[str, Any], title: str) -> str:
    rows, cols, cells = pivot["rows"], pivot["columns"][:12], pivot["cells"]
    top = max((c for r in cells for c in r), default=0) or 1
    cell_w, cell_h, left, head = 64, 30, 50, 30
    body = []
    for j, name in enumerate(cols):
        body.append(
            f'<text x="{left + j * cell_w + cell_w / 2}" y="20" text-anchor="middle" font-size="12" fill="{INK}">'
            f"{escape(str(name)[:6])}</text>"
        )
    for i, name in enumerate(rows):
        y = head + i * cell_h
        body.append(f'<text x="{left - 8}" y="{y + 20}" text-anchor="end" font-size="13" fill="{INK}">{escape(name)}</text>')
        for j in range(len(cols)):
            value = cells[i][j]
            shade = 0.08 + 0.92 * value / top if value else 0.0
            text = "#fff" if shade > 0.55 else INK
            body.append(
                f'<rect x="{left + j * cell_w}" y="{y}" width="{cell_w - 2}" height="{cell_h - 2}" '
                f'fill="{BAR}" fill-opacity="{shade:.2f}" stroke="#d0d7de"/>'
            )
            body.append(
                f'<text x="{left + j * cell_w + cell_w / 2 - 1}" y="{y + 19}" text-anchor="middle" '
                f'font-size="12" fill="{text}">{value}</text>'
            )
    return _svg(left + max(len(cols), 1) * cell_w + 10, head + len(rows) * cell_h + 10, title, body)


def chart(found: dict[str, Any], figure: str) -> str:
    title = figure.replace("_", " ")
    if figure == "by_owner":  # reps by name, not by login
        names = found.get("owner_names") or {}
        return bars([{**i, "key": names.get(i["key"], i["key"])} for i in found[figure]], title)
    if figure in BAR_FIGURES:
        return bars(found[figure], title)
    if figure in WEEK_FIGURES:
        return columns(found[figure], title)
    if figure == "segment_by_region":
        return heat(found[figure], title)
    raise invalid("figure", "one of " + ", ".join((*BAR_FIGURES, *WEEK_FIGURES, "segment_by_region")))
