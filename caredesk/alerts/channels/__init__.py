"""Alert channels: one module per kind, registered here.

Adding a kind is a module with a :class:`~.base.Channel` subclass and a line
below (and a choice in ``models.ChannelKind``).
"""

from .apprise_url import AppriseChannel
from .base import Channel, ChannelError, Notice, PermanentError, TemporaryError
from .email import EmailChannel

REGISTRY: dict[str, type[Channel]] = {
    EmailChannel.kind: EmailChannel,
    AppriseChannel.kind: AppriseChannel,
}


def channel_for(kind: str, target: str) -> Channel:
    try:
        return REGISTRY[kind](target)
    except KeyError:
        raise PermanentError(f"unknown channel kind {kind!r}") from None


__all__ = [
    "REGISTRY",
    "Channel",
    "ChannelError",
    "Notice",
    "PermanentError",
    "TemporaryError",
    "channel_for",
]
