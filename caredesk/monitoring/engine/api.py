"""The remote probe's store: monitors from, and results to, the caredesk API.

A remote probe has no database. It shows a probe token (``Authorization:
Bearer``) and asks the server's ``/api/v1/probe/`` endpoints:

- ``GET monitors`` — every monitor once a minute (``full=1``), and in between
  only those changed ``since`` the server's cursor, with the re-checks other
  regions ask for;
- ``POST results`` — a batch of results. The server keeps each result once
  (by monitor, region and check time), so a batch sent again after a timeout
  is not counted twice;
- ``POST heartbeat`` — the probe's figures; the server counts the regions
  heard from lately toward the confirmation quorum.

Requests go through ``urllib`` on one thread of their own, so a slow server
never holds up the event loop, and not through the monitors' address guard:
the caredesk server is the agency's own, often on a private network. When the
server is unreachable the engine keeps checking and keeps the results (see
``Engine._flush``); they are sent when it answers again.

Errors::

    ApiError                 the server answered with an error status
    ├── (StoreRefused)       401, 403, 404, or a token for another region
    ApiUnreachable           no answer: refused, reset, timed out, DNS (a ConnectionError)
"""

from __future__ import annotations

import asyncio
import json
import logging
import socket
import ssl
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass
from datetime import datetime
from functools import partial
from typing import Any

from caredesk.lib import clock

from .spec import Outcome
from .store import MonitorChanges, ProbeStatus, StoreRefused
from .wire import JSON, WireError, outcome_to_json, rechecks_from_json, spec_from_json

logger = logging.getLogger("caredesk.probe")
API_PATH = "/api/v1/probe/"
USER_AGENT = "caredesk-probe/1"
SKEW_WARNING_SECONDS = 10.0
# Statuses that mean "this batch can never be stored": dropped with an error logged,
# or it would block every result behind it for ever.
BATCH_REFUSED = frozenset({400, 413, 422})
CONFIGURATION = frozenset({401, 403, 404})  # fixed by a person, not by waiting


class ApiError(Exception):
    def __init__(self, status: int, detail: str) -> None:
        super().__init__(f"HTTP {status}: {detail}")
        self.status = status
        self.detail = detail


class ApiRefused(ApiError, StoreRefused):
    """The server will not serve this probe as configured (token, region, address)."""


class ApiUnreachable(ConnectionError):
    """No answer from the server (refused, reset, timed out, name not found)."""


@dataclass(frozen=True)
class ApiCursor:
    since: str  # the server's clock at the previous answer, handed back as is
    full_at: float  # monotonic time of the last full listing


def _detail(body: bytes) -> str:
    try:
        detail = json.loads(body).get("detail", "")
    except (ValueError, AttributeError):
        detail = body[:200].decode("utf-8", "replace")
    return detail if isinstance(detail, str) else json.dumps(detail)[:500]


