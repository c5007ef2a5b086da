"""A real WordPress on loopback: Debian's files, php's built-in server, MariaDB, no network.

What it needs (Debian packages): ``wordpress``, ``php-cli``, ``php-mysql``, ``php-zip``
and a MariaDB server on 127.0.0.1:3306 where root has no password
(``CAREDESK_TEST_MARIADB=host:port`` points elsewhere). :func:`missing` says
what is absent so tests can skip with the reason.

The site gets its own database (dropped afterwards), its own wp-content with
the companion plugin, a test plugin "caredesk-test" at 1.0.0, a plain theme,
and a must-use plugin that sends WordPress's plugin update check to
:class:`UpdateServer`, which offers caredesk-test 1.1.0 as a zip.
"""

from __future__ import annotations

import contextlib
import io
import json
import os
import secrets
import shutil
import signal
import socket
import subprocess
import threading
import time
import zipfile
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qs

WORDPRESS = Path("/usr/share/wordpress")
HERE = Path(__file__).parent / "wordpress"
CONNECTOR = (
    Path(__file__).resolve().parents[2] / "connector" / "wordpress" / "caredesk-connector.php"
)
TEST_PLUGIN = "caredesk-test"
THEME = "caredesk-plain"


def mariadb_address() -> tuple[str, int]:
    host, _, port = os.environ.get("CAREDESK_TEST_MARIADB", "127.0.0.1:3306").rpartition(":")
    return host, int(port)


def missing() -> str | None:
    """Why a WordPress site cannot run here, or None when it can."""
    php = shutil.which("php")
    if php is None:
        return "php is not installed (Debian: php-cli php-mysql php-zip)"
    if not (WORDPRESS / "wp-settings.php").exists():
        return "WordPress is not installed (Debian: wordpress)"
    modules = subprocess.run([php, "-m"], capture_output=True, text=True, check=False).stdout
    for module in ("mysqli", "zip"):
        if module not in modules.split():
            return f"php lacks the {module} extension (Debian: php-mysql, php-zip)"
    host, port = mariadb_address()
    try:
        socket.create_connection((host, port), timeout=2).close()
    except OSError:
        return f"no MariaDB server on {host}:{port} (Debian: mariadb-server)"
    return None


def installed_core_version() -> str:
    """The version of Debian's WordPress the test sites run."""
    text = (WORDPRESS / "wp-includes" / "version.php").read_text()
    return text.split("$wp_version = '", 1)[1].split("'", 1)[0]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def plugin_source(version: str, *, broken: bool = False) -> str:
    body = "caredesk_test_fatal_error();" if broken else ""
    return f"""<?php
/**
 * Plugin Name: caredesk test plugin
 * Version: {version}
 */
{body}
add_action( 'wp_footer', function () {{ echo '<p>caredesk-test {version}</p>'; }} );
"""


def plugin_zip(version: str, *, broken: bool = False) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr(f"{TEST_PLUGIN}/", "")
        archive.writestr(f"{TEST_PLUGIN}/{TEST_PLUGIN}.php", plugin_source(version, broken=broken))
    return buffer.getvalue()


class _UpdateHandler(BaseHTTPRequestHandler):
    server: UpdateServer

    def do_POST(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        form = parse_qs(self.rfile.read(length).decode())
        self.server.checks += 1
        asked = json.loads(form.get("plugins", ["{}"])[0]).get("plugins", {})
        plugins = {}
        offer = self.server.offer
        if offer is not None and f"{TEST_PLUGIN}/{TEST_PLUGIN}.php" in asked:
            plugins[f"{TEST_PLUGIN}/{TEST_PLUGIN}.php"] = {
                "id": f"w.org/plugins/{TEST_PLUGIN}",
                "slug": TEST_PLUGIN,
                "plugin": f"{TEST_PLUGIN}/{TEST_PLUGIN}.php",
                "new_version": offer,
                "url": self.server.url,
                "package": f"{self.server.url}/{TEST_PLUGIN}.{offer}.zip",
            }
        self._send(200, json.dumps({"plugins": plugins, "translations": [], "no_update": {}}))

    def do_GET(self) -> None:
        name = self.path.strip("/")
        if name in self.server.packages:
            self._send(200, self.server.packages[name], "application/zip")
        else:
            self._send(404, "no such package")

    def _send(self, status: int, body: str | bytes, kind: str = "application/json") -> None:
        data = body.encode() if isinstance(body, str) else body
        self.send_response(status)
        self.send_header("Content-Type", kind)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, *args) -> None:
        pass


class UpdateServer(ThreadingHTTPServer):
    """Stands in for wordpress.org: the update check and the packages."""

    daemon_threads = True

    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), _UpdateHandler)
        self.url = f"http://127.0.0.1:{self.server_port}"
        self.offer: str | None = None
        self.packages: dict[str, bytes] = {}
        self.checks = 0
        self._thread = threading.Thread(target=self.serve_forever, daemon=True)

    def offer_version(self, version: str | None, *, broken: bool = False) -> None:
        self.offer = version
        if version is not None:
            self.packages[f"{TEST_PLUGIN}.{version}.zip"] = plugin_zip(version, broken=broken)

    def start(self) -> UpdateServer:
        self._thread.start()
        return self

    def stop(self) -> None:
        self.shutdown()
        self.server_close()


