"""Reading settings from the environment: typed helpers that name the variable at fault.

Imports nothing from Django's settings machinery, so it can be used while settings load.
"""

from __future__ import annotations

import os
import urllib.parse
from typing import Any

from django.core.exceptions import ImproperlyConfigured

TRUE_WORDS = frozenset({"1", "true", "yes", "on"})
FALSE_WORDS = frozenset({"0", "false", "no", "off", ""})


def env_str(name: str, default: str) -> str:
    return os.environ.get(name, default)


def env_bool(name: str, default: bool) -> bool:
    raw = os.environ.get(name)
    if raw is None:
        return default
    word = raw.strip().lower()
    if word in TRUE_WORDS:
        return True
    if word in FALSE_WORDS:
        return False
    raise ImproperlyConfigured(f"{name} must be 1 or 0 (or true/false), not {raw!r}")


def env_int(name: str, default: int, *, minimum: int = 0) -> int:
    raw = os.environ.get(name)
    if raw is None or raw.strip() == "":
        return default
    try:
        value = int(raw)
    except ValueError:
        raise ImproperlyConfigured(f"{name} must be a whole number, not {raw!r}") from None
    if value < minimum:
        raise ImproperlyConfigured(f"{name} must be at least {minimum}, not {value}")
    return value


def env_list(name: str, default: list[str]) -> list[str]:
    raw = os.environ.get(name)
    if raw is None:
        return list(default)
    return [item.strip() for item in raw.split(",") if item.strip()]


POSTGRES_SCHEMES = frozenset({"postgres", "postgresql", "pgsql"})


def database_from_url(url: str, *, conn_max_age_s: int = 60) -> dict[str, Any]:
    """Django's DATABASES entry for ``postgres://user:password@host:port/name?option=value``.

    Query parameters become connection options (``sslmode``, ``connect_timeout`` ...).
    Raises ImproperlyConfigured, naming DATABASE_URL, for anything else.
    """
    parts = urllib.parse.urlsplit(url)
    if parts.scheme not in POSTGRES_SCHEMES:
        raise ImproperlyConfigured(
            f"DATABASE_URL must start with postgres:// or postgresql://, not {parts.scheme!r}")
    name = urllib.parse.unquote(parts.path.lstrip("/"))
    if not name:
        raise ImproperlyConfigured("DATABASE_URL names no database (postgres://host/NAME)")
    try:
        port = parts.port
    except ValueError:
        raise ImproperlyConfigured("DATABASE_URL has an invalid port") from None
    options = dict(urllib.parse.parse_qsl(parts.query, keep_blank_values=False))
    return {
        "ENGINE": "django.db.backends.postgresql",
        "NAME": name,
        "USER": urllib.parse.unquote(parts.username or ""),
        "PASSWORD": urllib.parse.unquote(parts.password or ""),
        # A host beginning with '/' is a Unix socket directory, percent-encoded in the URL.
        "HOST": urllib.parse.unquote(parts.hostname or ""),
        "PORT": str(port or ""),
        "CONN_MAX_AGE": conn_max_age_s,
        "CONN_HEALTH_CHECKS": True,
        "OPTIONS": options,
    }


def sqlite_database(path: str) -> dict[str, Any]:
    """The embedded default: one SQLite file, in WAL mode, writers queued rather than failing."""
    return {
        "ENGINE": "django.db.backends.sqlite3",
        "NAME": path,
        "OPTIONS": {
            # Several web processes and the worker write to one file: take the write lock
            # at BEGIN and wait for it, instead of failing on upgrade from a read lock.
            "transaction_mode": "IMMEDIATE",
            "timeout": 20,
            "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
        },
    }
