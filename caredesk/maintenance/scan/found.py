"""What a check found, before it is stored as a Finding."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal


@dataclass(frozen=True)
class Found:
    key: str
    category: str  # vulnerability, tls, headers, exposure, listing, enumeration, xmlrpc, disclosure
    severity: str  # info, low, medium, high, critical
    title: str
    detail: str = ""
    advice: str = ""
    item_kind: str = ""
    item_slug: str = ""
    installed_version: str = ""
    fixed_in: str = ""
    cvss_score: Decimal | None = None
    vulnerability_id: int | None = None


def severity_of(score: Decimal | None, rating: str = "") -> str:
    """CVSS v3 bands; the feed's own rating when there is no score; medium when neither."""
    if score is not None:
        if score >= 9:
            return "critical"
        if score >= 7:
            return "high"
        if score >= 4:
            return "medium"
        return "low" if score > 0 else "info"
    rating = rating.lower()
    return rating if rating in ("low", "medium", "high", "critical") else "medium"
