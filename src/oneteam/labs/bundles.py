"""Lab and challenge bundles: the ``lab.toml`` manifest, loading, validation, results.json.

A bundle is a directory (or a zip of one) with a manifest, ``lab.toml``, and the files it
names: instructions in Korean and English (Markdown), starter files, public data, hidden
data, the runner the submission is run by, and the grader. docs/labs/AUTHORING.md
describes the format with a complete example; ``load_bundle`` checks all of it and
raises ``BundleError`` listing every problem, each naming the file and the field.

Inside the sandbox (see ``oneteam.labs.grading``): ``/data`` is the public data (every
step), ``/lab`` the runner's directory (every step), ``/work`` the submission and what it
writes; in the grade step only, ``/hidden`` the hidden data, ``/grader`` the grader's
directory and ``/results``, where the grader writes ``results.json``.

The grader's results file has the shape of Gradescope's ``results.json``: a score (or
tests whose scores add up to it), tests with ``name``, ``score``, ``max_score``,
``visibility`` and ``output``, and a ``leaderboard`` of named values. ``parse_results``
checks it; ``learner_view`` is what a learner may see of it.
"""

from __future__ import annotations

import json
import math
import os
import re
import stat
import tomllib
import zipfile
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import Any

from oneteam.compute.executors.base import Limits

MANIFEST = "lab.toml"
FORMAT_VERSION = 1
LANGUAGES = ("ko", "en")
KINDS = ("lab", "challenge")
DIRECTIONS = ("max", "min")
VISIBILITIES = ("visible", "hidden", "after_due_date", "after_published")
SLUG = re.compile(r"^[a-z0-9][a-z0-9-]{1,62}[a-z0-9]$")
FILE_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,99}$")
METRIC_NAME = re.compile(r"^[a-z][a-z0-9_]{0,39}$")
TITLE_CHARS_MAX = 200
INSTRUCTIONS_BYTES_MAX = 1 << 20
RESULTS_BYTES_MAX = 1 << 20
TESTS_MAX = 1000
TEXT_CHARS_MAX = 64 * 1024
# What the platform allows a bundle to ask for (the executors may allow less).
LIMIT_BOUNDS = {
    "cpu_seconds": (1, 86400), "wall_seconds": (1, 86400), "memory_mb": (64, 1 << 20),
    "processes": (8, 4096), "disk_mb": (1, 1 << 20), "file_size_mb": (1, 1 << 20),
    "output_kb": (1, 1 << 20), "cpus": (1, 256), "gpus": (0, 16),
}
LIMIT_DEFAULTS = {
    "cpu_seconds": 120, "wall_seconds": 180, "memory_mb": 1024, "processes": 64,
    "disk_mb": 256, "output_kb": 1024, "cpus": 1, "gpus": 0,
}
TOP_KEYS = {"format", "slug", "kind", "version", "title", "instructions", "starter", "data",
            "submission", "run", "grade", "metric", "limits", "submissions", "leaderboard",
            "skills"}
SKILLS_MAX = 20
SKILL_LEVELS = (1, 5)


# ---------------------------------------------------------------------------------------
# errors


@dataclass(frozen=True)
class Problem:
    """One thing wrong with a bundle: the file, the field in it (if any), and what."""

    file: str
    field: str
    message: str

    def __str__(self) -> str:
        where = f"{self.file}: {self.field}" if self.field else self.file
        return f"{where}: {self.message}"


class BundleError(ValueError):
    """A bundle is not valid; ``problems`` lists everything found, each naming its place."""

    def __init__(self, problems: list[Problem]) -> None:
        self.problems = tuple(problems)
        super().__init__("; ".join(str(p) for p in problems[:20])
                         + (f"; and {len(problems) - 20} more" if len(problems) > 20 else ""))


class ResultsError(ValueError):
    """A grader's results.json is malformed; the message names the field."""

    def __init__(self, problems: list[Problem]) -> None:
        self.problems = tuple(problems)
        super().__init__("; ".join(str(p) for p in problems[:20]))


# ---------------------------------------------------------------------------------------
# the bundle


@dataclass(frozen=True)
class ArchiveLimits:
    """Bounds on what a bundle may hold, checked before anything is written."""

    entries_max: int = 5000
    total_bytes_max: int = 512 << 20
    file_bytes_max: int = 256 << 20
    compression_ratio_max: int = 200


