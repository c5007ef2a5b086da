"""Import a vulnerability feed file in the Wordfence Intelligence format.

The file is one JSON object, record id → record::

    {"<uuid>": {"id": "<uuid>", "title": "...", "software": [{"type": "plugin",
     "slug": "contact-form-7", "name": "...", "affected_versions": {"* - 5.3.1":
     {"from_version": "*", "from_inclusive": true, "to_version": "5.3.1",
     "to_inclusive": true}}, "patched": true, "patched_versions": ["5.3.2"],
     "remediation": "Update to version 5.3.2, or a newer patched version"}],
     "informational": false, "references": [...], "cvss": {"vector": "...",
     "score": 10.0, "rating": "Critical"}, "cve": "CVE-2020-35489",
     "published": "2020-12-17 00:00:00", "updated": "..."}}

A record that does not fit is skipped and counted, never half-stored; one
bad record does not stop the rest. Importing the same feed twice gives the
same rows (records are replaced by id).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import Decimal, InvalidOperation
from typing import Any

from django.db import transaction

from ..models import AffectedSoftware, Vulnerability

KINDS = {"plugin": "plugin", "theme": "theme", "core": "core"}
BATCH = 1000


class FeedError(Exception):
    """The file is not a feed at all (not JSON, not an object of records)."""


@dataclass
class ImportReport:
    imported: int = 0
    skipped: list[str] = field(default_factory=list)  # "id: reason"

    def summary(self) -> str:
        text = f"{self.imported} vulnerabilities imported"
        if self.skipped:
            text += f", {len(self.skipped)} records skipped"
        return text


def parse_time(value: Any) -> datetime | None:
    if not isinstance(value, str) or not value.strip():
        return None
    try:
        moment = datetime.fromisoformat(value.strip().replace(" ", "T").replace("Z", "+00:00"))
    except ValueError:
        return None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def _text(record: dict, name: str, limit: int) -> str:
    value = record.get(name)
    return value.strip()[:limit] if isinstance(value, str) else ""


def _ranges(affected: Any) -> list[dict[str, Any]]:
    if not isinstance(affected, dict) or not affected:
        raise ValueError("affected_versions must be a non-empty object")
    ranges = []
    for bounds in affected.values():
        if not isinstance(bounds, dict):
            raise ValueError("an affected range is not an object")
        low, high = bounds.get("from_version"), bounds.get("to_version")
        if not isinstance(low, str) or not isinstance(high, str) or len(low + high) > 128:
            raise ValueError("a range needs from_version and to_version strings")
        ranges.append(
            {
                "from": low.strip(),
                "from_inclusive": bounds.get("from_inclusive") is not False,
                "to": high.strip(),
                "to_inclusive": bounds.get("to_inclusive") is not False,
            }
        )
    return ranges


def _software(entry: Any) -> AffectedSoftware | None:
    if not isinstance(entry, dict):
        raise ValueError("a software entry is not an object")
    kind = KINDS.get(entry.get("type"))
    if kind is None:
        return None  # other kinds of software (none today) are not installed on sites
    slug = entry.get("slug")
    if not isinstance(slug, str) or not slug.strip() or len(slug) > 200:
        raise ValueError("a software entry has no slug")
    patched = entry.get("patched_versions") or []
    if not isinstance(patched, list) or not all(isinstance(v, str) for v in patched):
        raise ValueError("patched_versions must be a list of strings")
    return AffectedSoftware(
        kind=kind,
        slug="wordpress" if kind == "core" else slug.strip(),
        name=_text(entry, "name", 300),
        ranges=_ranges(entry.get("affected_versions")),
        patched_versions=[v.strip()[:64] for v in patched][:50],
        remediation=_text(entry, "remediation", 500),
    )


def _cvss(record: dict) -> tuple[Decimal | None, str, str]:
    cvss = record.get("cvss")
    if not isinstance(cvss, dict):
        return None, "", ""
    score = cvss.get("score")
    try:
        value = Decimal(str(score)).quantize(Decimal("0.1")) if score is not None else None
    except InvalidOperation:
        value = None
    if value is not None and not (Decimal(0) <= value <= Decimal(10)):
        value = None
    return value, _text(cvss, "rating", 20), _text(cvss, "vector", 200)


def parse_record(key: str, record: Any) -> tuple[Vulnerability, list[AffectedSoftware]]:
    """One record as unsaved rows; raises ValueError saying what is wrong."""
    if not isinstance(record, dict):
        raise ValueError("not an object")
    feed_id = record.get("id", key)
    if not isinstance(feed_id, str) or not feed_id.strip() or len(feed_id) > 64:
        raise ValueError("no id")
    title = _text(record, "title", 500)
    if not title:
        raise ValueError("no title")
    software_list = record.get("software")
    if not isinstance(software_list, list):
        raise ValueError("software must be a list")
    software = [s for s in (_software(entry) for entry in software_list) if s is not None]
    score, rating, vector = _cvss(record)
    references = record.get("references") or []
    vulnerability = Vulnerability(
        feed_id=feed_id.strip(),
        title=title,
        cve=_text(record, "cve", 30),
        cvss_score=score,
        cvss_rating=rating,
        cvss_vector=vector,
        informational=record.get("informational") is True,
        references=[r[:500] for r in references if isinstance(r, str)][:20]
        if isinstance(references, list)
        else [],
        published=parse_time(record.get("published")),
        updated=parse_time(record.get("updated")),
    )
    return vulnerability, software


def load(data: bytes) -> dict[str, Any]:
    try:
        records = json.loads(data)
    except (ValueError, RecursionError) as error:
        raise FeedError(f"not a JSON file: {error}") from None
    if not isinstance(records, dict):
        raise FeedError("a feed is one JSON object of records keyed by id")
    return records


def import_feed(data: bytes, *, progress: Callable[[int, int], None] | None = None) -> ImportReport:
    """Store every good record of the feed, replacing earlier copies of the same ids.

    ``progress(stored, total)`` is called after each batch (the command prints it).
    """
    report = ImportReport()
    parsed: list[tuple[Vulnerability, list[AffectedSoftware]]] = []
    for key, record in load(data).items():
        try:
            parsed.append(parse_record(str(key), record))
        except ValueError as error:
            report.skipped.append(f"{str(key)[:64]}: {error}")
    for start in range(0, len(parsed), BATCH):
        _store(parsed[start : start + BATCH])
        if progress is not None:
            progress(min(start + BATCH, len(parsed)), len(parsed))
    report.imported = len(parsed)
    return report


@transaction.atomic
def _store(batch: list[tuple[Vulnerability, list[AffectedSoftware]]]) -> None:
    Vulnerability.objects.filter(feed_id__in=[v.feed_id for v, _ in batch]).delete()
    saved = Vulnerability.objects.bulk_create([v for v, _ in batch])
    rows = []
    for vulnerability, (_, software) in zip(saved, batch, strict=True):
        for entry in software:
            entry.vulnerability = vulnerability
            rows.append(entry)
    AffectedSoftware.objects.bulk_create(rows)
