"""The allowance ledger: append rows until it says what the time entries say.

Each window (a billing period, or two pooled) is credited its allowance,
debited every minute counted against it (included and overage time), and at
its close the unused balance expires: it never rolls over. Rows are never
changed; when an entry is edited or deleted, or periods are pooled, a
correcting row is appended for the difference, so the ledger converges on the
classification and keeps its history.
"""

from collections import defaultdict
from datetime import date

from django.db.models import Sum

from caredesk.lib import clock

from . import rules
from .models import LedgerEntry, LedgerKind, TimeEntry
from .periods import local_today
from .usage import Usage

Key = tuple[str, int | None]
Window = tuple[int, date, date]


def wanted(usage: Usage, today: date) -> dict[Key, int]:
    """The balance movements the window should show by ``today``."""
    allowance = usage.allowance
    if allowance is None:
        return {}
    movements: dict[Key, int] = {(LedgerKind.CREDIT, None): allowance}
    counted = 0
    for row in usage.rows:
        for part in usage.parts_by_entry.get(row.id, ()):
            if part.kind in (rules.Kind.INCLUDED, rules.Kind.OVERAGE):
                movements[(LedgerKind.DEBIT, row.id)] = (
                    movements.get((LedgerKind.DEBIT, row.id), 0) - part.minutes
                )
                counted += part.minutes
    if today >= usage.period.window_end:
        movements[(LedgerKind.EXPIRE, None)] = -max(0, allowance - counted)
    return movements


def _existing(windows: list[Window]) -> dict[Window, dict[Key, int]]:
    if not windows:
        return {}
    org_ids = {w[0] for w in windows}
    starts = {w[1] for w in windows}
    sums = (
        LedgerEntry.objects.filter(organisation_id__in=org_ids, window_start__in=starts)
        .values_list("organisation_id", "window_start", "window_end", "kind", "entry_ref")
        .annotate(total=Sum("minutes"))
        .order_by()
    )
    found: dict[Window, dict[Key, int]] = defaultdict(dict)
    for org_id, start, end, kind, ref, total in sums:
        found[(org_id, start, end)][(kind, ref)] = total
    return found


def reconcile(usages: list[Usage], today: date | None = None) -> int:
    """Append what each usage's window is missing; returns the rows written."""
    today = today or local_today()
    targets = {
        (u.period.organisation_id, u.period.window_start, u.period.window_end): (
            u,
            wanted(u, today),
        )
        for u in usages
    }
    have = _existing(list(targets))
    rows = []
    for window, (usage, want) in targets.items():
        labels = {row.id: row for row in usage.rows}
        rows += _corrections(window, want, have.get(window, {}), labels)
    LedgerEntry.objects.bulk_create(rows, batch_size=2000)
    return len(rows)


def retire(organisation_id: int, start: date, end: date, keep: list[Window], note: str) -> int:
    """Reverse windows of a client touching [start, end) that no longer exist (pooling changed)."""
    windows = set(
        LedgerEntry.objects.filter(
            organisation_id=organisation_id, window_start__lt=end, window_end__gt=start
        )
        .values_list("organisation_id", "window_start", "window_end")
        .distinct()
    )
    stale = [w for w in windows if w not in keep]
    have = _existing(stale)
    refs = {ref for window in stale for (_, ref) in have.get(window, {}) if ref}
    alive = set(TimeEntry.objects.filter(pk__in=refs).values_list("pk", flat=True))
    rows = []
    for window in stale:
        for (kind, ref), total in have.get(window, {}).items():
            if total:
                rows.append(_row(window, kind, ref, -total, note, link=ref in alive))
    LedgerEntry.objects.bulk_create(rows)
    return len(rows)


def _corrections(window: Window, want: dict[Key, int], have: dict[Key, int], labels) -> list:
    rows = []
    for key in sorted(set(want) | set(have), key=_order):
        delta = want.get(key, 0) - have.get(key, 0)
        if delta:
            note = _note(key, have, labels)
            rows.append(_row(window, key[0], key[1], delta, note, link=key[1] in labels))
    return rows


def _order(key: Key) -> tuple[int, int]:
    rank = {LedgerKind.CREDIT: 0, LedgerKind.DEBIT: 1, LedgerKind.EXPIRE: 2}
    return rank.get(key[0], 3), key[1] or 0


def _note(key: Key, have: dict[Key, int], labels) -> str:
    kind, ref = key
    correction = " (correction)" if key in have else ""
    if kind == LedgerKind.DEBIT:
        row = labels.get(ref)
        if row is None:
            return f"Time entry {ref} deleted or moved"
        ticket = f"#{row.ticket_number}" if row.ticket_number else "ticket"
        what = row.category_name or "work"
        return f"{ticket} {what}, {row.work_date:%d %b %Y}, {row.staff_name}{correction}"
    if kind == LedgerKind.CREDIT:
        return f"Allowance for the period{correction}"
    return f"Unused hours expired at the close{correction}"


def _row(
    window: Window, kind: str, ref: int | None, minutes: int, note: str, *, link: bool
) -> LedgerEntry:
    org_id, start, end = window
    return LedgerEntry(
        organisation_id=org_id,
        window_start=start,
        window_end=end,
        kind=kind,
        minutes=minutes,
        entry_ref=ref,
        # A deleted entry keeps its number in entry_ref; only live ones are linked.
        time_entry_id=ref if link else None,
        note=note[:300],
        at=clock.now(),
    )


def balance(organisation_id: int, window_start: date) -> int:
    """Minutes left in a window by the ledger (negative: overage)."""
    total = LedgerEntry.objects.filter(
        organisation_id=organisation_id, window_start=window_start
    ).aggregate(total=Sum("minutes"))["total"]
    return total or 0
