import calendar
from datetime import date
from decimal import Decimal

from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models

from caredesk.lib import clock
from caredesk.sla.models import SlaPolicy


class WorkCategory(models.Model):
    """A kind of work (bug fix, new feature, backup restoration…) that plans include or exclude."""

    code = models.SlugField(max_length=50, unique=True)
    name = models.CharField(max_length=100)
    description = models.TextField(blank=True, help_text="The plan's own words, shown to clients.")
    position = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["position", "name"]
        verbose_name_plural = "work categories"

    def __str__(self) -> str:
        return self.name


class QueueTier(models.IntegerChoices):
    # Lower serves first: "issues within support packages take higher
    # priority than the tasks on demand".
    PLAN = 1, "Plan client"
    ON_DEMAND = 2, "On demand"


class FairUsageMode(models.TextChoices):
    WHOLE_TICKET = "whole_ticket", "Whole ticket's month becomes billable"
    EXCESS = "excess", "Only the time past the cap is billable"


class Plan(models.Model):
    """A care plan the agency sells: fee, hours, rates, rules and what it covers."""

    code = models.SlugField(max_length=50, unique=True)
    name = models.CharField(max_length=100)
    description = models.TextField(blank=True)
    monthly_fee = models.DecimalField(
        max_digits=10, decimal_places=2, default=Decimal("0.00"), validators=[MinValueValidator(0)]
    )
    currency = models.CharField(max_length=3, default="GBP")
    included_minutes = models.PositiveIntegerField(
        null=True,
        blank=True,
        help_text=(
            "Support time included per billing period, in minutes. Empty: included work "
            "is not counted against an allowance (fair usage still applies); 0: none."
        ),
    )
    hourly_rate = models.DecimalField(
        max_digits=8,
        decimal_places=2,
        default=Decimal("0.00"),
        validators=[MinValueValidator(0)],
        help_text="Charged for excluded work and time past the allowance.",
    )
    fair_usage_cap_minutes = models.PositiveIntegerField(
        null=True, blank=True, help_text="Per ticket per calendar month; empty for no cap."
    )
    fair_usage_mode = models.CharField(
        max_length=20, choices=FairUsageMode.choices, default=FairUsageMode.WHOLE_TICKET
    )
    queue_tier = models.PositiveSmallIntegerField(choices=QueueTier.choices, default=QueueTier.PLAN)
    categories = models.ManyToManyField(WorkCategory, through="PlanCategory", blank=True)
    sla_policy = models.ForeignKey(
        SlaPolicy,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="plans",
        help_text="The promises of this plan; empty uses the default policy.",
    )
    is_active = models.BooleanField(default=True)

    class Meta:
        ordering = ["queue_tier", "name"]

    def __str__(self) -> str:
        return self.name

    def clean(self) -> None:
        self.currency = self.currency.upper()
        if len(self.currency) != 3 or not self.currency.isalpha():
            raise ValidationError({"currency": "Use a three-letter ISO 4217 code, e.g. GBP."})

    def includes(self, category: WorkCategory) -> bool:
        """Whether work of this category is covered by the fee (unknown means excluded)."""
        return self.plancategory_set.filter(category=category, included=True).exists()


class PlanCategory(models.Model):
    plan = models.ForeignKey(Plan, on_delete=models.CASCADE)
    category = models.ForeignKey(WorkCategory, on_delete=models.CASCADE)
    included = models.BooleanField(default=True)

    class Meta:
        ordering = ["category__position", "category__name"]
        constraints = [
            models.UniqueConstraint(fields=["plan", "category"], name="plan_category_once"),
        ]
        verbose_name = "category rule"

    def __str__(self) -> str:
        return f"{self.category}: {'included' if self.included else 'excluded'}"


class Term(models.TextChoices):
    MONTHLY = "monthly", "Monthly"
    ANNUAL = "annual", "Annual"


