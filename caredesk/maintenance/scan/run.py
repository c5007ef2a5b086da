"""A scan of one site: the latest inventory against the feed, then the outside checks."""

from __future__ import annotations

from caredesk.clients.models import Site
from caredesk.lib import clock

from .. import actions
from ..models import ScanRun, Snapshot
from ..sites import settings_for
from . import checks, vulns


def scan_site(site: Site, *, acting_user=None) -> ScanRun:
    """Scan ``site`` now and store what was found (never raises for what the site does)."""
    started = clock.now()
    settings = settings_for(site)
    snapshot = Snapshot.objects.filter(site=site).prefetch_related("items").first()
    found, done, notes = checks.run_all(site.url, allow_private=settings.allow_private)
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
