"""Connectors against sites that hang, refuse, answer garbage or lie: clear errors, no crash."""

import json
import time

import pytest

from caredesk.maintenance import connectors
from caredesk.maintenance.connectors import ConnectionConfig, ItemRef, http, signing

KEY = "k" * 64
ROUTE = "/caredesk/v1/inventory"

GOOD_INVENTORY = {
    "connector": "1.0.0",
    "core": {"version": "6.4.2", "update": "6.4.3"},
    "php": "8.2.10",
    "plugins": [
        {
            "slug": "akismet",
            "file": "akismet/akismet.php",
            "name": "Akismet",
            "version": "5.3",
            "active": True,
            "update": "5.3.1",
        }
    ],
    "themes": [{"slug": "twentytwentyfour", "name": "TT4", "version": "1.0", "active": True}],
}


def companion(url, **options):
    return connectors.connect(
        ConnectionConfig(kind="companion", url=url, secret=KEY, allow_private=True, **options)
    )


def test_companion_reads_a_good_inventory(fake_site):
    fake_site.json(ROUTE, GOOD_INVENTORY)

    found = companion(fake_site.url).inventory()

    assert (found.core_version, found.php_version) == ("6.4.2", "8.2.10")
    by_key = {(i.kind, i.slug): i for i in found.items}
    assert by_key[("core", "wordpress")].update == "6.4.3"
    assert by_key[("plugin", "akismet")].update == "5.3.1"
    assert by_key[("theme", "twentytwentyfour")].update == ""


def test_companion_signs_timestamp_nonce_method_route_and_body(fake_site):
    fake_site.json(ROUTE, GOOD_INVENTORY)

    companion(fake_site.url).inventory(refresh=True)

    method, path, headers, body = fake_site.requests[-1]
    assert (method, path) == ("POST", "/?rest_route=/caredesk/v1/inventory")
    assert json.loads(body) == {"refresh": True}
    expected = signing.sign(
        KEY, int(headers["X-Caredesk-Timestamp"]), headers["X-Caredesk-Nonce"], "POST", ROUTE, body
    )
    assert headers["X-Caredesk-Signature"] == expected


def test_two_requests_never_share_a_nonce(fake_site):
    fake_site.json(ROUTE, GOOD_INVENTORY)
    connector = companion(fake_site.url)
    connector.inventory()
    connector.inventory()
    nonces = {headers["X-Caredesk-Nonce"] for _, _, headers, _ in fake_site.requests}
    assert len(nonces) == 2


@pytest.mark.parametrize(
    ("change", "where"),
    [
        (lambda d: d["plugins"][0].update(version=5.3), "plugins.0.version"),
        (lambda d: d["plugins"][0].update(active="yes"), "plugins.0.active"),
        (lambda d: d["plugins"][0].update(version="9" * 5000), "plugins.0.version"),
        (lambda d: d["plugins"][0].update(slug="../../etc"), "plugins.0.slug"),
        (lambda d: d.update(plugins=[d["plugins"][0]] * 5000), "plugins"),
        (lambda d: d.pop("core"), "core"),
        (lambda d: d.update(themes="all of them"), "themes"),
    ],
)
def test_a_site_that_lies_gets_a_bad_answer_naming_the_field(fake_site, change, where):
    data = json.loads(json.dumps(GOOD_INVENTORY))
    change(data)
    fake_site.json(ROUTE, data)

    with pytest.raises(connectors.BadAnswer, match=f"at {where}"):
        companion(fake_site.url).inventory()


def test_html_instead_of_json_is_a_bad_answer(fake_site):
    fake_site.route(ROUTE, body=b"<html>Parked domain</html>")
    with pytest.raises(connectors.BadAnswer, match="did not answer in JSON"):
        companion(fake_site.url).inventory()


def test_a_json_list_where_an_object_is_due_is_a_bad_answer(fake_site):
    fake_site.json(ROUTE, [1, 2, 3])
    with pytest.raises(connectors.BadAnswer):
        companion(fake_site.url).inventory()


def test_an_absurdly_large_answer_is_cut_off(fake_site):
    fake_site.route(ROUTE, body=b"x" * (http.DEFAULT_MAX_BYTES + 1))
    with pytest.raises(connectors.BadAnswer, match="bytes"):
        companion(fake_site.url).inventory()


