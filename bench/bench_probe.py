"""The probe engine against N local sites: on time? at what CPU and memory cost?

Starts target sites on 127.0.0.1 in a child process (one asyncio server on
several ports; each monitor has its own host name, pinned to 127.0.0.1 in the
resolver, and its own path), runs the engine on an in-memory store with N
monitors at a 60 s interval for the given time, and reports checks done
against checks due, schedule lag, CPU per 1 000 checks and memory.

A share of the sites hang (accept, never answer) so that their timeouts run
alongside everyone else's checks, as on the real web. Optionally a share
serve HTTPS (a trustme certificate).

Baseline, in the same run: the naive way — urllib, one thread started per
check, a fresh connection each — timed on a sample of healthy sites and
scaled; and what a sequential loop would need per round, hanging sites
included.

    .venv/bin/python bench/bench_probe.py                  # 5 000 monitors, 120 s
    .venv/bin/python bench/bench_probe.py --monitors 20000 --seconds 180
    .venv/bin/python bench/bench_probe.py --storage 200000   # bytes per stored row
"""

import argparse
import asyncio
import contextlib
import multiprocessing
import os
import resource
import ssl
import sys
import tempfile
import threading
import time
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from caredesk.lib import clock, netguard
from caredesk.monitoring.engine import (
    CheckContext,
    Engine,
    EngineConfig,
    MonitorSpec,
    default_ssl_context,
    run_check,
)
from caredesk.monitoring.engine.limits import raise_fd_limit
from caredesk.monitoring.engine.memory import MemoryStore
from caredesk.monitoring.engine.schedule import spread
from caredesk.monitoring.engine.stats import percentile

BODY = b"<html><body>Welcome to the bench shop</body></html>"
RESPONSE = (
    b"HTTP/1.1 200 OK\r\nContent-Type: text/html\r\nContent-Length: %d\r\n"
    b"Connection: close\r\n\r\n%s" % (len(BODY), BODY)
)
TRICKLE_SECONDS = 20


# -- the target sites (child process) -------------------------------------------------------


async def _trickle(writer: asyncio.StreamWriter) -> None:
    # A server that answers one byte a second: every single read succeeds in time.
    for byte in RESPONSE[:TRICKLE_SECONDS]:
        writer.write(bytes([byte]))
        await writer.drain()
        await asyncio.sleep(1)