@dataclass(frozen=True)
class Bundle:
    root: Path
    slug: str
    kind: str
    version: str
    title: Mapping[str, str]
    instructions: Mapping[str, str]        # language -> relative path of the Markdown
    starter: tuple[str, ...]
    public_data: str | None                # relative directory
    hidden_data: str | None
    submission_files: tuple[str, ...]      # names a submission may contain
    notebook: str | None                   # a notebook name the platform executes first
    submission_max_bytes: int
    run_directory: str
    run_command: tuple[str, ...]
    grade_directory: str
    grade_command: tuple[str, ...]
    metric_name: str
    metric_direction: str
    limits: Limits
    grade_limits: Limits
    submissions_per_day: int
    public_fraction: float | None          # challenges: share of the hidden split shown live
    # skills the lab evidences: (skill id in the talent taxonomy, level 1-5)
    skills: tuple[tuple[str, int], ...] = ()
    extra: Mapping[str, Any] = field(default_factory=dict)

    def path(self, relative: str) -> Path:
        return self.root / relative

    def instructions_markdown(self, language: str) -> str:
        return self.path(self.instructions[language]).read_text(encoding="utf-8")

    def better(self, first: float, second: float) -> bool:
        """Whether metric value ``first`` beats ``second``."""
        return first > second if self.metric_direction == "max" else first < second


def load_bundle(path: Path, *, extract_to: Path | None = None,
                archive_limits: ArchiveLimits | None = None) -> Bundle:
    """A bundle from a directory, or from a zip extracted (safely) into ``extract_to``."""
    archive_limits = archive_limits or ArchiveLimits()
    path = Path(path)
    if path.is_file():
        if extract_to is None:
            raise ValueError("a zip bundle needs extract_to, an empty directory")
        root = extract_zip(path, extract_to, archive_limits)
    elif path.is_dir():
        root = path
        problems = check_tree(root, archive_limits)
        if problems:
            raise BundleError(problems)
    else:
        raise BundleError([Problem(str(path), "", "no such file or directory")])
    return _load_manifest(root)


def extract_zip(archive: Path, destination: Path, limits: ArchiveLimits) -> Path:
    """Extract a zip bundle into the empty ``destination``; returns the bundle's root.

    Refused (BundleError, nothing written): absolute names, ``..``, backslashes,
    duplicate names, links, devices, encrypted entries, more entries or bytes than
    ``limits``, suspicious compression ratios. Sizes are counted while extracting too,
    not taken from the headers on trust.
    """
    name = archive.name
    try:
        zip_file = zipfile.ZipFile(archive)
    except (zipfile.BadZipFile, OSError) as error:
        raise BundleError([Problem(name, "", f"not a readable zip file ({error})")]) from None
    with zip_file:
        infos = zip_file.infolist()
        problems = _check_zip_entries(name, infos, limits)
        if problems:
            raise BundleError(problems)
        destination.mkdir(parents=True, exist_ok=True)
        if any(destination.iterdir()):
            raise ValueError(f"{destination} is not empty")
        written = 0
        for info in infos:
            target = destination / info.filename
            if info.is_dir():
                target.mkdir(parents=True, exist_ok=True, mode=0o755)
                continue
            target.parent.mkdir(parents=True, exist_ok=True, mode=0o755)
            fd = os.open(target, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, 0o644)
            with os.fdopen(fd, "wb") as out, zip_file.open(info) as source:
                size = 0
                while chunk := source.read(1 << 20):
                    size += len(chunk)
                    written += len(chunk)
                    if size > info.file_size or size > limits.file_bytes_max or (
                            written > limits.total_bytes_max):
                        raise BundleError([Problem(name, info.filename,
                                                   "holds more bytes than its header says or "
                                                   "than a bundle may hold")])
                    out.write(chunk)
    if (destination / MANIFEST).is_file():
        return destination
    tops = [entry for entry in destination.iterdir() if entry.is_dir()]
    if len(tops) == 1 and len(list(destination.iterdir())) == 1 and (
            tops[0] / MANIFEST).is_file():
        return tops[0]
    raise BundleError([Problem(name, MANIFEST, "no lab.toml at the top of the zip (or in its "
                                               "one top-level folder)")])


