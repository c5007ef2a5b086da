"""WordPress maintenance facts of a month: updates from → to, what is pending, the scan, backups.

Read from the maintenance log (append-only: every line is an update caredesk
ran, an inventory noticed, or staff logged by hand), the inventories, the
security scans and the backups. A site caredesk has no records for gets
``None``: the report then says nothing was recorded rather than "all clear".
"""

from collections import defaultdict
from datetime import datetime

from caredesk.maintenance import facts as backup_facts
from caredesk.maintenance.models import (
    SEVERITY_ORDER,
    Change,
    Finding,
    ItemKind,
    LogEntry,
    ScanRun,
    Snapshot,
    SnapshotItem,
    Source,
)

VERSION_CHANGES = (Change.UPDATED, Change.DOWNGRADED, Change.INSTALLED, Change.REMOVED)
SHOWN_SEVERITIES = list(reversed(SEVERITY_ORDER))  # critical first


def _iso(moment: datetime | None) -> str | None:
    return moment.isoformat() if moment else None


def _changes(entries: list[LogEntry]) -> list[dict]:
    """One line per item: its first "from" and last "to" of the month, in the order they ran."""
    by_item: dict[tuple[str, str], dict] = {}
    for entry in sorted(entries, key=lambda e: (e.at, e.pk)):
        key = (entry.kind, entry.slug or entry.name)
        line = by_item.get(key)
        if line is None:
            by_item[key] = {
                "kind": entry.kind,
                "slug": entry.slug,
                "name": entry.name,
                "change": entry.change,
                "from": entry.from_version,
                "to": entry.to_version,
                "at": _iso(entry.at),
                "source": entry.source,
                "log_ids": [entry.pk],
            }
            continue
        line["to"] = entry.to_version
        line["at"] = _iso(entry.at)
        line["log_ids"].append(entry.pk)
        # Installed then updated is still "installed"; updated then removed is "removed".
        if entry.change == Change.REMOVED or line["change"] != Change.INSTALLED:
            line["change"] = entry.change
    return sorted(by_item.values(), key=lambda line: (line["kind"], line["name"].lower()))


def _log(site_ids: list[int], start: datetime, end: datetime) -> dict[int, dict]:
    found: dict[int, dict] = defaultdict(lambda: {"versions": [], "work": []})
    entries: dict[int, list[LogEntry]] = defaultdict(list)
    for entry in LogEntry.objects.filter(site_id__in=site_ids, at__gte=start, at__lt=end).order_by(
        "at", "id"
    ):
        if entry.change in VERSION_CHANGES:
            entries[entry.site_id].append(entry)
        else:
            found[entry.site_id]["work"].append(
                {
                    "name": entry.name,
                    "note": entry.note,
                    "at": _iso(entry.at),
                    "by_hand": entry.source == Source.MANUAL,
                    "log_id": entry.pk,
                }
            )
    for site_id, site_entries in entries.items():
        found[site_id]["versions"] = _changes(site_entries)
    return found


def _latest_snapshots(site_ids: list[int], end: datetime) -> dict[int, Snapshot]:
    """Each site's last inventory taken before the month ended."""
    latest: dict[int, Snapshot] = {}
    for snapshot in Snapshot.objects.filter(site_id__in=site_ids, taken_at__lt=end).order_by(
        "site_id", "-taken_at", "-id"
    ):
        latest.setdefault(snapshot.site_id, snapshot)
    return latest


def _pending(snapshots: dict[int, Snapshot]) -> dict[int, list[dict]]:
    pending: dict[int, list[dict]] = defaultdict(list)
    by_snapshot = {snapshot.pk: site_id for site_id, snapshot in snapshots.items()}
    items = (
        SnapshotItem.objects.filter(snapshot_id__in=by_snapshot)
        .exclude(update_version="")
        .order_by("kind", "name")
    )
    for item in items:
        pending[by_snapshot[item.snapshot_id]].append(
            {
                "kind": item.kind,
                "slug": item.slug,
                "name": item.name,
                "version": item.version,
                "available": item.update_version,
            }
        )
    return pending


