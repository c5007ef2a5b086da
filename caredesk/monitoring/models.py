"""Monitors, results, rollups, incidents, probes, maintenance windows, public status pages."""

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

from caredesk.clients.models import Organisation, Site
from caredesk.lib import clock
from caredesk.lib.crypto import EncryptedTextField
from caredesk.plans.models import active_subscription, policy_for

from .engine import records
from .engine.spec import parse_headers, parse_nameserver, parse_status_ranges
from .state import Health, Policy, State

MIN_INTERVAL, MAX_INTERVAL = 30, 3600
# Heartbeats come from cron jobs and backups: daily, weekly, monthly, quarterly.
MAX_HEARTBEAT_INTERVAL = 100 * 86400
MAX_GRACE = 30 * 86400
MAX_TIMEOUT = 30  # seconds; also keeps every stored timing inside a small integer
MAX_QUORUM = 10
REGION_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9._-]{0,31}$"
validate_region = RegexValidator(
    REGION_PATTERN, "Letters, digits, dots, dashes and underscores; at most 32 (e.g. eu-west)."
)


class Kind(models.TextChoices):
    HTTP = "http", "HTTP(S)"
    TLS = "tls", "TLS certificate"
    TCP = "tcp", "TCP port"
    DNS = "dns", "DNS record"
    # Pushed, not pulled: a client's cron job or backup calls the monitor's secret URL,
    # and the server (caredesk.monitoring.heartbeats) notices when it stops.
    HEARTBEAT = "heartbeat", "Heartbeat"


PROBE_KINDS = (Kind.HTTP, Kind.TLS, Kind.TCP, Kind.DNS)


class Method(models.TextChoices):
    GET = "GET", "GET"
    HEAD = "HEAD", "HEAD"
    POST = "POST", "POST"


class RecordType(models.TextChoices):
    A = "A", "A (IPv4 address)"
    AAAA = "AAAA", "AAAA (IPv6 address)"
    CNAME = "CNAME", "CNAME (alias)"
    MX = "MX", "MX (mail server)"
    TXT = "TXT", "TXT (text)"
    NS = "NS", "NS (nameserver)"


def span(seconds: int) -> str:
    """``1 d``, ``6 h``, ``90 min``, ``45 s``: an interval as people say it."""
    for unit, size in (("d", 86400), ("h", 3600), ("min", 60)):
        if seconds >= size and seconds % size == 0:
            return f"{seconds // size} {unit}"
    if seconds >= 3600:
        return f"{seconds / 3600:.1f} h"
    return f"{seconds // 60} min" if seconds >= 120 else f"{seconds} s"


