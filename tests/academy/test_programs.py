"""Programs from the shipped content: import, update, editing, rendered HTML and its cache."""

from __future__ import annotations

import pytest
from django.core.cache import cache

from oneteam.academy import actions
from oneteam.academy.content import load_programs
from oneteam.academy.lesson_html import lesson_html, render_lesson, rendering_key
from oneteam.academy.models import Course, Lesson, LessonProgress, LessonRendering, Module, Program
from oneteam.platform.errors import AccessDenied, InputError
from tests.factories import make_organization, make_person
from tests.factories.academy import (
    complete,
    lessons_of,
    make_instructor,
    make_program,
    shipped_program,
    write_program,
)

pytestmark = pytest.mark.django_db


def test_the_shipped_programs_import_whole_and_in_order() -> None:
    owner = make_organization(slug="kaist")
    for spec in load_programs():
        program = actions.do_import_program(actor=None, spec=spec, owner=owner)
        lessons = lessons_of(program)
        assert [lesson.slug for lesson in lessons] == [s.slug for s in spec.lessons()]
        assert [lesson.ordinal for lesson in lessons] == list(range(len(lessons)))
        assert program.courses.count() == len(spec.courses)
        first = lessons[0]
        assert first.content_path.startswith(f"{spec.slug}/")
        assert first.body_ko.strip() and first.body_en.strip()
        assert len(first.content_digest) == 64
    assert Program.objects.count() == 2


def test_importing_again_updates_and_keeps_progress() -> None:
    program = shipped_program()
    learner = make_person()
    complete(learner, program, 2)
    lesson_ids = [lesson.pk for lesson in lessons_of(program)]
    spec = next(s for s in load_programs() if s.slug == "ai-developer")
    again = actions.do_import_program(actor=None, spec=spec, owner=program.owner)
    assert again.pk == program.pk
    assert [lesson.pk for lesson in lessons_of(again)] == lesson_ids
    assert LessonProgress.objects.filter(person=learner, completed__isnull=False).count() == 2


def test_a_lesson_removed_from_the_content_goes_unless_someone_studied_it(tmp_path) -> None:
    from oneteam.academy.content import load_program

    program = make_program(slug="shrinking", courses=1, modules=1, lessons=3)
    folder = write_program("shrinking-v2", courses=1, modules=1, lessons=2)
    spec = load_program(folder)
    # Same program slug, fewer lessons: rename the spec's slug to the program's.
    import dataclasses

    spec = dataclasses.replace(spec, slug="shrinking")
    learner = make_person()
    last = lessons_of(program)[-1]
    actions.do_complete_lesson(person=learner, lesson=last)
    # The lesson slugs differ (lesson-1-1-n of "shrinking-v2" are the same names), so
    # only the third is gone; someone completed it: the import refuses, naming it.
    with pytest.raises(InputError) as error:
        actions.do_import_program(actor=None, spec=spec, owner=program.owner)
    assert error.value.field == "lessons" and last.slug in error.value.message
    assert Lesson.objects.filter(program=program).count() == 3
    LessonProgress.objects.filter(lesson=last).delete()
    actions.do_import_program(actor=None, spec=spec, owner=program.owner)
    assert Lesson.objects.filter(program=program).count() == 2
    assert Module.objects.filter(course__program=program).count() == 1
    assert Course.objects.filter(program=program).count() == 1


def test_another_organizations_program_slug_is_refused() -> None:
    program = make_program(slug="taken")
    spec = next(iter(load_programs()))
    import dataclasses

    with pytest.raises(InputError) as error:
        actions.do_import_program(actor=None, spec=dataclasses.replace(spec, slug="taken"),
                                  owner=make_organization())
    assert error.value.field == "slug"
    assert Program.objects.get(slug="taken").owner_id == program.owner_id


def test_rendered_html_is_cached_in_memory_and_in_the_table() -> None:
    program = make_program()
    lesson = lessons_of(program)[0]
    cache.clear()
    first = lesson_html(lesson, "en")
    assert '<pre class="highlight">' in first.html and "Summary" in first.html
    assert [h[2] for h in first.headings] == ["Code", "Summary"]
    assert LessonRendering.objects.filter(key=rendering_key(lesson), language="en").exists()
    cache.clear()
    LessonRendering.objects.update(html="<p>from the table</p>")
    assert lesson_html(lesson, "en").html == "<p>from the table</p>"
    LessonRendering.objects.update(html="<p>changed again</p>")
    assert lesson_html(lesson, "en").html == "<p>from the table</p>"  # memory first
    korean = lesson_html(lesson, "ko")
    assert "정리" in korean.html


def test_editing_a_lesson_changes_its_digest_and_so_its_html() -> None:
    program = make_program()
    editor = make_instructor(program.owner)
    lesson = lessons_of(program)[0]
    before = lesson.content_digest
    lesson_html(lesson, "en")
    actions.do_update_lesson(actor=editor, lesson=lesson, body_en="New text.\n\n## Part two\n")
    lesson.refresh_from_db()
    assert lesson.content_digest != before
    assert "Part two" in lesson_html(lesson, "en").html


@pytest.mark.parametrize(("changes", "field"), [
    ({"title_en": "  "}, "title_en"),
    ({"title_ko": "x" * 201}, "title_ko"),
    ({"body_ko": ""}, "body_ko"),
    ({"body_en": "x" * 200_001}, "body_en"),
    ({"minutes": 0}, "minutes"),
    ({"minutes": 24 * 60 + 1}, "minutes"),
])
def test_bad_lesson_edits_name_the_field(changes: dict[str, object], field: str) -> None:
    program = make_program()
    lesson = lessons_of(program)[0]
    with pytest.raises(InputError) as error:
        actions.do_update_lesson(actor=None, lesson=lesson, **changes)  # type: ignore[arg-type]
    assert error.value.field == field
    lesson.refresh_from_db()
    assert lesson.title_en == "Lesson 1.1.1" and lesson.minutes == 30


def test_only_the_owners_people_edit_lessons() -> None:
    program = make_program()
    lesson = lessons_of(program)[0]
    outsider = make_instructor(make_organization())
    with pytest.raises(AccessDenied):
        actions.do_update_lesson(actor=outsider, lesson=lesson, title_en="Mine now")
    operator = make_person(operator=True)
    actions.do_update_lesson(actor=operator, lesson=lesson, title_en="Fixed by the operator")


def test_shipped_images_resolve_to_the_content_route() -> None:
    program = shipped_program()
    lesson = next(lesson for lesson in lessons_of(program) if lesson.slug == "cross-validation")
    html = render_lesson(lesson, "ko").html
    assert ('src="/academy/content/ai-developer/machine-learning/supervised-learning/'
            'kfold.ko.svg"') in html
    english = render_lesson(lesson, "en").html
    assert "kfold.en.svg" in english
