"""Uptime monitoring end to end: N sites imported, one probe on the database, alerts by SMTP.

One command runs the path the issue asks for:

1. N target sites on 127.0.0.1 (a child process: one asyncio server on
   several ports; each site has its own host name, pinned to 127.0.0.1 in
   the resolver, and its own path; a shared flag per site turns it into a
   503; a share of them hang, as sites on the real web do);
2. N sites created and N monitors at 60 s imported from a CSV file through
   the import (``caredesk monitors import``'s function) into the database
   (SQLite, or PostgreSQL with BENCH_DATABASE_URL);
3. baseline, in the same run: the engine on an in-memory store over the same
   monitors (a child process, so its memory is its own);
4. the probe as ``caredesk probe`` runs it — the engine on the database
   store, with incidents, downtime tickets and alert receivers — for the
   given time, a ``db_worker`` sending the alerts, an SMTP server on
   loopback receiving them; K sites taken down at random moments;
5. the figures: checks done against checks due, schedule lag p50/p99/max,
   slots missed, CPU per check and memory per 1 000 monitors (and their
   ratio to the baseline's), the time from taking a site down to its alert
   email, false alerts (an email naming a site that was never down), and
   the stored history (bytes per raw result in this database, and what a
   month and a year of it come to per 1 000 monitors).

    .venv/bin/python bench/bench_monitoring.py                          # 2 000 monitors, 180 s
    .venv/bin/python bench/bench_monitoring.py --monitors 20000 --seconds 300 --down 20
    BENCH_DATABASE_URL=postgres://postgres@127.0.0.1:5432/caredesk_bench .venv/bin/python ...
"""

import argparse
import asyncio
import csv
import io
import multiprocessing
import os
import random
import signal
import sys
import time
from collections import Counter
from datetime import timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from bench_alerts import Mailbox, down_sites, free_port, start_worker
from bench_probe import cpu_seconds, rss_mb

from caredesk.monitoring.engine.limits import raise_fd_limit
from caredesk.monitoring.engine.schedule import spread
from caredesk.monitoring.engine.stats import percentile

OK_BODY = b"<html><body>Welcome to the bench shop</body></html>"
OK = b"HTTP/1.1 200 OK\r\nContent-Length: %d\r\nConnection: close\r\n\r\n%s" % (
    len(OK_BODY),
    OK_BODY,
)
DOWN = b"HTTP/1.1 503 Service Unavailable\r\nContent-Length: 4\r\nConnection: close\r\n\r\ndown"
NAME = "Bench site {:05d}"


# -- the target sites (child process) -------------------------------------------------------


async def _serve(ports: int, flags, ready) -> None:
    async def answer(reader, writer):
        try:
            head = await reader.readuntil(b"\r\n\r\n")
            path = head.split(b" ", 2)[1]
            if path.startswith(b"/hang/"):
                await reader.read()  # until the probe gives up
                return
            number = int(path.rsplit(b"/", 1)[-1])
            writer.write(DOWN if flags[number] else OK)
            await writer.drain()
        except (OSError, ValueError, IndexError, asyncio.IncompleteReadError):
            pass
        finally:
            writer.close()

    servers = [
        await asyncio.start_server(answer, "127.0.0.1", 0, backlog=4096) for _ in range(ports)
    ]
    ready.put([s.sockets[0].getsockname()[1] for s in servers])
    await asyncio.Event().wait()


def _targets(ports: int, flags, ready) -> None:
    raise_fd_limit()
    asyncio.run(_serve(ports, flags, ready))


# -- the monitors -----------------------------------------------------------------------------


def hanging(n: int, permille: int) -> bool:
    return (n * 104729) % 1000 < permille