def new_ping_token() -> str:
    return secrets.token_urlsafe(24)


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
    host = models.CharField(
        max_length=253, blank=True, help_text="TLS and TCP monitors; the record's name for DNS."
    )
    port = models.PositiveIntegerField(
        null=True, blank=True, validators=[MinValueValidator(1), MaxValueValidator(65535)]
    )
    method = models.CharField(max_length=8, choices=Method.choices, default=Method.GET)
    body = models.TextField(
        "request body",
        blank=True,
        max_length=10_000,
        help_text="POST only. Sent as application/x-www-form-urlencoded unless a "
        "Content-Type header says otherwise.",
    )
    # Headers often carry a token (X-Api-Key, Authorization): encrypted at rest.
    request_headers = EncryptedTextField(
        blank=True,
        help_text="One per line, 'Name: value'. Sent only to the monitor's own host "
        "(not after a redirect elsewhere). Stored encrypted.",
    )
    auth_user = models.CharField(
        "basic auth user", max_length=200, blank=True, help_text="HTTP basic authentication."
    )
    auth_password = EncryptedTextField("basic auth password", blank=True)
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
        help_text="Warn (a warning, not an outage) when the certificate of a TLS or HTTPS "
        "monitor expires in fewer days than this. 0: never warn.",
    )
    record_type = models.CharField(
        "record type", max_length=8, choices=RecordType.choices, default="A"
    )
    expected_values = models.TextField(
        blank=True,
        max_length=5000,
        help_text="DNS: values the answer must hold, one per line (an address, a host name, "
        "'10 mail.example.com' for MX, the text for TXT). Empty: any answer will do.",
    )
    nameserver = models.CharField(
        max_length=60,
        blank=True,
        help_text="DNS: ask this server (an IP address, optionally :port), e.g. the "
        "domain's own nameserver. Empty: the probe machine's resolvers.",
    )
    interval_seconds = models.PositiveIntegerField(
        default=60,
        validators=[MinValueValidator(MIN_INTERVAL)],
        help_text="30 s to 1 h; a heartbeat: how often its pings are expected (up to 100 days).",
    )
    grace_seconds = models.PositiveIntegerField(
        "grace (seconds)",
        default=3600,
        validators=[MaxValueValidator(MAX_GRACE)],
        help_text="Heartbeat: how long a late ping is only a warning before it is an outage.",
    )
    ping_token = models.CharField(max_length=64, unique=True, null=True, blank=True, editable=False)
    key = models.SlugField(
        max_length=40,
        blank=True,
        help_text="A name other parts of caredesk find this monitor by, e.g. 'backup' for "
        "the heartbeat that every verified backup pings. Unique per site.",
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
    last_ping_at = models.DateTimeField(null=True, blank=True, editable=False)
    last_ping_source = models.CharField(max_length=300, blank=True, editable=False)

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
    PING_FIELDS = ("last_ping_at", "last_ping_source")  # written by heartbeats.ping()

    class Meta:
        ordering = ["site__name", "kind", "id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(interval_seconds__gte=MIN_INTERVAL)
                & (
                    Q(interval_seconds__lte=MAX_INTERVAL)
                    | Q(kind="heartbeat", interval_seconds__lte=MAX_HEARTBEAT_INTERVAL)
                ),
                name="monitor_interval_range",
            ),
            models.UniqueConstraint(
                fields=["site", "key"], condition=~Q(key=""), name="monitor_site_key"
            ),
        ]

    def __str__(self) -> str:
        return self.name or f"{self.site} – {self.get_kind_display()} {self.target}"

    def save(self, *args, **kwargs) -> None:
        self.url = self.url.strip()
        self.host = self.host.strip().lower()
        if self.kind == Kind.HEARTBEAT and not self.ping_token:
            self.ping_token = new_ping_token()
            if kwargs.get("update_fields") is not None:
                kwargs["update_fields"] = {*kwargs["update_fields"], "ping_token"}
        self.updated_at = clock.now()
        update_fields = kwargs.get("update_fields")
        if update_fields is not None:
            kwargs["update_fields"] = {*update_fields, "updated_at"}
        elif not self._state.adding:
            # A form loaded minutes ago holds stale health; only the probe writes it.
            kwargs["update_fields"] = [
                f.name
                for f in self._meta.concrete_fields
                if not f.primary_key and f.name not in (*self.HEALTH_FIELDS, *self.PING_FIELDS)
            ]
        super().save(*args, **kwargs)

    def clean(self) -> None:
        errors: dict[str, str] = {}
        if self.kind == Kind.HTTP:
            errors.update(self._http_errors())
        elif self.kind == Kind.DNS:
            errors.update(self._dns_errors())
        elif self.kind in (Kind.TLS, Kind.TCP) and not self.host:
            errors["host"] = "A TLS or TCP monitor needs a host."
        if self.kind == Kind.TCP and not self.port:
            errors.setdefault("port", "A TCP monitor needs a port.")
        longest = MAX_HEARTBEAT_INTERVAL if self.kind == Kind.HEARTBEAT else MAX_INTERVAL
        if self.interval_seconds is not None and self.interval_seconds > longest:
            errors["interval_seconds"] = f"Ensure this value is less than or equal to {longest}."
        if errors:
            raise ValidationError(errors)
        self._check_dependency()

    def _http_errors(self) -> dict[str, str]:
        errors = {}
        try:
            URLValidator(schemes=["http", "https"])(self.url)
        except ValidationError:
            errors["url"] = "Enter an http:// or https:// URL."
        if self.body and self.method != Method.POST:
            errors["body"] = "Only a POST sends a body."
        try:
            parse_headers(self.request_headers)
        except ValueError as error:
            errors["request_headers"] = _sentence(error)
        if ":" in self.auth_user:
            errors["auth_user"] = "A basic auth user name cannot hold a colon."
        if self.auth_password and not self.auth_user:
            errors["auth_user"] = "Give the user name that goes with the password."
        return errors

    def _dns_errors(self) -> dict[str, str]:
        errors = {}
        try:
            self.host = records.check_name(self.host)
        except ValueError:
            errors["host"] = "Enter the record's name, e.g. example.com or mail.example.com."
        for value in records.split_values(self.expected_values):
            try:
                records.normalise(self.record_type, value)
            except ValueError as error:
                errors["expected_values"] = _sentence(error)
                break
        if self.nameserver:
            try:
                parse_nameserver(self.nameserver)
            except ValueError as error:
                errors["nameserver"] = _sentence(error)
        return errors

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
        """What is checked, for people; a heartbeat's secret address is never part of it."""
        if self.kind == Kind.HTTP:
            return self.url
        if self.kind == Kind.DNS:
            return f"{self.host} {self.record_type}"
        if self.kind == Kind.HEARTBEAT:
            return f"every {span(self.interval_seconds)}, grace {span(self.grace_seconds)}"
        return f"{self.host}:{self.port or 443}"

    @property
    def ping_path(self) -> str:
        """The heartbeat's secret address on this server ('' for other kinds)."""
        if self.kind != Kind.HEARTBEAT or not self.ping_token:
            return ""
        return f"/heartbeat/{self.ping_token}/"

    @property
    def ping_url(self) -> str:
        path = self.ping_path
        return f"{settings.CAREDESK_BASE_URL.rstrip('/')}{path}" if path else ""

    @property
    def policy(self) -> Policy:
        """The policy one probe applies to its own checks (it sees one region)."""
        if self.kind == Kind.HEARTBEAT:
            return HEARTBEAT_POLICY
        return Policy(self.failures_to_down, self.recoveries_to_up)

    def quorum_policy(self, live_regions: int) -> Policy:
        """The policy for results from every region: ``live_regions`` are running now.

        A quorum larger than the regions alive falls to their number, so a stopped
        probe cannot hold back the confirmation of a real outage.
        """
        if self.kind == Kind.HEARTBEAT:
            return HEARTBEAT_POLICY
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


