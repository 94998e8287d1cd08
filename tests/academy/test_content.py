"""The shipped lesson content loads, is complete in both languages, and the loader's checks bite."""

from __future__ import annotations

import ast
import dataclasses
import re
from pathlib import Path

import pytest

from oneteam.academy.content import (
    CONTENT_ROOT,
    ContentError,
    LessonSpec,
    ProgramSpec,
    asset_path,
    code_blocks,
    load_program,
    load_programs,
)

HANGUL = re.compile(r"[\uac00-\ud7a3]")
FENCE = re.compile(r"^(`{3,}).*?^\1\s*$", re.S | re.M)


@pytest.fixture(scope="module")
def programs() -> list[ProgramSpec]:
    return load_programs()


def all_lessons(programs: list[ProgramSpec]) -> list[tuple[ProgramSpec, LessonSpec]]:
    return [(program, lesson) for program in programs for lesson in program.lessons()]


def prose(markdown: str) -> str:
    return FENCE.sub("", markdown)


# --------------------------------------------------------------------------- shipped content


def test_both_programs_load_with_their_structure(programs: list[ProgramSpec]) -> None:
    by_slug = {p.slug: p for p in programs}
    assert set(by_slug) == {"ai-developer", "enterprise-ai-data"}
    assert by_slug["ai-developer"].hours == 840
    assert by_slug["ai-developer"].track == "developer"
    assert by_slug["enterprise-ai-data"].track == "enterprise"
    for program in programs:
        assert len(program.courses) >= 3, program.slug
        for course in program.courses:
            assert len(course.modules) >= 2, course.slug
            for module in course.modules:
                assert 2 <= len(module.lessons) <= 3, module.slug
        assert program.minutes == sum(lesson.minutes for lesson in program.lessons())
        assert program.title("ko") == program.title_ko and program.title("en") == program.title_en


def test_every_title_and_summary_exists_in_both_languages(programs: list[ProgramSpec]) -> None:
    for program in programs:
        assert HANGUL.search(program.title_ko) and HANGUL.search(program.summary_ko)
        assert not HANGUL.search(program.title_en + program.summary_en)
        for course in program.courses:
            assert HANGUL.search(course.title_ko) and course.title_en
            assert HANGUL.search(course.summary_ko) and course.summary_en
            for module in course.modules:
                assert HANGUL.search(module.title_ko) and module.title_en
                for lesson in module.lessons:
                    assert HANGUL.search(lesson.title_ko), lesson.slug
                    assert not HANGUL.search(lesson.title_en), lesson.slug


def test_every_lesson_is_substantive_in_both_languages(programs: list[ProgramSpec]) -> None:
    for _, lesson in all_lessons(programs):
        english = prose(lesson.body_en)
        korean = prose(lesson.body_ko)
        assert len(english.split()) >= 300, f"{lesson.file_en}: too short"
        assert len(HANGUL.findall(korean)) >= 700, f"{lesson.file_ko}: too little Korean"
        letters = re.findall(r"[A-Za-z\uac00-\ud7a3]", english)
        assert len(HANGUL.findall(english)) < 0.02 * len(letters), f"{lesson.file_en}: not English"
        assert lesson.body_ko != lesson.body_en


def test_every_lesson_ends_with_exercises_and_key_points(programs: list[ProgramSpec]) -> None:
    for _, lesson in all_lessons(programs):
        assert "## Exercises" in lesson.body_en and "**Key points.**" in lesson.body_en, \
            lesson.file_en
        assert "## 연습 문제" in lesson.body_ko and "**정리.**" in lesson.body_ko, lesson.file_ko


def test_slugs_and_paths_are_unique(programs: list[ProgramSpec]) -> None:
    assert len({p.slug for p in programs}) == len(programs)
    for program in programs:
        lessons = list(program.lessons())
        assert len({lesson.slug for lesson in lessons}) == len(lessons)
        assert len({lesson.path for lesson in lessons}) == len(lessons)
        assert len({c.slug for c in program.courses}) == len(program.courses)
        for course in program.courses:
            assert len({m.slug for m in course.modules}) == len(course.modules)


def test_images_exist_have_alt_text_and_match_the_language(programs: list[ProgramSpec]) -> None:
    image_ref = re.compile(r"!\[([^\]]*)\]\(([^)\s]+)\)")
    used = 0
    for program, lesson in all_lessons(programs):
        for image in lesson.images:
            assert image.is_file()
            assert image.is_relative_to(program.directory)
        for language in ("ko", "en"):
            for alt, src in image_ref.findall(prose(lesson.body(language))):
                used += 1
                assert alt.strip(), f"{lesson.path}.{language}.md: image {src} without alt text"
                other = "en" if language == "ko" else "ko"
                assert f".{other}." not in src, f"{lesson.path}.{language}.md uses {src}"
    assert used >= 20


def test_shipped_files_are_all_referenced() -> None:
    """The loader rejects orphans; double-check that every SVG is in some lesson's images."""
    referenced = {image for _, lesson in all_lessons(load_programs()) for image in lesson.images}
    shipped = set(CONTENT_ROOT.rglob("*.svg"))
    assert shipped == referenced
    assert len(shipped) >= 20