def _check_zip_entries(name: str, infos: list[zipfile.ZipInfo],
                       limits: ArchiveLimits) -> list[Problem]:
    problems: list[Problem] = []
    if len(infos) > limits.entries_max:
        return [Problem(name, "", f"has {len(infos)} entries, more than {limits.entries_max}")]
    seen: set[str] = set()
    total = 0
    for info in infos:
        entry = info.filename
        mode = info.external_attr >> 16
        stripped = entry.rstrip("/")
        parts = stripped.split("/")
        if (not stripped or "\\" in entry or "\0" in entry or entry.startswith("/")
                or re.match(r"^[A-Za-z]:", entry) or any(p in ("", ".", "..") for p in parts)):
            problems.append(Problem(name, entry, "is not a plain relative path (no '/' at the "
                                                 "start, no '..', no '\\')"))
            continue
        if stripped.lower() in seen:
            problems.append(Problem(name, entry, "appears twice"))
        seen.add(stripped.lower())
        if stat.S_ISLNK(mode):
            problems.append(Problem(name, entry, "is a symbolic link; bundles may not hold "
                                                 "links"))
        elif mode and not (stat.S_ISREG(mode) or stat.S_ISDIR(mode)):
            problems.append(Problem(name, entry, "is neither a file nor a folder"))
        if info.flag_bits & 0x1:
            problems.append(Problem(name, entry, "is encrypted"))
        if info.file_size > limits.file_bytes_max:
            problems.append(Problem(name, entry, f"is {info.file_size} bytes, more than "
                                                 f"{limits.file_bytes_max}"))
        if info.file_size > (1 << 20) and info.file_size > (
                limits.compression_ratio_max * max(1, info.compress_size)):
            problems.append(Problem(name, entry, "is compressed more than "
                                                 f"{limits.compression_ratio_max}:1"))
        total += info.file_size
    if total > limits.total_bytes_max:
        problems.append(Problem(name, "", f"unpacks to {total} bytes, more than "
                                          f"{limits.total_bytes_max}"))
    return problems


def check_tree(root: Path, limits: ArchiveLimits) -> list[Problem]:
    """A bundle directory holds only files and folders, links only to inside itself."""
    problems: list[Problem] = []
    real_root = root.resolve()
    total = 0
    count = 0
    for directory, dirnames, filenames in os.walk(root):
        for entry in dirnames + filenames:
            count += 1
            if count > limits.entries_max:
                return [Problem(str(root), "", f"holds more than {limits.entries_max} "
                                               "entries")]
            full = Path(directory) / entry
            relative = full.relative_to(root).as_posix()
            info = full.lstat()
            if stat.S_ISLNK(info.st_mode):
                target = full.resolve()
                if target != real_root and real_root not in target.parents:
                    problems.append(Problem(relative, "", "is a link to outside the bundle"))
                continue
            if stat.S_ISDIR(info.st_mode):
                continue
            if not stat.S_ISREG(info.st_mode):
                problems.append(Problem(relative, "", "is neither a file nor a folder"))
                continue
            total += info.st_size
            if info.st_size > limits.file_bytes_max:
                problems.append(Problem(relative, "", f"is {info.st_size} bytes, more than "
                                                      f"{limits.file_bytes_max}"))
    if total > limits.total_bytes_max:
        problems.append(Problem(str(root), "", f"holds {total} bytes, more than "
                                               f"{limits.total_bytes_max}"))
    return problems


# ---------------------------------------------------------------------------------------
# the manifest


