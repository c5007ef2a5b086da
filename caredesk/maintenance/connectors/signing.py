"""The companion plugin's request signature (the PHP side checks the same string).

    HMAC-SHA256(key, "timestamp\\nnonce\\nMETHOD\\n/route\\nsha256hex(body)")

The timestamp bounds a captured request's life to minutes and the nonce to
one use; the body's hash ties the signature to exactly what was sent.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets


def message(timestamp: int, nonce: str, method: str, route: str, body: bytes) -> bytes:
    digest = hashlib.sha256(body).hexdigest()
    return f"{timestamp}\n{nonce}\n{method.upper()}\n{route}\n{digest}".encode()


def sign(key: str, timestamp: int, nonce: str, method: str, route: str, body: bytes) -> str:
    """The hex signature of one request."""
    mac = hmac.new(key.encode(), message(timestamp, nonce, method, route, body), hashlib.sha256)
    return mac.hexdigest()


def new_nonce() -> str:
    return secrets.token_urlsafe(24)


def signed_headers(
    key: str, timestamp: int, method: str, route: str, body: bytes
) -> dict[str, str]:
    nonce = new_nonce()
    return {
        "X-Caredesk-Timestamp": str(timestamp),
        "X-Caredesk-Nonce": nonce,
        "X-Caredesk-Signature": sign(key, timestamp, nonce, method, route, body),
    }
