"""Settings for the SSL Certificates Console, read from the environment.

With no environment at all the console runs locally (DEBUG on, SQLite, emails
printed to the terminal). With DEBUG off it refuses to start until the secrets
that protect sessions and customers' private keys are really set.
"""

from collections.abc import Callable
from datetime import date, timedelta
from ipaddress import ip_address, ip_network
from pathlib import Path
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from babel.numbers import list_currencies
from cryptography.fernet import Fernet
from django.core.exceptions import ImproperlyConfigured
from environs import Env, EnvValidationError, ValidationError, validate

BASE_DIR = Path(__file__).resolve().parent.parent

# How the console's PostgreSQL connections are named (pg_stat_activity.application_name).
DATABASE_APPLICATION_NAME = "ssl-certificates-console"

# Development-only values: usable on a laptop, refused in production below.
_DEV_SECRET_KEY = "django-insecure-local-development-only"
# A Fernet key (32 url-safe base64 bytes) for local development only.
_DEV_KEY_ENCRYPTION_KEY = "bG9jYWwtZGV2ZWxvcG1lbnQta2V5LW5vdC1zZWNyZXQ="


def _each(check: Callable[[str], object], message: str) -> Callable[[list[str]], None]:
    """A validator for env.list: `message` unless `check` accepts every item.

    The items are checked here and converted after sealing, not by a subcast: environs
    reports a failed subcast by the item's index only, losing the reason.
    """

    def validator(items: list[str]) -> None:
        for item in items:
            try:
                check(item)
            except ValueError:
                raise ValidationError(message) from None

    return validator


def _whole_days(text: str) -> None:
    if int(text) < 1:
        raise ValueError(text)


def _time_zone(name: str) -> None:
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise ValidationError("Not a time zone, e.g. UTC or Asia/Shanghai.") from None


def _currency(code: str) -> None:
    if code not in list_currencies():
        raise ValidationError("Not an ISO 4217 currency code, e.g. USD, EUR or CNY.")


_at_least_0 = validate.Range(min=0)
_at_least_1 = validate.Range(min=1)
_port = validate.Range(min=1, max=65535)

# The environment, in the order of the README's Configuration table. Nothing is
# parsed by hand: environs reads each value, and sealing it reports every
# malformed one at once, by name, before any of them is used.
env = Env(eager=False)

