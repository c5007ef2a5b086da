"""``caredesk run`` and ``caredesk createadmin`` as a user runs them: real processes on loopback.

These tests use no test database: each child gets its own data directory and
SQLite file (see the ``child_env`` fixture).
"""

import http.client
import shutil
import signal
import socket
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest
from django.contrib.auth.hashers import PBKDF2PasswordHasher

pytestmark = pytest.mark.integration

START_TIMEOUT = 30
STOP_TIMEOUT = 20


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def get(port: int, path: str) -> int:
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
    try:
        connection.request("GET", path)
        return connection.getresponse().status
    finally:
        connection.close()


def children_of(pid: int) -> set[int]:
    out = subprocess.run(
        ["ps", "--ppid", str(pid), "-o", "pid="],
        capture_output=True,
        text=True,
        check=False,
    ).stdout
    return {int(line) for line in out.split()}


def is_running(pid: int) -> bool:
    status = Path(f"/proc/{pid}/status")
    try:
        state = next(line for line in status.read_text().splitlines() if line.startswith("State:"))
    except (FileNotFoundError, ProcessLookupError):
        return False
    return "zombie" not in state


def caredesk(env: dict[str, str], cwd: Path, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "caredesk", *args],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def test_run_serves_pages_and_stops_cleanly_on_sigterm(tmp_path, child_env):
    port = free_port()
    log = (tmp_path / "run.log").open("w")
    process = subprocess.Popen(
        [sys.executable, "-m", "caredesk", "run", "--port", str(port)],
        cwd=tmp_path,
        env=child_env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    try:
        deadline = time.monotonic() + START_TIMEOUT
        status = None
        while time.monotonic() < deadline and process.poll() is None:
            try:
                status = get(port, "/login/")
            except OSError:
                status = None
            if status == 200:
                break
            time.sleep(0.2)
        assert status == 200, (tmp_path / "run.log").read_text()
        assert get(port, "/api/v1/organisations") == 401

        children: set[int] = set()
        while time.monotonic() < deadline and len(children) < 4:
            children = children_of(process.pid)
            time.sleep(0.1)
        assert len(children) == 4, "web, worker, scheduler and probe"

        process.send_signal(signal.SIGTERM)
        assert process.wait(timeout=STOP_TIMEOUT) == 0
        assert not [pid for pid in children if is_running(pid)]
        assert "caredesk stopped" in (tmp_path / "run.log").read_text()
        assert (tmp_path / "data" / "caredesk.sqlite3").is_file()
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
        log.close()


@pytest.fixture(scope="module")
def migrated(tmp_path_factory, child_base_env) -> Path:
    """A data directory with a migrated SQLite database, made once and copied per test."""
    root = tmp_path_factory.mktemp("migrated")
    env = {
        **child_base_env,
        "CAREDESK_DATA_DIR": str(root / "data"),
        "CAREDESK_ENV_FILE": str(root / "no.env"),
    }
    result = caredesk(env, root, "migrate", "--noinput", "-v", "0")
    assert result.returncode == 0, result.stderr
    return root / "data"


@pytest.fixture
def admin_env(tmp_path, child_env, migrated) -> dict[str, str]:
    shutil.copytree(migrated, child_env["CAREDESK_DATA_DIR"])
    return child_env


def stored_password(env: dict[str, str], email: str) -> str:
    with sqlite3.connect(Path(env["CAREDESK_DATA_DIR"]) / "caredesk.sqlite3") as db:
        row = db.execute("SELECT password, role FROM accounts_user WHERE email = ?", [email])
        encoded, role = row.fetchone()
    assert role == "admin"
    return encoded


def test_createadmin_prints_a_password_once_then_says_an_admin_exists(tmp_path, admin_env):
    first = caredesk(admin_env, tmp_path, "createadmin")
    assert first.returncode == 0, first.stderr
    assert "admin@example.com created" in first.stdout
    password = first.stdout.strip().rsplit(" ", 1)[-1]
    assert len(password) >= 12
    assert PBKDF2PasswordHasher().verify(password, stored_password(admin_env, "admin@example.com"))

    second = caredesk(admin_env, tmp_path, "createadmin")
    assert second.returncode == 0, second.stderr
    assert second.stdout.strip() == "An admin already exists; nothing to do."
    assert password not in second.stdout


def test_createadmin_uses_the_password_from_the_environment(tmp_path, admin_env):
    admin_env["CAREDESK_ADMIN_PASSWORD"] = "chosen-by-the-operator-77"
    admin_env["CAREDESK_ADMIN_EMAIL"] = "Boss@Agency.example"
    result = caredesk(admin_env, tmp_path, "createadmin")
    assert result.returncode == 0, result.stderr
    assert "boss@agency.example" in result.stdout
    assert "chosen-by-the-operator-77" not in result.stdout
    encoded = stored_password(admin_env, "boss@agency.example")
    assert PBKDF2PasswordHasher().verify("chosen-by-the-operator-77", encoded)


def test_createadmin_refuses_a_bad_email(tmp_path, child_env):
    result = caredesk(child_env, tmp_path, "createadmin", "--email", "not an email")
    assert result.returncode != 0
    assert "is not an email address" in result.stderr, result.stderr
