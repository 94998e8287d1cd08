"""The academy's demo data, loaded once by ``oneteam up`` after the demo alliance.

- The two shipped programs: AI Developer, owned by KAIST, and Enterprise-practical AI and
  data analysis, owned by KT.
- A cohort of each: KAIST's open cohort of the AI Developer track, taught by the demo
  instructor, with LG Electronics, HD Hyundai and Dongwon as partner companies; KT's
  staff course by approval, taught by the same instructor (given the instructor role at
  KT for it). The demo learner is in both, with some lessons done; the Hanyang student
  is in the first and has asked to join the second.
- A school, Seoul AI High School, with the demo teacher and pupil, and a class using a
  course of each program.

Dates are relative to the day of loading, so the cohorts are under way.
"""

from __future__ import annotations

import datetime

from django.utils import timezone

from oneteam.academy import actions
from oneteam.academy.content import load_programs
from oneteam.academy.models import Course, EnrollmentMode, Lesson, Program
from oneteam.accounts.models import Person
from oneteam.consortium.actions import do_add_membership, do_create_organization
from oneteam.consortium.models import Organization, OrganizationKind, Role
from oneteam.platform.demo import DemoAlliance

PROGRAM_OWNERS = {"ai-developer": "kaist", "enterprise-ai-data": "kt"}
SCHOOL_SLUG = "seoul-ai-high"
COHORT_DAYS = 182


def _complete(person: Person, program: Program, count: int) -> None:
    lessons = list(Lesson.objects.filter(program=program).order_by("ordinal")[:count + 1])
    for lesson in lessons[:count]:
        actions.do_complete_lesson(person=person, lesson=lesson)
    if len(lessons) > count:  # the next one is opened, not finished
        actions.do_start_lesson(person=person, lesson=lessons[count])


def load_demo(alliance: DemoAlliance) -> None:
    organizations = alliance.organizations
    people = alliance.people
    programs = {}
    for spec in load_programs():
        owner = organizations.get(PROGRAM_OWNERS.get(spec.slug, "kaist"))
        if owner is None:
            return  # the demo alliance is not there: nothing to attach the programs to
        programs[spec.slug] = actions.do_import_program(actor=None, spec=spec, owner=owner,
                                                        is_demo=True)
    developer = programs.get("ai-developer")
    enterprise = programs.get("enterprise-ai-data")
    instructor = people.get("instructor")
    learner = people.get("learner")
    student = people.get("student")
    if developer is None or enterprise is None or instructor is None:
        return
    today = timezone.localdate()
    starts_on = today - datetime.timedelta(days=45)
    ends_on = starts_on + datetime.timedelta(days=COHORT_DAYS)

    kaist_cohort = actions.do_create_cohort(
        actor=None, program=developer, organization=organizations["kaist"],
        name="AI 개발자 트랙 2026 봄 (대전)", starts_on=starts_on, ends_on=ends_on,
        enrollment_mode=EnrollmentMode.OPEN, capacity=40,
        instructor_emails=[instructor.email],
        partner_slugs=["lg-electronics", "hd-hyundai", "dongwon"], is_demo=True)
    do_add_membership(actor=None, organization=organizations["kt"], email=instructor.email,
                      role=Role.INSTRUCTOR)
    kt_cohort = actions.do_create_cohort(
        actor=None, program=enterprise, organization=organizations["kt"],
        name="KT 임직원 AI·데이터 실무 과정 2기", starts_on=starts_on + datetime.timedelta(days=14),
        ends_on=starts_on + datetime.timedelta(days=14 + 90),
        enrollment_mode=EnrollmentMode.APPROVAL, capacity=30,
        instructor_emails=[instructor.email], is_demo=True)
    if learner is not None:
        actions.do_join_cohort(person=learner, cohort=kaist_cohort)
        _complete(learner, developer, 7)
        enrollment = actions.do_request_enrollment(person=learner, cohort=kt_cohort)
        actions.do_approve_enrollment(actor=None, enrollment=enrollment)
        _complete(learner, enterprise, 3)
    if student is not None:
        actions.do_join_cohort(person=student, cohort=kaist_cohort)
        _complete(student, developer, 3)
        actions.do_request_enrollment(person=student, cohort=kt_cohort)
    _load_school(alliance)


def _load_school(alliance: DemoAlliance) -> None:
    teacher = alliance.people.get("teacher")
    pupil = alliance.people.get("pupil")
    if teacher is None:
        return
    school = Organization.objects.filter(slug=SCHOOL_SLUG).first() or do_create_organization(
        actor=None, slug=SCHOOL_SLUG, name_ko="서울AI고등학교", name_en="Seoul AI High School",
        kind=OrganizationKind.PUBLIC_BODY, is_demo=True)
    do_add_membership(actor=None, organization=school, email=teacher.email,
                      role=Role.INSTRUCTOR)
    courses = list(Course.objects.filter(
        program__slug__in=["ai-developer", "enterprise-ai-data"],
        slug__in=["python-data", "data-literacy"]).select_related("program"))
    school_class = actions.do_create_class(actor=None, school=school, teacher=teacher,
                                           name="2학년 3반 · 인공지능 기초", courses=courses,
                                           is_demo=True)
    if pupil is not None:
        do_add_membership(actor=None, organization=school, email=pupil.email,
                          role=Role.LEARNER)
        actions.do_add_students(actor=None, school_class=school_class, emails=[pupil.email])
        python_data = next((c for c in courses if c.slug == "python-data"), None)
        if python_data is not None:
            for lesson in Lesson.objects.filter(module__course=python_data).order_by(
                    "ordinal")[:2]:
                actions.do_complete_lesson(person=pupil, lesson=lesson)
