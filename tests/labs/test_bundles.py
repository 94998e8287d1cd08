"""Bundle manifests, directory and zip loading, and the results.json contract."""

from __future__ import annotations

import json
import stat
import zipfile
from pathlib import Path

import pytest

from oneteam.labs.bundles import (
    ArchiveLimits,
    BundleError,
    ResultsError,
    learner_view,
    load_bundle,
    parse_results,
)
from oneteam.labs.grading import SubmissionError, check_submission, job_for_submission

MANIFEST = """format = 1
slug = "tiny-lab"
kind = "lab"
version = "1.0"

[title]
ko = "작은 실습"
en = "A tiny lab"

[instructions]
ko = "instructions.ko.md"
en = "instructions.en.md"

[starter]
files = ["starter/solution.py"]

[data]
public = "data/public"
hidden = "data/hidden"

[submission]
files = ["solution.py"]
notebook = "solution.ipynb"

[run]
directory = "runner"
command = ["python", "/lab/run.py"]

[grade]
directory = "grader"
command = ["python", "/grader/grade.py"]

[metric]
name = "accuracy"
direction = "max"

[limits]
wall_seconds = 60
cpu_seconds = 30
memory_mb = 512

[submissions]
per_day = 10
"""


def write_bundle(root: Path, manifest: str = MANIFEST) -> Path:
    files = {
        "lab.toml": manifest,
        "instructions.ko.md": "# 작은 실습\n",
        "instructions.en.md": "# A tiny lab\n",
        "starter/solution.py": "def answer():\n    return 0\n",
        "data/public/train.csv": "x,y\n1,2\n",
        "data/hidden/test.csv": "x,y\n3,4\n",
        "runner/run.py": "print('run')\n",
        "grader/grade.py": "print('grade')\n",
    }
    for name, text in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    return root


def problems_of(root: Path) -> list[str]:
    with pytest.raises(BundleError) as caught:
        load_bundle(root)
    return [str(problem) for problem in caught.value.problems]


def test_a_valid_bundle_loads(tmp_path: Path) -> None:
    bundle = load_bundle(write_bundle(tmp_path))
    assert bundle.slug == "tiny-lab" and bundle.kind == "lab"
    assert bundle.title == {"ko": "작은 실습", "en": "A tiny lab"}
    assert bundle.instructions_markdown("ko") == "# 작은 실습\n"
    assert bundle.limits.wall_seconds == 60 and bundle.limits.memory_bytes == 512 << 20
    assert bundle.grade_limits.wall_seconds == 60     # the grade step inherits [limits]
    assert bundle.submissions_per_day == 10 and bundle.public_fraction is None
    assert bundle.better(0.9, 0.8)


