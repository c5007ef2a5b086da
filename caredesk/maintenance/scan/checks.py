"""Checks from outside, as any visitor could make them: TLS, headers, exposed files, leaks.

Every check asks with a short deadline and a small size cap, and judges by
content, not status alone: many sites answer 200 with a "not found" page, and
a finding must be true to be worth a person's time.
"""

from __future__ import annotations

import json
import re
import ssl
import warnings
from collections.abc import Callable
from urllib.parse import urljoin, urlsplit

from ..connectors import ConnectorError, http
from .found import Found

TIMEOUT = 15.0
MAX_BYTES = 512 * 1024
GENERATOR = re.compile(
    rb'<meta\s+name=["\']generator["\']\s+content=["\']WordPress\s*([0-9.]+)', re.I
)
AUTHOR_PATH = re.compile(r"/author/([^/?#]+)")

Fetch = Callable[..., http.Response]

EXPOSED_FILES = [
    # path, what its content shows when it really is the file, severity, title, advice
    (
        "/wp-config.php.bak",
        (b"DB_PASSWORD", b"DB_NAME"),
        "critical",
        "A backup of wp-config.php can be downloaded",
        "Delete the file now, then change the database password and the salts in wp-config.php.",
    ),
    (
        "/wp-config.php~",
        (b"DB_PASSWORD", b"DB_NAME"),
        "critical",
        "An editor's copy of wp-config.php can be downloaded",
        "Delete the file now, then change the database password and the salts in wp-config.php.",
    ),
    (
        "/.git/HEAD",
        (b"ref: refs/",),
        "high",
        "The site's .git folder is public",
        "Block /.git/ on the web server (or deploy without it): the whole source and its "
        "history can be downloaded.",
    ),
    (
        "/.env",
        (b"DB_PASSWORD", b"APP_KEY", b"SECRET"),
        "critical",
        "An .env file with secrets can be downloaded",
        "Move .env out of the web root or block it, and change every secret in it.",
    ),
    (
        "/wp-content/debug.log",
        (b"PHP ", b"WordPress database error"),
        "medium",
        "WordPress's debug.log is public",
        "Turn WP_DEBUG_LOG off on the live site (or log outside the web root) and delete the file.",
    ),
    (
        "/debug.log",
        (b"PHP ",),
        "medium",
        "A debug.log is public",
        "Delete it and log outside the web root.",
    ),
]

LISTED_FOLDERS = ["/wp-content/uploads/", "/wp-content/plugins/", "/wp-includes/"]

HEADERS = [
    # header, severity, advice; only judged on the home page
    (
        "x-content-type-options",
        "low",
        "Send X-Content-Type-Options: nosniff so browsers do not guess content types.",
    ),
    (
        "x-frame-options",
        "low",
        "Send X-Frame-Options: SAMEORIGIN (or a CSP frame-ancestors rule) against clickjacking.",
    ),
    (
        "referrer-policy",
        "info",
        "Send Referrer-Policy: strict-origin-when-cross-origin to keep paths out of other "
        "sites' logs.",
    ),
    (
        "content-security-policy",
        "info",
        "A Content-Security-Policy limits the damage of an injected script; start in "
        "report-only mode.",
    ),
]

XMLRPC_CALL = (
    b"<?xml version='1.0'?><methodCall><methodName>system.listMethods</methodName>"
    b"<params></params></methodCall>"
)


