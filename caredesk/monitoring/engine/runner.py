"""The probe engine: keeps every monitor checked on time, within a fixed budget.

Five coroutines share one event loop:

- the **dispatcher** pops due monitors off the heap and starts each check as
  soon as one of ``concurrency`` slots is free;
- each **check** runs under its own timeout, then plans its monitor's next
  check (sooner while a change is being confirmed) and queues its result;
- the **writer** hands queued results to the store in batches, keeping them
  when the store is away;
- the **reloader** asks the store for changed monitors every few seconds,
  and for monitors another region asks to have checked at once (it saw a
  failure, or a recovery, that needs confirming);
- **heartbeats** and a once-a-minute summary line report on the probe.

Every result also goes past a :class:`~.netwatch.NetworkWatch`: when nearly
every check fails with network errors at once, the probe has lost its own
network, not every site. It says so in its heartbeat, marks what it sends
(``Outcome.network_lost``: history, never counted), and stops re-checking
until its checks pass again.

Scheduling uses the monotonic clock (a wall-clock jump must not bunch or skip
checks); timestamps in results use the wall clock.
"""

from __future__ import annotations

import asyncio
import logging
import math
import ssl
import time
from collections import deque
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from caredesk.lib import clock, netguard
from caredesk.monitoring.state import Health, advance

from . import net
from .checks import CheckFunction, run_check
from .netwatch import NetworkConfig, NetworkWatch, network_failure
from .schedule import Schedule, spread
from .spec import MonitorSpec, Outcome
from .stats import Stats
from .store import ProbeStatus, Store, StoreRefused

logger = logging.getLogger("caredesk.probe")
# The dispatcher sleeps at least this long: at thousands of checks a minute it
# then starts a few per wake-up instead of waking for each (less CPU, <10 ms lag).
TICK = 0.01


@dataclass
class EngineConfig:
    region: str = "local"
    concurrency: int = 500  # checks in flight at once (each holds one socket)
    batch_size: int = 500  # results per store write
    flush_seconds: float = 1.0  # how long a result may wait before it is written
    reload_seconds: float = 5.0  # how soon a changed monitor is picked up
    change_spread_seconds: float = 10.0  # a new or changed monitor is checked within this
    heartbeat_seconds: float = 30.0
    summary_seconds: float = 60.0
    stop_grace_seconds: float = 5.0  # checks under way get this long to finish on stop
    max_waiting_results: int = 200_000  # beyond this, the oldest unsaved results are dropped
    dns_threads: int = 32
    network: NetworkConfig = field(default_factory=NetworkConfig)  # when the probe is cut off


@dataclass(slots=True)
class Tracked:
    """A monitor in the engine: its settings, its health, its next regular slot."""

    spec: MonitorSpec
    health: Health
    slot: float  # next regular check, monotonic; advances by whole intervals
    running: bool = False
    changed: bool = False  # settings changed while a check was under way
    removed: bool = False
    recheck_served: datetime | None = None  # the latest recheck request acted on


