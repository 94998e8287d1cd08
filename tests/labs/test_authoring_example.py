"""The complete example of docs/labs/AUTHORING.md is a valid bundle that grades."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from oneteam.labs.bundles import load_bundle

DOC = Path(__file__).resolve().parents[2] / "docs" / "labs" / "AUTHORING.md"
BLOCK = re.compile(r"<!-- (file|reference): (?P<name>[^ ]+) -->\n```[a-z]*\n(?P<body>.*?)```",
                   re.DOTALL)


def write_example(root: Path) -> tuple[Path, Path]:
    bundle = root / "iris-example"
    reference = root / "reference" / "solution.py"
    blocks = list(BLOCK.finditer(DOC.read_text(encoding="utf-8")))
    assert len(blocks) >= 10
    for block in blocks:
        target = (bundle if block[1] == "file" else reference.parent) / block["name"]
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(block["body"], encoding="utf-8")
    for path in [root, *root.rglob("*")]:
        path.chmod(0o755 if path.is_dir() else 0o644)
    return bundle, reference


def test_the_example_is_a_valid_bundle(tmp_path: Path) -> None:
    bundle_dir, _ = write_example(tmp_path)
    bundle = load_bundle(bundle_dir)
    assert bundle.slug == "iris-example"
    assert bundle.metric_name == "accuracy"


@pytest.mark.slow
def test_the_example_grades_its_reference_fully_and_its_starter_less(tmp_path: Path) -> None:
    from oneteam.compute.executors import LocalSandbox
    from oneteam.labs.grading import grade_submission
    from tests.compute.conftest import sandbox_or_skip

    sandbox_or_skip()
    bundle_dir, reference = write_example(tmp_path)
    bundle = load_bundle(bundle_dir)
    with LocalSandbox() as sandbox:
        good = grade_submission(sandbox, bundle, {"solution.py": reference},
                                job_id="iris-reference", timeout_s=120)
        starter = grade_submission(sandbox, bundle,
                                   {"solution.py": bundle_dir / "starter" / "solution.py"},
                                   job_id="iris-starter", timeout_s=120)
    assert good.graded and good.score == good.max_score == 100 and good.metric == 1.0
    assert starter.graded and starter.score is not None and starter.score < 100