DEBUG = env.bool("DEBUG", True)
SECRET_KEY = env.str("SECRET_KEY", _DEV_SECRET_KEY)
ALLOWED_HOSTS = env.list("ALLOWED_HOSTS", ["127.0.0.1", "localhost"], subcast=str.strip)
CSRF_TRUSTED_ORIGINS = env.list("CSRF_TRUSTED_ORIGINS", [], subcast=str.strip)
# Persistent connections, for SQLite only: on PostgreSQL the pool below keeps them.
_database_conn_max_age = env.int("DATABASE_CONN_MAX_AGE", 60, validate=_at_least_0)
_database = env.dj_db_url(
    "DATABASE_URL",
    f"sqlite:///{BASE_DIR / 'db.sqlite3'}",
    conn_max_age=_database_conn_max_age,
)
# PostgreSQL connections come from a pool of at most DATABASE_POOL_MAX_SIZE per
# process, whatever the number of threads; a request waits up to
# DATABASE_POOL_TIMEOUT seconds for one before it fails.
_database_pool_min_size = env.int("DATABASE_POOL_MIN_SIZE", 1, validate=_at_least_0)
_database_pool_max_size = env.int("DATABASE_POOL_MAX_SIZE", 4, validate=_at_least_1)
_database_pool_timeout = env.float(
    "DATABASE_POOL_TIMEOUT", 10.0, validate=validate.Range(min=0, min_inclusive=False)
)
# Fernet keys, newest first: the first encrypts, all of them decrypt, so keys
# can be rotated by putting a new one in front.
KEY_ENCRYPTION_KEYS = env.list(
    "KEY_ENCRYPTION_KEYS",
    [_DEV_KEY_ENCRYPTION_KEY],
    subcast=str.strip,
    validate=[
        validate.Length(min=1),
        _each(
            Fernet,
            "KEY_ENCRYPTION_KEYS must be comma-separated Fernet keys (32 url-safe base64 "
            "bytes). Generate one with: python -c 'from cryptography.fernet import Fernet; "
            "print(Fernet.generate_key().decode())'",
        ),
    ],
)
EMAIL_BACKEND = env.str("EMAIL_BACKEND", "django.core.mail.backends.console.EmailBackend")
EMAIL_HOST = env.str("EMAIL_HOST", "localhost")
EMAIL_PORT = env.int("EMAIL_PORT", 25, validate=_port)
EMAIL_HOST_USER = env.str("EMAIL_HOST_USER", "")
EMAIL_HOST_PASSWORD = env.str("EMAIL_HOST_PASSWORD", "")
EMAIL_USE_TLS = env.bool("EMAIL_USE_TLS", False)
DEFAULT_FROM_EMAIL = env.str("DEFAULT_FROM_EMAIL", "SSL Certificates <no-reply@localhost>")
CERTIFICATES_PAGE_SIZE = env.int("CERTIFICATES_PAGE_SIZE", 20, validate=_at_least_1)
# Prices and refunds are in this currency, written as the customer's locale writes it.
CONSOLE_CURRENCY = env.str("CONSOLE_CURRENCY", "USD", validate=_currency)
# "Personal service": where the contact page sends customers.
CONSOLE_SUPPORT_EMAIL = env.str("CONSOLE_SUPPORT_EMAIL", "support@localhost")
# "Will Expire": issued certificates whose end date is within this many days.
CERTIFICATES_WILL_EXPIRE_DAYS = env.int("CERTIFICATES_WILL_EXPIRE_DAYS", 30, validate=_at_least_0)
# The certificate authority. Issued certificates name their CRL, OCSP and CA
# certificate URLs under this base: plain http, as the Baseline Requirements want.
_pki_base_url = env.str("PKI_BASE_URL", "http://127.0.0.1:8000")
# The country in the local CAs' names (the Baseline Requirements want one).
PKI_CA_COUNTRY = env.str("PKI_CA_COUNTRY", "CN", validate=validate.Length(equal=2))
# The CA's own names in CAA records (RFC 8659 issue / issuewild values): a domain whose
# CAA records name none of these can't get a certificate here. The default says it is
# this console's local CA; a deployment names its own.
PKI_CAA_IDENTITIES = env.list(
    "PKI_CAA_IDENTITIES",
    ["local-ca.ssl-console.invalid"],
    subcast=str.strip,
    validate=validate.Length(min=1, error="PKI_CAA_IDENTITIES needs at least one name."),
)
# One certificate's validity: the CA/Browser Forum maximum in force is 200 days
# since 15 March 2026 (100 from March 2027, 47 from 2029); one day of margin.
CERTIFICATE_VALIDITY_DAYS = env.int("CERTIFICATE_VALIDITY_DAYS", 199, validate=_at_least_1)
# Domain validation: the DNS servers the "Verify" check asks (empty: the
# system's), their port, the HTTP port of the file check, timeouts, and how many
# days an application may go unverified before it becomes "Check Fail".
DV_NAMESERVERS = env.list(
    "DV_NAMESERVERS",
    [],
    subcast=str.strip,
    validate=_each(ip_address, "DV_NAMESERVERS must be comma-separated IP addresses."),
)
DV_DNS_PORT = env.int("DV_DNS_PORT", 53, validate=_port)
DV_HTTP_PORT = env.int("DV_HTTP_PORT", 80, validate=_port)
DV_CHECK_TIMEOUT = env.float(
    "DV_CHECK_TIMEOUT", 5.0, validate=validate.Range(min=0, min_inclusive=False)
)
# The file check connects only to public addresses; these networks may be contacted
# anyway (the tests' loopback servers). Empty in production.
DV_ALLOWED_NETWORKS = env.list(
    "DV_ALLOWED_NETWORKS",
    [],
    subcast=str.strip,
    validate=_each(
        lambda network: ip_network(network, strict=False),
        "DV_ALLOWED_NETWORKS must be comma-separated networks in CIDR form, "
        "e.g. 127.0.0.0/8,::1/128.",
    ),
)
# Deployments (webhooks, SSH, the check that a server presents the deployed certificate)
# connect only to public addresses, as the file check does; these networks may be
# contacted anyway (the tests' loopback servers). Empty in production.
DEPLOY_ALLOWED_NETWORKS = env.list(
    "DEPLOY_ALLOWED_NETWORKS",
    [],
    subcast=str.strip,
    validate=_each(
        lambda network: ip_network(network, strict=False),
        "DEPLOY_ALLOWED_NETWORKS must be comma-separated networks in CIDR form, "
        "e.g. 127.0.0.0/8,::1/128.",
    ),
)
# A webhook's answer within this many seconds, read up to DEPLOY_WEBHOOK_MAX_RESPONSE bytes.
DEPLOY_WEBHOOK_TIMEOUT = env.float(
    "DEPLOY_WEBHOOK_TIMEOUT", 10.0, validate=validate.Range(min=0, min_inclusive=False)
)
DEPLOY_WEBHOOK_MAX_RESPONSE = env.int("DEPLOY_WEBHOOK_MAX_RESPONSE", 65536, validate=_at_least_1)
# An SSH step (connect, copy, reload) ends within this many seconds.
DEPLOY_SSH_TIMEOUT = env.float(
    "DEPLOY_SSH_TIMEOUT", 30.0, validate=validate.Range(min=0, min_inclusive=False)
)
# After a deployment the "verify at" address is asked this many times, this many seconds
# apart, for the deployed certificate (a reload can take a moment); each try within
# DEPLOY_VERIFY_TIMEOUT seconds.
DEPLOY_VERIFY_ATTEMPTS = env.int("DEPLOY_VERIFY_ATTEMPTS", 5, validate=_at_least_1)
DEPLOY_VERIFY_INTERVAL = env.float("DEPLOY_VERIFY_INTERVAL", 2.0, validate=validate.Range(min=0))
DEPLOY_VERIFY_TIMEOUT = env.float(
    "DEPLOY_VERIFY_TIMEOUT", 5.0, validate=validate.Range(min=0, min_inclusive=False)
)
DV_CHECK_FAIL_AFTER_DAYS = env.int("DV_CHECK_FAIL_AFTER_DAYS", 7, validate=_at_least_1)
# The ACME server: the brand /acme/directory serves, how long a nonce and an order live,
# the most names in one order and new orders per account and hour.
ACME_DEFAULT_BRAND = env.str("ACME_DEFAULT_BRAND", "digicert")
ACME_NONCE_LIFETIME_SECONDS = env.int("ACME_NONCE_LIFETIME_SECONDS", 3600, validate=_at_least_1)
ACME_ORDER_LIFETIME_HOURS = env.int("ACME_ORDER_LIFETIME_HOURS", 168, validate=_at_least_1)
ACME_MAX_NAMES = env.int("ACME_MAX_NAMES", 100, validate=_at_least_1)
ACME_ORDERS_PER_HOUR = env.int("ACME_ORDERS_PER_HOUR", 300, validate=_at_least_1)
ACME_MAX_PENDING_AUTHORIZATIONS = env.int(
    "ACME_MAX_PENDING_AUTHORIZATIONS", 300, validate=_at_least_1
)
ACME_FAILED_VALIDATIONS_PER_HOUR = env.int(
    "ACME_FAILED_VALIDATIONS_PER_HOUR", 5, validate=_at_least_1
)
# A challenge still processing this many seconds past DV_CHECK_TIMEOUT lost its worker.
ACME_VALIDATION_STALL_SECONDS = env.int("ACME_VALIDATION_STALL_SECONDS", 60, validate=_at_least_1)
# Background work (ACME validation) through Django's Tasks API, queued in the database:
# `manage.py db_worker` runs a worker.
TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}}
# PKCS#12 files and encrypted keys say how many iterations of password hashing open
# them, and OpenSSL does as many as they say: the converter refuses a file asking for
# more than this in all (its MAC and every encrypted part added up), before hashing
# anything. Exporters write about 2,000 to 10,000 per part today (OpenSSL 2,048, Windows
# 2,000, Java 10,000) and a few 100,000 or more; a million is well above that and still
# only seconds of work, where 2^31-1 was minutes.
PKCS12_MAX_ITERATIONS = env.int("PKCS12_MAX_ITERATIONS", 1_000_000, validate=_at_least_1)
_expiry_warning_days_message = (
    "CERTIFICATES_EXPIRY_WARNING_DAYS must list whole numbers of days of 1 or more, e.g. 30,15,7,1."
)
_expiry_warning_days = env.list(
    "CERTIFICATES_EXPIRY_WARNING_DAYS",
    ["30", "15", "7", "1"],
    subcast=str.strip,
    validate=[
        validate.Length(min=1, error=_expiry_warning_days_message),
        _each(_whole_days, _expiry_warning_days_message),
    ],
)
# Where customers reach the console: the links in emails start with it.
_console_base_url = env.str("CONSOLE_BASE_URL", "http://127.0.0.1:8000")
TIME_ZONE = env.str("TIME_ZONE", "UTC", validate=_time_zone)
# Revocation. OV/EV requests wait for the applicant to confirm by an emailed link,
# valid this many hours. The CA (an operator) then has this many business days:
# weekdays that are not REVOCATION_HOLIDAYS (comma-separated ISO dates). A
# revocation completed within REVOCATION_REFUND_DAYS calendar days of issuance is
# refunded in full, otherwise not at all.
REVOCATION_CONFIRMATION_HOURS = env.int("REVOCATION_CONFIRMATION_HOURS", 72, validate=_at_least_1)
REVOCATION_CA_BUSINESS_DAYS = env.int("REVOCATION_CA_BUSINESS_DAYS", 5, validate=_at_least_0)
REVOCATION_REFUND_DAYS = env.int("REVOCATION_REFUND_DAYS", 30, validate=_at_least_0)
_revocation_holidays = env.list(
    "REVOCATION_HOLIDAYS",
    [],
    subcast=str.strip,
    validate=_each(
        date.fromisoformat,
        "REVOCATION_HOLIDAYS must be comma-separated ISO dates, e.g. 2026-10-01,2026-10-02.",
    ),
)
# A CRL's validity (its next update); a new one is published when half of it has
# passed, or at once after a revocation. OCSP answers are valid this many hours.
PKI_CRL_VALIDITY_HOURS = env.int("PKI_CRL_VALIDITY_HOURS", 24, validate=_at_least_1)
PKI_OCSP_VALIDITY_HOURS = env.int("PKI_OCSP_VALIDITY_HOURS", 12, validate=_at_least_1)
# The shards each issuing CA's CRL is partitioned into: a certificate names its serial's
# shard (/pki/<ca>/crl/<n>.der), and a revocation republishes only that one. Fixed once
# certificates name them: changing it leaves the shards they name behind.
CRL_SHARDS = env.int("CRL_SHARDS", 16, validate=_at_least_1)
# The public key-compromise page: reports (POSTs) accepted per client address and hour.
KEY_COMPROMISE_REPORTS_PER_HOUR = env.int(
    "KEY_COMPROMISE_REPORTS_PER_HOUR", 10, validate=_at_least_1
)
# The cache rate limits count in. Empty: each process's memory, right for one process
# (development); with several processes or hosts, a Redis server they share.
_redis_url = env.str(
    "REDIS_URL",
    "",
    validate=validate.Regexp(
        r"^$|^(rediss?|unix)://", error="REDIS_URL must be a redis://, rediss:// or unix:// URL."
    ),
)
# Requests a minute that one API token may send; more are answered 429 with Retry-After.
# Counted in the cache (REDIS_URL shares it between processes).
API_RATE_LIMIT = env.int("API_RATE_LIMIT", 120, validate=_at_least_1)
_log_level = env.log_level("LOG_LEVEL", "INFO")
_signin_failure_limit = env.int("SIGNIN_FAILURE_LIMIT", 5, validate=_at_least_1)
_signin_lockout_minutes = env.int("SIGNIN_LOCKOUT_MINUTES", 15, validate=_at_least_1)
_signin_trusted_proxies = env.int("SIGNIN_TRUSTED_PROXIES", 0, validate=_at_least_0)
_secure_ssl_redirect = env.bool("SECURE_SSL_REDIRECT", True)
_secure_hsts_seconds = env.int("SECURE_HSTS_SECONDS", 365 * 24 * 3600, validate=_at_least_0)
_secure_hsts_include_subdomains = env.bool("SECURE_HSTS_INCLUDE_SUBDOMAINS", True)
_secure_hsts_preload = env.bool("SECURE_HSTS_PRELOAD", True)

