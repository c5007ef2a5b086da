"""caredesk settings, read once from the environment.

Every variable is documented in ``.env.example``. A bad value raises
:class:`caredesk.lib.env.ConfigError`, which the ``caredesk`` command prints as
one line before exiting.
"""

import os
import re
import secrets
from pathlib import Path

import dj_database_url
from cryptography.fernet import Fernet

from caredesk.lib.env import ConfigError, Env, load_env_file

BASE_DIR = Path(__file__).resolve().parent
load_env_file(Path(os.environ.get("CAREDESK_ENV_FILE", ".env")), os.environ)
env = Env()

CAREDESK_ENV = env.choice("CAREDESK_ENV", "development", ("development", "production"))
PRODUCTION = CAREDESK_ENV == "production"
DEBUG = env.flag("CAREDESK_DEBUG", default=False)
DATA_DIR = Path(env.text("CAREDESK_DATA_DIR", str(Path.cwd() / "var"))).resolve()


def _development_secrets(data_dir: Path) -> dict[str, str]:
    """Keys for a single-machine install, made once and kept in the data directory.

    Production must set them in the environment; a development install keeps
    its own so sessions and encrypted site secrets survive a restart.
    """
    path = data_dir / "secrets.env"
    values: dict[str, str] = {}
    load_env_file(path, values)
    made = {
        "CAREDESK_SECRET_KEY": lambda: secrets.token_urlsafe(50),
        "CAREDESK_ENCRYPTION_KEYS": lambda: Fernet.generate_key().decode(),
        # Encrypts the backup repository: without it the backups cannot be read.
        "CAREDESK_RESTIC_PASSWORD": lambda: secrets.token_urlsafe(32),
    }
    if any(name not in values for name in made):
        for name, make in made.items():
            values.setdefault(name, make())
        data_dir.mkdir(parents=True, exist_ok=True)
        lines = [f"{key}={value}" for key, value in sorted(values.items())]
        path.write_text("\n".join(lines) + "\n", encoding="utf-8")
        path.chmod(0o600)
    return values


if PRODUCTION:
    SECRET_KEY = env.text("CAREDESK_SECRET_KEY")
    _encryption_keys = env.items("CAREDESK_ENCRYPTION_KEYS", [])
    if not _encryption_keys:
        raise ConfigError("CAREDESK_ENCRYPTION_KEYS is required but not set")
    CAREDESK_RESTIC_PASSWORD = env.text("CAREDESK_RESTIC_PASSWORD")
else:
    _dev = _development_secrets(DATA_DIR)
    SECRET_KEY = env.optional("CAREDESK_SECRET_KEY") or _dev["CAREDESK_SECRET_KEY"]
    _encryption_keys = env.items("CAREDESK_ENCRYPTION_KEYS", []) or [
        _dev["CAREDESK_ENCRYPTION_KEYS"]
    ]
    CAREDESK_RESTIC_PASSWORD = env.text(
        "CAREDESK_RESTIC_PASSWORD", _dev["CAREDESK_RESTIC_PASSWORD"]
    )
if len(SECRET_KEY) < 32:
    raise ConfigError("CAREDESK_SECRET_KEY must be at least 32 characters long")
for _key in _encryption_keys:
    try:
        Fernet(_key)
    except ValueError:
        raise ConfigError(
            "CAREDESK_ENCRYPTION_KEYS must be Fernet keys (32 url-safe base64 bytes); "
            "make one with: caredesk genkey"
        ) from None
# The first key encrypts; all of them decrypt, so keys can be rotated.
CAREDESK_ENCRYPTION_KEYS = _encryption_keys

ALLOWED_HOSTS = env.items(
    "CAREDESK_ALLOWED_HOSTS", [] if PRODUCTION else ["127.0.0.1", "localhost", "[::1]"]
)
if PRODUCTION and not ALLOWED_HOSTS:
    raise ConfigError("CAREDESK_ALLOWED_HOSTS is required in production (e.g. desk.example.com)")
CAREDESK_BASE_URL = env.text("CAREDESK_BASE_URL", "http://127.0.0.1:8000").rstrip("/")
CSRF_TRUSTED_ORIGINS = env.items("CAREDESK_CSRF_TRUSTED_ORIGINS", [CAREDESK_BASE_URL])


