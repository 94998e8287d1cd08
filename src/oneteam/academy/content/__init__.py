"""The academy's lesson content: programs written as Markdown files in Korean and English.

Each program is a folder under this package with a ``program.toml`` manifest that lists
its courses, their modules and the modules' lessons in order. A lesson is two Markdown
files, ``<path>.ko.md`` and ``<path>.en.md``, plus any images they reference by a
relative path. ``README.md`` beside this file describes the format for authors.

:func:`load_programs` reads and validates every manifest and returns frozen specs; any
problem raises :class:`ContentError` naming the file and the field. Pure Python: the
Django app imports this module, never the other way round.
"""

from __future__ import annotations

import functools
import re
import tomllib
import xml.etree.ElementTree as ET
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import Any, Literal
from urllib.parse import unquote, urlsplit

from markdown_it import MarkdownIt
from markdown_it.token import Token

__all__ = [
    "CONTENT_ROOT",
    "IMAGE_SUFFIXES",
    "LANGUAGES",
    "CodeBlock",
    "ContentError",
    "CourseSpec",
    "Language",
    "LessonSpec",
    "ModuleSpec",
    "ProgramSpec",
    "asset_path",
    "code_blocks",
    "load_program",
    "load_programs",
]

CONTENT_ROOT = Path(__file__).resolve().parent
MANIFEST = "program.toml"
Language = Literal["ko", "en"]
LANGUAGES: tuple[Language, ...] = ("ko", "en")
IMAGE_SUFFIXES = frozenset({".svg", ".png", ".jpg", ".jpeg", ".webp", ".gif"})

_SLUG = re.compile(r"[a-z0-9]+(?:-[a-z0-9]+)*")
_PATH_PART = re.compile(r"[a-z0-9][a-z0-9._-]*")
_MAX_MINUTES = 24 * 60
_MAX_HOURS = 10_000


class ContentError(ValueError):
    """A manifest or lesson file is wrong. ``path`` and ``field`` say where."""

    def __init__(self, path: Path | str, field: str, message: str) -> None:
        self.path = str(path)
        self.field = field
        self.message = message
        where = f"{self.path}: {field}" if field else self.path
        super().__init__(f"{where}: {message}")


# --------------------------------------------------------------------------- specs


@dataclass(frozen=True)
class LessonSpec:
    slug: str
    title_ko: str
    title_en: str
    minutes: int
    path: str
    """The lesson's stem relative to its program folder, e.g. ``python-data/basics/values``."""
    file_ko: Path
    file_en: Path
    body_ko: str
    body_en: str
    images: tuple[Path, ...] = ()
    """Absolute paths of every image either language references, in order of appearance."""

    @property
    def directory(self) -> Path:
        """The folder holding the lesson's files; image references are relative to it."""
        return self.file_ko.parent

    def title(self, language: str) -> str:
        return self.title_en if language == "en" else self.title_ko

    def body(self, language: str) -> str:
        return self.body_en if language == "en" else self.body_ko


@dataclass(frozen=True)
class ModuleSpec:
    slug: str
    title_ko: str
    title_en: str
    lessons: tuple[LessonSpec, ...]

    @property
    def minutes(self) -> int:
        return sum(lesson.minutes for lesson in self.lessons)

    def title(self, language: str) -> str:
        return self.title_en if language == "en" else self.title_ko


@dataclass(frozen=True)
class CourseSpec:
    slug: str
    title_ko: str
    title_en: str
    modules: tuple[ModuleSpec, ...]
    summary_ko: str = ""
    summary_en: str = ""
    # [{"code": skill id of the talent taxonomy, "level": 1-5}]: what completing it shows
    skills: tuple[dict[str, Any], ...] = ()

    @property
    def minutes(self) -> int:
        return sum(module.minutes for module in self.modules)

    def lessons(self) -> Iterator[LessonSpec]:
        for module in self.modules:
            yield from module.lessons

    def title(self, language: str) -> str:
        return self.title_en if language == "en" else self.title_ko

    def summary(self, language: str) -> str:
        return self.summary_en if language == "en" else self.summary_ko