def test_specs_are_frozen(programs: list[ProgramSpec]) -> None:
    lesson = next(programs[0].lessons())
    with pytest.raises(dataclasses.FrozenInstanceError):
        lesson.slug = "changed"  # type: ignore[misc]


def test_the_loader_is_pure_python_without_django() -> None:
    source = (CONTENT_ROOT / "__init__.py").read_text(encoding="utf-8")
    imported = set()
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            imported.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            imported.add(node.module.split(".")[0])
            if node.module.startswith("oneteam."):  # only the talent taxonomy: pure Python
                assert node.module in ("oneteam.talent.taxonomy", "oneteam.talent.errors")
    assert "django" not in imported
    assert imported <= {"__future__", "functools", "re", "tomllib", "xml", "collections",
                        "dataclasses", "pathlib", "typing", "urllib", "markdown_it", "oneteam"}


def test_asset_path_serves_only_images_inside_the_content() -> None:
    image = asset_path("ai-developer/machine-learning/supervised-learning/kfold.en.svg")
    assert image.is_file() and image.suffix == ".svg"
    for bad in ["../pyproject.toml", "/etc/passwd", "ai-developer/program.toml",
                "ai-developer/../../rendering.py", "ai-developer/missing.svg", "",
                "ai-developer\\machine-learning\\x.svg"]:
        with pytest.raises(ContentError):
            asset_path(bad)


# --------------------------------------------------------------------------- loader checks

MANIFEST = """
slug = "demo"
title_ko = "데모 과정"
title_en = "Demo program"
summary_ko = "요약"
summary_en = "Summary"
track = "developer"
hours = 10

[[courses]]
slug = "course-a"
title_ko = "과정 A"
title_en = "Course A"

[[courses.modules]]
slug = "module-a"
title_ko = "모듈 A"
title_en = "Module A"

[[courses.modules.lessons]]
slug = "first"
title_ko = "첫 수업"
title_en = "First lesson"
minutes = 30
path = "course-a/first"

[[courses.modules.lessons]]
slug = "second"
title_ko = "둘째 수업"
title_en = "Second lesson"
minutes = 20
path = "course-a/second"
"""

SVG = ('<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 10 10"><title>x</title>'
       '<rect width="10" height="10" fill="url(#g)"/></svg>')


def make_program(root: Path, manifest: str = MANIFEST, files: dict[str, str] | None = None,
                 ) -> Path:
    folder = root / "demo"
    (folder / "course-a").mkdir(parents=True)
    (folder / "program.toml").write_text(manifest, encoding="utf-8")
    default = {
        "course-a/first.ko.md": "## 개요\n\n본문입니다.\n\n![그림](diagram.svg)\n",
        "course-a/first.en.md": "## Overview\n\nBody text.\n\n![Diagram](diagram.svg)\n",
        "course-a/second.ko.md": "## 둘째\n\n내용.\n",
        "course-a/second.en.md": "## Second\n\nContent.\n",
        "course-a/diagram.svg": SVG,
    }
    default.update(files or {})
    for name, text in default.items():
        if text is None:
            continue
        (folder / name).write_text(text, encoding="utf-8")
    return folder


def load_error(root: Path) -> ContentError:
    with pytest.raises(ContentError) as info:
        load_programs(root)
    return info.value


def test_a_valid_program_loads(tmp_path: Path) -> None:
    make_program(tmp_path)
    [program] = load_programs(tmp_path)
    assert [lesson.slug for lesson in program.lessons()] == ["first", "second"]
    first = next(program.lessons())
    assert first.images == (tmp_path.resolve() / "demo/course-a/diagram.svg",)
    assert first.body("en").startswith("## Overview")
    assert first.directory == tmp_path.resolve() / "demo/course-a"
    assert program.minutes == 50
    assert load_program(tmp_path / "demo") == program


@pytest.mark.parametrize(("edit", "where", "message"), [
    (lambda m: m.replace('title_en = "Second lesson"\n', ""),
     "courses[0].modules[0].lessons[1].title_en", "missing translation"),
    (lambda m: m.replace('slug = "second"', 'slug = "first"'),
     "courses[0].modules[0].lessons[1].slug", "duplicate slug 'first'"),
    (lambda m: m.replace('path = "course-a/second"', 'path = "course-a/first"'),
     "courses[0].modules[0].lessons[1].path", "duplicate path"),
    (lambda m: m.replace("minutes = 20", "minutes = 0"),
     "courses[0].modules[0].lessons[1].minutes", "whole number"),
    (lambda m: m.replace("minutes = 20", 'minutes = "20"'),
     "courses[0].modules[0].lessons[1].minutes", "whole number"),
    (lambda m: m.replace('slug = "course-a"', 'slug = "Course A"'),
     "courses[0].slug", "not a slug"),
    (lambda m: m.replace('slug = "demo"', 'slug = "other"'), "slug", "folder's name"),
    (lambda m: m.replace("hours = 10", "hours = 10\ncolour = 'blue'"), "colour", "unknown field"),
    (lambda m: m.replace('title_ko = "과정 A"', 'title_ko = "과정 A"\nsummary_ko = "요약"'),
     "courses[0].summary_en", "missing translation"),
    (lambda m: m.replace('path = "course-a/second"', 'path = "../second"'),
     "courses[0].modules[0].lessons[1].path", "relative path"),
    (lambda m: m.replace('title_en = "Demo program"', 'title_en = "  "'),
     "title_en", "missing translation"),
    (lambda m: m.split("[[courses]]")[0], "courses", "missing"),
    (lambda m: m.split("[[courses]]")[0] + "courses = []\n", "courses", "non-empty array"),
])
def test_manifest_errors_name_file_and_field(tmp_path: Path, edit, where: str,
                                             message: str) -> None:
    make_program(tmp_path, manifest=edit(MANIFEST))
    error = load_error(tmp_path)
    assert error.path.endswith("program.toml")
    assert error.field == where
    assert message in error.message
    assert "program.toml" in str(error) and where in str(error)


