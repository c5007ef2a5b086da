from django.db import models

from caredesk.lib import clock


class InboundStatus(models.TextChoices):
    RECEIVED = "received", "Received, not yet processed"
    TICKETED = "ticketed", "Opened a new ticket"
    THREADED = "threaded", "Added to a ticket"
    DUPLICATE = "duplicate", "Duplicate of a message already received"
    BOUNCE = "bounce", "Delivery failure report"
    IGNORED = "ignored", "Automatic message with no ticket to go to"
    REFUSED = "refused", "Refused (unknown sender)"
    QUARANTINED = "quarantined", "Quarantined"


class InboundEmail(models.Model):
    """Every message that came in, raw bytes first: nothing is lost, whatever it is."""

    received_at = models.DateTimeField(default=clock.now, db_index=True)
    via = models.CharField(max_length=20)  # pipe, imap, smtp, webhook
    raw = models.BinaryField()
    size = models.PositiveIntegerField()
    sha256 = models.CharField(max_length=64, db_index=True)
    envelope_to = models.JSONField(default=list, blank=True)
    message_id = models.CharField(max_length=998, blank=True, db_index=True)
    # Set only on the one copy that was processed: the unique index makes a
    # second copy of the same Message-ID a duplicate, even under a race.
    dedupe_key = models.CharField(max_length=998, null=True, blank=True, unique=True)
    from_email = models.CharField(max_length=320, blank=True, db_index=True)
    subject = models.CharField(max_length=500, blank=True)
    status = models.CharField(
        max_length=20, choices=InboundStatus.choices, default=InboundStatus.RECEIVED
    )
    reason = models.TextField(blank=True)
    ticket = models.ForeignKey(
        "tickets.Ticket", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    ticket_message = models.ForeignKey(
        "tickets.Message", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    processed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-received_at"]
        verbose_name = "inbound email"
        # The per-sender rate limit counts one sender's last hour on every message.
        indexes = [models.Index(fields=["from_email", "received_at"], name="inbound_sender_recent")]

    def __str__(self) -> str:
        return f"{self.from_email or '?'}: {self.subject or '(no subject)'}"


class Quarantined(InboundEmail):
    """The quarantine, as its own page in the admin."""

    class Meta:
        proxy = True
        verbose_name = "quarantined email"
        verbose_name_plural = "quarantine"


class OutboundState(models.TextChoices):
    QUEUED = "queued", "Queued"
    SENDING = "sending", "Sending"
    SENT = "sent", "Sent"
    FAILED = "failed", "Failed"
    SUPPRESSED = "suppressed", "Not sent: address undeliverable"


class OutboundEmail(models.Model):
    """The outbox. The worker sends from here, retrying with backoff; each attempt is logged."""

    created_at = models.DateTimeField(default=clock.now)
    ticket = models.ForeignKey(
        "tickets.Ticket", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    kind = models.CharField(max_length=30)
    to = models.JSONField(default=list)
    cc = models.JSONField(default=list, blank=True)
    subject = models.CharField(max_length=500)
    text = models.TextField()
    html = models.TextField(blank=True)
    headers = models.JSONField(default=dict, blank=True)
    message_id = models.CharField(max_length=998, unique=True)
    state = models.CharField(
        max_length=12, choices=OutboundState.choices, default=OutboundState.QUEUED
    )
    attempts = models.PositiveSmallIntegerField(default=0)
    next_attempt_at = models.DateTimeField(default=clock.now, db_index=True)
    claimed_at = models.DateTimeField(null=True, blank=True)
    last_error = models.TextField(blank=True)
    sent_at = models.DateTimeField(null=True, blank=True)
    bounced_at = models.DateTimeField(null=True, blank=True)
    bounce_reason = models.TextField(blank=True)

    class Meta:
        ordering = ["-created_at"]
        verbose_name = "outbound email"

    def __str__(self) -> str:
        return f"{self.kind} to {', '.join(self.to)}"


class SendAttempt(models.Model):
    email = models.ForeignKey(OutboundEmail, on_delete=models.CASCADE, related_name="log")
    at = models.DateTimeField(default=clock.now)
    ok = models.BooleanField()
    error = models.TextField(blank=True)

    class Meta:
        ordering = ["at"]

    def __str__(self) -> str:
        return f"{'sent' if self.ok else 'failed'} at {self.at:%Y-%m-%d %H:%M:%S}"


class Undeliverable(models.Model):
    """An address that bounced permanently: caredesk stops writing to it."""

    email = models.CharField(max_length=320, unique=True)
    first_bounced_at = models.DateTimeField(default=clock.now)
    last_bounced_at = models.DateTimeField(default=clock.now)
    bounces = models.PositiveIntegerField(default=1)
    reason = models.TextField(blank=True)

    class Meta:
        ordering = ["email"]

    def __str__(self) -> str:
        return self.email