def _database(url: str | None) -> dict[str, object]:
    if not url:
        DATA_DIR.mkdir(parents=True, exist_ok=True)
        url = f"sqlite:///{DATA_DIR / 'caredesk.sqlite3'}"
    scheme = url.split(":", 1)[0]
    if scheme not in {"sqlite", "postgres", "postgresql", "pgsql"}:
        raise ConfigError(
            f"DATABASE_URL has unsupported scheme {scheme!r}: "
            "use postgres://user@host/name or sqlite:///path (or leave it unset)"
        )
    try:
        config: dict[str, object] = dict(dj_database_url.parse(url, conn_max_age=0))
    except ValueError as error:
        raise ConfigError(f"DATABASE_URL is not valid: {error}") from None
    if config["ENGINE"] == "django.db.backends.sqlite3":
        if not config.get("NAME"):
            raise ConfigError("DATABASE_URL for SQLite needs a file path: sqlite:////abs/path.db")
        config["OPTIONS"] = {
            # WAL lets the web server read while the worker writes; IMMEDIATE
            # takes the write lock up front so concurrent writers queue
            # instead of failing with "database is locked" mid-transaction.
            "init_command": (
                "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; PRAGMA foreign_keys=ON;"
            ),
            "transaction_mode": "IMMEDIATE",
            "timeout": 20,
        }
    else:
        if not config.get("NAME"):
            raise ConfigError("DATABASE_URL for PostgreSQL needs a database name")
        config["CONN_HEALTH_CHECKS"] = True
    config["TEST"] = {"NAME": env.optional("CAREDESK_TEST_DATABASE_NAME")}
    return config


DATABASES = {"default": _database(env.optional("DATABASE_URL"))}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django_tasks",
    "anymail",
    "django_tasks_db",
    "django_htmx",
    "caredesk.accounts",
    "caredesk.sla",
    "caredesk.clients",
    "caredesk.plans",
    "caredesk.tickets",
    "caredesk.monitoring",
    "caredesk.kb",
    "caredesk.maintenance",
    "caredesk.mail",
    "caredesk.alerts",
    "caredesk.billing",
    "caredesk.reports",
    "caredesk.desk",
    "caredesk.portal",
    "caredesk.widget",
    "caredesk.api",
    "caredesk.ops",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
]

ROOT_URLCONF = "caredesk.urls"
ASGI_APPLICATION = "caredesk.asgi.application"
WSGI_APPLICATION = "caredesk.wsgi.application"
TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "caredesk.desk.context.branding",
            ],
        },
    },
]

AUTH_USER_MODEL = "accounts.User"
LOGIN_URL = "desk:login"
LOGIN_REDIRECT_URL = "desk:home"
LOGOUT_REDIRECT_URL = "desk:login"
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
SESSION_COOKIE_AGE = env.integer("CAREDESK_SESSION_HOURS", 12, minimum=1) * 3600
# Client contacts stay signed in to the portal this long (staff: CAREDESK_SESSION_HOURS).
CAREDESK_PORTAL_SESSION_HOURS = env.integer("CAREDESK_PORTAL_SESSION_HOURS", 8, minimum=1)
# The help widget on client sites: submissions per visitor address and per site in
# an hour, and the least time a person takes to fill the form (faster is a robot).
CAREDESK_WIDGET_RATE_PER_IP = env.integer("CAREDESK_WIDGET_RATE_PER_IP", 10, minimum=1)
CAREDESK_WIDGET_RATE_PER_SITE = env.integer("CAREDESK_WIDGET_RATE_PER_SITE", 60, minimum=1)
CAREDESK_WIDGET_MIN_FILL_SECONDS = env.integer("CAREDESK_WIDGET_MIN_FILL_SECONDS", 3, minimum=0)
# Reverse proxies whose X-Forwarded-For is believed (rate limits count the real visitor).
CAREDESK_TRUSTED_PROXIES = env.items("CAREDESK_TRUSTED_PROXIES", [])
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SECURE = CAREDESK_BASE_URL.startswith("https://")
CSRF_COOKIE_SECURE = SESSION_COOKIE_SECURE
SECURE_CONTENT_TYPE_NOSNIFF = True
X_FRAME_OPTIONS = "DENY"

# Django 6 reads a scheme-less URL typed in a form as https; take that now.
FORMS_URLFIELD_ASSUME_HTTPS = True

LANGUAGE_CODE = "en-gb"
TIME_ZONE = env.text("CAREDESK_TIME_ZONE", "Europe/London")
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = DATA_DIR / "static"
MEDIA_ROOT = DATA_DIR / "media"
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedStaticFilesStorage"},
}
# Serve straight from the apps when collectstatic has not run (a fresh checkout).
WHITENOISE_USE_FINDERS = True
WHITENOISE_AUTOREFRESH = DEBUG

TASKS = {
    "default": {
        "BACKEND": "django_tasks_db.DatabaseBackend",
        "QUEUES": ["default"],
    }
}