@dataclass(frozen=True)
class ProgramSpec:
    slug: str
    title_ko: str
    title_en: str
    summary_ko: str
    summary_en: str
    track: str
    hours: int
    """Planned hours of the whole program, self-study and projects included."""
    courses: tuple[CourseSpec, ...]
    directory: Path = field(compare=False)

    @property
    def manifest(self) -> Path:
        return self.directory / MANIFEST

    @property
    def minutes(self) -> int:
        """Estimated reading-and-exercise minutes of the lessons themselves."""
        return sum(course.minutes for course in self.courses)

    def lessons(self) -> Iterator[LessonSpec]:
        for course in self.courses:
            yield from course.lessons()

    def title(self, language: str) -> str:
        return self.title_en if language == "en" else self.title_ko

    def summary(self, language: str) -> str:
        return self.summary_en if language == "en" else self.summary_ko


@dataclass(frozen=True)
class CodeBlock:
    """A fenced code block of a lesson: ```` ```python no-run ```` gives lang and flags."""

    lang: str
    flags: frozenset[str]
    code: str
    line: int
    """1-based line of the opening fence in the Markdown file."""

    @property
    def runnable(self) -> bool:
        """Python that the content checks execute: not flagged ``no-run`` either way."""
        if self.lang not in {"python", "py", "python3"} or "no-run" in self.flags:
            return False
        first = self.code.lstrip().split("\n", 1)[0].strip()
        return first.replace(" ", "") != "#no-run"


# --------------------------------------------------------------------------- loading


def load_programs(root: Path | str | None = None) -> list[ProgramSpec]:
    """Read and validate every program under ``root`` (this package's folder by default).

    A program is a sub-folder holding ``program.toml``; the folder's name is its slug.
    Programs come back sorted by folder name.
    """
    base = Path(root) if root is not None else CONTENT_ROOT
    if not base.is_dir():
        raise ContentError(base, "", "content folder does not exist")
    programs: list[ProgramSpec] = []
    for child in sorted(base.iterdir()):
        if not child.is_dir() or child.name.startswith((".", "_")):
            continue
        if not (child / MANIFEST).is_file():
            if any(child.rglob("*.md")):
                raise ContentError(child / MANIFEST, "", "missing: a folder with lessons "
                                   "needs a program manifest")
            continue
        programs.append(load_program(child))
    return programs