def _sentence(error: ValueError) -> str:
    text = str(error)
    return f"{text[:1].upper()}{text[1:]}."


# A heartbeat is judged on the server, from the clock: the grace period is its
# confirmation, so one late verdict is down and one ping is up again.
HEARTBEAT_POLICY = Policy(failures=1, recoveries=1, regions=1)


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


class DailyRollup(models.Model):
    """One monitor's UTC day, with that day's 24 hourly rollups packed in ``hours``: kept forever.

    Hourly rows (:class:`HourlyRollup`) are kept CAREDESK_MONITOR_HOURLY_DAYS
    and then deleted; their figures live on here, a row per monitor per day
    instead of 24 (see :mod:`caredesk.monitoring.history`). The day's own
    figures are sums of its hours; its p50 is the median of the hourly p50s and
    its p95 the highest hourly p95, as the monthly report's chart shows them.
    """

    monitor = models.ForeignKey(
        Monitor, on_delete=models.CASCADE, related_name="daily_rollups", db_index=False
    )  # the unique (monitor, day) index serves every query
    day = models.DateField(help_text="The UTC day.")
    checks = models.PositiveIntegerField(default=0)
    failures = models.PositiveIntegerField(default=0)
    up_seconds = models.PositiveIntegerField(default=0)
    down_seconds = models.PositiveIntegerField(default=0)
    p50_ms = models.PositiveSmallIntegerField(null=True, blank=True)
    p95_ms = models.PositiveSmallIntegerField(null=True, blank=True)
    hours = models.BinaryField(help_text="The day's hourly rollups, packed (history.pack_hours).")

    class Meta:
        ordering = ["-day"]
        constraints = [
            models.UniqueConstraint(fields=["monitor", "day"], name="rollup_monitor_day"),
        ]

    def __str__(self) -> str:
        return f"{self.monitor_id} {self.day:%Y-%m-%d}"


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


class WarningKind(models.TextChoices):
    CERT_EXPIRY = "cert_expiry", "TLS certificate expiring"
    HEARTBEAT_LATE = "heartbeat_late", "Heartbeat late"


