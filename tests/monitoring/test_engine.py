"""The engine with an in-memory store: on time, bounded, re-checking, picking up changes."""

import asyncio
import os
import subprocess
import sys
import time
from dataclasses import replace

from caredesk.lib import clock, netguard
from caredesk.monitoring.engine import Engine, EngineConfig, MemoryStore, MonitorSpec, Outcome
from caredesk.monitoring.state import Policy

from .helpers import run_async

FAST = {
    "flush_seconds": 0.05,
    "reload_seconds": 0.05,
    "heartbeat_seconds": 0.2,
    "summary_seconds": 0.5,
    "change_spread_seconds": 0.1,
    "stop_grace_seconds": 0.5,
}


class FakeChecks:
    """A check function: records when each monitor was checked; fails the ids in ``failing``."""

    def __init__(self, failing=(), hanging=(), duration=0.0):
        self.failing = set(failing)
        self.hanging = set(hanging)
        self.duration = duration
        self.times: dict[int, list[float]] = {}
        self.in_flight = 0
        self.most_in_flight = 0
        self.started = time.monotonic()

    async def __call__(self, spec, context):
        self.times.setdefault(spec.id, []).append(time.monotonic() - self.started)
        self.in_flight += 1
        self.most_in_flight = max(self.most_in_flight, self.in_flight)
        try:
            if spec.id in self.hanging:
                await asyncio.sleep(spec.timeout)
            elif self.duration:
                await asyncio.sleep(self.duration)
        finally:
            self.in_flight -= 1
        ok = spec.id not in self.failing and spec.id not in self.hanging
        return Outcome(spec.id, clock.now(), context.region, ok, error_kind="" if ok else "status")


def run_engine(store, seconds, check=None, during=None, **config):
    """Run an engine on ``store`` for ``seconds``; ``during(engine)`` runs alongside."""
    engine = Engine(
        store,
        EngineConfig(region="test", **{**FAST, **config}),
        check=check or FakeChecks(),
        resolver=netguard.Resolver(overrides={"shop.test": ["127.0.0.1"]}),
    )

    async def main():
        stop = asyncio.Event()
        running = asyncio.create_task(engine.run(stop))
        if during is not None:
            await during(engine)
        await asyncio.sleep(seconds)
        stop.set()
        await running

    run_async(main())
    return engine


def specs(count, **settings):
    return [MonitorSpec(id=n, url=f"http://shop.test/{n}", **settings) for n in range(1, count + 1)]


def test_every_monitor_is_checked_within_one_interval_of_start_then_every_interval():
    checks = FakeChecks()
    store = MemoryStore(specs(40, interval=0.5))
    run_engine(store, 1.3, check=checks)
    assert sorted(checks.times) == list(range(1, 41))
    firsts = [times[0] for times in checks.times.values()]
    assert max(firsts) < 0.5 + 0.25
    assert max(firsts) - min(firsts) > 0.3  # spread over the interval, not all at once
    for times in checks.times.values():
        # Checks keep to their slots (first + k × interval): a late one does not
        # push the next ones later, so compare with the slot, not the previous check.
        assert len(times) >= 2, times
        # Checks only ever run late, so the least late one shows where the grid is.
        origin = min(t - k * 0.5 for k, t in enumerate(times))
        assert all(0 <= t - (origin + k * 0.5) < 0.25 for k, t in enumerate(times)), times


def test_a_failure_is_rechecked_soon_and_the_pace_returns_once_confirmed():
    checks = FakeChecks(failing={1})
    store = MemoryStore(specs(1, interval=0.6, recheck_seconds=0.1))
    run_engine(store, 1.4, check=checks)
    first, second, third, *_ = checks.times[1]
    # Bounds leave room for a busy machine; what matters is the order of magnitude:
    # a re-check after ~0.1 s, then the 0.6 s pace again.
    assert 0.05 < second - first < 0.3  # the re-check
    assert 0.3 < third - second < 0.8  # down confirmed: back to the regular slot


def test_recovery_is_confirmed_quickly_too():
    checks = FakeChecks()
    spec = MonitorSpec(
        id=1, interval=0.6, recheck_seconds=0.1, policy=Policy(failures=2, recoveries=3)
    )
    store = MemoryStore([spec])
    checks.failing = {1}

    async def heal(engine):
        await asyncio.sleep(0.8)  # confirmed down by now
        checks.failing.clear()

    run_engine(store, 0.8, check=checks, during=heal)
    recovery = [t for t in checks.times[1] if t > 0.8]
    assert len(recovery) >= 3
    assert recovery[2] - recovery[0] < 0.5  # three good checks, faster than one 0.6 s interval


def test_hanging_sites_use_their_timeout_but_never_delay_the_others():
    hanging = set(range(1, 11))
    checks = FakeChecks(hanging=hanging)
    store = MemoryStore(
        specs(10, interval=0.5, timeout=0.4)
        + [MonitorSpec(id=n, interval=0.25, timeout=0.2) for n in range(11, 31)]
    )
    engine = run_engine(store, 1.5, check=checks, concurrency=15)
    assert checks.most_in_flight <= 15
    prompt = [o for o in store.results if o.monitor_id > 10]
    assert len(prompt) >= 20 * 4
    assert max(o.lag_ms for o in prompt) < 100
    assert engine.stats.missed == 0