try:
    env.seal()
except EnvValidationError as error:
    # Only the names and what is wrong: the values may be secrets (keys, a database password).
    raise ImproperlyConfigured(
        " ".join(
            message if name in message else f"{name}: {message}"
            for name, messages in error.error_messages.items()
            for message in messages
        )
    ) from None

if _database_pool_min_size > _database_pool_max_size:
    raise ImproperlyConfigured(
        "DATABASE_POOL_MIN_SIZE must not be larger than DATABASE_POOL_MAX_SIZE."
    )

if not DEBUG:
    if not SECRET_KEY or SECRET_KEY == _DEV_SECRET_KEY or SECRET_KEY.startswith("django-insecure"):
        raise ImproperlyConfigured(
            "SECRET_KEY must be set to a long random value when DEBUG is off: it signs "
            "sessions, CSRF tokens and revocation confirmation links. Generate one with: "
            "python -c 'import secrets; print(secrets.token_urlsafe(50))'"
        )
    if _DEV_KEY_ENCRYPTION_KEY in KEY_ENCRYPTION_KEYS:
        raise ImproperlyConfigured(
            "KEY_ENCRYPTION_KEYS must be set when DEBUG is off: it encrypts customers' private "
            "keys at rest. Generate one with: python -c 'from cryptography.fernet import "
            "Fernet; print(Fernet.generate_key().decode())'"
        )

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    # The project's own hooks (console/apps.py): the profile language at sign-in.
    "console",
    "django_htmx",
    "template_partials",
    "crispy_forms",
    "crispy_bootstrap5",
    "certificates",
    "api",
    # Only for the Swagger UI assets it ships, served as the console's own static files.
    "ninja",
    "acme_server",
    "deployments",
    "django_tasks",
    "django_tasks_db",
    "axes",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "csp.middleware.CSPMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    # The language: the django_language cookie (the top bar's switch), else Accept-Language;
    # console.language below puts the signed-in customer's profile language first.
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "console.language.ProfileLanguageMiddleware",
    # Every page needs a signed-in user unless its view says otherwise
    # (sign-in itself, the public PKI URLs), so a new page cannot be left open.
    "django.contrib.auth.middleware.LoginRequiredMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    # Last, as axes asks: it turns a locked-out sign-in into the lockout page.
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "console.urls"
WSGI_APPLICATION = "console.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.i18n",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
        },
    },
]

