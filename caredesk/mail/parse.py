"""Parse one inbound email: raw RFC 5322 bytes in, one safe, immutable ParsedMessage out.

Pure: no Django, no database, no network. Bad input never raises anything but
ParseFailure, and only when nothing usable can be read; every repair made on the way
is listed in `ParsedMessage.defects`. The caller keeps the raw bytes, so what the
parser cannot show (an oversized file, a body too tangled to read) is never lost.
"""

from __future__ import annotations

import hashlib
import re
from email import policy
from email.message import Message
from email.parser import BytesParser

from .charsets import clean_text, decode_bytes
from .classify import classify, find_bounce
from .headers import (
    HeaderSet,
    envelope_recipients,
    normalise_id_list,
    normalise_message_id,
    parse_date,
)
from .parsed import Address, Attachment, Bounce, Kind, ParsedMessage, ParseFailure
from .parts import Body, describe_defect, walk
from .reply import strip_reply
from .sanitize import html_to_text, sanitize_html, too_deep

__all__ = [
    "Address",
    "Attachment",
    "Bounce",
    "Kind",
    "ParseFailure",
    "ParsedMessage",
    "parse_message",
]

DEFAULT_MAX_ATTACHMENT_BYTES = 25 * 2**20
DEFAULT_MAX_MESSAGE_BYTES = 64 * 2**20
MAX_DEFECTS = 50

# A message must carry at least one of these; otherwise the bytes are not mail.
_MESSAGE_FIELDS = (
    "from", "sender", "to", "cc", "subject", "date", "message-id", "return-path",
    "received", "reply-to", "delivered-to", "in-reply-to", "references", "mime-version",
)  # fmt: skip
_HEADER_BODY_SPLIT = re.compile(rb"\r?\n\r?\n")
_MIME_FIELD = re.compile(rb"^content-[a-z0-9-]*[ \t]*:", re.IGNORECASE | re.MULTILINE)
_FIELD_END = re.compile(rb"\n(?![ \t])")
# Real Content-* fields are a few hundred bytes; past these sizes policy.default's
# parser would take seconds (it is quadratic in the number of parameters and words).
MAX_MIME_FIELD = 4096
MAX_MIME_FIELDS_TOTAL = 512 * 1024


def parse_message(
    raw: bytes,
    *,
    max_attachment_bytes: int = DEFAULT_MAX_ATTACHMENT_BYTES,
    max_message_bytes: int = DEFAULT_MAX_MESSAGE_BYTES,
) -> ParsedMessage:
    """Parse raw message bytes into a ParsedMessage.

    Raises ParseFailure (with a reason for the quarantine) for empty input, input over
    `max_message_bytes`, or bytes with no mail header at all. Files larger than
    `max_attachment_bytes` are listed with `omitted=True` and no content.
    """
    data = _check_input(raw, max_message_bytes)
    defects: list[str] = []
    message, degraded = _parse_mime(data, defects)
    try:
        headers = HeaderSet(message, defects)
    except Exception as exc:  # HeaderSet guards each field; this is the last line
        raise ParseFailure(f"headers unreadable ({type(exc).__name__})") from exc
    if not any(headers.has(name) for name in _MESSAGE_FIELDS):
        raise ParseFailure("no mail headers (From, To, Subject, Date, Message-ID...)")
    body = _walk(message, data, degraded, defects, max_attachment_bytes)
    try:
        return _assemble(data, headers, message, body, defects)
    except Exception as exc:  # a parser bug must reach the quarantine, not crash the worker
        raise ParseFailure(f"internal parser error ({type(exc).__name__}: {exc})"[:300]) from exc


def synthetic_message_id(raw: bytes) -> str:
    """A stable id for deduplication: the same bytes always give the same id."""
    return f"<sha256-{hashlib.sha256(raw).hexdigest()}@caredesk.invalid>"


def _check_input(raw: bytes, max_message_bytes: int) -> bytes:
    if not isinstance(raw, bytes | bytearray | memoryview):
        raise TypeError(f"parse_message() needs bytes, not {type(raw).__name__}")
    data = bytes(raw)
    if len(data) > max_message_bytes:
        raise ParseFailure(f"message is {len(data)} bytes, over the {max_message_bytes} limit")
    if not data.strip():
        raise ParseFailure("empty message")
    return data


