"""What a connector needs to reach one site, read from the database by the caller."""

from __future__ import annotations

import ssl
from dataclasses import dataclass, field
from urllib.parse import urlsplit, urlunsplit


@dataclass(frozen=True)
class ConnectionConfig:
    kind: str  # caredesk.clients.models.Connection values
    url: str
    user: str = ""
    secret: str = field(default="", repr=False)
    allow_private: bool = False
    ssh_host: str = ""
    ssh_port: int = 22
    timeout: float = 30.0
    update_timeout: float = 300.0  # an update downloads and unpacks a package
    ssl_context: ssl.SSLContext | None = None

    def rest_url(self, route: str) -> str:
        """``route`` through ``?rest_route=``, which works without pretty permalinks."""
        parts = urlsplit(self.url)
        path = parts.path if parts.path.endswith("/") else parts.path + "/"
        return urlunsplit((parts.scheme, parts.netloc, path, f"rest_route={route}", ""))
