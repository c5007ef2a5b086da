"""One check of one monitor, start to finish, under one timeout.

The timeout wraps the whole check (DNS, connect, TLS, request, response,
redirects) in a single ``asyncio.timeout``: phases cannot each take their own
timeout in turn, so a check never outlives ``spec.timeout``.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable

from . import http, net, records
from .errors import (
    INTERNAL,
    CheckFailed,
    KeywordMismatch,
    StatusUnexpected,
    TlsFailed,
    TooSlow,
)
from .spec import Kind, MonitorSpec, Outcome, Phases, status_text

logger = logging.getLogger(__name__)
MAX_ERROR = 500  # characters of an error message kept

CheckFunction = Callable[[MonitorSpec, net.CheckContext], Awaitable[Outcome]]


async def run_check(spec: MonitorSpec, context: net.CheckContext) -> Outcome:
    """Check ``spec`` once; every failure becomes an Outcome, nothing is raised."""
    outcome = Outcome(spec.id, context.wall(), context.region, ok=False)
    phases = Phases()
    try:
        async with asyncio.timeout(spec.timeout):
            await KINDS[spec.kind](spec, context, phases, outcome)
        outcome.ok = True
    except CheckFailed as error:
        outcome.error_kind, outcome.error = error.kind, str(error)[:MAX_ERROR]
    except TimeoutError:
        outcome.error_kind = "timeout"
        outcome.error = f"no complete answer within {spec.timeout:g} s (during {phases.current})"
    except Exception as error:
        # A bug here must cost one result, not the probe.
        logger.exception("check of monitor %s failed unexpectedly", spec.id)
        outcome.error_kind, outcome.error = INTERNAL, repr(error)[:MAX_ERROR]
    _timings(outcome, phases)
    return outcome


def _ms(value: float | None) -> int | None:
    return None if value is None else round(value)


def _timings(outcome: Outcome, phases: Phases) -> None:
    outcome.dns_ms = _ms(phases.dns)
    outcome.connect_ms = _ms(phases.connect)
    outcome.tls_ms = _ms(phases.tls)
    outcome.first_byte_ms = _ms(phases.first_byte)
    outcome.total_ms = round(phases.total_ms())


async def check_http(
    spec: MonitorSpec, context: net.CheckContext, phases: Phases, outcome: Outcome
) -> None:
    response = await http.fetch(spec, context, phases)
    outcome.status_code = response.status
    outcome.cert_days = response.cert_days
    if not any(low <= response.status <= high for low, high in spec.expected_status):
        raise StatusUnexpected(
            f"HTTP {response.status} (expected {status_text(spec.expected_status)})"
        )
    if spec.keyword:
        found = spec.keyword.encode() in response.body
        if found and spec.keyword_absent:
            raise KeywordMismatch(f"the page contains {spec.keyword!r}")
        if not found and not spec.keyword_absent:
            raise KeywordMismatch(f"{spec.keyword!r} is missing from the page")
    total = phases.total_ms()
    if spec.max_response_ms and total > spec.max_response_ms:
        raise TooSlow(f"answered in {total:.0f} ms (limit {spec.max_response_ms} ms)")


async def check_tls(
    spec: MonitorSpec, context: net.CheckContext, phases: Phases, outcome: Outcome
) -> None:
    _, writer = await net.open_stream(
        spec.host,
        spec.port or 443,
        context=context,
        phases=phases,
        allow_private=spec.allow_private,
        tls=True,
    )
    try:
        days = net.cert_days_left(writer, context.wall())
    finally:
        net.close(writer)
    outcome.cert_days = days
    # Close to expiry is a warning, raised by the server from cert_days; only an
    # expired certificate is an outage (the handshake normally refuses it already).
    if days is not None and days < 0:
        raise TlsFailed(f"the certificate expired {-days} day(s) ago")


async def check_tcp(
    spec: MonitorSpec, context: net.CheckContext, phases: Phases, outcome: Outcome
) -> None:
    _, writer = await net.open_stream(
        spec.host,
        spec.port,
        context=context,
        phases=phases,
        allow_private=spec.allow_private,
        tls=False,
    )
    net.close(writer)


async def check_dns(
    spec: MonitorSpec, context: net.CheckContext, phases: Phases, outcome: Outcome
) -> None:
    await records.check_record(spec, phases, outcome)


KINDS: dict[Kind, Callable[[MonitorSpec, net.CheckContext, Phases, Outcome], Awaitable[None]]] = {
    Kind.HTTP: check_http,
    Kind.TLS: check_tls,
    Kind.TCP: check_tcp,
    Kind.DNS: check_dns,
}
