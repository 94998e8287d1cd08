"""Progress: marking lessons, the arithmetic, tables for instructors and teachers, dashboards."""

from __future__ import annotations

import pytest

from oneteam.academy import actions, queries
from oneteam.academy.models import LessonProgress
from oneteam.academy.progress import Column, build_table, next_lesson_index, percent
from oneteam.platform.errors import AccessDenied
from tests.factories import make_person
from tests.factories.academy import (
    complete,
    enroll,
    lessons_of,
    make_cohort,
    make_program,
    make_school_class,
)

pytestmark = pytest.mark.django_db


def test_percent_rounds_down_and_reaches_100_only_when_done() -> None:
    assert percent(0, 0) == 0
    assert percent(1, 3) == 33
    assert percent(2, 3) == 66
    assert percent(199, 200) == 99
    assert percent(5, 5) == 100
    with pytest.raises(ValueError):
        percent(4, 3)


def test_build_table_counts_only_the_columns_lessons() -> None:
    columns = [Column(1, "A", (10, 11)), Column(2, "B", (12, 13, 14))]
    table = build_table(columns, [(1, "kim"), (2, "lee"), (3, "park")],
                        {1: {10, 11, 12, 99}, 2: {14}})
    assert [row.cells for row in table.rows] == [(100, 33), (0, 33), (0, 0)]
    assert [row.percent for row in table.rows] == [60, 20, 0]
    assert table.lesson_count == 5
    assert table.column_averages == (33, 22)
    assert table.average_percent == 26  # 4 of 15


def test_next_lesson_is_the_first_not_done() -> None:
    assert next_lesson_index([1, 2, 3], {1, 3}) == 1
    assert next_lesson_index([1, 2], {1, 2}) is None
    assert next_lesson_index([], set()) is None


def test_completing_records_the_cohort_and_can_be_taken_back() -> None:
    cohort = make_cohort()
    learner = make_person()
    enroll(learner, cohort)
    lesson = lessons_of(cohort.program)[0]
    started = actions.do_start_lesson(person=learner, lesson=lesson)
    assert started.completed is None and started.cohort == cohort
    done = actions.do_complete_lesson(person=learner, lesson=lesson)
    assert done.pk == started.pk and done.completed is not None
    again = actions.do_complete_lesson(person=learner, lesson=lesson)
    assert again.completed == done.completed  # completing twice keeps the first time
    undone = actions.do_uncomplete_lesson(person=learner, lesson=lesson)
    assert undone is not None and undone.completed is None
    assert LessonProgress.objects.count() == 1


def test_progress_on_a_private_program_needs_a_reader() -> None:
    program = make_program(visibility="organization")
    with pytest.raises(AccessDenied):
        actions.do_complete_lesson(person=make_person(), lesson=lessons_of(program)[0])
    assert not LessonProgress.objects.exists()


def test_the_cohort_table_by_module_and_by_lesson() -> None:
    program = make_program(courses=1, modules=2, lessons=2)
    cohort = make_cohort(program)
    ahead, behind, left = make_person(display_name="Ahead"), make_person(
        display_name="Behind"), make_person(display_name="Left")
    for person in (ahead, behind, left):
        enroll(person, cohort)
    complete(ahead, program, 3)
    complete(behind, program, 1)
    actions.do_withdraw_enrollment(person=left, cohort=cohort)
    table = queries.cohort_progress_table(cohort, "module")
    assert [column.title for column in table.columns] == ["모듈 1.1", "모듈 1.2"]
    assert [(row.subject.person.display_name, row.cells, row.percent)
            for row in table.rows] == [("Ahead", (100, 50), 75), ("Behind", (50, 0), 25)]
    by_lesson = queries.cohort_progress_table(cohort, "lesson")
    assert len(by_lesson.columns) == 4
    assert by_lesson.rows[0].cells == (100, 100, 100, 0)
    assert by_lesson.average_percent == 50


def test_progress_made_before_joining_counts_in_the_cohort() -> None:
    """One record per person and lesson: nothing learned on one's own is lost on joining."""
    program = make_program()
    learner = make_person()
    complete(learner, program, 2)
    cohort = make_cohort(program)
    enroll(learner, cohort)
    assert queries.cohort_progress_table(cohort).rows[0].done == 2


def test_cohort_summaries_for_the_dashboard() -> None:
    program = make_program(courses=1, modules=1, lessons=4)
    cohort = make_cohort(program, mode="approval")
    first, second = make_person(), make_person()
    enroll(first, cohort)
    enroll(second, cohort)
    complete(first, program, 4)
    complete(second, program, 2)
    actions.do_request_enrollment(person=make_person(), cohort=cohort)
    # Progress in another program, by the same person, does not count here.
    complete(first, make_program(), 3)
    [summary] = queries.cohort_summaries([cohort])
    assert (summary.learners, summary.requests, summary.lesson_count, summary.completed) == (
        2, 1, 4, 6)
    assert summary.average_percent == 75


def test_learner_programs_with_the_next_lesson() -> None:
    in_cohort = make_program(slug="alpha")
    on_my_own = make_program(slug="beta", courses=1, modules=1, lessons=2)
    in_class = make_program(slug="gamma")
    learner = make_person()
    enroll(learner, make_cohort(in_cohort))
    complete(learner, in_cohort, 3)
    complete(learner, on_my_own, 2)
    make_school_class(courses=[in_class.courses.first()], students=[learner])
    items = {item.program.slug: item for item in queries.learner_programs(learner)}
    assert set(items) == {"alpha", "beta", "gamma"}
    alpha = items["alpha"]
    assert (alpha.completed_count, alpha.lesson_count, alpha.percent) == (3, 8, 37)
    assert alpha.cohort is not None
    assert alpha.next_lesson is not None and alpha.next_lesson.pk == lessons_of(in_cohort)[3].pk
    assert items["beta"].next_lesson is None and items["beta"].percent == 100
    gamma_next = items["gamma"].next_lesson
    assert gamma_next is not None and gamma_next.slug == lessons_of(in_class)[0].slug
    # Programs with something left to do come first.
    assert [i.program.slug for i in queries.learner_programs(learner)][-1] == "beta"


def test_the_teachers_table_of_students_by_course() -> None:
    program = make_program(courses=2, modules=1, lessons=2)
    first_course, second_course = program.courses.order_by("position")
    keen, new = make_person(display_name="Keen"), make_person(display_name="New")
    school_class = make_school_class(courses=[first_course, second_course],
                                     students=[keen, new])
    complete(keen, program, 3)
    _class, table = queries.access_class_progress_by_id(school_class.teacher, school_class.pk)
    assert [(row.subject.display_name, row.cells) for row in table.rows] == [
        ("Keen", (100, 50)), ("New", (0, 0))]
    [first, second] = queries.course_progress(keen, [first_course, second_course])
    assert first.percent == 100 and first.next_lesson is None
    assert second.next_lesson == lessons_of(program)[3]
