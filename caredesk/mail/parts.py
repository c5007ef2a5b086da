"""Walking a message's MIME tree: body text and HTML, attachments, report parts.

The walk is iterative with a depth cap. Each part's MIME headers are read once, with
every stdlib accessor guarded, and base64 and uuencode are decoded here so damaged
data is repaired rather than silently emptied.
"""

from __future__ import annotations

import binascii
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from email import policy
from email.generator import BytesGenerator
from email.message import Message
from email.parser import BytesParser
from email.utils import collapse_rfc2231_value
from io import BytesIO

from .attachments import TNEF_TYPES, extract_uuencoded, make_attachment, unpack_tnef, uudecode
from .charsets import clean_text, decode_bytes, repair_surrogates
from .headers import decode_words
from .parsed import Attachment

MAX_DEPTH = 20
MAX_PARTS = 1000
_CONTENT_TYPE = re.compile(r"^[a-z0-9][a-z0-9!#$&^_.+-]*/[a-z0-9][a-z0-9!#$&^_.+-]*$")
_NOT_BASE64 = re.compile(rb"[^A-Za-z0-9+/=\s]")
_META_CHARSET = re.compile(rb"""<meta[^>]+charset=["']?([A-Za-z0-9_.:-]+)""", re.IGNORECASE)
_ALTERNATIVE_ONLY = frozenset(
    {"text/enriched", "text/richtext", "text/watch-html", "text/x-amp-html"}
)
_DSN_TYPES = frozenset({"message/delivery-status", "message/global-delivery-status"})
_HEADER_TYPES = frozenset({"text/rfc822-headers", "message/global-headers"})
_MESSAGE_TYPES = frozenset({"message/rfc822", "message/global"})
_SELF_DECODED = frozenset({"base64", "x-uuencode", "uuencode", "x-uue", "uue"})
_IDENTITY = frozenset({"", "7bit", "8bit", "binary", "quoted-printable"})


def _safe(call: Callable[[], object], default: object = None) -> object:
    """Call a stdlib accessor that may trip over a malformed header."""
    try:
        return call()
    except Exception:  # policy.default header parsing has raised on odd input before
        return default


@dataclass(frozen=True)
class PartInfo:
    """A part's MIME headers, read once (the stdlib re-parses them on every access)."""

    content_type: str
    params: Mapping[str, str]
    disposition: str | None
    filename: str | None
    content_id: str | None
    encoding: str


def part_info(part: Message, defects: list[str]) -> PartInfo:
    """Read a part's Content-Type, -Disposition, -ID and -Transfer-Encoding once."""
    ctype_header = _safe(lambda: part.get("content-type"))
    if hasattr(ctype_header, "content_type"):  # policy.default: parsed once, here
        ctype = str(getattr(ctype_header, "content_type", "")).lower()
        params = _params(ctype_header)
    else:  # compat32, or no header: the classic accessors are plain string work
        ctype = str(_safe(part.get_content_type, "text/plain")).lower()
        params = _compat_params(part, "content-type")
    disposition_header = _safe(lambda: part.get("content-disposition"))
    if hasattr(disposition_header, "content_disposition"):
        disposition = getattr(disposition_header, "content_disposition", None)
        disposition_params = _params(disposition_header)
    else:
        disposition = _safe(part.get_content_disposition)
        disposition_params = _compat_params(part, "content-disposition")
    name = disposition_params.get("filename") or params.get("name")
    encoding = str(_safe(lambda: part.get("content-transfer-encoding", ""), "")).strip().lower()
    return PartInfo(
        content_type=ctype if _CONTENT_TYPE.match(ctype) else "application/octet-stream",
        params=params,
        disposition=str(disposition).lower() if disposition else None,
        filename=_clean_filename(name, defects),
        content_id=_content_id(part),
        encoding=encoding.split(";")[0].strip().strip('"'),
    )


def _params(header: object) -> dict[str, str]:
    params = _safe(lambda: dict(getattr(header, "params", {}) or {}))
    if not isinstance(params, dict):
        return {}
    return {str(k).lower(): str(v) for k, v in params.items() if v is not None}


def _compat_params(part: Message, header: str) -> dict[str, str]:
    pairs = _safe(lambda: part.get_params(header=header))
    if not isinstance(pairs, list):
        return {}
    found = {}
    for key, value in pairs[1:]:  # the first pair is the value itself (text/plain)
        try:
            found[str(key).lower()] = str(collapse_rfc2231_value(value))
        except Exception:  # an RFC 2231 value in a charset Python does not know
            found[str(key).lower()] = ""
    return found


def _clean_filename(name: str | None, defects: list[str]) -> str | None:
    if not name or not name.strip():
        return None
    name = repair_surrogates(name, defects, "attachment name")
    # Outlook puts RFC 2047 words inside quoted parameters, which the RFC forbids.
    return decode_words(name, defects, "attachment name").strip() or None


def _content_id(part: Message) -> str | None:
    value = _safe(lambda: part.get("content-id"), None)
    cleaned = clean_text(str(value)).strip().strip("<>").strip() if value is not None else ""
    return cleaned or None


