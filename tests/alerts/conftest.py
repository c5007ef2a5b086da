"""Incidents driven through the real monitoring store, and real receivers on loopback.

Alerts by email go to an aiosmtpd server (the mail pipeline's ``mailbox``);
Apprise ``json://`` alerts go to a small HTTP server that keeps what it is
posted. Alpha Bakery (``org_a``) is on a KIJO Care plan, so its downtime
tickets get KIJO's "downtime" priority.
"""

from __future__ import annotations

import json
import threading
from datetime import date, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
import time_machine

from caredesk.alerts.models import AlertChannel, Audience, ChannelKind
from caredesk.clients.models import Site
from caredesk.monitoring.models import Monitor
from caredesk.monitoring.store import DbStore
from caredesk.plans.models import Plan, Subscription
from caredesk.sla.policy_io import import_policy, load_preset
from tests.browser.conftest import browser, page  # noqa: F401 - fixtures used here
from tests.mail_pipeline.conftest import mailbox  # noqa: F401
from tests.monitoring.conftest import ca, client_tls, context, resolver, web  # noqa: F401
from tests.monitoring.helpers import T0, at, outcome

__all__ = ["T0", "at", "outcome"]


class _HookHandler(BaseHTTPRequestHandler):
    server: HookServer

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        status = self.server.status
        if status < 400:
            with self.server.lock:
                self.server.posts.append(json.loads(body or b"{}"))
        self.send_response(status)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, *args) -> None:
        pass


class HookServer(ThreadingHTTPServer):
    """A webhook receiver on 127.0.0.1 that keeps every JSON body it accepts."""

    daemon_threads = True

    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), _HookHandler)
        self.posts: list[dict] = []
        self.status = 200
        self.lock = threading.Lock()

    @property
    def url(self) -> str:
        return f"json://127.0.0.1:{self.server_address[1]}/alert"


@pytest.fixture
def hook():
    server = HookServer()
    threading.Thread(target=server.serve_forever, args=(0.02,), daemon=True).start()
    yield server
    server.shutdown()
    server.server_close()


@pytest.fixture
def clock_at():
    """The clock stopped at T0 (Wednesday 10 June 2026, 10:00 in London); ``.move_to`` moves it."""
    with time_machine.travel(T0, tick=False) as traveller:
        yield traveller


@pytest.fixture
def store():
    return DbStore("test")


@pytest.fixture
def kijo(org_a):
    """Alpha Bakery on KIJO Care (downtime: a first response 2 business hours from the alert)."""
    policy = import_policy(load_preset("kijo-care"))
    plan = Plan.objects.create(code="kijo-care", name="KIJO Care", sla_policy=policy)
    Subscription.objects.create(organisation=org_a, plan=plan, start_date=date(2026, 1, 1))
    return policy


@pytest.fixture
def monitor(site_a, kijo) -> Monitor:
    return Monitor.objects.get(site=site_a)


@pytest.fixture
def email_channel(db) -> AlertChannel:
    return AlertChannel.objects.create(
        name="On-call email", kind=ChannelKind.EMAIL, target="oncall@agency.example"
    )


@pytest.fixture
def hook_channel(hook) -> AlertChannel:
    return AlertChannel.objects.create(
        name="Ops webhook", kind=ChannelKind.APPRISE, target=hook.url
    )


@pytest.fixture
def committing(django_capture_on_commit_callbacks):
    """Run a block as if it committed: the incident signals fire, as they do after the probe's."""
    return lambda: django_capture_on_commit_callbacks(execute=True)


@pytest.fixture
def save(store, committing):
    """Save one batch of results and commit it, as the probe's writer does."""

    def save_batch(*outcomes) -> None:
        with committing():
            store.save_sync(list(outcomes))

    return save_batch


@pytest.fixture
def feed_down(save, clock_at):
    """Results for ``monitor`` ("+" good, "-" failed) a minute apart from ``start``.

    The clock follows the checks: each result is written as it is made.
    """

    def feed(monitor: Monitor, marks: str, start: float = 0.0) -> None:
        for index, mark in enumerate(marks):
            clock_at.move_to(at(start + index))
            save(outcome(monitor, at(start + index), mark == "+"))

    return feed


def sites(organisation, count: int) -> list[Monitor]:
    """``count`` more sites of ``organisation``, each with its default monitor."""
    for n in range(count):
        Site.objects.create(
            organisation=organisation, name=f"Site {n:02d}", url=f"https://s{n}.alpha.example/"
        )
    return list(Monitor.objects.filter(site__name__startswith="Site ").order_by("site__name"))


def later(traveller, seconds: float) -> None:
    """Move the stopped clock forward."""
    from caredesk.lib import clock

    traveller.move_to(clock.now() + timedelta(seconds=seconds))


def client_channel(organisation, **fields) -> AlertChannel:
    return AlertChannel.objects.create(
        name=f"{organisation.name} contacts",
        kind=fields.pop("kind", ChannelKind.EMAIL),
        audience=Audience.CLIENT,
        organisation=organisation,
        **fields,
    )
