"""An SMTP receiver (aiosmtpd): mail delivered to it is stored and filed."""

import logging

from aiosmtpd.controller import Controller
from asgiref.sync import sync_to_async
from django.conf import settings
from django.db import close_old_connections

from .ingest import receive

logger = logging.getLogger(__name__)


class Handler:
    def __init__(self, accept_domains: set[str]) -> None:
        self.accept_domains = accept_domains

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        domain = address.rpartition("@")[2].lower()
        if self.accept_domains and domain not in self.accept_domains:
            return "550 5.1.1 not a mailbox here"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        raw = envelope.original_content or envelope.content
        try:
            await sync_to_async(_store, thread_sensitive=False)(raw, tuple(envelope.rcpt_tos))
        except Exception:
            # Not stored: a temporary failure makes the sender try again later.
            logger.exception("could not store a message from %s", envelope.mail_from)
            return "451 4.3.0 could not store the message, try again later"
        return "250 2.0.0 stored"


def _store(raw: bytes, rcpt_tos: tuple[str, ...]) -> None:
    close_old_connections()
    try:
        receive(raw, via="smtp", envelope_to=rcpt_tos)
    finally:
        close_old_connections()


def controller(host: str, port: int) -> Controller:
    domain = settings.CAREDESK_SUPPORT_ADDRESS.partition("@")[2]
    return Controller(
        Handler({domain}),
        hostname=host,
        port=port,
        data_size_limit=settings.CAREDESK_MAX_MESSAGE_MB * 1024 * 1024,
    )