@pytest.mark.parametrize(("change", "expected"), [
    (("format = 1", "format = 2"), "lab.toml: format: must be 1"),
    (('slug = "tiny-lab"', 'slug = "Tiny Lab!"'), "lab.toml: slug:"),
    (('kind = "lab"', 'kind = "quiz"'), "lab.toml: kind: must be one of lab, challenge"),
    (('en = "A tiny lab"\n', ''), "lab.toml: title.en: is missing"),
    (('en = "instructions.en.md"', 'en = "missing.md"'),
     "lab.toml: instructions.en: 'missing.md' is not a file in the bundle"),
    (('ko = "instructions.ko.md"', 'ko = "starter/solution.py"'),
     "lab.toml: instructions.ko: 'starter/solution.py' must be a Markdown file"),
    (('files = ["starter/solution.py"]', 'files = ["../../etc/passwd"]'),
     "lab.toml: starter.files[0]: '../../etc/passwd' must be a relative path inside the bundle"),
    (('hidden = "data/hidden"', 'hidden = "data/public"'),
     "lab.toml: data.hidden: is inside data.public, which submissions see"),
    (('directory = "runner"', 'directory = "nowhere"'),
     "lab.toml: run.directory: 'nowhere' is not a folder in the bundle"),
    (('command = ["python", "/lab/run.py"]', 'command = "python /lab/run.py"'),
     "lab.toml: run.command: must be a list"),
    (('direction = "max"', 'direction = "up"'), "lab.toml: metric.direction: must be max"),
    (("memory_mb = 512", "memory_mb = 10"),
     "lab.toml: limits.memory_mb: must be a whole number from 64 to"),
    (("memory_mb = 512", "memroy_mb = 512"), "lab.toml: limits.memroy_mb: is not a known limit"),
    (("cpu_seconds = 30", "cpu_seconds = 600"),
     "lab.toml: limits.cpu_seconds: cannot exceed wall_seconds × cpus"),
    (("per_day = 10", "per_day = 0"), "lab.toml: submissions.per_day: must be a whole number"),
    (('notebook = "solution.ipynb"', 'notebook = "solution.py"'),
     "lab.toml: submission.notebook: must be a plain file name ending in .ipynb"),
    (('files = ["solution.py"]', 'files = ["../solution.py"]'),
     "lab.toml: submission.files[0]: '../solution.py' must be a plain file name"),
    (("[submissions]", "[leaderboard]\npublic_fraction = 0.5\n\n[submissions]"),
     "lab.toml: leaderboard: only challenges have a public/private leaderboard"),
    (('kind = "lab"', 'kind = "challenge"'),
     "lab.toml: leaderboard.public_fraction: a challenge needs"),
    (("[metric]", "[metrics]"), "lab.toml: metrics: is not a known field"),
    (("[title]", "title = 3\n[titles]"), "lab.toml: title: must be a table"),
])
def test_each_problem_is_named_with_its_file_and_field(tmp_path: Path, change: tuple[str, str],
                                                       expected: str) -> None:
    old, new = change
    assert old in MANIFEST
    problems = problems_of(write_bundle(tmp_path, MANIFEST.replace(old, new, 1)))
    assert any(problem.startswith(expected) for problem in problems), problems


def test_every_problem_is_reported_at_once(tmp_path: Path) -> None:
    manifest = (MANIFEST.replace('direction = "max"', 'direction = "up"')
                .replace("per_day = 10", "per_day = -1").replace('slug = "tiny-lab"', 'slug = "X"'))
    problems = problems_of(write_bundle(tmp_path, manifest))
    assert len(problems) == 3


def test_a_manifest_that_is_not_toml_or_missing(tmp_path: Path) -> None:
    assert problems_of(tmp_path) == ["lab.toml: is missing: every bundle has a lab.toml at its top"]
    write_bundle(tmp_path, "slug = [unclosed")
    assert problems_of(tmp_path)[0].startswith("lab.toml: is not valid TOML")


def test_a_link_out_of_the_bundle_is_refused(tmp_path: Path) -> None:
    root = write_bundle(tmp_path / "bundle")
    (root / "data/public/passwd").symlink_to("/etc/passwd")
    assert problems_of(root) == ["data/public/passwd: is a link to outside the bundle"]


def zip_of(root: Path, archive: Path, prefix: str = "") -> Path:
    with zipfile.ZipFile(archive, "w", zipfile.ZIP_DEFLATED) as out:
        for path in sorted(root.rglob("*")):
            if path.is_file():
                out.write(path, prefix + path.relative_to(root).as_posix())
    return archive


def test_a_zip_bundle_loads_with_or_without_a_top_folder(tmp_path: Path) -> None:
    source = write_bundle(tmp_path / "source")
    flat = load_bundle(zip_of(source, tmp_path / "flat.zip"), extract_to=tmp_path / "a")
    nested = load_bundle(zip_of(source, tmp_path / "nested.zip", "tiny-lab/"),
                         extract_to=tmp_path / "b")
    assert flat.slug == nested.slug == "tiny-lab"
    assert nested.root == tmp_path / "b" / "tiny-lab"


