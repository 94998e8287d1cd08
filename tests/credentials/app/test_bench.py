"""``oneteam bench credentials`` runs end to end on a few credentials: every one verifies
in both cryptosuites, and every one issued through the platform is anchored."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[3]

pytestmark = pytest.mark.slow


def test_the_benchmark_issues_anchors_and_verifies() -> None:
    env = {key: value for key, value in os.environ.items()
           if not key.startswith(("DJANGO_", "ONETEAM_"))}
    env["PYTHONPATH"] = str(ROOT / "src")
    done = subprocess.run(
        [sys.executable, "-m", "oneteam.cli", "bench", "credentials", "--count", "12",
         "--workers", "2", "--json"],
        capture_output=True, text=True, timeout=600, env=env, cwd=ROOT, check=False)
    assert done.returncode == 0, done.stderr[-3000:]
    result = json.loads(done.stdout)
    assert [row["cryptosuite"] for row in result["verify"]] == [
        "eddsa-rdfc-2022", "eddsa-jcs-2022"]
    for row in result["verify"]:
        assert row["credentials"] == 12 and row["verified_per_s"] > 0
        assert row["verified_per_s_parallel"] > 0 and row["workers"] == 2
    for row in result["issue"]:
        assert row["credentials"] == 12 and row["batches"] == 1
        assert row["sample_has_anchor"] is True
        assert row["issued_and_anchored_per_s"] > 0


def test_bad_arguments_are_refused() -> None:
    done = subprocess.run(
        [sys.executable, "-m", "oneteam.cli", "bench", "credentials", "--count", "0"],
        capture_output=True, text=True, timeout=120, cwd=ROOT, check=False,
        env={**os.environ, "PYTHONPATH": str(ROOT / "src")})
    assert done.returncode == 2 and "--count" in done.stderr
