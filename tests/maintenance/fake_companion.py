"""The companion plugin's backup and restore protocol, played in memory on 127.0.0.1.

Signed requests are checked like the plugin checks them. Knobs make the site
hang on a route, lie about a checksum, damage a chunk, never finish, refuse
an upload, or load other row counts than it dumped. ``calls`` records every
(route, payload) in order; uploads are kept per job in ``uploaded``.
(The PHP plugin itself is tested against a real WordPress: test_backups_e2e.)
"""

from __future__ import annotations

import hashlib
import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

from caredesk.maintenance.connectors import signing

from .helpers import INVENTORY, KEY

NAMESPACE = "/caredesk/v1"
TABLES = {"wp_options": 120, "wp_posts": 3, "wp_users": 1}


def part_bytes(seed: bytes, size: int) -> bytes:
    out = bytearray()
    block = seed
    while len(out) < size:
        block = hashlib.sha256(block).digest()
        out += block
    return bytes(out[:size])


class FakeCompanion(ThreadingHTTPServer):
    daemon_threads = True
    block_on_close = False

    def __init__(self, key: str = KEY) -> None:
        super().__init__(("127.0.0.1", 0), _Handler)
        self.key = key
        self.data = {
            "database": b"-- caredesk-connector dump {}\n" + part_bytes(b"db", 150_000),
            "files": part_bytes(b"files", 600_000),
        }
        self.tables = dict(TABLES)
        self.jobs: dict[str, dict] = {}
        self.calls: list[tuple[str, dict]] = []
        self.uploaded: dict[str, dict[str, bytearray]] = {}
        self.release = threading.Event()
        self.lock = threading.Lock()
        # Knobs
        self.hang: set[str] = set()  # routes that never answer
        self.steps_needed = 2  # "working" answers before a backup is ready
        self.never_ready = False
        self.fail_backup = ""  # the reason a backup job fails with
        self.lie_sha: set[str] = set()  # parts whose reported checksum is wrong
        self.damage_chunks: set[str] = set()  # parts whose chunks' header checksum is wrong
        self.nonsense: set[str] = set()  # routes that answer with a wrong state
        self.loaded_counts: dict[str, int] | None = None  # what a restore "loads"
        self.refuse_upload_after: int | None = None  # chunks taken before a 500, once
        self.restore_error = ""
        self.missing: set[str] = set()  # routes an older plugin does not have

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}/"

    def start(self) -> FakeCompanion:
        threading.Thread(target=self.serve_forever, args=(0.02,), daemon=True).start()
        return self

    def stop(self) -> None:
        self.release.set()
        self.shutdown()
        self.server_close()

    def handle_error(self, request, client_address) -> None:
        pass

    def routes(self) -> list[str]:
        return [route for route, _ in self.calls]

    # The protocol ------------------------------------------------------------------

    def answer(self, route: str, payload: dict, raw: bytes) -> tuple[int, dict | bytes, dict]:
        handler = {
            "/inventory": self.inventory,
            "/backup": self.item_backup,
            "/update": self.update,
            "/backup/start": self.backup_start,
            "/backup/step": self.backup_step,
            "/backup/download": self.download,
            "/backup/finish": self.finish,
            "/restore/start": self.restore_start,
            "/restore/upload": self.upload,
            "/restore/step": self.restore_step,
            "/restore/finish": self.finish,
        }.get(route)
        if handler is None or route in self.missing:
            return 404, {"code": "rest_no_route", "message": "No route."}, {}
        with self.lock:
            return handler(payload, raw)

    def inventory(self, payload, raw):
        return 200, INVENTORY, {}

    def item_backup(self, payload, raw):
        entry = {"name": "plugin-akismet.zip", "size": 10, "sha256": "0" * 64}
        items = [{**item, "version": "5.3", "archive": entry} for item in payload["items"]]
        database = {"name": "database.sql", "size": 10, "sha256": "0" * 64}
        return (
            200,
            {"id": "20261204-000000-0123456789abcdef", "database": database, "items": items},
            {},
        )

    def update(self, payload, raw):
        results = [
            {**item, "status": "updated", "from": "5.3", "to": "5.3.1", "error": None}
            for item in payload["items"]
        ]
        return 200, {"results": results}, {}

    def _job(self, payload, kind):
        job = self.jobs.get(payload.get("id"))
        if job is None or job["kind"] != kind:
            return None
        return job

    def _status(self, job) -> dict:
        status = {
            "id": job["id"],
            "state": job["state"],
            "phase": job["phase"],
            "progress": job.get("progress", {}),
            "error": job.get("error"),
        }
        if job["kind"] == "backup":
            status["parts"] = job["out"] if job["state"] == "ready" else {}
        else:
            status["received"] = {part: len(got) for part, got in job["received"].items()}
            status["result"] = job.get("result")
            status["chunk"] = 128 * 1024
        return status

    def backup_start(self, payload, raw):
        job = self._job(payload, "backup")
        if job is None:
            job = {
                "kind": "backup",
                "id": payload["id"],
                "parts": payload["parts"],
                "state": "working",
                "phase": "database",
                "steps": 0,
                "out": {},
            }
            self.jobs[job["id"]] = job
        return 200, self._status(job), {}

    def backup_step(self, payload, raw):
        job = self._job(payload, "backup")
        if job is None:
            return 404, {"code": "caredesk_no_job", "message": "There is no backup job."}, {}
        if "/backup/step" in self.nonsense:
            return 200, {**self._status(job), "state": "maybe"}, {}
        if self.fail_backup and job["state"] == "working":
            job["state"], job["error"] = "failed", self.fail_backup
        elif payload.get("resume") and job["state"] == "failed" and not self.fail_backup:
            job["state"], job["error"] = "working", None
        if job["state"] == "working" and not self.never_ready:
            job["steps"] += 1
            job["progress"] = {"done": job["steps"], "total": self.steps_needed}
            if job["steps"] >= self.steps_needed:
                job["state"], job["phase"] = "ready", "ready"
                job["out"] = {part: self._describe(part) for part in job["parts"]}
        return 200, self._status(job), {}

    def _describe(self, part: str) -> dict:
        data = self.data[part]
        sha = hashlib.sha256(data).hexdigest()
        if part in self.lie_sha:
            sha = hashlib.sha256(data + b"!").hexdigest()
        described = {"name": f"{part}.sql" if part == "database" else "files.tar"}
        described |= {"size": len(data), "sha256": sha}
        if part == "database":
            described["tables"] = self.tables
        else:
            described |= {"files": 42, "skipped": 0}
        return described

    def download(self, payload, raw):
        job = self._job(payload, "backup")
        if job is None:
            return 404, {"code": "caredesk_no_job", "message": "There is no backup job."}, {}
        data = self.data[payload["part"]]
        offset, length = payload["offset"], payload["length"]
        chunk = data[offset : offset + length]
        sha = hashlib.sha256(chunk).hexdigest()
        if payload["part"] in self.damage_chunks:
            sha = "0" * 64
        headers = {
            "Content-Type": "application/octet-stream",
            "X-Caredesk-Offset": str(offset),
            "X-Caredesk-Total": str(len(data)),
            "X-Caredesk-Sha256": sha,
        }
        return 200, chunk, headers

    def finish(self, payload, raw):
        self.jobs.pop(payload["id"], None)
        return 200, {"id": payload["id"], "state": "removed"}, {}

    def restore_start(self, payload, raw):
        job = self._job(payload, "restore")
        if job is None:
            job = {
                "kind": "restore",
                "id": payload["id"],
                "purpose": payload["purpose"],
                "expect": payload["parts"],
                "state": "working",
                "phase": "receive",
                "received": {part: bytearray() for part in payload["parts"]},
            }
            self.jobs[job["id"]] = job
            self.uploaded[job["id"]] = job["received"]
        return 200, self._status(job), {}

    def upload(self, payload, raw):
        head_end = raw.index(b"\n")
        head = json.loads(raw[:head_end])
        data = raw[head_end + 1 :]
        job = self._job(head, "restore")
        if job is None:
            return 404, {"code": "caredesk_no_job", "message": "There is no restore job."}, {}
        got = job["received"][head["part"]]
        if self.refuse_upload_after is not None:
            if self.refuse_upload_after <= 0:
                self.refuse_upload_after = None
                return 500, {"code": "caredesk_disk", "message": "Cannot write the upload."}, {}
            self.refuse_upload_after -= 1
        if head["offset"] != len(got):
            return 409, {"code": "caredesk_bad_offset", "message": f"Have {len(got)}."}, {}
        if hashlib.sha256(data).hexdigest() != head["sha256"]:
            return 400, {"code": "caredesk_damaged_upload", "message": "Damaged."}, {}
        got += data
        return 200, {"id": head["id"], "part": head["part"], "received": len(got)}, {}

    def restore_step(self, payload, raw):
        job = self._job(payload, "restore")
        if job is None:
            return 404, {"code": "caredesk_no_job", "message": "There is no restore job."}, {}
        for part, about in job["expect"].items():
            if hashlib.sha256(bytes(job["received"][part])).hexdigest() != about["sha256"]:
                job["state"], job["error"] = "failed", f"The uploaded {part} does not match."
                return 200, self._status(job), {}
        if self.restore_error:
            job["state"], job["error"] = "failed", self.restore_error
            return 200, self._status(job), {}
        counts = self.loaded_counts or job["expect"].get("database", {}).get("tables", {})
        job["state"], job["phase"] = "done", "done"
        job["result"] = {"tables": len(counts), "rows": sum(counts.values()), "counts": counts}
        if "files" in job["expect"]:
            job["result"] |= {"files": 42, "removed": 1}
        return 200, self._status(job), {}


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server: FakeCompanion

    def do_GET(self) -> None:
        self._send(
            200, b"<html><body><h1>Alpha shop</h1></body></html>", {"Content-Type": "text/html"}
        )

    def do_POST(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length) if length else b""
        rest_route = parse_qs(urlsplit(self.path).query).get("rest_route", [""])[0]
        route = rest_route.removeprefix(NAMESPACE)
        expected = signing.sign(
            self.server.key,
            int(self.headers.get("X-Caredesk-Timestamp", "0")),
            self.headers.get("X-Caredesk-Nonce", ""),
            "POST",
            rest_route,
            raw,
        )
        if expected != self.headers.get("X-Caredesk-Signature"):
            self._json(401, {"code": "caredesk_bad_signature", "message": "Bad signature."})
            return
        payload = {} if route == "/restore/upload" else json.loads(raw or b"{}")
        self.server.calls.append((route, payload if route != "/restore/upload" else {}))
        if route in self.server.hang:
            self.server.release.wait(30)
            return
        status, body, headers = self.server.answer(route, payload, raw)
        if isinstance(body, bytes):
            self._send(status, body, headers)
        else:
            self._json(status, body)

    def _json(self, status: int, data) -> None:
        self._send(status, json.dumps(data).encode(), {"Content-Type": "application/json"})

    def _send(self, status: int, body: bytes, headers: dict) -> None:
        self.send_response(status)
        for name, value in headers.items():
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Connection", "close")
        self.end_headers()
        self.wfile.write(body)
        self.close_connection = True

    def log_message(self, *args) -> None:
        pass
