"""The guides as web pages: the small Markdown subset renders, everything else is escaped."""

from __future__ import annotations

from server.guide import render


def test_render_keeps_to_the_subset_and_escapes_the_rest():
    page = render(
        "# Title 标题\n\nSome **bold** and `code` <script>alert(1)</script>\n\n- one\n- two\n\n"
        "1. first\n\n| a | b |\n|---|---|\n| 1 | 2 |\n\n![shot](../screenshots/x-1.png)\n\n"
        "[office](office.en.md) [out](javascript:alert(1))\n\n```\n<b>raw</b>\n```"
    )
    assert "<h1>Title 标题</h1>" in page
    assert "<strong>bold</strong>" in page and "<code>code</code>" in page
    assert "<script>" not in page and "&lt;script&gt;" in page
    assert "<ul><li>one</li><li>two</li></ul>" in page and "<ol><li>first</li></ol>" in page
    assert "<tr><th>a</th><th>b</th></tr><tr><td>1</td><td>2</td></tr>" in page
    assert '<img alt="shot" src="/guide/screenshots/x-1.png" loading="lazy">' in page
    assert '<a href="/guide/office.en">office</a>' in page
    assert 'href="javascript' not in page
    assert "&lt;b&gt;raw&lt;/b&gt;" in page


def test_guide_pages_are_served_and_names_are_checked(app):
    index = app.http.get("/guide/index")
    assert index.status_code == 200 and index.headers["content-type"].startswith("text/html")
    assert app.http.get("/guide/rep.zh-CN").status_code == 200
    for bad in ("../README", "nope", "rep.fr", "..%2Fsecurity"):
        assert app.http.get("/guide/" + bad).status_code == 404, bad
