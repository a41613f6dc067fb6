"""cio-relay settings: everything comes from the environment (see the settings table in README.md).

With nothing set, the system runs on one machine with no external server: SQLite in WAL mode and
Celery over kombu's filesystem transport, both under DATA_DIR. With DATABASE_URL and
CELERY_BROKER_URL set, the same code runs on PostgreSQL and Redis.
"""

from __future__ import annotations

import secrets
from datetime import timedelta
from pathlib import Path

import dj_database_url
from django.core.exceptions import ImproperlyConfigured

from cio_project.env import (
    env_bool,
    env_choice,
    env_float,
    env_http_url,
    env_int,
    env_list,
    env_str,
)

BASE_DIR = Path(__file__).resolve().parent.parent
DATA_DIR = Path(env_str("CIO_RELAY_DATA_DIR") or BASE_DIR / "var").resolve()
DATA_DIR.mkdir(parents=True, exist_ok=True)

DEBUG = env_bool("DJANGO_DEBUG", False)


ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", ["localhost", "127.0.0.1", "[::1]"])
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS", [])
# The address SDKs reach this server at, for the admin's SDK snippets; empty: the admin request's own.
PUBLIC_URL = env_http_url("PUBLIC_URL", "")

INSTALLED_APPS = [
    "cio_project.apps.RelayAdminConfig",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "rest_framework",
    "drf_spectacular",
    "axes",
    "csp",
    "corsheaders",
    "destinations",
    "destinations.warehouse",
    "delivery",
]

MIDDLEWARE = [
    "cio_project.request_id.AssignRequestId",
    "cio_project.middleware.CountRequests",
    "django.middleware.security.SecurityMiddleware",
    # Before the session and CSRF middleware, so it sees the cookies they set.
    "cio_project.middleware.SecureCookiesOverHttps",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    # Before CommonMiddleware, so a preflight is answered before anything can redirect or refuse it.
    "corsheaders.middleware.CorsMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "csp.middleware.CSPMiddleware",
    # Last, as django-axes asks: it turns a locked-out login into its lockout page.
    "axes.middleware.AxesMiddleware",
]
# What the routes SDKs, Customer.io and scrapers call go through (cio_project/wsgi.py): the request id,
# the counts, the security headers and CORS. They set no cookie, read no session or login, serve no
# static file and are CSRF-exempt, so the rest of MIDDLEWARE would only cost each event its time.
API_MIDDLEWARE = [
    "cio_project.request_id.AssignRequestId",
    "cio_project.middleware.CountRequests",
    "django.middleware.security.SecurityMiddleware",
    "corsheaders.middleware.CorsMiddleware",
]
# The first path segments of those routes.
API_PATH_ROOTS = frozenset({"v1", "beacon", "sourceConfig", "webhooks", "healthz", "metrics"})

ROOT_URLCONF = "cio_project.urls"
WSGI_APPLICATION = "cio_project.wsgi.application"

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
            ],
            "libraries": {"relay_times": "cio_project.templatetags.relay_times"},
        },
    },
]


def _database(url: str) -> dict:
    try:
        # No health checks: they cost a round trip per request. A connection that went bad fails its
        # request (503, which SDKs retry) and is closed at the end of it; the next one reconnects.
        config = dj_database_url.parse(url, conn_max_age=60, conn_health_checks=False)
    except ValueError as error:
        raise ImproperlyConfigured(f"DATABASE_URL is not a database URL: {error}") from None
    engine = config["ENGINE"]
    if engine == "django.db.backends.sqlite3":
        config["OPTIONS"] = {
            # WAL lets the web server read while a worker writes; IMMEDIATE takes the write lock at
            # BEGIN so two writers queue on busy_timeout instead of failing with "database is locked".
            "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; PRAGMA busy_timeout=30000;",
            "transaction_mode": "IMMEDIATE",
            "timeout": 30,
        }
        config["CONN_MAX_AGE"] = 0
        # Tests run a worker in another process, so the test database must be a file both can open.
        config["TEST"] = {"NAME": str(DATA_DIR / "test_cio_relay.sqlite3")}
    elif engine not in ("django.db.backends.postgresql",):
        raise ImproperlyConfigured(f"DATABASE_URL must be PostgreSQL or SQLite, got engine {engine}")
    return config


