"""Project-wide rules: the layering of the design, and the linters' verdicts."""

from __future__ import annotations

import ast
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
LEDGER = ROOT / "src" / "oneteam" / "ledger"
PACKAGE = ROOT / "src" / "oneteam"
# The platform's Django apps (DESIGN.md), whether or not each exists yet.
APPS = ("platform", "accounts", "consortium", "academy", "compute", "labs", "credentials",
        "talent")
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


def imports_with_names(path: Path) -> set[str]:
    """Like imported_modules, plus ``module.name`` for each ``from module import name``."""
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module)
            names.update(f"{node.module}.{alias.name}" for alias in node.names)
    return names


def app_modules() -> list[tuple[str, Path]]:
    return [(app, path) for app in APPS if (PACKAGE / app).is_dir()
            for path in sorted((PACKAGE / app).rglob("*.py"))]


# What an app may import of the ledger: the client SDK, and what signing with it needs,
# the encoding layer the client itself is built on: key pairs and key files (keys), and
# the operations' argument structs (the contracts package's registry; Account.sign takes
# the operation's own struct). Never the node, the engine, the store or the API server.
LEDGER_MODULES_FOR_APPS = frozenset({"oneteam.ledger.client", "oneteam.ledger.keys",
                                     "oneteam.ledger.contracts"})


def test_platform_apps_reach_the_ledger_only_through_its_client() -> None:
    """The platform is one member's software: it uses the node's public API, over HTTP."""
    modules = app_modules()
    assert len(modules) > 10
    offenders = [
        f"{path.relative_to(ROOT)} imports {name}"
        for app, path in modules
        for name in imported_modules(path)
        if (name == "oneteam.ledger" or name.startswith("oneteam.ledger."))
        and name not in LEDGER_MODULES_FOR_APPS
        # credential batches use the ledger's RFC 6962 tree, so roots and paths are the
        # ones the anchors contract checks; it is pure hashing, no I/O
        and not (app == "credentials" and name == "oneteam.ledger.merkle")
    ]
    assert offenders == []


def app_import_violations(app: str, names: set[str]) -> list[str]:
    """Imports by ``app`` of another app's views or urls, or of its private names."""
    found = []
    for name in names:
        parts = name.split(".")
        if len(parts) < 3 or parts[0] != "oneteam" or parts[1] not in APPS or parts[1] == app:
            continue
        if app == "platform" and parts[2] in ("urls", "api"):
            continue  # the project's root URLconf and API mount the apps (by name, not import)
        if any(part in ("views", "urls") or part.startswith("_") for part in parts[2:]):
            found.append(name)
    return found


def test_apps_never_import_another_apps_views_or_private_helpers() -> None:
    """An app may use another's models, queries and actions; never its views (DESIGN.md)."""
    offenders = [
        f"{path.relative_to(ROOT)} imports {name}"
        for app, path in app_modules()
        for name in app_import_violations(app, imports_with_names(path))
    ]
    assert offenders == []


def test_the_app_import_check_sees_a_violation(tmp_path: Path) -> None:
    sample = tmp_path / "bad.py"
    sample.write_text("from oneteam.accounts import views\n"
                      "from oneteam.consortium.queries import _private\n"
                      "from oneteam.accounts.models import Person\n")
    assert sorted(app_import_violations("academy", imports_with_names(sample))) == [
        "oneteam.accounts.views", "oneteam.consortium.queries._private"]
    assert app_import_violations("accounts", {"oneteam.accounts.views"}) == []


@pytest.mark.slow
def test_ruff_finds_nothing() -> None:
    result = subprocess.run([sys.executable, "-m", "ruff", "check", "--output-format",
                             "concise", "src", "tests"], cwd=ROOT, capture_output=True,
                            text=True, timeout=120, check=False)
    assert result.returncode == 0, result.stdout + result.stderr


@pytest.mark.slow
def test_mypy_finds_nothing(tmp_path: Path) -> None:
    """mypy is strict on oneteam.ledger, with the Django plugin on the platform (pyproject.toml).

    The plugin loads the platform's settings, which generate secrets in the data directory:
    a temporary one here.
    """
    env = {**os.environ, "ONETEAM_DATA_DIR": str(tmp_path)}
    result = subprocess.run([sys.executable, "-m", "mypy"], cwd=ROOT, capture_output=True,
                            text=True, timeout=300, check=False, env=env)
    assert result.returncode == 0, result.stdout + result.stderr
