"""Files carried by a message: safe names, winmail.dat (TNEF) and uuencoded blocks."""

from __future__ import annotations

import binascii
import logging
import mimetypes
import re
from dataclasses import dataclass, field

from tnefparse import TNEF

from .charsets import clean_text, decode_bytes
from .parsed import Attachment

# The builtin table only: the host's /etc/mime.types must not change parse results.
_MIME = mimetypes.MimeTypes()
_EXTENSIONS = {
    "application/octet-stream": ".bin",
    "audio/mpeg": ".mp3",
    "audio/wav": ".wav",
    "audio/x-wav": ".wav",
    "image/jpeg": ".jpg",
    "message/rfc822": ".eml",
    "text/calendar": ".ics",
    "text/plain": ".txt",
}
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")
_UNSAFE_NAME = re.compile(r'[<>:"|?*]')  # reserved on Windows, odd in a shell
_MAX_NAME = 200
TNEF_TYPES = frozenset({"application/ms-tnef", "application/vnd.ms-tnef"})

# tnefparse logs a warning per odd object; the defects list already says what matters.
logging.getLogger("tnefparse").setLevel(logging.ERROR)


def safe_filename(name: str | None, content_type: str, index: int) -> str:
    """A file name that is safe to show and store: no path, no control characters.

    Without a usable name, one is made from the position and the content type.
    """
    cleaned = ""
    if name:
        cleaned = _CONTROL.sub("", clean_text(name)).replace("\\", "/").rsplit("/", 1)[-1]
        cleaned = " ".join(_UNSAFE_NAME.sub("_", cleaned).split()).strip(" .")
        if len(cleaned) > _MAX_NAME:
            stem, dot, ext = cleaned.rpartition(".")
            ext = f".{ext}" if dot and stem and len(ext) <= 16 else ""
            cleaned = cleaned[: _MAX_NAME - len(ext)] + ext
    if not cleaned:
        extension = _EXTENSIONS.get(content_type) or _MIME.guess_extension(content_type) or ".bin"
        cleaned = f"attachment-{index}{extension}"
    return cleaned


def guess_type(filename: str) -> str:
    """Content type for a file that came without one (TNEF, uuencode)."""
    return _MIME.guess_type(filename)[0] or "application/octet-stream"


def make_attachment(
    data: bytes,
    *,
    filename: str | None,
    content_type: str,
    index: int,
    max_bytes: int,
    content_id: str | None = None,
    inline: bool = False,
) -> Attachment:
    """Build an Attachment, leaving the bytes out (`omitted`) past the size limit."""
    omitted = len(data) > max_bytes
    return Attachment(
        filename=safe_filename(filename, content_type, index),
        content_type=content_type,
        content=b"" if omitted else data,
        content_id=content_id,
        inline=inline,
        size=len(data),
        omitted=omitted,
    )


@dataclass
class Unpacked:
    """What came out of a winmail.dat: its files and the message body it carried."""

    files: list[Attachment] = field(default_factory=list)
    text: str | None = None
    html: str | None = None


def unpack_tnef(
    data: bytes, original: Attachment, first_index: int, max_bytes: int, defects: list[str]
) -> Unpacked:
    """Unpack an Outlook winmail.dat into its files and body.

    The original is kept when it cannot be read, or when it holds something we
    cannot show (a body only in compressed RTF), so nothing is lost.
    """
    try:
        tnef = TNEF(data, do_checksum=False)
    except Exception as exc:  # tnefparse raises anything from struct.error to ValueError
        defects.append(f"winmail.dat could not be unpacked ({type(exc).__name__}); kept as is")
        return Unpacked(files=[original])
    result = Unpacked()
    for att in tnef.attachments:
        content = att.data if isinstance(att.data, bytes) else b""
        name = _tnef_name(att)
        result.files.append(
            make_attachment(
                content,
                filename=name,
                content_type=guess_type(name or ""),
                index=first_index + len(result.files),
                max_bytes=max_bytes,
            )
        )
    result.text = _tnef_text(tnef.body, tnef.codepage, defects)
    result.html = _tnef_text(tnef.htmlbody, tnef.codepage, defects)
    unreadable_body = tnef.has_body() and not (result.text or result.html)
    if unreadable_body or not (result.files or result.text or result.html):
        defects.append("winmail.dat holds content that cannot be shown; kept as is")
        result.files.append(original)
    return result


def _tnef_name(att: object) -> str | None:
    try:
        name = att.long_filename()  # type: ignore[attr-defined]
    except Exception:  # names come from MAPI properties of any type and encoding
        return None
    if isinstance(name, bytes):
        name = name.decode("utf-8", errors="replace")
    return str(name).strip("\x00") or None


def _tnef_text(value: object, codepage: str | None, defects: list[str]) -> str | None:
    if isinstance(value, bytes):
        value = decode_bytes(value.rstrip(b"\x00"), codepage or "cp1252", defects, "winmail.dat")
    if not isinstance(value, str):
        return None
    return clean_text(value.replace("\r\n", "\n")).strip() or None


_UU_BEGIN = re.compile(r"^begin [0-7]{3,4} +([^\n]+)\n", re.MULTILINE)
_UU_END = re.compile(r"^end *(?:\n|\Z)", re.MULTILINE)


def extract_uuencoded(
    text: str, first_index: int, max_bytes: int, defects: list[str]
) -> tuple[str, list[Attachment]]:
    """Take uuencoded files (`begin 644 name` ... `end`) out of a plain-text body."""
    if "begin " not in text:
        return text, []
    found: list[Attachment] = []
    pieces: list[str] = []
    pos = 0
    for begin in _UU_BEGIN.finditer(text):
        if begin.start() < pos:
            continue
        end = _UU_END.search(text, begin.end())
        if end is None:
            break
        data = uudecode(text[begin.end() : end.start()], defects)
        name = begin.group(1).strip()
        found.append(
            make_attachment(
                data,
                filename=name,
                content_type=guess_type(name),
                index=first_index + len(found),
                max_bytes=max_bytes,
            )
        )
        pieces.append(text[pos : begin.start()])
        pos = end.end()
    pieces.append(text[pos:])
    return "".join(pieces), found


def uudecode(block: str, defects: list[str]) -> bytes:
    """Decode uuencoded lines, tolerating the trailing garbage some encoders add."""
    out = bytearray()
    broken = False
    for line in block.splitlines():
        raw = line.rstrip("\r").encode("latin-1", errors="ignore")
        if not raw or raw in (b"`", b" "):
            continue
        try:
            out += binascii.a2b_uu(raw)
        except binascii.Error:
            # Known workaround: decode only as many characters as the length byte says.
            length = (((raw[0] - 32) & 63) * 4 + 5) // 3
            try:
                out += binascii.a2b_uu(raw[:length])
            except binascii.Error:
                broken = True
    if broken:
        defects.append("uuencoded data had unreadable lines")
    return bytes(out)
