"""The platform's four labs and its testbed challenge: they build, validate, and grade
their reference solutions with full marks and wrong ones with less."""

from __future__ import annotations

import filecmp
import json
import runpy
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest

from oneteam.compute.executors import LocalSandbox
from oneteam.labs.content import build_bundle, reference_dir, slugs, source_dir
from oneteam.labs.grading import grade_submission

LABS = ("breast-cancer", "diabetes", "digits", "korean-topics")


def test_the_platform_ships_four_labs_and_a_challenge() -> None:
    assert slugs() == sorted([*LABS, "wine-testbed"])


@pytest.mark.parametrize("slug", [*LABS, "wine-testbed"])
def test_each_bundle_builds_valid_and_the_same_every_time(slug: str, tmp_path: Path) -> None:
    first = build_bundle(slug, tmp_path / "a")
    second = build_bundle(slug, tmp_path / "b")
    assert first.slug == slug
    assert first.title["ko"] and first.title["en"]
    assert "#" in first.instructions_markdown("ko") and "#" in first.instructions_markdown("en")
    comparison = filecmp.dircmp(first.root / "data", second.root / "data")
    assert not comparison.diff_files and not comparison.left_only and not comparison.right_only
    for sub in comparison.subdirs.values():
        assert not sub.diff_files
    # the reference solution and the build inputs stay out of the bundle
    names = {path.name for path in first.root.rglob("*")}
    assert "reference" not in names and "build.py" not in names and "source" not in names
    assert (first.root / first.hidden_data).is_dir()    # type: ignore[operator]


def test_authors_check_a_bundle_from_the_command_line(tmp_path: Path) -> None:
    build_bundle("digits", tmp_path / "digits")
    ok = subprocess.run([sys.executable, "-m", "oneteam.cli", "labs", "check",
                         str(tmp_path / "digits")], capture_output=True, text=True, timeout=60,
                        check=False)
    assert ok.returncode == 0, ok.stderr
    assert "digits: a valid lab" in ok.stdout
    (tmp_path / "digits" / "instructions.en.md").unlink()
    bad = subprocess.run([sys.executable, "-m", "oneteam.cli", "labs", "check",
                          str(tmp_path / "digits")], capture_output=True, text=True, timeout=60,
                         check=False)
    assert bad.returncode == 1
    assert ("error: lab.toml: instructions.en: 'instructions.en.md' is not a file in the bundle"
            in bad.stderr)


@pytest.fixture(scope="module")
def labs_sandbox() -> object:
    from tests.compute.conftest import sandbox_or_skip

    sandbox_or_skip()
    from oneteam.compute.executors import SandboxConfig

    executor = LocalSandbox(SandboxConfig(slots=2))
    yield executor
    executor.close()


@pytest.mark.slow
@pytest.mark.parametrize("slug", LABS)
def test_reference_solutions_score_full_marks_and_wrong_ones_less(
        slug: str, tmp_path: Path, labs_sandbox: LocalSandbox) -> None:
    bundle = build_bundle(slug, tmp_path / "bundle")
    reference = grade_submission(labs_sandbox, bundle,
                                 {"solution.py": reference_dir(slug) / "solution.py"},
                                 job_id=f"ref-{slug}", timeout_s=300)
    assert reference.graded, (reference.detail, reference.run_stderr)
    assert reference.score == reference.max_score == 100
    assert reference.metric is not None
    # the starter answers a constant: valid predictions, below every threshold
    starter = grade_submission(labs_sandbox, bundle,
                               {"solution.py": source_dir(slug) / "starter" / "solution.py"},
                               job_id=f"starter-{slug}", timeout_s=300)
    assert starter.graded, starter.detail
    assert starter.score == 10
    assert starter.metric is not None and bundle.better(reference.metric, starter.metric)
    view = starter.view()
    assert view["results"]["tests"][2] == {"number": "3", "score": 0.0, "max_score": 50.0,
                                           "hidden": True}


@pytest.mark.slow
def test_a_broken_solution_fails_with_its_error_shown(tmp_path: Path,
                                                      labs_sandbox: LocalSandbox) -> None:
    bundle = build_bundle("digits", tmp_path / "bundle")
    broken = tmp_path / "solution.py"
    broken.write_text("def train_and_predict(X_train, y_train, X_test):\n"
                      "    return X_test[:10, 0]\n")
    outcome = grade_submission(labs_sandbox, bundle, {"solution.py": broken},
                               job_id="broken-digits", timeout_s=300)
    assert not outcome.graded
    assert outcome.reason == "exit_status"
    assert "returned 10 predictions for 360 test rows" in outcome.run_stderr
    assert outcome.detail.startswith("the run step failed")


