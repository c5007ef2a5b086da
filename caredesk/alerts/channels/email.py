"""Alerts by email, through Django's email backend (SMTP or a provider)."""

from __future__ import annotations

import smtplib

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.mail import EmailMultiAlternatives
from django.core.validators import validate_email

from .base import Channel, Notice, PermanentError, TemporaryError


def addresses(target: str) -> list[str]:
    return [
        a.strip().lower()
        for a in target.replace(";", ",").replace("\n", ",").split(",")
        if a.strip()
    ]


def _text(reply: bytes | str) -> str:
    return reply.decode(errors="replace") if isinstance(reply, bytes) else reply


class EmailChannel(Channel):
    kind = "email"

    @classmethod
    def check_target(cls, target: str) -> str:
        found = addresses(target)
        for address in found:
            try:
                validate_email(address)
            except ValidationError:
                raise ValueError(f"{address!r} is not an email address.") from None
        return ", ".join(found)

    def send(self, notice: Notice) -> None:
        to = addresses(self.target)
        if not to:
            raise PermanentError("no recipients: the channel has no addresses")
        message = EmailMultiAlternatives(
            notice.subject,
            notice.text,
            from_email=settings.DEFAULT_FROM_EMAIL,
            to=to,
            headers={"Auto-Submitted": "auto-generated", "X-Auto-Response-Suppress": "All"},
        )
        message.attach_alternative(notice.html, "text/html")
        try:
            message.send()
        except smtplib.SMTPRecipientsRefused as error:
            replies = "; ".join(
                f"{address}: {code} {_text(reply)}"
                for address, (code, reply) in error.recipients.items()
            )
            if all(code >= 500 for code, _ in error.recipients.values()):
                raise PermanentError(f"every recipient refused: {replies}") from None
            raise TemporaryError(f"recipients not accepted for now: {replies}") from None
        except smtplib.SMTPResponseException as error:
            # 5xx is the server's final word; 4xx (greylisting, a full queue) passes.
            text = f"SMTP {error.smtp_code}: {error.smtp_error!r}"
            if error.smtp_code >= 500 and not isinstance(error, smtplib.SMTPAuthenticationError):
                raise PermanentError(text) from None
            raise TemporaryError(text) from None
        except (OSError, smtplib.SMTPException) as error:
            raise TemporaryError(f"{type(error).__name__}: {error}") from None
