from django.conf import settings
from django.db import models

from caredesk.lib import clock


class RateCounter(models.Model):
    """Requests seen for one key (a site, an address) in one fixed time window.

    In the database, not in process memory, so the limit holds across every
    web process and restart.
    """

    key = models.CharField(max_length=100)
    window_start = models.DateTimeField()
    count = models.PositiveIntegerField(default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["key", "window_start"], name="widget_rate_window"),
        ]
        indexes = [models.Index(fields=["window_start"], name="widget_rate_start_idx")]

    def __str__(self) -> str:
        return f"{self.key} @ {self.window_start:%Y-%m-%d %H:%M}: {self.count}"


class SpamReason(models.TextChoices):
    HONEYPOT = "honeypot", "Hidden field filled in"
    TOO_FAST = "too_fast", "Sent faster than a person can type"
    NO_TOKEN = "no_token", "Form not opened through the widget"


class QuarantinedSubmission(models.Model):
    """A widget submission taken for spam: kept for staff to look at, never a ticket by itself."""

    site = models.ForeignKey(
        "clients.Site", on_delete=models.CASCADE, related_name="widget_quarantine"
    )
    received_at = models.DateTimeField(default=clock.now, db_index=True)
    reason = models.CharField(max_length=20, choices=SpamReason.choices)
    detail = models.CharField(max_length=300, blank=True)
    name = models.CharField(max_length=200, blank=True)
    email = models.CharField(max_length=254, blank=True)
    subject = models.CharField(max_length=300, blank=True)
    description = models.TextField(blank=True)
    honeypot = models.CharField("hidden field's value", max_length=1000, blank=True)
    page = models.CharField(max_length=1000, blank=True)
    origin = models.CharField(max_length=300, blank=True)
    client_ip = models.GenericIPAddressField(null=True, blank=True)
    user_agent = models.CharField(max_length=500, blank=True)
    # The file itself is not kept: a spammer's attachment has no business on disk.
    attachment_name = models.CharField(max_length=255, blank=True)
    attachment_size = models.PositiveBigIntegerField(null=True, blank=True)
    released_at = models.DateTimeField(null=True, blank=True)
    released_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    ticket = models.ForeignKey(
        "tickets.Ticket", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        ordering = ["-received_at"]
        verbose_name = "widget quarantine entry"
        verbose_name_plural = "widget quarantine"

    def __str__(self) -> str:
        return f"{self.get_reason_display()}: {self.subject or '(no subject)'}"