class Subscription(models.Model):
    """An organisation's plan from a start date, billed on a day of the month."""

    organisation = models.ForeignKey(
        "clients.Organisation", on_delete=models.CASCADE, related_name="subscriptions"
    )
    plan = models.ForeignKey(Plan, on_delete=models.PROTECT, related_name="subscriptions")
    start_date = models.DateField()
    end_date = models.DateField(null=True, blank=True)
    term = models.CharField(max_length=10, choices=Term.choices, default=Term.MONTHLY)
    annual_discount_percent = models.DecimalField(
        max_digits=5,
        decimal_places=2,
        default=Decimal("0"),
        validators=[MinValueValidator(0), MaxValueValidator(100)],
        help_text="Taken off the fee on an annual term, e.g. 10.",
    )
    billing_day = models.PositiveSmallIntegerField(
        default=1,
        validators=[MinValueValidator(1), MaxValueValidator(28)],
        help_text="Day of the month a billing period starts (1–28).",
    )
    created_at = models.DateTimeField(default=clock.now, editable=False)

    class Meta:
        ordering = ["organisation__name", "-start_date"]

    def __str__(self) -> str:
        return f"{self.organisation} — {self.plan} from {self.start_date}"

    def clean(self) -> None:
        if self.end_date and self.end_date < self.start_date:
            raise ValidationError({"end_date": "The end date is before the start date."})
        if self.term == Term.MONTHLY and self.annual_discount_percent:
            raise ValidationError(
                {"annual_discount_percent": "A discount applies to an annual term only."}
            )

    def is_active_on(self, day: date) -> bool:
        return self.start_date <= day and (self.end_date is None or day <= self.end_date)

    @property
    def monthly_fee(self) -> Decimal:
        """The plan fee less the annual discount, to the penny."""
        fee = self.plan.monthly_fee
        if self.term == Term.ANNUAL and self.annual_discount_percent:
            fee = fee * (Decimal(100) - self.annual_discount_percent) / Decimal(100)
        return fee.quantize(Decimal("0.01"))

    def period_containing(self, day: date) -> tuple[date, date]:
        """The billing period [start, end) that contains ``day``."""
        if day.day >= self.billing_day:
            start = day.replace(day=self.billing_day)
        else:
            year, month = (day.year, day.month - 1) if day.month > 1 else (day.year - 1, 12)
            start = date(year, month, self.billing_day)
        days = calendar.monthrange(start.year, start.month)[1]
        year, month = (start.year, start.month + 1) if start.month < 12 else (start.year + 1, 1)
        end = date(year, month, self.billing_day)
        assert (end - start).days == days  # noqa: S101 - billing_day <= 28 keeps this exact.
        return start, end


def active_subscription(organisation_id: int, day: date | None = None) -> Subscription | None:
    """The subscription in force for an organisation on a day (latest start wins)."""
    day = day or clock.today_utc()
    return (
        Subscription.objects.select_related("plan__sla_policy__calendar")
        .filter(organisation_id=organisation_id, start_date__lte=day)
        .filter(models.Q(end_date=None) | models.Q(end_date__gte=day))
        .order_by("-start_date")
        .first()
    )


def policy_for(subscription: Subscription | None) -> SlaPolicy | None:
    """The SLA policy that applies under a subscription (or without one: the default)."""
    if subscription is not None and subscription.plan.sla_policy_id:
        return subscription.plan.sla_policy
    return SlaPolicy.objects.select_related("calendar").filter(is_default=True).first()


def category_rule(plan: Plan | None, category: WorkCategory | None) -> tuple[bool, str]:
    """Whether work is billable under a plan, and why (scope is decided at intake)."""
    if plan is None:
        return True, "No plan: work is on demand and billed per hour."
    if plan.queue_tier == QueueTier.ON_DEMAND:
        return True, f"{plan.name} is billed per hour."
    if category is None:
        return False, ""
    if not plan.includes(category):
        return True, f"{category.name} is not included in {plan.name}; it is billed per hour."
    return False, ""
