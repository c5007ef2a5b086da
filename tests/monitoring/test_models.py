"""Monitors: one per new site by default, validation, and health the forms cannot clobber."""

import pytest
from django.core.exceptions import ValidationError

from caredesk.clients.models import Site
from caredesk.monitoring.models import Kind, Monitor
from caredesk.monitoring.state import State
from caredesk.monitoring.store import DbStore

from .helpers import at, feed

pytestmark = pytest.mark.django_db


def test_every_new_site_gets_an_http_monitor_of_its_address(org_a):
    site = Site.objects.create(organisation=org_a, name="Shop", url="https://shop.example/")
    monitor = Monitor.objects.get(site=site)
    assert (monitor.kind, monitor.url, monitor.interval_seconds) == (Kind.HTTP, site.url, 60)
    assert monitor.is_default and monitor.enabled and not monitor.allow_private
    assert (monitor.failures_to_down, monitor.recoveries_to_up) == (2, 2)
    assert monitor.state == State.UNKNOWN


def test_the_default_monitor_follows_the_site_address(site_a):
    extra = Monitor.objects.create(site=site_a, kind=Kind.HTTP, url="https://alpha.example/shop")
    site_a.url = "https://www.alpha.example/"
    site_a.save()
    assert Monitor.objects.get(site=site_a, is_default=True).url == "https://www.alpha.example/"
    extra.refresh_from_db()
    assert extra.url == "https://alpha.example/shop"


def test_saving_settings_keeps_the_health_the_probe_wrote(site_a):
    form_copy = Monitor.objects.get(site=site_a)  # loaded before the outage, like an admin form
    feed(DbStore("test"), form_copy, "--")
    form_copy.keyword = "Alpha"
    form_copy.save()
    fresh = Monitor.objects.get(pk=form_copy.pk)
    assert fresh.state == State.DOWN and fresh.keyword == "Alpha"
    assert fresh.updated_at > at(0)


@pytest.mark.parametrize(
    ("fields", "error_field"),
    [
        ({"interval_seconds": 10}, "interval_seconds"),
        ({"interval_seconds": 7200}, "interval_seconds"),
        ({"timeout_seconds": 31}, "timeout_seconds"),
        ({"expected_status": "2xx,abc"}, "expected_status"),
        ({"url": "ftp://alpha.example/"}, "url"),
        ({"kind": Kind.TCP, "host": "alpha.example"}, "port"),
        ({"kind": Kind.TLS, "host": ""}, "host"),
    ],
)
def test_bad_settings_are_refused(site_a, fields, error_field):
    monitor = Monitor(site=site_a, **{"kind": Kind.HTTP, "url": "https://alpha.example/", **fields})
    with pytest.raises(ValidationError) as caught:
        monitor.full_clean()
    assert error_field in caught.value.message_dict


def test_targets_read_well(site_a):
    tcp = Monitor(site=site_a, kind=Kind.TCP, host="alpha.example", port=22)
    assert tcp.target == "alpha.example:22"
    assert str(tcp) == "Alpha shop – TCP port alpha.example:22"


@pytest.mark.parametrize(
    ("fields", "error_field"),
    [
        ({"body": "a=1"}, "body"),  # a GET sends no body
        ({"request_headers": "X-Token abc"}, "request_headers"),
        ({"request_headers": "Content-Length: 5"}, "request_headers"),
        ({"auth_password": "pw"}, "auth_user"),
        ({"auth_user": "a:b"}, "auth_user"),
    ],
)
def test_bad_http_options_are_refused(site_a, fields, error_field):
    monitor = Monitor(site=site_a, kind=Kind.HTTP, url="https://alpha.example/", **fields)
    with pytest.raises(ValidationError) as caught:
        monitor.full_clean()
    assert error_field in caught.value.message_dict


def test_secrets_of_a_monitor_are_encrypted_at_rest(site_a):
    from django.db import connection

    monitor = Monitor(
        site=site_a,
        kind=Kind.HTTP,
        url="https://alpha.example/private",
        method="POST",
        body="a=1",
        request_headers="X-Api-Key: key-in-clear",
        auth_user="monitor",
        auth_password="password-in-clear",
    )
    monitor.full_clean()
    monitor.save()
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT request_headers, auth_password FROM monitoring_monitor WHERE id = %s",
            [monitor.pk],
        )
        headers, password = cursor.fetchone()
    assert "key-in-clear" not in headers and "password-in-clear" not in password
    fresh = Monitor.objects.get(pk=monitor.pk)
    assert (fresh.request_headers, fresh.auth_password) == (
        "X-Api-Key: key-in-clear",
        "password-in-clear",
    )


def test_a_form_saved_after_a_ping_keeps_the_ping(site_a):
    from caredesk.monitoring import heartbeats

    form_copy = Monitor.objects.create(site=site_a, kind=Kind.HEARTBEAT, name="Cron")
    heartbeats.ping(form_copy, agent="cron")
    form_copy.name = "Nightly cron"
    form_copy.save()
    fresh = Monitor.objects.get(pk=form_copy.pk)
    assert fresh.last_ping_source == "cron" and fresh.name == "Nightly cron"
