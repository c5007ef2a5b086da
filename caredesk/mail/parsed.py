"""The immutable result of parsing one inbound email, and the one error parsing may raise.

Nothing here imports Django: the ticket code builds its rows from these values, and the
parser can run (and be tested) without settings or a database.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Literal

Kind = Literal["normal", "auto_reply", "bounce", "list", "loop"]


class ParseFailure(Exception):
    """Nothing usable could be read from the bytes; the caller quarantines them.

    `reason` is a short sentence for the staff who look at the quarantine.
    """

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


@dataclass(frozen=True)
class Address:
    """One mailbox: display name (decoded, may be empty) and lower-cased address."""

    name: str
    email: str

    def __str__(self) -> str:
        return f"{self.name} <{self.email}>" if self.name else self.email


@dataclass(frozen=True)
class Attachment:
    """A file carried by the message, including inline images.

    `omitted` is true when the file was larger than the parser's attachment limit: its
    name, type and size are known, `content` is empty and the bytes stay in the raw
    message, which the caller keeps.
    """

    filename: str
    content_type: str
    content: bytes = field(repr=False)
    content_id: str | None = None
    inline: bool = False
    size: int = 0
    omitted: bool = False


@dataclass(frozen=True)
class Bounce:
    """What a delivery failure report says about a message we sent.

    `permanent` is false for delay warnings (`Action: delayed`, 4.x.x status): those
    mean the mail may still arrive and must not mark the address undeliverable.
    """

    recipients: tuple[str, ...]
    action: str | None
    status: str | None
    diagnostic: str | None
    original_message_id: str | None
    permanent: bool


@dataclass(frozen=True)
class ParsedMessage:
    """One inbound email, decoded, repaired and classified. See docs/email.md."""

    message_id: str | None
    synthetic_message_id: str
    in_reply_to: tuple[str, ...]
    references: tuple[str, ...]
    from_: Address | None
    sender: Address | None
    reply_to: tuple[Address, ...]
    to: tuple[Address, ...]
    cc: tuple[Address, ...]
    delivered_to: tuple[str, ...]
    return_path: str | None
    subject: str
    date: datetime | None
    text: str
    reply_text: str
    html: str | None
    attachments: tuple[Attachment, ...]
    kind: Kind
    auto_reasons: tuple[str, ...]
    is_out_of_office: bool
    bounce: Bounce | None
    defects: tuple[str, ...]
    headers: tuple[tuple[str, str], ...] = field(repr=False)
    size: int

    @property
    def dedupe_id(self) -> str:
        """The id to deduplicate on: the Message-ID, or the hash of the bytes without one."""
        return self.message_id or self.synthetic_message_id

    @property
    def may_auto_reply(self) -> bool:
        """Whether an automatic answer (confirmation, after-hours note) may be sent."""
        return self.kind == "normal"

    @property
    def empty_return_path(self) -> bool:
        """True for `Return-Path: <>`, which only delivery reports and robots send."""
        return self.return_path is not None and self.return_path.replace(" ", "") == "<>"
