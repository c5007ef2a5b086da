"""Reading a message's header fields: RFC 2047 words, addresses, message ids, dates.

Everything is read from the raw header values the stdlib parser kept, so a broken
field never stops the others from being read; what had to be repaired is noted.
"""

from __future__ import annotations

import base64
import binascii
import re
from collections.abc import Iterable
from datetime import UTC, datetime
from email.message import Message
from email.policy import default as default_policy
from email.utils import getaddresses, parsedate_to_datetime

from .charsets import clean_text, decode_bytes, repair_surrogates
from .parsed import Address

# Fields that may appear once (RFC 5322 3.6): a second copy is ignored, but noted.
SINGLE_FIELDS = (
    "from",
    "sender",
    "reply-to",
    "subject",
    "date",
    "message-id",
    "in-reply-to",
    "references",
    "content-type",
    "content-transfer-encoding",
)
# Recipient fields repeated by broken mailers are merged, so nobody is dropped.
MERGED_FIELDS = ("to", "cc")
ENVELOPE_FIELDS = ("delivered-to", "x-original-to", "envelope-to", "x-envelope-to", "x-rcpt-to")

# Lenient RFC 2047: also inside quoted strings and words, lower-case b/q, empty text.
_ENCODED_WORD = re.compile(r"=\?([^?\s]+)\?([bBqQ])\?([^?]*?)\?=")
_FOLD = re.compile(r"\r?\n[ \t]*|\r")
_WHITESPACE = re.compile(r"\s+")
_PLAIN_ADDRESS = r"[A-Za-z0-9_+-]+(?:\.[A-Za-z0-9_+-]+)*@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)+"
_SIMPLE_ADDRESS = re.compile(
    rf"[ \t]*(?:(?P<name>[A-Za-z0-9]+(?: [A-Za-z0-9]+)*)[ \t]*<(?P<addr>{_PLAIN_ADDRESS})>"
    rf"|(?P<bare>{_PLAIN_ADDRESS}))[ \t]*"
)
_MSG_ID = re.compile(r"<([^<>]*)>")
_COMMENT = re.compile(r"\([^()]*\)")

# policy.default's address parser is exact but slow on huge lists (~0.2 ms an address);
# past this length the classic getaddresses() reads the field instead.
_FAST_ADDRESS_PARSE = 4000
# About 6 000 recipients; reading more would take seconds for no use.
MAX_ADDRESS_FIELD = 256 * 1024
MAX_REFERENCES = 100
_MAX_ID_LENGTH = 500


def decode_words(value: str, defects: list[str], where: str) -> str:
    """Decode RFC 2047 encoded words anywhere in `value` and unfold it."""
    value = _FOLD.sub(" ", value)
    if "=?" not in value:
        return clean_text(value)
    out: list[str] = []
    run: tuple[str, bytes] | None = None  # consecutive words in one charset, still bytes
    pos = 0
    for match in _ENCODED_WORD.finditer(value):
        gap = value[pos : match.start()]
        pos = match.end()
        charset, encoding, payload = match.groups()
        data = _decode_word_payload(encoding.lower(), payload, defects, where)
        after_word = run is not None and not gap.strip()
        if data is None:
            out.append(_flush(run, defects, where) + gap + match.group(0))
            run = None
        elif after_word and run is not None and run[0] == charset.lower():
            # Multi-byte characters may be split across words; decode the run together.
            run = (run[0], run[1] + data)
        else:
            # Whitespace between two encoded words is folding, not text (RFC 2047 6.2).
            out.append(_flush(run, defects, where) + ("" if after_word else gap))
            run = (charset.lower(), data)
    out.append(_flush(run, defects, where) + value[pos:])
    return clean_text("".join(out))


def _flush(run: tuple[str, bytes] | None, defects: list[str], where: str) -> str:
    return decode_bytes(run[1], run[0], defects, where) if run else ""