def _scans(site_ids: list[int], start: datetime, end: datetime) -> dict[int, dict]:
    """The month's scans: the last one's findings by severity, and what was fixed meanwhile."""
    runs: dict[int, list[ScanRun]] = defaultdict(list)
    for run in ScanRun.objects.filter(
        site_id__in=site_ids, started_at__gte=start, started_at__lt=end, finished_at__isnull=False
    ).order_by("started_at", "id"):
        runs[run.site_id].append(run)
    if not runs:
        return {}
    findings: dict[int, list[Finding]] = defaultdict(list)
    for finding in Finding.objects.filter(scan__in=[r for rs in runs.values() for r in rs]):
        findings[finding.scan_id].append(finding)
    result = {}
    for site_id, site_runs in runs.items():
        last = site_runs[-1]
        open_keys = {f.key for f in findings[last.pk]}
        fixed = {}
        for run in site_runs[:-1]:
            for finding in findings[run.pk]:
                if finding.key not in open_keys:
                    fixed[finding.key] = finding
        open_findings = sorted(
            findings[last.pk],
            key=lambda f: (-SEVERITY_ORDER.index(f.severity), -(f.cvss_score or 0), f.title),
        )
        counts = {level: 0 for level in SHOWN_SEVERITIES}
        for finding in open_findings:
            counts[finding.severity] += 1
        result[site_id] = {
            "scans": len(site_runs),
            "last_scan_id": last.pk,
            "last_at": _iso(last.started_at),
            "counts": counts,
            "open": [_finding(f, "open") for f in open_findings],
            "fixed": [_finding(f, "fixed") for f in fixed.values()],
            "notes": last.notes,
        }
    return result


def _finding(finding: Finding, status: str) -> dict:
    return {
        "id": finding.pk,
        "severity": finding.severity,
        "title": finding.title,
        "advice": finding.advice,
        "installed": finding.installed_version,
        "fixed_in": finding.fixed_in,
        "cvss": float(finding.cvss_score) if finding.cvss_score is not None else None,
        "status": status,
    }


def _backups(site_ids: list[int], start: datetime, end: datetime) -> dict[int, dict]:
    """Backups taken in the month (verified or not), failed attempts, and restores."""
    taken = backup_facts.backups_in(site_ids, start, end)
    restores = backup_facts.restores_in(site_ids, start, end)
    result = {}
    for site_id in set(taken) | set(restores):
        made = [b for b in taken.get(site_id, []) if b.stored]
        result[site_id] = {
            "taken": [
                {
                    "id": b.id,
                    "at": _iso(b.taken_at),
                    "trigger": b.trigger,
                    "parts": list(b.parts),
                    "size": b.size,
                    "verified": b.verified,
                    "kept": b.kept,
                }
                for b in made
            ],
            "verified": sum(1 for b in made if b.verified),
            "failed": sum(1 for b in taken.get(site_id, []) if b.failed),
            "restores": [
                {
                    "id": r.id,
                    "at": _iso(r.finished_at or r.requested_at),
                    "ok": r.ok,
                    "to_staging": r.to_staging,
                    "ticket": r.ticket_number,
                }
                for r in restores.get(site_id, [])
            ],
        }
    return result


def collect(site_ids: list[int], start: datetime, end: datetime) -> dict[int, dict]:
    """Each site's maintenance month, or nothing for a site caredesk keeps no records of."""
    log = _log(site_ids, start, end)
    snapshots = _latest_snapshots(site_ids, end)
    pending = _pending(snapshots)
    scans = _scans(site_ids, start, end)
    backups = _backups(site_ids, start, end)
    result = {}
    for site_id in site_ids:
        snapshot = snapshots.get(site_id)
        entries = log.get(site_id, {"versions": [], "work": []})
        known = snapshot or entries["versions"] or entries["work"]
        if not (known or site_id in scans or site_id in backups):
            continue
        versions = entries["versions"]
        result[site_id] = {
            "core_version": snapshot.core_version if snapshot else "",
            "php_version": snapshot.php_version if snapshot else "",
            "inventory_at": _iso(snapshot.taken_at) if snapshot else None,
            "core": [line for line in versions if line["kind"] == ItemKind.CORE],
            "plugins": [line for line in versions if line["kind"] == ItemKind.PLUGIN],
            "themes": [line for line in versions if line["kind"] == ItemKind.THEME],
            "php": [line for line in versions if line["kind"] == ItemKind.PHP],
            "work": entries["work"],
            "pending": pending.get(site_id, []),
            "scan": scans.get(site_id),
            "backups": backups.get(site_id),
        }
    return result