class _Reader:
    """Reads typed fields from the manifest, collecting a Problem for each bad one."""

    def __init__(self, root: Path, data: Mapping[str, Any]) -> None:
        self.root = root
        self.data = data
        self.problems: list[Problem] = []

    def problem(self, field_name: str, message: str) -> None:
        self.problems.append(Problem(MANIFEST, field_name, message))

    def table(self, key: str, *, required: bool = True,
              allowed: set[str] | None = None) -> Mapping[str, Any]:
        value = self.data.get(key)
        if value is None:
            if required:
                self.problem(key, "is missing (a table)")
            return {}
        if not isinstance(value, dict):
            self.problem(key, "must be a table ([" + key + "])")
            return {}
        if allowed is not None:
            for unknown in sorted(set(value) - allowed):
                self.problem(f"{key}.{unknown}", "is not a known field (a typo?)")
        return value

    def string(self, table: Mapping[str, Any], key: str, name: str, *, required: bool = True,
               pattern: re.Pattern[str] | None = None, max_chars: int = 200) -> str | None:
        value = table.get(key)
        if value is None:
            if required:
                self.problem(name, "is missing")
            return None
        if not isinstance(value, str) or not value.strip():
            self.problem(name, "must be non-empty text")
            return None
        if len(value) > max_chars:
            self.problem(name, f"is longer than {max_chars} characters")
            return None
        if pattern is not None and not pattern.match(value):
            self.problem(name, f"{value!r} does not have the required form")
            return None
        return value

    def integer(self, table: Mapping[str, Any], key: str, name: str, *, low: int, high: int,
                default: int | None = None) -> int | None:
        value = table.get(key, default)
        if value is None:
            self.problem(name, "is missing")
            return None
        if not isinstance(value, int) or isinstance(value, bool) or not low <= value <= high:
            self.problem(name, f"must be a whole number from {low} to {high}, not {value!r}")
            return None
        return value

    def relative(self, value: Any, name: str, *, directory: bool) -> str | None:
        """A path inside the bundle that exists (a file, or a folder)."""
        if not isinstance(value, str) or not value:
            self.problem(name, "must be a relative path (text)")
            return None
        path = PurePosixPath(value)
        if path.is_absolute() or "\\" in value or any(p in ("..", "") for p in value.split("/")):
            self.problem(name, f"{value!r} must be a relative path inside the bundle, "
                               "without '..'")
            return None
        full = self.root / value
        real_root = self.root.resolve()
        resolved = full.resolve()
        if resolved != real_root and real_root not in resolved.parents:
            self.problem(name, f"{value!r} leads outside the bundle")
            return None
        if directory and not full.is_dir():
            self.problem(name, f"{value!r} is not a folder in the bundle")
            return None
        if not directory and not full.is_file():
            self.problem(name, f"{value!r} is not a file in the bundle")
            return None
        return value

    def command(self, table: Mapping[str, Any], name: str) -> tuple[str, ...] | None:
        value = table.get("command")
        if (not isinstance(value, list) or not value or len(value) > 64
                or not all(isinstance(arg, str) and arg and "\0" not in arg for arg in value)):
            self.problem(f"{name}.command", "must be a list of 1 to 64 non-empty strings, "
                                            'e.g. ["python", "/lab/run.py"]')
            return None
        return tuple(value)

    def limits(self, table: Mapping[str, Any], name: str,
               base: Mapping[str, int] | None = None) -> Limits | None:
        for unknown in sorted(set(table) - set(LIMIT_BOUNDS)):
            self.problem(f"{name}.{unknown}", "is not a known limit (known: "
                                              f"{', '.join(LIMIT_BOUNDS)})")
        values = dict(base or LIMIT_DEFAULTS)
        ok = True
        for key, (low, high) in LIMIT_BOUNDS.items():
            if key not in table:
                continue
            value = self.integer(table, key, f"{name}.{key}", low=low, high=high)
            if value is None:
                ok = False
            else:
                values[key] = value
        if not ok:
            return None
        if values["cpu_seconds"] > values["wall_seconds"] * max(1, values["cpus"]):
            self.problem(f"{name}.cpu_seconds", "cannot exceed wall_seconds × cpus")
            return None
        disk = values["disk_mb"] << 20
        return Limits(cpu_seconds=values["cpu_seconds"], wall_seconds=values["wall_seconds"],
                      memory_bytes=values["memory_mb"] << 20, processes=values["processes"],
                      disk_bytes=disk,
                      file_size_bytes=values.get("file_size_mb", values["disk_mb"]) << 20,
                      output_bytes=values["output_kb"] << 10, cpus=values["cpus"],
                      gpus=values["gpus"])


