"""One check against real servers on 127.0.0.1: what a visitor would see, and why it failed."""

from datetime import timedelta

from caredesk.lib import clock
from caredesk.monitoring.engine.spec import Kind

from .servers import closed_port

DAY = timedelta(days=1)


def url(server, path="/shop", host="shop.test", scheme="http"):
    return f"{scheme}://{host}:{server.port}{path}"


def test_a_site_that_answers_is_up_with_every_timing(web, check):
    web.route("/shop")
    outcome = check(url=url(web), keyword="Alpha shop")
    assert outcome.ok, outcome.error
    assert outcome.status_code == 200
    assert outcome.error_kind == ""
    assert outcome.dns_ms is not None and outcome.connect_ms is not None
    assert outcome.first_byte_ms is not None
    assert outcome.tls_ms is None  # plain HTTP
    assert outcome.total_ms >= outcome.first_byte_ms
    assert outcome.region == "test"


def test_every_check_opens_a_fresh_connection(web, check):
    web.route("/shop")
    for _ in range(3):
        assert check(url=url(web)).ok
    assert web.connections == 3


def test_a_500_is_down_with_the_status_in_the_error(web, check):
    web.route("/shop", status=500, body=b"Internal error")
    outcome = check(url=url(web))
    assert not outcome.ok
    assert outcome.status_code == 500
    assert outcome.error_kind == "status"
    assert outcome.error == "HTTP 500 (expected 200-399)"


def test_expected_status_can_be_anything_the_monitor_says(web, check):
    web.route("/gone", status=410)
    assert check(url=url(web, "/gone"), expected_status=((400, 499),)).ok


def test_a_hanging_site_times_out_within_the_check_timeout(web, check):
    web.route("/shop", hang=True)
    started = clock.now()
    outcome = check(url=url(web), timeout=0.5)
    assert (clock.now() - started).total_seconds() < 1.5
    assert outcome.error_kind == "timeout"
    assert outcome.error == "no complete answer within 0.5 s (during first_byte)"


def test_a_missing_keyword_is_down(web, check):
    web.route("/shop", body=b"<html>Error establishing a database connection</html>")
    outcome = check(url=url(web), keyword="Alpha shop")
    assert outcome.error_kind == "keyword"
    assert outcome.error == "'Alpha shop' is missing from the page"


def test_a_keyword_that_must_be_absent_fails_when_present(web, check):
    web.route("/shop", body=b"<html>Error establishing a database connection</html>")
    outcome = check(url=url(web), keyword="database connection", keyword_absent=True)
    assert outcome.error_kind == "keyword"
    web.route("/shop")
    assert check(url=url(web), keyword="database connection", keyword_absent=True).ok


def test_keywords_are_found_in_chunked_and_close_delimited_bodies(web, check):
    web.route("/chunked", chunked=True)
    web.route("/close", no_length=True)
    for path in ("/chunked", "/close"):
        outcome = check(url=url(web, path), keyword="Alpha shop")
        assert outcome.ok, (path, outcome.error)


def test_a_slow_answer_fails_the_response_time_limit(web, check):
    web.route("/shop", delay=0.3)
    outcome = check(url=url(web), max_response_ms=100)
    assert outcome.error_kind == "slow"
    assert outcome.error.startswith("answered in ")


def test_redirects_are_followed_to_the_final_page(web, check):
    web.route("/old", status=301, headers={"Location": "/shop"})
    web.route("/shop")
    outcome = check(url=url(web, "/old"), keyword="Alpha shop")
    assert outcome.ok and outcome.status_code == 200
    assert web.requests == ["/old", "/shop"]


def test_a_redirect_is_the_answer_when_redirects_are_not_followed(web, check):
    web.route("/old", status=301, headers={"Location": "/shop"})
    outcome = check(url=url(web, "/old"), follow_redirects=False)
    assert outcome.ok and outcome.status_code == 301


