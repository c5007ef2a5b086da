"""Bring monitors in from a CSV file (``caredesk monitors import sites.csv``).

Same rules as the other imports (docs/importing.md): the whole file is
checked first, every bad row is reported by its line number, and nothing is
written until the file is clean. A row matches an existing monitor of the
same site, kind and target (a site's default HTTP monitor included), so
importing a file twice changes nothing.
"""

from __future__ import annotations

import csv
from dataclasses import dataclass
from urllib.parse import urlsplit

from django.core.exceptions import ValidationError
from django.db import transaction

from caredesk.clients.models import Site
from caredesk.lib.csvimport import MAX_ROWS, ImportReport, RowInvalid, decode, messages, rows

from .models import Kind, Method, Monitor

REQUIRED = ("url", "site")
INTEGERS = (
    "interval",
    "timeout",
    "max_response_ms",
    "tls_min_days",
    "failures_to_down",
    "recoveries_to_up",
    "quorum",
)
FLAGS = ("keyword_absent", "follow_redirects", "allow_private", "enabled")
OPTIONAL = (
    "organisation",
    "kind",
    "name",
    "method",
    "expected_status",
    "keyword",
    *INTEGERS,
    *FLAGS,
)
FIELD_NAMES = {"interval": "interval_seconds", "timeout": "timeout_seconds"}


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


def _target(kind: str, raw: str) -> dict:
    if not raw:
        raise RowInvalid("url is required")
    if kind == Kind.HTTP:
        return {"url": raw}
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
    for name in ("name", "expected_status", "keyword"):
        if _text(row, name):
            values[name] = _text(row, name)
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
    target = _target(kind, _text(row, "url"))
    monitor = Monitor.objects.filter(site=site, kind=kind, **target).first()
    created = monitor is None
    monitor = monitor or Monitor(site=site, kind=kind, **target)
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
    return (monitor.site_id, monitor.kind, monitor.url, monitor.host, monitor.port)


def import_monitors(data: bytes, *, dry_run: bool) -> ImportReport:
    """Check the whole file, then (unless a dry run, and only if clean) write it at once."""
    report = ImportReport(dry_run=dry_run, noun="monitor")
    planned: list[Planned] = []
    seen: dict[tuple, int] = {}
    try:
        for line, row in rows(decode(data), REQUIRED, OPTIONAL):
            report.rows += 1
            if report.rows > MAX_ROWS:
                report.errors.append((line, f"more than {MAX_ROWS} rows; split the file"))
                break
            try:
                item = _monitor_row(row)
            except RowInvalid as error:
                report.errors.append((line, str(error)))
                continue
            if _key(item) in seen:
                report.errors.append((line, f"duplicate of line {seen[_key(item)]}"))
                continue
            seen[_key(item)] = line
            planned.append(item)
    except (RowInvalid, csv.Error) as error:
        report.errors.append((0, str(error)))
    if report.errors:
        return report
    report.created = sum(1 for item in planned if item.created)
    report.updated = sum(1 for item in planned if item.changed and not item.created)
    report.unchanged = sum(1 for item in planned if not item.changed)
    if not dry_run:
        _save(planned)
    return report


@transaction.atomic
def _save(planned: list[Planned]) -> None:
    for item in planned:
        if item.changed:
            item.monitor.save()