def load_program(directory: Path | str) -> ProgramSpec:
    """Read and validate the one program in ``directory``."""
    folder = Path(directory).resolve()
    manifest = folder / MANIFEST
    try:
        raw = tomllib.loads(manifest.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ContentError(manifest, "", "missing file") from None
    except UnicodeDecodeError as exc:
        raise ContentError(manifest, "", f"not UTF-8 text ({exc.reason})") from None
    except tomllib.TOMLDecodeError as exc:
        raise ContentError(manifest, "", f"not valid TOML: {exc}") from None
    return _Reader(folder, manifest).program(raw)


def asset_path(relative: str, root: Path | str | None = None) -> Path:
    """The image file at ``relative`` (POSIX, under the content root), for serving it.

    Raises :class:`ContentError` for anything that is not an existing image inside the
    content root: traversal with ``..``, absolute paths, other file types.
    """
    base = (Path(root) if root is not None else CONTENT_ROOT).resolve()
    pure = PurePosixPath(relative)
    if pure.is_absolute() or not relative or ".." in pure.parts or "\\" in relative:
        raise ContentError(relative, "", "not a relative path inside the content")
    if pure.suffix.lower() not in IMAGE_SUFFIXES:
        raise ContentError(relative, "", "not an image")
    candidate = (base / pure).resolve()
    if not candidate.is_relative_to(base) or not candidate.is_file():
        raise ContentError(relative, "", "no such image")
    return candidate


def code_blocks(markdown: str) -> list[CodeBlock]:
    """Every fenced code block in ``markdown``, in order."""
    blocks: list[CodeBlock] = []
    for token in _parser().parse(markdown):
        if token.type != "fence":
            continue
        words = token.info.strip().split()
        lang = words[0].lower() if words else ""
        line = token.map[0] + 1 if token.map else 0
        blocks.append(CodeBlock(lang, frozenset(w.lower() for w in words[1:]), token.content,
                                line))
    return blocks


# --------------------------------------------------------------------------- validation

_PROGRAM_KEYS = {"slug", "title_ko", "title_en", "summary_ko", "summary_en", "track", "hours",
                 "courses"}
_COURSE_KEYS = {"slug", "title_ko", "title_en", "summary_ko", "summary_en", "modules",
                "skills"}
_MODULE_KEYS = {"slug", "title_ko", "title_en", "lessons"}
_LESSON_KEYS = {"slug", "title_ko", "title_en", "minutes", "path"}


class _Reader:
    def __init__(self, folder: Path, manifest: Path) -> None:
        self.folder = folder
        self.manifest = manifest
        self.used_files: set[Path] = {manifest}

    def fail(self, where: str, message: str) -> ContentError:
        return ContentError(self.manifest, where, message)

    # -- program tree

    def program(self, raw: Mapping[str, Any]) -> ProgramSpec:
        self.keys(raw, "", _PROGRAM_KEYS, required=_PROGRAM_KEYS)
        slug = self.slug(raw, "")
        if slug != self.folder.name:
            raise self.fail("slug", f"{slug!r} must equal the folder's name "
                            f"{self.folder.name!r}")
        hours = self.integer(raw, "", "hours", 1, _MAX_HOURS)
        courses_raw = self.table_list(raw, "", "courses")
        courses: list[CourseSpec] = []
        seen_courses: set[str] = set()
        seen_lessons: dict[str, str] = {}
        seen_paths: dict[str, str] = {}
        for i, course_raw in enumerate(courses_raw):
            course = self.course(course_raw, f"courses[{i}]", seen_lessons, seen_paths)
            if course.slug in seen_courses:
                raise self.fail(f"courses[{i}].slug", f"duplicate slug {course.slug!r}")
            seen_courses.add(course.slug)
            courses.append(course)
        self.check_orphans()
        return ProgramSpec(
            slug=slug,
            title_ko=self.text(raw, "", "title_ko"),
            title_en=self.text(raw, "", "title_en"),
            summary_ko=self.text(raw, "", "summary_ko"),
            summary_en=self.text(raw, "", "summary_en"),
            track=self.slug(raw, "", "track"),
            hours=hours,
            courses=tuple(courses),
            directory=self.folder,
        )

    def course(self, raw: Mapping[str, Any], where: str, seen_lessons: dict[str, str],
               seen_paths: dict[str, str]) -> CourseSpec:
        self.keys(raw, where, _COURSE_KEYS,
                  required=_COURSE_KEYS - {"summary_ko", "summary_en", "skills"})
        if ("summary_ko" in raw) != ("summary_en" in raw):
            missing = "summary_en" if "summary_ko" in raw else "summary_ko"
            raise self.fail(f"{where}.{missing}", "missing translation")
        modules: list[ModuleSpec] = []
        seen_modules: set[str] = set()
        for j, module_raw in enumerate(self.table_list(raw, where, "modules")):
            module = self.module(module_raw, f"{where}.modules[{j}]", seen_lessons, seen_paths)
            if module.slug in seen_modules:
                raise self.fail(f"{where}.modules[{j}].slug", f"duplicate slug {module.slug!r}")
            seen_modules.add(module.slug)
            modules.append(module)
        return CourseSpec(
            slug=self.slug(raw, where),
            title_ko=self.text(raw, where, "title_ko"),
            title_en=self.text(raw, where, "title_en"),
            summary_ko=self.text(raw, where, "summary_ko") if "summary_ko" in raw else "",
            summary_en=self.text(raw, where, "summary_en") if "summary_en" in raw else "",
            modules=tuple(modules),
            skills=tuple(self.skills(raw, where)),
        )

    def skills(self, raw: Mapping[str, Any], where: str) -> list[dict[str, Any]]:
        """A course's ``skills``: codes of the talent taxonomy with a level each."""
        from oneteam.talent.errors import TalentInputError
        from oneteam.talent.taxonomy import default_taxonomy

        try:
            return default_taxonomy().skill_levels(raw.get("skills", []),
                                                   field=f"{where}.skills")
        except TalentInputError as error:
            raise self.fail(error.field, error.message) from None

    def module(self, raw: Mapping[str, Any], where: str, seen_lessons: dict[str, str],
               seen_paths: dict[str, str]) -> ModuleSpec:
        self.keys(raw, where, _MODULE_KEYS, required=_MODULE_KEYS)
        lessons: list[LessonSpec] = []
        for k, lesson_raw in enumerate(self.table_list(raw, where, "lessons")):
            lesson_where = f"{where}.lessons[{k}]"
            lesson = self.lesson(lesson_raw, lesson_where)
            if lesson.slug in seen_lessons:
                raise self.fail(f"{lesson_where}.slug", f"duplicate slug {lesson.slug!r} "
                                f"(also at {seen_lessons[lesson.slug]})")
            if lesson.path in seen_paths:
                raise self.fail(f"{lesson_where}.path", f"duplicate path {lesson.path!r} "
                                f"(also at {seen_paths[lesson.path]})")
            seen_lessons[lesson.slug] = lesson_where
            seen_paths[lesson.path] = lesson_where
            lessons.append(lesson)
        return ModuleSpec(
            slug=self.slug(raw, where),
            title_ko=self.text(raw, where, "title_ko"),
            title_en=self.text(raw, where, "title_en"),
            lessons=tuple(lessons),
        )

    def lesson(self, raw: Mapping[str, Any], where: str) -> LessonSpec:
        self.keys(raw, where, _LESSON_KEYS, required=_LESSON_KEYS)
        slug = self.slug(raw, where)
        minutes = self.integer(raw, where, "minutes", 1, _MAX_MINUTES)
        stem = self.lesson_path(raw, where)
        files: dict[str, Path] = {}
        bodies: dict[str, str] = {}
        images: list[Path] = []
        for language in LANGUAGES:
            file = self.folder / f"{stem}.{language}.md"
            if not file.is_file():
                raise ContentError(file, "", f"missing translation ({language}) of lesson "
                                   f"{slug!r} listed in {self.manifest.name} at {where}")
            try:
                body = file.read_text(encoding="utf-8")
            except UnicodeDecodeError as exc:
                raise ContentError(file, "", f"not UTF-8 text ({exc.reason})") from None
            if not body.strip():
                raise ContentError(file, "", f"empty: missing translation ({language})")
            for image in self.lesson_images(file, body):
                if image not in images:
                    images.append(image)
            files[language] = file
            bodies[language] = body
            self.used_files.add(file)
        self.used_files.update(images)
        return LessonSpec(
            slug=slug,
            title_ko=self.text(raw, where, "title_ko"),
            title_en=self.text(raw, where, "title_en"),
            minutes=minutes,
            path=stem,
            file_ko=files["ko"],
            file_en=files["en"],
            body_ko=bodies["ko"],
            body_en=bodies["en"],
            images=tuple(images),
        )

    # -- lesson files

    def lesson_images(self, file: Path, body: str) -> list[Path]:
        found: list[Path] = []
        for token in _parser().parse(body):
            if token.type == "heading_open" and token.tag == "h1":
                line = token.map[0] + 1 if token.map else 0
                raise ContentError(file, f"line {line}", "a lesson starts below its title: "
                                   "use '##' and deeper (the title comes from the manifest)")
            for child in _inline_children(token):
                if child.type != "image":
                    continue
                src = str(child.attrs.get("src", ""))
                line = token.map[0] + 1 if token.map else 0
                found.append(self.image(file, f"line {line}", src))
        return found

    def image(self, file: Path, where: str, src: str) -> Path:
        parts = urlsplit(src)
        if parts.scheme or parts.netloc or src.startswith("/") or not parts.path:
            raise ContentError(file, where, f"image {src!r} must be a relative path to a file "
                               "shipped with the lesson")
        relative = PurePosixPath(unquote(parts.path))
        if relative.suffix.lower() not in IMAGE_SUFFIXES:
            raise ContentError(file, where, f"image {src!r} is not one of "
                               f"{', '.join(sorted(IMAGE_SUFFIXES))}")
        target = (file.parent / relative).resolve()
        if not target.is_relative_to(self.folder):
            raise ContentError(file, where, f"image {src!r} is outside the program's folder")
        if not target.is_file():
            raise ContentError(file, where, f"image {src!r} does not exist")
        if target.suffix.lower() == ".svg":
            _check_svg(target)
        return target

    # -- orphans

    def check_orphans(self) -> None:
        for path in sorted(self.folder.rglob("*")):
            if not path.is_file() or any(p.startswith(".") or p == "__pycache__"
                                         for p in path.relative_to(self.folder).parts):
                continue
            if path.resolve() in self.used_files:
                continue
            if path.suffix == ".md":
                raise ContentError(path, "", f"not listed in {self.manifest.name}: add the "
                                   "lesson to the manifest or remove the file")
            if path.suffix.lower() in IMAGE_SUFFIXES:
                raise ContentError(path, "", "image referenced by no lesson")

    # -- fields

    def keys(self, raw: Mapping[str, Any], where: str, allowed: set[str],
             required: set[str]) -> None:
        for key in sorted(required - raw.keys()):
            field_name = f"{where}.{key}" if where else key
            message = "missing translation" if key.endswith(("_ko", "_en")) else "missing"
            raise self.fail(field_name, message)
        for key in sorted(raw.keys() - allowed):
            field_name = f"{where}.{key}" if where else key
            raise self.fail(field_name, f"unknown field (expected one of "
                            f"{', '.join(sorted(allowed))})")

    def text(self, raw: Mapping[str, Any], where: str, key: str) -> str:
        value = raw.get(key)
        name = f"{where}.{key}" if where else key
        if not isinstance(value, str):
            raise self.fail(name, "must be a string")
        value = value.strip()
        if not value:
            raise self.fail(name, "missing translation" if key.endswith(("_ko", "_en"))
                            else "must not be empty")
        return value

    def slug(self, raw: Mapping[str, Any], where: str, key: str = "slug") -> str:
        value = raw.get(key)
        name = f"{where}.{key}" if where else key
        if not isinstance(value, str) or not _SLUG.fullmatch(value):
            raise self.fail(name, f"{value!r} is not a slug (lowercase letters, digits and "
                            "single hyphens)")
        return value

    def integer(self, raw: Mapping[str, Any], where: str, key: str, low: int,
                high: int) -> int:
        value = raw.get(key)
        name = f"{where}.{key}" if where else key
        if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
            raise self.fail(name, f"{value!r} must be a whole number from {low} to {high}")
        return value

    def table_list(self, raw: Mapping[str, Any], where: str, key: str) -> list[Mapping[str, Any]]:
        value = raw.get(key)
        name = f"{where}.{key}" if where else key
        if not isinstance(value, list) or not value:
            raise self.fail(name, "must be a non-empty array of tables")
        for i, item in enumerate(value):
            if not isinstance(item, dict):
                raise self.fail(f"{name}[{i}]", "must be a table")
        return value

    def lesson_path(self, raw: Mapping[str, Any], where: str) -> str:
        value = raw.get("path")
        name = f"{where}.path"
        if not isinstance(value, str) or not value:
            raise self.fail(name, "must be a string")
        pure = PurePosixPath(value)
        if (pure.is_absolute() or value.endswith(("/", ".md")) or "\\" in value
                or not all(_PATH_PART.fullmatch(p) and p not in {".", ".."} for p in pure.parts)):
            raise self.fail(name, f"{value!r} must be a relative path without '..' or suffix, "
                            "e.g. 'course/module/lesson' (the files are "
                            "<path>.ko.md and <path>.en.md)")
        return pure.as_posix()


# --------------------------------------------------------------------------- helpers

_SVG_FORBIDDEN = {"script", "foreignobject", "iframe", "object", "embed", "handler", "listener"}


def _check_svg(path: Path) -> None:
    """Reject SVG that could run script or fetch anything when opened on its own."""
    try:
        tree = ET.parse(path)
    except ET.ParseError as exc:
        raise ContentError(path, "", f"not well-formed SVG: {exc}") from None
    for element in tree.iter():
        tag = element.tag.rsplit("}", 1)[-1].lower()
        if tag in _SVG_FORBIDDEN:
            raise ContentError(path, f"<{tag}>", "not allowed in shipped SVG")
        for name, value in element.attrib.items():
            local = name.rsplit("}", 1)[-1].lower()
            if local.startswith("on"):
                raise ContentError(path, f"<{tag} {local}>", "event handlers are not allowed")
            if local == "href" and not value.startswith("#"):
                raise ContentError(path, f"<{tag} {local}>", "only in-document references "
                                   "('#id') are allowed")
            if "url(" in value and "url(#" not in value.replace(" ", ""):
                raise ContentError(path, f"<{tag} {local}>", "only in-document url(#id) "
                                   "references are allowed")
        if tag == "style" and element.text and ("@import" in element.text
                                                or "url(" in element.text):
            raise ContentError(path, "<style>", "no @import or url() in shipped SVG")


def _inline_children(token: Token) -> list[Token]:
    return list(token.children or []) if token.type == "inline" else []


@functools.cache
def _parser() -> MarkdownIt:
    return MarkdownIt("commonmark").enable("table")
