"""The hot pages make a fixed, small number of queries, however much data there is.

The lesson page and the learner dashboard are benchmarked under load (docs/BENCHMARKS.md):
every query counts, and a count that grows with the data (N+1) would sink them.
"""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client

from oneteam.academy import actions
from oneteam.consortium.models import Role
from tests.factories import PASSWORD, make_membership, make_organization, make_person
from tests.factories.academy import (
    complete,
    enroll,
    make_cohort,
    make_program,
    make_school_class,
)

pytestmark = pytest.mark.django_db

# Session and person (2), the lesson with its module, course and program (1), my progress
# on it (1). Its HTML and its neighbours come from memory after the first read.
LESSON_PAGE_QUERIES_MAX = 4
# The academy's panels: my programs (seats, progress, programs: 3, and the programs'
# lessons when they are not in memory: 1), invitations (1), classes (2, with courses).
# The labs' panel finds the learner's labs through their programs and cohorts (1 more
# query naming academy tables). The rest belongs to the platform (session, person, roles)
# and other apps' panels, with some room for them.
LEARNER_DASHBOARD_ACADEMY_QUERIES_MAX = 8
LEARNER_DASHBOARD_QUERIES_MAX = 18


def signed_in_client(person: Any) -> Client:
    client = Client()
    assert client.post("/accounts/sign-in/", {"email": person.email,
                                              "password": PASSWORD}).status_code == 302
    return client


def busy_learner(programs: int, lessons: int) -> tuple[Any, list[Any]]:
    learner = make_person()
    made = []
    for _index in range(programs):
        program = make_program(courses=2, modules=2, lessons=lessons)
        enroll(learner, make_cohort(program))
        complete(learner, program, 3)
        made.append(program)
    make_school_class(courses=[made[0].courses.first()], students=[learner])
    return learner, made


@pytest.mark.parametrize("size", [1, 4])
def test_the_lesson_page(django_assert_max_num_queries: Any, size: int) -> None:
    learner, programs = busy_learner(programs=size, lessons=size)
    client = signed_in_client(learner)
    url = f"/academy/programs/{programs[0].slug}/lessons/lesson-1-2-1/"
    assert client.get(url).status_code == 200  # first visit: starts it, renders it
    with django_assert_max_num_queries(LESSON_PAGE_QUERIES_MAX):
        response = client.get(url)
    assert response.status_code == 200


@pytest.mark.parametrize("size", [1, 4])
def test_the_learner_dashboard(django_assert_max_num_queries: Any, size: int) -> None:
    learner, programs = busy_learner(programs=size, lessons=size)
    make_membership(learner, make_organization(), Role.LEARNER)
    invited_to = make_cohort(programs[-1], mode="invitation")
    actions.do_invite_learners(actor=None, cohort=invited_to, emails=[learner.email])
    client = signed_in_client(learner)
    with django_assert_max_num_queries(LEARNER_DASHBOARD_QUERIES_MAX) as captured:
        response = client.get("/dashboard/")
    assert response.status_code == 200
    academy = [q["sql"] for q in captured.captured_queries if '"academy_' in q["sql"]]
    assert len(academy) <= LEARNER_DASHBOARD_ACADEMY_QUERIES_MAX, academy
    html = response.content.decode()
    assert html.count("data-next-lesson") == size


@pytest.mark.parametrize("size", [1, 4])
def test_the_instructor_pages(django_assert_max_num_queries: Any, size: int) -> None:
    program = make_program(courses=2, modules=2, lessons=size)
    cohort = make_cohort(program)
    for _index in range(size * 3):
        learner = make_person()
        enroll(learner, cohort)
        complete(learner, program, 2)
    for _index in range(size):
        make_cohort(program, instructors=list(cohort.instructors.all()))
    client = signed_in_client(cohort.instructors.get())
    with django_assert_max_num_queries(12):
        assert client.get("/dashboard/").status_code == 200
    with django_assert_max_num_queries(8):
        assert client.get(f"/academy/cohorts/{cohort.pk}/progress/").status_code == 200
    with django_assert_max_num_queries(8):
        assert client.get(f"/academy/cohorts/{cohort.pk}/progress.csv").status_code == 200
    with django_assert_max_num_queries(10):
        assert client.get(f"/academy/cohorts/{cohort.pk}/manage/").status_code == 200


@pytest.mark.parametrize("size", [1, 4])
def test_the_program_course_and_catalogue_pages(django_assert_max_num_queries: Any,
                                               size: int) -> None:
    learner, programs = busy_learner(programs=size, lessons=size)
    client = signed_in_client(learner)
    with django_assert_max_num_queries(6):
        assert client.get("/academy/").status_code == 200
    with django_assert_max_num_queries(12):
        assert client.get(f"/academy/programs/{programs[0].slug}/").status_code == 200
    with django_assert_max_num_queries(6):
        assert client.get(
            f"/academy/programs/{programs[0].slug}/courses/course-1/").status_code == 200
