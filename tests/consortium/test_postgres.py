"""The consortium's ledger tests again, against a real PostgreSQL.

``tests/platform/test_postgres.py`` already runs the fast consortium tests there; this
runs the slow ones, which start a ledger validator and join organizations to it, so the
outbox's claims and bookkeeping are exercised on the production database too.
"""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from tests.platform.test_postgres import ROOT, postgres_or_skip

pytestmark = [pytest.mark.service, pytest.mark.slow]


def test_the_ledger_joining_tests_pass_on_postgresql() -> None:
    url = postgres_or_skip()
    env = {**os.environ, "ONETEAM_TEST_DATABASE": "postgres", "ONETEAM_TEST_POSTGRES_URL": url}
    process = subprocess.Popen(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-m",
         "slow and not service and not browser", "tests/consortium"],
        cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    output, _ = process.communicate(timeout=600)
    assert process.returncode == 0, output[-6000:]
    assert " passed" in output and " skipped" not in output
