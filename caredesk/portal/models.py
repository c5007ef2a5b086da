"""Sign-in links for client contacts, and the record that rate-limits asking for them.

Only a hash of a link's secret is stored: the secret itself exists in the email
and nowhere else, so a copy of the database signs nobody in.
"""

import hashlib

from django.db import models

from caredesk.lib import clock


def token_hash(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


class SignInLink(models.Model):
    """A single-use, short-lived sign-in link for one contact.

    The row is made when the contact asks; the secret is minted when the mail
    is sent (by the worker), so no usable link ever sits in a queue or outbox.
    """

    contact = models.ForeignKey(
        "clients.Contact", on_delete=models.CASCADE, related_name="portal_links"
    )
    token_hash = models.CharField(max_length=64, unique=True, null=True, blank=True)
    created_at = models.DateTimeField(default=clock.now)
    expires_at = models.DateTimeField()
    sent_at = models.DateTimeField(null=True, blank=True)
    used_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        indexes = [models.Index(fields=["expires_at"], name="portal_link_expiry_idx")]

    def __str__(self) -> str:
        return f"sign-in link for contact {self.contact_id} at {self.created_at:%Y-%m-%d %H:%M}"

    def usable(self, now=None) -> bool:
        now = now or clock.now()
        return self.used_at is None and self.sent_at is not None and now < self.expires_at


class AttemptKind(models.TextChoices):
    LINK = "link", "Link requested"
    PASSWORD = "password", "Password refused"


class SignInAttempt(models.Model):
    """One request for a link, or one wrong password: counted per address and per IP.

    The address is kept as a keyed hash: strangers' addresses typed into the
    form are counted, never stored.
    """

    kind = models.CharField(max_length=10, choices=AttemptKind.choices)
    address_hash = models.CharField(max_length=64)
    ip = models.GenericIPAddressField(null=True, blank=True)
    at = models.DateTimeField(default=clock.now)

    class Meta:
        ordering = ["-at"]
        indexes = [
            models.Index(fields=["kind", "address_hash", "at"], name="portal_attempt_addr_idx"),
            models.Index(fields=["kind", "ip", "at"], name="portal_attempt_ip_idx"),
            models.Index(fields=["at"], name="portal_attempt_at_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.kind} at {self.at:%Y-%m-%d %H:%M}"
