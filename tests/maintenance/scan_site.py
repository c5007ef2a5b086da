"""A web server on 127.0.0.1 (HTTP or HTTPS) playing a site for the scan's outside checks.

``site.route("/.git/HEAD", body=b"ref: refs/heads/main")`` sets what a path
answers; a route may name a query too (``"/?author=1"``), which wins over the
bare path. Unknown paths answer ``fallback`` (a plain 404 by default; some
tests make it a "soft 404": a 200 page for everything). GET, HEAD and POST.
"""

from __future__ import annotations

import socket
import ssl
import threading
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


@dataclass
class Route:
    status: int = 200
    body: bytes = b"<html><head><title>Alpha shop</title></head><body>Hello</body></html>"
    headers: dict[str, str] = field(default_factory=dict)


NOT_FOUND = Route(status=404, body=b"<html><body>Not found</body></html>")


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server: ScanSite

    def _handle(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        self.server.requests.append((self.command, self.path, body))
        route = (
            self.server.routes.get((self.command, self.path))
            or self.server.routes.get((None, self.path))
            or self.server.routes.get((None, self.path.split("?", 1)[0]))
            or self.server.fallback
        )
        self.send_response(route.status)
        for name, value in route.headers.items():
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(route.body)))
        self.send_header("Connection", "close")
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(route.body)
        self.close_connection = True

    do_GET = do_POST = do_HEAD = _handle

    def log_message(self, *args) -> None:
        pass


class ScanSite(ThreadingHTTPServer):
    daemon_threads = True
    block_on_close = False

    def __init__(self, tls: ssl.SSLContext | None = None) -> None:
        super().__init__(("127.0.0.1", 0), _Handler)
        self.routes: dict[tuple[str | None, str], Route] = {}
        self.requests: list[tuple[str, str, bytes]] = []
        self.fallback = NOT_FOUND
        self.tls = tls

    @property
    def url(self) -> str:
        scheme = "https" if self.tls else "http"
        return f"{scheme}://127.0.0.1:{self.server_address[1]}/"

    def get_request(self) -> tuple[socket.socket, object]:
        sock, address = super().get_request()
        if self.tls is not None:
            # Handshake in the handler's thread: a refused client must not stall accepting.
            sock = self.tls.wrap_socket(sock, server_side=True, do_handshake_on_connect=False)
        return sock, address

    def handle_error(self, request, client_address) -> None:
        pass  # refused handshakes are part of these tests

    def route(self, path: str, *, method: str | None = None, **behaviour) -> None:
        self.routes[(method, path)] = Route(**behaviour)

    def start(self) -> ScanSite:
        threading.Thread(target=self.serve_forever, args=(0.02,), daemon=True).start()
        return self

    def stop(self) -> None:
        self.shutdown()
        self.server_close()
