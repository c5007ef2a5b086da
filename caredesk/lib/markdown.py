"""Markdown to HTML that is safe to put in a page, and to plain text.

Two layers, on purpose: markdown-it renders with raw HTML switched off (so
``<script>`` typed in an article shows as text), then nh3 keeps only an
allow-list of tags, attributes and URL schemes. A bug or a new feature in the
renderer cannot smuggle markup past the second layer.

Pure: no Django, no database.
"""

from functools import cache
from html import unescape

import nh3
from markdown_it import MarkdownIt

TAGS = frozenset(
    {
        "p",
        "br",
        "hr",
        "h1",
        "h2",
        "h3",
        "h4",
        "h5",
        "h6",
        "strong",
        "em",
        "s",
        "code",
        "pre",
        "blockquote",
        "ul",
        "ol",
        "li",
        "a",
        "img",
        "table",
        "thead",
        "tbody",
        "tr",
        "th",
        "td",
    }
)
ATTRIBUTES = {
    "a": {"href", "title"},
    "img": {"src", "alt", "title"},
    "ol": {"start"},
    # markdown-it marks the language of a fenced block as a class.
    "code": {"class"},
}
# Table columns aligned with ":--:" come out as a style; only these three values pass.
_ALIGN = {"text-align:left", "text-align:center", "text-align:right"}
TAG_ATTRIBUTE_VALUES = {"th": {"style": _ALIGN}, "td": {"style": _ALIGN}}
URL_SCHEMES = frozenset({"http", "https", "mailto"})
# Tags whose content is thrown away with them rather than shown as text.
DROP_WITH_CONTENT = frozenset({"script", "style", "iframe", "object", "embed", "template"})


@cache
def _renderer() -> MarkdownIt:
    # "html": False escapes raw HTML typed in the source instead of passing it on.
    return MarkdownIt("commonmark", {"html": False, "linkify": False}).enable(
        ["table", "strikethrough"]
    )


@cache
def _cleaner() -> nh3.Cleaner:
    return nh3.Cleaner(
        tags=set(TAGS),
        clean_content_tags=set(DROP_WITH_CONTENT),
        attributes={tag: set(names) for tag, names in ATTRIBUTES.items()},
        tag_attribute_values={
            tag: {name: set(values) for name, values in allowed.items()}
            for tag, allowed in TAG_ATTRIBUTE_VALUES.items()
        },
        url_schemes=set(URL_SCHEMES),
        link_rel="noopener noreferrer",
        strip_comments=True,
    )


def sanitize(html: str) -> str:
    """Keep only the allow-listed tags, attributes and URL schemes of ``html``."""
    return _cleaner().clean(html)


def render(text: str) -> str:
    """Markdown source to sanitised HTML, ready to mark safe in a template."""
    return sanitize(_renderer().render(text.replace("\x00", "")))


def plain_text(text: str, limit: int | None = None) -> str:
    """Markdown source as one line of plain text (for excerpts), cut at a word.

    The result is text, not HTML: escape it when putting it in a page.
    """
    html = render(text)
    stripped = nh3.clean(html, tags=set(), clean_content_tags={"pre"})
    words = " ".join(unescape(stripped).split())
    if limit is None or len(words) <= limit:
        return words
    cut = words[: limit + 1].rsplit(" ", 1)[0] if " " in words[:limit] else words[:limit]
    return cut.rstrip(" ,.;:") + "…"
