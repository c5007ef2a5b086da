"""Markdown rendering keeps formatting and drops everything that could run script."""

import pytest

from caredesk.lib.markdown import plain_text, render, sanitize


def test_formatting_survives():
    html = render("## Steps\n\n1. **Open** the *page*\n2. Click `Save`\n\n> Note")
    assert "<h2>Steps</h2>" in html
    assert "<ol>" in html and "<strong>Open</strong>" in html and "<em>page</em>" in html
    assert "<code>Save</code>" in html
    assert "<blockquote>" in html


def test_script_typed_in_the_source_is_shown_as_text():
    html = render("Hello <script>alert(1)</script>")
    assert "<script" not in html
    assert "&lt;script&gt;" in html


def test_raw_html_is_never_passed_through():
    html = render('<div onclick="steal()">x</div>\n\n<img src=x onerror=alert(1)>')
    assert "<div" not in html and "<img" not in html
    assert "&lt;div onclick" in html  # shown as text, harmless


@pytest.mark.parametrize(
    "source",
    [
        "[click](javascript:alert(1))",
        "[click](JAVASCRIPT:alert(1))",
        "[click](  javascript:alert(1))",
        "[click](vbscript:msgbox)",
        "[click](data:text/html;base64,PHNjcmlwdD4=)",
        "<javascript:alert(1)>",
    ],
)
def test_script_links_are_not_links(source):
    html = render(source)
    assert 'href="javascript' not in html.lower()
    assert 'href="vbscript' not in html.lower()
    assert 'href="data' not in html.lower()


def test_safe_links_keep_their_address_and_get_rel():
    html = render('[docs](https://example.com/a?b=1 "Docs") and [mail](mailto:help@example.com)')
    assert 'href="https://example.com/a?b=1"' in html
    assert 'title="Docs"' in html
    assert 'rel="noopener noreferrer"' in html
    assert 'href="mailto:help@example.com"' in html


def test_relative_links_stay():
    assert 'href="/kb/articles/x/"' in render("[x](/kb/articles/x/)")


def test_images_with_web_addresses_only():
    assert '<img src="https://example.com/a.png" alt="shot">' in render(
        "![shot](https://example.com/a.png)"
    )
    assert "<img" not in render("![x](javascript:alert(1))")


def test_tables_keep_alignment_only():
    html = render("| a | b |\n|:-:|--:|\n| 1 | 2 |")
    assert '<th style="text-align:center">a</th>' in html
    assert '<td style="text-align:right">2</td>' in html


def test_sanitize_drops_event_handlers_styles_and_dangerous_tags():
    html = sanitize(
        '<p onclick="x()" style="color:red">hi</p><script>bad()</script>'
        '<iframe src="https://evil.example"></iframe><a href="javascript:x()">l</a>'
        '<td style="background:url(javascript:x)">c</td>'
    )
    assert "onclick" not in html and "color:red" not in html
    assert "script" not in html and "bad()" not in html
    assert "iframe" not in html
    assert "javascript" not in html


def test_nul_bytes_are_dropped():
    assert "\x00" not in render("a\x00b")


def test_plain_text_for_excerpts():
    text = plain_text("# Title\n\nSome **bold** & [link](https://x.example) text.")
    assert text == "Title Some bold & link text."


def test_plain_text_cuts_at_a_word():
    text = plain_text("one two three four five six", limit=12)
    assert text == "one two…"
