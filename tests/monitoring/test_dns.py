"""DNS record monitors against a real nameserver on 127.0.0.1: answered, missing, wrong, silent."""

import pytest
from django.core.exceptions import ValidationError

from caredesk.lib import clock
from caredesk.monitoring.engine.records import normalise
from caredesk.monitoring.engine.spec import RECORD_TYPES, Kind
from caredesk.monitoring.models import Monitor, RecordType
from caredesk.monitoring.store import SPEC_FIELDS, spec_from_row

from .dns_server import DnsServer


@pytest.fixture
def nameserver():
    server = DnsServer().start()
    server.records[("shop.test", "A")] = ["192.0.2.10", "192.0.2.11"]
    server.records[("shop.test", "AAAA")] = ["2001:db8::10"]
    server.records[("shop.test", "MX")] = ["10 mx1.shop.test.", "20 MX2.shop.test."]
    server.records[("shop.test", "TXT")] = ['"v=spf1 include:_spf.mail.test ~all"']
    server.records[("shop.test", "NS")] = ["ns1.dns.test."]
    server.records[("www.shop.test", "CNAME")] = ["shop.test."]
    yield server
    server.stop()


def dns_check(check, server, **spec):
    spec.setdefault("host", "shop.test")
    return check(kind=Kind.DNS, nameserver=server.address, **spec)


def test_an_answer_holding_every_expected_value_is_up(check, nameserver):
    outcome = dns_check(check, nameserver, expected_values=("192.0.2.11",))
    assert outcome.ok, outcome.error
    assert outcome.dns_ms is not None and outcome.total_ms is not None
    assert ("shop.test", "A") in nameserver.queries


def test_any_answer_will_do_when_nothing_is_expected(check, nameserver):
    assert dns_check(check, nameserver, record_type="AAAA").ok


@pytest.mark.parametrize(
    ("record_type", "expected"),
    [
        ("AAAA", ("2001:db8::10",)),
        ("MX", ("10 mx1.shop.test", "mx2.shop.test")),
        ("TXT", ("v=spf1 include:_spf.mail.test ~all",)),
        ("NS", ("ns1.dns.test",)),
    ],
)
def test_each_record_type_compares_in_its_own_form(check, nameserver, record_type, expected):
    outcome = dns_check(check, nameserver, record_type=record_type, expected_values=expected)
    assert outcome.ok, outcome.error


def test_a_cname_is_its_target(check, nameserver):
    outcome = dns_check(
        check, nameserver, host="www.shop.test", record_type="CNAME", expected_values=("shop.test",)
    )
    assert outcome.ok, outcome.error


def test_an_answer_without_the_expected_value_is_down(check, nameserver):
    outcome = dns_check(check, nameserver, expected_values=("192.0.2.10", "203.0.113.5"))
    assert not outcome.ok
    assert outcome.error_kind == "record"
    assert outcome.error == (
        "the A answer for shop.test (192.0.2.10, 192.0.2.11) lacks 203.0.113.5"
    )


def test_a_name_without_that_record_is_down(check, nameserver):
    outcome = dns_check(check, nameserver, host="www.shop.test", record_type="MX")
    assert (outcome.ok, outcome.error_kind) == (False, "record")
    assert outcome.error == "www.shop.test has no MX record"


def test_nxdomain_is_down(check, nameserver):
    outcome = dns_check(check, nameserver, host="gone.shop.test")
    assert (outcome.ok, outcome.error_kind) == (False, "dns")
    assert outcome.error == "gone.shop.test does not exist (NXDOMAIN)"


def test_a_failing_nameserver_is_down(check, nameserver):
    nameserver.failing.add("shop.test")
    outcome = dns_check(check, nameserver)
    assert (outcome.ok, outcome.error_kind) == (False, "dns")
    assert "no nameserver answered for shop.test" in outcome.error


def test_a_silent_nameserver_times_out_within_the_check(check, nameserver):
    nameserver.silent.add("shop.test")
    started = clock.now()
    outcome = dns_check(check, nameserver, timeout=1.0)
    # Generous bound: other test runs share the two cores.
    assert (clock.now() - started).total_seconds() < 5
    assert (outcome.ok, outcome.error_kind) == (False, "timeout")


def test_a_private_nameserver_is_refused_unless_allowed(check, nameserver):
    outcome = dns_check(check, nameserver, allow_private=False)
    assert (outcome.ok, outcome.error_kind) == (False, "private_address")
    assert "nameserver refused" in outcome.error
    assert nameserver.queries == []


def test_expected_values_are_normalised_like_answers():
    assert normalise("A", " 192.0.2.1 ") == "192.0.2.1"
    assert normalise("AAAA", "2001:DB8:0::1") == "2001:db8::1"
    assert normalise("MX", "10 MX1.Shop.Test.") == "10 mx1.shop.test"
    assert normalise("CNAME", "Shop.Test.") == "shop.test"
    assert normalise("TXT", '"hello, world"') == "hello, world"
    for record_type, value in (("A", "2001:db8::1"), ("AAAA", "192.0.2.1"), ("MX", "a b c")):
        with pytest.raises(ValueError):
            normalise(record_type, value)


@pytest.mark.django_db
def test_a_dns_monitor_is_validated_and_reaches_the_probe_normalised(site_a):
    monitor = Monitor(
        site=site_a,
        kind=Kind.DNS,
        host="Shop.Example.",
        record_type="MX",
        expected_values="10 MX1.shop.example.\nmx2.shop.example",
        nameserver="192.0.2.53:5353",
    )
    monitor.full_clean()
    monitor.save()
    assert monitor.host == "shop.example"
    assert monitor.target == "shop.example MX"
    row = Monitor.objects.filter(pk=monitor.pk).values(*SPEC_FIELDS).get()
    spec = spec_from_row(row)
    assert spec.expected_values == ("10 mx1.shop.example", "mx2.shop.example")
    assert (spec.kind, spec.record_type, spec.nameserver) == (Kind.DNS, "MX", "192.0.2.53:5353")


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("fields", "error_field"),
    [
        ({"host": "not a name!"}, "host"),
        ({"expected_values": "999.1.1.1"}, "expected_values"),
        ({"nameserver": "ns1.example.com"}, "nameserver"),
        ({"nameserver": "192.0.2.1:99999"}, "nameserver"),
    ],
)
def test_bad_dns_settings_are_refused(site_a, fields, error_field):
    monitor = Monitor(site=site_a, **{"kind": Kind.DNS, "host": "shop.example", **fields})
    with pytest.raises(ValidationError) as caught:
        monitor.full_clean()
    assert error_field in caught.value.message_dict


def test_the_models_record_types_are_the_engines():
    assert tuple(RecordType.values) == RECORD_TYPES
