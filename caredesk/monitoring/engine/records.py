"""DNS record checks: ask a nameserver for one record set and compare it with what is expected.

dnspython's asyncio resolver does the asking, so a slow nameserver costs its
own check's slot and nothing else. A monitor may name its nameserver (an
authoritative server, or a test server on loopback); otherwise the probe
machine's resolvers answer. A named nameserver goes through the address guard
like any other address the probe talks to.

Values are compared in a normal form (:func:`normalise`): addresses as Python
writes them, names in lower case without the final dot, MX as ``"10 mx.example"``
(or the exchange alone), TXT as the record's strings joined.
"""

from __future__ import annotations

import ipaddress
import re

import dns.asyncresolver
import dns.exception
import dns.name
import dns.rdatatype
import dns.resolver

from caredesk.lib import netguard

from .errors import AddressRefused, CheckTimedOut, DnsFailed, RecordMismatch
from .spec import RECORD_TYPES, MonitorSpec, Outcome, Phases, parse_nameserver

_LABEL = re.compile(r"^(?!-)[a-z0-9_-]{1,63}(?<!-)$")
ANSWER_SHOWN = 200  # characters of the answer quoted in an error
_system: dns.asyncresolver.Resolver | None = None


def _name(value: str) -> str:
    name = value.strip().lower().rstrip(".")
    if not name or len(name) > 253 or not all(_LABEL.match(label) for label in name.split(".")):
        raise ValueError(f"{value!r} is not a DNS name")
    return name


def check_name(value: str) -> str:
    """A record name as the monitor keeps it; ValueError with a message when it is not one."""
    try:
        return _name(value.encode("idna").decode("ascii"))
    except UnicodeError:
        raise ValueError(f"{value!r} is not a DNS name") from None


def normalise(record_type: str, value: str) -> str:
    """An expected value in the form answers are compared in; ValueError when it cannot be one."""
    text = value.strip()
    if record_type in ("A", "AAAA"):
        try:
            address = ipaddress.ip_address(text)
        except ValueError:
            raise ValueError(f"{text!r} is not an IP address") from None
        if (record_type == "A") != (address.version == 4):
            raise ValueError(f"{text} is not an IPv{4 if record_type == 'A' else 6} address")
        return str(address)
    if record_type in ("CNAME", "NS"):
        return _name(text)
    if record_type == "MX":
        parts = text.split()
        if len(parts) == 2 and parts[0].isdigit():
            return f"{int(parts[0])} {_name(parts[1])}"
        if len(parts) == 1:
            return _name(parts[0])
        raise ValueError(f"{text!r} is not an MX value ('10 mail.example.com' or the host)")
    if record_type == "TXT":
        if len(text) >= 2 and text[0] == text[-1] == '"':
            text = text[1:-1]
        if not text:
            raise ValueError("an expected TXT value cannot be empty")
        return text
    raise ValueError(f"{record_type!r} is not one of {', '.join(RECORD_TYPES)}")


def split_values(text: str) -> list[str]:
    """Expected values as people type them: one per line (a TXT value may hold commas)."""
    return [line.strip() for line in text.splitlines() if line.strip()]


def _found(record_type: str, rdata: object) -> list[str]:
    """The normal forms one answer record matches: MX matches with and without preference."""
    if record_type in ("A", "AAAA"):
        return [str(ipaddress.ip_address(rdata.address))]  # type: ignore[attr-defined]
    if record_type in ("CNAME", "NS"):
        return [rdata.target.to_text(omit_final_dot=True).lower()]  # type: ignore[attr-defined]
    if record_type == "MX":
        exchange = rdata.exchange.to_text(omit_final_dot=True).lower()  # type: ignore[attr-defined]
        return [f"{rdata.preference} {exchange}", exchange]  # type: ignore[attr-defined]
    strings = rdata.strings  # type: ignore[attr-defined]
    return [b"".join(strings).decode("utf-8", "replace")]


def _resolver(spec: MonitorSpec) -> dns.asyncresolver.Resolver:
    global _system
    if spec.nameserver:
        address, port = parse_nameserver(spec.nameserver)
        try:
            netguard.allowed_addresses(address, [address], allow_private=spec.allow_private)
        except netguard.AddressRefused as error:
            raise AddressRefused(f"nameserver refused: {error}") from None
        resolver = dns.asyncresolver.Resolver(configure=False)
        resolver.nameservers = [address]
        resolver.port = port
        return resolver
    if _system is None:
        try:
            _system = dns.asyncresolver.Resolver()
        except dns.resolver.NoResolverConfiguration:
            raise DnsFailed("this machine has no nameservers configured") from None
    return _system


async def check_record(spec: MonitorSpec, phases: Phases, outcome: Outcome) -> None:
    """Fail unless ``spec.host`` has ``spec.record_type`` records holding every expected value."""
    resolver = _resolver(spec)
    phases.begin("dns")
    try:
        answer = await resolver.resolve(
            spec.host,
            spec.record_type,
            raise_on_no_answer=False,
            search=False,
            lifetime=spec.timeout,
        )
    except dns.resolver.NXDOMAIN:
        raise DnsFailed(f"{spec.host} does not exist (NXDOMAIN)") from None
    except dns.resolver.NoNameservers as error:
        raise DnsFailed(f"no nameserver answered for {spec.host}: {error}") from None
    except dns.exception.Timeout:
        raise CheckTimedOut(
            f"no answer from the nameserver within {spec.timeout:g} s (during dns)"
        ) from None
    except (dns.name.NameTooLong, dns.name.EmptyLabel, dns.name.LabelTooLong):
        raise DnsFailed(f"{spec.host!r} is not a DNS name") from None
    except dns.exception.DNSException as error:
        raise DnsFailed(f"DNS lookup of {spec.host} failed: {error}") from None
    phases.end("dns")
    rrset = answer.rrset
    if rrset is None or not len(rrset):
        raise RecordMismatch(f"{spec.host} has no {spec.record_type} record")
    forms = [_found(spec.record_type, rdata) for rdata in rrset]
    found = {form for each in forms for form in each}
    missing = [value for value in spec.expected_values if value not in found]
    if missing:
        # Records come in no set order: sorted, the message is the same every time.
        shown = ", ".join(sorted({each[0] for each in forms}))
        if len(shown) > ANSWER_SHOWN:
            shown = shown[: ANSWER_SHOWN - 1] + "…"
        raise RecordMismatch(
            f"the {spec.record_type} answer for {spec.host} ({shown}) lacks {', '.join(missing)}"
        )


__all__ = ["RECORD_TYPES", "check_name", "check_record", "normalise", "split_values"]