def payload_bytes(part: Message, info: PartInfo, defects: list[str]) -> bytes:
    """The part's content with its transfer encoding undone (and repaired)."""
    where = info.content_type
    if info.encoding in _SELF_DECODED:
        # ASCII by definition; decoded here so that damage is repaired and noted.
        text = _safe(part.get_payload, "")
        raw = text.encode("utf-8", errors="replace") if isinstance(text, str) else b""
        return (
            decode_base64(raw, defects, where) if info.encoding == "base64" else _uu(raw, defects)
        )
    if info.encoding not in _IDENTITY:
        defects.append(f"{where}: unknown transfer encoding {info.encoding[:40]!r}, read as 8bit")
    # decode=True is the stdlib's only public way to the raw 8-bit bytes: without it,
    # 8-bit text comes back already decoded with the declared (maybe wrong) charset.
    data = _safe(lambda: part.get_payload(decode=True), b"")
    return data if isinstance(data, bytes) else b""


def _uu(raw: bytes, defects: list[str]) -> bytes:
    lines = raw.decode("latin-1").replace("\r\n", "\n").split("\n")
    if lines and lines[0].startswith("begin "):
        lines = lines[1:]
    return uudecode("\n".join(ln for ln in lines if ln.strip() != "end"), defects)


def decode_base64(raw: bytes, defects: list[str], where: str) -> bytes:
    """Decode base64, repairing stray characters and missing padding."""
    if _NOT_BASE64.search(raw):
        defects.append(f"{where}: stray characters in base64 skipped")
    try:
        return binascii.a2b_base64(raw)
    except binascii.Error:
        cleaned = re.sub(rb"[^A-Za-z0-9+/]", b"", raw)
        if len(cleaned) % 4 == 1:
            cleaned = cleaned[:-1]
        defects.append(f"{where}: broken base64 padding repaired")
        return binascii.a2b_base64(cleaned + b"=" * (-len(cleaned) % 4))


def part_text(part: Message, info: PartInfo, content_type: str, defects: list[str]) -> str:
    """Decode a text part to str with newlines normalised and format=flowed undone."""
    data = payload_bytes(part, info, defects)
    charset = info.params.get("charset")
    if not charset and content_type == "text/html":
        declared = _META_CHARSET.search(data[:4096])
        charset = declared.group(1).decode("ascii") if declared else None
    text = decode_bytes(data, charset, defects, content_type)
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    if info.params.get("format", "").lower() == "flowed":
        text = unflow(text, delsp=info.params.get("delsp", "").lower() == "yes")
    return clean_text(text)


def unflow(text: str, *, delsp: bool = False) -> str:
    """Join RFC 3676 format=flowed lines (a trailing space means "continues")."""
    out: list[str] = []
    current: str | None = None
    current_depth = -1
    for line in text.split("\n"):
        stripped = line.lstrip(">")
        depth = len(line) - len(stripped)
        content = stripped[1:] if stripped.startswith(" ") else stripped  # space-stuffing
        if current is not None and depth == current_depth:
            current += content
        else:
            if current is not None:
                out.append(_quoted(current_depth, current))
            current, current_depth = content, depth
        if not (content.endswith(" ") and content != "-- "):
            out.append(_quoted(depth, current))
            current, current_depth = None, -1
        elif delsp:
            current = current[:-1]
    if current is not None:
        out.append(_quoted(current_depth, current))
    return "\n".join(out)


def _quoted(depth: int, text: str) -> str:
    return ">" * depth + " " + text if depth else text


@dataclass
class Body:
    """Everything the walk collected, before it is joined and sanitised."""

    texts: list[str] = field(default_factory=list)
    htmls: list[str] = field(default_factory=list)
    attachments: list[Attachment] = field(default_factory=list)
    fallback_texts: list[str] = field(default_factory=list)  # from winmail.dat
    fallback_htmls: list[str] = field(default_factory=list)
    delivery_status: list[str] = field(default_factory=list)
    returned_headers: list[Message] = field(default_factory=list)  # the bounced message's


@dataclass
class _Walk:
    defects: list[str]
    max_bytes: int
    body: Body = field(default_factory=Body)

    def attach(
        self, data: bytes, info: PartInfo, content_type: str, name: str | None
    ) -> Attachment:
        return make_attachment(
            data,
            filename=name,
            content_type=content_type,
            index=len(self.body.attachments) + 1,
            max_bytes=self.max_bytes,
            content_id=info.content_id,
            inline=info.content_id is not None and info.disposition != "attachment",
        )


