"""Monitors, their results, hourly rollups, incidents and outages, probes."""

from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator, URLValidator
from django.db import models
from django.db.models import Q

from caredesk.clients.models import Site
from caredesk.lib import clock

from .engine.spec import parse_status_ranges
from .state import Health, Policy, State

MIN_INTERVAL, MAX_INTERVAL = 30, 3600
MAX_TIMEOUT = 30  # seconds; also keeps every stored timing inside a small integer


class Kind(models.TextChoices):
    # The probe runs these; passive kinds (heartbeat) and DNS records can join the list.
    HTTP = "http", "HTTP(S)"
    TLS = "tls", "TLS certificate"
    TCP = "tcp", "TCP port"


PROBE_KINDS = (Kind.HTTP, Kind.TLS, Kind.TCP)


class Method(models.TextChoices):
    GET = "GET", "GET"
    HEAD = "HEAD", "HEAD"


def _validate_status(value: str) -> None:
    try:
        parse_status_ranges(value)
    except ValueError as error:
        raise ValidationError(str(error)) from None


class Monitor(models.Model):
    """One check of a site, repeated every ``interval_seconds``."""

    site = models.ForeignKey(Site, on_delete=models.CASCADE, related_name="monitors")
    name = models.CharField(max_length=200, blank=True)
    kind = models.CharField(max_length=16, choices=Kind.choices, default=Kind.HTTP)
    url = models.CharField("URL", max_length=500, blank=True, help_text="HTTP(S) monitors.")
    host = models.CharField(max_length=253, blank=True, help_text="TLS and TCP monitors.")
    port = models.PositiveIntegerField(
        null=True, blank=True, validators=[MinValueValidator(1), MaxValueValidator(65535)]
    )
    method = models.CharField(max_length=8, choices=Method.choices, default=Method.GET)
    expected_status = models.CharField(
        max_length=100,
        default="200-399",
        validators=[_validate_status],
        help_text="Codes, ranges or classes: 200-299, 301, 4xx.",
    )
    keyword = models.CharField(max_length=200, blank=True)
    keyword_absent = models.BooleanField(
        default=False, help_text="Fail when the keyword is on the page (an error text)."
    )
    max_response_ms = models.PositiveIntegerField(
        "max response (ms)", null=True, blank=True, help_text="Slower answers count as down."
    )
    follow_redirects = models.BooleanField(default=True)
    tls_min_days = models.PositiveSmallIntegerField(
        "TLS warning days",
        default=14,
        help_text="A TLS monitor fails when the certificate expires sooner than this.",
    )
    interval_seconds = models.PositiveIntegerField(
        default=60, validators=[MinValueValidator(MIN_INTERVAL), MaxValueValidator(MAX_INTERVAL)]
    )
    timeout_seconds = models.PositiveSmallIntegerField(
        default=10, validators=[MinValueValidator(1), MaxValueValidator(MAX_TIMEOUT)]
    )
    failures_to_down = models.PositiveSmallIntegerField(
        "failures in a row for down",
        default=2,
        validators=[MinValueValidator(1), MaxValueValidator(10)],
    )
    recoveries_to_up = models.PositiveSmallIntegerField(
        "good checks in a row for up",
        default=2,
        validators=[MinValueValidator(1), MaxValueValidator(10)],
    )
    allow_private = models.BooleanField(
        "allow private addresses",
        default=False,
        help_text="Let this monitor reach intranet, loopback and link-local addresses.",
    )
    enabled = models.BooleanField(default=True)
    is_default = models.BooleanField(
        default=False, editable=False, help_text="The site's own monitor; follows its URL."
    )

    # Health, written by the probe's store (never by save(), so it is not a "change").
    state = models.CharField(
        max_length=8,
        choices=[(s.value, s.value.title()) for s in State],
        default=State.UNKNOWN.value,
        editable=False,
    )
    state_since = models.DateTimeField(null=True, blank=True, editable=False)
    fail_streak = models.PositiveSmallIntegerField(default=0, editable=False)
    ok_streak = models.PositiveSmallIntegerField(default=0, editable=False)
    failing_since = models.DateTimeField(null=True, blank=True, editable=False)
    recovering_since = models.DateTimeField(null=True, blank=True, editable=False)
    failure_cause = models.CharField(max_length=600, blank=True, editable=False)
    last_checked_at = models.DateTimeField(null=True, blank=True, editable=False)
    next_check_at = models.DateTimeField(null=True, blank=True, db_index=True, editable=False)

    created_at = models.DateTimeField(default=clock.now, editable=False)
    # Moves on every settings change; probes poll it to pick changes up.
    updated_at = models.DateTimeField(default=clock.now, editable=False, db_index=True)

    STATE_FIELDS = (
        "state",
        "state_since",
        "fail_streak",
        "ok_streak",
        "failing_since",
        "recovering_since",
        "failure_cause",
    )
    CHECK_FIELDS = ("last_checked_at", "next_check_at")  # move with every check
    HEALTH_FIELDS = STATE_FIELDS + CHECK_FIELDS

    class Meta:
        ordering = ["site__name", "kind", "id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(interval_seconds__gte=MIN_INTERVAL, interval_seconds__lte=MAX_INTERVAL),
                name="monitor_interval_range",
            ),
        ]

    def __str__(self) -> str:
        return self.name or f"{self.site} – {self.get_kind_display()} {self.target}"

    def save(self, *args, **kwargs) -> None:
        self.url = self.url.strip()
        self.host = self.host.strip().lower()
        self.updated_at = clock.now()
        update_fields = kwargs.get("update_fields")
        if update_fields is not None:
            kwargs["update_fields"] = {*update_fields, "updated_at"}
        elif not self._state.adding:
            # A form loaded minutes ago holds stale health; only the probe writes it.
            kwargs["update_fields"] = [
                f.name
                for f in self._meta.concrete_fields
                if not f.primary_key and f.name not in self.HEALTH_FIELDS
            ]
        super().save(*args, **kwargs)

    def clean(self) -> None:
        if self.kind == Kind.HTTP:
            try:
                URLValidator(schemes=["http", "https"])(self.url)
            except ValidationError:
                raise ValidationError({"url": "Enter an http:// or https:// URL."}) from None
        elif not self.host:
            raise ValidationError({"host": "A TLS or TCP monitor needs a host."})
        if self.kind == Kind.TCP and not self.port:
            raise ValidationError({"port": "A TCP monitor needs a port."})

    @property
    def target(self) -> str:
        if self.kind == Kind.HTTP:
            return self.url
        return f"{self.host}:{self.port or 443}"

    @property
    def policy(self) -> Policy:
        return Policy(self.failures_to_down, self.recoveries_to_up)

    @property
    def health(self) -> Health:
        return Health(
            State(self.state),
            self.state_since,
            self.fail_streak,
            self.ok_streak,
            self.failing_since,
            self.recovering_since,
        )

    @health.setter
    def health(self, health: Health) -> None:
        self.state = health.state.value
        self.state_since = health.since
        self.fail_streak = health.fails
        self.ok_streak = health.oks
        self.failing_since = health.failing_since
        self.recovering_since = health.recovering_since


