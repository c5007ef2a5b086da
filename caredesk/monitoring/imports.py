"""Bring monitors in from CSV (``caredesk monitors import sites.csv``) or JSON rows (the API).

Same rules as the other imports (docs/importing.md): the whole file is
checked first, every bad row is reported by its line number (a JSON row by
its position), and nothing is written until the file is clean. A row matches
an existing monitor of the same site, kind and target (a site's default HTTP
monitor included; a DNS record by name and type; a heartbeat by key, else
by name), so importing a file twice changes nothing.
"""

from __future__ import annotations

import csv
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from urllib.parse import urlsplit

from django.core.exceptions import ValidationError
from django.db import transaction

from caredesk.clients.models import Site
from caredesk.lib.csvimport import MAX_ROWS, ImportReport, RowInvalid, decode, messages, rows

from .engine import records
from .models import Kind, Method, Monitor, RecordType

REQUIRED = ("site",)  # and url, except for heartbeats
INTEGERS = (
    "interval",
    "timeout",
    "grace",
    "max_response_ms",
    "tls_min_days",
    "failures_to_down",
    "recoveries_to_up",
    "quorum",
)
FLAGS = ("keyword_absent", "follow_redirects", "allow_private", "enabled")
TEXTS = (
    "name",
    "key",
    "expected_status",
    "keyword",
    "body",
    "headers",
    "auth_user",
    "auth_password",
    "expected_values",
    "nameserver",
)
OPTIONAL = (
    "url",
    "organisation",
    "kind",
    "method",
    "record_type",
    *TEXTS,
    *INTEGERS,
    *FLAGS,
)
COLUMNS = REQUIRED + OPTIONAL
FIELD_NAMES = {
    "interval": "interval_seconds",
    "timeout": "timeout_seconds",
    "grace": "grace_seconds",
    "headers": "request_headers",
}
NEW_HEARTBEAT_INTERVAL = 86400  # a daily job, unless the row says otherwise


@dataclass
class Planned:
    monitor: Monitor
    created: bool
    changed: bool


def _text(row: dict[str, str], name: str) -> str:
    return (row.get(name) or "").strip()


def _site(row: dict[str, str]) -> Site:
    wanted = _text(row, "site")
    if not wanted:
        raise RowInvalid("site is required")
    sites = Site.objects.all()
    if _text(row, "organisation"):
        sites = sites.filter(organisation__name__iexact=_text(row, "organisation"))
    if wanted.isdigit():
        found = list(sites.filter(pk=int(wanted))[:2])
    else:
        found = list(sites.filter(name__iexact=wanted)[:2])
    if not found:
        raise RowInvalid(f"site {wanted!r} does not exist (import sites first)")
    if len(found) > 1:
        raise RowInvalid(f"several sites are called {wanted!r}; use the site id or organisation")
    return found[0]


def _target(kind: str, raw: str, row: dict[str, str]) -> dict:
    if kind == Kind.HEARTBEAT:
        # Pushed, so no address of its own: known by its key, else by its name.
        if _text(row, "key"):
            return {"key": _text(row, "key")}
        if _text(row, "name"):
            return {"name": _text(row, "name")}
        raise RowInvalid("a heartbeat row needs a name or a key")
    if not raw:
        raise RowInvalid("url is required")
    if kind == Kind.HTTP:
        return {"url": raw}
    if kind == Kind.DNS:
        return _record(raw, row)
    # A TLS or TCP target as host:port, or a URL (its host, and its port or 443).
    parts = urlsplit(raw if "://" in raw else f"//{raw}")
    try:
        port = parts.port
    except ValueError:
        raise RowInvalid(f"bad port in {raw!r}") from None
    if not parts.hostname:
        raise RowInvalid(f"no host in {raw!r}")
    if kind == Kind.TLS:
        port = port or 443
    elif port is None:
        raise RowInvalid(f"a TCP monitor needs host:port, not {raw!r}")
    return {"host": parts.hostname.lower(), "port": port}


def _record(raw: str, row: dict[str, str]) -> dict:
    # A DNS row's url is the record's name (a URL's host will do).
    name = urlsplit(raw).hostname if "://" in raw else raw
    try:
        host = records.check_name(name or "")
    except ValueError as error:
        raise RowInvalid(str(error)) from None
    record_type = (_text(row, "record_type") or "A").upper()
    if record_type not in RecordType.values:
        raise RowInvalid(f"record_type must be one of {', '.join(RecordType.values)}")
    return {"host": host, "record_type": record_type}


def _flag(raw: str, name: str) -> bool:
    value = raw.lower()
    if value in {"1", "yes", "true", "y"}:
        return True
    if value in {"0", "no", "false", "n"}:
        return False
    raise RowInvalid(f"{name} must be yes or no, not {raw!r}")


