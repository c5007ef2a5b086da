"""Time entries, the allowance ledger, agreements, statements and warnings.

Two guarantees live here as well as in ``actions.py``, because an admin page
or a shell must not get around them: a time entry on a finalised statement
(or dated in a finalised period) cannot be saved or deleted, and a finalised
statement and the ledger never change once written.
"""

from datetime import date
from decimal import Decimal

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models

from caredesk.clients.models import Organisation
from caredesk.lib import clock

from .rules import Kind, period_label


class Frozen(ValidationError):
    """A change to something a finalised statement has fixed, or to the append-only ledger."""


def finalised_statement_covering(organisation_id: int | None, day: date) -> "Statement | None":
    """The finalised statement whose period holds ``day`` for that client, if any."""
    if organisation_id is None:
        return None
    return Statement.objects.filter(
        organisation_id=organisation_id,
        status=StatementStatus.FINAL,
        period_start__lte=day,
        period_end__gt=day,
    ).first()


class TimeEntryQuerySet(models.QuerySet["TimeEntry"]):
    def frozen(self) -> "TimeEntryQuerySet":
        return self.filter(statement__isnull=False)

    def update(self, **kwargs):
        # Linking entries to the statement that freezes them goes through here,
        # on entries not yet frozen; anything touching frozen rows is refused.
        if self.frozen().exists():
            raise Frozen("These time entries are on a finalised statement and cannot change.")
        return super().update(**kwargs)

    def delete(self):
        if self.frozen().exists():
            raise Frozen("These time entries are on a finalised statement and cannot be deleted.")
        return super().delete()


