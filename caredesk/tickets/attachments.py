"""Storing files that come with messages, within size and type limits."""

import hashlib
from dataclasses import dataclass

from django.conf import settings
from django.core.files.base import ContentFile

from .models import Attachment, Message

# Files a client's mail program might carry that nobody at the agency should
# open from a helpdesk: kept out, and the message says so.
BLOCKED_EXTENSIONS = frozenset(
    {
        "exe",
        "com",
        "scr",
        "bat",
        "cmd",
        "pif",
        "vbs",
        "vbe",
        "js",
        "jse",
        "msi",
        "msp",
        "hta",
        "cpl",
        "jar",
        "ps1",
        "reg",
        "lnk",
        "dll",
    }
)


@dataclass(frozen=True)
class Incoming:
    filename: str
    content_type: str
    content: bytes
    content_id: str = ""
    inline: bool = False


@dataclass(frozen=True)
class Refused:
    filename: str
    reason: str


def max_bytes() -> int:
    return settings.CAREDESK_MAX_ATTACHMENT_MB * 1024 * 1024


def refusal(item: Incoming) -> str | None:
    extension = item.filename.rsplit(".", 1)[-1].lower() if "." in item.filename else ""
    if extension in BLOCKED_EXTENSIONS:
        return f"files of type .{extension} are not accepted"
    if len(item.content) > max_bytes():
        return f"larger than {settings.CAREDESK_MAX_ATTACHMENT_MB} MB"
    if not item.content:
        return "empty file"
    return None


def store(message: Message, items: list[Incoming]) -> list[Refused]:
    """Save what is allowed; return what was refused and why (to tell the sender and staff)."""
    refused = []
    for item in items:
        reason = refusal(item)
        if reason:
            refused.append(Refused(item.filename, reason))
            continue
        attachment = Attachment(
            message=message,
            filename=item.filename[:255],
            content_type=item.content_type[:200],
            size=len(item.content),
            content_id=item.content_id[:300],
            inline=item.inline,
        )
        digest = hashlib.sha256(item.content).hexdigest()[:12]
        attachment.file.save(digest, ContentFile(item.content), save=False)
        attachment.save()
    return refused
