"""Open one fresh, guarded connection, timing DNS, TCP connect and TLS apart.

Each check makes its own connection (no pool, no TLS session reuse) so its
timings are what a first-time visitor sees. TCP and TLS are separate steps
(``open_connection`` then ``start_tls``) only so that each gets its own timing.
"""

from __future__ import annotations

import asyncio
import math
import os
import ssl
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from caredesk.lib import netguard

from .errors import AddressRefused, ConnectFailed, DnsFailed, TlsFailed
from .spec import Phases

LINE_LIMIT = 64 * 1024  # longest status or header line accepted


@dataclass(slots=True)
class CheckContext:
    """What every check shares: the resolver, the TLS trust store, the region, the wall clock."""

    resolver: netguard.Resolver
    ssl_context: ssl.SSLContext
    region: str
    wall: Callable[[], datetime]


def default_ssl_context() -> ssl.SSLContext:
    """The system's trust store, hostname checking on: the chain a browser would accept.

    One context serves every check; contexts are safe to share and loading
    the trust store per check would cost more than the check itself.
    """
    return ssl.create_default_context()


async def open_stream(
    host: str,
    port: int,
    *,
    context: CheckContext,
    phases: Phases,
    allow_private: bool,
    tls: bool,
) -> tuple[asyncio.StreamReader, asyncio.StreamWriter]:
    """A connection to ``host:port`` through the address guard (and TLS when asked)."""
    phases.begin("dns")
    try:
        addresses = await context.resolver.resolve(host)
    except netguard.ResolveFailed as error:
        raise DnsFailed(str(error)) from None
    phases.end("dns")
    try:
        addresses = netguard.allowed_addresses(host, addresses, allow_private=allow_private)
    except netguard.AddressRefused as error:
        raise AddressRefused(str(error)) from None
    phases.begin("connect")
    reader, writer = await _connect_any(addresses, port)
    phases.end("connect")
    if tls:
        phases.begin("tls")
        try:
            await _start_tls(writer, host, context.ssl_context)
        except BaseException:
            # A failed or timed-out handshake must not keep its socket open.
            writer.transport.abort()
            raise
        phases.end("tls")
    return reader, writer


async def _connect_any(
    addresses: list[str], port: int
) -> tuple[asyncio.StreamReader, asyncio.StreamWriter]:
    # Addresses in the resolver's order; the next one only if one refuses.
    failure: OSError | None = None
    for address in addresses:
        try:
            return await asyncio.open_connection(address, port, limit=LINE_LIMIT)
        except OSError as error:
            failure = error
    raise ConnectFailed(f"cannot connect to {addresses[-1]} port {port}: {_reason(failure)}")


def _reason(error: OSError | None) -> str:
    # asyncio words every refusal "Connect call failed (...)"; the errno says why.
    if error is not None and error.errno:
        return os.strerror(error.errno).lower()
    return str(error or "failed").lower()


async def _start_tls(writer: asyncio.StreamWriter, host: str, ssl_context: ssl.SSLContext) -> None:
    try:
        await writer.start_tls(ssl_context, server_hostname=netguard.ip_literal(host) or host)
    except ssl.SSLCertVerificationError as error:
        raise TlsFailed(f"certificate not valid: {error.verify_message or error.reason}") from None
    except (ssl.SSLError, ConnectionError) as error:
        reason = getattr(error, "reason", None) or error
        raise TlsFailed(f"TLS handshake failed: {reason}") from None


def cert_days_left(writer: asyncio.StreamWriter, now: datetime) -> int | None:
    """Whole days until the peer certificate expires (negative once expired)."""
    ssl_object = writer.get_extra_info("ssl_object")
    certificate = ssl_object.getpeercert() if ssl_object is not None else None
    if not certificate or "notAfter" not in certificate:
        return None
    expires = ssl.cert_time_to_seconds(certificate["notAfter"])
    return math.floor((expires - now.timestamp()) / 86400)


def close(writer: asyncio.StreamWriter) -> None:
    """Let the connection go without waiting for the peer (a check is over once read)."""
    writer.close()