class CheckResult(models.Model):
    """One check as a probe saw it. Kept for CAREDESK_MONITOR_RAW_DAYS, then rolled up.

    Kept small on purpose (the biggest table by far): timings are small
    integers in milliseconds, the error message is empty when the check passed.
    """

    monitor = models.ForeignKey(
        Monitor, on_delete=models.CASCADE, related_name="results", db_index=False
    )
    checked_at = models.DateTimeField()
    region = models.CharField(max_length=32)
    ok = models.BooleanField()
    status_code = models.PositiveSmallIntegerField(null=True, blank=True)
    error_kind = models.CharField(max_length=20, blank=True)
    error = models.CharField(max_length=500, blank=True)
    dns_ms = models.PositiveSmallIntegerField(null=True, blank=True)
    connect_ms = models.PositiveSmallIntegerField(null=True, blank=True)
    tls_ms = models.PositiveSmallIntegerField(null=True, blank=True)
    first_byte_ms = models.PositiveSmallIntegerField(null=True, blank=True)
    total_ms = models.PositiveSmallIntegerField(null=True, blank=True)
    cert_days = models.SmallIntegerField(null=True, blank=True)

    class Meta:
        # One index serves the site page, rollups and retention (all per monitor, by time).
        indexes = [models.Index(fields=["monitor", "checked_at"], name="monitoring_result_at")]

    def __str__(self) -> str:
        verdict = "ok" if self.ok else "failed"
        return f"{self.monitor_id} {self.checked_at:%Y-%m-%d %H:%M:%S} {verdict}"


