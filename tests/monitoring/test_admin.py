"""Every monitoring model has an admin page that loads."""

import pytest
from django.urls import reverse

from caredesk.monitoring.models import Incident, Monitor, ProbeToken
from caredesk.monitoring.store import DbStore

from .helpers import feed

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    "model", ["monitor", "checkresult", "incident", "hourlyrollup", "probe", "probetoken"]
)
def test_the_lists_load(client, admin_user, site_a, model):
    feed(DbStore("test"), Monitor.objects.get(site=site_a), "+--")
    client.force_login(admin_user)
    response = client.get(reverse(f"admin:monitoring_{model}_changelist"))
    assert response.status_code == 200


def test_a_monitor_and_an_incident_open_in_the_admin(client, admin_user, site_a):
    monitor = Monitor.objects.get(site=site_a)
    feed(DbStore("test"), monitor, "--")
    client.force_login(admin_user)
    assert (
        client.get(reverse("admin:monitoring_monitor_change", args=[monitor.pk])).status_code == 200
    )
    incident = Incident.objects.get()
    page = client.get(reverse("admin:monitoring_incident_change", args=[incident.pk]))
    assert page.status_code == 200


def test_disabling_from_the_list_is_a_settings_change(client, admin_user, site_a):
    monitor = Monitor.objects.get(site=site_a)
    client.force_login(admin_user)
    client.post(
        reverse("admin:monitoring_monitor_changelist"),
        {"action": "disable", "_selected_action": [monitor.pk]},
    )
    fresh = Monitor.objects.get(pk=monitor.pk)
    assert not fresh.enabled and fresh.updated_at > monitor.updated_at


def test_an_admin_makes_a_probe_token_and_sees_it_once(client, admin_user):
    client.force_login(admin_user)
    response = client.post(
        reverse("admin:monitoring_probetoken_add"),
        {"name": "Frankfurt VM", "region": "eu-central"},
        follow=True,
    )
    token = ProbeToken.objects.get()
    [message] = [str(m) for m in response.context["messages"] if "Copy it now" in str(m)]
    secret = message.rsplit(" ", 1)[-1]
    assert secret.startswith(token.prefix + ".")
    assert ProbeToken.objects.authenticate(secret) == token
    assert (
        secret not in client.get(reverse("admin:monitoring_probetoken_changelist")).content.decode()
    )
    assert token.region == "eu-central"


def test_a_region_name_is_checked(client, admin_user):
    client.force_login(admin_user)
    response = client.post(
        reverse("admin:monitoring_probetoken_add"), {"name": "VM", "region": "eu central!"}
    )
    assert response.status_code == 200 and not ProbeToken.objects.exists()


def test_agents_cannot_see_probe_tokens(client, staff):
    ProbeToken.issue("Frankfurt VM", "eu-central")
    client.force_login(staff)
    assert client.get(reverse("admin:monitoring_probetoken_changelist")).status_code == 403
    assert client.get(reverse("admin:monitoring_probe_changelist")).status_code == 200


def test_revoking_a_probe_token_from_the_list(client, admin_user):
    token, secret = ProbeToken.issue("Frankfurt VM", "eu-central")
    client.force_login(admin_user)
    client.post(
        reverse("admin:monitoring_probetoken_changelist"),
        {"action": "revoke", "_selected_action": [token.pk]},
    )
    assert ProbeToken.objects.authenticate(secret) is None


def _form(monitor: Monitor, **changes) -> dict:
    """The monitor's change form as a browser would post it back."""
    data = {
        "site": monitor.site_id,
        "name": monitor.name,
        "kind": monitor.kind,
        "enabled": "on",
        "key": monitor.key,
        "url": monitor.url,
        "host": monitor.host,
        "port": monitor.port or "",
        "method": monitor.method,
        "expected_status": monitor.expected_status,
        "keyword": monitor.keyword,
        "max_response_ms": "",
        "follow_redirects": "on",
        "body": monitor.body,
        "request_headers": monitor.request_headers,
        "auth_user": monitor.auth_user,
        "auth_password": "",
        "tls_min_days": monitor.tls_min_days,
        "record_type": monitor.record_type,
        "expected_values": monitor.expected_values,
        "nameserver": monitor.nameserver,
        "grace_seconds": monitor.grace_seconds,
        "interval_seconds": monitor.interval_seconds,
        "timeout_seconds": monitor.timeout_seconds,
        "failures_to_down": monitor.failures_to_down,
        "recoveries_to_up": monitor.recoveries_to_up,
        "quorum": "",
    }
    data.update(changes)
    return data


def test_a_basic_auth_password_is_never_shown_and_kept_when_left_empty(client, admin_user, site_a):
    monitor = Monitor.objects.get(site=site_a)
    client.force_login(admin_user)
    url = reverse("admin:monitoring_monitor_change", args=[monitor.pk])
    response = client.post(url, _form(monitor, auth_user="monitor", auth_password="pw-1"))
    assert response.status_code == 302, response.content.decode()[:2000]
    assert Monitor.objects.get(pk=monitor.pk).auth_password == "pw-1"
    page = client.get(url).content.decode()
    assert "pw-1" not in page
    monitor.refresh_from_db()
    client.post(url, _form(monitor, keyword="Alpha"))
    fresh = Monitor.objects.get(pk=monitor.pk)
    assert (fresh.keyword, fresh.auth_password) == ("Alpha", "pw-1")
    client.post(url, _form(fresh, auth_user=""))
    assert Monitor.objects.get(pk=monitor.pk).auth_password == ""


def test_a_heartbeat_shows_its_address_and_recent_pings(client, admin_user, site_a):
    from caredesk.monitoring import heartbeats

    beat = heartbeats.ensure_heartbeat(site_a)
    heartbeats.ping(beat, address="203.0.113.7", method="GET", agent="curl/8")
    client.force_login(admin_user)
    page = client.get(reverse("admin:monitoring_monitor_change", args=[beat.pk])).content.decode()
    assert beat.ping_path in page
    assert "203.0.113.7 GET curl/8" in page
    old = beat.ping_token
    client.post(
        reverse("admin:monitoring_monitor_changelist"),
        {"action": "new_ping_address", "_selected_action": [beat.pk]},
    )
    assert Monitor.objects.get(pk=beat.pk).ping_token != old
    assert client.get(f"/heartbeat/{old}/").status_code == 404


def test_warnings_have_a_list_of_their_own(client, admin_user, site_a):
    client.force_login(admin_user)
    assert client.get(reverse("admin:monitoring_monitorwarning_changelist")).status_code == 200
    listed = client.get(reverse("admin:monitoring_monitor_changelist") + "?warning=open")
    assert listed.status_code == 200
