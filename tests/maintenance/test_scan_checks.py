"""The scan's checks from outside, each against real HTTP(S) servers on 127.0.0.1.

Every check is asked of a site that shows the problem and of one that does not;
"soft 404" sites (a 200 page for every path) must not be reported for files or
folders they do not really serve.
"""

import datetime
import json
import ssl

import pytest
import trustme

from caredesk.maintenance.scan import checks

from .scan_site import Route, ScanSite

HOME_HEADERS = {
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "SAMEORIGIN",
    "Referrer-Policy": "strict-origin-when-cross-origin",
    "Content-Security-Policy": "default-src 'self'",
}
SOFT_404 = Route(
    status=200,
    body=b"<html><body><h1>Page not found</h1><p>See the index of our pages.</p>"
    b"<footer>Proudly powered by WordPress</footer></body></html>",
)


@pytest.fixture(scope="module")
def ca():
    return trustme.CA()


@pytest.fixture(scope="module")
def trusting(ca):
    """caredesk's side: the test CA is the trust store."""
    context = ssl.create_default_context()
    ca.configure_trust(context)
    return context


def _serve(tls=None):
    return ScanSite(tls).start()


@pytest.fixture
def site():
    server = _serve()
    yield server
    server.stop()


def server_context(cert, *, old_protocols: bool = False) -> ssl.SSLContext:
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    cert.configure_cert(context)
    if old_protocols:
        import warnings

        with warnings.catch_warnings():
            warnings.simplefilter("ignore", DeprecationWarning)
            context.minimum_version = ssl.TLSVersion.TLSv1
        context.set_ciphers("DEFAULT:@SECLEVEL=0")
    return context


@pytest.fixture
def tls_site(ca):
    servers = []

    def make(cert=None, **options):
        server = _serve(server_context(cert or ca.issue_cert("127.0.0.1"), **options))
        servers.append(server)
        return server

    yield make
    for server in servers:
        server.stop()


def run(server, check, context=None):
    def fetch(path, method="GET", **options):
        from urllib.parse import urljoin

        from caredesk.maintenance.connectors import http

        options.setdefault("ssl_context", context)
        return http.request(
            method, urljoin(server.url, path), timeout=10, allow_private=True, **options
        )

    return {f.key: f for f in check(fetch)}


# ---- TLS ----------------------------------------------------------------------------------


def test_a_site_without_https_is_reported(site):
    found = run(site, lambda fetch: checks.check_tls(site.url, fetch))
    assert found["tls:none"].severity == "medium"


def test_a_valid_certificate_and_modern_protocols_raise_nothing(tls_site, trusting):
    server = tls_site()
    assert run(server, lambda fetch: checks.check_tls(server.url, fetch), trusting) == {}


def test_a_certificate_for_another_name_is_invalid(tls_site, ca, trusting):
    server = tls_site(ca.issue_cert("shop.example"))
    found = run(server, lambda fetch: checks.check_tls(server.url, fetch), trusting)
    assert found["tls:invalid"].severity == "high"
    assert "127.0.0.1" in found["tls:invalid"].detail


def test_an_expired_certificate_is_invalid(tls_site, ca, trusting):
    expired = ca.issue_cert(
        "127.0.0.1", not_after=datetime.datetime.now(datetime.UTC) - datetime.timedelta(days=3)
    )
    server = tls_site(expired)
    found = run(server, lambda fetch: checks.check_tls(server.url, fetch), trusting)
    assert set(found) == {"tls:invalid"}


def test_a_certificate_from_an_unknown_authority_is_invalid(tls_site):
    server = tls_site(trustme.CA().issue_cert("127.0.0.1"))
    found = run(
        server, lambda fetch: checks.check_tls(server.url, fetch), ssl.create_default_context()
    )
    assert set(found) == {"tls:invalid"}


def test_a_server_that_still_speaks_tls_1_1_is_reported(tls_site, trusting):
    if checks._old_protocol_context() is None:
        pytest.skip("this OpenSSL cannot speak TLS 1.0/1.1 at all")
    server = tls_site(old_protocols=True)
    found = run(server, lambda fetch: checks.check_tls(server.url, fetch), trusting)
    assert set(found) == {"tls:old-protocol"}


# ---- headers and the version on the home page ---------------------------------------------