def _parse_mime(data: bytes, defects: list[str]) -> tuple[Message, bool]:
    """Parse the MIME structure; returns the message and whether only headers were read.

    The classic compat32 parser reads the structure: our own header readers
    (headers.py, parts.py) decode what it leaves raw, and it is twice as fast as
    policy.default, whose header objects are built on every access (and whose
    parser is quadratic on huge Content-* fields). policy.default is the fallback
    when compat32 fails. When both fail, only the headers are parsed and the body
    is kept as text.
    """
    stripped = data.lstrip(b"\r\n\t ")
    if len(stripped) != len(data):
        # Some pipes and IMAP servers prepend blank lines; they would hide every header.
        defects.append("blank lines before the headers removed")
    if stripped.startswith(b"From "):
        defects.append("mbox 'From ' line ignored")
    for chosen in (policy.compat32, policy.default):
        if chosen is policy.default and _mime_fields_too_big(stripped):
            defects.append("very long MIME headers: not read again by the modern parser")
            break
        try:
            message = BytesParser(policy=chosen).parsebytes(stripped)
        except RecursionError:
            break  # the nesting is too deep for any parser; retrying costs as much again
        except Exception as exc:  # the unforeseen: note it, try the next parser
            defects.append(f"MIME parser failed ({type(exc).__name__})")
            continue
        defects.extend(describe_defect(d) for d in message.defects)
        return message, False
    defects.append("MIME structure unreadable; body kept as text")
    message = BytesParser(policy=policy.compat32).parsebytes(stripped, headersonly=True)
    return message, True


def _mime_fields_too_big(data: bytes) -> bool:
    """Whether any Content-* field is long enough to stall policy.default's parser."""
    total = 0
    for match in _MIME_FIELD.finditer(data):
        end = _FIELD_END.search(data, match.end())
        length = (end.start() if end else len(data)) - match.start()
        total += length
        if length > MAX_MIME_FIELD or total > MAX_MIME_FIELDS_TOTAL:
            return True
    return False


def _walk(
    message: Message, data: bytes, degraded: bool, defects: list[str], max_bytes: int
) -> Body:
    if not degraded:
        try:
            return walk(message, defects, max_bytes)
        except Exception as exc:  # keep the message; show its body as raw text
            defects.append(f"MIME parts unreadable ({type(exc).__name__}); body kept as text")
    parts = _HEADER_BODY_SPLIT.split(data, maxsplit=1)
    raw_body = parts[1] if len(parts) == 2 else b""
    text = decode_bytes(raw_body, None, defects, "body").replace("\r\n", "\n")
    return Body(texts=[clean_text(text)])


def _assemble(
    data: bytes, headers: HeaderSet, message: Message, body: Body, defects: list[str]
) -> ParsedMessage:
    subject = headers.subject()
    raw_html = "\n".join(body.htmls or body.fallback_htmls)
    html = _safe_html(raw_html, defects)
    text = _body_text(body, html or raw_html)
    return_path = headers.text("return-path")
    empty_return_path = return_path is not None and return_path.replace(" ", "") == "<>"
    report_type = _report_type(message)
    bounce = find_bounce(
        headers,
        subject=subject,
        text=text,
        empty_return_path=empty_return_path,
        report_type=report_type,
        delivery_status=body.delivery_status,
        returned_headers=body.returned_headers,
    )
    found = classify(
        headers,
        subject=subject,
        empty_return_path=empty_return_path,
        report_type=report_type,
        bounce=bounce,
    )
    _note_missing(headers, defects)
    return ParsedMessage(
        message_id=normalise_message_id(headers.raw("message-id")),
        synthetic_message_id=synthetic_message_id(data),
        in_reply_to=normalise_id_list(headers.raw("in-reply-to")),
        references=normalise_id_list(headers.raw("references")),
        from_=headers.address("from"),
        sender=headers.address("sender"),
        reply_to=headers.addresses("reply-to"),
        to=headers.addresses("to"),
        cc=headers.addresses("cc"),
        delivered_to=envelope_recipients(headers),
        return_path=return_path,
        subject=subject,
        date=parse_date(headers.raw("date"), defects),
        text=text,
        reply_text=strip_reply(text, subject),
        html=html,
        attachments=tuple(body.attachments),
        kind=found.kind,
        auto_reasons=found.reasons,
        is_out_of_office=found.is_out_of_office,
        bounce=bounce,
        defects=tuple(dict.fromkeys(defects))[:MAX_DEFECTS],
        headers=headers.items,
        size=len(data),
    )


def _safe_html(raw_html: str, defects: list[str]) -> str | None:
    if not raw_html:
        return None
    if too_deep(raw_html):
        defects.append("HTML nested too deeply to show; its text is kept")
        return None
    return sanitize_html(raw_html)


def _body_text(body: Body, html: str | None) -> str:
    """Plain text: the text parts, else text made from the HTML, else winmail.dat's."""
    text = "\n\n".join(t.strip("\n") for t in body.texts if t.strip())
    if not text and html:
        text = html_to_text(html)
    if not text and body.fallback_texts:
        text = "\n\n".join(body.fallback_texts)
    return text.strip()


def _report_type(message: Message) -> str | None:
    try:
        if message.get_content_type() != "multipart/report":
            return None
        value = message.get_param("report-type")
    except Exception:  # a malformed Content-Type simply means "not a report"
        return None
    return str(value).strip().lower() if isinstance(value, str) else None


def _note_missing(headers: HeaderSet, defects: list[str]) -> None:
    for name, label in (("from", "From"), ("date", "Date"), ("message-id", "Message-ID")):
        if not headers.has(name):
            defects.append(f"{label} header missing")
