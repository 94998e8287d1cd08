"""`oneteam bench talent` at a tiny scale (the full scale is in docs/BENCHMARKS.md)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from oneteam.cli import main
from oneteam.talent.bench import measure

ROOT = Path(__file__).resolve().parents[2]


def test_measure_reports_every_figure() -> None:
    result = measure(candidates=3_000, postings=60, queries=8, learner_queries=4, k=5,
                     applicants=400, positions=40, seed=3, phrase_pool=15)
    assert result["data"]["candidates"] == 3_000
    assert result["index"]["candidates"]["documents"] == 3_000
    assert result["index"]["peak_rss_mib"] > 0
    for key in ("posting_to_candidates", "candidate_to_postings"):
        figures = result[key]
        assert figures["p50_ms"] <= figures["p95_ms"] <= figures["p99_ms"] <= figures["max_ms"]
    matching = result["deferred_acceptance"]
    assert matching["blocking_pairs"] == 0
    assert matching["applicants"] == 400 and matching["positions"] == 40


def test_the_same_seed_gives_the_same_data() -> None:
    from oneteam.talent.synthetic import generate, placement
    from oneteam.talent.taxonomy import default_taxonomy

    first = generate(default_taxonomy(), candidates=500, postings=20, seed=9)
    second = generate(default_taxonomy(), candidates=500, postings=20, seed=9)
    assert first.passages.texts == second.passages.texts
    assert (first.candidates.evidence_skill == second.candidates.evidence_skill).all()
    assert (first.candidates.passage_id == second.candidates.passage_id).all()
    assert first.postings == second.postings
    assert (placement(200, 20, seed=4).applicant_lists
            == placement(200, 20, seed=4).applicant_lists).all()


def test_the_command_prints_json(capsys: pytest.CaptureFixture[str]) -> None:
    code = main(["bench", "talent", "--candidates", "1500", "--postings", "30", "--queries",
                 "3", "--learner-queries", "2", "--k", "3", "--applicants", "0",
                 "--phrase-pool", "10", "--json"])
    assert code == 0
    result = json.loads(capsys.readouterr().out)
    assert result["benchmark"] == "talent" and "deferred_acceptance" not in result
    assert result["posting_to_candidates"]["count"] == 3


def test_the_command_refuses_bad_sizes(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["bench", "talent", "--candidates", "0"]) == 2
    assert "candidates, postings and the phrase pool must be at least 1" in (
        capsys.readouterr().err)


def test_the_talent_package_is_pure_python_without_django() -> None:
    """The Django app will be built on these modules, never the reverse."""
    import ast

    foundation = ("__init__", "bench", "embedding", "errors", "fusion", "matching",
                  "profiles", "search", "synthetic", "taxonomy", "text")
    for module in foundation:
        path = ROOT / "src" / "oneteam" / "talent" / f"{module}.py"
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            names = ([alias.name for alias in node.names] if isinstance(node, ast.Import)
                     else [node.module or ""] if isinstance(node, ast.ImportFrom) else [])
            for name in names:
                assert not name.startswith(("django", "ninja", "oneteam.platform")), (
                    f"{path.name} imports {name}")
