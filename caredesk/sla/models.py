import json
import secrets
from collections.abc import Iterable
from datetime import timedelta
from decimal import Decimal
from functools import lru_cache

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models

from .calendar import Calendar
from .clocks import Kind, StartOn
from .clocks import Target as TargetSpec

STATUSES = ("new", "open", "pending", "on_hold", "solved", "closed")
RESPONSE_KINDS = ("public_reply", "phone_call")
DEFAULT_PAUSES = frozenset({"pending", "on_hold"})


@lru_cache(maxsize=256)
def _calendar_from_json(spec_json: str) -> Calendar:
    # Calendars cache their holidays per year; building one per ticket would
    # throw that away, so identical specs share one instance.
    return Calendar.from_dict(json.loads(spec_json))


def new_revision() -> str:
    return secrets.token_hex(8)


class BusinessCalendar(models.Model):
    """Opening hours, holidays and closures in one time zone."""

    name = models.CharField(max_length=100, unique=True)
    spec = models.JSONField(
        help_text='e.g. {"timezone": "Europe/London", "hours": {"mon": [["08:00", "17:00"]], …}, '
        '"holidays": {"country": "GB", "subdivision": "ENG"}, "closed": ["2026-12-24"]}'
    )

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name

    def clean(self) -> None:
        try:
            Calendar.from_dict(self.spec)
        except (ValueError, TypeError, AttributeError) as error:
            raise ValidationError({"spec": str(error)}) from None

    @property
    def calendar(self) -> Calendar:
        return _calendar_from_json(json.dumps(self.spec, sort_keys=True))


class SlaPolicy(models.Model):
    """An agency's promises: per priority, targets counted on a calendar."""

    code = models.SlugField(max_length=50, unique=True)
    name = models.CharField(max_length=100)
    description = models.TextField(blank=True)
    calendar = models.ForeignKey(BusinessCalendar, on_delete=models.PROTECT, related_name="+")
    warn_share = models.DecimalField(
        max_digits=3,
        decimal_places=2,
        default=Decimal("0.75"),
        validators=[MinValueValidator(Decimal("0.05")), MaxValueValidator(Decimal("0.99"))],
        help_text="Warn when this share of a limit has passed (0.75 = 75 %).",
    )
    emergency_route = models.TextField(
        blank=True,
        help_text="Told to clients who write outside business hours, "
        "e.g. 'For a site that is down, call 01453 884100.'",
    )
    is_default = models.BooleanField(
        default=False, help_text="Used for clients without a plan (on demand)."
    )
    # A new random value whenever a policy, priority, target or calendar is saved
    # or deleted (see signals.py): processes that keep the set-up (cache.py) see
    # from the policy row alone whether what they keep is current. Random, not a
    # counter, so a rolled-back change can never be mistaken for a later one.
    revision = models.CharField(max_length=16, default=new_revision, editable=False)

    class Meta:
        ordering = ["name"]
        verbose_name = "SLA policy"
        verbose_name_plural = "SLA policies"
        constraints = [
            models.UniqueConstraint(
                fields=["is_default"],
                condition=models.Q(is_default=True),
                name="one_default_policy",
            )
        ]

    def __str__(self) -> str:
        return self.name

    def priority_for(self, category_code: str | None = None, *, from_monitor: bool = False):
        """The priority a new ticket gets: by monitor, then by category, else the default."""
        return choose_priority(self.priorities.all(), category_code, from_monitor=from_monitor)


def choose_priority(
    priorities: Iterable["Priority"],
    category_code: str | None = None,
    *,
    from_monitor: bool = False,
) -> "Priority | None":
    """Of a policy's priorities (most urgent first): by monitor, by category, else the default."""
    found = list(priorities)
    if from_monitor:
        match = next((p for p in found if p.for_monitor), None)
        if match:
            return match
    if category_code:
        match = next((p for p in found if category_code in p.category_codes), None)
        if match:
            return match
    return next((p for p in found if p.is_default), found[-1] if found else None)


