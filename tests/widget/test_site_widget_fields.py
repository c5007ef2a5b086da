"""A site's widget settings: its key, its switch, its allowed origins, in the admin."""

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse

from caredesk.clients.models import Site, origin_of


@pytest.mark.parametrize(
    ("url", "origin"),
    [
        ("https://www.Alpha.example/shop/?q=1", "https://www.alpha.example"),
        ("https://alpha.example:443", "https://alpha.example"),
        ("http://alpha.example:8080/", "http://alpha.example:8080"),
        ("https://bäckerei.example", "https://xn--bckerei-5wa.example"),
        ("http://[::1]:8000", "http://[::1]:8000"),
        ("ftp://alpha.example", None),
        ("alpha.example", None),
        ("https://", None),
        ("https://alpha.example:99999", None),
    ],
)
def test_origin_of_an_address(url, origin):
    assert origin_of(url) == origin


def test_every_site_has_its_own_key(org_a):
    one = Site.objects.create(organisation=org_a, name="One", url="https://one.example/")
    two = Site.objects.create(organisation=org_a, name="Two", url="https://two.example/")
    assert len(one.widget_key) >= 24
    assert one.widget_key != two.widget_key
    assert not one.widget_enabled


def test_listed_origins_are_validated_and_read_one_per_line(site_a):
    site_a.widget_origins = "https://www.alpha.example\n\nhttps://Shop.alpha.example:8443/path"
    site_a.full_clean()
    assert site_a.widget_allowed_origins == {
        "https://www.alpha.example",
        "https://shop.alpha.example:8443",
    }
    site_a.widget_origins = "https://ok.example\nnot an origin"
    with pytest.raises(ValidationError, match="not an origin"):
        site_a.full_clean()


def test_admin_shows_the_snippet_and_turns_the_widget_on(client, admin_user, password, site_a):
    client.login(username=admin_user.email, password=password)
    url = reverse("admin:clients_site_change", args=[site_a.pk])
    page = client.get(url).content.decode()
    assert f'/widget.js" data-site="{site_a.widget_key}" async&gt;' in page
    response = client.post(
        url,
        {
            "organisation": site_a.organisation_id,
            "name": site_a.name,
            "url": site_a.url,
            "platform": site_a.platform,
            "connection": site_a.connection,
            "ssh_port": 22,
            "is_active": "on",
            "widget_enabled": "on",
            "widget_origins": "https://www.alpha.example",
        },
    )
    assert response.status_code == 302, response.content
    site_a.refresh_from_db()
    assert site_a.widget_enabled
    assert site_a.widget_origins == "https://www.alpha.example"


def test_admin_action_gives_a_new_key(client, admin_user, password, site_a):
    old = site_a.widget_key
    client.login(username=admin_user.email, password=password)
    response = client.post(
        reverse("admin:clients_site_changelist"),
        {"action": "new_widget_keys", "_selected_action": [site_a.pk]},
        follow=True,
    )
    assert "have new widget keys" in response.content.decode()
    site_a.refresh_from_db()
    assert site_a.widget_key != old
