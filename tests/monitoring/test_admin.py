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
