"""Alerts to anything Apprise speaks: Slack, Teams, Discord, Telegram, SMS gateways, webhooks.

The target is one Apprise URL per line (``slack://…``, ``json://host/path``);
they hold tokens, so the channel stores them encrypted.
"""

from __future__ import annotations

import logging

import apprise

from .base import Channel, Notice, PermanentError, TemporaryError

TIMEOUT = 20  # seconds for the whole notification, all URLs together


def urls(target: str) -> list[str]:
    return [line.strip() for line in target.splitlines() if line.strip()]


def _loaded(target: str) -> apprise.Apprise:
    sender = apprise.Apprise()
    for number, url in enumerate(urls(target), start=1):
        if not sender.add(url):
            # Never echo the URL: it is a secret.
            raise ValueError(f"line {number} is not an Apprise URL Apprise can use.")
    return sender


class AppriseChannel(Channel):
    kind = "apprise"

    @classmethod
    def check_target(cls, target: str) -> str:
        if not urls(target):
            raise ValueError("Give at least one Apprise URL.")
        _loaded(target)
        return "\n".join(urls(target))

    def send(self, notice: Notice) -> None:
        try:
            sender = _loaded(self.target)
        except ValueError as error:
            raise PermanentError(str(error)) from None
        if not len(sender):
            raise PermanentError("no Apprise URL in the channel")
        if notice.down:
            kind = apprise.NotifyType.FAILURE
        elif notice.warnings:
            kind = apprise.NotifyType.WARNING
        else:
            kind = apprise.NotifyType.SUCCESS
        result = sender.notify(
            notice.text,
            title=notice.subject,
            notify_type=kind,
            body_format=apprise.NotifyFormat.TEXT,
            timeout=TIMEOUT,
            log_level=logging.WARNING,
        )
        if not result:
            failed = [r for r in result.results if not r]
            details = "; ".join(
                entry.message for r in failed for entry in r.logs() if entry.message
            )
            names = ", ".join(r.name for r in failed)
            raise TemporaryError(f"{names or 'Apprise'} failed: {details or 'no details'}"[:1000])
