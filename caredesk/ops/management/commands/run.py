"""The embedded single-machine mode: web server, worker, scheduler and probe in one tree."""

import signal
import subprocess
import sys
import threading
import time

from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand

RESTART_LIMIT = 5  # crashes within RESTART_WINDOW before caredesk gives up
RESTART_WINDOW = 60.0


class Service:
    def __init__(self, name: str, argv: list[str]) -> None:
        self.name = name
        self.argv = argv
        self.process: subprocess.Popen | None = None
        self.crashes: list[float] = []

    def start(self) -> None:
        self.process = subprocess.Popen([sys.executable, "-m", "caredesk", *self.argv])  # noqa: S603

    def exited(self) -> int | None:
        return None if self.process is None else self.process.poll()


class Command(BaseCommand):
    help = "Run caredesk on one machine: migrate, then web server, worker, scheduler, probe."

    def add_arguments(self, parser):
        parser.add_argument("--host", default="127.0.0.1")
        parser.add_argument("--port", type=int, default=8000)
        parser.add_argument("--no-migrate", action="store_true")

    def handle(self, *args, host: str, port: int, no_migrate: bool, **options):
        if not no_migrate:
            call_command("migrate", interactive=False, verbosity=0)
        services = [
            Service("web", ["web", "--host", host, "--port", str(port)]),
            Service("worker", ["db_worker", "--queue-name", "*", "--no-reload", "--interval", "1"]),
            Service("scheduler", ["scheduler"]),
            Service("probe", ["probe", "--region", settings.CAREDESK_PROBE_REGION]),
        ]
        stopping = threading.Event()
        signal.signal(signal.SIGTERM, lambda *_: stopping.set())
        signal.signal(signal.SIGINT, lambda *_: stopping.set())
        for service in services:
            service.start()
        self.stdout.write(
            f"caredesk is running on http://{host}:{port}/ (web, worker, scheduler, probe); "
            "Ctrl-C stops it"
        )
        code = 0
        try:
            while not stopping.wait(0.5):
                failed = self._restart_crashed(services)
                if failed:
                    self.stderr.write(f"{failed} keeps crashing; stopping caredesk")
                    code = 1
                    break
        finally:
            self._stop(services)
        if code:
            sys.exit(code)

    def _restart_crashed(self, services: list[Service]) -> str | None:
        for service in services:
            status = service.exited()
            if status is None:
                continue
            now = time.monotonic()
            service.crashes = [t for t in service.crashes if now - t < RESTART_WINDOW] + [now]
            if len(service.crashes) > RESTART_LIMIT:
                return service.name
            self.stderr.write(f"{service.name} exited with {status}; restarting")
            service.start()
        return None

    def _stop(self, services: list[Service]) -> None:
        for service in services:
            if service.exited() is None:
                service.process.send_signal(signal.SIGTERM)
        deadline = time.monotonic() + 15
        for service in services:
            if service.process is None:
                continue
            try:
                service.process.wait(timeout=max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                service.process.kill()
                service.process.wait()
        self.stdout.write("caredesk stopped")
