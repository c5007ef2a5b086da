"""GET /widget.js: the script a client's site loads, cacheable and loadable from any page."""

from django.test import Client

from caredesk.widget.views import SCRIPT


def test_script_is_served_as_javascript_from_the_desk(db):
    response = Client().get("/widget.js")
    assert response.status_code == 200
    assert response["Content-Type"] == "text/javascript; charset=utf-8"
    assert response.content == SCRIPT.read_bytes()
    assert response["Cache-Control"] == "public, max-age=300"
    assert response["Cross-Origin-Resource-Policy"] == "cross-origin"


def test_unchanged_script_is_answered_with_304(db):
    etag = Client().get("/widget.js")["ETag"]
    again = Client().get("/widget.js", headers={"If-None-Match": etag})
    assert again.status_code == 304
    assert again.content == b""


def test_only_reads_are_allowed(db):
    assert Client().post("/widget.js").status_code == 405


def test_script_leaks_one_global_and_finds_the_desk_from_its_own_src():
    source = SCRIPT.read_text()
    assert source.lstrip().startswith("/*")
    assert "window.caredeskWidget = " in source
    assert source.count("window.") == source.count("window.caredeskWidget")
    assert "document.currentScript" in source
    assert 'attachShadow({ mode: "open" })' in source
