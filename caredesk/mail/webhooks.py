"""Inbound mail from email providers (Mailgun, Postmark, SES, …) through django-anymail.

Anymail verifies the provider's signature and hands over a parsed message; the
bytes go through the same pipeline as every other way in.
"""

from anymail.signals import inbound
from django.dispatch import receiver

from .ingest import receive


@receiver(inbound, dispatch_uid="mail.webhooks.inbound")
def on_inbound(sender, event, esp_name: str, **kwargs) -> None:
    message = event.message
    envelope = (message.envelope_recipient,) if message.envelope_recipient else ()
    receive(message.as_bytes(), via=f"webhook:{esp_name.lower()}"[:20], envelope_to=envelope)