def test_a_redirect_loop_is_caught(web, check):
    web.route("/a", status=302, headers={"Location": "/b"})
    web.route("/b", status=302, headers={"Location": "/a"})
    outcome = check(url=url(web, "/a"))
    assert outcome.error_kind == "redirect"
    assert "redirect loop" in outcome.error
    assert web.requests == ["/a", "/b"]


def test_endless_redirects_stop_at_the_limit(web, check):
    for n in range(10):
        web.route(f"/r{n}", status=302, headers={"Location": f"/r{n + 1}"})
    outcome = check(url=url(web, "/r0"), max_redirects=3)
    assert outcome.error == f"more than 3 redirects (last to {url(web, '/r4')})"
    assert len(web.requests) == 4


def test_a_redirect_to_a_private_address_is_refused(web, check):
    # A public page must not bounce the probe onto the machine it runs on.
    web.route("/shop", status=302, headers={"Location": "http://127.0.0.1:9/admin"})
    outcome = check(url=url(web), allow_private=False, max_redirects=2)
    assert outcome.error_kind == "private_address"


def test_a_server_that_hangs_up_without_answering_is_down(web, check):
    web.route("/shop", drop=True)
    outcome = check(url=url(web))
    assert outcome.error_kind == "protocol"
    assert "closed the connection without answering" in outcome.error


def test_a_closed_port_is_a_connect_failure(check):
    outcome = check(url=f"http://127.0.0.1:{closed_port()}/")
    assert outcome.error_kind == "connect"
    assert "connection refused" in outcome.error


def test_loopback_is_refused_without_allow_private_and_nothing_connects(web, check):
    web.route("/shop")
    outcome = check(url=url(web, host="127.0.0.1"), allow_private=False)
    assert outcome.error_kind == "private_address"
    assert outcome.error == "private address refused: 127.0.0.1 (loopback)"
    outcome = check(url=url(web), allow_private=False)
    assert outcome.error == "private address refused: shop.test resolves to 127.0.0.1 (loopback)"
    assert web.connections == 0


def test_an_unknown_name_is_a_dns_failure(check, resolver, monkeypatch):
    import socket

    def no_such_host(*args, **kwargs):
        raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")

    monkeypatch.setattr(socket, "getaddrinfo", no_such_host)
    outcome = check(url="http://nowhere.test/")
    assert outcome.error_kind == "dns"
    assert "cannot resolve nowhere.test" in outcome.error


def test_https_reports_tls_time_and_days_to_expiry(tls_web, check):
    tls_web.route("/shop")
    outcome = check(url=url(tls_web, scheme="https"), keyword="Alpha shop")
    assert outcome.ok, outcome.error
    assert outcome.tls_ms is not None
    assert outcome.cert_days in (363, 364)


def test_an_expired_certificate_fails_https(tls_servers, check):
    now = clock.now()
    server = tls_servers("shop.test", not_before=now - 30 * DAY, not_after=now - DAY)
    server.route("/shop")
    outcome = check(url=url(server, scheme="https"))
    assert outcome.error_kind == "tls"
    assert outcome.error == "certificate not valid: certificate has expired"
    assert server.requests == []


def test_a_certificate_for_another_name_fails_https(tls_servers, check):
    server = tls_servers("other.test")
    server.route("/shop")
    outcome = check(url=url(server, scheme="https"))
    assert outcome.error_kind == "tls"
    assert "Hostname mismatch" in outcome.error


def test_a_certificate_close_to_expiry_is_up_with_its_days_left(tls_servers, check):
    # Not an outage: the server turns cert_days into a warning (test_warnings.py).
    now = clock.now()
    server = tls_servers(
        "soon.test", not_before=now - 80 * DAY, not_after=now + 5 * DAY + timedelta(minutes=1)
    )
    server.route("/shop")
    outcome = check(kind=Kind.TLS, host="soon.test", port=server.port)
    assert outcome.ok, outcome.error
    assert (outcome.error_kind, outcome.cert_days) == ("", 5)
    https = check(url=url(server, host="soon.test", scheme="https"))
    assert https.ok and https.cert_days == 5