class TimeEntry(models.Model):
    """Minutes of work on a ticket. Whether they are billable is derived, never stored here."""

    ticket = models.ForeignKey(
        "tickets.Ticket", on_delete=models.PROTECT, related_name="time_entries"
    )
    staff = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="time_entries"
    )
    work_date = models.DateField()
    minutes = models.PositiveIntegerField()
    category = models.ForeignKey(
        "plans.WorkCategory",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        help_text="Defaults to the ticket's category.",
    )
    note = models.CharField(max_length=1000, blank=True)
    created_at = models.DateTimeField(default=clock.now, editable=False)
    statement = models.ForeignKey(
        "Statement",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="time_entries",
        editable=False,
        help_text="Set when a finalised statement bills this entry; it is frozen from then on.",
    )

    objects = TimeEntryQuerySet.as_manager()

    class Meta:
        ordering = ["work_date", "id"]
        verbose_name_plural = "time entries"
        constraints = [
            models.CheckConstraint(condition=models.Q(minutes__gt=0), name="time_entry_minutes"),
        ]
        indexes = [
            models.Index(fields=["work_date", "ticket"], name="time_entry_date_idx"),
            models.Index(fields=["ticket", "work_date"], name="time_entry_ticket_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.minutes} min on {self.ticket_id} ({self.work_date})"

    def save(self, *args, **kwargs) -> None:
        self._refuse_if_frozen("changed")
        organisation_id = self.ticket.organisation_id if self.ticket_id else None
        closed = finalised_statement_covering(organisation_id, self.work_date)
        if closed is not None:
            raise Frozen(
                f"{period_label(closed.period_start, closed.period_end)} is on finalised "
                f"statement {closed.reference}; date the work in an open period."
            )
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        self._refuse_if_frozen("deleted")
        organisation_id = self.ticket.organisation_id if self.ticket_id else None
        if finalised_statement_covering(organisation_id, self.work_date) is not None:
            raise Frozen("This time entry is in a finalised period and cannot be deleted.")
        return super().delete(*args, **kwargs)

    def _refuse_if_frozen(self, what: str) -> None:
        if self.pk is None:
            return
        stored = TimeEntry.objects.filter(pk=self.pk).values_list("statement_id", flat=True)
        if stored.first() is not None:
            raise Frozen(f"This time entry is on a finalised statement and cannot be {what}.")

    @property
    def is_frozen(self) -> bool:
        return self.statement_id is not None


class TimerRun(models.Model):
    """A running timer: one per person; stopping it logs a time entry."""

    staff = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="timer"
    )
    ticket = models.ForeignKey("tickets.Ticket", on_delete=models.CASCADE, related_name="+")
    category = models.ForeignKey(
        "plans.WorkCategory", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    note = models.CharField(max_length=1000, blank=True)
    started_at = models.DateTimeField(default=clock.now)

    class Meta:
        ordering = ["started_at"]

    def __str__(self) -> str:
        return f"{self.staff} on {self.ticket_id} since {self.started_at:%H:%M}"


class Agreement(models.Model):
    """Two consecutive billing periods pooled into one allowance, as agreed with the client.

    "If you require some large tasks to be performed in one particular month,
    upon agreement with the support manager, the hours of two months can be
    grouped together." Unused hours still expire, at the end of the second period.
    """

    organisation = models.ForeignKey(
        "clients.Organisation", on_delete=models.CASCADE, related_name="billing_agreements"
    )
    first_period_start = models.DateField()
    second_period_start = models.DateField(editable=False)
    second_period_end = models.DateField(editable=False)
    note = models.CharField(max_length=500, blank=True, help_text="What the pooled hours are for.")
    agreed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(default=clock.now, editable=False)

    class Meta:
        ordering = ["organisation__name", "-first_period_start"]
        constraints = [
            models.UniqueConstraint(
                fields=["organisation", "first_period_start"], name="agreement_once_per_period"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.organisation}: {self.label}"

    @property
    def label(self) -> str:
        return period_label(self.first_period_start, self.second_period_end) + " pooled"

    def covers(self, period_start: date) -> bool:
        return period_start in (self.first_period_start, self.second_period_start)


class LedgerKind(models.TextChoices):
    CREDIT = "credit", "Allowance credited"
    DEBIT = "debit", "Time debited"
    EXPIRE = "expire", "Unused hours expired"


class LedgerQuerySet(models.QuerySet["LedgerEntry"]):
    def update(self, **kwargs):
        raise Frozen("The ledger is append-only: add a correcting row instead.")

    def delete(self):
        raise Frozen("The ledger is append-only: add a correcting row instead.")


class LedgerEntry(models.Model):
    """One movement of a client's allowance, in minutes (credits positive).

    Rows are appended, never changed: when a time entry is edited or deleted,
    or two periods are pooled, a correcting row follows, so the history of
    every balance can be read back.
    """

    organisation = models.ForeignKey(
        "clients.Organisation", on_delete=models.CASCADE, related_name="ledger_entries"
    )
    window_start = models.DateField(help_text="Start of the allowance (one period or a pool).")
    window_end = models.DateField()
    kind = models.CharField(max_length=10, choices=LedgerKind.choices)
    minutes = models.IntegerField()
    entry_ref = models.PositiveBigIntegerField(
        null=True, blank=True, help_text="The time entry debited (kept after it is deleted)."
    )
    time_entry = models.ForeignKey(
        TimeEntry, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    note = models.CharField(max_length=300, blank=True)
    at = models.DateTimeField(default=clock.now)

    objects = LedgerQuerySet.as_manager()

    class Meta:
        ordering = ["organisation", "window_start", "at", "id"]
        verbose_name_plural = "ledger entries"
        indexes = [
            models.Index(fields=["organisation", "window_start"], name="ledger_window_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.minutes:+d} min"

    def save(self, *args, **kwargs) -> None:
        if not self._state.adding:
            raise Frozen("The ledger is append-only: add a correcting row instead.")
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise Frozen("The ledger is append-only: add a correcting row instead.")


class StatementStatus(models.TextChoices):
    DRAFT = "draft", "Draft"
    FINAL = "final", "Finalised"


class Statement(models.Model):
    """What a client owes for one billing period; frozen and numbered once finalised."""

    organisation = models.ForeignKey(
        "clients.Organisation", on_delete=models.PROTECT, related_name="statements"
    )
    period_start = models.DateField()
    period_end = models.DateField(help_text="The day after the period's last day.")
    window_start = models.DateField(help_text="Start of the allowance: differs when pooled.")
    window_end = models.DateField()
    status = models.CharField(
        max_length=10, choices=StatementStatus.choices, default=StatementStatus.DRAFT
    )
    number = models.PositiveIntegerField(null=True, blank=True, unique=True, editable=False)
    plan_name = models.CharField(max_length=100, blank=True)
    currency = models.CharField(max_length=3)
    hourly_rate = models.DecimalField(max_digits=8, decimal_places=2, default=Decimal("0.00"))
    allowance_minutes = models.PositiveIntegerField(
        null=True, blank=True, help_text="Of the whole window; empty when hours are not counted."
    )
    allowance_used_before = models.PositiveIntegerField(
        default=0, help_text="Used in the earlier period of a pool."
    )
    included_minutes = models.PositiveIntegerField(default=0)
    overage_minutes = models.PositiveIntegerField(default=0)
    excluded_minutes = models.PositiveIntegerField(default=0)
    fair_usage_minutes = models.PositiveIntegerField(default=0)
    on_demand_minutes = models.PositiveIntegerField(default=0)
    fee = models.DecimalField(max_digits=12, decimal_places=2, default=Decimal("0.00"))
    billable_amount = models.DecimalField(max_digits=12, decimal_places=2, default=Decimal("0.00"))
    total = models.DecimalField(max_digits=12, decimal_places=2, default=Decimal("0.00"))
    notice = models.CharField(max_length=300, blank=True)
    computed_at = models.DateTimeField(default=clock.now)
    finalised_at = models.DateTimeField(null=True, blank=True)
    finalised_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        ordering = ["-period_start", "organisation__name"]
        constraints = [
            models.UniqueConstraint(
                fields=["organisation", "period_start"], name="statement_once_per_period"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.reference} {self.organisation} {self.period_label}"

    def save(self, *args, **kwargs) -> None:
        if not self._state.adding and self._stored_final():
            raise Frozen(f"Statement {self.reference} is finalised and cannot change.")
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        if self._stored_final():
            raise Frozen(f"Statement {self.reference} is finalised and cannot be deleted.")
        return super().delete(*args, **kwargs)

    def _stored_final(self) -> bool:
        return Statement.objects.filter(pk=self.pk, status=StatementStatus.FINAL).exists()

    @property
    def reference(self) -> str:
        return f"ST-{self.number:05d}" if self.number else "draft"

    @property
    def period_label(self) -> str:
        return period_label(self.period_start, self.period_end)

    @property
    def window_label(self) -> str:
        return period_label(self.window_start, self.window_end)

    @property
    def is_pooled(self) -> bool:
        return (self.window_start, self.window_end) != (self.period_start, self.period_end)

    @property
    def is_final(self) -> bool:
        return self.status == StatementStatus.FINAL

    @property
    def allowance_left(self) -> int | None:
        if self.allowance_minutes is None:
            return None
        used = self.allowance_used_before + self.included_minutes
        return max(0, self.allowance_minutes - used)


class LineKind(models.TextChoices):
    PLAN_FEE = "plan_fee", "Plan fee"
    DISCOUNT = "discount", "Annual discount"
    INCLUDED = Kind.INCLUDED.value, "Included"
    OVERAGE = Kind.OVERAGE.value, "Overage"
    EXCLUDED = Kind.EXCLUDED.value, "Excluded work"
    FAIR_USAGE_EXCESS = Kind.FAIR_USAGE_EXCESS.value, "Fair-usage excess"
    ON_DEMAND = Kind.ON_DEMAND.value, "On-demand work"


class LineQuerySet(models.QuerySet["StatementLine"]):
    def delete(self):
        if self.filter(statement__status=StatementStatus.FINAL).exists():
            raise Frozen("Lines of a finalised statement cannot be deleted.")
        return super().delete()

    def update(self, **kwargs):
        if self.filter(statement__status=StatementStatus.FINAL).exists():
            raise Frozen("Lines of a finalised statement cannot change.")
        return super().update(**kwargs)


class StatementLine(models.Model):
    """One priced piece of a statement: the fee, or (part of) one time entry."""

    statement = models.ForeignKey(Statement, on_delete=models.CASCADE, related_name="lines")
    position = models.PositiveIntegerField()
    kind = models.CharField(max_length=20, choices=LineKind.choices)
    time_entry = models.ForeignKey(
        TimeEntry, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    work_date = models.DateField(null=True, blank=True)
    ticket_number = models.BigIntegerField(null=True, blank=True)
    staff_name = models.CharField(max_length=200, blank=True)
    category_name = models.CharField(max_length=100, blank=True)
    logged_minutes = models.PositiveIntegerField(default=0)
    minutes = models.PositiveIntegerField(default=0, help_text="After rounding.")
    rate = models.DecimalField(max_digits=8, decimal_places=2, default=Decimal("0.00"))
    amount = models.DecimalField(max_digits=12, decimal_places=2, default=Decimal("0.00"))
    reason = models.CharField(max_length=300, blank=True)

    objects = LineQuerySet.as_manager()

    class Meta:
        ordering = ["statement", "position"]

    def __str__(self) -> str:
        return f"{self.get_kind_display()}: {self.amount}"

    def save(self, *args, **kwargs) -> None:
        if self.statement._stored_final():
            raise Frozen("Lines of a finalised statement cannot change.")
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        if self.statement._stored_final():
            raise Frozen("Lines of a finalised statement cannot be deleted.")
        return super().delete(*args, **kwargs)


class NumberSequence(models.Model):
    """The last number handed out; taken under a row lock so numbers are never reused."""

    name = models.CharField(max_length=50, primary_key=True)
    last = models.PositiveIntegerField(default=0)

    def __str__(self) -> str:
        return f"{self.name}: {self.last}"


class WarningKind(models.TextChoices):
    FAIR_USAGE = "fair_usage", "Ticket near its fair-usage limit"
    ALLOWANCE_80 = "allowance_80", "80 % of the allowance used"
    ALLOWANCE_100 = "allowance_100", "Allowance used up"
    UNAPPROVED = "unapproved", "Billable work without an approved estimate"


class BillingWarning(models.Model):
    """A warning to the account manager; ``key`` makes each one happen once."""

    kind = models.CharField(max_length=20, choices=WarningKind.choices)
    key = models.CharField(max_length=100, unique=True)
    organisation = models.ForeignKey(
        "clients.Organisation", on_delete=models.CASCADE, related_name="billing_warnings"
    )
    ticket = models.ForeignKey(
        "tickets.Ticket", null=True, blank=True, on_delete=models.CASCADE, related_name="+"
    )
    data = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField(default=clock.now)
    sent_at = models.DateTimeField(null=True, blank=True, db_index=True)
    claimed_at = models.DateTimeField(null=True, blank=True)
    recipients = models.JSONField(default=list, blank=True)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} — {self.organisation}"


class OrganisationUsage(Organisation):
    """Clients seen by their usage: the admin's "usage this period" page (no table of its own)."""

    class Meta:
        proxy = True
        verbose_name = "usage this period"
        verbose_name_plural = "usage this period"
