"""A client's monthly report: the facts collected, the archived HTML and PDF, and its log.

The facts are stored as collected (JSON), so a report re-rendered later (a new
intro note, a resend) says exactly what it said when it was built, even after
the records it was computed from have moved on.
"""

from django.conf import settings
from django.db import models

from caredesk.clients.models import Organisation
from caredesk.lib import clock


class ReportState(models.TextChoices):
    DRAFT = "draft", "Built, not sent"
    SENT = "sent", "Sent"


class Report(models.Model):
    organisation = models.ForeignKey(Organisation, on_delete=models.CASCADE, related_name="reports")
    month = models.DateField(help_text="The first day of the calendar month reported on.")
    state = models.CharField(max_length=10, choices=ReportState.choices, default=ReportState.DRAFT)
    held = models.BooleanField(
        default=False, help_text="Held reports are not sent until staff release them."
    )
    intro = models.TextField(
        "intro note", blank=True, help_text="A personal note shown at the top of the report."
    )
    facts = models.JSONField(default=dict, help_text="The figures as collected.")
    html = models.TextField(blank=True, help_text="The email's HTML as archived.")
    pdf = models.BinaryField(blank=True, default=b"")
    built_at = models.DateTimeField(null=True, blank=True)
    sent_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(default=clock.now, editable=False)

    class Meta:
        ordering = ["-month", "organisation__name"]
        constraints = [
            models.UniqueConstraint(fields=["organisation", "month"], name="one_report_per_month"),
        ]
        indexes = [models.Index(fields=["month", "state", "held"], name="report_due_idx")]

    def __str__(self) -> str:
        return f"{self.organisation} – {self.month:%B %Y}"

    @property
    def month_label(self) -> str:
        return f"{self.month:%B %Y}"

    @property
    def filename(self) -> str:
        return f"report-{self.organisation.slug}-{self.month:%Y-%m}.pdf"


class ReportImage(models.Model):
    """A picture the email shows by Content-ID (email clients do not show inline SVG)."""

    report = models.ForeignKey(Report, on_delete=models.CASCADE, related_name="images")
    content_id = models.CharField(max_length=100)
    filename = models.CharField(max_length=100)
    png = models.BinaryField()

    class Meta:
        ordering = ["id"]
        constraints = [
            models.UniqueConstraint(fields=["report", "content_id"], name="one_image_per_cid"),
        ]

    def __str__(self) -> str:
        return self.filename


class EventKind(models.TextChoices):
    BUILT = "built", "Built"
    SENT = "sent", "Sent"
    RESENT = "resent", "Sent again"
    HELD = "held", "Held"
    RELEASED = "released", "Released"
    INTRO = "intro", "Intro note edited"


class ReportEvent(models.Model):
    """The report's log: every build, hold and sending, who did it, and the outbox mail."""

    report = models.ForeignKey(Report, on_delete=models.CASCADE, related_name="events")
    at = models.DateTimeField(default=clock.now)
    kind = models.CharField(max_length=10, choices=EventKind.choices)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    recipients = models.JSONField(default=list, blank=True)
    email = models.ForeignKey(
        "mail.OutboundEmail",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        help_text="The outbox entry: its state says whether the mail went out.",
    )
    note = models.CharField(max_length=300, blank=True)

    class Meta:
        ordering = ["at", "id"]
        verbose_name = "delivery log entry"
        verbose_name_plural = "delivery log"

    def __str__(self) -> str:
        return f"{self.get_kind_display()} at {self.at:%Y-%m-%d %H:%M}"
