"""HTML from mail made safe to show, and HTML turned into plain text.

The sanitiser keeps what people use to format mail (paragraphs, lists, tables, bold,
colours, links, images) and drops everything that runs code or reaches outside the
message: scripts, event handlers, `javascript:` links, forms, frames, CSS that can
load URLs or cover the page. Inline images (`cid:`) are kept for the viewer to map.
"""

from __future__ import annotations

import re
from html.parser import HTMLParser

import nh3

_EXTRA_TAGS = {"font", "tfoot", "section", "main", "label"}
_ATTRIBUTES = {
    **{tag: set(attrs) for tag, attrs in nh3.ALLOWED_ATTRIBUTES.items()},
    "*": {"style", "title", "dir", "lang", "align"},
    "a": {"href", "title"},
    "img": {"src", "alt", "width", "height", "title", "border"},
    "table": {"width", "border", "cellpadding", "cellspacing", "bgcolor", "align"},
    "td": {"colspan", "rowspan", "align", "valign", "width", "height", "bgcolor"},
    "th": {"colspan", "rowspan", "align", "valign", "width", "height", "bgcolor", "scope"},
    "tr": {"align", "valign", "bgcolor"},
    "font": {"color", "face", "size"},
}
# Elements removed with their content: code, page chrome and embedded documents.
_DROPPED = {
    "script", "style", "title", "head", "noscript", "template", "iframe", "object", "embed",
    "applet", "svg", "math", "form", "button", "select", "textarea", "xml",
}  # fmt: skip
_SCHEMES = {"http", "https", "mailto", "tel", "cid"}
# No position, margin or transform: nothing may move over the page showing the mail.
_STYLE_PROPERTIES = frozenset({
    "color", "background-color", "font-weight", "font-style", "font-size", "font-family",
    "text-align", "text-decoration", "vertical-align", "white-space", "width", "height",
    "border", "border-collapse", "padding", "line-height",
})  # fmt: skip
_MAX_STYLE = 2000
# A style value may name colours, lengths and fonts; never url(), expression() or escapes.
_STYLE_VALUE = re.compile(r"^(?:[#\w\s.,%'\"-]|rgba?\(\s*[\d\s.,%]+\))+$")


def _filter_attribute(tag: str, attribute: str, value: str) -> str | None:
    if attribute != "style":
        return value
    if len(value) > _MAX_STYLE:
        return None
    kept = []
    for declaration in value.split(";"):
        name, colon, setting = declaration.partition(":")
        name, setting = name.strip().lower(), setting.strip()
        if colon and name in _STYLE_PROPERTIES and _STYLE_VALUE.match(setting):
            kept.append(f"{name}:{setting}")
    return ";".join(kept) or None


_TAG = re.compile(r"<(/?)([a-zA-Z][a-zA-Z0-9:-]*)[^>]*?(/?)>")
# Elements that never nest: void ones, and those whose end tag browsers imply.
_FLAT = frozenset({
    "area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source",
    "track", "wbr", "p", "li", "dt", "dd", "td", "th", "tr", "option", "optgroup", "rp",
    "rt", "thead", "tbody", "tfoot", "colgroup", "caption",
})  # fmt: skip
MAX_HTML_DEPTH = 500


def too_deep(html: str, limit: int = MAX_HTML_DEPTH) -> bool:
    """Whether elements nest past `limit` levels.

    The sanitiser's HTML parser is quadratic in nesting depth (70 s for 200 000 nested
    divs); real mail stays far below the limit, so deeper HTML is not shown.
    """
    depth = 0
    for match in _TAG.finditer(html):
        closing, name, self_closing = match.groups()
        if closing:
            depth = max(0, depth - 1)
        elif not self_closing and name.lower() not in _FLAT:
            depth += 1
            if depth > limit:
                return True
    return False


def sanitize_html(html: str) -> str | None:
    """Sanitised HTML fragment, or None when nothing visible is left."""
    cleaned = nh3.clean(
        html,
        tags=nh3.ALLOWED_TAGS | _EXTRA_TAGS,
        clean_content_tags=_DROPPED,
        attributes=_ATTRIBUTES,
        attribute_filter=_filter_attribute,
        url_schemes=_SCHEMES,
        url_relative="deny",  # relative links in mail point nowhere we can vouch for
        link_rel="noopener noreferrer",
        strip_comments=True,
    ).strip()
    return cleaned or None


_BLOCK = {
    "p",
    "div",
    "tr",
    "table",
    "ul",
    "ol",
    "li",
    "h1",
    "h2",
    "h3",
    "h4",
    "h5",
    "h6",
    "pre",
    "blockquote",
    "hr",
    "section",
    "article",
    "header",
    "footer",
    "dl",
    "dt",
    "dd",
    "address",
    "center",
}
_SKIP = {"script", "style", "head", "title", "noscript", "template", "xml", "svg"}
_MAX_HTML_FOR_TEXT = 2**20


class _TextExtractor(HTMLParser):
    """Plain text of an HTML mail; blockquotes become `> ` lines like a text reply."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.lines: list[str] = []
        self.buffer: list[str] = []
        self.quote_depth = 0
        self.skip_depth = 0
        self.pre_depth = 0

    def flush(self, *, force: bool = False) -> None:
        text = "".join(self.buffer)
        self.buffer = []
        if not self.pre_depth:
            text = " ".join(text.split())
        if text or force:
            self.lines.append(("> " * self.quote_depth + text).rstrip())

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in _SKIP:
            self.skip_depth += 1
        elif tag == "br":
            self.flush(force=True)
        elif tag in _BLOCK:
            self.flush()
            if (
                tag in ("p", "div", "table", "blockquote")
                and self.lines
                and self.lines[-1].strip("> ")
            ):
                self.lines.append(("> " * self.quote_depth).rstrip())  # blank, inside the quote
            self.quote_depth += tag == "blockquote"
            self.pre_depth += tag == "pre"
            if tag == "li":
                self.buffer.append("- ")

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.handle_starttag(tag, attrs)
        if tag in _BLOCK or tag in _SKIP:
            self.handle_endtag(tag)

    def handle_endtag(self, tag: str) -> None:
        if tag in _SKIP:
            self.skip_depth = max(0, self.skip_depth - 1)
        elif tag in _BLOCK:
            self.flush()
            self.quote_depth = max(0, self.quote_depth - (tag == "blockquote"))
            self.pre_depth = max(0, self.pre_depth - (tag == "pre"))
        elif tag in ("td", "th"):
            self.buffer.append(" ")

    def handle_data(self, data: str) -> None:
        if not self.skip_depth:
            self.buffer.append(data if self.pre_depth else data.replace("\n", " "))


def html_to_text(html: str) -> str:
    """Readable plain text from HTML, for mail that came without a text part."""
    extractor = _TextExtractor()
    try:
        extractor.feed(html[:_MAX_HTML_FOR_TEXT])
        extractor.close()
    except Exception:  # HTMLParser is lenient; this is for the truly unexpected
        return " ".join(re.sub(r"<[^>]*>", " ", html[:_MAX_HTML_FOR_TEXT]).split())
    extractor.flush()
    text = "\n".join(line.rstrip() for line in extractor.lines)
    return re.sub(r"\n{3,}", "\n\n", text).strip()
