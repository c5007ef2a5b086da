"""The widget's limits per visitor address and per site, held in the database."""

from datetime import timedelta

from django.test import Client

from caredesk.widget import ratelimit
from caredesk.widget.models import RateCounter

from .conftest import ORIGIN, tickets_url


def test_an_address_over_its_limit_gets_429_with_retry_after(submit, settings, requester_a):
    settings.CAREDESK_WIDGET_RATE_PER_IP = 2
    assert submit().status_code == 201
    assert submit().status_code == 201
    # 09:01 after two submissions of 30 s each: the window ends at 10:00.
    response = submit()
    assert response.status_code == 429
    assert response["Retry-After"] == str(60 * 60 - 90)
    assert response["Access-Control-Allow-Origin"] == ORIGIN
    assert "from your address" in response.json()["detail"]
    assert "59 minutes" in response.json()["detail"]


def test_the_limit_lifts_when_the_window_ends(submit, settings, clock_at_monday, requester_a):
    settings.CAREDESK_WIDGET_RATE_PER_IP = 1
    assert submit().status_code == 201
    assert submit().status_code == 429
    clock_at_monday.shift(timedelta(hours=1))
    assert submit().status_code == 201


def test_another_address_is_counted_on_its_own(submit, settings, requester_a):
    settings.CAREDESK_WIDGET_RATE_PER_IP = 1
    assert submit().status_code == 201
    neighbour = Client(headers={"Origin": ORIGIN}, REMOTE_ADDR="198.51.100.9")
    assert submit(client=neighbour).status_code == 201
    assert submit().status_code == 429


def test_the_whole_site_has_a_limit_across_addresses(submit, settings, requester_a):
    settings.CAREDESK_WIDGET_RATE_PER_SITE = 2
    for n in range(2):
        visitor = Client(headers={"Origin": ORIGIN}, REMOTE_ADDR=f"198.51.100.{n + 1}")
        assert submit(client=visitor).status_code == 201
    late = Client(headers={"Origin": ORIGIN}, REMOTE_ADDR="198.51.100.50")
    response = submit(client=late)
    assert response.status_code == 429
    assert "for this site" in response.json()["detail"]


def test_refused_origins_do_not_use_up_the_sites_allowance(widget_site, settings):
    settings.CAREDESK_WIDGET_RATE_PER_SITE = 1
    evil = Client(headers={"Origin": "https://evil.example"})
    for _ in range(3):
        assert evil.post(tickets_url(widget_site), {}).status_code == 403
    assert not RateCounter.objects.exists()


def test_behind_a_trusted_proxy_the_forwarded_address_counts(submit, settings, requester_a):
    settings.CAREDESK_WIDGET_RATE_PER_IP = 1
    settings.CAREDESK_TRUSTED_PROXIES = ["127.0.0.1"]

    def via_proxy(address):
        return Client(
            headers={"Origin": ORIGIN, "X-Forwarded-For": f"10.9.9.9, {address}"},
            REMOTE_ADDR="127.0.0.1",
        )

    assert submit(client=via_proxy("198.51.100.1")).status_code == 201
    assert submit(client=via_proxy("198.51.100.2")).status_code == 201
    assert submit(client=via_proxy("198.51.100.1")).status_code == 429


def test_counter_is_one_row_per_key_and_window_and_old_rows_go(clock_at_monday, db):
    assert ratelimit.hit("ip:x", 3, 3600) is None
    assert ratelimit.hit("ip:x", 3, 3600) is None
    assert RateCounter.objects.get().count == 2
    clock_at_monday.shift(timedelta(days=2))
    assert ratelimit.hit("ip:x", 3, 3600) is None
    assert RateCounter.objects.count() == 1
