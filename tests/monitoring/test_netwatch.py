"""A probe that loses its own network says so, instead of reporting every site down.

The watch alone (pure), then the engine on an in-memory store with checks
that fail like a cut cable: connection refused everywhere, or only at one site.
"""

import asyncio

from caredesk.lib import clock
from caredesk.monitoring.engine import MemoryStore, Outcome
from caredesk.monitoring.engine.netwatch import NetworkConfig, NetworkWatch

from .test_engine import run_engine, specs


def result(monitor_id: int, kind: str = "") -> Outcome:
    return Outcome(monitor_id, clock.now(), "test", ok=not kind, error_kind=kind)


def watch_after(results, **config) -> NetworkWatch:
    watch = NetworkWatch(NetworkConfig(**config))
    for item in results:
        watch.record(item)
    return watch


def test_nearly_every_check_failing_with_network_errors_across_many_monitors_is_suspect():
    cut = [result(n % 20, "connect" if n % 10 else "dns") for n in range(30)]
    watch = watch_after(cut)
    assert watch.suspect()
    assert "30 of the last 30 checks failed with network errors" in watch.describe()
    assert "across 20 monitors" in watch.describe()


def test_one_site_down_among_many_is_not_the_network():
    checks = [result(n, "connect" if n == 7 else "") for n in range(1, 31)]
    assert not watch_after(checks).suspect()


def test_sites_answering_with_errors_are_not_the_network():
    # HTTP 500 everywhere means the network works: the servers answered.
    assert not watch_after([result(n % 20, "status") for n in range(30)]).suspect()


def test_few_monitors_failing_again_and_again_are_not_enough():
    # Three sites refusing connections, checked over and over: not the probe's network.
    assert not watch_after([result(n % 3, "connect") for n in range(30)]).suspect()


def test_a_window_not_yet_full_decides_nothing():
    assert not watch_after([result(n, "timeout") for n in range(29)]).suspect()


def test_the_network_is_back_when_most_recent_checks_pass():
    watch = watch_after([result(n % 20, "connect") for n in range(30)])
    for n in range(15):
        watch.record(result(n))
    assert not watch.clear()  # half of the last 30 still failing
    watch.record(result(99))
    assert watch.clear()


class CutCable:
    """Checks that fail with "connection refused" for the ids in ``refused`` (all: None)."""

    def __init__(self, refused=None):
        self.refused = refused

    async def __call__(self, spec, context):
        if spec.id == 0 or self.refused is None or spec.id in self.refused:
            error = "connection refused (127.0.0.1)"
            return Outcome(spec.id, clock.now(), context.region, False, None, "connect", error)
        return Outcome(spec.id, clock.now(), context.region, True, status_code=200)


def _cut(store, cable, seconds, **config):
    return run_engine(
        store,
        seconds,
        check=cable,
        network=NetworkConfig(**config.pop("network", {})),
        **config,
    )


def test_a_probe_whose_every_check_is_refused_says_it_lost_its_network():
    store = MemoryStore(specs(30, interval=1.0, recheck_seconds=0.2))
    engine = _cut(store, CutCable(), 2.5)
    assert engine.network_lost_since is not None
    assert engine.stats.network_losses == 1
    lost = [beat for beat in store.heartbeats if beat.network == "lost"]
    assert lost and "failed with network errors (connect" in lost[0].network_detail
    # Everything sent from the moment it knew is marked; it stopped re-checking.
    marked = [o for o in store.results if o.network_lost]
    assert marked and all(not o.ok for o in marked)
    assert len(store.results) < 30 * 2.5 * 1.5  # no re-check storm while cut off


def test_one_refusing_site_among_thirty_is_a_site_outage():
    store = MemoryStore(specs(30, interval=1.0, recheck_seconds=0.2))
    engine = _cut(store, CutCable(refused={7}), 2.0)
    assert engine.network_lost_since is None
    assert not any(o.network_lost for o in store.results)
    assert {beat.network for beat in store.heartbeats} == {"ok"}
    failures = [o for o in store.results if not o.ok]
    assert {o.monitor_id for o in failures} == {7}
    assert len(failures) >= 3  # re-checked sooner than the interval, as ever


def test_the_network_coming_back_is_reported_and_checks_count_again():
    store = MemoryStore(specs(30, interval=0.5, recheck_seconds=0.2))
    cable = CutCable()

    async def mend(engine):
        await asyncio.sleep(1.5)
        assert engine.network_lost_since is not None
        cable.refused = set()

    engine = _cut(store, cable, 1.5, during=mend)
    assert engine.network_lost_since is None
    assert [beat.network for beat in store.heartbeats][-1] == "ok"
    assert "lost" in {beat.network for beat in store.heartbeats}
    assert store.results[-1].ok and not store.results[-1].network_lost


def test_with_a_reference_url_that_answers_the_sites_are_really_down():
    # Every site refuses, but the reference URL (id 0 in the fake) answers: not the network.
    class SitesDown(CutCable):
        async def __call__(self, spec, context):
            if spec.id == 0:
                return Outcome(0, clock.now(), context.region, True, status_code=200)
            return await super().__call__(spec, context)

    store = MemoryStore(specs(30, interval=1.0, recheck_seconds=0.2))
    engine = _cut(store, SitesDown(), 2.0, network={"canary_url": "http://reference.test/"})
    assert engine.network_lost_since is None
    assert not any(o.network_lost for o in store.results)


def test_with_a_reference_url_that_fails_too_the_probe_is_cut_off():
    store = MemoryStore(specs(30, interval=1.0, recheck_seconds=0.2))
    engine = _cut(store, CutCable(), 2.0, network={"canary_url": "http://reference.test/"})
    assert engine.network_lost_since is not None
    assert "the reference URL failed too (connect: connection refused" in engine.network_detail