@dataclass
class WordPressSite:
    root: Path
    url: str
    key: str
    db_name: str
    updates: UpdateServer
    app_password: str = ""
    process: subprocess.Popen | None = field(default=None, repr=False)

    @property
    def plugin_dir(self) -> Path:
        return self.root / "wp-content" / "plugins" / TEST_PLUGIN

    def installed_test_version(self) -> str:
        text = (self.plugin_dir / f"{TEST_PLUGIN}.php").read_text()
        return text.split("Version:", 1)[1].split()[0]

    def put_test_plugin(self, version: str) -> None:
        """Reset the test plugin's files to ``version`` (between tests sharing the site)."""
        shutil.rmtree(self.plugin_dir, ignore_errors=True)
        self.plugin_dir.mkdir(parents=True)
        (self.plugin_dir / f"{TEST_PLUGIN}.php").write_text(plugin_source(version))

    def sql(self, query: str, *values: str) -> list[list]:
        """Run one query on the site's database, its ``?`` bound to ``values``; its rows."""
        host, port = mariadb_address()
        done = subprocess.run(
            ["php", str(HERE / "sql.php"), host, str(port), self.db_name, query, *values],
            capture_output=True,
            text=True,
            timeout=60,
            check=True,
        )
        return json.loads(done.stdout or "[]")

    def option(self, name: str) -> str | None:
        rows = self.sql("SELECT option_value FROM wp_options WHERE option_name = ?", name)
        return rows[0][0] if rows else None

    def set_option(self, name: str, value: str) -> None:
        self.sql("UPDATE wp_options SET option_value = ? WHERE option_name = ?", value, name)

    def stop(self) -> None:
        if self.process is not None:
            # php -S forks its workers (PHP_CLI_SERVER_WORKERS): end the whole group,
            # or the workers outlive the test run.
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait()
        host, port = mariadb_address()
        subprocess.run(
            ["php", str(HERE / "drop.php"), host, str(port), self.db_name],
            capture_output=True,
            check=False,
            timeout=60,
        )
        self.updates.stop()


def _copy_core(target: Path) -> None:
    # Hard links where the file system allows (instant, no space); copies elsewhere.
    # Only wp-content is ever written to, and that one is the site's own.
    def link_or_copy(src: str, dst: str) -> None:
        try:
            os.link(src, dst)
        except OSError:
            shutil.copy2(src, dst)

    shutil.copytree(
        WORDPRESS,
        target,
        symlinks=True,
        copy_function=link_or_copy,
        ignore=lambda directory, names: (
            {"wp-config.php", "wp-content"} if Path(directory) == WORDPRESS else set()
        ),
    )


def _write_content(root: Path) -> None:
    content = root / "wp-content"
    (content / "plugins" / "caredesk-connector").mkdir(parents=True)
    shutil.copy(CONNECTOR, content / "plugins" / "caredesk-connector" / "caredesk-connector.php")
    (content / "plugins" / TEST_PLUGIN).mkdir()
    (content / "plugins" / TEST_PLUGIN / f"{TEST_PLUGIN}.php").write_text(plugin_source("1.0.0"))
    (content / "mu-plugins").mkdir()
    shutil.copy(HERE / "local-updates.php", content / "mu-plugins" / "local-updates.php")
    theme = content / "themes" / THEME
    theme.mkdir(parents=True)
    (theme / "style.css").write_text("/*\nTheme Name: caredesk plain\nVersion: 1.0\n*/\n")
    (theme / "index.php").write_text(
        "<!doctype html><html><head><title><?php bloginfo('name'); ?></title>"
        "<?php wp_head(); ?></head><body><h1><?php bloginfo('name'); ?></h1>"
        "<?php wp_footer(); ?></body></html>\n"
    )


def start(root: Path) -> WordPressSite:
    """Install and start a WordPress site under ``root`` (which must not exist yet)."""
    updates = UpdateServer().start()
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    host, db_port = mariadb_address()
    site = WordPressSite(
        root=root,
        url=url,
        key=secrets.token_hex(32),
        db_name=f"caredesk_wp_{secrets.token_hex(6)}",
        updates=updates,
    )
    try:
        _copy_core(root)
        _write_content(root)
        config = (HERE / "wp-config.php.in").read_text()
        for name, value in {
            "@DB_NAME@": site.db_name,
            "@DB_HOST@": f"{host}:{db_port}",
            "@SALT@": secrets.token_hex(16),
            "@URL@": url,
            "@UPDATES@": updates.url,
        }.items():
            config = config.replace(name, value)
        (root / "wp-config.php").write_text(config)
        installed = subprocess.run(
            [
                "php",
                str(HERE / "install.php"),
                str(root),
                url,
                site.key,
                host,
                str(db_port),
                site.db_name,
            ],
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )
        if installed.returncode != 0:
            raise RuntimeError(f"WordPress install failed: {installed.stdout}{installed.stderr}")
        site.app_password = json.loads(installed.stdout.strip().splitlines()[-1])["app_password"]
        env = {**os.environ, "PHP_CLI_SERVER_WORKERS": "2"}
        site.process = subprocess.Popen(
            ["php", "-S", f"127.0.0.1:{port}", "-t", str(root), str(HERE / "router.php")],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            env=env,
            start_new_session=True,
        )
        _wait_for(port)
    except BaseException:
        site.stop()
        raise
    return site


def _wait_for(port: int) -> None:
    deadline = time.monotonic() + 15
    while time.monotonic() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return
        except OSError:
            time.sleep(0.05)
    raise RuntimeError(f"php -S did not listen on port {port}")
