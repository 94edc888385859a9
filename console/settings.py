"""Settings for the SSL Certificates Console, read from the environment.

With no environment at all the console runs locally (DEBUG on, SQLite, emails
printed to the terminal). With DEBUG off it refuses to start until the secrets
that protect sessions and customers' private keys are really set.
"""

import os
from datetime import date, timedelta
from pathlib import Path

import dj_database_url
from django.core.exceptions import ImproperlyConfigured

BASE_DIR = Path(__file__).resolve().parent.parent


def env_bool(name: str, default: bool) -> bool:
    value = os.environ.get(name)
    if value is None:
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def env_list(name: str, default: str = "") -> list[str]:
    return [item.strip() for item in os.environ.get(name, default).split(",") if item.strip()]


def env_dates(name: str) -> frozenset[date]:
    try:
        return frozenset(date.fromisoformat(item) for item in env_list(name))
    except ValueError:
        raise ImproperlyConfigured(
            f"{name} must be comma-separated ISO dates, e.g. 2026-10-01,2026-10-02."
        ) from None


DEBUG = env_bool("DEBUG", True)

# Development-only values: usable on a laptop, refused in production below.
_DEV_SECRET_KEY = "django-insecure-local-development-only"
# A Fernet key (32 url-safe base64 bytes) for local development only.
_DEV_KEY_ENCRYPTION_KEY = "bG9jYWwtZGV2ZWxvcG1lbnQta2V5LW5vdC1zZWNyZXQ="

SECRET_KEY = os.environ.get("SECRET_KEY", _DEV_SECRET_KEY)
# Fernet keys, newest first: the first encrypts, all of them decrypt, so keys
# can be rotated by putting a new one in front.
KEY_ENCRYPTION_KEYS = env_list("KEY_ENCRYPTION_KEYS", _DEV_KEY_ENCRYPTION_KEY)

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

ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", "127.0.0.1,localhost")
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS")

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "django_htmx",
    "template_partials",
    "crispy_forms",
    "crispy_bootstrap5",
    "certificates",
    "axes",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "csp.middleware.CSPMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
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
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
        },
    },
]

DATABASES = {
    "default": dj_database_url.config(
        default=f"sqlite:///{BASE_DIR / 'db.sqlite3'}",
        conn_max_age=int(os.environ.get("DATABASE_CONN_MAX_AGE", "60")),
    )
}
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

LANGUAGE_CODE = "en-us"
TIME_ZONE = os.environ.get("TIME_ZONE", "UTC")
USE_I18N = True
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

EMAIL_BACKEND = os.environ.get("EMAIL_BACKEND", "django.core.mail.backends.console.EmailBackend")
EMAIL_HOST = os.environ.get("EMAIL_HOST", "localhost")
EMAIL_PORT = int(os.environ.get("EMAIL_PORT", "25"))
EMAIL_HOST_USER = os.environ.get("EMAIL_HOST_USER", "")
EMAIL_HOST_PASSWORD = os.environ.get("EMAIL_HOST_PASSWORD", "")
EMAIL_USE_TLS = env_bool("EMAIL_USE_TLS", False)
DEFAULT_FROM_EMAIL = os.environ.get("DEFAULT_FROM_EMAIL", "SSL Certificates <no-reply@localhost>")

# Headers and cookies. Nothing in the pages reads the CSRF cookie (htmx sends the
# token from the page), so it can be HTTP-only like the session cookie.
SESSION_COOKIE_HTTPONLY = True
CSRF_COOKIE_HTTPONLY = True
X_FRAME_OPTIONS = "DENY"
SECURE_CONTENT_TYPE_NOSNIFF = True
# The emailed revocation link carries its token in the path: never send it elsewhere.
SECURE_REFERRER_POLICY = "same-origin"
SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"
if not DEBUG:
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True
    SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", True)
    # CRLs, OCSP and CA certificates are fetched over plain http (the Baseline
    # Requirements want it), so /pki/ is never redirected to https.
    SECURE_REDIRECT_EXEMPT = [r"^pki/"]
    SECURE_HSTS_SECONDS = int(os.environ.get("SECURE_HSTS_SECONDS", str(365 * 24 * 3600)))
    SECURE_HSTS_INCLUDE_SUBDOMAINS = env_bool("SECURE_HSTS_INCLUDE_SUBDOMAINS", True)
    SECURE_HSTS_PRELOAD = env_bool("SECURE_HSTS_PRELOAD", True)

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
AXES_FAILURE_LIMIT = int(os.environ.get("SIGNIN_FAILURE_LIMIT", "5"))
AXES_COOLOFF_TIME = timedelta(minutes=int(os.environ.get("SIGNIN_LOCKOUT_MINUTES", "15")))
AXES_LOCKOUT_PARAMETERS = ["username", "ip_address"]
AXES_LOCKOUT_CALLABLE = "console.signin.locked_out"
# Behind a proxy every request comes from the proxy's address: the client's is the
# one the proxy appends to X-Forwarded-For (SIGNIN_TRUSTED_PROXIES proxies deep).
AXES_CLIENT_IP_CALLABLE = "console.signin.client_ip"
SIGNIN_TRUSTED_PROXIES = int(os.environ.get("SIGNIN_TRUSTED_PROXIES", "0"))