def test_duplicate_course_and_module_slugs(tmp_path: Path) -> None:
    doubled = MANIFEST.replace("[[courses]]", "[[courses]]\n" + (
        'slug = "course-a"\ntitle_ko = "가"\ntitle_en = "A"\n[[courses.modules]]\n'
        'slug = "m"\ntitle_ko = "가"\ntitle_en = "A"\n[[courses.modules.lessons]]\n'
        'slug = "zero"\ntitle_ko = "가"\ntitle_en = "A"\nminutes = 5\npath = "course-a/zero"\n'
        "\n[[courses]]"), 1)
    make_program(tmp_path, manifest=doubled, files={"course-a/zero.ko.md": "가나다\n",
                                                     "course-a/zero.en.md": "abc\n"})
    error = load_error(tmp_path)
    assert error.field == "courses[1].slug" and "duplicate slug 'course-a'" in error.message


def test_invalid_toml(tmp_path: Path) -> None:
    make_program(tmp_path, manifest=MANIFEST.replace('hours = 10', 'hours = '))
    error = load_error(tmp_path)
    assert error.path.endswith("program.toml") and "not valid TOML" in error.message


@pytest.mark.parametrize(("files", "file_name", "message"), [
    ({"course-a/second.en.md": None}, "second.en.md", "missing translation (en)"),
    ({"course-a/second.ko.md": "  \n"}, "second.ko.md", "missing translation (ko)"),
    ({"course-a/second.en.md": "# Title\n\ntext\n"}, "second.en.md", "below its title"),
    ({"course-a/first.en.md": "## A\n\n![x](missing.svg)\n"}, "first.en.md", "does not exist"),
    ({"course-a/first.en.md": "## A\n\n![x](https://example.com/x.png)\n"}, "first.en.md",
     "relative path"),
    ({"course-a/first.en.md": "## A\n\n![x](../../outside.svg)\n"}, "first.en.md",
     "outside the program"),
    ({"course-a/first.en.md": "## A\n\n![x](notes.txt)\n"}, "first.en.md", "not one of"),
    ({"course-a/third.en.md": "## Orphan\n"}, "third.en.md", "not listed in program.toml"),
    ({"course-a/unused.svg": SVG}, "unused.svg", "referenced by no lesson"),
    ({"course-a/diagram.svg": SVG.replace("<title>x</title>", "<script>alert(1)</script>")},
     "diagram.svg", "not allowed"),
    ({"course-a/diagram.svg": SVG.replace("<rect ", '<rect onclick="alert(1)" ')},
     "diagram.svg", "event handlers"),
    ({"course-a/diagram.svg": SVG.replace("<rect ", '<image href="https://x.example/a"/><rect ')},
     "diagram.svg", "in-document"),
    ({"course-a/diagram.svg": SVG.replace('fill="url(#g)"', 'fill="url(https://x.example/p)"')},
     "diagram.svg", "url(#id)"),
    ({"course-a/diagram.svg": "<svg><rect></svg>"}, "diagram.svg", "not well-formed"),
])
def test_lesson_file_errors_name_the_file(tmp_path: Path, files: dict[str, str | None],
                                          file_name: str, message: str) -> None:
    (tmp_path / "outside.svg").write_text(SVG, encoding="utf-8")
    make_program(tmp_path, files=files)  # type: ignore[arg-type]
    error = load_error(tmp_path)
    assert error.path.endswith(file_name), str(error)
    assert message in str(error)


def test_a_folder_with_lessons_needs_a_manifest(tmp_path: Path) -> None:
    make_program(tmp_path)
    stray = tmp_path / "draft"
    stray.mkdir()
    (stray / "idea.en.md").write_text("## Idea\n", encoding="utf-8")
    error = load_error(tmp_path)
    assert error.path.endswith("draft/program.toml") and "missing" in error.message


def test_code_blocks_report_their_lines() -> None:
    text = "intro\n\n```python\nx = 1\n```\n\n~~~sql\nselect 1\n~~~\n"
    blocks = code_blocks(text)
    assert [(b.lang, b.line, b.code) for b in blocks] == [("python", 3, "x = 1\n"),
                                                         ("sql", 7, "select 1\n")]
