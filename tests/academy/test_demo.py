"""The academy's demo: the shipped programs, a cohort of each, progress, a school class."""

from __future__ import annotations

import pytest
from django.test import Client

from oneteam.academy import queries
from oneteam.academy.models import Cohort, EnrollmentStatus, Program, SchoolClass
from oneteam.platform import datadir, demo

pytestmark = pytest.mark.django_db


def test_the_demo_has_programs_cohorts_progress_and_a_class() -> None:
    ran = demo.load_demo()
    assert "oneteam.academy.demo.load_demo" in ran
    owners = dict(Program.objects.values_list("slug", "owner__slug"))
    assert owners == {"ai-developer": "kaist", "enterprise-ai-data": "kt"}
    alliance = demo.demo_alliance()
    learner, instructor = alliance.people["learner"], alliance.people["instructor"]
    cohorts = {c.program.slug: c for c in Cohort.objects.select_related("program")}
    assert set(cohorts) == {"ai-developer", "enterprise-ai-data"}
    for cohort in cohorts.values():
        assert instructor in cohort.instructors.all()
        assert cohort.enrollments.get(person=learner).status == EnrollmentStatus.ACTIVE
    programs = queries.learner_programs(learner)
    assert {p.program.slug: p.completed_count for p in programs} == {
        "ai-developer": 7, "enterprise-ai-data": 3}
    assert all(p.next_lesson is not None for p in programs)
    kt = cohorts["enterprise-ai-data"]
    assert kt.enrollments.filter(status=EnrollmentStatus.REQUESTED).count() == 1
    school_class = SchoolClass.objects.get()
    assert school_class.teacher == alliance.people["teacher"]
    assert list(school_class.students.all()) == [alliance.people["pupil"]]
    assert demo.load_demo() == []


def test_the_demo_learner_sees_progress_on_the_dashboard(client: Client) -> None:
    demo.load_demo()
    client.post("/accounts/sign-in/", {"email": "learner@demo.oneteam.example",
                                       "password": datadir.demo_password()})
    html = client.get("/dashboard/").content.decode()
    assert "내 프로그램" in html and "data-next-lesson" in html
    teacher = Client()
    teacher.post("/accounts/sign-in/", {"email": "teacher@demo.oneteam.example",
                                        "password": datadir.demo_password()})
    html = teacher.get("/dashboard/").content.decode()
    assert "가르치는 학급" in html
