"""Installed versions against the imported vulnerability feed."""

from __future__ import annotations

from collections import defaultdict

from .. import versions
from ..models import AffectedSoftware, Snapshot
from .found import Found, severity_of


def affected(version: str, ranges: list[dict]) -> bool:
    """Whether ``version`` falls in any of the feed's ranges (PHP version ordering)."""
    for bounds in ranges:
        if versions.in_range(
            version,
            low=bounds.get("from"),
            low_inclusive=bool(bounds.get("from_inclusive", True)),
            high=bounds.get("to"),
            high_inclusive=bool(bounds.get("to_inclusive", True)),
        ):
            return True
    return False


def fixed_in(version: str, patched: list[str]) -> str:
    """The lowest patched version above ``version`` (what to update to), or ""."""
    newer = [p for p in patched if versions.compare(p, version) > 0]
    if not newer:
        return ""
    best = newer[0]
    for candidate in newer[1:]:
        if versions.compare(candidate, best) < 0:
            best = candidate
    return best


def match(snapshot: Snapshot) -> list[Found]:
    """A finding for every installed item whose version a feed record covers."""
    installed = {(i.kind, i.slug): i for i in snapshot.items.all() if i.version}
    if not installed:
        return []
    candidates = defaultdict(list)
    rows = AffectedSoftware.objects.filter(slug__in={slug for _, slug in installed}).select_related(
        "vulnerability"
    )
    for row in rows:
        candidates[(row.kind, row.slug)].append(row)
    found = []
    for key, item in sorted(installed.items()):
        for row in candidates.get(key, []):
            if not affected(item.version, row.ranges):
                continue
            vulnerability = row.vulnerability
            fix = fixed_in(item.version, row.patched_versions)
            advice = row.remediation or (
                f"Update {item.name} to {fix} or later."
                if fix
                else "No fix is known yet: "
                "consider deactivating or replacing it until one is released."
            )
            cve = f" ({vulnerability.cve})" if vulnerability.cve else ""
            found.append(
                Found(
                    key=f"vuln:{vulnerability.feed_id}:{item.kind}:{item.slug}",
                    category="vulnerability",
                    severity=severity_of(vulnerability.cvss_score, vulnerability.cvss_rating),
                    title=vulnerability.title[:480] + cve,
                    detail=f"{item.name} {item.version} is affected.",
                    advice=advice,
                    item_kind=item.kind,
                    item_slug=item.slug,
                    installed_version=item.version,
                    fixed_in=fix,
                    cvss_score=vulnerability.cvss_score,
                    vulnerability_id=vulnerability.pk,
                )
            )
    return found
