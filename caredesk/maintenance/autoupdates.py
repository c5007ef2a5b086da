"""Auto-update rules per site: some updates at once after an inventory, the rest monthly.

A site's rules (its maintenance settings, all off by default):

- *minor WordPress releases at once*: core 6.4.2 → 6.4.3 (the same x.y branch);
- *security releases at once*: an item with an open vulnerability finding (in
  the site's latest scan) whose fixed-in version WordPress now offers;
- *everything else in the monthly window*: every other update, once a month,
  from the window's day and hour (caredesk's time zone) on.

The scheduled job (:func:`apply_rules`, task ``apply_auto_updates``) looks at
each site whose rules are on: after each new inventory it requests a run for
what is due at once, and once the month's window has come, one for the rest.
The runs are ordinary update runs (backup, update, health check, roll back).
A site with a run queued or running is left for the next round. An update an
automatic run already failed to apply (rolled back) is not tried again by the
rules: the failure opened a ticket, and a person decides.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime
from zoneinfo import ZoneInfo

from django.conf import settings as django_settings
from django.core.exceptions import ValidationError
from django.db.models import Q

from caredesk.clients.models import Connection, Platform, Site
from caredesk.lib import clock

from . import actions, versions
from .connectors import ItemRef
from .models import Finding, RunState, ScanRun, SiteMaintenance, Snapshot, SnapshotItem, UpdateRun
from .sites import settings_for

logger = logging.getLogger(__name__)

UPDATABLE = (Connection.COMPANION, Connection.WP_CLI_SSH)
AUTO = "auto"  # update runs the rules request have a reason starting with this


@dataclass
class Plan:
    """What the rules want updated on one site now, and why."""

    now: list[SnapshotItem] = field(default_factory=list)
    reasons: list[str] = field(default_factory=list)
    monthly: list[SnapshotItem] = field(default_factory=list)


def branch(version: str) -> tuple[str, ...]:
    """The first two parts of a version as PHP splits it: ``6.4.2`` → ``("6", "4")``."""
    parts = versions.canonicalize(version).split(".")
    return tuple([*parts, "0", "0"][:2])


def is_minor_core(item: SnapshotItem) -> bool:
    """A core release of the same x.y branch, newer than what is installed."""
    return (
        item.kind == "core"
        and bool(item.update_version)
        and versions.compare(item.update_version, item.version) > 0
        and branch(item.update_version) == branch(item.version)
    )


def open_fixes(site: Site) -> dict[tuple[str, str], list[Finding]]:
    """Vulnerability findings of the site's latest scan with a fixed-in version, per item."""
    latest = ScanRun.objects.filter(site=site).first()
    if latest is None:
        return {}
    fixes: dict[tuple[str, str], list[Finding]] = {}
    for finding in latest.findings.filter(category="vulnerability").exclude(fixed_in=""):
        fixes.setdefault((finding.item_kind, finding.item_slug), []).append(finding)
    return fixes


def is_security_fix(item: SnapshotItem, fixes: dict[tuple[str, str], list[Finding]]) -> bool:
    """An open finding says the installed version is vulnerable and the offer fixes it."""
    if not item.update_version:
        return False
    for finding in fixes.get((item.kind, item.slug), []):
        if (
            versions.compare(item.version, finding.fixed_in) < 0
            and versions.compare(item.update_version, finding.fixed_in) >= 0
        ):
            return True
    return False


def window_start(settings: SiteMaintenance, now: datetime) -> datetime:
    """This month's window, in caredesk's time zone."""
    zone = ZoneInfo(django_settings.TIME_ZONE)
    local = now.astimezone(zone)
    return datetime(
        local.year,
        local.month,
        min(max(settings.auto_window_day, 1), 28),
        min(settings.auto_window_hour, 23),
        tzinfo=zone,
    )


def window_due(settings: SiteMaintenance, now: datetime) -> bool:
    start = window_start(settings, now)
    done = settings.auto_window_done_at
    return now >= start and (done is None or done < start)


def plan(
    settings: SiteMaintenance, snapshot: Snapshot, now: datetime, *, new_inventory: bool
) -> Plan:
    """What the rules of ``settings`` ask for, given the site's latest inventory."""
    kinds = ["plugin", "theme"]
    if settings.site.connection == Connection.COMPANION:
        kinds.append("core")  # core's roll back restores a full backup: the plugin's
    waiting = [i for i in snapshot.items.all() if i.update_version and i.kind in kinds]
    result = Plan()
    if new_inventory and (settings.auto_minor_core or settings.auto_security):
        fixes = open_fixes(settings.site) if settings.auto_security else {}
        for item in waiting:
            if settings.auto_minor_core and is_minor_core(item):
                result.now.append(item)
                _add(result.reasons, "minor WordPress release")
            elif settings.auto_security and is_security_fix(item, fixes):
                result.now.append(item)
                _add(result.reasons, "security release")
    if settings.auto_monthly and window_due(settings, now):
        chosen = {(i.kind, i.slug) for i in result.now}
        result.monthly = [i for i in waiting if (i.kind, i.slug) not in chosen]
    return result