def test_a_home_page_without_security_headers_is_reported(site):
    site.route("/", body=b"<html><body>Hello</body></html>")
    found = run(site, checks.check_home)
    assert set(found) == {
        "header:x-content-type-options",
        "header:x-frame-options",
        "header:referrer-policy",
        "header:content-security-policy",
    }
    assert found["header:x-frame-options"].severity == "low"
    assert found["header:content-security-policy"].severity == "info"


def test_a_home_page_with_the_headers_raises_nothing(site):
    site.route("/", headers=HOME_HEADERS)
    assert run(site, checks.check_home) == {}


def test_csp_frame_ancestors_stands_in_for_x_frame_options(site):
    headers = {k: v for k, v in HOME_HEADERS.items() if k != "X-Frame-Options"}
    headers["Content-Security-Policy"] = "frame-ancestors 'self'"
    site.route("/", headers=headers)
    assert run(site, checks.check_home) == {}


def test_https_without_hsts_is_reported_and_with_it_is_not(tls_site, trusting):
    server = tls_site()
    server.route("/", headers=HOME_HEADERS)
    assert set(run(server, checks.check_home, trusting)) == {"header:strict-transport-security"}

    server.route("/", headers={**HOME_HEADERS, "Strict-Transport-Security": "max-age=31536000"})
    assert run(server, checks.check_home, trusting) == {}


def test_the_generator_tag_discloses_the_wordpress_version(site):
    site.route(
        "/",
        headers=HOME_HEADERS,
        body=b'<html><head><meta name="generator" content="WordPress 6.4.2" /></head></html>',
    )
    found = run(site, checks.check_home)
    assert set(found) == {"disclosure:generator"}
    assert "6.4.2" in found["disclosure:generator"].detail


def test_readme_html_is_reported_only_when_it_is_wordpress_s(site):
    assert run(site, checks.check_readme) == {}
    site.fallback = SOFT_404
    assert run(site, checks.check_readme) == {}
    site.route(
        "/readme.html",
        body=b'<!DOCTYPE html>\n<html lang="en">\n<head>\n'
        b"\t<title>WordPress &#8250; ReadMe</title>",
    )
    assert set(run(site, checks.check_readme)) == {"disclosure:readme"}


# ---- exposed files and listings ------------------------------------------------------------


@pytest.mark.parametrize(
    ("path", "body", "key", "severity"),
    [
        (
            "/wp-config.php.bak",
            b"define('DB_NAME', 'shop'); define('DB_PASSWORD', 'x');",
            None,
            "critical",
        ),
        ("/wp-config.php~", b"<?php define( 'DB_PASSWORD', 'x' );", None, "critical"),
        ("/.git/HEAD", b"ref: refs/heads/main\n", None, "high"),
        ("/.env", b"APP_KEY=base64:abc\nDB_PASSWORD=secret\n", None, "critical"),
        ("/wp-content/debug.log", b"[01-Jan-2026 10:00:00 UTC] PHP Warning: x", None, "medium"),
        ("/debug.log", b"PHP Fatal error: y", None, "medium"),
    ],
)
def test_an_exposed_file_is_reported(site, path, body, key, severity):
    site.route(path, body=body)
    found = run(site, checks.check_exposed_files)
    assert set(found) == {f"exposure:{path}"}
    assert found[f"exposure:{path}"].severity == severity


def test_missing_files_and_soft_404_pages_are_not_exposures(site):
    assert run(site, checks.check_exposed_files) == {}
    site.fallback = SOFT_404
    assert run(site, checks.check_exposed_files) == {}
    # A 403 for .git is what a well-set server answers.
    site.route("/.git/HEAD", status=403, body=b"ref: refs/heads/main")
    assert run(site, checks.check_exposed_files) == {}


def test_a_folder_that_lists_its_files_is_reported(site):
    site.route(
        "/wp-content/uploads/",
        body=b"<html><head><title>Index of /wp-content/uploads</title></head>"
        b"<body><h1>Index of /wp-content/uploads</h1><a href='2026/'>2026/</a></body></html>",
    )
    found = run(site, checks.check_listing)
    assert set(found) == {"listing:/wp-content/uploads/"}
    assert found["listing:/wp-content/uploads/"].severity == "medium"


def test_folders_without_listing_raise_nothing(site):
    site.fallback = SOFT_404
    assert run(site, checks.check_listing) == {}
    site.route("/wp-content/uploads/", status=403, body=b"<h1>Index of /wp-content/uploads</h1>")
    site.route("/wp-content/plugins/", body=b"")  # WordPress's own empty index.php
    assert run(site, checks.check_listing) == {}


