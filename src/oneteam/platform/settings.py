"""Settings of the OneTeam platform, read from the environment with safe defaults.

Every variable is listed in docs/ARCHITECTURE.md (section 15). Nothing secret is
written here: SECRET_KEY and the key-encryption key are generated into the data
directory on first run (mode 600), unless ONETEAM_SECRET_KEY gives the former.
"""

from __future__ import annotations

import sys
from pathlib import Path

import django
import django_stubs_ext

from oneteam.platform import datadir
from oneteam.platform.config import (
    database_from_url,
    env_bool,
    env_int,
    env_list,
    env_str,
    sqlite_database,
)

# Generic classes of Django (ModelAdmin[Person], QuerySet[Membership]) subscriptable at run time.
django_stubs_ext.monkeypatch()

PACKAGE_DIR = Path(__file__).resolve().parent.parent

# --- where data lives -----------------------------------------------------------------------

ONETEAM_DATA_DIR = datadir.data_dir()
PLATFORM_DATA_DIR = datadir.platform_dir(ONETEAM_DATA_DIR)

# --- security -------------------------------------------------------------------------------

SECRET_KEY = env_str("ONETEAM_SECRET_KEY", "") or datadir.secret_key(ONETEAM_DATA_DIR)
# The key-encryption key: oneteam.platform.sealing seals secrets at rest with it.
ONETEAM_KEK = datadir.key_encryption_key(ONETEAM_DATA_DIR)

DEBUG = env_bool("ONETEAM_DEBUG", False)
ALLOWED_HOSTS = env_list("ONETEAM_ALLOWED_HOSTS", ["127.0.0.1", "localhost", "[::1]"])
CSRF_TRUSTED_ORIGINS = env_list("ONETEAM_CSRF_TRUSTED_ORIGINS", [])
# Behind TLS (directly or through a proxy that sets X-Forwarded-Proto): secure cookies.
ONETEAM_HTTPS = env_bool("ONETEAM_HTTPS", False)
SESSION_COOKIE_SECURE = ONETEAM_HTTPS
CSRF_COOKIE_SECURE = ONETEAM_HTTPS
LANGUAGE_COOKIE_SECURE = ONETEAM_HTTPS
if env_bool("ONETEAM_BEHIND_PROXY", False):
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
# Where e-mailed links point (https://oneteam.example.org); empty: the request's own address.
ONETEAM_BASE_URL = env_str("ONETEAM_BASE_URL", "")
# How many proxies in front append to X-Forwarded-For; 0 trusts only the socket's address.
ONETEAM_PROXY_COUNT = env_int("ONETEAM_PROXY_COUNT", 0)
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
SESSION_COOKIE_AGE = 14 * 24 * 3600
X_FRAME_OPTIONS = "DENY"
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"

# --- applications ---------------------------------------------------------------------------

# django-tasks' own app is needed only for the backport (Django 5.2 on Python 3.11).
TASKS_FRAMEWORK_APPS = [] if sys.version_info >= (3, 12) else ["django_tasks"]

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "ninja",
    *TASKS_FRAMEWORK_APPS,
    "django_tasks_db",
    "oneteam.platform",
    "oneteam.accounts",
    "oneteam.consortium",
    "oneteam.academy",
    "oneteam.compute",
    "oneteam.labs",
    # after the labs: its demo defines an achievement awarded on a demo lab's score
    "oneteam.credentials",
    "oneteam.talent",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "oneteam.platform.middleware.JsonErrorsForApiMiddleware",
]

ROOT_URLCONF = "oneteam.platform.urls"
WSGI_APPLICATION = "oneteam.platform.wsgi.application"
ASGI_APPLICATION = "oneteam.platform.asgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.i18n",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "oneteam.platform.context_processors.platform",
            ],
        },
    },
]

# --- database -------------------------------------------------------------------------------

_DATABASE_URL = env_str("DATABASE_URL", "")
if _DATABASE_URL:
    _DEFAULT_DATABASE = database_from_url(
        _DATABASE_URL, conn_max_age_s=env_int("ONETEAM_DB_CONN_MAX_AGE_S", 60))
else:
    _DEFAULT_DATABASE = sqlite_database(str(PLATFORM_DATA_DIR / "db.sqlite3"))
DATABASES = {"default": _DEFAULT_DATABASE}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# --- people and passwords -------------------------------------------------------------------

AUTH_USER_MODEL = "accounts.Person"
LOGIN_URL = "accounts:sign-in"
LOGIN_REDIRECT_URL = "platform:dashboard"
LOGOUT_REDIRECT_URL = "platform:home"
PASSWORD_HASHERS = [
    "django.contrib.auth.hashers.Argon2PasswordHasher",
    "django.contrib.auth.hashers.PBKDF2PasswordHasher",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator",
     "OPTIONS": {"user_attributes": ("email", "display_name")}},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator",
     "OPTIONS": {"min_length": 10}},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
PASSWORD_RESET_TIMEOUT = 3 * 3600

# Sign-in throttling: failures counted in the database, so every web process sees them.
ONETEAM_SIGN_IN_WINDOW_S = env_int("ONETEAM_SIGN_IN_WINDOW_S", 15 * 60, minimum=1)
ONETEAM_SIGN_IN_FAILURES_PER_ACCOUNT_MAX = env_int(
    "ONETEAM_SIGN_IN_FAILURES_PER_ACCOUNT_MAX", 5, minimum=1)
