"""Every monitoring model has an admin page that loads."""

import pytest
from django.urls import reverse

from caredesk.monitoring.models import Incident, Monitor
from caredesk.monitoring.store import DbStore

from .helpers import feed

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("model", ["monitor", "checkresult", "incident", "hourlyrollup", "probe"])
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
