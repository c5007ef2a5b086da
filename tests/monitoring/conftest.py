"""Servers on loopback, a private certificate authority, and a check context that trusts it.

Names like ``shop.test`` are pinned to 127.0.0.1 in the resolver, so no test
ever sends a DNS query (or anything else) off the machine.
"""

import ssl
from datetime import timedelta

import pytest
import trustme

from caredesk.lib import clock, netguard
from caredesk.monitoring.engine import CheckContext, MonitorSpec, run_check

from .helpers import run_async
from .servers import TargetServer

NAMES = ("shop.test", "other.test", "old.test", "soon.test")


@pytest.fixture(scope="session")
def ca() -> trustme.CA:
    return trustme.CA()


def server_context(ca: trustme.CA, *names: str, **validity) -> ssl.SSLContext:
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ca.issue_cert(*names, **validity).configure_cert(context)
    return context


@pytest.fixture
def web():
    server = TargetServer().start()
    yield server
    server.stop()


def _tls_server(ca, *names, **validity):
    return TargetServer(tls=server_context(ca, *names, **validity)).start()


@pytest.fixture
def tls_web(ca):
    """HTTPS for shop.test with a certificate good for a year."""
    now = clock.now()
    server = _tls_server(
        ca, "shop.test", not_before=now - timedelta(days=1), not_after=now + timedelta(days=365)
    )
    yield server
    server.stop()


@pytest.fixture
def tls_servers(ca):
    """A function starting an HTTPS server with a certificate for ``names`` and given validity."""
    started = []

    def start(*names, **validity):
        server = _tls_server(ca, *names, **validity)
        started.append(server)
        return server

    yield start
    for server in started:
        server.stop()


@pytest.fixture
def resolver() -> netguard.Resolver:
    return netguard.Resolver(overrides={name: ["127.0.0.1"] for name in NAMES})


@pytest.fixture
def client_tls(ca) -> ssl.SSLContext:
    context = ssl.create_default_context()
    ca.configure_trust(context)
    return context


@pytest.fixture
def context(resolver, client_tls) -> CheckContext:
    return CheckContext(resolver, client_tls, "test", clock.now)


@pytest.fixture
def check(context):
    """Run one check of a spec (monitor id 1, loopback allowed unless said otherwise)."""

    def run(**spec):
        spec.setdefault("id", 1)
        spec.setdefault("allow_private", True)
        spec.setdefault("timeout", 3.0)
        return run_async(run_check(MonitorSpec(**spec), context))

    return run
