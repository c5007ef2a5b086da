"""A scan of one site: the latest inventory against the feed, then the outside checks."""

from __future__ import annotations

from collections.abc import Callable

from caredesk.clients.models import Site
from caredesk.lib import clock

from .. import actions
from ..models import ScanRun, Snapshot
from ..sites import settings_for
from . import checks, vulns


def scan_site(
    site: Site, *, acting_user=None, report: Callable[[str], None] | None = None
) -> ScanRun:
    """Scan ``site`` now and store what was found (never raises for what the site does).

    ``report`` hears what the scan is doing, a line at a time (the command's progress).
    """
    say = report or (lambda text: None)
    started = clock.now()
    settings = settings_for(site)
    snapshot = Snapshot.objects.filter(site=site).prefetch_related("items").first()
    if snapshot is None:
        say("  versions: no inventory of this site yet")
    else:
        say(f"  versions: the inventory of {snapshot.taken_at:%Y-%m-%d %H:%M} against the feed")
    found, done, notes = checks.run_all(
        site.url, allow_private=settings.allow_private, report=lambda name: say(f"  {name}…")
    )
    if snapshot is None:
        notes.insert(0, "versions: not checked (no inventory of this site yet)")
    else:
        found = vulns.match(snapshot) + found
        done.insert(0, "versions")
    return actions.do_record_scan(
        site,
        found,
        started_at=started,
        snapshot=snapshot,
        checks_done=done,
        notes=notes,
        acting_user=acting_user,
    )
