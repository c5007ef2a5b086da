"""A bad configuration stops ``caredesk`` with one line naming the variable, exit code 2."""

import subprocess
import sys

import pytest
from cryptography.fernet import Fernet

pytestmark = pytest.mark.integration

GOOD_SECRET_KEY = "k" * 50


@pytest.fixture
def run_caredesk(tmp_path, child_env):
    def run(*args: str, **env: str) -> subprocess.CompletedProcess:
        return subprocess.run(
            [sys.executable, "-m", "caredesk", *args],
            cwd=tmp_path,
            env={**child_env, **env},
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )

    return run


def assert_one_line_error(result: subprocess.CompletedProcess, starts: str) -> None:
    assert result.returncode == 2, result.stderr
    lines = result.stderr.splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith(f"caredesk: configuration error: {starts}"), lines[0]


def production(**env: str) -> dict[str, str]:
    return {
        "CAREDESK_ENV": "production",
        "CAREDESK_SECRET_KEY": GOOD_SECRET_KEY,
        "CAREDESK_ENCRYPTION_KEYS": Fernet.generate_key().decode(),
        "CAREDESK_ALLOWED_HOSTS": "desk.example.com",
        "CAREDESK_RESTIC_PASSWORD": "a-long-backup-repository-password",
        **env,
    }


def test_unsupported_database_scheme_is_one_line(run_caredesk):
    result = run_caredesk("check", DATABASE_URL="mysql://x/y")
    assert_one_line_error(result, "DATABASE_URL")
    assert "mysql" in result.stderr


def test_postgres_url_without_database_name_is_one_line(run_caredesk):
    result = run_caredesk("check", DATABASE_URL="postgres://")
    assert_one_line_error(result, "DATABASE_URL")


def test_production_without_secret_key_names_it(run_caredesk):
    env = production()
    del env["CAREDESK_SECRET_KEY"]
    result = run_caredesk("check", **env)
    assert_one_line_error(result, "CAREDESK_SECRET_KEY")


def test_production_with_short_secret_key_names_it(run_caredesk):
    result = run_caredesk("check", **production(CAREDESK_SECRET_KEY="short"))
    assert_one_line_error(result, "CAREDESK_SECRET_KEY")
    assert "32" in result.stderr


def test_production_without_encryption_keys_names_them(run_caredesk):
    env = production()
    del env["CAREDESK_ENCRYPTION_KEYS"]
    result = run_caredesk("check", **env)
    assert_one_line_error(result, "CAREDESK_ENCRYPTION_KEYS")


def test_encryption_key_that_is_not_fernet_names_it(run_caredesk):
    result = run_caredesk("check", CAREDESK_ENCRYPTION_KEYS="not-a-fernet-key")
    assert_one_line_error(result, "CAREDESK_ENCRYPTION_KEYS")
    assert "caredesk genkey" in result.stderr


def test_production_without_allowed_hosts_names_them(run_caredesk):
    env = production()
    del env["CAREDESK_ALLOWED_HOSTS"]
    result = run_caredesk("check", **env)
    assert_one_line_error(result, "CAREDESK_ALLOWED_HOSTS")


def test_production_without_the_backup_password_names_it(run_caredesk):
    env = production()
    del env["CAREDESK_RESTIC_PASSWORD"]
    result = run_caredesk("check", **env)
    assert_one_line_error(result, "CAREDESK_RESTIC_PASSWORD")


def test_debug_flag_that_is_not_boolean_names_it(run_caredesk):
    result = run_caredesk("check", CAREDESK_DEBUG="maybe")
    assert_one_line_error(result, "CAREDESK_DEBUG")


def test_unknown_environment_mode_names_it(run_caredesk):
    result = run_caredesk("check", CAREDESK_ENV="staging")
    assert_one_line_error(result, "CAREDESK_ENV")


def test_good_production_config_passes_check(run_caredesk):
    result = run_caredesk("check", **production())
    assert result.returncode == 0, result.stderr
    assert "no issues" in result.stdout


def test_development_makes_its_own_secrets_once(run_caredesk, tmp_path):
    first = run_caredesk("check")
    assert first.returncode == 0, first.stderr
    secrets_file = tmp_path / "data" / "secrets.env"
    kept = secrets_file.read_text(encoding="utf-8")
    assert "CAREDESK_SECRET_KEY=" in kept
    assert "CAREDESK_ENCRYPTION_KEYS=" in kept
    assert "CAREDESK_RESTIC_PASSWORD=" in kept
    assert secrets_file.stat().st_mode & 0o777 == 0o600
    assert run_caredesk("check").returncode == 0
    assert secrets_file.read_text(encoding="utf-8") == kept


def test_shell_runs_a_command(run_caredesk):
    result = run_caredesk("shell", "-c", "print(1+1)")
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip().splitlines()[-1] == "2"


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("CAREDESK_REPORT_COLOUR", "blue"),
        ("CAREDESK_REPORT_LOGO", "/no/such/logo.png"),
        ("CAREDESK_REPORT_LOGO", "/etc/hostname"),
    ],
)
def test_bad_report_branding_names_the_variable(run_caredesk, name, value):
    assert_one_line_error(run_caredesk("check", **{name: value}), name)
