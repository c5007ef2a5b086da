"""Comparing two inventories: what was updated, installed or removed in between."""

from __future__ import annotations

from dataclasses import dataclass

from . import versions
from .models import Change, ItemKind, Snapshot

PHP_SLUG = "php"


@dataclass(frozen=True, slots=True)
class Seen:
    kind: str
    slug: str
    name: str
    version: str


@dataclass(frozen=True, slots=True)
class Difference:
    kind: str
    slug: str
    name: str
    change: str
    from_version: str
    to_version: str


def seen_in(snapshot: Snapshot) -> dict[tuple[str, str], Seen]:
    """Everything a snapshot saw, PHP included, keyed by (kind, slug)."""
    seen = {
        (item.kind, item.slug): Seen(item.kind, item.slug, item.name, item.version)
        for item in snapshot.items.all()
    }
    if snapshot.php_version:
        seen[(ItemKind.PHP, PHP_SLUG)] = Seen(ItemKind.PHP, PHP_SLUG, "PHP", snapshot.php_version)
    return seen


def differences(
    before: dict[tuple[str, str], Seen], after: dict[tuple[str, str], Seen]
) -> list[Difference]:
    """What changed from ``before`` to ``after``, in a stable order.

    Core and PHP are compared only when both inventories know their version:
    the REST API cannot see them, and switching a site's connection must not
    log "WordPress removed".
    """
    found = []
    for key in sorted(before.keys() | after.keys()):
        old, new = before.get(key), after.get(key)
        kind = key[0]
        if kind in (ItemKind.CORE, ItemKind.PHP) and (old is None or new is None):
            continue
        if old is None and new is not None:
            found.append(Difference(kind, new.slug, new.name, Change.INSTALLED, "", new.version))
        elif new is None and old is not None:
            found.append(Difference(kind, old.slug, old.name, Change.REMOVED, old.version, ""))
        elif old is not None and new is not None and old.version != new.version:
            if not old.version or not new.version:
                continue  # a version we could not see is no change
            order = versions.compare(new.version, old.version)
            change = Change.DOWNGRADED if order < 0 else Change.UPDATED
            found.append(Difference(kind, new.slug, new.name, change, old.version, new.version))
    return found
