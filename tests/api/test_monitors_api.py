"""Monitors through the API: staff list, read and bulk-import them; secrets never come back."""

import pytest

from caredesk.lib import clock
from caredesk.monitoring.models import Kind, Monitor, MonitorWarning, WarningKind

pytestmark = pytest.mark.django_db
CSV = "text/csv"
JSON = "application/json"


@pytest.fixture
def api(api_client_for, staff):
    return api_client_for(staff)


def test_staff_import_a_csv_file_checked_whole(api, site_a, site_b):
    data = "\n".join(
        [
            "url,site,kind,interval,method,body,headers,record_type,expected_values,name,grace",
            "https://alpha.example/,Alpha shop,,30,,,,,,,",
            'https://alpha.example/api,Alpha shop,http,,POST,a=1,"X-Api-Key: k1",,,,',
            "alpha.example,Alpha shop,dns,300,,,,MX,10 mx.alpha.example,,",
            ",Beta site,heartbeat,86400,,,,,,Nightly export,3600",
        ]
    )
    response = api.post("/api/v1/monitors/import", data, content_type=CSV)
    assert response.status_code == 200, response.content
    assert response.json() == {
        "dry_run": False,
        "rows": 4,
        "created": 3,
        "updated": 1,
        "unchanged": 0,
        "summary": "4 monitor(s): 3 were created, 1 were updated, 0 unchanged",
    }
    post = Monitor.objects.get(url="https://alpha.example/api")
    assert (post.method, post.body, post.request_headers) == ("POST", "a=1", "X-Api-Key: k1")
    dns = Monitor.objects.get(kind=Kind.DNS)
    assert (dns.host, dns.record_type, dns.interval_seconds) == ("alpha.example", "MX", 300)
    beat = Monitor.objects.get(kind=Kind.HEARTBEAT)
    assert (beat.site, beat.name, beat.grace_seconds) == (site_b, "Nightly export", 3600)
    again = api.post("/api/v1/monitors/import", data, content_type=CSV).json()
    assert (again["created"], again["updated"], again["unchanged"]) == (0, 0, 4)


def test_json_rows_import_the_same_way(api, site_a):
    rows = [
        {
            "url": "https://alpha.example/login",
            "site": "Alpha shop",
            "method": "POST",
            "headers": {"Content-Type": "application/json"},
            "body": '{"probe": true}',
            "auth_user": "monitor",
            "auth_password": "s3cret",
            "follow_redirects": False,
            "interval": 120,
        },
        {
            "url": "alpha.example",
            "site": site_a.pk,
            "kind": "dns",
            "expected_values": ["192.0.2.1"],
        },
    ]
    response = api.post("/api/v1/monitors/import", {"rows": rows}, content_type=JSON)
    assert response.status_code == 200, response.content
    assert response.json()["created"] == 2
    login = Monitor.objects.get(url="https://alpha.example/login")
    assert (login.auth_user, login.auth_password, login.follow_redirects) == (
        "monitor",
        "s3cret",
        False,
    )
    assert login.request_headers == "Content-Type: application/json"
    assert Monitor.objects.get(kind=Kind.DNS).expected_values == "192.0.2.1"


def test_one_bad_row_refuses_the_whole_import_with_every_error(api, site_a):
    rows = [
        {"url": "https://alpha.example/ok", "site": "Alpha shop"},
        {"url": "https://alpha.example/x", "site": "Nobody"},
        {"url": "alpha.example", "site": "Alpha shop", "kind": "dns", "record_type": "SRV"},
        {"site": "Alpha shop", "kind": "heartbeat"},
        {"url": "https://alpha.example/y", "site": "Alpha shop", "colour": "red"},
        "not an object",
        {"url": "https://alpha.example/z", "site": "Alpha shop", "headers": "Host: evil"},
    ]
    response = api.post("/api/v1/monitors/import", rows, content_type=JSON)
    assert response.status_code == 422
    body = response.json()
    assert body["detail"] == "6 error(s) in 7 row(s); nothing imported"
    errors = {e["row"]: e["message"] for e in body["errors"]}
    assert errors[2] == "site 'Nobody' does not exist (import sites first)"
    assert errors[3] == "record_type must be one of A, AAAA, CNAME, MX, TXT, NS"
    assert errors[4] == "a heartbeat row needs a name or a key"
    assert errors[5].startswith("unknown field(s): colour")
    assert errors[6] == "a row must be an object of column: value"
    assert errors[7] == "request_headers: Line 1: Host is set by the probe itself."
    assert not Monitor.objects.filter(url="https://alpha.example/ok").exists()


