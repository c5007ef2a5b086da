"""``/widget.js``: the script a client's site loads with one tag."""

import hashlib
from functools import cache
from pathlib import Path

from django.http import HttpRequest, HttpResponse, HttpResponseNotModified
from django.views.decorators.http import require_safe

SCRIPT = Path(__file__).with_name("assets") / "widget.js"


@cache
def _script() -> tuple[bytes, str]:
    body = SCRIPT.read_bytes()
    return body, '"' + hashlib.sha256(body).hexdigest()[:20] + '"'


@require_safe
def widget_js(request: HttpRequest) -> HttpResponse:
    body, etag = _script()
    if etag in request.headers.get("If-None-Match", ""):
        response = HttpResponseNotModified()
    else:
        response = HttpResponse(body, content_type="text/javascript; charset=utf-8")
    response["ETag"] = etag
    # Short, so a new version reaches every client site within minutes; the
    # ETag makes the re-check cheap.
    response["Cache-Control"] = "public, max-age=300"
    # Loaded by other sites' pages, some of which may isolate themselves (COEP).
    response["Cross-Origin-Resource-Policy"] = "cross-origin"
    return response
