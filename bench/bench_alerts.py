"""From a site going down to the alert email arriving: the whole path, on one machine.

N target sites are real HTTP servers on 127.0.0.1 (a child process; each site
is a path, and a shared flag per site turns it into a 503). Each has its
default monitor at a 60 s interval with loopback allowed. The real probe
engine runs with the database store (so the real confirmation, incidents and
alert receivers), a real ``db_worker`` process runs the alert delivery job it
enqueues, and the email goes over SMTP to an aiosmtpd server on loopback.

K sites are taken down at random moments; for each, the time from taking it
down to the first alert email naming it is measured, and compared with the
target: interval + 15 s. Alerts naming a site that was not down are false
alerts (the target is none). The figures are split at the incident's first
failed check and its confirmation, read back from the database.

    .venv/bin/python bench/bench_alerts.py --quick     # 30 sites, 6 down, under 3 minutes
    .venv/bin/python bench/bench_alerts.py             # 200 sites, 30 down, about 11 minutes
    BENCH_DATABASE_URL=postgres://postgres@127.0.0.1:5432/bench_alerts .venv/bin/python ...
"""

import argparse
import asyncio
import multiprocessing
import os
import random
import re
import signal
import socket
import subprocess
import sys
import threading
import time
from email import policy
from email.parser import BytesParser
from pathlib import Path

OK = (
    b"HTTP/1.1 200 OK\r\nContent-Length: 27\r\nConnection: close\r\n\r\nWelcome to the bench bakery"
)
DOWN = b"HTTP/1.1 503 Service Unavailable\r\nContent-Length: 4\r\nConnection: close\r\n\r\ndown"
SITE_LINE = re.compile(r"^- (Bench site \d+)[ :]", re.MULTILINE)


# -- target sites (child process) -----------------------------------------------------------


async def _serve(flags, ready) -> None:
    async def answer(reader, writer):
        try:
            head = await reader.readuntil(b"\r\n\r\n")
            number = int(head.split(b" ", 2)[1].rsplit(b"/", 1)[-1])
            writer.write(DOWN if flags[number] else OK)
            await writer.drain()
        except (OSError, ValueError, IndexError, asyncio.IncompleteReadError):
            pass
        finally:
            writer.close()

    server = await asyncio.start_server(answer, "127.0.0.1", 0, backlog=1024)
    ready.put(server.sockets[0].getsockname()[1])
    await asyncio.Event().wait()


def _targets(flags, ready) -> None:
    asyncio.run(_serve(flags, ready))


# -- the on-call mailbox -----------------------------------------------------------------------


class Mailbox:
    def __init__(self) -> None:
        self.arrivals: list[tuple[float, str, str]] = []  # (time, subject, text)
        self.lock = threading.Lock()

    async def handle_DATA(self, server, session, envelope):
        now = time.time()
        message = BytesParser(policy=policy.default).parsebytes(envelope.content)
        text = message.get_body(("plain",)).get_content()
        with self.lock:
            self.arrivals.append((now, str(message["Subject"]), text))
        return "250 2.0.0 delivered"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def down_sites(text: str) -> list[str]:
    """Sites listed as down in an alert (recoveries are listed under BACK UP)."""
    down_part = text.split("BACK UP (")[0]
    return SITE_LINE.findall(down_part)


# -- the run -----------------------------------------------------------------------------------


def build(args, port: int):
    from caredesk.alerts.models import AlertChannel, ChannelKind
    from caredesk.clients.models import Organisation, Site
    from caredesk.monitoring.models import Monitor

    organisation = Organisation.objects.create(name="Bench Bakery")
    for n in range(args.sites):  # each site gets its default monitor
        Site.objects.create(
            organisation=organisation,
            name=f"Bench site {n:04d}",
            url=f"http://127.0.0.1:{port}/site/{n}",
        )
    Monitor.objects.update(allow_private=True, interval_seconds=args.interval, timeout_seconds=5)
    AlertChannel.objects.create(
        name="Bench on-call", kind=ChannelKind.EMAIL, target="oncall@bench.example"
    )


def start_worker() -> subprocess.Popen:
    command = [sys.executable, "-m", "caredesk", "db_worker", "--queue-name", "*"]
    # Its log (a line per task) would drown the figures: it goes to a file.
    log = Path(os.environ["CAREDESK_DATA_DIR"]) / "worker.log"
    print(f"worker log: {log}", flush=True)
    with log.open("ab") as output:
        return subprocess.Popen(command, stdout=output, stderr=output)  # noqa: S603


async def run(args, flags, mailbox: Mailbox) -> dict[int, float]:
    from caredesk.monitoring.engine import Engine, EngineConfig
    from caredesk.monitoring.store import DbStore

    store = DbStore("bench")
    engine = Engine(store, EngineConfig(region="bench", summary_seconds=3600))
    stop = asyncio.Event()
    running = asyncio.create_task(engine.run(stop))
    started = time.time()
    rng = random.Random(args.seed)
    victims = rng.sample(range(args.sites), args.down)
    moments = sorted(rng.uniform(args.first_down, args.last_down) for _ in victims)
    downed: dict[int, float] = {}
    for victim, moment in zip(victims, moments, strict=True):
        await asyncio.sleep(max(0.0, started + moment - time.time()))
        flags[victim] = 1
        downed[victim] = time.time()
        print(f"  {time.time() - started:5.0f} s: Bench site {victim:04d} down", flush=True)
    deadline = time.time() + args.interval + 60
    names = {f"Bench site {n:04d}" for n in downed}
    while time.time() < deadline:
        with mailbox.lock:
            seen = {site for _, _, text in mailbox.arrivals for site in down_sites(text)}
        if names <= seen:
            break
        await asyncio.sleep(0.5)
    stop.set()
    await running
    await asyncio.to_thread(store.close)
    return downed


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))] if ordered else float("nan")