@pytest.mark.slow
def test_a_notebook_submission_is_executed_with_nbclient(tmp_path: Path,
                                                         labs_sandbox: LocalSandbox) -> None:
    bundle = build_bundle("digits", tmp_path / "bundle")
    notebook = nbformat.v4.new_notebook()
    notebook.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3",
                                       "language": "python"}
    notebook.cells = [
        nbformat.v4.new_markdown_cell("# My digits model"),
        nbformat.v4.new_code_cell((reference_dir("digits") / "solution.py").read_text()),
        nbformat.v4.new_code_cell("print('trained in a notebook')"),
    ]
    path = tmp_path / "solution.ipynb"
    nbformat.write(notebook, path)
    outcome = grade_submission(labs_sandbox, bundle, {"solution.ipynb": path},
                               job_id="notebook-digits", timeout_s=300)
    assert outcome.graded, (outcome.detail, outcome.run_stderr)
    assert outcome.score == 100
    assert "trained in a notebook" in outcome.run_stdout
    executed = nbformat.reads(outcome.executed_notebook.decode(), as_version=4)  # type: ignore[union-attr]
    outputs = [o for cell in executed.cells if cell.cell_type == "code" for o in cell.outputs]
    assert any("trained in a notebook" in o.get("text", "") for o in outputs)
    # a notebook whose cell raises: not graded, the error shown
    notebook.cells.append(nbformat.v4.new_code_cell("raise ValueError('my bug')"))
    nbformat.write(notebook, path)
    failing = grade_submission(labs_sandbox, bundle, {"solution.ipynb": path},
                               job_id="notebook-bug", timeout_s=300)
    assert not failing.graded
    assert "ValueError: my bug" in failing.run_stderr


@pytest.mark.slow
def test_the_testbed_takes_a_model_or_predictions_scored_public_and_private(
        tmp_path: Path, labs_sandbox: LocalSandbox) -> None:
    bundle = build_bundle("wine-testbed", tmp_path / "bundle")
    assert bundle.kind == "challenge" and bundle.public_fraction == 0.5
    company = runpy.run_path(str(reference_dir("wine-testbed") / "make_model.py"))
    public = bundle.root / "data" / "public"
    model = company["write_model"](public, tmp_path / "model.pkl")
    predictions = company["write_predictions"](public, tmp_path / "predictions.csv")
    by_model = grade_submission(labs_sandbox, bundle, {"model.pkl": model},
                                job_id="wine-model", timeout_s=300)
    by_file = grade_submission(labs_sandbox, bundle, {"predictions.csv": predictions},
                               job_id="wine-predictions", timeout_s=300)
    for outcome in (by_model, by_file):
        assert outcome.graded, (outcome.detail, outcome.run_stderr)
        assert outcome.score == 100
        assert outcome.metric is not None and outcome.metric < 0.5
        assert outcome.private_metric is not None and outcome.private_metric < 0.5
    assert by_model.metric == pytest.approx(by_file.metric)
    # the private split shows only once the results are published
    assert [e["split"] for e in by_model.view()["results"]["leaderboard"]] == ["public"]
    published = by_model.view(published=True)["results"]["leaderboard"]
    assert [e["split"] for e in published] == ["public", "private"]
    # a model that is not one: the run step fails, clearly
    junk = tmp_path / "junk" / "model.pkl"
    junk.parent.mkdir()
    junk.write_bytes(b"not a pickle")
    bad = grade_submission(labs_sandbox, bundle, {"model.pkl": junk}, job_id="wine-junk",
                           timeout_s=300)
    assert not bad.graded and "UnpicklingError" in bad.run_stderr
    # predictions that do not add up
    wrong = tmp_path / "wrong" / "predictions.csv"
    wrong.parent.mkdir()
    wrong.write_text(predictions.read_text().replace(",0.", ",5.", 1))
    graded = grade_submission(labs_sandbox, bundle, {"predictions.csv": wrong},
                              job_id="wine-wrong", timeout_s=300)
    assert graded.graded and graded.score == 0
    assert json.dumps(graded.view()).count("probabilities must be in [0, 1]") == 1


@pytest.mark.slow
def test_the_grading_bench_reports_its_figures() -> None:
    from tests.compute.conftest import sandbox_or_skip

    sandbox_or_skip()
    from oneteam.compute.bench import run_bench

    figures = run_bench(jobs=4, slots=2)
    assert figures["failed"] == 0 and figures["jobs"] == 4
    assert figures["jobs_per_minute"] > 0
    assert set(figures["overhead_ms"]) == {"mean", "p50", "p95", "max"}
    assert figures["overhead_ms"]["p50"] < figures["job_wall_ms"]["p50"]
