"""HTML from mail is made safe to show; HTML-only mail gets a readable text version."""

from __future__ import annotations

import pytest

from caredesk.mail.sanitize import html_to_text, sanitize_html


@pytest.mark.parametrize(
    ("dirty", "gone"),
    [
        ("<p>hi</p><script>alert(1)</script>", "alert"),
        ('<img src="x.png" onerror="alert(1)">', "onerror"),
        ('<a href="javascript:alert(1)">click</a>', "javascript"),
        ('<a href="JaVaScRiPt:alert(1)">click</a>', "alert"),
        ('<a href="data:text/html;base64,PHNjcmlwdD4=">x</a>', "data:"),
        ('<a href="vbscript:msgbox(1)">x</a>', "vbscript"),
        ('<div onclick="steal()">x</div>', "onclick"),
        ("<style>body{display:none}</style><p>x</p>", "display"),
        ('<p style="background:url(https://evil.example/x.png)">x</p>', "url("),
        ('<p style="width: expression(alert(1))">x</p>', "expression"),
        ('<p style="position:fixed;top:0;left:0">x</p>', "position"),
        ('<p style="margin:-9999px">x</p>', "margin"),
        ('<p style="color:red;background-image:url(javascript:alert(1))">x</p>', "javascript"),
        ('<iframe src="https://evil.example"></iframe><p>x</p>', "iframe"),
        ('<form action="https://evil.example"><input name="pw"></form>', "form"),
        ('<object data="x.swf"></object><embed src="x.swf">', "swf"),
        ("<svg><script>alert(1)</script></svg>", "alert"),
        ('<meta http-equiv="refresh" content="0;url=https://evil.example">', "refresh"),
        ('<base href="https://evil.example/">', "base"),
        ('<link rel="stylesheet" href="https://evil.example/x.css">', "stylesheet"),
        ("<!-- secret comment --><p>x</p>", "secret"),
        ('<a href="/relative/path">x</a>', "relative"),
    ],
)
def test_dangerous_html_is_removed(dirty: str, gone: str) -> None:
    assert gone.lower() not in (sanitize_html(dirty) or "").lower()


def test_cid_images_and_http_images_are_kept() -> None:
    html = sanitize_html('<img src="cid:logo@x" alt="Logo"><img src="https://cdn.example/a.png">')
    assert html is not None
    assert 'src="cid:logo@x"' in html
    assert 'alt="Logo"' in html
    assert 'src="https://cdn.example/a.png"' in html


def test_links_get_noopener_noreferrer() -> None:
    html = sanitize_html('<a href="https://client.example/page" target="_blank">page</a>')
    assert html == '<a href="https://client.example/page" rel="noopener noreferrer">page</a>'


def test_mailto_and_tel_links_are_kept() -> None:
    html = sanitize_html('<a href="mailto:a@b.example">m</a><a href="tel:+441453884100">t</a>')
    assert html is not None
    assert "mailto:a@b.example" in html
    assert "tel:+441453884100" in html


def test_basic_formatting_and_safe_styles_survive() -> None:
    html = sanitize_html(
        '<p style="color: #1F3864; font-weight: bold; position: absolute">'
        "<b>bold</b> <i>it</i> <u>u</u></p><ul><li>one</li></ul>"
        '<table border="1"><tr><td colspan="2">cell</td></tr></table><blockquote>q</blockquote>'
    )
    assert html is not None
    for kept in (
        "<b>bold</b>",
        "<i>it</i>",
        "<li>one</li>",
        'colspan="2"',
        "<blockquote>q</blockquote>",
    ):
        assert kept in html
    assert 'style="color:#1F3864;font-weight:bold"' in html


def test_html_with_nothing_visible_left_is_none() -> None:
    assert sanitize_html("<script>alert(1)</script><style>p{}</style>") is None


def test_html_to_text_keeps_paragraphs_lists_and_quotes() -> None:
    text = html_to_text(
        "<html><head><title>T</title><style>p{}</style></head><body>"
        "<p>Hello&nbsp;there,</p><p>Line one<br>Line two</p><ul><li>first</li><li>second</li></ul>"
        "<div>On Tue, Support wrote:</div><blockquote><p>old text</p>"
        "<blockquote>older</blockquote></blockquote><script>x()</script></body></html>"
    )
    assert text == (
        "Hello there,\n\nLine one\nLine two\n- first\n- second\n\n"
        "On Tue, Support wrote:\n\n> old text\n>\n> > older"
    )


def test_html_to_text_keeps_pre_formatting() -> None:
    assert html_to_text("<pre>a  b\n  c</pre>") == "a  b\n  c"
