"""The outbound-address guard: only globally routable addresses unless allowed."""

import asyncio
import ipaddress
import socket

import pytest

from caredesk.lib import netguard

from .helpers import run_async


@pytest.mark.parametrize(
    ("address", "reason"),
    [
        ("127.0.0.1", "loopback"),
        ("127.8.9.10", "loopback"),
        ("::1", "loopback"),
        ("10.1.2.3", "private"),
        ("172.16.0.1", "private"),
        ("192.168.1.1", "private"),
        ("fc00::1", "private"),
        ("169.254.169.254", "link-local"),  # cloud metadata endpoints live here
        ("fe80::1", "link-local"),
        ("224.0.0.1", "multicast"),
        ("ff02::1", "multicast"),
        ("0.0.0.0", "unspecified"),  # noqa: S104 - an address under test, nothing binds it
        ("::", "unspecified"),
        ("100.64.0.1", "reserved"),  # carrier-grade NAT
        ("240.0.0.1", "reserved"),
        ("198.51.100.7", "private"),  # documentation range
        ("::ffff:127.0.0.1", "loopback"),  # IPv4-mapped: judged as the address it maps to
        ("::ffff:10.0.0.1", "private"),
        ("93.184.216.34", None),
        ("2606:4700:4700::1111", None),
    ],
)
def test_refusal_reason(address, reason):
    assert netguard.refusal_reason(ipaddress.ip_address(address)) == reason


def test_private_addresses_are_dropped_and_public_ones_kept():
    kept = netguard.allowed_addresses(
        "mixed.test", ["10.0.0.5", "93.184.216.34"], allow_private=False
    )
    assert kept == ["93.184.216.34"]


def test_a_host_with_only_private_addresses_is_refused_with_a_clear_message():
    with pytest.raises(netguard.AddressRefused) as caught:
        netguard.allowed_addresses("intranet.test", ["10.0.0.5", "::1"], allow_private=False)
    assert str(caught.value) == (
        "private address refused: intranet.test resolves to 10.0.0.5 (private), ::1 (loopback)"
    )


def test_allow_private_lets_everything_through():
    assert netguard.allowed_addresses("x.test", ["127.0.0.1"], allow_private=True) == ["127.0.0.1"]


def test_ip_literals_are_recognised_with_or_without_brackets():
    assert netguard.ip_literal("[::1]") == "::1"
    assert netguard.ip_literal("127.0.0.1") == "127.0.0.1"
    assert netguard.ip_literal("shop.test") is None


class FakeDns:
    """Stands in for the system resolver: answers from a table, counts the queries."""

    def __init__(self, table):
        self.table = table
        self.queries = []

    def __call__(self, host, port, type=0):
        self.queries.append(host)
        if host not in self.table:
            raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")
        return [(socket.AF_INET, type, 6, "", (address, 0)) for address in self.table[host]]


def test_answers_are_cached_for_the_ttl_then_asked_again(monkeypatch):
    dns = FakeDns({"shop.test": ["93.184.216.34"]})
    monkeypatch.setattr(socket, "getaddrinfo", dns)
    now = [100.0]
    resolver = netguard.Resolver(ttl=60, monotonic=lambda: now[0])

    async def resolve_three_times():
        first = await resolver.resolve("shop.test")
        now[0] += 59
        second = await resolver.resolve("SHOP.test.")
        now[0] += 2
        third = await resolver.resolve("shop.test")
        return first, second, third

    assert run_async(resolve_three_times()) == (["93.184.216.34"],) * 3
    assert dns.queries == ["shop.test", "shop.test"]


def test_concurrent_lookups_of_one_name_share_one_query(monkeypatch):
    dns = FakeDns({"host.test": ["93.184.216.34"]})
    monkeypatch.setattr(socket, "getaddrinfo", dns)
    resolver = netguard.Resolver()

    async def many():
        return await asyncio.gather(*(resolver.resolve("host.test") for _ in range(50)))

    assert all(found == ["93.184.216.34"] for found in run_async(many()))
    assert dns.queries == ["host.test"]


def test_a_failed_lookup_is_not_cached(monkeypatch):
    dns = FakeDns({})
    monkeypatch.setattr(socket, "getaddrinfo", dns)
    resolver = netguard.Resolver()

    async def twice():
        for _ in range(2):
            with pytest.raises(netguard.ResolveFailed, match=r"cannot resolve gone\.test"):
                await resolver.resolve("gone.test")

    run_async(twice())
    assert dns.queries == ["gone.test", "gone.test"]


def test_ip_literals_and_overrides_never_query(monkeypatch):
    dns = FakeDns({})
    monkeypatch.setattr(socket, "getaddrinfo", dns)
    resolver = netguard.Resolver(overrides={"pinned.test": ["127.0.0.1"]})

    async def both():
        return await resolver.resolve("10.0.0.1"), await resolver.resolve("pinned.test")

    assert run_async(both()) == (["10.0.0.1"], ["127.0.0.1"])
    assert dns.queries == []
