import secrets

from django.conf import settings
from django.db import models

from caredesk.lib import clock


class Status(models.TextChoices):
    NEW = "new", "New"
    OPEN = "open", "Open"
    PENDING = "pending", "Pending (waiting on the client)"
    ON_HOLD = "on_hold", "On hold (waiting on a third party)"
    SOLVED = "solved", "Solved"
    CLOSED = "closed", "Closed"


OPEN_STATUSES = (Status.NEW, Status.OPEN, Status.PENDING, Status.ON_HOLD)


class Channel(models.TextChoices):
    PORTAL = "portal", "Portal"
    WIDGET = "widget", "Widget"
    EMAIL = "email", "Email"
    PHONE = "phone", "Phone"
    API = "api", "API"
    MONITOR = "monitor", "Monitor"


def new_reply_token() -> str:
    return secrets.token_hex(8)


class Ticket(models.Model):
    number = models.BigIntegerField(unique=True, null=True, editable=False)
    subject = models.CharField(max_length=300)
    organisation = models.ForeignKey(
        "clients.Organisation",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="tickets",
    )
    requester = models.ForeignKey(
        "clients.Contact", null=True, blank=True, on_delete=models.SET_NULL, related_name="tickets"
    )
    requester_email = models.EmailField(blank=True)
    requester_name = models.CharField(max_length=200, blank=True)
    site = models.ForeignKey(
        "clients.Site", null=True, blank=True, on_delete=models.SET_NULL, related_name="tickets"
    )
    channel = models.CharField(max_length=10, choices=Channel.choices)
    category = models.ForeignKey(
        "plans.WorkCategory", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    sla_policy = models.ForeignKey(
        "sla.SlaPolicy", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    priority = models.ForeignKey(
        "sla.Priority", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.NEW)
    assignee = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="assigned_tickets",
    )
    followers = models.ManyToManyField(
        "clients.Contact", blank=True, related_name="followed_tickets"
    )
    tags = models.JSONField(default=list, blank=True)
    queue_tier = models.PositiveSmallIntegerField(default=2)
    billable = models.BooleanField(default=False)
    billable_reason = models.CharField(max_length=200, blank=True)
    estimate_minutes = models.PositiveIntegerField(null=True, blank=True)
    estimate_approved_at = models.DateTimeField(null=True, blank=True)
    reply_token = models.CharField(max_length=32, unique=True, default=new_reply_token)
    created_at = models.DateTimeField(default=clock.now, db_index=True)
    updated_at = models.DateTimeField(default=clock.now)
    alerted_at = models.DateTimeField(null=True, blank=True)
    first_response_at = models.DateTimeField(null=True, blank=True)
    solved_at = models.DateTimeField(null=True, blank=True)
    closed_at = models.DateTimeField(null=True, blank=True)
    # The nearest due time of a running SLA clock: the queue sorts on it.
    sla_next_due_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        indexes = [
            models.Index(fields=["status", "sla_next_due_at"], name="ticket_queue_idx"),
            models.Index(fields=["organisation", "status"], name="ticket_org_status_idx"),
            models.Index(fields=["assignee", "status"], name="ticket_assignee_idx"),
        ]

    def __str__(self) -> str:
        return f"#{self.number} {self.subject}"

    @property
    def reference(self) -> str:
        return f"#{self.number}"

    @property
    def is_open(self) -> bool:
        return self.status in OPEN_STATUSES


class MessageKind(models.TextChoices):
    CUSTOMER = "customer", "Client message"
    PUBLIC_REPLY = "public_reply", "Public reply"
    INTERNAL_NOTE = "internal_note", "Internal note"
    PHONE_CALL = "phone_call", "Phone call"


class Message(models.Model):
    ticket = models.ForeignKey(Ticket, on_delete=models.CASCADE, related_name="messages")
    kind = models.CharField(max_length=20, choices=MessageKind.choices)
    author_user = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    author_contact = models.ForeignKey(
        "clients.Contact", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    author_name = models.CharField(max_length=200, blank=True)
    author_email = models.EmailField(blank=True)
    body = models.TextField(blank=True)
    body_html = models.TextField(blank=True, help_text="Sanitised HTML, when the message had it.")
    is_auto = models.BooleanField(default=False, help_text="An automatic reply (out of office).")
    email_message_id = models.CharField(max_length=998, blank=True, db_index=True)
    created_at = models.DateTimeField(default=clock.now)

    class Meta:
        ordering = ["created_at", "id"]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} on {self.ticket_id}"

    @property
    def is_public(self) -> bool:
        return self.kind != MessageKind.INTERNAL_NOTE


class TicketEvent(models.Model):
    """The audit trail: who changed what, when. SLA clocks are computed from it."""

    ticket = models.ForeignKey(Ticket, on_delete=models.CASCADE, related_name="events")
    at = models.DateTimeField(default=clock.now)
    kind = models.CharField(max_length=30)
    actor_user = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    actor_contact = models.ForeignKey(
        "clients.Contact", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    data = models.JSONField(default=dict, blank=True)

    class Meta:
        ordering = ["at", "id"]
        indexes = [models.Index(fields=["ticket", "at"], name="event_ticket_at_idx")]

    def __str__(self) -> str:
        return f"{self.kind} on {self.ticket_id} at {self.at:%Y-%m-%d %H:%M}"


class SlaClock(models.Model):
    """The stored state of one SLA target on one ticket (a cache of ``sla.clocks.evaluate``)."""

    ticket = models.ForeignKey(Ticket, on_delete=models.CASCADE, related_name="sla_clocks")
    kind = models.CharField(max_length=20)
    target = models.ForeignKey("sla.Target", null=True, on_delete=models.SET_NULL, related_name="+")
    started_at = models.DateTimeField(null=True, blank=True)
    stopped_at = models.DateTimeField(null=True, blank=True)
    paused = models.BooleanField(default=False)
    elapsed_seconds = models.PositiveIntegerField(default=0)
    limit_seconds = models.PositiveIntegerField(default=0)
    due_at = models.DateTimeField(null=True, blank=True)
    aim_at = models.DateTimeField(null=True, blank=True)
    warn_at = models.DateTimeField(null=True, blank=True)
    breached = models.BooleanField(default=False)
    warned_at = models.DateTimeField(null=True, blank=True)
    breach_recorded_at = models.DateTimeField(null=True, blank=True)
    # When the sweep must look at this clock next (a warning or a breach to record).
    next_check_at = models.DateTimeField(null=True, blank=True, db_index=True)
    claim = models.CharField(max_length=32, blank=True)

    class Meta:
        ordering = ["ticket", "kind"]
        constraints = [
            models.UniqueConstraint(fields=["ticket", "kind"], name="one_clock_per_kind"),
        ]

    def __str__(self) -> str:
        return f"{self.kind} on {self.ticket_id}"

    @property
    def running(self) -> bool:
        return self.started_at is not None and self.stopped_at is None and not self.paused

    @property
    def met(self) -> bool:
        return self.stopped_at is not None and not self.breached

    @property
    def kind_label(self) -> str:
        return self.kind.replace("_", " ")


def attachment_path(instance: "Attachment", filename: str) -> str:
    # Stored under a random name: the client's filename is kept in a column and
    # never becomes a path on disk.
    return f"attachments/{instance.created_at:%Y/%m}/{secrets.token_hex(16)}"


class Attachment(models.Model):
    message = models.ForeignKey(Message, on_delete=models.CASCADE, related_name="attachments")
    file = models.FileField(upload_to=attachment_path, max_length=300)
    filename = models.CharField(max_length=255)
    content_type = models.CharField(max_length=200)
    size = models.PositiveBigIntegerField()
    content_id = models.CharField(max_length=300, blank=True)
    inline = models.BooleanField(default=False)
    created_at = models.DateTimeField(default=clock.now)

    class Meta:
        ordering = ["id"]

    def __str__(self) -> str:
        return self.filename