def create_sites(args) -> list[int]:
    """N sites over N / 200 clients (no default monitors: those come from the import)."""
    from caredesk.clients.models import Organisation, Site

    organisations = [
        Organisation.objects.create(name=f"Bench client {n:03d}")  # save() makes the slug
        for n in range(max(1, args.monitors // 200))
    ]
    sites = Site.objects.bulk_create(
        (
            Site(
                organisation=organisations[n % len(organisations)],
                name=NAME.format(n),
                url=f"http://s{n}.sites.bench/",
            )
            for n in range(args.monitors)
        ),
        batch_size=2000,
    )
    return [site.pk for site in sites]


def import_csv(args, site_ids: list[int], ports: list[int]) -> bytes:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(["url", "site", "interval", "timeout", "keyword", "allow_private"])
    for n, site_id in enumerate(site_ids):
        path = f"/hang/{n}" if hanging(n, args.hanging_permille) else f"/site/{n}"
        url = f"http://s{n}.sites.bench:{ports[n % len(ports)]}{path}"
        writer.writerow([url, site_id, args.interval, args.timeout, "bench shop", "yes"])
    return out.getvalue().encode()


def load_specs():
    from caredesk.monitoring.store import monitor_changes

    return monitor_changes(None, full=True, region="bench").monitors


def due_checks(specs, seconds: float) -> int:
    due = 0
    for spec in specs:
        offset = spread(spec.id, spec.interval)
        if offset < seconds:
            due += int((seconds - offset) // spec.interval) + 1
    return due


# -- the baseline: the engine on memory, in a child process --------------------------------------


def _baseline_child(specs, names, seconds, concurrency, queue) -> None:
    raise_fd_limit()
    from caredesk.lib import netguard
    from caredesk.monitoring.engine import Engine, EngineConfig
    from caredesk.monitoring.engine.memory import MemoryStore

    class Counting(MemoryStore):
        def __init__(self, monitors) -> None:
            super().__init__(monitors)
            self.lags: list[int] = []

        async def save_results(self, outcomes) -> None:
            self.lags.extend(o.lag_ms for o in outcomes)

    async def run() -> dict:
        store = Counting(specs)
        engine = Engine(
            store,
            EngineConfig(region="bench", concurrency=concurrency, summary_seconds=3600),
            resolver=netguard.Resolver(overrides=names),
        )
        before_memory, before_cpu = rss_mb(), cpu_seconds()
        stop = asyncio.Event()
        running = asyncio.create_task(engine.run(stop))
        await asyncio.sleep(seconds)
        peak = rss_mb()
        stop.set()
        await running
        return {
            "checks": engine.stats.checks,
            "missed": engine.stats.missed,
            "cpu": cpu_seconds() - before_cpu,
            "memory": peak - before_memory,
            "lag_p50": percentile(store.lags, 0.5),
            "lag_p99": percentile(store.lags, 0.99),
        }

    queue.put(asyncio.run(run()))


def run_baseline(specs, names, args) -> dict:
    context = multiprocessing.get_context("spawn")
    queue = context.Queue()
    child = context.Process(
        target=_baseline_child,
        args=(specs, names, args.baseline_seconds, args.concurrency, queue),
    )
    child.start()
    result = queue.get(timeout=args.baseline_seconds + 120)
    child.join(30)
    return result


# -- the probe on the database ------------------------------------------------------------------


def measured_store():
    from caredesk.monitoring.store import DbStore

    class MeasuredStore(DbStore):
        """The probe's own store, counting what it is given before it writes it."""

        def __init__(self, *args, **kwargs) -> None:
            super().__init__(*args, **kwargs)
            self.window_end = None
            self.lags: list[int] = []
            self.done: Counter[int] = Counter()  # checks due inside the window, per monitor
            self.failed: Counter[int] = Counter()
            self.healthy: set[int] = set()
            self.thread_cpu = 0.0  # CPU seconds of the database thread

        def _guarded(self, function, *args):
            started = time.thread_time()
            try:
                return DbStore._guarded(function, *args)
            finally:
                self.thread_cpu += time.thread_time() - started

        def save_sync(self, outcomes) -> None:
            for outcome in outcomes:
                due = outcome.checked_at - timedelta(milliseconds=outcome.lag_ms)
                if self.window_end is not None and due < self.window_end:
                    self.lags.append(outcome.lag_ms)
                    self.done[outcome.monitor_id] += 1
                    if not outcome.ok:
                        self.failed[outcome.monitor_id] += 1
            super().save_sync(outcomes)

    return MeasuredStore("bench")


def child_cpu(pid: int) -> float:
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


async def run_probe(args, specs, names, flags, victims_pool) -> dict:
    from caredesk.lib import clock, netguard
    from caredesk.monitoring.engine import Engine, EngineConfig

    store = measured_store()
    store.healthy = {spec.id for spec in specs if "/site/" in spec.url}
    engine = Engine(
        store,
        EngineConfig(region="bench", concurrency=args.concurrency, summary_seconds=3600),
        resolver=netguard.Resolver(overrides=names),
    )
    memory_before, cpu_before = rss_mb(), cpu_seconds()
    loop_before = time.thread_time()
    stop = asyncio.Event()
    running = asyncio.create_task(engine.run(stop))
    # The schedule starts once the monitors are loaded (a second or two for 20 000):
    # the window of checks due starts there too.
    while not engine.monitors:
        await asyncio.sleep(0.01)
    started = time.monotonic()
    store.window_end = clock.now() + timedelta(seconds=args.seconds)
    rng = random.Random(args.seed)
    victims = rng.sample(victims_pool, min(args.down, len(victims_pool)))
    moments = sorted(rng.uniform(args.first_down, args.last_down) for _ in victims)
    downed: dict[int, float] = {}
    plan = list(zip(victims, moments, strict=True))
    next_report = 15.0
    peak = 0.0
    # A few seconds past the window, so every check due inside it has started.
    while (elapsed := time.monotonic() - started) < args.seconds + 5.0:
        while plan and plan[0][1] <= elapsed:
            victim, _ = plan.pop(0)
            flags[victim] = 1
            downed[victim] = time.time()
        if elapsed >= next_report:
            peak = max(peak, rss_mb())
            print(
                f"  {elapsed:5.0f} s: {engine.stats.checks} checks, {len(engine._inflight)} in "
                f"flight, {len(engine._results)} results waiting, {len(downed)} sites down",
                flush=True,
            )
            next_report += 15.0
        await asyncio.sleep(0.1)
    peak = max(peak, rss_mb())
    cpu = cpu_seconds() - cpu_before
    loop_cpu = time.thread_time() - loop_before
    stop.set()
    await running
    await asyncio.to_thread(store.close)
    return {
        "store": store,
        "engine": engine,
        "cpu": cpu,
        "loop_cpu": loop_cpu,
        "db_cpu": store.thread_cpu,
        "wall": time.monotonic() - started,
        "memory": peak - memory_before,
        "peak": peak,
        "downed": downed,
    }


async def wait_for_alerts(downed: dict[int, float], mailbox: Mailbox, seconds: float) -> None:
    names = {NAME.format(n) for n in downed}
    deadline = time.time() + seconds
    while time.time() < deadline:
        with mailbox.lock:
            seen = {site for _, _, text in mailbox.arrivals for site in down_sites(text)}
        if names <= seen:
            return
        await asyncio.sleep(0.5)


# -- stored history -----------------------------------------------------------------------------


def table_bytes(table: str) -> int:
    from django.db import connection

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
        return cursor.fetchone()[0] or 0


def stored_history() -> dict:
    from caredesk.monitoring.models import CheckResult

    rows = CheckResult.objects.count()
    size = table_bytes(CheckResult._meta.db_table)
    return {"rows": rows, "bytes": size}


# -- the report ---------------------------------------------------------------------------------


def latency_figures(downed, mailbox, known_down: set[str]) -> dict:
    names = {NAME.format(n): at for n, at in downed.items()}
    first: dict[str, float] = {}
    false = []
    subjects = []
    for arrived, subject, text in sorted(mailbox.arrivals):
        subjects.append(subject)
        if subject.startswith("PROBE:"):
            false.append(subject)
        for site in down_sites(text):
            if site in names and arrived >= names[site]:
                first.setdefault(site, arrived)
            elif site not in known_down:
                false.append(site)
    latencies = sorted(first[s] - at for s, at in names.items() if s in first)
    return {
        "latencies": latencies,
        "missing": sorted(set(names) - set(first)),
        "false": false,
        "emails": len(mailbox.arrivals),
    }


def report(args, specs, baseline, result, alerts, history, worker_cpu, import_seconds) -> None:
    from django.db import connection

    store, engine = result["store"], result["engine"]
    number = {spec.id: int(spec.url.rsplit("/", 1)[-1]) for spec in specs}
    # Sites never taken down: their regular checks are exactly the ones due.
    steady = [s for s in specs if s.id in store.healthy and number[s.id] not in result["downed"]]
    due = due_checks(steady, args.seconds)
    done = sum(store.done[s.id] for s in steady)
    unexpected = sum(store.failed[s.id] for s in steady)
    checks = engine.stats.checks
    cpu_ms = result["cpu"] / checks * 1000 if checks else 0.0
    base_ms = baseline["cpu"] / baseline["checks"] * 1000 if baseline["checks"] else 0.0
    per_1000 = 1000 / args.monitors
    lags = store.lags
    print()
    print(
        f"== uptime monitoring on {connection.vendor}: {args.monitors} monitors every "
        f"{args.interval:g} s for {args.seconds:g} s ({len(specs) - len(store.healthy)} hanging, "
        f"{args.concurrency} checks at once); imported in {import_seconds:.0f} s"
    )
    print(
        f"sites never taken down: {done} checks done of {due} due, {unexpected} failed "
        f"({len(specs) - len(steady)} sites hang or were taken down)"
    )
    print(f"slots missed (a whole interval behind): {engine.stats.missed}")
    print(
        f"schedule lag: p50 {percentile(lags, 0.5)} ms, p99 {percentile(lags, 0.99)} ms, "
        f"max {max(lags, default=0)} ms"
    )
    print(
        f"CPU (probe process: engine, database writes, incidents, alert receivers): "
        f"{result['cpu']:.1f} s for {checks} checks = {cpu_ms:.2f} ms a check, "
        f"{result['cpu'] / result['wall'] * 100:.0f}% of one core; "
        f"{result['cpu'] / args.seconds * 60 * per_1000:.2f} CPU s per 1 000 monitors a minute"
    )
    print(
        f"  of which the event loop (checks) {result['loop_cpu'] / checks * 1000:.2f} ms and the "
        f"database thread (results, incidents, tickets, alert records) "
        f"{result['db_cpu'] / checks * 1000:.2f} ms a check"
    )
    print(f"  the worker sending alerts: {worker_cpu:.1f} s CPU")
    print(
        f"memory: {result['memory']:.0f} MB ({result['memory'] * per_1000:.1f} MB per 1 000 "
        f"monitors), peak RSS {result['peak']:.0f} MB"
    )
    print(
        f"== baseline, same monitors and sites: the engine on an in-memory store for "
        f"{args.baseline_seconds:g} s: {baseline['checks']} checks, {baseline['missed']} missed, "
        f"lag p50 {baseline['lag_p50']} ms p99 {baseline['lag_p99']} ms, {base_ms:.2f} ms CPU a "
        f"check, {baseline['memory'] * per_1000:.1f} MB per 1 000 monitors"
    )
    if base_ms:
        print(
            f"ratio database / memory: CPU a check {cpu_ms / base_ms:.2f}x, memory "
            f"{result['memory'] / max(baseline['memory'], 0.1):.2f}x"
        )
    target = args.interval + 15
    latencies = alerts["latencies"]
    p50, p95 = percentile(latencies, 0.5), percentile(latencies, 0.95)
    print(
        f"== alerts: {len(result['downed'])} sites taken down, {alerts['emails']} emails "
        f"received; site down -> alert email p50 {p50:.1f} s, p95 {p95:.1f} s, max "
        f"{max(latencies, default=float('nan')):.1f} s; target interval + 15 s = {target:g} s: "
        f"p95 {p95 / target:.2f}x ({'met' if p95 <= target else 'NOT met'})"
    )
    print(f"false alerts: {len(alerts['false'])} {alerts['false'] or ''}")
    if alerts["missing"]:
        print(f"never alerted: {', '.join(alerts['missing'])}")
    rows, size = history["rows"], history["bytes"]
    row_bytes = size / rows if rows else 0.0
    month_rows = 1000 * 30 * 86400 / args.interval
    print(
        f"== stored history: {rows} raw results, {size / 1e6:.1f} MB = {row_bytes:.0f} bytes a "
        f"result here; per 1 000 monitors at {args.interval:g} s: "
        f"{month_rows * row_bytes / 1e9:.2f} GB for 30 days of raw results (a constant: older "
        "ones are pruned); rollups: bench_probe.py --storage"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--monitors", type=int, default=2000)
    parser.add_argument("--seconds", type=float, default=180.0)
    parser.add_argument("--baseline-seconds", type=float, default=120.0)
    parser.add_argument("--interval", type=int, default=60)
    parser.add_argument("--timeout", type=int, default=10)
    parser.add_argument("--concurrency", type=int, default=500)
    parser.add_argument("--ports", type=int, default=16)
    parser.add_argument("--hanging-permille", type=int, default=10)
    parser.add_argument("--down", type=int, default=10, help="sites taken down during the run")
    parser.add_argument("--first-down", type=float, default=45.0, help="seconds after start")
    parser.add_argument("--last-down", type=float, default=None, help="default: seconds - 100")
    parser.add_argument("--seed", type=int, default=9)
    args = parser.parse_args()
    if args.last_down is None:
        args.last_down = max(args.first_down, args.seconds - 100)
    fd_limit = raise_fd_limit()

    mailbox = Mailbox()
    from aiosmtpd.controller import Controller

    smtp = Controller(mailbox, hostname="127.0.0.1", port=free_port(), ready_timeout=5)
    smtp.start()
    os.environ["CAREDESK_SMTP_HOST"] = "127.0.0.1"
    os.environ["CAREDESK_SMTP_PORT"] = str(smtp.port)
    from _django import setup

    setup("monitoring")
    from caredesk.alerts.models import AlertChannel, ChannelKind
    from caredesk.monitoring.imports import import_monitors

    context = multiprocessing.get_context("spawn")
    flags = context.Array("b", args.monitors, lock=False)
    ready = context.Queue()
    targets = context.Process(target=_targets, args=(args.ports, flags, ready), daemon=True)
    targets.start()
    worker = None
    try:
        ports = ready.get(timeout=30)
        print(
            f"open-file limit {fd_limit}; {args.monitors} sites on {len(ports)} ports", flush=True
        )
        site_ids = create_sites(args)
        started = time.monotonic()
        imported = import_monitors(import_csv(args, site_ids, ports), dry_run=False)
        import_seconds = time.monotonic() - started
        assert not imported.errors, imported.errors[:5]
        print(f"imported {imported.created} monitors in {import_seconds:.0f} s", flush=True)
        AlertChannel.objects.create(
            name="Bench on-call", kind=ChannelKind.EMAIL, target="oncall@bench.example"
        )
        specs = load_specs()
        names = {f"s{n}.sites.bench": ["127.0.0.1"] for n in range(args.monitors)}
        print(f"baseline: the engine on memory for {args.baseline_seconds:g} s ...", flush=True)
        baseline = run_baseline(specs, names, args)
        worker = start_worker()
        number = {spec.id: int(spec.url.rsplit("/", 1)[-1]) for spec in specs}
        pool = [number[s.id] for s in specs if "/site/" in s.url]
        known_down = {NAME.format(number[s.id]) for s in specs if "/hang/" in s.url}
        print(f"the probe on the database for {args.seconds:g} s ...", flush=True)
        result = asyncio.run(run_probe(args, specs, names, flags, pool))
        asyncio.run(wait_for_alerts(result["downed"], mailbox, args.interval + 60))
        alerts = latency_figures(result["downed"], mailbox, known_down)
        worker_cpu = child_cpu(worker.pid)
        report(args, specs, baseline, result, alerts, stored_history(), worker_cpu, import_seconds)
    finally:
        if worker is not None:
            worker.send_signal(signal.SIGTERM)
            worker.wait(timeout=30)
        targets.terminate()
        smtp.stop()


if __name__ == "__main__":
    main()