def run_all(
    base_url: str,
    *,
    allow_private: bool,
    ssl_context: ssl.SSLContext | None = None,
    report: Callable[[str], None] | None = None,
) -> tuple[list[Found], list[str], list[str]]:
    """Every check against ``base_url``: (findings, checks made, notes on checks not made).

    ``ssl_context`` replaces the system's trust store (tests with their own CA);
    ``report`` hears the name of each check as it starts (the command's progress).
    """

    def fetch(path: str, method: str = "GET", **options) -> http.Response:
        options.setdefault("ssl_context", ssl_context)
        return http.request(
            method,
            urljoin(base_url, path),
            timeout=TIMEOUT,
            max_bytes=MAX_BYTES,
            allow_private=allow_private,
            **options,
        )

    found: list[Found] = []
    done: list[str] = []
    notes: list[str] = []
    checks = [
        ("tls", lambda: check_tls(base_url, fetch)),
        ("home", lambda: check_home(fetch)),
        ("exposed files", lambda: check_exposed_files(fetch)),
        ("directory listing", lambda: check_listing(fetch)),
        ("user enumeration", lambda: check_user_enumeration(fetch)),
        ("xmlrpc", lambda: check_xmlrpc(fetch)),
        ("readme", lambda: check_readme(fetch)),
    ]
    for name, check in checks:
        if report is not None:
            report(name)
        try:
            found += check()
            done.append(name)
        except ConnectorError as error:
            notes.append(f"{name}: not checked ({error})")
    return found, done, notes


def check_tls(base_url: str, fetch: Fetch) -> list[Found]:
    if urlsplit(base_url).scheme != "https":
        return [
            Found(
                key="tls:none",
                category="tls",
                severity="medium",
                title="The site is served without HTTPS",
                advice="Get a certificate (Let's Encrypt is free) and redirect HTTP to HTTPS.",
            )
        ]
    try:
        fetch("/", method="HEAD")
    except ConnectorError as error:
        if "TLS" not in str(error):
            raise
        return [
            Found(
                key="tls:invalid",
                category="tls",
                severity="high",
                title="The site's TLS certificate is not valid",
                detail=str(error),
                advice=(
                    "Renew or fix the certificate (name, chain, expiry): visitors see a warning."
                ),
            )
        ]
    old = _old_protocol_context()
    if old is None:
        return []
    try:
        fetch("/", method="HEAD", ssl_context=old)
    except ConnectorError:
        return []  # refused: good
    return [
        Found(
            key="tls:old-protocol",
            category="tls",
            severity="medium",
            title="The site still accepts TLS 1.0 or 1.1",
            advice="Allow only TLS 1.2 and 1.3 in the web server's configuration.",
        )
    ]


def _old_protocol_context() -> ssl.SSLContext | None:
    # Only to see whether the server agrees to an old protocol; nothing is sent over it.
    try:
        with warnings.catch_warnings():
            # Python deprecates these versions; asking for them is the point here.
            warnings.simplefilter("ignore", DeprecationWarning)
            context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
            context.check_hostname = False
            context.verify_mode = ssl.CERT_NONE
            context.minimum_version = ssl.TLSVersion.TLSv1
            context.maximum_version = ssl.TLSVersion.TLSv1_1
            context.set_ciphers("DEFAULT:@SECLEVEL=0")
    except (ValueError, ssl.SSLError):
        return None  # this OpenSSL cannot speak them at all
    return context


def check_home(fetch: Fetch) -> list[Found]:
    home = fetch("/")
    found = []
    if home.status < 400:
        csp = home.header("content-security-policy")
        for name, severity, advice in HEADERS:
            if home.header(name):
                continue
            if name == "x-frame-options" and "frame-ancestors" in csp:
                continue
            found.append(
                Found(
                    key=f"header:{name}",
                    category="headers",
                    severity=severity,
                    title=f"The {_header_title(name)} header is missing",
                    advice=advice,
                )
            )
        if home.url.startswith("https:") and not home.header("strict-transport-security"):
            found.append(
                Found(
                    key="header:strict-transport-security",
                    category="headers",
                    severity="low",
                    title="The Strict-Transport-Security header is missing",
                    advice="Send Strict-Transport-Security: max-age=31536000 once HTTPS works "
                    "everywhere on the site.",
                )
            )
    match = GENERATOR.search(home.body)
    if match:
        found.append(
            Found(
                key="disclosure:generator",
                category="disclosure",
                severity="low",
                title="The home page tells everyone the WordPress version",
                detail=f'<meta name="generator"> says WordPress {match.group(1).decode()}.',
                advice="Remove the generator tag (remove_action('wp_head', 'wp_generator')); "
                "keeping WordPress up to date matters more.",
            )
        )
    return found


