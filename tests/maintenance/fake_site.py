"""A web server on 127.0.0.1 that plays a site: well-behaved, hanging, lying or broken.

``site.route("/", status=200, body=b"...")`` sets what a path answers (the query
string is ignored, so ``/?rest_route=/caredesk/v1/inventory`` is ``/``, unless a
route is registered for the full ``rest_route``).
"""

from __future__ import annotations

import json
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit


@dataclass
class Route:
    status: int = 200
    body: bytes = b"<html><body><h1>Alpha shop</h1></body></html>"
    headers: dict[str, str] = field(default_factory=dict)
    hang: bool = False  # read the request, never answer
    trickle: float = 0.0  # send the body one byte per this many seconds
    declared_length: int | None = None  # lie about Content-Length


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server: FakeSite

    def _handle(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        self.server.requests.append((self.command, self.path, dict(self.headers), body))
        parts = urlsplit(self.path)
        rest_route = parse_qs(parts.query).get("rest_route", [""])[0]
        route = self.server.routes.get(rest_route) or self.server.routes.get(parts.path)
        if route is None:
            route = Route(status=404, body=b"not found")
        if route.hang:
            self.server.release.wait(30)
            return
        self.send_response(route.status)
        for name, value in route.headers.items():
            self.send_header(name, value)
        length = route.declared_length if route.declared_length is not None else len(route.body)
        self.send_header("Content-Length", str(length))
        self.send_header("Connection", "close")
        self.end_headers()
        if self.command == "HEAD":
            return
        if route.trickle:
            for byte in route.body:
                if self.server.release.is_set():
                    return
                self.wfile.write(bytes([byte]))
                self.wfile.flush()
                time.sleep(route.trickle)
        else:
            self.wfile.write(route.body)
        self.close_connection = True

    do_GET = do_POST = do_HEAD = _handle

    def log_message(self, *args) -> None:
        pass


class FakeSite(ThreadingHTTPServer):
    daemon_threads = True
    block_on_close = False

    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), _Handler)
        self.routes: dict[str, Route] = {}
        self.requests: list[tuple[str, str, dict[str, str], bytes]] = []
        self.release = threading.Event()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}/"

    def route(self, path: str, **behaviour) -> None:
        self.routes[path] = Route(**behaviour)

    def json(self, path: str, data, status: int = 200) -> None:
        self.route(
            path,
            status=status,
            body=json.dumps(data).encode(),
            headers={"Content-Type": "application/json"},
        )

    def handle_error(self, request, client_address) -> None:
        pass  # clients that give up are part of these tests

    def start(self) -> FakeSite:
        threading.Thread(target=self.serve_forever, args=(0.02,), daemon=True).start()
        return self

    def stop(self) -> None:
        self.release.set()
        self.shutdown()
        self.server_close()