CRISPY_ALLOWED_TEMPLATE_PACKS = "bootstrap5"
CRISPY_TEMPLATE_PACK = "bootstrap5"

# The console's own rules.
CERTIFICATES_PAGE_SIZE = int(os.environ.get("CERTIFICATES_PAGE_SIZE", "20"))
# "Will Expire": issued certificates whose end date is within this many days.
CERTIFICATES_WILL_EXPIRE_DAYS = int(os.environ.get("CERTIFICATES_WILL_EXPIRE_DAYS", "30"))
# notify_expiring warns owners this many days before a certificate ends, once per threshold.
try:
    CERTIFICATES_EXPIRY_WARNING_DAYS = tuple(
        sorted({int(days) for days in env_list("CERTIFICATES_EXPIRY_WARNING_DAYS", "30,15,7,1")})
    )[::-1]
except ValueError:
    CERTIFICATES_EXPIRY_WARNING_DAYS = ()
if not CERTIFICATES_EXPIRY_WARNING_DAYS or min(CERTIFICATES_EXPIRY_WARNING_DAYS) < 1:
    raise ImproperlyConfigured(
        "CERTIFICATES_EXPIRY_WARNING_DAYS must list whole numbers of days of 1 or more, "
        "e.g. 30,15,7,1."
    )
# Where customers reach the console: the links in emails start with it.
CONSOLE_BASE_URL = os.environ.get("CONSOLE_BASE_URL", "http://127.0.0.1:8000").rstrip("/")

# The certificate authority. Issued certificates name their CRL, OCSP and CA
# certificate URLs under this base: plain http, as the Baseline Requirements want.
PKI_BASE_URL = os.environ.get("PKI_BASE_URL", "http://127.0.0.1:8000").rstrip("/")
# The country in the local CAs' names (the Baseline Requirements want one).
PKI_CA_COUNTRY = os.environ.get("PKI_CA_COUNTRY", "CN")
# One certificate's validity: the CA/Browser Forum maximum in force is 200 days
# since 15 March 2026 (100 from March 2027, 47 from 2029); one day of margin.
CERTIFICATE_VALIDITY_DAYS = int(os.environ.get("CERTIFICATE_VALIDITY_DAYS", "199"))

# Domain validation: the DNS servers the "Verify" check asks (empty: the
# system's), their port, the HTTP port of the file check, timeouts, and how many
# days an application may go unverified before it becomes "Check Fail".
DV_NAMESERVERS = env_list("DV_NAMESERVERS")
DV_DNS_PORT = int(os.environ.get("DV_DNS_PORT", "53"))
DV_HTTP_PORT = int(os.environ.get("DV_HTTP_PORT", "80"))
DV_CHECK_TIMEOUT = float(os.environ.get("DV_CHECK_TIMEOUT", "5"))
DV_CHECK_FAIL_AFTER_DAYS = int(os.environ.get("DV_CHECK_FAIL_AFTER_DAYS", "7"))

# PKCS#12 files and encrypted keys say how many iterations of password hashing open
# them, and OpenSSL does as many as they say: the converter refuses a file asking for
# more than this in all (its MAC and every encrypted part added up), before hashing
# anything. Exporters write about 2,000 to 10,000 per part today (OpenSSL 2,048, Windows
# 2,000, Java 10,000) and a few 100,000 or more; a million is well above that and still
# only seconds of work, where 2^31-1 was minutes.
PKCS12_MAX_ITERATIONS = int(os.environ.get("PKCS12_MAX_ITERATIONS", "1000000"))
if PKCS12_MAX_ITERATIONS < 1:
    raise ImproperlyConfigured("PKCS12_MAX_ITERATIONS must be a whole number of 1 or more.")

# Revocation. OV/EV requests wait for the applicant to confirm by an emailed link,
# valid this many hours. The CA (an operator) then has this many business days:
# weekdays that are not REVOCATION_HOLIDAYS (comma-separated ISO dates). A
# revocation completed within REVOCATION_REFUND_DAYS calendar days of issuance is
# refunded in full, otherwise not at all.
REVOCATION_CONFIRMATION_HOURS = int(os.environ.get("REVOCATION_CONFIRMATION_HOURS", "72"))
REVOCATION_CA_BUSINESS_DAYS = int(os.environ.get("REVOCATION_CA_BUSINESS_DAYS", "5"))
REVOCATION_REFUND_DAYS = int(os.environ.get("REVOCATION_REFUND_DAYS", "30"))
REVOCATION_HOLIDAYS = env_dates("REVOCATION_HOLIDAYS")
# A CRL's validity (its next update); a new one is published when half of it has
# passed, or at once after a revocation. OCSP answers are valid this many hours.
PKI_CRL_VALIDITY_HOURS = int(os.environ.get("PKI_CRL_VALIDITY_HOURS", "24"))
PKI_OCSP_VALIDITY_HOURS = int(os.environ.get("PKI_OCSP_VALIDITY_HOURS", "12"))

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": os.environ.get("LOG_LEVEL", "INFO")},
    # Axes announces itself on every start, every management command included: cron
    # would mail that line from every batch job run. Its lockout warnings still log.
    "loggers": {"axes.apps": {"level": "WARNING"}},
}