def hostile_zip(path: Path, entries: list[tuple[zipfile.ZipInfo | str, bytes]]) -> Path:
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as out:
        for info, data in entries:
            out.writestr(info, data)
    return path


def link_entry(name: str) -> zipfile.ZipInfo:
    info = zipfile.ZipInfo(name)
    info.external_attr = (stat.S_IFLNK | 0o777) << 16
    return info


@pytest.mark.parametrize(("entries", "expected"), [
    ([("../evil.txt", b"x")], "../evil.txt: is not a plain relative path"),
    ([("/etc/evil", b"x")], "/etc/evil: is not a plain relative path"),
    ([("a\\b.txt", b"x")], "a\\b.txt: is not a plain relative path"),
    ([(link_entry("data/link"), b"/etc/passwd")], "data/link: is a symbolic link"),
    ([("lab.toml", b"a"), ("LAB.toml", b"b")], "LAB.toml: appears twice"),
    ([("bomb.bin", b"\0" * (8 << 20))], "bomb.bin: is compressed more than 200:1"),
])
def test_hostile_zips_are_refused_before_anything_is_written(
        tmp_path: Path, entries: list[tuple[zipfile.ZipInfo | str, bytes]],
        expected: str) -> None:
    archive = hostile_zip(tmp_path / "bad.zip", entries)
    destination = tmp_path / "out"
    with pytest.raises(BundleError) as caught:
        load_bundle(archive, extract_to=destination)
    assert any(str(p).startswith(f"bad.zip: {expected}") for p in caught.value.problems), \
        caught.value.problems
    assert not destination.exists() or not any(destination.iterdir())
    assert not (tmp_path / "evil.txt").exists()


def test_zip_size_and_entry_limits(tmp_path: Path) -> None:
    archive = hostile_zip(tmp_path / "many.zip", [(f"f{i}", b"x") for i in range(20)])
    with pytest.raises(BundleError, match="has 20 entries, more than 10"):
        load_bundle(archive, extract_to=tmp_path / "o1",
                    archive_limits=ArchiveLimits(entries_max=10))
    archive = hostile_zip(tmp_path / "big.zip", [("big", bytes(range(256)) * 4096)])
    with pytest.raises(BundleError, match="more than 1000"):
        load_bundle(archive, extract_to=tmp_path / "o2",
                    archive_limits=ArchiveLimits(file_bytes_max=1000))
    with pytest.raises(BundleError, match="not a readable zip file"):
        (tmp_path / "junk.zip").write_bytes(b"not a zip")
        load_bundle(tmp_path / "junk.zip", extract_to=tmp_path / "o3")


GRADESCOPE = {
    "execution_time": 1.5,
    "output": "Well done",
    "stdout_visibility": "visible",
    "tests": [
        {"name": "shape", "score": 10, "max_score": 10, "visibility": "visible",
         "output": "ok"},
        {"name": "secret edge case", "score": 0, "max_score": 20, "visibility": "hidden",
         "output": "input was empty"},
        {"name": "after the deadline", "score": 5, "max_score": 5,
         "visibility": "after_due_date", "output": "fine"},
    ],
    "leaderboard": [{"name": "accuracy", "value": 0.91, "order": "desc"},
                    {"name": "accuracy", "value": 0.89, "split": "private"}],
}


def test_results_in_gradescope_shape_parse() -> None:
    results = parse_results(json.dumps(GRADESCOPE))
    assert results.score == 15 and results.max_score == 35   # added up from the tests
    assert [t.status for t in results.tests] == ["passed", "failed", "passed"]
    assert results.metric("accuracy") == 0.91
    assert results.metric("accuracy", "private") == 0.89
    assert results.execution_time == 1.5
    explicit = parse_results({"score": 7, "max_score": 10})
    assert (explicit.score, explicit.max_score, explicit.tests) == (7, 10, ())


