"""Turning bytes of unknown or lying charset into text, and saying what was repaired.

Mail declares its charset, but the declaration is often wrong: Outlook writes
windows-1252 smart quotes under `iso-8859-1`, old scripts send Latin-1 bytes as
`utf-8`, some servers stamp `unknown-8bit`, phones send 8-bit text with no charset.
The rules here follow what browsers do (WHATWG labels) and fall back to
charset-normalizer only when the bytes give no better answer.
"""

from __future__ import annotations

import codecs
import re

from charset_normalizer import from_bytes

# Labels that mean "no real charset given".
_UNKNOWN_LABELS = frozenset({"", "unknown", "unknown-8bit", "x-unknown", "8bit", "default", "none"})

# What mail clients write versus what the bytes really are. Latin-1 and ASCII labels
# map to windows-1252 (as browsers do) because 0x80-0x9F are never C1 controls in mail.
_ALIASES = {
    "us-ascii": "cp1252",
    "ascii": "cp1252",
    "iso-8859-1": "cp1252",
    "iso8859-1": "cp1252",
    "iso_8859-1": "cp1252",
    "latin1": "cp1252",
    "latin-1": "cp1252",
    "l1": "cp1252",
    "windows-1252": "cp1252",
    "iso-2022-jp": "iso2022_jp_ext",
    "shift_jis": "cp932",
    "shift-jis": "cp932",
    "sjis": "cp932",
    "x-sjis": "cp932",
    "gb2312": "gb18030",
    "gbk": "gb18030",
    "euc-kr": "cp949",
    "ks_c_5601-1987": "cp949",
    "big5": "big5hkscs",
    "utf8": "utf-8",
    "unicode-1-1-utf-7": "utf-7",
    "x-mac-roman": "mac_roman",
    "macintosh": "mac_roman",
    "tis-620": "cp874",
    "windows-874": "cp874",
}

# Codecs Python knows that are not real text charsets in mail (or decode escape
# sequences into arbitrary characters); a label naming one is treated as unknown.
_REFUSED_CODECS = frozenset(
    {"undefined", "unicode_escape", "raw_unicode_escape", "punycode", "idna", "mbcs", "oem"}
)

_MAX_GUESS_BYTES = 64 * 1024
# Below this language coherence the text is too short or odd for a guess to mean much.
_MIN_COHERENCE = 0.2
_EIGHT_BIT = re.compile(rb"[\x80-\xff]")


def _cp1252_fallback(error: UnicodeError) -> tuple[str, int]:
    """Decode the bytes UTF-8 rejected as windows-1252 (Latin-1 for its five holes)."""
    if not isinstance(error, UnicodeDecodeError):
        raise error
    chunk = error.object[error.start : error.end]
    return chunk.decode("cp1252", errors="ignore") or chunk.decode("latin-1"), error.end


codecs.register_error("caredesk-cp1252", _cp1252_fallback)


def lookup_codec(label: str | None) -> str | None:
    """Return the Python codec name for a MIME charset label, or None if unusable."""
    if not label:
        return None
    name = label.strip().strip("\"'").lower()
    name = name.split("*", 1)[0]  # RFC 2231 language suffix: utf-8*en
    if name in _UNKNOWN_LABELS:
        return None
    name = _ALIASES.get(name, name)
    try:
        info = codecs.lookup(name)
    except LookupError:
        if name.startswith("x-"):
            return lookup_codec(name[2:])
        return None
    if (
        not getattr(info, "_is_text_encoding", True)
        or info.name.replace("-", "_") in _REFUSED_CODECS
    ):
        return None
    return info.name


