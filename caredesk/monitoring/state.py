"""Confirmation: when a run of checks turns a monitor down, or up again. Pure.

One failed check proves little (a lost packet, a busy server, a bad route),
so a monitor goes **down** only after ``Policy.failures`` failed checks in a
row, seen from at least ``Policy.regions`` different regions (one bad network
path between a probe and a site must not page anyone), and comes back **up**
only after ``Policy.recoveries`` good ones. A good check from any region ends
a run of failures; while recovering, failures end the recovery only when as
many regions see them. The database side (:mod:`caredesk.monitoring.incidents`)
turns the events returned here into incidents; each probe engine runs the same
function over its own checks (one region) to decide when to re-check sooner
than the interval.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime
from enum import StrEnum


class State(StrEnum):
    UP = "up"
    DOWN = "down"
    UNKNOWN = "unknown"


class Event(StrEnum):
    SUSPECT = "suspect"  # first failed check: an incident may be starting
    CLEARED = "cleared"  # the failures stopped before confirmation: a blip, no incident
    DOWN = "down"  # confirmed down: the incident is confirmed
    RECOVERING = "recovering"  # first good check while down
    RELAPSE = "relapse"  # a failure broke the run of good checks
    UP = "up"  # recovery confirmed: the incident resolves
    FIRST_UP = "first_up"  # a new monitor's first good check; nothing to resolve


@dataclass(frozen=True, slots=True)
class Policy:
    failures: int = 2
    recoveries: int = 2
    regions: int = 1  # distinct regions whose failures must agree before down


@dataclass(frozen=True, slots=True)
class Health:
    """What the checks so far say about one monitor."""

    state: State = State.UNKNOWN
    since: datetime | None = None  # when ``state`` was confirmed
    fails: int = 0  # failed checks in a row (stops counting once it has done its work)
    oks: int = 0  # good checks in a row (likewise)
    failing_since: datetime | None = None  # first failed check of the current run
    recovering_since: datetime | None = None  # first good check of the current recovery
    fail_regions: tuple[str, ...] = ()  # regions that saw the current run of failures (sorted)

    @property
    def pending(self) -> bool:
        """A change is under way: the next check should come sooner than the interval."""
        if self.state is State.DOWN:
            return self.oks > 0
        return self.fails > 0


@dataclass(frozen=True, slots=True)
class Change:
    """An event and the instants it stands for."""

    event: Event
    at: datetime  # the check that caused it
    since: datetime  # first failed check (down side) or first good check (up side)


def advance(
    health: Health, ok: bool, at: datetime, policy: Policy, region: str = ""
) -> tuple[Health, Change | None]:
    """The health after one more check at ``at`` from ``region``, and the event it causes."""
    if ok:
        return _good(health, at, policy)
    return _bad(health, at, policy, region)


def _good(health: Health, at: datetime, policy: Policy) -> tuple[Health, Change | None]:
    if health.state is State.DOWN:
        oks = health.oks + 1
        since = health.recovering_since or at  # set exactly while oks > 0
        if oks >= policy.recoveries:
            up = Health(State.UP, at, 0, policy.recoveries)
            return up, Change(Event.UP, at, since)
        # From the first good check on, fail_regions collects the regions that still
        # fail: only as many as the quorum can call the recovery off.
        regions = health.fail_regions if health.oks else ()
        recovering = replace(health, oks=oks, recovering_since=since, fail_regions=regions)
        return recovering, (None if health.oks else Change(Event.RECOVERING, at, since))
    oks = min(health.oks + 1, policy.recoveries)
    if health.state is State.UNKNOWN:
        return Health(State.UP, at, 0, oks), Change(Event.FIRST_UP, at, at)
    if health.fails:
        cleared = Health(State.UP, health.since, 0, oks)
        return cleared, Change(Event.CLEARED, at, health.failing_since or at)
    if oks == health.oks:
        return health, None
    return replace(health, oks=oks), None


def _bad(health: Health, at: datetime, policy: Policy, region: str) -> tuple[Health, Change | None]:
    regions = health.fail_regions
    if region not in regions:
        regions = tuple(sorted((*regions, region)))
    if health.state is State.DOWN:
        fails = min(health.fails + 1, policy.failures)
        if health.oks and len(regions) < policy.regions:
            # Recovering, and too few regions still fail to call it off (one bad path).
            return replace(health, fail_regions=regions), None
        if health.oks:
            relapsed = replace(
                health, fails=fails, oks=0, recovering_since=None, fail_regions=regions
            )
            return relapsed, Change(Event.RELAPSE, at, at)
        return (health if fails == health.fails else replace(health, fails=fails)), None
    # Counting stops at the policy's number: from there on only another region can
    # confirm, and a region that keeps failing alone must not grow the counter forever.
    fails = min(health.fails + 1, policy.failures)
    since = health.failing_since or at  # set exactly while fails > 0
    if fails >= policy.failures and len(regions) >= policy.regions:
        down = Health(State.DOWN, at, policy.failures, 0, failing_since=since, fail_regions=regions)
        return down, Change(Event.DOWN, at, since)
    if health.fails and fails == health.fails and regions == health.fail_regions:
        return health, None  # one region failing again, still waiting for another
    suspect = replace(health, fails=fails, oks=0, failing_since=since, fail_regions=regions)
    return suspect, (None if health.fails else Change(Event.SUSPECT, at, since))