class Engine:
    def __init__(
        self,
        store: Store,
        config: EngineConfig | None = None,
        *,
        resolver: netguard.Resolver | None = None,
        ssl_context: ssl.SSLContext | None = None,
        check: CheckFunction = run_check,
        monotonic: Callable[[], float] = time.monotonic,
        wall: Callable[[], datetime] = clock.now,
    ) -> None:
        self.store = store
        self.config = config or EngineConfig()
        self.monotonic = monotonic
        self.wall = wall
        self._check = check
        if resolver is None:
            dns_pool = ThreadPoolExecutor(self.config.dns_threads, thread_name_prefix="probe-dns")
            resolver = netguard.Resolver(executor=dns_pool)
        self.context = net.CheckContext(
            resolver, ssl_context or net.default_ssl_context(), self.config.region, wall
        )
        self.schedule = Schedule()
        self.stats = Stats()
        self.monitors: dict[int, Tracked] = {}
        self._results: deque[Outcome] = deque()
        self._inflight: set[asyncio.Task[None]] = set()
        self._cursor: object = None
        self._sleeping_until = math.inf
        self._store_failing = False
        self.started_at = wall()
        self.watch = NetworkWatch(self.config.network)
        self.network_lost_since: datetime | None = None
        self.network_detail = ""
        self._canary: asyncio.Task[None] | None = None
        self._canary_at = -math.inf  # monotonic time of the reference URL's last answer
        self._canary_ok = True
        self._canary_error = ""

    # -- running and stopping ---------------------------------------------------------------

    async def run(self, stop: asyncio.Event) -> None:
        """Check until ``stop`` is set, then finish cleanly (see :meth:`_shutdown`)."""
        self._wake = asyncio.Event()
        self._beat = asyncio.Event()  # set: send a heartbeat now (the network came or went)
        self._slots = asyncio.Semaphore(self.config.concurrency)
        self.started_at = self.wall()
        if not await self._first_load(stop):
            return
        logger.info(
            "probe %s started: %d monitors, %d checks at once",
            self.config.region,
            len(self.monitors),
            self.config.concurrency,
        )
        loops = [
            asyncio.create_task(coroutine(), name=coroutine.__name__)
            for coroutine in (self._dispatch, self._reloader, self._heartbeats, self._summaries)
        ]
        writer = asyncio.create_task(self._writer(), name="writer")
        stopper = asyncio.create_task(stop.wait())
        try:
            done, _ = await asyncio.wait(
                [*loops, writer, stopper], return_when=asyncio.FIRST_COMPLETED
            )
            for task in done:
                if task is not stopper:
                    task.result()  # a loop only ends by raising: let it be seen
        finally:
            await self._shutdown(loops, writer, stopper)

    async def _shutdown(
        self,
        loops: list[asyncio.Task[None]],
        writer: asyncio.Task[None],
        stopper: asyncio.Task[bool],
    ) -> None:
        canary = [self._canary] if self._canary is not None else []
        for task in [*loops, stopper, *canary]:
            task.cancel()
        await asyncio.gather(*loops, stopper, *canary, return_exceptions=True)
        if self._inflight:
            _, late = await asyncio.wait(self._inflight, timeout=self.config.stop_grace_seconds)
            for task in late:
                task.cancel()
            await asyncio.gather(*late, return_exceptions=True)
        writer.cancel()
        await asyncio.gather(writer, return_exceptions=True)
        if not await self._flush() and self._results:
            logger.error("probe stopping with %d results unsaved", len(self._results))
        try:
            await self.store.heartbeat(self.status(stopping=True))
        except Exception:
            logger.warning("last heartbeat failed", exc_info=True)
        logger.info("probe %s stopped after %d checks", self.config.region, self.stats.checks)

    # -- monitors ---------------------------------------------------------------------------

    async def _first_load(self, stop: asyncio.Event) -> bool:
        """Load every monitor, waiting for a store that is away; False if stopped first."""
        tries = 0
        while True:
            try:
                await self._reload(first=True)
                return True
            except StoreRefused:
                raise
            except Exception as error:
                # A remote probe may start while its server restarts: wait for it.
                logger.warning(
                    "could not load the monitors (%s); trying again",
                    error,
                    exc_info=tries == 0 and not isinstance(error, ConnectionError),
                )
                tries += 1
            try:
                async with asyncio.timeout(self.config.reload_seconds):
                    await stop.wait()
                return False
            except TimeoutError:
                pass

    async def _reloader(self) -> None:
        failing = False
        while True:
            await asyncio.sleep(self.config.reload_seconds)
            try:
                await self._reload()
            except Exception:
                # Keep checking with what we have; the next round tries again. Said
                # once per stretch: a remote probe's server may be away for minutes.
                if not failing:
                    logger.warning("could not load monitor changes", exc_info=True)
                failing = True
                continue
            if failing:
                logger.info("loading monitor changes again")
                failing = False

    async def _reload(self, *, first: bool = False) -> None:
        changes = await self.store.load_monitors(self._cursor)
        self._cursor = changes.cursor
        now = self.monotonic()
        for spec in changes.monitors:
            self._upsert(spec, now, first)
        gone = set(changes.removed)
        if changes.complete:
            listed = {spec.id for spec in changes.monitors}
            gone.update(mid for mid in self.monitors if mid not in listed)
        for monitor_id in gone:
            self._remove(monitor_id)
        for monitor_id, requested in changes.rechecks:
            self._recheck(monitor_id, requested, now)
        self._wake.set()

    def _upsert(self, spec: MonitorSpec, now: float, first: bool) -> None:
        tracked = self.monitors.get(spec.id)
        if tracked is not None and tracked.spec.version == spec.version:
            return
        # At start, spread first checks over a whole interval (flat load); a monitor
        # added or changed later is checked within a few seconds instead.
        span = spec.interval if first else min(spec.interval, self.config.change_spread_seconds)
        if tracked is None:
            if spec.health.pending:
                span = min(span, spec.recheck_seconds)
            due = now + spread(spec.id, span)
            self.monitors[spec.id] = Tracked(spec, spec.health, slot=due)
            self.schedule.plan(spec.id, due)
            return
        tracked.spec = spec
        if tracked.running:
            tracked.changed = True
            return
        tracked.slot = now + spread(spec.id, span)
        self.schedule.plan(spec.id, tracked.slot)

    def _recheck(self, monitor_id: int, requested: datetime, now: float) -> None:
        """Check at once because another region asked, keeping the regular slot."""
        tracked = self.monitors.get(monitor_id)
        if tracked is None:
            return
        if tracked.recheck_served is not None and requested <= tracked.recheck_served:
            return  # served already (requests stay listed for a while)
        tracked.recheck_served = requested
        # Not compared with this probe's own last check: that would compare two
        # machines' clocks. One extra check per request is cheap.
        if tracked.running or self.network_lost_since is not None:
            return  # the check under way answers it; a probe cut off cannot
        self.stats.rechecks += 1
        self.schedule.plan(monitor_id, now)

    def _remove(self, monitor_id: int) -> None:
        tracked = self.monitors.pop(monitor_id, None)
        if tracked is not None:
            tracked.removed = True
            self.schedule.cancel(monitor_id)

    # -- checking ---------------------------------------------------------------------------

    async def _dispatch(self) -> None:
        while True:
            now = self.monotonic()
            item = self.schedule.pop_due(now)
            if item is None:
                await self._idle(now)
                continue
            tracked = self.monitors.get(item[0])
            if tracked is None:
                continue
            await self._slots.acquire()
            self._start(tracked, item[1])

    async def _idle(self, now: float) -> None:
        next_due = self.schedule.next_due()
        delay = 1.0 if next_due is None else min(max(next_due - now, TICK), 1.0)
        self._sleeping_until = now + delay
        self._wake.clear()
        try:
            async with asyncio.timeout(delay):
                await self._wake.wait()
        except TimeoutError:
            pass
        self._sleeping_until = math.inf

    def _start(self, tracked: Tracked, due: float) -> None:
        now = self.monotonic()
        tracked.running = True
        if tracked.slot <= now:
            # This check serves the slot; a probe a whole interval behind skips
            # the slots it missed rather than running them back to back.
            behind = int((now - tracked.slot) // tracked.spec.interval)
            self.stats.missed += behind
            tracked.slot += (behind + 1) * tracked.spec.interval
        task = asyncio.create_task(self._check_one(tracked, due, now))
        self._inflight.add(task)
        task.add_done_callback(self._inflight.discard)

    async def _check_one(self, tracked: Tracked, due: float, started: float) -> None:
        try:
            outcome = await self._check(tracked.spec, self.context)
        finally:
            tracked.running = False
            self._slots.release()
        outcome.lag_ms = max(0, round((started - due) * 1000))
        self.stats.record(outcome)
        self.watch.record(outcome)
        self._judge_network()
        if self.network_lost_since is not None:
            outcome.network_lost = True
        if not tracked.removed:
            self._plan_next(tracked, outcome)
        self._results.append(outcome)
        if len(self._results) > self.config.max_waiting_results:
            self._results.popleft()
            self.stats.dropped += 1

    def _plan_next(self, tracked: Tracked, outcome: Outcome) -> None:
        spec = tracked.spec
        if not outcome.network_lost:
            tracked.health, _ = advance(tracked.health, outcome.ok, outcome.checked_at, spec.policy)
        now = self.monotonic()
        if tracked.changed:
            tracked.changed = False
            tracked.slot = now + spread(
                spec.id, min(spec.interval, self.config.change_spread_seconds)
            )
            due = tracked.slot
        elif tracked.health.pending and self.network_lost_since is None:
            # Confirming a change: check again soon rather than a whole interval later
            # (not while cut off: a re-check could only fail the same way).
            due = min(tracked.slot, now + min(spec.recheck_seconds, spec.interval))
        else:
            due = tracked.slot
        self.schedule.plan(spec.id, due)
        outcome.next_check_at = self.wall() + timedelta(seconds=due - now)
        if due < self._sleeping_until:
            self._wake.set()

    # -- the probe's own network ---------------------------------------------------------

    def _judge_network(self) -> None:
        """Decide, after each check, whether the probe has (still) lost its own network."""
        watch, canary_url = self.watch, self.config.network.canary_url
        canary = self._canary_verdict()
        if self.network_lost_since is None:
            if not watch.suspect():
                return
            if canary_url and canary is None:
                self._start_canary()  # decide when the reference URL has answered
                return
            if canary:
                return  # the reference URL answers: the sites really are down
            self._lose_network()
        elif watch.clear() or canary is True:
            self._regain_network()
        elif canary_url and canary is None:
            self._start_canary()

    def _canary_verdict(self) -> bool | None:
        """The reference URL's last answer while still fresh; None when there is none."""
        if not self.config.network.canary_url:
            return None
        if self.monotonic() - self._canary_at > self.config.network.canary_every:
            return None
        return self._canary_ok

    def _start_canary(self) -> None:
        if self._canary is None or self._canary.done():
            self._canary = asyncio.create_task(self._run_canary(), name="canary")

    async def _run_canary(self) -> None:
        network = self.config.network
        # The admin's own setting, not a client's: the private-address guard is not needed.
        spec = MonitorSpec(
            id=0, url=network.canary_url, timeout=network.canary_timeout, allow_private=True
        )
        outcome = await self._check(spec, self.context)
        self._canary_at = self.monotonic()
        self._canary_ok = outcome.ok
        self._canary_error = f"{outcome.error_kind}: {outcome.error}" if not outcome.ok else ""
        self._judge_network()

    def _lose_network(self) -> None:
        self.network_lost_since = self.wall()
        detail = self.watch.describe()
        if self.config.network.canary_url:
            detail += f"; the reference URL failed too ({self._canary_error[:200]})"
        self.network_detail = detail
        # Results still waiting to be sent were part of what gave it away.
        for waiting in self._results:
            if network_failure(waiting):
                waiting.network_lost = True
        self.stats.network_losses += 1
        logger.warning(
            "probe %s lost its network: %s; its failures do not count until it is back",
            self.config.region,
            detail,
        )
        self._beat.set()

    def _regain_network(self) -> None:
        since = self.network_lost_since
        self.network_lost_since = None
        self.network_detail = ""
        seconds = (self.wall() - since).total_seconds() if since else 0.0
        logger.warning("probe %s has its network back after %.0f s", self.config.region, seconds)
        self._beat.set()

    # -- results ----------------------------------------------------------------------------

    async def _writer(self) -> None:
        while True:
            await asyncio.sleep(self.config.flush_seconds)
            await self._flush()

    async def _flush(self) -> bool:
        """Write the results waiting now; False if the store refused (they stay queued).

        Results that arrive while it writes wait for the next flush: chasing them
        would write a stream of tiny batches, each paying a whole batch's queries.
        """
        waiting = len(self._results)
        while waiting > 0 and self._results:
            size = min(waiting, len(self._results), self.config.batch_size)
            waiting -= size
            batch = [self._results.popleft() for _ in range(size)]
            try:
                await self.store.save_results(batch)
            except Exception:
                self._results.extendleft(reversed(batch))
                if not self._store_failing:
                    logger.warning("could not save results; keeping them", exc_info=True)
                self._store_failing = True
                return False
            if self._store_failing:
                logger.info("saving results again")
                self._store_failing = False
        return True

    # -- reporting --------------------------------------------------------------------------

    async def _heartbeats(self) -> None:
        while True:
            self._beat.clear()
            try:
                await self.store.heartbeat(self.status())
            except Exception:
                logger.warning("heartbeat failed", exc_info=True)
            try:
                async with asyncio.timeout(self.config.heartbeat_seconds):
                    await self._beat.wait()
            except TimeoutError:
                pass

    async def _summaries(self) -> None:
        seconds = self.config.summary_seconds
        while True:
            await asyncio.sleep(seconds)
            window = self.stats.take_window(seconds)
            logger.info(
                "probe %s: %d checks (%d failed) in %gs, lag p50 %d ms p99 %d ms; "
                "%d monitors, %d in flight, %d results waiting, %d slots missed, "
                "%d re-checks for other regions%s",
                self.config.region,
                window.checks,
                window.failures,
                seconds,
                window.lag_p50_ms,
                window.lag_p99_ms,
                len(self.monitors),
                len(self._inflight),
                len(self._results),
                self.stats.missed,
                self.stats.rechecks,
                "; NETWORK LOST" if self.network_lost_since is not None else "",
            )

    def status(self, *, stopping: bool = False) -> ProbeStatus:
        return ProbeStatus(
            region=self.config.region,
            started_at=self.started_at,
            at=self.wall(),
            monitors=len(self.monitors),
            checks=self.stats.checks,
            failures=self.stats.failures,
            missed=self.stats.missed,
            lag_p50_ms=self.stats.last.lag_p50_ms,
            lag_p99_ms=self.stats.last.lag_p99_ms,
            in_flight=len(self._inflight),
            waiting_results=len(self._results),
            stopping=stopping,
            rechecks=self.stats.rechecks,
            network="lost" if self.network_lost_since is not None else "ok",
            network_detail=self.network_detail[:300],
        )