def test_the_learner_sees_hidden_tests_as_scores_only() -> None:
    view = learner_view(parse_results(GRADESCOPE))
    assert view["score"] == 15 and view["max_score"] == 35
    shape, secret, later = view["tests"]
    assert shape["name"] == "shape" and shape["output"] == "ok"
    assert secret == {"number": "2", "score": 0, "max_score": 20, "hidden": True}
    assert later["hidden"] and "output" not in later
    assert view["leaderboard"] == [{"name": "accuracy", "value": 0.91, "order": "desc",
                                    "split": "public"}]
    published = learner_view(parse_results(GRADESCOPE), due_date_passed=True, published=True)
    assert published["tests"][2]["output"] == "fine"
    assert published["tests"][1]["hidden"]            # hidden stays hidden
    assert len(published["leaderboard"]) == 2


@pytest.mark.parametrize(("raw", "expected"), [
    ("{not json", "results.json: is not valid JSON"),
    ("[]", "results.json: must be a JSON object"),
    ({"tests": [{"name": "a", "max_score": 1}]}, "results.json: tests[0].score: is missing"),
    ({"tests": [{"name": "a", "score": 1, "max_score": 1, "visibility": "secret"}]},
     "results.json: tests[0].visibility: must be one of visible, hidden, after_due_date, "
     "after_published"),
    ({"tests": [{"score": -1, "max_score": 1}]}, "results.json: tests[0].score: must be a number"),
    ({"output": "x"}, "results.json: score: is missing, and there are no tests"),
    ({"score": 1, "max_score": 0}, "results.json: max_score: must be a number above 0"),
    ({"score": 1, "max_score": 2, "leaderboard": [{"name": "m", "value": "high"}]},
     "results.json: leaderboard[0].value: must be a finite number"),
    ({"score": 1, "max_score": 2, "tests": "all good"}, "results.json: tests: must be a list"),
])
def test_malformed_results_name_the_field(raw: object, expected: str) -> None:
    with pytest.raises(ResultsError) as caught:
        parse_results(raw)  # type: ignore[arg-type]
    assert any(str(p).startswith(expected) for p in caught.value.problems), \
        caught.value.problems


def test_submissions_are_checked_against_the_bundle(tmp_path: Path) -> None:
    bundle = load_bundle(write_bundle(tmp_path / "bundle"))
    good = tmp_path / "solution.py"
    good.write_text("def answer():\n    return 1\n")
    check_submission(bundle, {"solution.py": good})
    empty = tmp_path / "empty.py"
    empty.write_text("")
    cases = [
        ({}, "files"),
        ({"hack.sh": good}, "hack.sh"),
        ({"solution.py": empty}, "solution.py"),
        ({"solution.py": tmp_path / "missing.py"}, "solution.py"),
    ]
    for files, field in cases:
        with pytest.raises(SubmissionError) as caught:
            check_submission(bundle, files)
        assert caught.value.field == field
    notebook = tmp_path / "solution.ipynb"
    notebook.write_text('{"cells": "nope"}')
    with pytest.raises(SubmissionError, match=r"solution\.ipynb: is not a valid Jupyter notebook"):
        check_submission(bundle, {"solution.ipynb": notebook})


def test_the_job_mounts_hidden_data_in_the_grade_step_only(tmp_path: Path) -> None:
    bundle = load_bundle(write_bundle(tmp_path / "bundle"))
    solution = tmp_path / "solution.py"
    solution.write_text("x = 1\n")
    spec = job_for_submission(bundle, {"solution.py": solution}, job_id="j1")
    run, grade = spec.steps
    assert {m.target for m in spec.mounts} == {"/lab", "/data"}
    assert run.mounts == () and not run.results
    assert {m.target for m in grade.mounts} == {"/grader", "/hidden"} and grade.results
    assert spec.files == {"solution.py": solution}