def _add(reasons: list[str], reason: str) -> None:
    if reason not in reasons:
        reasons.append(reason)


def _tried_and_failed(site: Site) -> set[tuple[str, str, str]]:
    """(kind, slug, offered version) that automatic runs could not apply."""
    failed = UpdateRun.objects.filter(
        site=site,
        reason__startswith=AUTO,
        state__in=[RunState.FAILED, RunState.ROLLED_BACK],
    )
    return {
        (item["kind"], item["slug"], item.get("offered", ""))
        for run in failed.only("items")
        for item in run.items
    }


def _request(site: Site, items: list[SnapshotItem], reason: str, report) -> UpdateRun | None:
    tried = _tried_and_failed(site)
    fresh = [i for i in items if (i.kind, i.slug, i.update_version) not in tried]
    for item in items:
        if item not in fresh:
            report(
                f"  {item.name} {item.update_version}: an automatic run failed; left to a person"
            )
    if not fresh:
        return None
    try:
        run = actions.do_request_update_run(
            site, items=[ItemRef(i.kind, i.slug) for i in fresh], reason=f"{AUTO}: {reason}"
        )
    except ValidationError as error:
        report(f"  not requested: {' '.join(error.messages)}")
        return None
    # What was offered, so a failure is not tried again for the same version.
    offered = {(i.kind, i.slug): i.update_version for i in fresh}
    run.items = [{**item, "offered": offered[(item["kind"], item["slug"])]} for item in run.items]
    run.save(update_fields=["items"])
    names = ", ".join(f"{i.name} {i.version} → {i.update_version}" for i in fresh)
    report(f"  update run #{run.pk} ({reason}): {names}")
    return run


def candidate_sites() -> Iterable[Site]:
    return (
        Site.objects.filter(is_active=True, platform=Platform.WORDPRESS, connection__in=UPDATABLE)
        .filter(
            Q(maintenance__auto_minor_core=True)
            | Q(maintenance__auto_security=True)
            | Q(maintenance__auto_monthly=True)
        )
        .select_related("maintenance", "organisation")
        .order_by("id")
    )


def apply_site(site: Site, *, report: Callable[[str], None] | None = None) -> list[UpdateRun]:
    """Apply one site's rules now; the runs requested."""
    say = report or (lambda text: None)
    settings = settings_for(site)
    snapshot = Snapshot.objects.filter(site=site).prefetch_related("items").first()
    if snapshot is None:
        return []
    if UpdateRun.objects.filter(site=site, state__in=[RunState.QUEUED, RunState.RUNNING]).exists():
        say(f"{site}: an update run is queued or running; the rules wait for it")
        return []
    now = clock.now()
    new_inventory = settings.auto_checked_snapshot_id != snapshot.pk
    wanted = plan(settings, snapshot, now, new_inventory=new_inventory)
    items: list[SnapshotItem] = []
    reasons: list[str] = []
    # Claimed with conditional updates, so two workers never request the same runs.
    if new_inventory:
        claimed = SiteMaintenance.objects.filter(
            pk=settings.pk, auto_checked_snapshot=settings.auto_checked_snapshot_id
        ).update(auto_checked_snapshot=snapshot)
        if claimed != 1:
            return []
        items += wanted.now
        reasons += wanted.reasons
    if settings.auto_monthly and window_due(settings, now):
        claimed = SiteMaintenance.objects.filter(
            pk=settings.pk, auto_window_done_at=settings.auto_window_done_at
        ).update(auto_window_done_at=now)
        if claimed == 1 and wanted.monthly:
            items += wanted.monthly
            reasons.append("monthly window")
    if not items:
        return []
    # One run for all: two runs on one site at once would back up and update over each other.
    say(f"{site} ({site.url}):")
    run = _request(site, items, ", ".join(reasons), say)
    return [run] if run is not None else []


def apply_rules(
    *, sites: Iterable[Site] | None = None, report: Callable[[str], None] | None = None
) -> list[UpdateRun]:
    """Apply the rules of every site that has some on (or of ``sites``)."""
    requested: list[UpdateRun] = []
    for site in sites if sites is not None else candidate_sites():
        try:
            requested += apply_site(site, report=report)
        except Exception:
            # One site's oddity must not stop the others' updates.
            logger.exception("auto-update rules of site %s failed", site.pk)
    return requested
