"""The labs' and compute's Django tests again, against a real PostgreSQL: the queue's row
locks and claims, the daily limit's lock, aggregates of usage, the ledger charges."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.platform.test_postgres import postgres_or_skip

pytestmark = [pytest.mark.service, pytest.mark.slow]

ROOT = Path(__file__).resolve().parents[3]


def test_the_labs_and_compute_tests_pass_on_postgresql() -> None:
    url = postgres_or_skip()
    env = {**os.environ, "ONETEAM_TEST_DATABASE": "postgres", "ONETEAM_TEST_POSTGRES_URL": url}
    process = subprocess.Popen(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-m",
         "not service and not browser", "tests/labs/app", "tests/compute/app"],
        cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    output, _ = process.communicate(timeout=900)
    assert process.returncode == 0, output[-6000:]
    assert " passed" in output
