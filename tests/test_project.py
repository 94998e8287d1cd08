"""Project-wide rules: the layering of the design, and the linters' verdicts."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
LEDGER = ROOT / "src" / "oneteam" / "ledger"
PLATFORM_PACKAGES = ("django", "ninja", "oneteam.platform", "oneteam.accounts",
                     "oneteam.consortium", "oneteam.academy", "oneteam.compute", "oneteam.labs",
                     "oneteam.credentials", "oneteam.talent")


def imported_modules(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module)
    return names


def test_the_ledger_never_imports_django_or_a_platform_app() -> None:
    """oneteam.ledger is pure asyncio: every member runs it without the platform."""
    files = sorted(LEDGER.rglob("*.py"))
    assert len(files) > 10
    offenders = [
        f"{path.relative_to(ROOT)} imports {name}"
        for path in files
        for name in imported_modules(path)
        if any(name == p or name.startswith(p + ".") for p in PLATFORM_PACKAGES)
    ]
    assert offenders == []


def test_the_layering_check_sees_a_violation(tmp_path: Path) -> None:
    """The scan above would notice an offending import (so it cannot pass vacuously)."""
    sample = tmp_path / "bad.py"
    sample.write_text("from django.db import models\nimport oneteam.talent.models\n")
    assert {"django.db", "oneteam.talent.models"} <= imported_modules(sample)


@pytest.mark.slow
def test_ruff_finds_nothing() -> None:
    result = subprocess.run([sys.executable, "-m", "ruff", "check", "--output-format",
                             "concise", "src", "tests"], cwd=ROOT, capture_output=True,
                            text=True, timeout=120, check=False)
    assert result.returncode == 0, result.stdout + result.stderr


@pytest.mark.slow
def test_mypy_finds_nothing() -> None:
    """mypy is strict on oneteam.ledger (pyproject.toml)."""
    result = subprocess.run([sys.executable, "-m", "mypy"], cwd=ROOT, capture_output=True,
                            text=True, timeout=300, check=False)
    assert result.returncode == 0, result.stdout + result.stderr
