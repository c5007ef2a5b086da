"""What the engine is told to check, and what it reports back. Plain data."""

from __future__ import annotations

import ipaddress
import re
import time
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum

from caredesk.monitoring.state import Health, Policy


class Kind(StrEnum):
    HTTP = "http"
    TLS = "tls"
    TCP = "tcp"
    DNS = "dns"


RECORD_TYPES = ("A", "AAAA", "CNAME", "MX", "TXT", "NS")
# Request headers a monitor may not set: the client needs them as they are
# (one request per connection, a body framed by Content-Length).
RESERVED_HEADERS = frozenset(
    {"host", "content-length", "transfer-encoding", "connection", "te", "upgrade", "trailer"}
)
_TOKEN = re.compile(r"^[!#$%&'*+.^_`|~0-9A-Za-z-]+$")


StatusRanges = tuple[tuple[int, int], ...]
DEFAULT_STATUS: StatusRanges = ((200, 399),)


def parse_status_ranges(text: str) -> StatusRanges:
    """``"200-299, 301, 4xx"`` as ranges; raises ValueError with a message for people."""
    ranges = []
    for raw in text.replace(";", ",").split(","):
        item = raw.strip().lower()
        if not item:
            continue
        try:
            if item.endswith("xx") and len(item) == 3:
                low = int(item[0]) * 100
                ranges.append((low, low + 99))
            elif "-" in item:
                low_text, high_text = item.split("-", 1)
                ranges.append((int(low_text), int(high_text)))
            else:
                ranges.append((int(item), int(item)))
        except ValueError:
            raise ValueError(f"{raw.strip()!r} is not a status code, range or class") from None
    if not ranges:
        raise ValueError("give at least one status code, e.g. 200-399")
    for low, high in ranges:
        if not 100 <= low <= high <= 599:
            raise ValueError(f"{low}-{high} is not a range of HTTP status codes (100-599)")
    return tuple(ranges)


def status_text(ranges: StatusRanges) -> str:
    return ",".join(str(low) if low == high else f"{low}-{high}" for low, high in ranges)


Headers = tuple[tuple[str, str], ...]


def parse_headers(text: str) -> Headers:
    """``"Name: value"`` lines as pairs; raises ValueError with a message for people."""
    headers = []
    for number, raw in enumerate(text.splitlines(), start=1):
        line = raw.strip()
        if not line:
            continue
        name, sep, value = line.partition(":")
        name, value = name.strip(), value.strip()
        if not sep or not _TOKEN.match(name):
            raise ValueError(f"line {number}: write each header as 'Name: value'")
        if name.lower() in RESERVED_HEADERS:
            raise ValueError(f"line {number}: {name} is set by the probe itself")
        if not value.isprintable() or len(value) > 4000:
            raise ValueError(f"line {number}: the value of {name} is not a plain line of text")
        headers.append((name, value))
    if len(headers) > 30:
        raise ValueError("at most 30 headers")
    return tuple(headers)


def parse_nameserver(text: str) -> tuple[str, int]:
    """``"192.0.2.53"``, ``"192.0.2.53:5353"`` or ``"[2001:db8::53]:53"`` as (address, port)."""
    value = text.strip()
    port = 53
    if value.startswith("["):
        address, _, rest = value[1:].partition("]")
        if rest:
            if not rest.startswith(":") or not rest[1:].isdigit():
                raise ValueError(f"{text!r} is not an IP address with an optional :port")
            port = int(rest[1:])
    elif value.count(":") == 1:
        address, _, port_text = value.partition(":")
        if not port_text.isdigit():
            raise ValueError(f"{text!r} is not an IP address with an optional :port")
        port = int(port_text)
    else:
        address = value
    try:
        address = str(ipaddress.ip_address(address))
    except ValueError:
        raise ValueError(f"{text!r} is not an IP address with an optional :port") from None
    if not 1 <= port <= 65535:
        raise ValueError(f"port {port} is not between 1 and 65535")
    return address, port


@dataclass(frozen=True, slots=True)
class MonitorSpec:
    """One monitor as the engine sees it; ``version`` changes when its settings do."""

    id: int
    kind: Kind = Kind.HTTP
    interval: float = 60.0
    timeout: float = 10.0
    url: str = ""  # http
    host: str = ""  # tls, tcp; the record's name for dns
    port: int = 0  # tls, tcp
    method: str = "GET"
    body: str = ""  # POST only
    headers: Headers = ()  # sent to the monitor's own origin only
    auth_user: str = ""  # basic auth, to the monitor's own origin only
    auth_password: str = ""
    expected_status: StatusRanges = DEFAULT_STATUS
    keyword: str = ""
    keyword_absent: bool = False
    max_response_ms: int | None = None
    follow_redirects: bool = True
    max_redirects: int = 5
    record_type: str = "A"  # dns
    expected_values: tuple[str, ...] = ()  # dns: each must be in the answer (normalised)
    nameserver: str = ""  # dns: "address[:port]"; empty: the machine's resolvers
    allow_private: bool = False
    recheck_seconds: float = 10.0
    policy: Policy = field(default_factory=Policy)
    health: Health = field(default_factory=Health)  # where a (re)started probe picks up
    version: str = ""


@dataclass(slots=True)
class Outcome:
    """The result of one check; what a result row stores, plus the engine's own figures."""

    monitor_id: int
    checked_at: datetime
    region: str
    ok: bool
    status_code: int | None = None
    error_kind: str = ""
    error: str = ""
    dns_ms: int | None = None
    connect_ms: int | None = None
    tls_ms: int | None = None
    first_byte_ms: int | None = None
    total_ms: int | None = None
    cert_days: int | None = None
    lag_ms: int = 0  # how late the check started against its schedule
    next_check_at: datetime | None = None  # when this probe means to check again
    # The probe had lost its own network when this result was sent: kept as history,
    # never counted toward confirming anything.
    network_lost: bool = False


class Phases:
    """Per-phase timings of one check, filled in as the check goes.

    ``current`` names the phase under way, so a timeout can say where it hit.
    Phases repeated across redirects add up: a visitor waits for all of them.
    """

    __slots__ = ("_mark", "connect", "current", "dns", "first_byte", "started", "tls")

    def __init__(self) -> None:
        self.started = self._mark = time.perf_counter()
        self.current = "dns"
        self.dns: float | None = None
        self.connect: float | None = None
        self.tls: float | None = None
        self.first_byte: float | None = None

    def begin(self, phase: str) -> None:
        self.current = phase
        self._mark = time.perf_counter()

    def end(self, phase: str) -> None:
        spent = (time.perf_counter() - self._mark) * 1000
        previous = getattr(self, phase)
        setattr(self, phase, spent if previous is None else previous + spent)

    def total_ms(self) -> float:
        return (time.perf_counter() - self.started) * 1000
