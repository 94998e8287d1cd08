"""The platform's own labs and testbed challenge, as bundle sources.

Each folder here is a bundle's source: its ``lab.toml``, instructions, starter files,
runner and grader, plus what never goes into the bundle: ``build.py``, which writes the
public and hidden data at build time from datasets that ship inside installed packages
(scikit-learn's, or sentences kept in ``source/``), with a fixed split seed, so every
build is the same; ``source/``; and ``reference/``, the reference solution, kept out of
the bundle so that learners never see it.

``build_bundle(slug, destination)`` makes a bundle of one of them and loads it (so it is
validated like any uploaded bundle).
"""

from __future__ import annotations

import csv
import runpy
import shutil
from collections.abc import Iterable, Sequence
from pathlib import Path

from oneteam.labs.bundles import Bundle, load_bundle

CONTENT = Path(__file__).resolve().parent
# build inputs and the reference solutions: never copied into a bundle
NOT_IN_BUNDLE = ("build.py", "reference", "source", "__pycache__")
SPLIT_SEED = 20261122


def slugs() -> list[str]:
    return sorted(entry.name for entry in CONTENT.iterdir()
                  if entry.is_dir() and (entry / "lab.toml").is_file())


def source_dir(slug: str) -> Path:
    path = CONTENT / slug
    if slug not in slugs():
        raise KeyError(f"no lab named {slug!r} (there are: {', '.join(slugs())})")
    return path


def build_bundle(slug: str, destination: Path) -> Bundle:
    """Copy the bundle's files into the empty ``destination``, write its data, load it."""
    source = source_dir(slug)
    destination.mkdir(parents=True, exist_ok=True)
    if any(destination.iterdir()):
        raise ValueError(f"{destination} is not empty")
    for entry in source.iterdir():
        if entry.name in NOT_IN_BUNDLE:
            continue
        if entry.is_dir():
            shutil.copytree(entry, destination / entry.name,
                            ignore=shutil.ignore_patterns("__pycache__"))
        else:
            shutil.copy2(entry, destination / entry.name)
    build = runpy.run_path(str(source / "build.py"))
    build["build"](destination, source)
    return load_bundle(destination)


def reference_dir(slug: str) -> Path:
    """The folder with the reference solution (not in the bundle)."""
    return source_dir(slug) / "reference"


def write_csv(path: Path, header: Sequence[str], rows: Iterable[Sequence[object]]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(header)
        writer.writerows(rows)


def number(value: float) -> str:
    """A float as CSV text that reads back exactly."""
    return repr(float(value))