def report(args, downed: dict[int, float], mailbox: Mailbox) -> None:
    from caredesk.monitoring.models import Incident

    first_alert: dict[str, float] = {}
    false_alerts = []
    names = {f"Bench site {n:04d}": at for n, at in downed.items()}
    for arrived, _, text in sorted(mailbox.arrivals):
        for site in down_sites(text):
            if site not in names or arrived < names[site]:
                false_alerts.append(site)
            first_alert.setdefault(site, arrived)
    latencies = [first_alert[s] - at for s, at in names.items() if s in first_alert]
    missing = sorted(set(names) - set(first_alert))
    detect, confirm, sending = [], [], []
    for incident in Incident.objects.select_related("monitor__site"):
        name = incident.monitor.site.name
        if name not in names:
            continue
        detect.append(incident.started_at.timestamp() - names[name])
        confirm.append(incident.confirmed_at.timestamp() - names[name])
        if name in first_alert:
            sending.append(first_alert[name] - incident.confirmed_at.timestamp())
    target = args.interval + 15
    p50, p95 = percentile(latencies, 0.5), percentile(latencies, 0.95)
    print()
    print(
        f"== alert latency: {args.sites} sites every {args.interval:g} s, {len(downed)} taken "
        f"down at random, grouping window {args.group_seconds:g} s"
    )
    print(
        f"emails received: {len(mailbox.arrivals)}; sites alerted {len(first_alert)}/{len(names)}"
    )
    print(
        f"site down -> first failed check: p50 {percentile(detect, 0.5):.1f} s, "
        f"p95 {percentile(detect, 0.95):.1f} s"
    )
    print(
        f"site down -> confirmed:          p50 {percentile(confirm, 0.5):.1f} s, "
        f"p95 {percentile(confirm, 0.95):.1f} s"
    )
    print(
        f"site down -> alert email:        p50 {p50:.1f} s, p95 {p95:.1f} s, "
        f"max {max(latencies, default=float('nan')):.1f} s"
    )
    print(
        f"confirmed -> alert email:        p50 {percentile(sending, 0.5):.1f} s, "
        f"p95 {percentile(sending, 0.95):.1f} s (grouping window, worker, SMTP)"
    )
    verdict = "met" if p95 <= target else "NOT met"
    print(
        f"target interval + 15 s = {target:g} s: p50 {p50 / target:.2f}x, p95 {p95 / target:.2f}x "
        f"of the target ({verdict})"
    )
    print(f"false alerts: {len(false_alerts)} {false_alerts or ''}")
    if missing:
        print(f"never alerted: {', '.join(missing)}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="30 sites, 6 down, < 3 minutes")
    parser.add_argument("--sites", type=int, default=200)
    parser.add_argument("--down", type=int, default=30)
    parser.add_argument("--interval", type=int, default=60)
    parser.add_argument("--first-down", type=float, default=60.0, help="seconds after start")
    parser.add_argument("--last-down", type=float, default=540.0)
    parser.add_argument("--group-seconds", type=float, default=None)
    parser.add_argument("--seed", type=int, default=9)
    args = parser.parse_args()
    if args.quick:
        args.sites, args.down, args.first_down, args.last_down = 30, 6, 10.0, 50.0

    mailbox = Mailbox()
    from aiosmtpd.controller import Controller

    smtp = Controller(mailbox, hostname="127.0.0.1", port=free_port(), ready_timeout=5)
    smtp.start()
    os.environ["CAREDESK_SMTP_HOST"] = "127.0.0.1"
    os.environ["CAREDESK_SMTP_PORT"] = str(smtp.port)
    sys.path.insert(0, str(Path(__file__).resolve().parent))
    from _django import setup

    setup("alerts")
    from django.conf import settings

    if args.group_seconds is not None:
        # Read where the alerts are recorded (this process: the probe's receivers).
        settings.CAREDESK_ALERT_GROUP_SECONDS = args.group_seconds
    args.group_seconds = float(getattr(settings, "CAREDESK_ALERT_GROUP_SECONDS", 4))

    context = multiprocessing.get_context("spawn")
    flags = context.Array("b", args.sites, lock=False)
    ready = context.Queue()
    targets = context.Process(target=_targets, args=(flags, ready), daemon=True)
    targets.start()
    worker = None
    try:
        port = ready.get(timeout=30)
        build(args, port)
        worker = start_worker()
        print(
            f"{args.sites} sites on 127.0.0.1:{port}; taking {args.down} down between "
            f"{args.first_down:g} s and {args.last_down:g} s ...",
            flush=True,
        )
        downed = asyncio.run(run(args, flags, mailbox))
        report(args, downed, mailbox)
    finally:
        if worker is not None:
            worker.send_signal(signal.SIGTERM)
            worker.wait(timeout=30)
        targets.terminate()
        smtp.stop()


if __name__ == "__main__":
    main()