def _header_title(name: str) -> str:
    return "-".join(part.capitalize() for part in name.split("-"))


def check_exposed_files(fetch: Fetch) -> list[Found]:
    found = []
    for path, signs, severity, title, advice in EXPOSED_FILES:
        answer = fetch(path)
        if answer.status == 200 and any(sign in answer.body for sign in signs):
            found.append(
                Found(
                    key=f"exposure:{path}",
                    category="exposure",
                    severity=severity,
                    title=title,
                    detail=f"{path} answered 200 with its content.",
                    advice=advice,
                )
            )
    return found


def check_listing(fetch: Fetch) -> list[Found]:
    found = []
    for path in LISTED_FOLDERS:
        answer = fetch(path)
        # Apache, nginx and LiteSpeed title the page "Index of /the/path"; a page that
        # merely says "index of" (a soft 404, a sitemap) is not a listing.
        if answer.status == 200 and f"Index of {path.rstrip('/')}".encode() in answer.body[:4096]:
            found.append(
                Found(
                    key=f"listing:{path}",
                    category="listing",
                    severity="medium",
                    title=f"The folder {path} lists its files",
                    advice="Turn directory listing off (Apache: Options -Indexes; nginx: autoindex "
                    "off).",
                )
            )
    return found


def check_user_enumeration(fetch: Fetch) -> list[Found]:
    found = []
    author = fetch("/?author=1")
    names = AUTHOR_PATH.findall(author.header("location")) if 300 <= author.status < 400 else []
    if names:
        found.append(
            Found(
                key="enumeration:author",
                category="enumeration",
                severity="medium",
                title="User names can be listed through ?author=N",
                detail=f"/?author=1 redirects to the author page of {names[0]!r}.",
                advice="Redirect ?author= requests for visitors (a security plugin or a rewrite "
                "rule does it); log-in names then stay unknown to password guessers.",
            )
        )
    for path in ("/wp-json/wp/v2/users", "/?rest_route=/wp/v2/users"):
        answer = fetch(path)
        slugs = _user_slugs(answer)
        if slugs:
            found.append(
                Found(
                    key="enumeration:rest-users",
                    category="enumeration",
                    severity="medium",
                    title="User names can be listed through the REST API",
                    detail=f"{path} lists: {', '.join(slugs[:5])}.",
                    advice="Limit /wp/v2/users to logged-in users (a security plugin or a small "
                    "rest_endpoints filter does it).",
                )
            )
            break
    return found


def _user_slugs(answer: http.Response) -> list[str]:
    if answer.status != 200:
        return []
    try:
        data = json.loads(answer.body)
    except ValueError:
        return []
    if not isinstance(data, list):
        return []
    return [str(u["slug"])[:60] for u in data if isinstance(u, dict) and "slug" in u]


def check_xmlrpc(fetch: Fetch) -> list[Found]:
    answer = fetch(
        "/xmlrpc.php", method="POST", body=XMLRPC_CALL, headers={"Content-Type": "text/xml"}
    )
    if answer.status == 200 and b"<methodResponse>" in answer.body:
        multicall = b"system.multicall" in answer.body
        return [
            Found(
                key="xmlrpc:open",
                category="xmlrpc",
                severity="medium" if multicall else "low",
                title="xmlrpc.php answers",
                detail="system.multicall is on: hundreds of passwords can be tried in one request."
                if multicall
                else "XML-RPC is reachable.",
                advice="Block xmlrpc.php unless the site needs it (Jetpack and the mobile app do).",
            )
        ]
    return []


def check_readme(fetch: Fetch) -> list[Found]:
    answer = fetch("/readme.html")
    # Its title, not the word "WordPress", which any theme's soft 404 may carry.
    if answer.status == 200 and re.search(rb"<title>\s*WordPress\b[^<]*ReadMe", answer.body[:8192]):
        return [
            Found(
                key="disclosure:readme",
                category="disclosure",
                severity="info",
                title="readme.html is public",
                advice="Delete readme.html (WordPress puts it back on updates: block it on the "
                "server instead).",
            )
        ]
    return []
