"""Poll an IMAP mailbox. A message is flagged (or moved) only after it is stored."""

import logging
from dataclasses import dataclass
from urllib.parse import unquote, urlsplit

from imap_tools import AND, MailBox, MailBoxUnencrypted, MailMessageFlags

from .ingest import receive

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class ImapConfig:
    host: str
    port: int
    user: str
    password: str
    folder: str
    tls: bool
    done_folder: str | None  # move processed mail here; None: flag it \\Seen

    @classmethod
    def from_url(cls, url: str, done_folder: str | None = None) -> "ImapConfig":
        """``imaps://user:password@host:993/INBOX`` (``imap://`` for plain, tests only)."""
        parts = urlsplit(url)
        if parts.scheme not in ("imap", "imaps") or not parts.hostname:
            raise ValueError("an IMAP URL looks like imaps://user:password@host:993/INBOX")
        return cls(
            host=parts.hostname,
            port=parts.port or (993 if parts.scheme == "imaps" else 143),
            user=unquote(parts.username or ""),
            password=unquote(parts.password or ""),
            folder=unquote(parts.path.lstrip("/")) or "INBOX",
            tls=parts.scheme == "imaps",
            done_folder=done_folder,
        )


def poll(config: ImapConfig, limit: int = 200) -> int:
    """Fetch unseen messages, store each, then mark it; returns how many were stored."""
    box_class = MailBox if config.tls else MailBoxUnencrypted
    stored = 0
    with box_class(config.host, port=config.port).login(
        config.user, config.password, initial_folder=config.folder
    ) as mailbox:
        for uid in mailbox.uids(AND(seen=False))[:limit]:
            status, data = mailbox.client.uid("FETCH", uid, "(BODY.PEEK[])")
            raw = next((item[1] for item in data if isinstance(item, tuple)), None)
            if status != "OK" or raw is None:
                logger.warning("IMAP fetch of uid %s failed: %s", uid, status)
                continue
            receive(raw, via="imap")  # stored (and committed) before the mark below
            if config.done_folder:
                mailbox.move(uid, config.done_folder)
            else:
                mailbox.flag(uid, MailMessageFlags.SEEN, True)
            stored += 1
    return stored
