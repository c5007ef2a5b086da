"""Alert channels, one delivery row per alert and channel, and the incident's ticket."""

from django.db import models
from django.db.models import Q

from caredesk.clients.models import Organisation
from caredesk.lib import clock
from caredesk.lib.crypto import EncryptedTextField
from caredesk.monitoring.models import Incident


class ChannelKind(models.TextChoices):
    EMAIL = "email", "Email"
    APPRISE = "apprise", "Apprise URL"  # Slack, Teams, Discord, Telegram, SMS, webhooks…


class Audience(models.TextChoices):
    AGENCY = "agency", "Agency on-call"
    CLIENT = "client", "A client's contacts"


class AlertChannel(models.Model):
    """Where alerts go, and for which clients' incidents."""

    name = models.CharField(max_length=100, unique=True)
    kind = models.CharField(max_length=10, choices=ChannelKind.choices)
    # Apprise URLs carry tokens (a Slack webhook is its own password): encrypted at rest.
    target = EncryptedTextField(
        blank=True,
        help_text="Email: addresses separated by commas. Apprise: one URL per line. "
        "Stored encrypted.",
    )
    audience = models.CharField(max_length=10, choices=Audience.choices, default=Audience.AGENCY)
    organisation = models.ForeignKey(
        Organisation,
        verbose_name="client",
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="alert_channels",
        help_text="A client's channel: only this organisation's incidents.",
    )
    only_organisations = models.ManyToManyField(
        Organisation,
        verbose_name="only these clients",
        blank=True,
        related_name="+",
        help_text="An agency channel: only these clients' incidents (empty: every client).",
    )
    send_recoveries = models.BooleanField(default=True, help_text="Also say when a site is back.")
    enabled = models.BooleanField(default=True)
    created_at = models.DateTimeField(default=clock.now, editable=False)
    last_sent_at = models.DateTimeField(null=True, blank=True, editable=False)
    last_error = models.CharField(max_length=1000, blank=True, editable=False)
    last_error_at = models.DateTimeField(null=True, blank=True, editable=False)

    class Meta:
        ordering = ["audience", "name"]
        constraints = [
            models.CheckConstraint(
                condition=Q(audience="agency", organisation=None)
                | Q(audience="client", organisation__isnull=False),
                name="alert_channel_audience",
            ),
        ]

    def __str__(self) -> str:
        return self.name


class AlertEvent(models.TextChoices):
    DOWN = "down", "Down"
    UP = "up", "Back up"


class DeliveryState(models.TextChoices):
    PENDING = "pending", "Waiting to be sent"
    SENDING = "sending", "Sending"
    SENT = "sent", "Sent"
    FAILED = "failed", "Failed"
    SUPPRESSED = "suppressed", "Not sent (a monitor it depends on is down)"


class AlertDelivery(models.Model):
    """One alert (an incident going down or up) for one channel: what is sent, and how it went.

    Deliveries of one channel that are waiting together go out as one message
    (``batch`` names it), so fifty sites down at once are one message, not fifty.
    """

    channel = models.ForeignKey(AlertChannel, on_delete=models.CASCADE, related_name="deliveries")
    incident = models.ForeignKey(Incident, on_delete=models.CASCADE, related_name="+")
    event = models.CharField(max_length=8, choices=AlertEvent.choices)
    at = models.DateTimeField(help_text="When the incident was confirmed or resolved.")
    state = models.CharField(
        max_length=12, choices=DeliveryState.choices, default=DeliveryState.PENDING
    )
    due_at = models.DateTimeField("next attempt")
    attempts = models.PositiveSmallIntegerField(default=0)
    last_error = models.CharField(max_length=1000, blank=True)
    claim = models.CharField(max_length=32, blank=True, editable=False)
    claimed_at = models.DateTimeField(null=True, blank=True, editable=False)
    batch = models.CharField(max_length=32, blank=True, help_text="The message it went out in.")
    sent_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(default=clock.now)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name_plural = "alert deliveries"
        indexes = [
            models.Index(fields=["state", "due_at"], name="alert_delivery_due"),
            models.Index(fields=["channel", "state"], name="alert_delivery_channel"),
            models.Index(fields=["claim"], name="alert_delivery_claim"),
        ]

    def __str__(self) -> str:
        return f"{self.get_event_display()} of incident {self.incident_id} to {self.channel}"


class IncidentTicket(models.Model):
    """The downtime ticket of an incident (several incidents of one site may share one)."""

    incident = models.OneToOneField(Incident, on_delete=models.CASCADE, related_name="ticket_link")
    ticket = models.ForeignKey(
        "tickets.Ticket", on_delete=models.CASCADE, related_name="incident_links"
    )
    created_at = models.DateTimeField(default=clock.now)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"incident {self.incident_id} → ticket {self.ticket_id}"