def test_checks_queue_for_a_slot_when_concurrency_is_the_limit():
    checks = FakeChecks(duration=0.1)
    store = MemoryStore(specs(10, interval=0.5))
    run_engine(store, 0.8, check=checks, concurrency=2)
    assert checks.most_in_flight == 2
    assert len(checks.times) == 10


def test_a_new_or_changed_monitor_is_checked_within_seconds_and_a_removed_one_stops():
    checks = FakeChecks()
    store = MemoryStore(specs(2, interval=60.0))

    async def edit(engine):
        await asyncio.sleep(0.1)
        store.put(MonitorSpec(id=3, interval=60.0))
        store.put(replace(specs(1, interval=60.0)[0], url="http://shop.test/new"))
        store.remove(2)

    engine = run_engine(store, 0.5, check=checks, during=edit)
    assert 3 in checks.times  # new: checked within change_spread_seconds, not 60 s
    assert len(checks.times.get(1, [])) >= 1
    assert sorted(engine.monitors) == [1, 3]


def test_results_wait_while_the_store_is_away_and_none_are_lost():
    checks = FakeChecks()
    store = MemoryStore(specs(5, interval=0.2))
    store.fail_saves = 3
    engine = run_engine(store, 0.8, check=checks)
    assert store.fail_saves == 0
    assert len(store.results) == engine.stats.checks == sum(map(len, checks.times.values()))


def test_a_clean_stop_finishes_checks_under_way_and_writes_everything():
    checks = FakeChecks(duration=0.3)
    store = MemoryStore(specs(5, interval=0.2))
    engine = run_engine(store, 0.25, check=checks, change_spread_seconds=0.01)
    assert len(store.results) == engine.stats.checks > 0
    assert store.heartbeats[-1].stopping
    assert store.heartbeats[-1].checks == engine.stats.checks


def test_next_check_and_lag_are_reported_with_each_result():
    store = MemoryStore(specs(3, interval=0.3))
    run_engine(store, 0.8)
    for outcome in store.results:
        assert outcome.next_check_at > outcome.checked_at
        assert 0 <= outcome.lag_ms < 100


def test_the_engine_runs_real_checks(web):
    web.route("/shop")
    web.route("/down", status=503)
    base = f"http://shop.test:{web.port}"
    store = MemoryStore(
        [
            MonitorSpec(id=1, url=f"{base}/shop", interval=0.3, allow_private=True),
            MonitorSpec(id=2, url=f"{base}/down", interval=0.3, allow_private=True),
            MonitorSpec(id=3, url=f"{base}/shop", interval=0.3),
        ]
    )
    run_engine(store, 0.4, check=_real())
    by_id = {o.monitor_id: o for o in store.results}
    assert by_id[1].ok
    assert by_id[2].status_code == 503 and not by_id[2].ok
    assert by_id[3].error_kind == "private_address"


def _real():
    from caredesk.monitoring.engine import run_check

    return run_check


def test_the_engine_never_imports_django():
    code = (
        "import sys\n"
        "import caredesk.monitoring.engine, caredesk.monitoring.engine.runner\n"
        "import caredesk.monitoring.engine.api, caredesk.monitoring.engine.remote\n"
        "import caredesk.monitoring.state, caredesk.lib.netguard\n"
        "bad = sorted(m for m in sys.modules if m == 'django' or m.startswith('django.'))\n"
        "assert not bad, bad\n"
    )
    env = {k: v for k, v in os.environ.items() if k != "DJANGO_SETTINGS_MODULE"}
    subprocess.run([sys.executable, "-c", code], check=True, env=env)


def test_another_regions_request_is_checked_at_once_and_only_once():
    checks = FakeChecks()
    store = MemoryStore(specs(2, interval=60.0))  # first checks spread over a minute

    async def ask(engine):
        await asyncio.sleep(0.15)
        store.ask_recheck(1, clock.now())  # listed on every later load, as the server does

    engine = run_engine(store, 0.5, check=checks, during=ask)
    # Served on the next poll (every 0.05 s here), once, without waiting for the slot.
    assert len(checks.times[1]) == 1
    assert 0.15 < checks.times[1][0] < 0.35
    assert engine.stats.rechecks == 1
    assert store.heartbeats[-1].rechecks == 1
    # The regular slot is kept: the monitor's next check is still about a minute off.
    assert engine.monitors[1].slot - time.monotonic() > 30


def test_a_request_for_an_unknown_monitor_is_ignored():
    store = MemoryStore(specs(1, interval=60.0))
    store.ask_recheck(99, clock.now())
    engine = run_engine(store, 0.2)
    assert engine.stats.rechecks == 0


def test_a_probe_starting_while_its_store_is_away_waits_for_it():
    checks = FakeChecks()
    store = MemoryStore(specs(3, interval=0.2))
    store.fail_loads = 3
    engine = run_engine(store, 0.6, check=checks)
    assert store.fail_loads == 0
    assert sorted(checks.times) == [1, 2, 3]
    assert len(store.results) == engine.stats.checks


def test_a_probe_stopped_before_its_store_answers_exits_quietly():
    store = MemoryStore(specs(1))
    store.fail_loads = 1000
    engine = run_engine(store, 0.2)
    assert engine.stats.checks == 0 and store.results == []