if _database["ENGINE"] == "django.db.backends.postgresql":
    _database["OPTIONS"] = {
        # Names the console's connections in pg_stat_activity; a URL's own
        # ?application_name= wins.
        "application_name": DATABASE_APPLICATION_NAME,
        **_database.get("OPTIONS", {}),
        "pool": {
            "min_size": _database_pool_min_size,
            "max_size": _database_pool_max_size,
            "timeout": _database_pool_timeout,
        },
    }
    # Django's pool refuses persistent connections: closing one gives it back.
    _database["CONN_MAX_AGE"] = 0
    # The pool checks a connection before lending it, so a dropped one is replaced.
    _database["CONN_HEALTH_CHECKS"] = True
elif _database["ENGINE"] == "django.db.backends.sqlite3":
    # The web server and the task worker write to one file: each transaction takes the
    # write lock when it begins and waits for it, instead of failing at once when a read
    # turns into a write while the other process writes.
    _database["OPTIONS"] = {
        "transaction_mode": "IMMEDIATE",
        "timeout": 20,
        **_database.get("OPTIONS", {}),
    }
DATABASES = {"default": _database}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
AUTHENTICATION_BACKENDS = [
    # First, so a locked-out account or address is refused before its password is checked.
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "certificates:overview"
LOGOUT_REDIRECT_URL = "login"

LANGUAGE_CODE = "en"
USE_I18N = True
# The console speaks English and Simplified Chinese (docs/glossary.md holds the terms).
LANGUAGES = [("en", "English"), ("zh-hans", "简体中文")]
# The project's catalogue (templates and console/); each app keeps its own in <app>/locale.
LOCALE_PATHS = [BASE_DIR / "locale"]
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = BASE_DIR / "staticfiles"
STATICFILES_DIRS = [BASE_DIR / "static"]
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": (
            "django.contrib.staticfiles.storage.StaticFilesStorage"
            if DEBUG
            else "whitenoise.storage.CompressedManifestStaticFilesStorage"
        )
    },
}