def _decode_word_payload(
    encoding: str, payload: str, defects: list[str], where: str
) -> bytes | None:
    raw = payload.encode("ascii", errors="surrogateescape")
    if encoding == "q":
        return binascii.a2b_qp(raw, header=True)
    cleaned = re.sub(rb"[^A-Za-z0-9+/]", b"", raw)
    if len(cleaned) % 4 == 1:
        cleaned = cleaned[:-1]
    if cleaned != raw.rstrip(b"="):
        defects.append(f"{where}: broken base64 in encoded word")
    try:
        return base64.b64decode(cleaned + b"=" * (-len(cleaned) % 4))
    except binascii.Error:
        return None


class HeaderSet:
    """The top-level header fields of one message, decoded, in order."""

    def __init__(self, message: Message, defects: list[str]) -> None:
        self.defects = defects
        self._raw: dict[str, list[str]] = {}
        items: list[tuple[str, str]] = []
        for name, value in message.raw_items():
            name = clean_text(repair_surrogates(str(name), defects, "header name")).strip()
            raw = repair_surrogates(str(value), defects, f"{name} header")
            if "\x00" in raw:
                defects.append(f"{name} header: NUL bytes removed")
            self._raw.setdefault(name.lower(), []).append(clean_text(raw))
            items.append((name, decode_words(raw, defects, f"{name} header").strip()))
        self.items = tuple(items)
        for name in (*SINGLE_FIELDS, *MERGED_FIELDS):
            if len(self._raw.get(name, ())) > 1:
                action = "merged" if name in MERGED_FIELDS else "first kept"
                defects.append(f"duplicate {name} header ({action})")

    def raw(self, name: str) -> str | None:
        """The first raw value of a field, unfolded and stripped, or None."""
        values = self._raw.get(name.lower())
        return _FOLD.sub(" ", values[0]).strip() if values else None

    def raw_all(self, name: str) -> list[str]:
        """Every raw value of a field, unfolded and stripped, in order."""
        return [_FOLD.sub(" ", v).strip() for v in self._raw.get(name.lower(), [])]

    def text(self, name: str) -> str | None:
        """The first value of a field with encoded words decoded, or None."""
        value = self.raw(name)
        return None if value is None else decode_words(value, [], name).strip()

    def has(self, name: str) -> bool:
        """Whether the field is present at all (even empty)."""
        return name.lower() in self._raw

    def subject(self) -> str:
        """The decoded subject with runs of whitespace collapsed; "" when missing."""
        return _WHITESPACE.sub(" ", self.text("subject") or "").strip()

    def addresses(self, name: str) -> tuple[Address, ...]:
        """Mailboxes of a field (all copies for To/Cc, the first copy otherwise)."""
        values = self.raw_all(name) if name.lower() in MERGED_FIELDS else self.raw_all(name)[:1]
        found: list[Address] = []
        for value in values:
            if len(value) > MAX_ADDRESS_FIELD:
                self.defects.append(f"{name} header over {MAX_ADDRESS_FIELD} bytes: rest not read")
                value = value[: value.rfind(",", 0, MAX_ADDRESS_FIELD) + 1 or MAX_ADDRESS_FIELD]
            found.extend(parse_addresses(value, self.defects, name))
        return tuple(_unique(found))

    def address(self, name: str) -> Address | None:
        """The first mailbox of a field, or None."""
        found = self.addresses(name)
        return found[0] if found else None


def _unique(addresses: Iterable[Address]) -> list[Address]:
    seen: set[str] = set()
    out = []
    for address in addresses:
        if address.email not in seen:
            seen.add(address.email)
            out.append(address)
    return out


def parse_addresses(value: str, defects: list[str], where: str) -> list[Address]:
    """Parse an address list; never raises. Entries without a usable address are noted."""
    pairs = _simple_addresses(value)
    if not pairs and len(value) <= _FAST_ADDRESS_PARSE:
        try:
            header = default_policy.header_factory(where, value)
            pairs = [(a.display_name, a.addr_spec) for a in header.addresses]
        except Exception:  # the modern parser has crashed on odd input before
            pairs = []
    if not pairs:
        pairs = [(decode_words(n, defects, where), a) for n, a in _getaddresses(value)]
    found = []
    for name, addr in pairs:
        email = normalise_email(addr)
        if email:
            found.append(Address(name=_WHITESPACE.sub(" ", clean_text(name)).strip(), email=email))
        elif addr.strip() not in ("", "<>"):
            defects.append(f"{where} header: unusable address {addr[:80]!r}")
    return found


