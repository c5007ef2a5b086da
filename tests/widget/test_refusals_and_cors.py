"""Who may use a site's widget: its key, its switch, its allowed origins; CORS for browsers."""

import pytest
from django.test import Client

from caredesk.tickets.models import Ticket

from .conftest import ORIGIN, form_url, tickets_url


def test_unknown_or_malformed_key_is_a_404_without_cors(browser_client, widget_site):
    for key in ("no-such-key", "bad\x00key", "x" * 300, "key.with.dots", "%00"):
        response = browser_client.post(f"/api/v1/widget/{key}/tickets", {"name": "x"})
        assert response.status_code == 404, key
        assert "Unknown site key" in response.json()["detail"]
        assert "Access-Control-Allow-Origin" not in response


def test_widget_switched_off_is_a_403(browser_client, widget_site):
    widget_site.widget_enabled = False
    widget_site.save()
    response = browser_client.get(form_url(widget_site))
    assert response.status_code == 403
    assert response.json()["detail"] == "The help form is not switched on for this site."
    assert "Access-Control-Allow-Origin" not in response


@pytest.mark.parametrize("switch_off", ["site", "organisation"])
def test_inactive_site_or_client_is_refused(browser_client, widget_site, switch_off):
    target = widget_site if switch_off == "site" else widget_site.organisation
    target.is_active = False
    target.save()
    assert browser_client.get(form_url(widget_site)).status_code == 403


def test_page_of_another_origin_gets_a_clear_403_and_no_cors_header(widget_site):
    client = Client(headers={"Origin": "https://evil.example"})
    response = client.post(tickets_url(widget_site), {"name": "x"})
    assert response.status_code == 403
    assert "https://evil.example may not use" in response.json()["detail"]
    assert "Access-Control-Allow-Origin" not in response
    assert not Ticket.objects.exists()


def test_request_without_origin_is_refused(widget_site):
    response = Client().post(tickets_url(widget_site), {"name": "x"})
    assert response.status_code == 403
    assert "No Origin header" in response.json()["detail"]


def test_origin_match_ignores_case_but_not_scheme_or_port(widget_site):
    assert (
        Client(headers={"Origin": "https://WWW.Alpha.example"})
        .get(form_url(widget_site))
        .status_code
        == 200
    )
    for origin in ("http://www.alpha.example", "https://www.alpha.example:8443"):
        assert Client(headers={"Origin": origin}).get(form_url(widget_site)).status_code == 403


def test_without_listed_origins_the_sites_own_address_is_allowed(widget_site):
    widget_site.widget_origins = ""
    widget_site.save()
    assert (
        Client(headers={"Origin": "https://alpha.example"}).get(form_url(widget_site)).status_code
        == 200
    )
    assert Client(headers={"Origin": ORIGIN}).get(form_url(widget_site)).status_code == 403


def test_preflight_for_an_allowed_origin(browser_client, widget_site):
    response = browser_client.options(
        tickets_url(widget_site),
        headers={"Access-Control-Request-Method": "POST"},
    )
    assert response.status_code == 204
    assert response["Access-Control-Allow-Origin"] == ORIGIN
    assert "POST" in response["Access-Control-Allow-Methods"]
    assert response["Access-Control-Allow-Headers"] == "Content-Type"
    assert response["Vary"] == "Origin"
    form = browser_client.options(form_url(widget_site))
    assert form.status_code == 204
    assert "GET" in form["Access-Control-Allow-Methods"]


def test_preflight_for_another_origin_is_refused(widget_site):
    client = Client(headers={"Origin": "https://evil.example"})
    response = client.options(tickets_url(widget_site))
    assert response.status_code == 403
    assert "Access-Control-Allow-Origin" not in response


def test_form_endpoint_gives_a_token_and_the_file_limit_with_cors(browser_client, widget_site):
    response = browser_client.get(form_url(widget_site))
    assert response.status_code == 200
    body = response.json()
    assert body["token"] and body["max_attachment_mb"] == 25 and body["min_fill_seconds"] == 3
    assert response["Access-Control-Allow-Origin"] == ORIGIN
    assert response["Access-Control-Expose-Headers"] == "Retry-After"
    assert response["Cache-Control"] == "no-store"


def test_no_api_token_or_csrf_token_is_needed_and_a_session_changes_nothing(
    submit, staff, password, requester_a
):
    browser = Client(enforce_csrf_checks=True, headers={"Origin": ORIGIN})
    browser.login(username=staff.email, password=password)
    assert submit(client=browser).status_code == 201
    ticket = Ticket.objects.get()
    assert ticket.requester == requester_a.contact
    assert ticket.events.get(kind="created").actor_user is None