class Priority(models.Model):
    policy = models.ForeignKey(SlaPolicy, on_delete=models.CASCADE, related_name="priorities")
    code = models.SlugField(max_length=50)
    name = models.CharField(max_length=100)
    description = models.TextField(blank=True, help_text="When this priority applies, for staff.")
    rank = models.PositiveSmallIntegerField(help_text="1 is the most urgent.")
    is_critical = models.BooleanField(
        default=False, help_text="Warnings reach people even outside their working hours."
    )
    is_default = models.BooleanField(default=False)
    for_monitor = models.BooleanField(
        default=False, help_text="Tickets opened by uptime monitoring get this priority."
    )
    category_codes = models.JSONField(
        default=list, blank=True, help_text="Work category codes that get this priority."
    )

    class Meta:
        ordering = ["policy", "rank"]
        verbose_name_plural = "priorities"
        constraints = [
            models.UniqueConstraint(fields=["policy", "code"], name="priority_code_per_policy"),
        ]

    def __str__(self) -> str:
        return self.name

    def clean(self) -> None:
        if not isinstance(self.category_codes, list) or not all(
            isinstance(c, str) for c in self.category_codes
        ):
            raise ValidationError({"category_codes": "A list of category codes."})


class BreachAction(models.TextChoices):
    NONE = "none", "Notify only"
    RAISE_PRIORITY = "raise_priority", "Raise the priority one step"
    REASSIGN = "reassign", "Reassign"


class Target(models.Model):
    priority = models.ForeignKey(Priority, on_delete=models.CASCADE, related_name="targets")
    kind = models.CharField(
        max_length=20, choices=[(k.value, k.value.replace("_", " ")) for k in Kind]
    )
    limit = models.DurationField(
        help_text="Business time, e.g. 4:00:00 or 1 day, 0:00:00 (= 24 h)."
    )
    aim = models.DurationField(null=True, blank=True, help_text="Optional, shorter than the limit.")
    calendar = models.ForeignKey(
        BusinessCalendar,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        help_text="Only if this target counts on other hours (e.g. around the clock).",
    )
    pause_statuses = models.JSONField(
        null=True,
        blank=True,
        help_text="Statuses that stop this clock; empty for the default "
        "(pending and on hold pause resolution; nothing pauses a response).",
    )
    start_on = models.CharField(
        max_length=20,
        choices=[(s.value, s.value.replace("_", " ")) for s in StartOn],
        default=StartOn.CREATED,
    )
    response_kinds = models.JSONField(
        null=True,
        blank=True,
        help_text="What counts as a response; empty for the default (a public reply by staff). "
        f"Kinds: {', '.join(RESPONSE_KINDS)}.",
    )
    breach_action = models.CharField(
        max_length=20, choices=BreachAction.choices, default=BreachAction.NONE
    )
    reassign_to = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        ordering = ["priority", "kind"]
        constraints = [
            models.UniqueConstraint(fields=["priority", "kind"], name="one_target_per_kind"),
        ]

    def __str__(self) -> str:
        return f"{self.priority}: {self.get_kind_display()} {self.limit}"

    def clean(self) -> None:
        errors = {}
        if self.limit is not None and self.limit <= timedelta():
            errors["limit"] = "The limit must be positive."
        if (
            self.aim is not None
            and self.limit is not None
            and not timedelta() < self.aim <= self.limit
        ):
            errors["aim"] = "The aim must be positive and no longer than the limit."
        if not set(self.pause_statuses or []) <= set(STATUSES):
            errors["pause_statuses"] = f"Statuses are: {', '.join(STATUSES)}."
        if not set(self.response_kinds or []) <= set(RESPONSE_KINDS):
            errors["response_kinds"] = f"Response kinds are: {', '.join(RESPONSE_KINDS)}."
        if self.breach_action == BreachAction.REASSIGN and not self.reassign_to_id:
            errors["reassign_to"] = "Say whom to reassign to."
        if errors:
            raise ValidationError(errors)

    @property
    def effective_pause_statuses(self) -> frozenset[str]:
        if self.pause_statuses is not None:
            return frozenset(self.pause_statuses)
        return DEFAULT_PAUSES if self.kind == Kind.RESOLUTION else frozenset()

    def spec(self, policy: "SlaPolicy") -> TargetSpec:
        """The pure target the clock engine evaluates (``policy`` passed to spare a query)."""
        calendar = (self.calendar or policy.calendar).calendar
        return TargetSpec(
            kind=Kind(self.kind),
            limit=self.limit,
            aim=self.aim,
            calendar=calendar,
            pause_statuses=self.effective_pause_statuses,
            start_on=StartOn(self.start_on),
            response_kinds=frozenset(self.response_kinds or ("public_reply",)),
            warn_share=float(policy.warn_share),
        )