class MonitorWarning(models.Model):
    """Trouble coming, not an outage: a certificate close to expiry, a heartbeat late.

    Alerted once (as a warning, never as down) when it opens; it opens no
    ticket and counts against no uptime; it clears when the cause is gone. One
    cleared within the quiet period and back again is the same warning, not
    another alert (see :mod:`caredesk.monitoring.monitor_warnings`).
    """

    monitor = models.ForeignKey(Monitor, on_delete=models.CASCADE, related_name="warnings")
    kind = models.CharField(max_length=20, choices=WarningKind.choices)
    opened_at = models.DateTimeField()
    cleared_at = models.DateTimeField(null=True, blank=True)
    detail = models.CharField(max_length=600, help_text="What is wrong, for people.")
    reopened = models.PositiveSmallIntegerField(default=0)
    alerted_at = models.DateTimeField(null=True, blank=True, help_text="When an alert went out.")

    class Meta:
        ordering = ["-opened_at"]
        verbose_name = "warning"
        indexes = [models.Index(fields=["monitor", "-opened_at"], name="warning_monitor_open")]
        constraints = [
            models.UniqueConstraint(
                fields=["monitor", "kind"], condition=Q(cleared_at=None), name="one_open_warning"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.monitor}: {self.detail}"

    @property
    def is_open(self) -> bool:
        return self.cleared_at is None


class HeartbeatPing(models.Model):
    """One call of a heartbeat's address (or a ping from caredesk itself): when, and from where.

    The last PINGS_KEPT of each heartbeat are kept, for the question "is it
    really our cron job calling?".
    """

    PINGS_KEPT = 100

    monitor = models.ForeignKey(
        Monitor, on_delete=models.CASCADE, related_name="pings", db_index=False
    )  # the (monitor, at) index serves every query
    at = models.DateTimeField()
    address = models.GenericIPAddressField(null=True, blank=True)
    method = models.CharField(max_length=8, blank=True)
    agent = models.CharField(
        max_length=200, blank=True, help_text="The caller's User-Agent, or what in caredesk pinged."
    )

    class Meta:
        ordering = ["-at", "-id"]
        indexes = [models.Index(fields=["monitor", "at"], name="heartbeat_ping_at")]

    def __str__(self) -> str:
        return f"{self.monitor_id} {self.at:%Y-%m-%d %H:%M:%S} from {self.source}"

    @property
    def source(self) -> str:
        parts = [self.address or "", self.method, self.agent]
        return " ".join(part for part in parts if part) or "unknown"


def _alive_since(now: datetime | None) -> datetime:
    seconds = int(getattr(settings, "CAREDESK_PROBE_ALIVE_SECONDS", 90))
    return (now or clock.now()) - timedelta(seconds=seconds)


class ProbeQuerySet(models.QuerySet["Probe"]):
    def alive(self, now: datetime | None = None) -> "ProbeQuerySet":
        """Probes heard from lately, not stopped and not cut off from the network.

        These are the regions that count toward a quorum: a probe that lost its
        own network can confirm nothing, so it must not hold confirmations up.
        """
        return self.filter(
            stopped_at=None, network_lost_at=None, last_seen_at__gte=_alive_since(now)
        )


class Probe(models.Model):
    """A running (or stopped) probe process, as its last heartbeat described it."""

    name = models.CharField(max_length=200, unique=True, help_text="region@host")
    region = models.CharField(max_length=32)
    version = models.CharField(max_length=40, blank=True)
    remote = models.BooleanField(default=False, help_text="Reports through the API.")
    started_at = models.DateTimeField()
    last_seen_at = models.DateTimeField()
    stopped_at = models.DateTimeField(null=True, blank=True)
    network_lost_at = models.DateTimeField(
        "lost its network at",
        null=True,
        blank=True,
        help_text="Set while the probe reports that (nearly) all its checks fail with "
        "network errors: its failures do not count until it recovers.",
    )
    status = models.JSONField(default=dict, blank=True)

    objects = ProbeQuerySet.as_manager()

    class Meta:
        ordering = ["region", "name"]

    def __str__(self) -> str:
        return self.name

    def is_alive(self, now: datetime | None = None) -> bool:
        return (
            self.stopped_at is None
            and self.network_lost_at is None
            and self.last_seen_at >= _alive_since(now)
        )


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


def new_status_key() -> str:
    return secrets.token_hex(10)  # unguessable until staff choose a word of their own


class StatusPage(models.Model):
    """An organisation's public status page at /status/<key>/: off until staff turn it on.

    It shows the organisation's monitored sites (up or down now, uptime over
    30 and 90 days) and its recent incidents (start and duration), nothing else.
    """

    organisation = models.OneToOneField(
        Organisation, on_delete=models.CASCADE, related_name="status_page", verbose_name="client"
    )
    enabled = models.BooleanField(
        "public", default=False, help_text="Anyone with the address can see the page."
    )
    key = models.SlugField(
        "address",
        max_length=64,
        unique=True,
        default=new_status_key,
        help_text="The page is at /status/<address>/: a word such as harbour-bakery, or the "
        "random default for an address nobody can guess.",
    )
    title = models.CharField(max_length=200, blank=True, help_text="Empty: the client's name.")
    show_incidents = models.BooleanField(
        default=True, help_text="List the last 90 days' incidents (start and duration only)."
    )
    created_at = models.DateTimeField(default=clock.now, editable=False)
    updated_at = models.DateTimeField(default=clock.now, editable=False)

    class Meta:
        ordering = ["organisation__name"]

    def __str__(self) -> str:
        return f"{self.organisation}: /status/{self.key}/"

    def save(self, *args, **kwargs) -> None:
        self.updated_at = clock.now()
        super().save(*args, **kwargs)

    @property
    def heading(self) -> str:
        return self.title or self.organisation.name