class HourlyRollup(models.Model):
    """One monitor's hour: kept forever, so history costs little once raw results go.

    Small integers throughout (an hour has at most 3 600 seconds and 120
    checks; response times stay under the 30 s timeout): the table grows by
    one row per monitor per hour, for ever.
    """

    monitor = models.ForeignKey(
        Monitor, on_delete=models.CASCADE, related_name="rollups", db_index=False
    )  # the unique (monitor, hour) index serves every query
    hour = models.DateTimeField(help_text="Start of the hour, UTC.")
    checks = models.PositiveSmallIntegerField(default=0)
    failures = models.PositiveSmallIntegerField(default=0)
    up_seconds = models.PositiveSmallIntegerField(default=0)
    down_seconds = models.PositiveSmallIntegerField(default=0)
    p50_ms = models.PositiveSmallIntegerField(null=True, blank=True)
    p95_ms = models.PositiveSmallIntegerField(null=True, blank=True)

    class Meta:
        ordering = ["-hour"]
        constraints = [
            models.UniqueConstraint(fields=["monitor", "hour"], name="rollup_monitor_hour"),
        ]

    def __str__(self) -> str:
        return f"{self.monitor_id} {self.hour:%Y-%m-%d %H}:00"


class Incident(models.Model):
    """A confirmed outage of one monitor, from its first failed check to its recovery.

    A monitor that goes down again within the quiet period reopens its last
    incident instead of starting a new one (a flapping site is one incident).
    """

    monitor = models.ForeignKey(Monitor, on_delete=models.CASCADE, related_name="incidents")
    started_at = models.DateTimeField(help_text="The first failed check.")
    confirmed_at = models.DateTimeField(help_text="When down was confirmed (the alert moment).")
    recovered_at = models.DateTimeField(
        null=True, blank=True, help_text="The first good check of the recovery."
    )
    resolved_at = models.DateTimeField(
        null=True, blank=True, help_text="When the recovery was confirmed."
    )
    cause = models.CharField(max_length=600, blank=True)
    reopened = models.PositiveSmallIntegerField(default=0)
    timeline = models.JSONField(default=list, blank=True)

    class Meta:
        ordering = ["-started_at"]
        indexes = [models.Index(fields=["monitor", "-started_at"], name="incident_monitor_start")]
        constraints = [
            models.UniqueConstraint(
                fields=["monitor"], condition=Q(resolved_at=None), name="one_open_incident"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.monitor} down since {self.started_at:%Y-%m-%d %H:%M}"

    @property
    def is_open(self) -> bool:
        return self.resolved_at is None


class Outage(models.Model):
    """A stretch of confirmed down time: what uptime is computed from.

    From the first failed check to the first good check of the recovery; an
    incident has several when flapping reopened it.
    """

    incident = models.ForeignKey(Incident, on_delete=models.CASCADE, related_name="outages")
    monitor = models.ForeignKey(Monitor, on_delete=models.CASCADE, related_name="outages")
    started_at = models.DateTimeField()
    ended_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["started_at"]
        indexes = [models.Index(fields=["monitor", "started_at"], name="outage_monitor_start")]

    def __str__(self) -> str:
        return f"{self.monitor_id} {self.started_at:%Y-%m-%d %H:%M} – {self.ended_at or 'now'}"


class Probe(models.Model):
    """A running (or stopped) probe process, as its last heartbeat described it."""

    name = models.CharField(max_length=200, unique=True, help_text="region@host")
    region = models.CharField(max_length=32)
    started_at = models.DateTimeField()
    last_seen_at = models.DateTimeField()
    stopped_at = models.DateTimeField(null=True, blank=True)
    status = models.JSONField(default=dict, blank=True)

    class Meta:
        ordering = ["region", "name"]

    def __str__(self) -> str:
        return self.name