# Headers and cookies. Nothing in the pages reads the CSRF cookie (htmx sends the
# token from the page), so it can be HTTP-only like the session cookie.
SESSION_COOKIE_HTTPONLY = True
CSRF_COOKIE_HTTPONLY = True
X_FRAME_OPTIONS = "DENY"
SECURE_CONTENT_TYPE_NOSNIFF = True
# The emailed revocation link carries its token in the path: never send it elsewhere.
SECURE_REFERRER_POLICY = "same-origin"
SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"
# The console's own page, with the top bar of whoever is signed in.
CSRF_FAILURE_VIEW = "console.errors.csrf_failure"
if not DEBUG:
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True
    SECURE_SSL_REDIRECT = _secure_ssl_redirect
    # CRLs, OCSP and CA certificates are fetched over plain http (the Baseline
    # Requirements want it), so /pki/ is never redirected to https; nor are the
    # probes, which load balancers send to the console's own plain http port.
    SECURE_REDIRECT_EXEMPT = [r"^pki/", r"^healthz$", r"^readyz$"]
    SECURE_HSTS_SECONDS = _secure_hsts_seconds
    SECURE_HSTS_INCLUDE_SUBDOMAINS = _secure_hsts_include_subdomains
    SECURE_HSTS_PRELOAD = _secure_hsts_preload

