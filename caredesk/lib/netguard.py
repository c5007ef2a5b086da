"""The outbound-address guard: resolve a host, refuse addresses inside the house.

caredesk fetches URLs that people typed in (monitors, webhooks, connectors).
Left unguarded, a URL pointing at ``127.0.0.1``, a LAN address or a cloud
metadata endpoint (``169.254.169.254``) would let anyone who can add a monitor
probe the machine caredesk runs on. Every outbound connection therefore goes:

1. :meth:`Resolver.resolve` — the host's addresses (IP literals pass through;
   names are looked up once and cached for a short time);
2. :func:`allowed_addresses` — drops every address that is not globally
   routable, unless the admin allowed private targets for this use;
3. connect to one of the addresses returned, never to the name again, so a
   second DNS answer cannot swap in a private address after the check
   ("DNS rebinding").

Pure standard library: the probe engine uses it without Django.
"""

from __future__ import annotations

import asyncio
import ipaddress
import socket
import time
from collections.abc import Callable, Mapping
from concurrent.futures import Executor

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address

DEFAULT_TTL = 60.0  # seconds a DNS answer is reused: failover moves within a minute


class GuardError(Exception):
    """Base of the guard's errors; the message is shown to people as is."""


class ResolveFailed(GuardError):
    """The name does not resolve (no such host, no address, resolver failure)."""


class AddressRefused(GuardError):
    """Every address of the host is private, loopback, link-local, multicast or reserved."""


def refusal_reason(address: IPAddress) -> str | None:
    """Why ``address`` is not a public destination, or None when it is one."""
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped:
        # ::ffff:127.0.0.1 reaches 127.0.0.1; judge the address it maps to.
        return refusal_reason(address.ipv4_mapped)
    if address.is_loopback:
        return "loopback"
    if address.is_link_local:
        return "link-local"
    if address.is_multicast:
        return "multicast"
    if address.is_unspecified:
        return "unspecified"
    if address.is_reserved:
        return "reserved"
    if address.is_private:
        return "private"
    if not address.is_global:
        # Shared address space (100.64/10), documentation ranges and the like.
        return "reserved"
    return None


def allowed_addresses(host: str, addresses: list[str], *, allow_private: bool) -> list[str]:
    """The addresses of ``host`` that may be contacted; raises :class:`AddressRefused` if none.

    With ``allow_private`` every address is returned as is (monitors of
    intranet sites, tests against loopback servers).
    """
    if allow_private:
        return list(addresses)
    allowed = []
    reasons = []
    for text in addresses:
        reason = refusal_reason(ipaddress.ip_address(text.split("%", 1)[0]))
        if reason is None:
            allowed.append(text)
        else:
            reasons.append(f"{text} ({reason})")
    if not allowed:
        where = "" if ip_literal(host) else f"{host} resolves to "
        raise AddressRefused(f"private address refused: {where}{', '.join(reasons)}")
    return allowed


def ip_literal(host: str) -> str | None:
    """``host`` as an address if it is one (``[::1]`` brackets removed), else None."""
    bare = host[1:-1] if host.startswith("[") and host.endswith("]") else host
    try:
        return str(ipaddress.ip_address(bare))
    except ValueError:
        return None


class Resolver:
    """Asynchronous name resolution with a small TTL cache.

    Concurrent look-ups of one name share a single query: a hosting server
    with two hundred sites due in the same second costs one query, not two
    hundred. ``overrides`` maps names to fixed addresses (tests and benchmarks
    use it so that no query ever leaves the machine).
    """

    def __init__(
        self,
        *,
        ttl: float = DEFAULT_TTL,
        overrides: Mapping[str, list[str]] | None = None,
        executor: Executor | None = None,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self.ttl = ttl
        self.overrides = {name.lower(): list(ips) for name, ips in (overrides or {}).items()}
        self.executor = executor
        self.monotonic = monotonic
        self._cache: dict[str, tuple[float, list[str]]] = {}
        self._pending: dict[str, asyncio.Future[list[str]]] = {}
        self.lookups = 0  # queries actually sent to the system resolver

    async def resolve(self, host: str) -> list[str]:
        """The addresses of ``host``; raises :class:`ResolveFailed`."""
        literal = ip_literal(host)
        if literal is not None:
            return [literal]
        name = host.lower().rstrip(".")
        if name in self.overrides:
            return self.overrides[name]
        cached = self._cache.get(name)
        if cached is not None and cached[0] > self.monotonic():
            return cached[1]
        pending = self._pending.get(name)
        if pending is not None:
            return await asyncio.shield(pending)
        return await self._lookup(name)

    async def _lookup(self, name: str) -> list[str]:
        loop = asyncio.get_running_loop()
        future: asyncio.Future[list[str]] = loop.create_future()
        self._pending[name] = future
        try:
            addresses = await self._query(loop, name)
        except ResolveFailed as error:
            future.set_exception(error)
            future.exception()  # retrieved here: nobody else may be waiting for it
            raise
        finally:
            self._pending.pop(name, None)
        self._cache[name] = (self.monotonic() + self.ttl, addresses)
        future.set_result(addresses)
        return addresses

    async def _query(self, loop: asyncio.AbstractEventLoop, name: str) -> list[str]:
        self.lookups += 1
        try:
            infos = await loop.run_in_executor(
                self.executor,
                lambda: socket.getaddrinfo(name, None, type=socket.SOCK_STREAM),
            )
        except (socket.gaierror, UnicodeError) as error:
            raise ResolveFailed(f"cannot resolve {name}: {error}") from None
        addresses = list(dict.fromkeys(str(info[4][0]) for info in infos))
        if not addresses:
            raise ResolveFailed(f"cannot resolve {name}: no address")
        return addresses

    def forget(self) -> None:
        """Drop every cached answer (tests; a probe after a network change)."""
        self._cache.clear()
