"""A site's WordPress maintenance at a glance for staff: versions, pending updates, scan, log."""

from dataclasses import dataclass, field

from caredesk.clients.models import Site
from caredesk.maintenance.models import (
    SEVERITY_ORDER,
    LogEntry,
    ScanRun,
    SiteMaintenance,
    Snapshot,
    SnapshotItem,
)

LOG_LINES = 8


@dataclass
class Upkeep:
    settings: SiteMaintenance | None
    snapshot: Snapshot | None
    pending: list[SnapshotItem] = field(default_factory=list)
    scan: ScanRun | None = None
    scan_counts: list[tuple[str, int]] = field(default_factory=list)
    log: list[LogEntry] = field(default_factory=list)

    @property
    def connected(self) -> bool:
        return self.snapshot is not None


def site_upkeep(site: Site) -> Upkeep:
    settings = SiteMaintenance.objects.filter(site=site).first()
    snapshot = Snapshot.objects.filter(site=site).first()
    pending = (
        list(snapshot.items.exclude(update_version="").order_by("kind", "name")) if snapshot else []
    )
    scan = ScanRun.objects.filter(site=site, finished_at__isnull=False).first()
    counts: list[tuple[str, int]] = []
    if scan is not None:
        found = list(scan.findings.values_list("severity", flat=True))
        counts = [
            (level, found.count(level)) for level in reversed(SEVERITY_ORDER) if level in found
        ]
    log = list(LogEntry.objects.filter(site=site).select_related("user")[:LOG_LINES])
    return Upkeep(settings, snapshot, pending, scan, counts, log)
