"""Each process keeps the SLA set-ups it has read: priorities, targets, calendars.

Tickets are opened and answered far more often than staff change a policy, and
reading a policy's priorities and targets again costs two queries a ticket. What
is kept is keyed by the policy's ``revision``, which every saved or deleted
policy, priority, target or calendar changes in its own transaction
(``signals.py``): a caller that has just read the policy row, as every ticket
change does, knows without a query whether what is kept is current.
"""

from dataclasses import dataclass

from .clocks import Target as TargetSpec
from .models import Priority, SlaPolicy, Target


@dataclass(frozen=True)
class Setup:
    """One revision of a policy, ready for the clock engine. Read-only: shared by tickets."""

    revision: str
    priorities: tuple[Priority, ...]  # most urgent first
    targets: dict[int, tuple[tuple[Target, TargetSpec], ...]]  # by priority id, by kind


_setups: dict[int, Setup] = {}


def setup(policy: SlaPolicy) -> Setup:
    """The set-up of ``policy`` as of the revision on the row the caller read."""
    kept = _setups.get(policy.pk)
    if kept is None or kept.revision != policy.revision:
        kept = _setups[policy.pk] = _load(policy)
    return kept


def forget() -> None:
    _setups.clear()


def _load(policy: SlaPolicy) -> Setup:
    priorities = tuple(Priority.objects.filter(policy_id=policy.pk))
    by_pk = {priority.pk: priority for priority in priorities}
    targets: dict[int, list[tuple[Target, TargetSpec]]] = {pk: [] for pk in by_pk}
    found = Target.objects.filter(priority__policy_id=policy.pk).select_related("calendar")
    for target in found.order_by("priority_id", "kind"):
        target.priority = by_pk[target.priority_id]
        targets[target.priority_id].append((target, target.spec(policy)))
    return Setup(policy.revision, priorities, {pk: tuple(items) for pk, items in targets.items()})