DATABASES = {"default": _database(env_str("DATABASE_URL") or f"sqlite:///{DATA_DIR / 'cio_relay.sqlite3'}")}
# Embedded: everything on this one machine (SQLite). Anything else is a shared deployment.
EMBEDDED = DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3"


def _embedded_secret_key() -> str:
    """A random key kept in DATA_DIR: unique to this installation, never a value anyone knows.

    Only for the single-machine embedded setup; a shared deployment (PostgreSQL) must pass
    DJANGO_SECRET_KEY so that every machine agrees on it.
    """
    path = DATA_DIR / "secret_key"
    if not path.exists():
        path.touch(mode=0o600)
        path.write_text(secrets.token_urlsafe(50))
    return path.read_text().strip()


SECRET_KEY = env_str("DJANGO_SECRET_KEY") or ""
if not SECRET_KEY:
    if not EMBEDDED:
        raise ImproperlyConfigured("DJANGO_SECRET_KEY must be set when the database is PostgreSQL")
    SECRET_KEY = _embedded_secret_key()
if len(SECRET_KEY) < 32:
    raise ImproperlyConfigured("DJANGO_SECRET_KEY must be at least 32 characters long")

# The key that encrypts Customer.io API keys and write keys at rest. Comma-separated Fernet keys: the
# first encrypts, all decrypt (rotation). Unset: derived from SECRET_KEY (see destinations/crypto.py).
SECRETS_ENCRYPTION_KEYS = env_list("SECRETS_ENCRYPTION_KEY", [])
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
]

LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True
# Dates and times as cio_project/times.py writes them, wherever Django renders one itself.
FORMAT_MODULE_PATH = ["cio_project.formats"]

STATIC_URL = "static/"
STATIC_ROOT = DATA_DIR / "static"
STATIC_ROOT.mkdir(exist_ok=True)

# Behind a TLS-terminating proxy, set SECURE_PROXY_SSL_HEADER_ENABLED=1 so request.is_secure() is
# right. Cookies set over HTTPS are always Secure (cio_project/middleware.py); these two settings make
# them Secure on plain-HTTP answers too.
if env_bool("SECURE_PROXY_SSL_HEADER_ENABLED", False):
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SESSION_COOKIE_SECURE = env_bool("SESSION_COOKIE_SECURE", False)
CSRF_COOKIE_SECURE = env_bool("CSRF_COOKIE_SECURE", False)
SESSION_COOKIE_HTTPONLY = True
X_FRAME_OPTIONS = "DENY"
# Sent on answers to HTTPS requests only (Django's SecurityMiddleware), so plain `make run` is unaffected.
SECURE_HSTS_SECONDS = env_int("SECURE_HSTS_SECONDS", 365 * 24 * 3600, minimum=0)
SECURE_HSTS_INCLUDE_SUBDOMAINS = env_bool("SECURE_HSTS_INCLUDE_SUBDOMAINS", False)

# Content-Security-Policy on the admin's answers (django-csp; the API's routes go without it, as without
# the rest of MIDDLEWARE, cio_project/wsgi.py): scripts only from this server, never inline,
# so a value that slipped through escaping cannot run. Styles may be inline: the admin's charts size
# their bars with style attributes.
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": ["'self'"],
        "script-src": ["'self'"],
        "style-src": ["'self'", "'unsafe-inline'"],
        "img-src": ["'self'", "data:"],
        "object-src": ["'none'"],
        "base-uri": ["'self'"],
        "form-action": ["'self'"],
        "frame-ancestors": ["'none'"],
    },
}

# GET /metrics (Prometheus): with METRICS_TOKEN set, a scrape must send it as a Bearer token; without,
# only the addresses in METRICS_ALLOWED_IPS may scrape.
METRICS_TOKEN = env_str("METRICS_TOKEN") or ""
METRICS_ALLOWED_IPS = [
    address.strip()
    for address in (env_str("METRICS_ALLOWED_IPS") or "127.0.0.1,::1").split(",")
    if address.strip()
]