def guess_codec(data: bytes) -> str:
    """Best guess for undeclared 8-bit bytes: UTF-8 if valid, else charset-normalizer.

    Short Western text fits a dozen single-byte charsets equally well; among equal
    candidates windows-1252 wins, as it is by far the most common in undeclared mail.
    """
    if _is_utf8(data):
        return "utf-8"
    matches = list(from_bytes(data[:_MAX_GUESS_BYTES]))
    if not matches:
        return "cp1252"
    best = matches[0]
    for match in matches:
        tied = match.chaos <= best.chaos + 0.01 and match.coherence >= best.coherence - 0.01
        if tied and "cp1252" in match.could_be_from_charset:
            return "cp1252"
    if best.coherence < _MIN_COHERENCE:
        return "cp1252"
    return lookup_codec(best.encoding) or "cp1252"


def decode_bytes(data: bytes, label: str | None, defects: list[str], where: str) -> str:
    """Decode `data` declared as `label`, repairing and noting bad declarations.

    Never raises: whatever cannot be decoded becomes U+FFFD, and `defects` says so.
    """
    if not _EIGHT_BIT.search(data) and b"\x1b" not in data and label_is_ascii_compatible(label):
        return data.decode("ascii")
    codec = lookup_codec(label)
    if codec is None:
        codec = guess_codec(data)
        if label:
            defects.append(f"{where}: charset {label!r} unusable, read as {codec}")
        else:
            defects.append(f"{where}: 8-bit text without a charset, read as {codec}")
    if codec == "cp1252" and _is_utf8(data):
        # Clients that label everything ASCII or Latin-1 often send UTF-8; valid
        # multi-byte UTF-8 is almost never an accident of Latin-1 text.
        defects.append(f"{where}: declared {label} but the bytes are utf-8")
        return data.decode("utf-8")
    if codec == "utf-8":
        try:
            return data.decode("utf-8")
        except UnicodeDecodeError:
            defects.append(f"{where}: declared utf-8 but not valid; stray bytes read as cp1252")
            return data.decode("utf-8", errors="caredesk-cp1252")
    try:
        return data.decode(codec)
    except UnicodeDecodeError:
        return _decode_mislabelled(data, codec, defects, where)
    except (LookupError, ValueError):
        defects.append(f"{where}: codec {codec} failed, read as utf-8 with replacements")
        return data.decode("utf-8", errors="replace")


def _is_utf8(data: bytes) -> bool:
    try:
        data.decode("utf-8")
    except UnicodeDecodeError:
        return False
    return True


def _decode_mislabelled(data: bytes, codec: str, defects: list[str], where: str) -> str:
    """The declared charset rejected the bytes: try UTF-8, then a guess, then replace."""
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        guessed = guess_codec(data)
        defects.append(f"{where}: bytes not valid {codec}, read as {guessed}")
        return data.decode(guessed, errors="replace")
    defects.append(f"{where}: bytes not valid {codec}, read as utf-8")
    return text


def label_is_ascii_compatible(label: str | None) -> bool:
    """Whether pure 7-bit bytes under `label` can be read as ASCII.

    UTF-7, UTF-16/32 and the ISO-2022 family use 7-bit bytes for other characters.
    """
    if not label:
        return True
    name = label.strip().strip("\"'").lower()
    return not name.startswith(("utf-7", "unicode-1-1-utf-7", "utf-16", "utf-32", "iso-2022"))


def repair_surrogates(value: str, defects: list[str], where: str) -> str:
    """Turn raw 8-bit bytes smuggled into a str (surrogateescape) back into text.

    The stdlib parser keeps 8-bit header bytes as lone surrogates; they cannot be
    stored or shown, so decode them as UTF-8, or guess when they are not UTF-8.
    """
    if not any("\udc80" <= ch <= "\udcff" for ch in value):
        return value
    raw = value.encode("utf-8", errors="surrogateescape")
    defects.append(f"{where}: raw 8-bit bytes")
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        return raw.decode(guess_codec(raw), errors="replace")


_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\ud800-\udfff]")


def clean_text(value: str) -> str:
    """Drop NUL, C0 controls (tab and newlines stay) and lone surrogates.

    PostgreSQL refuses NUL in text and no encoder accepts a lone surrogate, so these
    would otherwise crash whatever stores the message.
    """
    return _CONTROL.sub("", value)