def walk(message: Message, defects: list[str], max_attachment_bytes: int) -> Body:
    """Collect body text, HTML, attachments and report parts from a parsed message."""
    state = _Walk(defects=defects, max_bytes=max_attachment_bytes)
    stack: list[tuple[Message, int, str]] = [(message, 0, "")]
    seen = 0
    while stack:
        part, depth, parent = stack.pop()
        seen += 1
        if seen > MAX_PARTS:
            defects.append(f"more than {MAX_PARTS} MIME parts; the rest is only in the original")
            break
        if depth:
            defects.extend(describe_defect(d) for d in part.defects)
        info = part_info(part, defects)
        ctype = info.content_type
        if ctype in _MESSAGE_TYPES:
            _message_part(state, part, info)
        elif ctype in _DSN_TYPES:
            state.body.delivery_status.append(_report_text(part, info, defects))
        elif ctype in _HEADER_TYPES:
            state.body.returned_headers.append(_parse_headers(payload_bytes(part, info, defects)))
        elif part.is_multipart():
            children = _safe(part.get_payload)
            children = children if isinstance(children, list) else []
            if depth == MAX_DEPTH and ctype.startswith("multipart/"):
                defects.append(f"MIME nesting deeper than {MAX_DEPTH}: deeper parts kept as files")
            stack.extend((child, depth + 1, ctype) for child in reversed(children))
        else:
            _leaf(state, part, info, depth > MAX_DEPTH, parent)
    return state.body


def _leaf(state: _Walk, part: Message, info: PartInfo, too_deep: bool, parent: str) -> None:
    defects, body = state.defects, state.body
    ctype = info.content_type
    if parent == "multipart/alternative" and ctype in _ALTERNATIVE_ONLY:
        return  # another rendering of the same text, which we already take from plain/HTML
    if ctype.startswith("multipart/"):
        ctype = "text/plain"  # a multipart without a usable boundary: its body is text
    is_body = ctype in ("text/plain", "text/html") and info.disposition != "attachment"
    if is_body and not too_deep and info.filename is None:
        text = part_text(part, info, ctype, defects)
        if ctype == "text/html":
            body.htmls.append(text)
            return
        text, found = extract_uuencoded(text, len(body.attachments) + 1, state.max_bytes, defects)
        body.texts.append(re.sub(r"\n{3,}", "\n\n", text) if found else text)
        body.attachments.extend(found)
        return
    data = payload_bytes(part, info, defects)
    attachment = state.attach(data, info, ctype, info.filename)
    is_tnef = ctype in TNEF_TYPES or attachment.filename.lower() == "winmail.dat"
    if is_tnef and not attachment.omitted:
        unpacked = unpack_tnef(
            data, attachment, len(body.attachments) + 1, state.max_bytes, defects
        )
        body.attachments.extend(unpacked.files)
        body.fallback_texts.extend([unpacked.text] if unpacked.text else [])
        body.fallback_htmls.extend([unpacked.html] if unpacked.html else [])
        return
    body.attachments.append(attachment)


def _message_part(state: _Walk, part: Message, info: PartInfo) -> None:
    """An attached message: kept as a .eml file, its headers remembered for bounces."""
    inner = _safe(part.get_payload, None)
    if isinstance(inner, list) and inner and isinstance(inner[0], Message):
        data = _serialise(inner[0], state.defects)
    else:
        data = payload_bytes(part, info, state.defects)
    if info.encoding == "base64":  # forbidden for message/rfc822, but Outlook sends it
        data = decode_base64(data, state.defects, info.content_type)
    elif info.encoding == "quoted-printable":
        data = binascii.a2b_qp(data)
    inner_message = _parse_headers(data)
    state.body.returned_headers.append(inner_message)
    name = info.filename
    if name is None:
        subject = decode_words(_first_header(inner_message, "subject"), [], "attached message")
        name = f"{subject.strip()[:100] or 'forwarded-message'}.eml"
    state.body.attachments.append(state.attach(data, info, "message/rfc822", name))


def _first_header(message: Message, name: str) -> str:
    for key, value in message.raw_items():
        if key.lower() == name:
            return clean_text(repair_surrogates(str(value), [], name))
    return ""


def _serialise(message: Message, defects: list[str]) -> bytes:
    buffer = BytesIO()
    try:
        BytesGenerator(buffer, mangle_from_=False, policy=policy.compat32).flatten(message)
    except Exception as exc:  # odd headers or very deep nesting
        defects.append(f"attached message could not be re-serialised ({type(exc).__name__})")
        return b""
    return buffer.getvalue()


def _parse_headers(data: bytes) -> Message:
    return BytesParser(policy=policy.compat32).parsebytes(data, headersonly=True)


def _report_text(part: Message, info: PartInfo, defects: list[str]) -> str:
    """A delivery-status part as text: the stdlib splits it into header blocks."""
    payload = _safe(part.get_payload, "")
    if isinstance(payload, list):
        blocks = [
            "\n".join(f"{name}: {value}" for name, value in block.raw_items())
            for block in payload
            if isinstance(block, Message)
        ]
        return clean_text(repair_surrogates("\n\n".join(blocks), defects, "delivery status"))
    return decode_bytes(payload_bytes(part, info, defects), None, defects, "delivery status")


def describe_defect(defect: object) -> str:
    """'StartBoundaryNotFoundDefect' -> 'start boundary not found' (with the detail)."""
    name = type(defect).__name__.removesuffix("Defect")
    words = re.sub(r"(?<!^)(?=[A-Z])", " ", name).lower()
    detail = str(defect)
    return f"{words}: {detail}"[:200] if detail and detail != "None" else words