# Where a login lands when its `next` is missing or points off this site (Django's default,
# /accounts/profile/, is no page here).
LOGIN_REDIRECT_URL = "/admin/"

# Login throttling (django-axes): after LOGIN_FAILURE_LIMIT wrong passwords for one user name from one
# address, that pair is locked out for LOGIN_LOCKOUT_MINUTES; a right password resets the count.
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]
AXES_FAILURE_LIMIT = env_int("LOGIN_FAILURE_LIMIT", 5, minimum=1)
AXES_COOLOFF_TIME = timedelta(minutes=env_int("LOGIN_LOCKOUT_MINUTES", 15, minimum=1))
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_TEMPLATE = "admin/login_locked.html"
AXES_CLIENT_IP_CALLABLE = "cio_project.client_address.client_ip"
# Axes logs each failure with the user name tried, which may be a password typed in the wrong box.
AXES_VERBOSE = False

# --- Customer.io -------------------------------------------------------------------------------
# The only place a Customer.io base URL comes from (DESIGN.md invariant 9): events and forms never set it.
CIO_TRACK_URL_US = env_http_url("CIO_TRACK_URL_US", "https://track.customer.io")
CIO_TRACK_URL_EU = env_http_url("CIO_TRACK_URL_EU", "https://track-eu.customer.io")
CIO_CONNECT_TIMEOUT = env_float("CIO_CONNECT_TIMEOUT", 5.0, minimum=0.1)
CIO_READ_TIMEOUT = env_float("CIO_READ_TIMEOUT", 30.0, minimum=0.1)
# A reporting webhook post signed longer ago than this (or this far in the future) is refused, so a
# recorded post cannot be replayed later.
CIO_WEBHOOK_TIMESTAMP_TOLERANCE_SECONDS = env_int("CIO_WEBHOOK_TIMESTAMP_TOLERANCE_SECONDS", 300, minimum=1)
# How long a process remembers a webhook address's destination and signing key (a rotation or a new key
# takes effect within this time).
CIO_WEBHOOK_ADDRESS_CACHE_SECONDS = env_float("CIO_WEBHOOK_ADDRESS_CACHE_SECONDS", 5.0, minimum=0)

# --- Delivery ----------------------------------------------------------------------------------
DELIVERY_RETENTION_SECONDS = env_int("DELIVERY_RETENTION_SECONDS", 30 * 24 * 3600, minimum=1)
DELIVERY_RESPONSE_BODY_LIMIT = env_int("DELIVERY_RESPONSE_BODY_LIMIT", 4096, minimum=16)
DELIVERY_CLAIM_TIMEOUT_SECONDS = env_int("DELIVERY_CLAIM_TIMEOUT_SECONDS", 600, minimum=1)
DELIVERY_SWEEP_INTERVAL_SECONDS = env_float("DELIVERY_SWEEP_INTERVAL_SECONDS", 5.0, minimum=0.5)
# Retries wait DELIVERY_RETRY_BASE_SECONDS, doubling per attempt up to DELIVERY_RETRY_MAX_SECONDS.
DELIVERY_RETRY_BASE_SECONDS = env_float("DELIVERY_RETRY_BASE_SECONDS", 10.0, minimum=0.01)
DELIVERY_RETRY_MAX_SECONDS = env_float("DELIVERY_RETRY_MAX_SECONDS", 300.0, minimum=0.01)
# Deliveries one worker takes at a time (v1 mode takes fewer at low rate limits).
DELIVERY_CLAIM_SIZE = env_int("DELIVERY_CLAIM_SIZE", 500, minimum=1)
# Requests one delivery task has in flight at once (different people only). At 100 requests/s and
# 50 ms answers, 5 are busy on average; the rest absorb pauses while results are recorded.
DELIVERY_SEND_CONCURRENCY = env_int("DELIVERY_SEND_CONCURRENCY", 16, minimum=1)
# A delivery task stops claiming after this long, so the broker's queue stays fair.
DELIVERY_TASK_BUDGET_SECONDS = env_float("DELIVERY_TASK_BUDGET_SECONDS", 60.0, minimum=1.0)
# A worker that would wait longer than this for the rate limiter releases its claims and stops.
DELIVERY_RATE_LIMIT_MAX_WAIT_SECONDS = env_float("DELIVERY_RATE_LIMIT_MAX_WAIT_SECONDS", 2.0, minimum=0.1)
# Retention deletes this many deliveries per transaction, then re-queues itself.
DELIVERY_RETENTION_BATCH = env_int("DELIVERY_RETENTION_BATCH", 1000, minimum=1)

