"""The heartbeat address a client's cron job or backup calls: ``/heartbeat/<token>/``.

Public by design (the token is the secret) and as quiet as it can be: it
answers ``OK`` or ``Not found`` in plain text and says nothing else — not
whose heartbeat it is, not whether a token ever existed, not the state of
anything. GET, HEAD and POST all count (a POST's body is not read); the
caller's address, method and User-Agent are recorded with the ping.

Rate limits (CAREDESK_HEARTBEAT_RATE_PER_MINUTE per heartbeat,
CAREDESK_HEARTBEAT_MISSES_PER_HOUR per address for unknown tokens) keep a
runaway loop or a token guesser from filling the database; a limited call
gets 429 with Retry-After.
"""

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_http_methods

from caredesk.monitoring import heartbeats
from caredesk.widget import intake, ratelimit

MINUTE, HOUR = 60, 3600


def _plain(text: str, status: int = 200, **headers: str) -> HttpResponse:
    response = HttpResponse(f"{text}\n", status=status, content_type="text/plain; charset=utf-8")
    response["Cache-Control"] = "no-store"
    response["X-Robots-Tag"] = "noindex"
    for name, value in headers.items():
        response[name.replace("_", "-")] = value
    return response


def _limited(key: str, limit: int, window: int) -> HttpResponse | None:
    wait = ratelimit.hit(key, limit, window)
    if wait is None:
        return None
    return _plain("Too many requests", 429, Retry_After=str(wait))


@csrf_exempt
@require_http_methods(["GET", "HEAD", "POST"])
def ping(request: HttpRequest, token: str) -> HttpResponse:
    address = intake.client_ip(request)
    monitor = heartbeats.find(token)
    if monitor is None:
        misses = int(getattr(settings, "CAREDESK_HEARTBEAT_MISSES_PER_HOUR", 60))
        refused = _limited(f"heartbeat-miss:{address or 'unknown'}", misses, HOUR)
        return refused or _plain("Not found", 404)
    per_minute = int(getattr(settings, "CAREDESK_HEARTBEAT_RATE_PER_MINUTE", 10))
    refused = _limited(f"heartbeat:{monitor.pk}", per_minute, MINUTE)
    if refused is not None:
        return refused
    heartbeats.ping(
        monitor,
        address=address,
        method=request.method or "",
        agent=request.headers.get("User-Agent", "")[:200],
    )
    return _plain("OK")