# Content Security Policy: scripts and styles only from the console's own static
# files, no inline code and no eval (htmx runs with allowEval off, see base.html).
# Bootstrap draws its form controls with data: SVG images in its CSS.
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": ["'self'"],
        "script-src": ["'self'"],
        "style-src": ["'self'"],
        "img-src": ["'self'", "data:"],
        "font-src": ["'self'"],
        "connect-src": ["'self'"],
        "form-action": ["'self'"],
        "frame-ancestors": ["'none'"],
        "base-uri": ["'none'"],
        "object-src": ["'none'"],
    }
}

# Sign-in throttling (django-axes): after SIGNIN_FAILURE_LIMIT failed sign-ins for
# one username, or from one address, that username or address is locked out for
# SIGNIN_LOCKOUT_MINUTES. Attempts are kept in the database, where operators see
# and delete them (unlock) in the admin; `manage.py axes_reset` clears them all.
AXES_FAILURE_LIMIT = _signin_failure_limit
AXES_COOLOFF_TIME = timedelta(minutes=_signin_lockout_minutes)
AXES_LOCKOUT_PARAMETERS = ["username", "ip_address"]
AXES_LOCKOUT_CALLABLE = "console.signin.locked_out"
# The client's address, found by django-axes through ipware. Behind proxies every
# request comes from the last one's address; each of the SIGNIN_TRUSTED_PROXIES
# proxies appends the address it was reached from to X-Forwarded-For, so the
# client's is the one the outermost was given. ipware counts only the proxies the
# header names after the client, the last proxy being REMOTE_ADDR: hence one less.
if _signin_trusted_proxies:
    AXES_IPWARE_META_PRECEDENCE_ORDER = ("HTTP_X_FORWARDED_FOR", "REMOTE_ADDR")
    AXES_IPWARE_PROXY_COUNT = _signin_trusted_proxies - 1
else:
    # No proxy: the header is the client's own say, never trusted.
    AXES_IPWARE_META_PRECEDENCE_ORDER = ("REMOTE_ADDR",)
    AXES_IPWARE_PROXY_COUNT = None
# Entries in front of the trusted ones are whatever the client sent: skipped, not
# fatal. ipware's strict mode would drop the whole header for them, and a client
# could then make every sign-in seem to come from the proxy's own address.
IPWARE_STRICT = False

CACHES = {
    "default": (
        {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": _redis_url}
        if _redis_url
        else {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}
    )
}
# django-ratelimit counts with the cache's atomic increments (Redis has them).
RATELIMIT_USE_CACHE = "default"

CRISPY_ALLOWED_TEMPLATE_PACKS = "bootstrap5"
CRISPY_TEMPLATE_PACK = "bootstrap5"

# The console's own rules, read above; these need the values in another form.
# notify_expiring warns owners this many days before a certificate ends, once per threshold.
CERTIFICATES_EXPIRY_WARNING_DAYS = tuple(sorted({int(days) for days in _expiry_warning_days}))[::-1]
# Links in emails and the CA's URLs are joined to these with a "/".
CONSOLE_BASE_URL = _console_base_url.rstrip("/")
PKI_BASE_URL = _pki_base_url.rstrip("/")
REVOCATION_HOLIDAYS = frozenset(date.fromisoformat(day) for day in _revocation_holidays)

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": _log_level},
    # Axes announces itself on every start, every management command included: cron
    # would mail that line from every batch job run. Its lockout warnings still log.
    "loggers": {
        "axes.apps": {"level": "WARNING"},
        # asyncssh (the SSH deployments) logs every connection and channel at INFO; the
        # deployment's own lines say what was done.
        "asyncssh": {"level": "WARNING"},
    },
}