def _load_manifest(root: Path) -> Bundle:
    manifest = root / MANIFEST
    if not manifest.is_file():
        raise BundleError([Problem(MANIFEST, "", "is missing: every bundle has a lab.toml at "
                                                 "its top")])
    try:
        data = tomllib.loads(manifest.read_text(encoding="utf-8"))
    except UnicodeDecodeError:
        raise BundleError([Problem(MANIFEST, "", "is not UTF-8 text")]) from None
    except tomllib.TOMLDecodeError as error:
        raise BundleError([Problem(MANIFEST, "", f"is not valid TOML: {error}")]) from None
    r = _Reader(root, data)
    for unknown in sorted(set(data) - TOP_KEYS):
        r.problem(unknown, "is not a known field (a typo?)")
    if data.get("format") != FORMAT_VERSION:
        r.problem("format", f"must be {FORMAT_VERSION} (the manifest format this platform "
                            f"reads), not {data.get('format')!r}")
    slug = r.string(data, "slug", "slug", pattern=SLUG)
    kind = r.string(data, "kind", "kind")
    if kind is not None and kind not in KINDS:
        r.problem("kind", f"must be one of {', '.join(KINDS)}, not {kind!r}")
    version = r.string(data, "version", "version", max_chars=40) or "1"

    title_table = r.table("title", allowed=set(LANGUAGES))
    titles = {lang: r.string(title_table, lang, f"title.{lang}", max_chars=TITLE_CHARS_MAX)
              for lang in LANGUAGES} if title_table else {}
    instructions_table = r.table("instructions", allowed=set(LANGUAGES))
    instructions: dict[str, str] = {}
    for lang in LANGUAGES if instructions_table else ():
        value = instructions_table.get(lang)
        if value is None:
            r.problem(f"instructions.{lang}", "is missing (a Markdown file)")
            continue
        relative = r.relative(value, f"instructions.{lang}", directory=False)
        if relative is None:
            continue
        if not relative.endswith(".md"):
            r.problem(f"instructions.{lang}", f"{relative!r} must be a Markdown file (.md)")
            continue
        full = root / relative
        if full.stat().st_size > INSTRUCTIONS_BYTES_MAX:
            r.problem(f"instructions.{lang}", f"{relative} is larger than 1 MiB")
            continue
        try:
            text = full.read_text(encoding="utf-8")
        except UnicodeDecodeError:
            r.problem(f"instructions.{lang}", f"{relative} is not UTF-8 text")
            continue
        if not text.strip():
            r.problem(f"instructions.{lang}", f"{relative} is empty")
            continue
        instructions[lang] = relative

    starter_table = r.table("starter", allowed={"files"})
    starter: list[str] = []
    files = starter_table.get("files", [])
    if not isinstance(files, list) or not files:
        r.problem("starter.files", "must list at least one starter file")
    else:
        for index, value in enumerate(files):
            relative = r.relative(value, f"starter.files[{index}]", directory=False)
            if relative is not None:
                starter.append(relative)

    data_table = r.table("data", allowed={"public", "hidden"})
    public = hidden = None
    if "public" in data_table:
        public = r.relative(data_table["public"], "data.public", directory=True)
    if "hidden" in data_table:
        hidden = r.relative(data_table["hidden"], "data.hidden", directory=True)
    if public and hidden:
        a, b = PurePosixPath(public), PurePosixPath(hidden)
        if a == b or a in b.parents or b in a.parents:
            r.problem("data.hidden", "must not be inside data.public, nor hold it: hidden "
                                     "data would be shown to learners")
    if hidden:
        for index, relative in enumerate(starter):
            if PurePosixPath(hidden) in PurePosixPath(relative).parents:
                r.problem(f"starter.files[{index}]", f"{relative} is hidden data; starter "
                                                     "files are given to learners")

    submission_table = r.table("submission", allowed={"files", "notebook", "max_bytes"})
    submission_files: list[str] = []
    names = submission_table.get("files", [])
    if not isinstance(names, list) or not names:
        r.problem("submission.files", "must list the file names a submission may contain")
    else:
        for index, value in enumerate(names):
            if not isinstance(value, str) or not FILE_NAME.match(value):
                r.problem(f"submission.files[{index}]", f"{value!r} must be a plain file name "
                                                        "(letters, digits, '.', '-', '_')")
            elif value in submission_files:
                r.problem(f"submission.files[{index}]", f"{value} is listed twice")
            else:
                submission_files.append(value)
    notebook = submission_table.get("notebook")
    if notebook is not None:
        if not isinstance(notebook, str) or not FILE_NAME.match(notebook) or not (
                notebook.endswith(".ipynb")):
            r.problem("submission.notebook", "must be a plain file name ending in .ipynb")
            notebook = None
        elif notebook in submission_files:
            r.problem("submission.notebook", "must not also be in submission.files")
            notebook = None
    submission_max = r.integer(submission_table, "max_bytes", "submission.max_bytes",
                               low=1, high=256 << 20, default=1 << 20) if submission_table else None

    run_table = r.table("run", allowed={"directory", "command"})
    run_directory = r.relative(run_table.get("directory"), "run.directory", directory=True) \
        if run_table else None
    run_command = r.command(run_table, "run") if run_table else None
    if notebook and run_command and (len(run_command) < 2 or run_command[0] != "python"
                                     or not run_command[1].endswith(".py")):
        r.problem("run.command", 'with a notebook submission, must be ["python", '
                                 '"/lab/<script>.py", ...]: the script runs in the '
                                 "notebook's kernel after its cells")

    grade_table = r.table("grade", allowed={"directory", "command", "limits"})
    grade_directory = r.relative(grade_table.get("directory"), "grade.directory",
                                 directory=True) if grade_table else None
    grade_command = r.command(grade_table, "grade") if grade_table else None
    # what a submission's step sees (public data, the runner) must not hold what only the
    # grade step may see (hidden data, the grader)
    for seen_name, seen in (("data.public", public), ("run.directory", run_directory)):
        for secret_name, secret in (("data.hidden", hidden), ("grade.directory",
                                                               grade_directory)):
            if seen is None or secret is None:
                continue
            a, b = PurePosixPath(seen), PurePosixPath(secret)
            if a == b or a in b.parents or str(a) == ".":
                r.problem(secret_name, f"is inside {seen_name}, which submissions see")

    metric_table = r.table("metric", allowed={"name", "direction"})
    metric_name = r.string(metric_table, "name", "metric.name", pattern=METRIC_NAME) \
        if metric_table else None
    direction = r.string(metric_table, "direction", "metric.direction") if metric_table else None
    if direction is not None and direction not in DIRECTIONS:
        r.problem("metric.direction", f"must be max (higher is better) or min (lower is "
                                      f"better), not {direction!r}")

    limits_table = r.table("limits", required=False)
    limits = r.limits(limits_table, "limits")
    grade_limits_table = grade_table.get("limits", {}) if grade_table else {}
    if not isinstance(grade_limits_table, dict):
        r.problem("grade.limits", "must be a table")
        grade_limits_table = {}
    base = {**LIMIT_DEFAULTS, **{k: v for k, v in limits_table.items() if k in LIMIT_BOUNDS}}
    grade_limits = r.limits(grade_limits_table, "grade.limits", base=base)

    submissions_table = r.table("submissions", allowed={"per_day"})
    per_day = r.integer(submissions_table, "per_day", "submissions.per_day", low=1,
                        high=1000) \
        if submissions_table else None

    leaderboard_table = r.table("leaderboard", required=False, allowed={"public_fraction"})
    public_fraction = None
    if kind == "challenge":
        value = leaderboard_table.get("public_fraction")
        if not isinstance(value, int | float) or isinstance(value, bool) or not (
                0 < value < 1):
            r.problem("leaderboard.public_fraction", "a challenge needs the share of its "
                                                     "hidden split scored on the public "
                                                     "leaderboard, between 0 and 1")
        else:
            public_fraction = float(value)
        if hidden is None:
            r.problem("data.hidden", "a challenge is scored on hidden data: give it")
    elif leaderboard_table:
        r.problem("leaderboard", "only challenges have a public/private leaderboard")

    skills = _read_skills(r, data.get("skills"))

    if r.problems:
        raise BundleError(r.problems)
    assert slug and kind and run_directory and run_command and grade_directory
    assert grade_command and metric_name and direction and limits and grade_limits
    assert per_day is not None and submission_max is not None
    return Bundle(
        root=root, slug=slug, kind=kind, version=version,
        title={lang: titles[lang] or "" for lang in LANGUAGES}, instructions=instructions,
        starter=tuple(starter), public_data=public, hidden_data=hidden,
        submission_files=tuple(submission_files), notebook=notebook,
        submission_max_bytes=submission_max, run_directory=run_directory,
        run_command=run_command, grade_directory=grade_directory, grade_command=grade_command,
        metric_name=metric_name, metric_direction=direction, limits=limits,
        grade_limits=grade_limits, submissions_per_day=per_day,
        public_fraction=public_fraction, skills=skills)