EMAIL_HOST = env.optional("CAREDESK_SMTP_HOST")
if EMAIL_HOST:
    EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    EMAIL_PORT = env.integer("CAREDESK_SMTP_PORT", 587, minimum=1)
    EMAIL_HOST_USER = env.text("CAREDESK_SMTP_USER", "")
    EMAIL_HOST_PASSWORD = env.text("CAREDESK_SMTP_PASSWORD", "")
    EMAIL_USE_TLS = env.flag("CAREDESK_SMTP_STARTTLS", default=EMAIL_PORT == 587)
    EMAIL_USE_SSL = env.flag("CAREDESK_SMTP_SSL", default=EMAIL_PORT == 465)
    EMAIL_TIMEOUT = 30
else:
    # No mail server configured: keep every message as a file to read.
    EMAIL_BACKEND = "django.core.mail.backends.filebased.EmailBackend"
    EMAIL_FILE_PATH = str(DATA_DIR / "sent-mail")
# Monthly reports carry their PDF and pictures: this backend attaches them as the
# outbox sends, then hands every message to the transport chosen above.
CAREDESK_MAIL_TRANSPORT = EMAIL_BACKEND
EMAIL_BACKEND = "caredesk.reports.mailbackend.EmailBackend"
DEFAULT_FROM_EMAIL = env.text("CAREDESK_FROM_EMAIL", "caredesk <support@localhost>")
SERVER_EMAIL = DEFAULT_FROM_EMAIL

CAREDESK_TICKET_NUMBER_OFFSET = env.integer("CAREDESK_TICKET_NUMBER_OFFSET", 1000, minimum=0)
CAREDESK_MAX_ATTACHMENT_MB = env.integer("CAREDESK_MAX_ATTACHMENT_MB", 25, minimum=1)
CAREDESK_SUPPORT_ADDRESS = env.text("CAREDESK_SUPPORT_ADDRESS", "support@localhost").lower()
if "@" not in CAREDESK_SUPPORT_ADDRESS or "+" in CAREDESK_SUPPORT_ADDRESS.split("@")[0]:
    raise ConfigError(
        "CAREDESK_SUPPORT_ADDRESS must be a plain address like support@agency.example "
        "(caredesk adds +token to it for replies)"
    )
CAREDESK_UNKNOWN_SENDERS = env.choice(
    "CAREDESK_UNKNOWN_SENDERS", "unassigned", ("unassigned", "refuse")
)
CAREDESK_MAIL_RATE_PER_HOUR = env.integer("CAREDESK_MAIL_RATE_PER_HOUR", 30, minimum=1)
CAREDESK_MAX_MESSAGE_MB = env.integer("CAREDESK_MAX_MESSAGE_MB", 40, minimum=1)
CAREDESK_IMAP_URL = env.optional("CAREDESK_IMAP_URL")
CAREDESK_IMAP_DONE_FOLDER = env.optional("CAREDESK_IMAP_DONE_FOLDER")
# Inbound webhooks of email providers (django-anymail) at /mail/inbound/<provider>/.
ANYMAIL = {
    "WEBHOOK_SECRET": env.optional("CAREDESK_INBOUND_WEBHOOK_SECRET"),  # "user:password"
    "MAILGUN_WEBHOOK_SIGNING_KEY": env.optional("CAREDESK_MAILGUN_WEBHOOK_SIGNING_KEY"),
}
ANYMAIL = {key: value for key, value in ANYMAIL.items() if value}
# Billing: round each time entry up to this many minutes; the plan that prices
# work for clients without one; the currency when no plan says.
CAREDESK_BILLING_ROUNDING_MINUTES = env.integer("CAREDESK_BILLING_ROUNDING_MINUTES", 1, minimum=1)
CAREDESK_BILLING_ON_DEMAND_PLAN = env.optional("CAREDESK_BILLING_ON_DEMAND_PLAN")
CAREDESK_BILLING_CURRENCY = env.text("CAREDESK_BILLING_CURRENCY", "GBP").upper()
# Uptime monitoring: raw check results kept this many days, hourly rollups this
# many (at least 35: the desk's 30-day views read them; daily rollups keep every
# hour for ever); a re-flap within the quiet period reopens the same incident; a
# failed check is re-checked this soon; how many regions must see an outage
# (at most the regions running) and how long a silent probe still counts as
# running; the embedded probe's region and how many checks it runs at once; a
# reference URL that must fail too before a probe says it lost its own network.
CAREDESK_MONITOR_RAW_DAYS = env.integer("CAREDESK_MONITOR_RAW_DAYS", 30, minimum=1)
CAREDESK_MONITOR_HOURLY_DAYS = env.integer("CAREDESK_MONITOR_HOURLY_DAYS", 62, minimum=35)
CAREDESK_MONITOR_QUIET_SECONDS = env.integer("CAREDESK_MONITOR_QUIET_SECONDS", 600, minimum=0)
CAREDESK_MONITOR_RECHECK_SECONDS = env.integer("CAREDESK_MONITOR_RECHECK_SECONDS", 10, minimum=1)
CAREDESK_MONITOR_QUORUM = env.integer("CAREDESK_MONITOR_QUORUM", 2, minimum=1)
CAREDESK_HEARTBEAT_RATE_PER_MINUTE = env.integer(
    "CAREDESK_HEARTBEAT_RATE_PER_MINUTE", 10, minimum=1
)
CAREDESK_HEARTBEAT_MISSES_PER_HOUR = env.integer(
    "CAREDESK_HEARTBEAT_MISSES_PER_HOUR", 60, minimum=1
)
CAREDESK_PROBE_ALIVE_SECONDS = env.integer("CAREDESK_PROBE_ALIVE_SECONDS", 90, minimum=30)
CAREDESK_PROBE_REGION = env.text("CAREDESK_PROBE_REGION", "local")
CAREDESK_PROBE_CONCURRENCY = env.integer("CAREDESK_PROBE_CONCURRENCY", 500, minimum=1)
CAREDESK_PROBE_CANARY_URL = env.optional("CAREDESK_PROBE_CANARY_URL")
CAREDESK_AGENCY_NAME = env.text("CAREDESK_AGENCY_NAME", "caredesk")
# The agency's look on monthly reports: a logo file (PNG, JPEG or GIF), a colour, a footer.
CAREDESK_REPORT_LOGO = env.text("CAREDESK_REPORT_LOGO", "")
if CAREDESK_REPORT_LOGO:
    _logo = Path(CAREDESK_REPORT_LOGO)
    if _logo.suffix.lower() not in (".png", ".jpg", ".jpeg", ".gif") or not _logo.is_file():
        raise ConfigError(
            f"CAREDESK_REPORT_LOGO={CAREDESK_REPORT_LOGO!r} must be a PNG, JPEG or GIF file"
        )
