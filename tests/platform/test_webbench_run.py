"""`oneteam bench web` end to end: it starts `oneteam up` on PostgreSQL, signs in as the
demo learner, finds the next lesson on the dashboard and measures both pages."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from .test_postgres import postgres_or_skip

pytestmark = [pytest.mark.service, pytest.mark.slow]

ROOT = Path(__file__).resolve().parents[2]


def test_a_short_run_measures_the_lesson_page_and_the_dashboard() -> None:
    postgres_or_skip()
    result = subprocess.run(
        [sys.executable, "-m", "oneteam.cli", "bench", "web", "--json", "--clients", "4",
         "--rate", "20", "--duration-s", "1", "--warmup-s", "0.5", "--web-workers", "2"],
        cwd=ROOT, capture_output=True, text=True, timeout=400, check=False)
    assert result.returncode == 0, result.stderr[-3000:]
    report = json.loads(result.stdout)
    phases = {(p["page"], p["mode"]): p for p in report["phases"]}
    assert set(phases) == {("lesson", "open"), ("lesson", "closed"),
                           ("learner_dashboard", "open"), ("learner_dashboard", "closed")}
    assert phases[("lesson", "open")]["path"].startswith("/academy/programs/")
    for phase in phases.values():
        assert phase["errors"] == 0 and phase["requests"] > 0
        assert 0 < phase["p50_ms"] <= phase["p95_ms"] <= phase["p99_ms"] <= phase["max_ms"]
    assert phases[("lesson", "open")]["requests"] == 20  # 20 req/s for 1 s, all answered