# Warehouse sources: rows read and stored per transaction, how often beat looks for sources due to
# sync, and how long a run's heartbeat may stop before the next run takes it for killed.
WAREHOUSE_CHUNK_ROWS = env_int("WAREHOUSE_CHUNK_ROWS", 1000, minimum=1)
WAREHOUSE_SCHEDULE_SECONDS = env_float("WAREHOUSE_SCHEDULE_SECONDS", 60.0, minimum=1)
WAREHOUSE_RUN_STALE_SECONDS = env_int("WAREHOUSE_RUN_STALE_SECONDS", 300, minimum=1)
DELIVERY_RETENTION_INTERVAL_SECONDS = env_float("DELIVERY_RETENTION_INTERVAL_SECONDS", 3600.0, minimum=1.0)

# --- Celery ------------------------------------------------------------------------------------
BROKER_DIR = DATA_DIR / "broker"
CELERY_BROKER_URL = env_str("CELERY_BROKER_URL") or "filesystem://"
CELERY_EMBEDDED_BROKER = CELERY_BROKER_URL.startswith("filesystem://")
if CELERY_EMBEDDED_BROKER:
    for folder in ("queue", "control", "processed"):
        (BROKER_DIR / folder).mkdir(parents=True, exist_ok=True)
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        # The filesystem transport reads and writes the same folder from every process.
        "data_folder_in": str(BROKER_DIR / "queue"),
        "data_folder_out": str(BROKER_DIR / "queue"),
        "control_folder": str(BROKER_DIR / "control"),
        "processed_folder": str(BROKER_DIR / "processed"),
        "polling_interval": 0.2,
    }
elif CELERY_BROKER_URL.startswith(("redis://", "rediss://")):
    # Longer than any task can run (CELERY_TASK_TIME_LIMIT), so Redis never redelivers a task
    # that is still running.
    CELERY_BROKER_TRANSPORT_OPTIONS = {"visibility_timeout": 3600}
else:
    raise ImproperlyConfigured("CELERY_BROKER_URL must be a redis:// URL or unset (embedded broker)")

CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_TIME_LIMIT = 600
CELERY_TASK_SOFT_TIME_LIMIT = 540
CELERY_TASK_IGNORE_RESULT = True
CELERY_RESULT_BACKEND = None
CELERY_TASK_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
CELERY_WORKER_HIJACK_ROOT_LOGGER = False
CELERY_BEAT_SCHEDULE_FILENAME = str(DATA_DIR / "celerybeat-schedule")
CELERY_BEAT_SCHEDULE: dict = {
    # A sweep nobody ran in time is dropped: the next one does the same work.
    "delivery-sweep": {
        "task": "delivery.tasks.sweep",
        "schedule": DELIVERY_SWEEP_INTERVAL_SECONDS,
        "options": {"expires": DELIVERY_SWEEP_INTERVAL_SECONDS},
    },
    "delivery-retention": {
        "task": "delivery.tasks.delete_old_deliveries",
        "schedule": DELIVERY_RETENTION_INTERVAL_SECONDS,
    },
    "warehouse-schedule": {
        "task": "delivery.tasks.sync_due_warehouses",
        "schedule": WAREHOUSE_SCHEDULE_SECONDS,
        "options": {"expires": WAREHOUSE_SCHEDULE_SECONDS},
    },
}