class ApiStore:
    def __init__(
        self,
        server: str,
        token: str,
        region: str,
        *,
        name: str | None = None,
        version: str = "",
        timeout: float = 20.0,
        full_every: float = 60.0,
        ssl_context: ssl.SSLContext | None = None,
    ) -> None:
        parts = urllib.parse.urlsplit(server.strip())
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise ValueError(f"{server!r} is not an http:// or https:// address")
        self.base = f"{parts.scheme}://{parts.netloc}{parts.path.rstrip('/')}{API_PATH}"
        self.region = region
        self.name = name or f"{region}@{socket.gethostname()}"
        self.version = version
        self.timeout = timeout
        self.full_every = full_every
        handlers: list[urllib.request.BaseHandler] = []
        if ssl_context is not None:
            handlers.append(urllib.request.HTTPSHandler(context=ssl_context))
        self._opener = urllib.request.build_opener(*handlers)
        self._headers = {
            "Authorization": f"Bearer {token.strip()}",
            "Accept": "application/json",
            "User-Agent": USER_AGENT,
        }
        self._thread = ThreadPoolExecutor(1, thread_name_prefix="probe-api")
        self._skew_warned = False

    def close(self) -> None:
        self._thread.shutdown()

    # -- the Store protocol -----------------------------------------------------------------

    async def load_monitors(self, cursor: object) -> MonitorChanges:
        previous = cursor if isinstance(cursor, ApiCursor) else None
        now = time.monotonic()
        full = previous is None or now - previous.full_at >= self.full_every
        query = {"full": "1"} if previous is None or full else {"since": previous.since}
        data = await self._call("GET", "monitors", query=query)
        if data.get("region") != self.region:
            raise ApiRefused(
                403,
                f"this token is for region {data.get('region')!r}, the probe runs as "
                f"{self.region!r}: start it with --region {data.get('region')}",
            )
        specs = []
        for item in data.get("monitors", []):
            try:
                specs.append(spec_from_json(item))
            except WireError as error:
                # One monitor this probe cannot read must not stop the others.
                logger.warning("skipping a monitor the server sent: %s", error)
        try:
            removed = [int(monitor_id) for monitor_id in data.get("removed", [])]
            rechecks = rechecks_from_json(data.get("rechecks", []))
            since = str(data["cursor"])
        except (KeyError, TypeError, ValueError) as error:
            raise WireError(f"an answer the probe cannot read: {error!r}") from None
        full_at = now if previous is None or full else previous.full_at
        return MonitorChanges(
            specs, removed, complete=full, cursor=ApiCursor(since, full_at), rechecks=rechecks
        )

    async def save_results(self, outcomes: Sequence[Outcome]) -> None:
        body = {"region": self.region, "results": [outcome_to_json(o) for o in outcomes]}
        try:
            await self._call("POST", "results", body=body)
        except ApiError as error:
            if error.status not in BATCH_REFUSED:
                raise
            logger.error("the server refused %d results for good: %s", len(outcomes), error)

    async def heartbeat(self, status: ProbeStatus) -> None:
        body: JSON = {
            key: value.isoformat() if isinstance(value, datetime) else value
            for key, value in asdict(status).items()
        }
        body.update(name=self.name, version=self.version)
        answer = await self._call("POST", "heartbeat", body=body)
        self._note_skew(answer.get("server_time"))

    # -- HTTP -------------------------------------------------------------------------------

    async def _call(
        self,
        method: str,
        path: str,
        *,
        body: JSON | None = None,
        query: dict[str, str] | None = None,
    ) -> JSON:
        loop = asyncio.get_running_loop()
        call = partial(self._request, method, path, body, query)
        return await loop.run_in_executor(self._thread, call)

    def _request(
        self, method: str, path: str, body: JSON | None, query: dict[str, str] | None
    ) -> JSON:
        url = self.base + path + (f"?{urllib.parse.urlencode(query)}" if query else "")
        headers = dict(self._headers)
        data = None
        if body is not None:
            data = json.dumps(body).encode()
            headers["Content-Type"] = "application/json"
        # The scheme was checked in __init__: http or https only.
        request = urllib.request.Request(url, data, headers, method=method)  # noqa: S310
        try:
            with self._opener.open(request, timeout=self.timeout) as response:
                payload: Any = json.loads(response.read() or b"{}")
        except urllib.error.HTTPError as error:
            detail = _detail(error.read())
            if error.code in CONFIGURATION:
                raise ApiRefused(error.code, detail) from None
            raise ApiError(error.code, detail) from None
        except (urllib.error.URLError, OSError) as error:  # TimeoutError is an OSError
            reason = getattr(error, "reason", error)
            raise ApiUnreachable(f"{self.base}{path}: {reason}") from None
        except ValueError as error:
            raise ApiError(200, f"not JSON: {error}") from None
        if not isinstance(payload, dict):
            raise ApiError(200, "expected a JSON object")
        return payload

    def _note_skew(self, server_time: object) -> None:
        if not isinstance(server_time, str) or self._skew_warned:
            return
        try:
            skew = (datetime.fromisoformat(server_time) - clock.now()).total_seconds()
        except (TypeError, ValueError):
            return
        if abs(skew) > SKEW_WARNING_SECONDS:
            self._skew_warned = True
            logger.warning(
                "this machine's clock is %+.0f s off the server's: results carry this clock's "
                "times; keep it in sync (NTP)",
                -skew,
            )
