"""The user guides (`docs/guide/*.md`) as web pages at `/guide/NAME`, for the app's help menu.

The guides use a small part of Markdown (headings, paragraphs, lists, bold, code, links, images,
pipe tables); this renders exactly that, escaping everything else, so no guide can inject markup.
Screenshots come from `docs/screenshots/` at `/guide/screenshots/`.
"""

from __future__ import annotations

import html
import re
from pathlib import Path

from starlette.requests import Request
from starlette.responses import HTMLResponse, RedirectResponse
from starlette.routing import BaseRoute, Mount, Route
from starlette.staticfiles import StaticFiles

from sync.errors import NotFound

DOCS = Path(__file__).resolve().parent.parent / "docs"
NAME = re.compile(r"^[a-z]+(\.(en|zh-CN))?$")
INLINE = [
    (
        re.compile(r"!\[([^\]]*)\]\(\.\./screenshots/([\w.-]+\.png)\)"),
        r'<img alt="\1" src="/guide/screenshots/\2" loading="lazy">',
    ),
    (re.compile(r"\[([^\]]+)\]\(([\w.-]+)\.md\)"), r'<a href="/guide/\2">\1</a>'),
    (re.compile(r"\[([^\]]+)\]\((https?://[^)\s]+|/[^)\s]*)\)"), r'<a href="\2">\1</a>'),
    (re.compile(r"\*\*([^*]+)\*\*"), r"<strong>\1</strong>"),
    (re.compile(r"`([^`]+)`"), r"<code>\1</code>"),
]


def inline(text: str) -> str:
    out = html.escape(text, quote=False)
    for pattern, replacement in INLINE:
        out = pattern.sub(replacement, out)
    return out


def render(markdown: str) -> str:
    out: list[str] = []
    lines = markdown.splitlines()
    n = 0
    while n < len(lines):
        line = lines[n]
        if line.startswith("```"):
            block = []
            n += 1
            while n < len(lines) and not lines[n].startswith("```"):
                block.append(html.escape(lines[n]))
                n += 1
            out.append("<pre><code>" + "\n".join(block) + "</code></pre>")
        elif m := re.match(r"^(#{1,3})\s+(.*)", line):
            level = len(m.group(1))
            out.append(f"<h{level}>{inline(m.group(2))}</h{level}>")
        elif re.match(r"^\s*([-*]|\d+\.)\s+", line):
            tag = "ol" if re.match(r"^\s*\d+\.", line) else "ul"
            items = []
            while n < len(lines) and re.match(r"^\s*([-*]|\d+\.)\s+", lines[n]):
                items.append("<li>" + inline(re.sub(r"^\s*([-*]|\d+\.)\s+", "", lines[n])) + "</li>")
                n += 1
            out.append(f"<{tag}>" + "".join(items) + f"</{tag}>")
            continue
        elif line.startswith("|"):
            rows: list[str] = []
            while n < len(lines) and lines[n].startswith("|"):
                cells = [c.strip() for c in lines[n].strip().strip("|").split("|")]
                if not all(re.fullmatch(r":?-+:?", c) for c in cells):
                    cell = "th" if not rows else "td"
                    rows.append("<tr>" + "".join(f"<{cell}>{inline(c)}</{cell}>" for c in cells) + "</tr>")
                n += 1
            out.append("<table>" + "".join(rows) + "</table>")
            continue
        elif line.strip():
            para = [line]
            while n + 1 < len(lines) and lines[n + 1].strip() and not re.match(r"^(#|```|\||\s*([-*]|\d+\.)\s)", lines[n + 1]):
                n += 1
                para.append(lines[n])
            out.append("<p>" + inline(" ".join(para)) + "</p>")
        n += 1
    return "\n".join(out)


PAGE = """<!doctype html>
<html lang="{lang}"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>{title} · Fieldcards</title><link rel="stylesheet" href="/css/app.css"><link rel="icon" href="/icons/icon-192.png" type="image/png"></head>
<body><header class="bar"><h1><a href="/guide/index">Fieldcards</a> · {title}</h1>
<div class="bar-tools"><a href="/index.html">App</a></div></header><main class="guide">{body}</main></body></html>"""


async def page(request: Request) -> HTMLResponse:
    name = request.path_params["name"].removesuffix(".md")
    path = DOCS / "guide" / f"{name}.md"
    if not NAME.match(name) or not path.is_file():
        raise NotFound("no such guide")
    text = path.read_text(encoding="utf-8")
    title = next((line.lstrip("# ").strip() for line in text.splitlines() if line.startswith("# ")), name)
    lang = "zh-CN" if name.endswith(".zh-CN") else "en"
    return HTMLResponse(PAGE.format(lang=lang, title=html.escape(title), body=render(text)))


def routes() -> list[BaseRoute]:
    found: list[BaseRoute] = []
    if (DOCS / "screenshots").is_dir():
        found.append(Mount("/guide/screenshots", StaticFiles(directory=DOCS / "screenshots")))
    found += [Route("/guide/", index), Route("/guide/{name}", page)]
    return found


async def index(request: Request) -> RedirectResponse:
    return RedirectResponse("/guide/index")
