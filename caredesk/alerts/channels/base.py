"""What every alert channel is: a target, a way to check it, and send().

A channel says how a failure should be handled by the exception it raises:
:class:`TemporaryError` (the server is away, a rate limit: try again later) or
:class:`PermanentError` (a bad address or URL: trying again cannot help).
"""

from __future__ import annotations

from dataclasses import dataclass


class ChannelError(Exception):
    """Sending failed; the message is what the admin sees on the delivery."""


class TemporaryError(ChannelError):
    """Worth retrying later."""


class PermanentError(ChannelError):
    """Retrying cannot help until someone changes the channel."""


@dataclass(frozen=True)
class Notice:
    """One message, ready for any channel: a subject, plain text and HTML."""

    subject: str
    text: str
    html: str
    down: int  # monitors down in it
    up: int  # monitors back up in it
    warnings: int = 0  # warnings in it (trouble coming, not an outage)


class Channel:
    kind: str = ""

    def __init__(self, target: str) -> None:
        self.target = target

    @classmethod
    def check_target(cls, target: str) -> str:
        """The target cleaned up, or ValueError with a sentence for the admin form."""
        raise NotImplementedError

    def send(self, notice: Notice) -> None:
        """Deliver ``notice``; raise TemporaryError or PermanentError if it did not go."""
        raise NotImplementedError