# --- REST framework ----------------------------------------------------------------------------
REST_FRAMEWORK = {
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "DEFAULT_AUTHENTICATION_CLASSES": [],
    "DEFAULT_PERMISSION_CLASSES": [],
    "UNAUTHENTICATED_USER": None,
}
SPECTACULAR_SETTINGS = {
    "TITLE": "cio-relay ingestion API",
    "DESCRIPTION": "Segment/RudderStack-compatible HTTP API that forwards events to Customer.io.",
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
}

# --- Logging -----------------------------------------------------------------------------------
LOG_LEVEL = env_choice("LOG_LEVEL", "INFO", {"DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"})
# "json": one JSON object a line (python-json-logger), for a log collector; "text" for people.
LOG_FORMAT = env_choice("LOG_FORMAT", "TEXT", {"TEXT", "JSON"}).lower()
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {
        "redact_secrets": {"()": "cio_project.log_redaction.RedactSecretsFilter"},
        "request_id": {"()": "cio_project.request_id.RequestIdFilter"},
        "routine_task_lines": {
            "()": "cio_project.routine_task_lines.RoutineTaskLines",
            "keep": LOG_LEVEL == "DEBUG",
        },
    },
    "formatters": {
        "text": {"format": "%(asctime)s %(levelname)s %(name)s [%(request_id)s] %(message)s"},
        "json": {
            "()": "pythonjsonlogger.json.JsonFormatter",
            "format": "%(asctime)s %(levelname)s %(name)s %(request_id)s %(message)s",
            "rename_fields": {"asctime": "time", "levelname": "level", "name": "logger"},
        },
    },
    "handlers": {
        "console": {
            "class": "logging.StreamHandler",
            "formatter": LOG_FORMAT,
            "filters": ["routine_task_lines", "request_id", "redact_secrets"],
        }
    },
    "root": {"handlers": ["console"], "level": LOG_LEVEL},
}

# --- Ingestion ---------------------------------------------------------------------------------
# How long a write key's source (and its connected destinations) is cached in each server process:
# a disabled source, a rotated key or a newly connected destination takes effect within this time.
INGESTION_AUTH_CACHE_SECONDS = env_float("INGESTION_AUTH_CACHE_SECONDS", 5.0, minimum=0)
# Requests per second per write key; 0 turns the limit off. Counted in Redis when it is the broker,
# else in each server process (delivery/ingestion/throttle.py).
INGESTION_RATE_LIMIT_PER_SECOND = env_int("INGESTION_RATE_LIMIT_PER_SECOND", 0, minimum=0)
# Behind a proxy that sets X-Forwarded-For, take context.ip from it instead of the peer address.
INGESTION_TRUST_X_FORWARDED_FOR = env_bool("INGESTION_TRUST_X_FORWARDED_FOR", False)

# --- CORS (django-cors-headers) ----------------------------------------------------------------
# Browser SDKs send from the website's origin. Only the SDK-facing prefixes answer cross-origin: the
# ingestion API, RudderStack's beacon and the settings documents, their JSON 404s included (so a page
# can read them); never the admin. Every origin passes here, as RudderStack and Segment accept any; a
# source's own allowed-origins list is checked with its write key (delivery/ingestion/auth.py), since
# a preflight carries no key. No cookies are involved, so credentials are never allowed.
CORS_URLS_REGEX = r"^/(v1|beacon|sourceConfig)(/|$)"
CORS_ALLOWED_ORIGIN_REGEXES = [r"^.+$"]
CORS_ALLOW_CREDENTIALS = False
CORS_ALLOW_METHODS = ["GET", "POST", "OPTIONS"]
# What the browser SDKs set, read in each one's bundle: Authorization (RudderStack, Segment),
# Content-Type, Content-Encoding for gzip bodies; RudderStack's AnonymousId, SentAt and its Rsa-* retry
# headers; Segment's X-Retry-Count.
CORS_ALLOW_HEADERS = [
    "accept",
    "anonymousid",
    "authorization",
    "content-encoding",
    "content-type",
    "rsa-recovered",
    "rsa-retry-attempt",
    "rsa-retry-reason",
    "rsa-since-first-attempt",
    "rsa-since-last-attempt",
    "sentat",
    "x-retry-count",
]
CORS_PREFLIGHT_MAX_AGE = 86400