def _settings(row: dict[str, str]) -> dict:
    values: dict = {}
    for name in INTEGERS:
        raw = _text(row, name)
        if raw:
            try:
                values[FIELD_NAMES.get(name, name)] = int(raw)
            except ValueError:
                raise RowInvalid(f"{name} must be a whole number, not {raw!r}") from None
    for name in FLAGS:
        if _text(row, name):
            values[name] = _flag(_text(row, name), name)
    for name in TEXTS:
        if _text(row, name):
            values[FIELD_NAMES.get(name, name)] = _text(row, name)
    method = _text(row, "method").upper()
    if method:
        if method not in Method.values:
            raise RowInvalid(f"method must be one of {', '.join(Method.values)}")
        values["method"] = method
    return values


def _monitor_row(row: dict[str, str]) -> Planned:
    site = _site(row)
    kind = (_text(row, "kind") or Kind.HTTP).lower()
    if kind not in Kind.values:
        raise RowInvalid(f"kind must be one of {', '.join(Kind.values)}")
    target = _target(kind, _text(row, "url"), row)
    monitor = Monitor.objects.filter(site=site, kind=kind, **target).first()
    created = monitor is None
    monitor = monitor or Monitor(site=site, kind=kind, **target)
    if created and kind == Kind.HEARTBEAT:
        monitor.interval_seconds = NEW_HEARTBEAT_INTERVAL
    changed = created
    for name, value in _settings(row).items():
        if getattr(monitor, name) != value:
            setattr(monitor, name, value)
            changed = True
    try:
        monitor.full_clean()
    except ValidationError as error:
        raise RowInvalid(messages(error)) from None
    return Planned(monitor, created, changed)


def _key(planned: Planned) -> tuple:
    monitor = planned.monitor
    if monitor.kind == Kind.HEARTBEAT:
        return (monitor.site_id, monitor.kind, monitor.key or monitor.name)
    return (
        monitor.site_id,
        monitor.kind,
        monitor.url,
        monitor.host,
        monitor.port,
        monitor.record_type if monitor.kind == Kind.DNS else "",
    )


def import_monitors(data: bytes, *, dry_run: bool) -> ImportReport:
    """Check the whole CSV file, then (unless a dry run, and only if clean) write it at once."""
    report = ImportReport(dry_run=dry_run, noun="monitor")
    try:
        _plan(rows(decode(data), REQUIRED, OPTIONAL), report, "line")
    except (RowInvalid, csv.Error) as error:
        report.errors.append((0, str(error)))
    return report


def import_rows(items: list, *, dry_run: bool) -> ImportReport:
    """The same for rows given as JSON objects (the API); errors name the row by position."""
    report = ImportReport(dry_run=dry_run, noun="monitor")
    _plan(_json_rows(items, report), report, "row")
    return report


def _json_rows(items: list, report: ImportReport) -> Iterator[tuple[int, dict[str, str]]]:
    for number, item in enumerate(items, start=1):
        try:
            yield number, _json_row(item)
        except RowInvalid as error:
            report.rows += 1  # counted here: it never reaches the planner
            report.errors.append((number, str(error)))


def _json_row(item: object) -> dict[str, str]:
    if not isinstance(item, dict):
        raise RowInvalid("a row must be an object of column: value")
    unknown = sorted(str(name) for name in item if name not in COLUMNS)
    if unknown:
        raise RowInvalid(f"unknown field(s): {', '.join(unknown)}; known: {', '.join(COLUMNS)}")
    return {name: _as_text(name, value) for name, value in item.items()}


def _as_text(name: str, value: object) -> str:
    """A JSON value as the CSV column would hold it."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, int | float | str):
        return str(value)
    if name == "headers" and isinstance(value, dict):
        return "\n".join(f"{key}: {item}" for key, item in value.items())
    if name in ("headers", "expected_values") and isinstance(value, list):
        return "\n".join(str(item) for item in value)
    raise RowInvalid(f"{name} must be text, a number or yes/no")


def _plan(numbered: Iterable[tuple[int, dict[str, str]]], report: ImportReport, unit: str) -> None:
    """Check every row; write them all at once only if every one is good (and not a dry run)."""
    planned: list[Planned] = []
    seen: dict[tuple, int] = {}
    for number, row in numbered:
        report.rows += 1
        if report.rows > MAX_ROWS:
            report.errors.append((number, f"more than {MAX_ROWS} rows; split the file"))
            break
        try:
            item = _monitor_row(row)
        except RowInvalid as error:
            report.errors.append((number, str(error)))
            continue
        if _key(item) in seen:
            report.errors.append((number, f"duplicate of {unit} {seen[_key(item)]}"))
            continue
        seen[_key(item)] = number
        planned.append(item)
    if report.errors:
        return
    report.created = sum(1 for item in planned if item.created)
    report.updated = sum(1 for item in planned if item.changed and not item.created)
    report.unchanged = sum(1 for item in planned if not item.changed)
    if not report.dry_run:
        _save(planned)


@transaction.atomic
def _save(planned: list[Planned]) -> None:
    for item in planned:
        if item.changed:
            item.monitor.save()