def _read_skills(r: _Reader, value: Any) -> tuple[tuple[str, int], ...]:
    """``[[skills]]``: what the lab evidences, each ``code`` a skill of the talent taxonomy
    (its id, such as ``scikit-learn``, or an NCS code, such as ``20010703``) and a
    ``level`` from 1 to 5 on the alliance's scale."""
    if value is None:
        return ()
    if not isinstance(value, list) or len(value) > SKILLS_MAX:
        r.problem("skills", f"must be a list of at most {SKILLS_MAX} tables "
                            '([[skills]] code = "...", level = 1-5)')
        return ()
    from oneteam.talent.taxonomy import default_taxonomy

    taxonomy = default_taxonomy()
    by_code = {skill.code: skill.id for skill in taxonomy.ncs_skills() if skill.code}
    skills: list[tuple[str, int]] = []
    for index, entry in enumerate(value):
        where = f"skills[{index}]"
        if not isinstance(entry, dict):
            r.problem(where, "must be a table with code and level")
            continue
        for unknown in sorted(set(entry) - {"code", "level"}):
            r.problem(f"{where}.{unknown}", "is not a known field (code, level)")
        code = entry.get("code")
        if not isinstance(code, str) or not code:
            r.problem(f"{where}.code", "must be the code of a skill in the talent taxonomy")
            continue
        skill_id = by_code.get(code, code)
        if skill_id not in taxonomy:
            r.problem(f"{where}.code", f"{code!r} is not a skill of the talent taxonomy "
                                       "(src/oneteam/talent/taxonomy.toml)")
            continue
        level = r.integer(entry, "level", f"{where}.level", low=SKILL_LEVELS[0],
                          high=SKILL_LEVELS[1])
        if level is None:
            continue
        if any(existing == skill_id for existing, _ in skills):
            r.problem(f"{where}.code", f"{code} is listed twice")
            continue
        skills.append((skill_id, level))
    return tuple(skills)


