"""Monitors, their results, hourly rollups, incidents and outages, probes, maintenance windows."""

import hashlib
import secrets
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import (
    MaxValueValidator,
    MinValueValidator,
    RegexValidator,
    URLValidator,
)
from django.db import models
from django.db.models import Q

from caredesk.clients.models import Site
from caredesk.lib import clock
from caredesk.plans.models import active_subscription, policy_for

from .engine.spec import parse_status_ranges
from .state import Health, Policy, State

MIN_INTERVAL, MAX_INTERVAL = 30, 3600
MAX_TIMEOUT = 30  # seconds; also keeps every stored timing inside a small integer
MAX_QUORUM = 10
REGION_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9._-]{0,31}$"
validate_region = RegexValidator(
    REGION_PATTERN, "Letters, digits, dots, dashes and underscores; at most 32 (e.g. eu-west)."
)


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
    quorum = models.PositiveSmallIntegerField(
        "regions that must agree",
        null=True,
        blank=True,
        validators=[MinValueValidator(1), MaxValueValidator(MAX_QUORUM)],
        help_text="How many probe regions must see the failures before the monitor is down "
        "(never more than the regions whose probes are running). Empty: "
        "CAREDESK_MONITOR_QUORUM (2).",
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
    depends_on = models.ForeignKey(
        "self",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="dependents",
        help_text="While that monitor is down, this one's incidents alert nobody and open no "
        "ticket (e.g. every site on a server depends on the server's TCP monitor).",
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
    failing_regions = models.JSONField(default=list, blank=True, editable=False)
    # A failure (or, while down, a good check) asks the other regions' probes to check
    # at once rather than at their next slot; they find the request on their next poll.
    recheck_after = models.DateTimeField(null=True, blank=True, db_index=True, editable=False)
    recheck_region = models.CharField(max_length=32, blank=True, editable=False)
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
        "failing_regions",
        "recheck_after",
        "recheck_region",
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
        self._check_dependency()

    def _check_dependency(self) -> None:
        parent, seen = self.depends_on, {self.pk}
        while parent is not None:
            if parent.pk in seen:
                raise ValidationError(
                    {"depends_on": "Monitors cannot depend on each other in a loop."}
                )
            seen.add(parent.pk)
            parent = parent.depends_on

    def down_ancestor(self) -> "Monitor | None":
        """The nearest monitor this one depends on (directly or further up) that is down now."""
        parent, seen = self.depends_on, {self.pk}
        while parent is not None and parent.pk not in seen:
            if parent.state == State.DOWN.value:
                return parent
            seen.add(parent.pk)
            parent = parent.depends_on
        return None

    def ancestor_failing(self) -> bool:
        """Whether a monitor this one depends on has failed checks not yet confirmed either way."""
        parent, seen = self.depends_on, {self.pk}
        while parent is not None and parent.pk not in seen:
            if parent.state != State.DOWN.value and parent.fail_streak > 0:
                return True
            seen.add(parent.pk)
            parent = parent.depends_on
        return False

    @property
    def target(self) -> str:
        if self.kind == Kind.HTTP:
            return self.url
        return f"{self.host}:{self.port or 443}"

    @property
    def policy(self) -> Policy:
        """The policy one probe applies to its own checks (it sees one region)."""
        return Policy(self.failures_to_down, self.recoveries_to_up)

    def quorum_policy(self, live_regions: int) -> Policy:
        """The policy for results from every region: ``live_regions`` are running now.

        A quorum larger than the regions alive falls to their number, so a stopped
        probe cannot hold back the confirmation of a real outage.
        """
        wanted = self.quorum or int(getattr(settings, "CAREDESK_MONITOR_QUORUM", 2))
        regions = max(1, min(wanted, live_regions))
        return Policy(self.failures_to_down, self.recoveries_to_up, regions)

    @property
    def health(self) -> Health:
        return Health(
            State(self.state),
            self.state_since,
            self.fail_streak,
            self.ok_streak,
            self.failing_since,
            self.recovering_since,
            tuple(self.failing_regions or ()),
        )

    @health.setter
    def health(self, health: Health) -> None:
        self.state = health.state.value
        self.state_since = health.since
        self.fail_streak = health.fails
        self.ok_streak = health.oks
        self.failing_since = health.failing_since
        self.recovering_since = health.recovering_since
        self.failing_regions = list(health.fail_regions)


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


def _alive_since(now: datetime | None) -> datetime:
    seconds = int(getattr(settings, "CAREDESK_PROBE_ALIVE_SECONDS", 90))
    return (now or clock.now()) - timedelta(seconds=seconds)


class ProbeQuerySet(models.QuerySet["Probe"]):
    def alive(self, now: datetime | None = None) -> "ProbeQuerySet":
        """Probes heard from lately and not stopped: the regions that count toward a quorum."""
        return self.filter(stopped_at=None, last_seen_at__gte=_alive_since(now))


class Probe(models.Model):
    """A running (or stopped) probe process, as its last heartbeat described it."""

    name = models.CharField(max_length=200, unique=True, help_text="region@host")
    region = models.CharField(max_length=32)
    version = models.CharField(max_length=40, blank=True)
    remote = models.BooleanField(default=False, help_text="Reports through the API.")
    started_at = models.DateTimeField()
    last_seen_at = models.DateTimeField()
    stopped_at = models.DateTimeField(null=True, blank=True)
    status = models.JSONField(default=dict, blank=True)

    objects = ProbeQuerySet.as_manager()

    class Meta:
        ordering = ["region", "name"]

    def __str__(self) -> str:
        return self.name

    def is_alive(self, now: datetime | None = None) -> bool:
        return self.stopped_at is None and self.last_seen_at >= _alive_since(now)


def _token_hash(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


class ProbeTokenQuerySet(models.QuerySet["ProbeToken"]):
    def authenticate(self, presented: str) -> "ProbeToken | None":
        """The live token matching ``presented``, or None. Compares hashes only."""
        prefix, _, _ = presented.partition(".")
        if not prefix.startswith("cdp") or len(presented) > 200 or not presented.isprintable():
            return None
        token = self.filter(prefix=prefix, revoked_at=None).first()
        if token is None or not secrets.compare_digest(token.key_hash, _token_hash(presented)):
            return None
        return token


class ProbeToken(models.Model):
    """What a remote probe shows the API: one region's key. Only its hash is stored.

    A token is bound to its region, so a stolen token cannot speak for another
    region and make up a quorum on its own.
    """

    name = models.CharField(max_length=100, help_text="Where the probe runs, e.g. 'Frankfurt VM'.")
    region = models.CharField(
        max_length=32, validators=[validate_region], help_text="The probe's --region."
    )
    prefix = models.CharField(max_length=16, unique=True, editable=False)
    key_hash = models.CharField(max_length=64, editable=False)
    created_at = models.DateTimeField(default=clock.now, editable=False)
    last_used_at = models.DateTimeField(null=True, blank=True, editable=False)
    revoked_at = models.DateTimeField(null=True, blank=True)

    objects = ProbeTokenQuerySet.as_manager()

    class Meta:
        ordering = ["region", "-created_at"]

    def __str__(self) -> str:
        return f"{self.region}: {self.name} ({self.prefix}…)"

    @classmethod
    def issue(cls, name: str, region: str) -> tuple["ProbeToken", str]:
        """Create a token and return it with the secret to show once."""
        prefix = "cdp" + secrets.token_hex(6)
        secret = f"{prefix}.{secrets.token_urlsafe(32)}"
        token = cls.objects.create(
            name=name, region=region, prefix=prefix, key_hash=_token_hash(secret)
        )
        return token, secret


def site_zone(site: Site) -> ZoneInfo:
    """The organisation's time zone: its SLA policy's calendar, else the agency's.

    Maintenance windows are agreed with the client in its own local time.
    """
    subscription = active_subscription(site.organisation_id, clock.now().date())
    policy = policy_for(subscription)
    name = policy.calendar.spec.get("timezone") if policy is not None else None
    try:
        return ZoneInfo(name or settings.TIME_ZONE)
    except (ValueError, KeyError):
        return ZoneInfo(settings.TIME_ZONE)


class Recurrence(models.TextChoices):
    ONCE = "once", "One-off"
    WEEKLY = "weekly", "Every week"


WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
MAX_WINDOW_MINUTES = 7 * 24 * 60


class MaintenanceWindowQuerySet(models.QuerySet):
    def for_monitor(self, monitor: Monitor) -> "MaintenanceWindowQuerySet":
        """Enabled windows that cover ``monitor``: its site's, and its own."""
        return self.filter(enabled=True, site_id=monitor.site_id).filter(
            Q(monitor=None) | Q(monitor_id=monitor.pk)
        )


class MaintenanceWindow(models.Model):
    """Planned work on a site (or on one monitor), in the organisation's local time.

    Incidents confirmed inside a window alert nobody and open no ticket, and
    the window's time is left out of monthly uptime.
    """

    site = models.ForeignKey(Site, on_delete=models.CASCADE, related_name="maintenance_windows")
    monitor = models.ForeignKey(
        Monitor,
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="maintenance_windows",
        help_text="Only this monitor of the site; empty: all of the site's monitors.",
    )
    reason = models.CharField(max_length=200, help_text="e.g. Monthly plugin updates.")
    recurrence = models.CharField(max_length=8, choices=Recurrence.choices, default=Recurrence.ONCE)
    day = models.DateField(null=True, blank=True, help_text="One-off windows: the local date.")
    weekdays = models.JSONField(
        default=list, blank=True, help_text="Weekly windows: the days it starts on."
    )
    start_time = models.TimeField(help_text="Local time in the organisation's time zone.")
    duration_minutes = models.PositiveIntegerField(
        validators=[MinValueValidator(1), MaxValueValidator(MAX_WINDOW_MINUTES)]
    )
    enabled = models.BooleanField(default=True)
    created_at = models.DateTimeField(default=clock.now, editable=False)

    objects = MaintenanceWindowQuerySet.as_manager()

    class Meta:
        ordering = ["site__name", "day", "start_time"]
        indexes = [models.Index(fields=["site", "enabled"], name="maintenance_site_idx")]

    def __str__(self) -> str:
        return f"{self.site}: {self.reason}"

    def clean(self) -> None:
        errors = {}
        if self.monitor_id and self.site_id and self.monitor.site_id != self.site_id:
            errors["monitor"] = "That monitor watches another site."
        if self.recurrence == Recurrence.ONCE and self.day is None:
            errors["day"] = "A one-off window needs a date."
        weekly = self.recurrence == Recurrence.WEEKLY
        if weekly and (not self.weekdays or not set(self.weekdays) <= set(WEEKDAYS)):
            errors["weekdays"] = "Choose the days of the week it starts on."
        if errors:
            raise ValidationError(errors)

    @property
    def duration(self) -> timedelta:
        return timedelta(minutes=self.duration_minutes)

    def occurrences(self, start: datetime, end: datetime, zone: ZoneInfo) -> list[tuple]:
        """The window's stretches (UTC) that overlap [start, end).

        Local start times are turned into instants in ``zone`` day by day, so a
        weekly 02:00 window stays at 02:00 local across a change of clocks.
        """
        if self.recurrence == Recurrence.ONCE:
            days = [self.day] if self.day else []
        else:
            first = start.astimezone(zone).date() - timedelta(days=self.duration.days + 1)
            last = end.astimezone(zone).date()
            wanted = {WEEKDAYS.index(code) for code in self.weekdays if code in WEEKDAYS}
            days = [
                first + timedelta(days=n)
                for n in range((last - first).days + 1)
                if (first + timedelta(days=n)).weekday() in wanted
            ]
        spans = []
        for day in days:
            opens = _local_instant(day, self, zone)
            closes = opens + self.duration
            if opens < end and closes > start:
                spans.append((opens, closes))
        return spans

    def covers(self, moment: datetime, zone: ZoneInfo) -> bool:
        return bool(self.occurrences(moment, moment + timedelta(microseconds=1), zone))


def _local_instant(day: date, window: MaintenanceWindow, zone: ZoneInfo) -> datetime:
    return datetime.combine(day, window.start_time, tzinfo=zone).astimezone(UTC)


def covering_window(monitor: Monitor, moment: datetime) -> MaintenanceWindow | None:
    """The maintenance window ``monitor`` is in at ``moment``, if any."""
    windows = list(MaintenanceWindow.objects.for_monitor(monitor))
    if not windows:
        return None
    zone = site_zone(monitor.site)
    return next((w for w in windows if w.covers(moment, zone)), None)