def _simple_addresses(value: str) -> list[tuple[str, str]]:
    """(name, address) pairs of a list in the plain shapes; [] if any entry is another shape.

    Nearly all mail is addressed `Jo Marsh <jo@example.com>` or `jo@example.com` in
    plain ASCII, which the full parser reads in ~0.1 ms an entry to the same result.
    """
    pairs: list[tuple[str, str]] = []
    for entry in value.split(","):
        match = _SIMPLE_ADDRESS.fullmatch(entry)
        if match is None:
            return []
        pairs.append((match["name"] or "", match["addr"] or match["bare"]))
    return pairs


def _getaddresses(value: str) -> list[tuple[str, str]]:
    try:
        return getaddresses([value])
    except Exception:  # RecursionError on thousands of nested comments, for one
        return []


def normalise_email(addr: str) -> str | None:
    """Lower-case an address and decode an IDNA domain; None if it is not one."""
    addr = clean_text(addr).strip().strip("<>").strip()
    local, at, domain = addr.rpartition("@")
    if not at or not local or not domain or " " in addr or "." not in domain.strip("."):
        return None
    return f"{local.lower()}@{_decode_idna(domain.lower().rstrip('.'))}"


def _decode_idna(domain: str) -> str:
    if "xn--" not in domain:
        return domain
    labels = []
    for label in domain.split("."):
        try:
            labels.append(
                label.encode("ascii").decode("idna") if label.startswith("xn--") else label
            )
        except UnicodeError:
            labels.append(label)
    return ".".join(labels)


def normalise_message_id(value: str | None) -> str | None:
    """`<id@host>` from a Message-ID field however it was written; None if empty."""
    ids = normalise_id_list(value)
    return ids[0] if ids else None


def normalise_id_list(value: str | None) -> tuple[str, ...]:
    """All message ids in an In-Reply-To or References field, deduplicated, in order.

    Ids without angle brackets (old or broken mailers) are accepted when they hold an
    `@`. Very long lists keep the first id (the thread root) and the latest ones.
    """
    if not value:
        return ()
    tokens = [_WHITESPACE.sub("", t) for t in _MSG_ID.findall(value)]
    if not tokens:
        bare = _COMMENT.sub(" ", value).replace('"', " ").split()
        # Without brackets, words holding an "@" are ids; failing that, a lone word is.
        tokens = [t for t in bare if "@" in t] or (bare[:1] if len(bare) == 1 else [])
    ids = list(
        dict.fromkeys(
            f"<{token}>"
            for token in (clean_text(t).strip("<>") for t in tokens)
            if token and len(token) <= _MAX_ID_LENGTH
        )
    )
    if len(ids) > MAX_REFERENCES:
        ids = [ids[0], *ids[-(MAX_REFERENCES - 1) :]]
    return tuple(ids)


def parse_date(value: str | None, defects: list[str]) -> datetime | None:
    """An aware datetime from a Date field; UTC when the zone is unknown; None if unreadable."""
    if not value:
        return None
    for candidate in (value, _COMMENT.sub("", value).replace(".", ":").strip()):
        try:
            parsed = parsedate_to_datetime(candidate)
        except (TypeError, ValueError, IndexError, OverflowError):
            continue
        if parsed.tzinfo is None:  # "-0000" means the zone is unknown; UTC is the convention
            parsed = parsed.replace(tzinfo=UTC)
        return parsed
    defects.append(f"Date header unreadable: {value[:80]!r}")
    return None


def envelope_recipients(headers: HeaderSet) -> tuple[str, ...]:
    """Addresses the delivering server wrote down (Delivered-To, X-Original-To, ...)."""
    found: list[str] = []
    for name in ENVELOPE_FIELDS:
        for value in headers.raw_all(name):
            for _name, addr in _getaddresses(value):
                email = normalise_email(addr)
                if email and email not in found:
                    found.append(email)
    return tuple(found)