def test_a_refused_signature_is_auth_refused_with_the_sites_reason(fake_site):
    fake_site.json(
        ROUTE,
        {"code": "caredesk_bad_signature", "message": "The signature does not match."},
        status=401,
    )
    with pytest.raises(connectors.AuthRefused, match="signature does not match"):
        companion(fake_site.url).inventory()


def test_a_site_without_the_plugin_says_so(fake_site):
    fake_site.json(ROUTE, {"code": "rest_no_route", "message": "No route"}, status=404)
    with pytest.raises(connectors.NotConfigured, match="install and activate"):
        companion(fake_site.url).inventory()


def test_a_server_error_page_is_remote_failed_or_bad_answer(fake_site):
    fake_site.route(ROUTE, status=502, body=b"<html>Bad gateway</html>")
    with pytest.raises(connectors.BadAnswer, match="HTTP 502"):
        companion(fake_site.url).inventory()
    fake_site.json(ROUTE, {"code": "x", "message": "Disk full"}, status=500)
    with pytest.raises(connectors.RemoteFailed, match="Disk full"):
        companion(fake_site.url).inventory()


def test_a_hanging_site_times_out_within_the_deadline(fake_site):
    fake_site.route(ROUTE, hang=True)
    started = time.monotonic()
    with pytest.raises(connectors.TimedOut):
        companion(fake_site.url, timeout=0.5).inventory()
    assert time.monotonic() - started < 3


def test_a_site_trickling_its_answer_times_out_on_the_whole_deadline(fake_site):
    fake_site.route(ROUTE, body=json.dumps(GOOD_INVENTORY).encode(), trickle=0.05)
    started = time.monotonic()
    with pytest.raises(connectors.TimedOut):
        companion(fake_site.url, timeout=0.5).inventory()
    assert time.monotonic() - started < 3


def test_a_closed_port_is_unreachable():
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    with pytest.raises(connectors.Unreachable, match="cannot connect"):
        companion(f"http://127.0.0.1:{port}/").inventory()


def test_loopback_is_refused_unless_the_site_allows_private_addresses(fake_site):
    config = ConnectionConfig(kind="companion", url=fake_site.url, secret=KEY)
    with pytest.raises(connectors.Unreachable, match="private address refused"):
        connectors.connect(config).inventory()
    assert fake_site.requests == []


def test_a_short_key_is_not_configured():
    config = ConnectionConfig(kind="companion", url="https://alpha.example/", secret="short")
    with pytest.raises(connectors.NotConfigured, match="companion key"):
        connectors.connect(config)


def test_an_unconnected_site_is_not_configured():
    with pytest.raises(connectors.NotConfigured, match="not connected"):
        connectors.connect(ConnectionConfig(kind="none", url="https://alpha.example/"))


def test_update_answer_for_other_items_than_asked_is_a_bad_answer(fake_site):
    fake_site.json(
        "/caredesk/v1/update",
        {"results": [{"kind": "plugin", "slug": "other", "status": "updated"}]},
    )
    with pytest.raises(connectors.BadAnswer, match="does not match"):
        companion(fake_site.url).update([ItemRef("plugin", "akismet")])


def test_rest_connector_reads_plugins_and_themes_with_basic_auth(fake_site):
    fake_site.json(
        "/wp/v2/plugins",
        [{"plugin": "akismet/akismet", "status": "active", "name": "Akismet", "version": "5.3"}],
    )
    fake_site.json(
        "/wp/v2/themes",
        [
            {
                "stylesheet": "tt4",
                "status": "inactive",
                "name": {"raw": "TT4", "rendered": "TT4"},
                "version": "1.0",
            }
        ],
    )
    config = ConnectionConfig(
        kind="wp_rest", url=fake_site.url, user="ada", secret="abcd efgh ijkl", allow_private=True
    )

    found = connectors.connect(config).inventory()

    assert [(i.kind, i.slug, i.name, i.active) for i in found.items] == [
        ("plugin", "akismet", "Akismet", True),
        ("theme", "tt4", "TT4", False),
    ]
    headers = fake_site.requests[0][2]
    assert headers["Authorization"] == "Basic YWRhOmFiY2RlZmdoaWprbA=="  # ada:abcdefghijkl


def test_rest_connector_cannot_update():
    config = ConnectionConfig(kind="wp_rest", url="https://a.example/", user="a", secret="b")
    with pytest.raises(connectors.Unsupported):
        connectors.connect(config).update([ItemRef("plugin", "akismet")])
