"""Alert channels, one delivery row per alert and channel, the incident's ticket, probe alerts."""

from django.db import models
from django.db.models import Q

from caredesk.clients.models import Organisation
from caredesk.lib import clock
from caredesk.lib.crypto import EncryptedTextField
from caredesk.monitoring.models import Incident, MonitorWarning, Probe


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
    send_warnings = models.BooleanField(
        default=True,
        help_text="Also send warnings: a certificate close to expiry, a heartbeat running late.",
    )
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
    WARNING = "warning", "Warning"


class DeliveryState(models.TextChoices):
    PENDING = "pending", "Waiting to be sent"
    SENDING = "sending", "Sending"
    SENT = "sent", "Sent"
    FAILED = "failed", "Failed"
    SUPPRESSED = "suppressed", "Not sent (a monitor it depends on is down)"


class AlertDelivery(models.Model):
    """One alert (an incident going down or up, or a warning) for one channel, and how it went.

    Deliveries of one channel that are waiting together go out as one message
    (``batch`` names it), so fifty sites down at once are one message, not fifty.
    A delivery is about an incident (down, up) or a warning, never both.
    """

    channel = models.ForeignKey(AlertChannel, on_delete=models.CASCADE, related_name="deliveries")
    incident = models.ForeignKey(
        Incident, null=True, blank=True, on_delete=models.CASCADE, related_name="+"
    )
    warning = models.ForeignKey(
        MonitorWarning, null=True, blank=True, on_delete=models.CASCADE, related_name="+"
    )
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
        constraints = [
            models.CheckConstraint(
                condition=Q(incident__isnull=False, warning=None)
                | Q(incident=None, warning__isnull=False),
                name="alert_delivery_subject",
            ),
        ]

    def __str__(self) -> str:
        about = f"incident {self.incident_id}" if self.incident_id else f"warning {self.warning_id}"
        return f"{self.get_event_display()} of {about} to {self.channel}"

    @property
    def monitor(self):
        return self.incident.monitor if self.incident_id else self.warning.monitor


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


class ProbeEvent(models.TextChoices):
    NETWORK_LOST = "network_lost", "Lost its network"
    NETWORK_BACK = "network_back", "Network back"


class ProbeAlert(models.Model):
    """One probe's news (it lost its network, or has it back) for one agency channel.

    A probe cut off from the network would otherwise report every site down;
    instead staff hear it once, from here. Sent and retried like incident
    alerts (:mod:`caredesk.alerts.probes`).
    """

    channel = models.ForeignKey(AlertChannel, on_delete=models.CASCADE, related_name="+")
    probe = models.ForeignKey(Probe, on_delete=models.CASCADE, related_name="+")
    event = models.CharField(max_length=16, choices=ProbeEvent.choices)
    at = models.DateTimeField(help_text="When the server heard it from the probe.")
    detail = models.CharField(max_length=400, blank=True)
    state = models.CharField(
        max_length=12, choices=DeliveryState.choices, default=DeliveryState.PENDING
    )
    due_at = models.DateTimeField("next attempt")
    attempts = models.PositiveSmallIntegerField(default=0)
    last_error = models.CharField(max_length=1000, blank=True)
    claim = models.CharField(max_length=32, blank=True, editable=False)
    claimed_at = models.DateTimeField(null=True, blank=True, editable=False)
    sent_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(default=clock.now)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["state", "due_at"], name="probe_alert_due")]

    def __str__(self) -> str:
        return f"{self.probe}: {self.get_event_display()} to {self.channel}"