def test_csv_errors_name_their_lines_and_a_dry_run_writes_nothing(api, site_a):
    bad = "url,site\nhttps://alpha.example/a,Alpha shop\nhttps://alpha.example/b,Nobody\n"
    response = api.post("/api/v1/monitors/import", bad, content_type=CSV)
    assert response.status_code == 422
    assert response.json()["errors"] == [
        {"line": 3, "row": None, "message": "site 'Nobody' does not exist (import sites first)"}
    ]
    good = "url,site\nhttps://alpha.example/a,Alpha shop\n"
    dry = api.post("/api/v1/monitors/import?dry_run=true", good, content_type=CSV)
    assert dry.json()["summary"].startswith("1 monitor(s): 1 would be created")
    assert Monitor.objects.count() == 1  # the site's own


def test_other_bodies_are_refused_with_a_reason(api, site_a):
    assert (
        api.post("/api/v1/monitors/import", "x", content_type="application/xml").status_code == 415
    )
    refused = api.post("/api/v1/monitors/import", "{not json", content_type=JSON)
    assert refused.status_code == 422 and "not JSON" in refused.json()["detail"]
    refused = api.post("/api/v1/monitors/import", {"items": []}, content_type=JSON)
    assert refused.status_code == 422


def test_clients_and_strangers_may_not_import_or_read(api_client_for, manager_a, site_a, client):
    manager = api_client_for(manager_a)
    data = "url,site\nhttps://alpha.example/x,Alpha shop\n"
    assert manager.post("/api/v1/monitors/import", data, content_type=CSV).status_code == 403
    assert manager.get("/api/v1/monitors").status_code == 403
    monitor = Monitor.objects.get(site=site_a)
    assert manager.get(f"/api/v1/monitors/{monitor.pk}").status_code == 403
    assert client.get("/api/v1/monitors").status_code == 401
    assert Monitor.objects.count() == 1


def test_staff_list_and_read_monitors_without_their_secrets(api, site_a, site_b):
    monitor = Monitor.objects.get(site=site_a)
    monitor.request_headers = "X-Api-Key: very-secret-key"
    monitor.auth_user, monitor.auth_password = "monitor", "very-secret-password"
    monitor.save()
    MonitorWarning.objects.create(
        monitor=monitor,
        kind=WarningKind.CERT_EXPIRY,
        opened_at=clock.now(),
        detail="the TLS certificate of alpha.example expires in 9 days",
    )
    beat = Monitor.objects.create(site=site_b, kind=Kind.HEARTBEAT, name="Backup")
    listed = api.get("/api/v1/monitors").json()
    assert listed["count"] == 3
    assert "very-secret" not in str(listed)
    one = api.get(f"/api/v1/monitors/{monitor.pk}").json()
    assert one["header_names"] == ["X-Api-Key"] and one["has_auth"] is True
    assert one["warnings"][0]["kind"] == "cert_expiry"
    assert one["organisation_id"] == site_a.organisation_id
    beat_json = api.get(f"/api/v1/monitors/{beat.pk}").json()
    assert beat_json["ping_url"].endswith(f"/heartbeat/{beat.ping_token}/")
    only_b = api.get(f"/api/v1/monitors?organisation_id={site_b.organisation_id}").json()
    assert [m["id"] for m in only_b["items"]] == [
        m.pk for m in Monitor.objects.filter(site=site_b).order_by("kind", "pk")
    ]
    assert api.get("/api/v1/monitors?kind=heartbeat").json()["count"] == 1
    assert api.get("/api/v1/monitors?kind=smtp").status_code == 422
    assert api.get("/api/v1/monitors/999999").status_code == 404