def test_a_tls_monitor_reports_a_wrong_name(tls_servers, check):
    server = tls_servers("other.test")
    outcome = check(kind=Kind.TLS, host="shop.test", port=server.port)
    assert outcome.error_kind == "tls"


def test_tcp_checks_connect_and_nothing_more(web, check):
    outcome = check(kind=Kind.TCP, host="shop.test", port=web.port)
    assert outcome.ok and outcome.connect_ms is not None and outcome.status_code is None
    assert web.requests == []
    refused = check(kind=Kind.TCP, host="127.0.0.1", port=closed_port())
    assert refused.error_kind == "connect"


def test_tcp_checks_are_guarded_too(web, check):
    outcome = check(kind=Kind.TCP, host="127.0.0.1", port=web.port, allow_private=False)
    assert outcome.error_kind == "private_address"
    assert web.connections == 0


def test_a_post_sends_its_body_with_a_length_and_a_form_type(web, check):
    web.route("/api/health")
    outcome = check(url=url(web, "/api/health"), method="POST", body="probe=1&deep=yes")
    assert outcome.ok, outcome.error
    request = web.seen[-1]
    assert (request.method, request.body) == ("POST", b"probe=1&deep=yes")
    assert request.headers["content-type"] == "application/x-www-form-urlencoded"
    assert request.headers["content-length"] == "16"


def test_a_post_without_a_body_still_says_its_length(web, check):
    web.route("/ping")
    assert check(url=url(web, "/ping"), method="POST").ok
    assert web.seen[-1].headers["content-length"] == "0"


def test_request_headers_are_sent_and_may_replace_the_defaults(web, check):
    web.route("/api/health")
    headers = (("Content-Type", "application/json"), ("X-Api-Key", "k-123"), ("Accept", "x/y"))
    assert check(url=url(web, "/api/health"), method="POST", body='{"a": 1}', headers=headers).ok
    seen = web.seen[-1].headers
    assert (seen["content-type"], seen["x-api-key"], seen["accept"]) == (
        "application/json",
        "k-123",
        "x/y",
    )
    assert web.seen[-1].body == b'{"a": 1}'


def test_basic_auth_is_sent_to_the_monitors_own_host(web, check):
    web.route("/private", status=200)
    outcome = check(url=url(web, "/private"), auth_user="monitor", auth_password="s3cret:x")
    assert outcome.ok
    assert web.seen[-1].headers["authorization"] == "Basic bW9uaXRvcjpzM2NyZXQ6eA=="


def test_credentials_and_headers_do_not_follow_a_redirect_to_another_host(web, check):
    other = f"http://other.test:{web.port}/landing"
    web.route("/private", status=302, headers={"Location": other})
    web.route("/landing")
    outcome = check(
        url=url(web, "/private"),
        method="POST",
        body="secret=1",
        headers=(("X-Api-Key", "k-123"),),
        auth_user="monitor",
        auth_password="pw",
    )
    assert outcome.ok, outcome.error
    first, second = web.seen[-2:]
    assert first.headers["authorization"].startswith("Basic ")
    assert first.headers["x-api-key"] == "k-123" and first.body == b"secret=1"
    # 302 after POST becomes a GET; and other.test is another origin: nothing of ours goes.
    assert second.method == "GET"
    assert "authorization" not in second.headers and "x-api-key" not in second.headers
    assert second.body == b""


def test_a_307_keeps_the_post_and_its_body_on_the_same_host(web, check):
    web.route("/old", status=307, headers={"Location": "/new"})
    web.route("/new")
    assert check(url=url(web, "/old"), method="POST", body="a=1", auth_user="u").ok
    last = web.seen[-1]
    assert (last.method, last.path, last.body) == ("POST", "/new", b"a=1")
    assert last.headers["authorization"] == "Basic dTo="
