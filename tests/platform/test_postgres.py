"""The platform's tests again, against a real PostgreSQL (the production database)."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import urllib.parse
from pathlib import Path

import pytest

pytestmark = [pytest.mark.service, pytest.mark.slow]

ROOT = Path(__file__).resolve().parents[2]
POSTGRES_URL = os.environ.get("ONETEAM_TEST_POSTGRES_URL",
                              "postgres://postgres@127.0.0.1:5432/test")
SUITES = ["tests/accounts", "tests/consortium", "tests/platform"]


def postgres_or_skip() -> str:
    """The server's URL; skip when it does not answer, unless ONETEAM_REQUIRE_POSTGRES=1."""
    parts = urllib.parse.urlsplit(POSTGRES_URL)
    try:
        with socket.create_connection((parts.hostname or "127.0.0.1", parts.port or 5432),
                                      timeout=2):
            return POSTGRES_URL
    except OSError as error:
        reason = f"PostgreSQL at {parts.hostname}:{parts.port or 5432} does not answer ({error})"
        if os.environ.get("ONETEAM_REQUIRE_POSTGRES") == "1":
            pytest.fail(reason + " and ONETEAM_REQUIRE_POSTGRES=1")
        pytest.skip(reason)


def test_the_platform_tests_pass_on_postgresql() -> None:
    """Same tests, same settings, DATABASES pointed at PostgreSQL: each run creates its own
    database (oneteam_test_<pid>) and drops it."""
    url = postgres_or_skip()
    env = {**os.environ, "ONETEAM_TEST_DATABASE": "postgres", "ONETEAM_TEST_POSTGRES_URL": url}
    process = subprocess.Popen(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-m",
         "not slow and not service and not browser", *SUITES],
        cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    output, _ = process.communicate(timeout=600)
    assert process.returncode == 0, output[-6000:]
    assert " passed" in output

    import psycopg

    with psycopg.connect(url, connect_timeout=5) as connection:
        left = connection.execute("SELECT datname FROM pg_database WHERE datname = %s",
                                  (f"oneteam_test_{process.pid}",)).fetchall()
    assert left == [], "the test database was not dropped"