# ---------------------------------------------------------------------------------------
# results.json


@dataclass(frozen=True)
class TestResult:
    name: str
    score: float
    max_score: float
    status: str                   # passed | failed
    visibility: str
    output: str
    number: str | None
    tags: tuple[str, ...]


@dataclass(frozen=True)
class LeaderboardEntry:
    name: str
    value: float
    order: str                    # asc | desc
    split: str                    # public | private (challenges)


@dataclass(frozen=True)
class Results:
    score: float
    max_score: float
    tests: tuple[TestResult, ...]
    output: str
    visibility: str
    stdout_visibility: str
    execution_time: float | None
    leaderboard: tuple[LeaderboardEntry, ...]
    extra_data: Mapping[str, Any]

    def metric(self, name: str, split: str = "public") -> float | None:
        return next((entry.value for entry in self.leaderboard
                     if entry.name == name and entry.split == split), None)


def _number(value: Any) -> float | None:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    number = float(value)
    return number if math.isfinite(number) else None


def parse_results(raw: bytes | str | Mapping[str, Any], *, source: str = "results.json") -> Results:
    """Check a grader's results (Gradescope's results.json shape); ResultsError otherwise."""
    problems: list[Problem] = []

    def problem(field_name: str, message: str) -> None:
        problems.append(Problem(source, field_name, message))

    if isinstance(raw, bytes | str):
        if len(raw) > RESULTS_BYTES_MAX:
            raise ResultsError([Problem(source, "", f"is larger than {RESULTS_BYTES_MAX} bytes")])
        try:
            data = json.loads(raw)
        except (ValueError, UnicodeDecodeError) as error:
            raise ResultsError([Problem(source, "", f"is not valid JSON: {error}")]) from None
    else:
        data = raw
    if not isinstance(data, dict):
        raise ResultsError([Problem(source, "", "must be a JSON object")])

    def text(value: Any, field_name: str) -> str:
        if value is None:
            return ""
        if not isinstance(value, str):
            problem(field_name, "must be text")
            return ""
        if len(value) > TEXT_CHARS_MAX:
            problem(field_name, f"is longer than {TEXT_CHARS_MAX} characters")
            return ""
        return value

    def visibility(value: Any, field_name: str, default: str) -> str:
        if value is None:
            return default
        if value not in VISIBILITIES:
            problem(field_name, f"must be one of {', '.join(VISIBILITIES)}, not {value!r}")
            return default
        return str(value)

    top_visibility = visibility(data.get("visibility"), "visibility", "visible")
    stdout_visibility = visibility(data.get("stdout_visibility"), "stdout_visibility", "hidden")
    tests: list[TestResult] = []
    raw_tests = data.get("tests", [])
    if not isinstance(raw_tests, list):
        problem("tests", "must be a list")
        raw_tests = []
    if len(raw_tests) > TESTS_MAX:
        problem("tests", f"has more than {TESTS_MAX} tests")
        raw_tests = []
    for index, test in enumerate(raw_tests):
        where = f"tests[{index}]"
        if not isinstance(test, dict):
            problem(where, "must be an object")
            continue
        name = text(test.get("name"), f"{where}.name") or f"Test {index + 1}"
        score = _number(test.get("score"))
        max_score = _number(test.get("max_score"))
        if test.get("score") is None:
            problem(f"{where}.score", "is missing (a number)")
        elif score is None or score < 0:
            problem(f"{where}.score", "must be a number, 0 or more")
        if test.get("max_score") is None:
            problem(f"{where}.max_score", "is missing (a number)")
        elif max_score is None or max_score < 0:
            problem(f"{where}.max_score", "must be a number, 0 or more")
        status = test.get("status")
        if status is not None and status not in ("passed", "failed"):
            problem(f"{where}.status", f"must be passed or failed, not {status!r}")
        tags = test.get("tags", [])
        if not isinstance(tags, list) or not all(isinstance(t, str) for t in tags):
            problem(f"{where}.tags", "must be a list of text")
            tags = []
        number = test.get("number")
        if number is not None and not isinstance(number, str | int):
            problem(f"{where}.number", "must be text")
            number = None
        score_value = score or 0.0
        max_value = max_score or 0.0
        tests.append(TestResult(
            name=name, score=score_value, max_score=max_value,
            status=status or ("passed" if score_value >= max_value else "failed"),
            visibility=visibility(test.get("visibility"), f"{where}.visibility", top_visibility),
            output=text(test.get("output"), f"{where}.output"),
            number=str(number) if number is not None else None, tags=tuple(tags)))

    score = _number(data.get("score"))
    if data.get("score") is not None and (score is None or score < 0):
        problem("score", "must be a number, 0 or more")
    if data.get("score") is None:
        if not tests:
            problem("score", "is missing, and there are no tests to add up")
        score = sum(test.score for test in tests)
    max_score = _number(data.get("max_score"))
    if data.get("max_score") is not None and (max_score is None or max_score <= 0):
        problem("max_score", "must be a number above 0")
    if data.get("max_score") is None:
        max_score = sum(test.max_score for test in tests)
        if max_score <= 0:
            problem("max_score", "is missing, and the tests' max_score add up to 0")
    execution_time = _number(data.get("execution_time"))
    if data.get("execution_time") is not None and (execution_time is None or execution_time < 0):
        problem("execution_time", "must be a number of seconds")
        execution_time = None

    leaderboard: list[LeaderboardEntry] = []
    raw_board = data.get("leaderboard", [])
    if not isinstance(raw_board, list):
        problem("leaderboard", "must be a list")
        raw_board = []
    for index, entry in enumerate(raw_board[:100]):
        where = f"leaderboard[{index}]"
        if not isinstance(entry, dict):
            problem(where, "must be an object")
            continue
        entry_name = entry.get("name")
        value = _number(entry.get("value"))
        if not isinstance(entry_name, str) or not entry_name:
            problem(f"{where}.name", "must be non-empty text")
            continue
        if value is None:
            problem(f"{where}.value", "must be a finite number")
            continue
        order = entry.get("order", "desc")
        if order not in ("asc", "desc"):
            problem(f"{where}.order", "must be asc or desc")
            order = "desc"
        split = entry.get("split", "public")
        if split not in ("public", "private"):
            problem(f"{where}.split", "must be public or private")
            split = "public"
        leaderboard.append(LeaderboardEntry(entry_name, value, str(order), str(split)))
    extra = data.get("extra_data", {})
    if not isinstance(extra, dict):
        problem("extra_data", "must be an object")
        extra = {}
    if problems:
        raise ResultsError(problems)
    return Results(score=float(score or 0.0), max_score=float(max_score or 0.0),
                   tests=tuple(tests), output=text(data.get("output"), "output"),
                   visibility=top_visibility, stdout_visibility=stdout_visibility,
                   execution_time=execution_time, leaderboard=tuple(leaderboard),
                   extra_data=extra)


def learner_view(results: Results, *, due_date_passed: bool = False,
                 published: bool = False) -> dict[str, Any]:
    """What a learner sees: visible tests in full; the others as their score only.

    ``after_due_date`` tests show in full once the due date has passed, ``after_published``
    ones once grades are published; private leaderboard values only once published.
    """
    def shown(visibility: str) -> bool:
        return (visibility == "visible" or (visibility == "after_due_date" and due_date_passed)
                or (visibility == "after_published" and published))

    tests = []
    for index, test in enumerate(results.tests, start=1):
        if shown(test.visibility):
            tests.append({"name": test.name, "number": test.number, "score": test.score,
                          "max_score": test.max_score, "status": test.status,
                          "output": test.output, "hidden": False})
        else:
            tests.append({"number": test.number or str(index), "score": test.score,
                          "max_score": test.max_score, "hidden": True})
    return {
        "score": results.score, "max_score": results.max_score, "output": results.output,
        "tests": tests,
        "leaderboard": [{"name": e.name, "value": e.value, "order": e.order, "split": e.split}
                        for e in results.leaderboard if e.split == "public" or published],
    }