CAREDESK_REPORT_COLOUR = env.text("CAREDESK_REPORT_COLOUR", "#1d4f91")
if not re.fullmatch(r"#[0-9a-fA-F]{6}", CAREDESK_REPORT_COLOUR):
    raise ConfigError(
        f"CAREDESK_REPORT_COLOUR={CAREDESK_REPORT_COLOUR!r} must be a colour like #1d4f91"
    )
CAREDESK_REPORT_FOOTER = env.text("CAREDESK_REPORT_FOOTER", "")
# Backups of WordPress sites go to a restic repository (Debian package: restic): a
# folder, or any restic URL (s3:https://…/bucket/path, sftp:…, rest:…), with the
# provider's own variables (AWS_ACCESS_KEY_ID…) in the environment.
CAREDESK_RESTIC_BINARY = env.text("CAREDESK_RESTIC_BINARY", "restic")
CAREDESK_RESTIC_REPOSITORY = env.text(
    "CAREDESK_RESTIC_REPOSITORY", str(DATA_DIR / "backups" / "restic")
)
CAREDESK_BACKUP_WORK_DIR = env.text("CAREDESK_BACKUP_WORK_DIR", str(DATA_DIR / "backup-work"))
CAREDESK_BACKUP_LOCK_WAIT = env.integer("CAREDESK_BACKUP_LOCK_WAIT", 600, minimum=0)
# WordPress sites: seconds for an answer, and for updates and backup or restore steps.
CAREDESK_MAINTENANCE_TIMEOUT = env.integer("CAREDESK_MAINTENANCE_TIMEOUT", 30, minimum=1)
CAREDESK_MAINTENANCE_UPDATE_TIMEOUT = env.integer(
    "CAREDESK_MAINTENANCE_UPDATE_TIMEOUT", 300, minimum=1
)
# An update run whose worker has shown no sign of life this long is queued again.
CAREDESK_UPDATE_RUN_STALE_MINUTES = env.integer("CAREDESK_UPDATE_RUN_STALE_MINUTES", 30, minimum=10)
CAREDESK_SCHEDULER_LEASE_SECONDS = env.integer("CAREDESK_SCHEDULER_LEASE_SECONDS", 60, minimum=5)
CAREDESK_TASK_RESULT_DAYS = env.integer("CAREDESK_TASK_RESULT_DAYS", 14, minimum=1)

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {
        "plain": {"format": "%(asctime)s %(levelname)s %(name)s: %(message)s"},
    },
    "handlers": {"stderr": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["stderr"], "level": env.text("CAREDESK_LOG_LEVEL", "INFO")},
    # WeasyPrint narrates every PDF step at INFO; fontTools its subsetting.
    "loggers": {
        "django.db.backends": {"level": "WARNING"},
        "weasyprint": {"level": "WARNING"},
        "fontTools": {"level": "WARNING"},
    },
}