# ---- user enumeration ---------------------------------------------------------------------


def test_author_redirects_give_away_user_names(site):
    site.route("/?author=1", status=301, headers={"Location": "http://127.0.0.1/author/shopadmin/"})
    found = run(site, checks.check_user_enumeration)
    assert set(found) == {"enumeration:author"}
    assert "shopadmin" in found["enumeration:author"].detail


def test_the_rest_users_list_gives_away_user_names(site):
    users = [{"id": 1, "name": "Shop Admin", "slug": "shopadmin"}, {"id": 2, "slug": "editor"}]
    site.route("/wp-json/wp/v2/users", body=json.dumps(users).encode())
    found = run(site, checks.check_user_enumeration)
    assert set(found) == {"enumeration:rest-users"}
    assert "shopadmin, editor" in found["enumeration:rest-users"].detail


def test_the_rest_users_list_through_rest_route_is_found_too(site):
    site.route("/wp-json/wp/v2/users", status=404, body=b"{}")
    site.route("/?rest_route=/wp/v2/users", body=b'[{"id": 1, "slug": "owner"}]')
    assert set(run(site, checks.check_user_enumeration)) == {"enumeration:rest-users"}


def test_a_site_that_hides_its_users_raises_nothing(site):
    site.fallback = SOFT_404
    site.route("/?author=1", status=301, headers={"Location": "http://127.0.0.1/"})
    site.route(
        "/wp-json/wp/v2/users",
        status=401,
        body=b'{"code":"rest_user_cannot_view","message":"Sorry"}',
    )
    site.route("/?rest_route=/wp/v2/users", status=200, body=b'{"code":"no"}')
    assert run(site, checks.check_user_enumeration) == {}


# ---- xmlrpc -------------------------------------------------------------------------------

METHODS = (
    b"<?xml version='1.0'?><methodResponse><params><param><value><array><data>"
    b"<value><string>%s</string></value></data></array></value></param></params>"
    b"</methodResponse>"
)


def test_xmlrpc_with_multicall_is_a_medium_finding(site):
    site.route("/xmlrpc.php", method="POST", body=METHODS % b"system.multicall")
    found = run(site, checks.check_xmlrpc)
    assert found["xmlrpc:open"].severity == "medium"
    assert "multicall" in found["xmlrpc:open"].detail
    method, path, body = site.requests[-1]
    assert (method, path) == ("POST", "/xmlrpc.php") and b"system.listMethods" in body


def test_xmlrpc_without_multicall_is_low(site):
    site.route("/xmlrpc.php", method="POST", body=METHODS % b"demo.sayHello")
    assert run(site, checks.check_xmlrpc)["xmlrpc:open"].severity == "low"


def test_a_blocked_xmlrpc_raises_nothing(site):
    site.route("/xmlrpc.php", status=403, body=b"Forbidden")
    assert run(site, checks.check_xmlrpc) == {}
    site.route("/xmlrpc.php", status=200, body=b"XML-RPC server accepts POST requests only.")
    assert run(site, checks.check_xmlrpc) == {}


# ---- all together -------------------------------------------------------------------------


def test_run_all_lists_what_it_checked_and_what_it_could_not(site):
    site.route("/", headers=HOME_HEADERS)
    seen = []

    found, done, notes = checks.run_all(site.url, allow_private=True, report=seen.append)

    assert [f.key for f in found] == ["tls:none"]
    assert (
        done
        == seen
        == [
            "tls",
            "home",
            "exposed files",
            "directory listing",
            "user enumeration",
            "xmlrpc",
            "readme",
        ]
    )
    assert notes == []


def test_a_site_on_a_private_address_is_not_checked_unless_allowed(site):
    _, done, notes = checks.run_all(site.url, allow_private=False)
    assert done == ["tls"]  # "no https" is known without asking
    assert len(notes) == 6 and all("private" in n or "loopback" in n for n in notes)


def test_a_site_that_does_not_answer_gets_notes_not_a_crash():
    dead = ScanSite()
    url = dead.url
    dead.server_close()  # the port is closed

    found, _, notes = checks.run_all(url, allow_private=True)

    assert [f.key for f in found] == ["tls:none"]
    assert all("not checked" in n for n in notes) and len(notes) == 6