async def _answer(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    try:
        head = await reader.readuntil(b"\r\n\r\n")
        path = head.split(b" ", 2)[1]
        if path.startswith(b"/hang"):
            await reader.read()  # until the probe gives up and closes
        elif path.startswith(b"/trickle"):
            await _trickle(writer)
        else:
            writer.write(RESPONSE)
            await writer.drain()
    except (OSError, asyncio.IncompleteReadError, asyncio.LimitOverrunError, IndexError):
        pass
    finally:
        writer.close()


async def _serve(ports: int, tls_files: tuple[str, str] | None, ready) -> None:
    servers = [
        await asyncio.start_server(_answer, "127.0.0.1", 0, backlog=4096) for _ in range(ports)
    ]
    tls_servers = []
    if tls_files:
        context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        context.load_cert_chain(*tls_files)
        tls_servers = [
            await asyncio.start_server(_answer, "127.0.0.1", 0, ssl=context, backlog=4096)
            for _ in range(ports)
        ]
    ready.put(
        (
            [s.sockets[0].getsockname()[1] for s in servers],
            [s.sockets[0].getsockname()[1] for s in tls_servers],
        )
    )
    await asyncio.Event().wait()


def _targets(ports: int, tls_files, ready) -> None:
    raise_fd_limit()
    asyncio.run(_serve(ports, tls_files, ready))


def start_targets(ports: int, tls_files) -> tuple[multiprocessing.Process, list[int], list[int]]:
    context = multiprocessing.get_context("spawn")
    ready = context.Queue()
    process = context.Process(target=_targets, args=(ports, tls_files, ready), daemon=True)
    process.start()
    plain, tls = ready.get(timeout=30)
    return process, plain, tls


def tls_material(directory: Path) -> tuple[tuple[str, str], ssl.SSLContext]:
    import trustme

    ca = trustme.CA()
    leaf = ca.issue_cert("*.sites.bench")
    chain, key = directory / "chain.pem", directory / "key.pem"
    chain.write_bytes(b"".join(blob.bytes() for blob in leaf.cert_chain_pems))
    key.write_bytes(leaf.private_key_pem.bytes())
    client = ssl.create_default_context()
    ca.configure_trust(client)
    return (str(chain), str(key)), client


# -- measuring ------------------------------------------------------------------------------


def cpu_seconds() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def rss_mb() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


class CountingStore(MemoryStore):
    """Keeps figures, not results: the memory measured is the engine's."""

    def __init__(self, monitors, hanging: set[int]) -> None:
        super().__init__(monitors)
        self.hanging = hanging
        self.healthy_checks = 0  # due inside the measured window
        self.hanging_checks = 0
        self.window_end: datetime | None = None
        self.unexpected: dict[str, int] = {}
        self.lags: list[int] = []
        self.totals: list[int] = []

    async def save_results(self, outcomes) -> None:
        for outcome in outcomes:
            if outcome.monitor_id in self.hanging:
                self.hanging_checks += 1
                continue
            due = outcome.checked_at - timedelta(milliseconds=outcome.lag_ms)
            if self.window_end is None or due >= self.window_end:
                continue  # due after the window: the run goes on a little to let these start
            self.healthy_checks += 1
            self.lags.append(outcome.lag_ms)
            if outcome.ok:
                self.totals.append(outcome.total_ms or 0)
            else:
                key = f"{outcome.error_kind}: {outcome.error[:60]}"
                self.unexpected[key] = self.unexpected.get(key, 0) + 1


def monitors(args, plain: list[int], tls: list[int]) -> tuple[list[MonitorSpec], set[int]]:
    specs, hanging = [], set()
    for n in range(1, args.monitors + 1):
        https = tls and (n * 7919) % 100 < args.https_percent
        ports = tls if https else plain
        path = f"/site/{n}"
        if (n * 104729) % 1000 < args.hanging_permille:
            path = f"/hang/{n}"
            hanging.add(n)
        url = f"{'https' if https else 'http'}://s{n}.sites.bench:{ports[n % len(ports)]}{path}"
        specs.append(
            MonitorSpec(
                id=n,
                url=url,
                interval=args.interval,
                timeout=args.timeout,
                keyword="bench shop",
                allow_private=True,
            )
        )
    return specs, hanging


def due_checks(specs: list[MonitorSpec], seconds: float) -> int:
    """Regular checks that fall inside the run (first check spread as the engine does)."""
    due = 0
    for spec in specs:
        offset = spread(spec.id, spec.interval)
        if offset < seconds:
            due += int((seconds - offset) // spec.interval) + 1
    return due


# -- the engine -----------------------------------------------------------------------------


async def run_engine(args, specs, hanging, client_tls, memory_before: float) -> dict:
    names = {f"s{spec.id}.sites.bench": ["127.0.0.1"] for spec in specs}
    store = CountingStore(specs, hanging)
    engine = Engine(
        store,
        EngineConfig(region="bench", concurrency=args.concurrency, summary_seconds=30.0),
        resolver=netguard.Resolver(overrides=names),
        ssl_context=client_tls,
    )
    cpu_before = cpu_seconds()
    stop = asyncio.Event()
    started = time.monotonic()
    running = asyncio.create_task(engine.run(stop))
    await asyncio.sleep(0)
    store.window_end = engine.started_at + timedelta(seconds=args.seconds)
    run_for = args.seconds + 1.0
    while time.monotonic() - started < run_for:
        await asyncio.sleep(min(10.0, run_for - (time.monotonic() - started)))
        print(
            f"  {time.monotonic() - started:5.0f} s: {engine.stats.checks} checks, "
            f"{len(engine._inflight)} in flight",
            flush=True,
        )
    memory_peak = rss_mb()
    stop.set()
    await running
    cpu = cpu_seconds() - cpu_before
    return {
        "store": store,
        "engine": engine,
        "cpu": cpu,
        "wall": time.monotonic() - started,
        "memory_before": memory_before,
        "memory_peak": memory_peak,
    }


# -- the baseline ---------------------------------------------------------------------------


def urllib_check(url: str, timeout: float = 10) -> bool:
    with urllib.request.urlopen(url, timeout=timeout) as response:  # noqa: S310 - loopback
        return b"bench shop" in response.read()


def timed(function) -> float:
    started = time.monotonic()
    with contextlib.suppress(OSError):  # a timeout is the expected end
        function()
    return time.monotonic() - started


def trickle_checks(port: int, timeout: float) -> tuple[float, float]:
    """How long one check of a one-byte-a-second site takes: urllib, then the engine."""
    url = f"http://127.0.0.1:{port}/trickle"
    spec = MonitorSpec(id=1, url=url, timeout=timeout, allow_private=True)
    context = CheckContext(netguard.Resolver(), default_ssl_context(), "bench", clock.now)
    with ThreadPoolExecutor(2) as pool:
        naive = pool.submit(timed, lambda: urllib_check(url, timeout))
        engine = pool.submit(timed, lambda: asyncio.run(run_check(spec, context)))
        return naive.result(), engine.result()


def _thread_per_check(urls: list[str]) -> int:
    # What a naive scheduler does at each due time: start a thread, check, let it end.
    passed: list[bool] = []
    threads = [
        threading.Thread(target=lambda u=url: passed.append(urllib_check(u))) for url in urls
    ]
    for thread in threads:
        thread.start()
        time.sleep(0.001)  # due times are spread, not all at once
    for thread in threads:
        thread.join()
    return sum(passed)


def run_baseline(plain: list[int], sample: int) -> dict:
    urls = [f"http://127.0.0.1:{plain[n % len(plain)]}/site/{n}" for n in range(sample)]
    with ThreadPoolExecutor(1) as pool:
        # Alongside the sample: it costs a few system calls, not CPU worth counting.
        trickle = pool.submit(trickle_checks, plain[0], 5.0)
        return _sample(urls, sample) | {"trickle": trickle.result()}


def _sample(urls: list[str], sample: int) -> dict:
    cpu_before, started = cpu_seconds(), time.monotonic()
    threaded_ok = _thread_per_check(urls)
    threaded_cpu, threaded_wall = cpu_seconds() - cpu_before, time.monotonic() - started
    cpu_before, started = cpu_seconds(), time.monotonic()
    sequential_ok = sum(urllib_check(url) for url in urls)
    sequential_cpu, sequential_wall = cpu_seconds() - cpu_before, time.monotonic() - started
    return {
        "sample": sample,
        "threaded_ok": threaded_ok,
        "threaded_cpu_per_1000": threaded_cpu / sample * 1000,
        "threaded_wall": threaded_wall,
        "sequential_ok": sequential_ok,
        "sequential_cpu_per_1000": sequential_cpu / sample * 1000,
        "sequential_wall_per_check": sequential_wall / sample,
    }


# -- the report -----------------------------------------------------------------------------


def report(args, specs, hanging, result, baseline) -> None:
    store: CountingStore = result["store"]
    engine: Engine = result["engine"]
    healthy = [spec for spec in specs if spec.id not in hanging]
    due = due_checks(healthy, args.seconds)
    checks = engine.stats.checks
    cpu_per_1000 = result["cpu"] / checks * 1000 if checks else 0.0
    memory = result["memory_peak"] - result["memory_before"]
    lags = store.lags
    print()
    print(
        f"== probe engine: {args.monitors} monitors every {args.interval:g} s for "
        f"{args.seconds:g} s ({len(hanging)} hanging, {args.https_percent}% HTTPS, "
        f"{args.concurrency} checks at once)"
    )
    print(f"healthy sites: {store.healthy_checks} checks done of {due} due")
    print(f"  unexpected failures: {sum(store.unexpected.values())} {store.unexpected or ''}")
    print(
        f"hanging sites: {store.hanging_checks} checks (each timed out after "
        f"{args.timeout:g} s; re-checks included)"
    )
    print(f"slots missed (a whole interval behind): {engine.stats.missed}")
    print(
        f"schedule lag: p50 {percentile(lags, 0.5)} ms, p99 {percentile(lags, 0.99)} ms, "
        f"max {max(lags, default=0)} ms"
    )
    totals = store.totals
    p50, p99 = percentile(totals, 0.5), percentile(totals, 0.99)
    print(f"check time (loopback): p50 {p50} ms, p99 {p99} ms")
    print(
        f"CPU: {result['cpu']:.1f} s for {checks} checks = {cpu_per_1000:.2f} s per 1 000 checks "
        f"({cpu_per_1000:.2f} ms a check); {result['cpu'] / result['wall'] * 100:.0f}% of one core"
    )
    print(
        f"memory: {memory:.1f} MB for the engine and its monitors "
        f"({memory / args.monitors * 1000:.2f} MB per 1 000 monitors); "
        f"peak RSS {result['memory_peak']:.0f} MB"
    )
    print()
    sample = baseline["sample"]
    print(f"== baseline: urllib, fresh connection per check, {sample} healthy checks")
    threaded = baseline["threaded_cpu_per_1000"]
    print(
        f"a thread per check: {threaded:.2f} s CPU per 1 000 checks "
        f"({threaded / cpu_per_1000:.1f}x the engine's); {baseline['threaded_ok']}/{sample} ok"
        if cpu_per_1000
        else ""
    )
    per_check = baseline["sequential_wall_per_check"]
    round_time = per_check * (args.monitors - len(hanging)) + len(hanging) * args.timeout
    naive, engine_time = baseline["trickle"]
    print(
        f"a site sending one byte a second, timeout 5 s: urllib's check took {naive:.1f} s "
        f"(its timeout is per read), the engine's {engine_time:.1f} s"
    )
    print(
        f"sequential: {per_check * 1000:.2f} ms a check, {baseline['sequential_cpu_per_1000']:.2f} "
        f"s CPU per 1 000; one round of {args.monitors} monitors with {len(hanging)} hanging "
        f"would take {round_time:.0f} s against a {args.interval:g} s interval"
    )


# -- storage ----------------------------------------------------------------------------------


def measure_storage(rows: int) -> None:
    """Bytes per stored row (table and indexes) on the bench database, and what they come to.

    Raw results, hourly rollups, and daily rollups with their 24 hours packed,
    filled with realistic values (1 % failed checks with their error text,
    response times that vary from hour to hour); then the growth per 1 000
    monitors at 60 s.
    """
    import random

    from _django import setup

    setup("probe-storage")
    from django.conf import settings
    from django.db import connection

    from caredesk.clients.models import Organisation, Site
    from caredesk.monitoring.history import Hour, day_start, summarise
    from caredesk.monitoring.models import CheckResult, DailyRollup, HourlyRollup, Monitor

    rng = random.Random(9)
    organisation = Organisation.objects.create(name="Storage")
    for n in range(10):
        Site.objects.create(organisation=organisation, name=f"s{n}", url=f"https://s{n}.example/")
    ids = list(Monitor.objects.values_list("pk", flat=True))
    start = clock.now().replace(minute=0, second=0, microsecond=0)
    batch = []
    for n in range(rows):
        failed = n % 100 == 0  # about the failure rate of real monitors, errors included
        batch.append(
            CheckResult(
                monitor_id=ids[n % len(ids)],
                checked_at=start + timedelta(seconds=6 * n),
                region="eu",
                ok=not failed,
                status_code=None if failed else 200,
                error_kind="timeout" if failed else "",
                error="no complete answer within 10 s (during first_byte)" if failed else "",
                dns_ms=12,
                connect_ms=25,
                tls_ms=60,
                first_byte_ms=180 + n % 50,
                total_ms=240 + n % 90,
                cert_days=60,
            )
        )
        if len(batch) == 5000:
            CheckResult.objects.bulk_create(batch)
            batch = []
    CheckResult.objects.bulk_create(batch)

    def hour(monitor_id: int, at) -> Hour:
        failures = 1 if rng.random() < 0.3 else 0
        down = 600 if rng.random() < 0.002 else 0
        p50 = int(rng.gauss(250, 30))
        return Hour(
            monitor_id, at, 60, failures, 3600 - down, down, p50, p50 + rng.randint(50, 400)
        )

    hourly = [
        hour(ids[n % len(ids)], start + timedelta(hours=n // len(ids))) for n in range(rows // 4)
    ]
    HourlyRollup.objects.bulk_create(
        (HourlyRollup(**{f: getattr(h, f) for f in Hour.__slots__}) for h in hourly),
        batch_size=5000,
    )
    days = max(1, rows // 24 // len(ids))
    daily = []
    for d in range(days):
        day = (start + timedelta(days=d)).date()
        for monitor_id in ids:
            found = [hour(monitor_id, day_start(day) + timedelta(hours=h)) for h in range(24)]
            daily.append(summarise(monitor_id, day, found))
    DailyRollup.objects.bulk_create(daily, batch_size=5000)
    sizes = {}
    for model, count in (
        (CheckResult, rows),
        (HourlyRollup, len(hourly)),
        (DailyRollup, len(daily)),
    ):
        sizes[model] = _table_bytes(connection, model._meta.db_table) / count
        print(f"{connection.vendor} {model.__name__}: {sizes[model]:.0f} bytes a row")
    raw_days = settings.CAREDESK_MONITOR_RAW_DAYS
    hourly_days = settings.CAREDESK_MONITOR_HOURLY_DAYS
    per_day = 1000 * 86400 / 60  # results a day of 1 000 monitors at 60 s
    raw = per_day * raw_days * sizes[CheckResult]
    kept_hours = 1000 * 24 * hourly_days * sizes[HourlyRollup]
    month = 1000 * 365.25 / 12 * sizes[DailyRollup]
    year = 1000 * 365.25 * sizes[DailyRollup]
    forever_hourly = 1000 * 24 * 365.25 * sizes[HourlyRollup]
    print(f"per 1 000 monitors at 60 s on {connection.vendor}:")
    print(f"  raw results, {raw_days} days kept (a constant): {raw / 1e9:.2f} GB")
    print(f"  hourly rollups, {hourly_days} days kept (a constant): {kept_hours / 1e6:.0f} MB")
    print(
        f"  daily rollups with their hours (kept for ever): {month / 1e6:.1f} MB a month, "
        f"{year / 1e6:.0f} MB a year"
    )
    print(
        f"  baseline, hourly rows kept for ever: {forever_hourly / 1e9:.2f} GB a year "
        f"({forever_hourly / year:.1f}x the daily rows)"
    )


def _table_bytes(connection, table: str) -> int:
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute("VACUUM ANALYZE " + table)  # our own table name, not input
            cursor.execute("SELECT pg_total_relation_size(%s)", [table])
            return cursor.fetchone()[0]
        cursor.execute(
            "SELECT sum(pgsize) FROM dbstat WHERE name = %s OR name IN "
            "(SELECT name FROM sqlite_master WHERE tbl_name = %s AND type = 'index')",
            [table, table],
        )
        return cursor.fetchone()[0]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--monitors", type=int, default=5000)
    parser.add_argument("--seconds", type=float, default=120.0)
    parser.add_argument("--interval", type=float, default=60.0)
    parser.add_argument("--timeout", type=float, default=10.0)
    parser.add_argument("--concurrency", type=int, default=500)
    parser.add_argument("--ports", type=int, default=16, help="target ports (each protocol)")
    parser.add_argument(
        "--hanging-permille", type=int, default=10, help="sites that hang, per 1000"
    )
    parser.add_argument("--https-percent", type=int, default=0)
    parser.add_argument("--baseline-sample", type=int, default=500)
    parser.add_argument(
        "--storage",
        type=int,
        metavar="ROWS",
        help="only measure bytes per stored row (SQLite, or BENCH_DATABASE_URL)",
    )
    args = parser.parse_args()
    if args.storage:
        measure_storage(args.storage)
        return
    fd_limit = raise_fd_limit()
    print(f"open-file limit {fd_limit}; pid {os.getpid()}", flush=True)
    with tempfile.TemporaryDirectory() as scratch:
        tls_files, client_tls = (None, None)
        if args.https_percent:
            tls_files, client_tls = tls_material(Path(scratch))
        targets, plain, tls = start_targets(args.ports, tls_files)
        try:
            baseline = run_baseline(plain, args.baseline_sample)
            memory_before = rss_mb()
            specs, hanging = monitors(args, plain, tls)
            print(f"running {len(specs)} monitors for {args.seconds:g} s ...", flush=True)
            result = asyncio.run(run_engine(args, specs, hanging, client_tls, memory_before))
            report(args, specs, hanging, result, baseline)
        finally:
            targets.terminate()


if __name__ == "__main__":
    main()