ONETEAM_SIGN_IN_FAILURES_PER_ADDRESS_MAX = env_int(
    "ONETEAM_SIGN_IN_FAILURES_PER_ADDRESS_MAX", 20, minimum=1)
ONETEAM_API_TOKENS_PER_PERSON_MAX = 50

# --- languages ------------------------------------------------------------------------------

LANGUAGE_CODE = "ko"
# The switcher shows each language by its own name (get_language_info_list: name_local).
LANGUAGES = [("ko", "Korean"), ("en", "English")]
USE_I18N = True
TIME_ZONE = env_str("ONETEAM_TIME_ZONE", "Asia/Seoul")
USE_TZ = True
LANGUAGE_COOKIE_AGE = 365 * 24 * 3600
LANGUAGE_COOKIE_SAMESITE = "Lax"

# --- static files ---------------------------------------------------------------------------

STATIC_URL = "/static/"
# `oneteam manage collectstatic` gathers the files here, for a front server to serve.
STATIC_ROOT = str(PLATFORM_DATA_DIR / "static")
(PLATFORM_DATA_DIR / "static").mkdir(exist_ok=True)
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage",
                "OPTIONS": {"location": str(PLATFORM_DATA_DIR / "media")}},
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}
# WhiteNoise serves the apps' static files straight from the package: no collectstatic step.
WHITENOISE_USE_FINDERS = True
WHITENOISE_AUTOREFRESH = DEBUG

# --- e-mail ---------------------------------------------------------------------------------

DEFAULT_FROM_EMAIL = env_str("ONETEAM_EMAIL_FROM", "OneTeam <no-reply@localhost>")
# SMTP when ONETEAM_EMAIL_HOST is set; otherwise e-mails are printed (by the worker, which
# sends them: .oneteam/logs/worker.log under `oneteam up`).
_SMTP_HOST = env_str("ONETEAM_EMAIL_HOST", "")
_MAIL_BACKEND = ("django.core.mail.backends.smtp.EmailBackend" if _SMTP_HOST
                 else "django.core.mail.backends.console.EmailBackend")
_SMTP_OPTIONS = {
    "host": _SMTP_HOST,
    "port": env_int("ONETEAM_EMAIL_PORT", 587, minimum=1),
    "username": env_str("ONETEAM_EMAIL_USER", ""),
    "password": env_str("ONETEAM_EMAIL_PASSWORD", ""),
    "use_tls": env_bool("ONETEAM_EMAIL_TLS", True),
    "timeout": 20,
} if _SMTP_HOST else {}
if django.VERSION >= (6, 1):
    # Django 6.1 configures mail in MAILERS; the EMAIL_* settings are deprecated there.
    MAILERS = {"default": {"BACKEND": _MAIL_BACKEND, "OPTIONS": _SMTP_OPTIONS}}
else:
    EMAIL_BACKEND = _MAIL_BACKEND
    if _SMTP_HOST:
        EMAIL_HOST = _SMTP_OPTIONS["host"]
        EMAIL_PORT = _SMTP_OPTIONS["port"]
        EMAIL_HOST_USER = _SMTP_OPTIONS["username"]
        EMAIL_HOST_PASSWORD = _SMTP_OPTIONS["password"]
        EMAIL_USE_TLS = _SMTP_OPTIONS["use_tls"]
        EMAIL_TIMEOUT = _SMTP_OPTIONS["timeout"]

# --- background tasks -----------------------------------------------------------------------

if env_str("ONETEAM_TASKS", "database") == "immediate":
    _TASK_BACKEND = ("django.tasks.backends.immediate.ImmediateBackend"
                     if sys.version_info >= (3, 12)
                     else "django_tasks.backends.immediate.ImmediateBackend")
else:
    _TASK_BACKEND = "django_tasks_db.DatabaseBackend"
TASKS = {"default": {"BACKEND": _TASK_BACKEND, "QUEUES": ["default"]}}

# --- the ledger -----------------------------------------------------------------------------

# The platform reaches the ledger only through oneteam.ledger.client, at this address.
ONETEAM_LEDGER_URL = env_str("ONETEAM_LEDGER_URL", "http://127.0.0.1:7545")
ONETEAM_LEDGER_TIMEOUT_S = 2.0
# The alliance operator's member key (the key file `oneteam ledger init` writes for the
# genesis member): the platform signs the alliance's membership proposals with it.
ONETEAM_LEDGER_OPERATOR_KEY = env_str(
    "ONETEAM_LEDGER_OPERATOR_KEY", str(ONETEAM_DATA_DIR / "ledger" / "keys" / "alliance.json"))
# host[:port] in the member organizations' did:web identities; empty: ONETEAM_BASE_URL's host,
# else the host a page was asked for (consortium.identity).
ONETEAM_DID_HOST = env_str("ONETEAM_DID_HOST", "")

# --- API ------------------------------------------------------------------------------------

NINJA_PAGINATION_PER_PAGE = 50
NINJA_PAGINATION_MAX_LIMIT = 200

# --- logging --------------------------------------------------------------------------------

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s: %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": "WARNING"},
    "loggers": {
        "oneteam": {"level": env_str("ONETEAM_LOG_LEVEL", "INFO"), "propagate": True},
        "django.request": {"level": "ERROR", "propagate": True},
    },
}
