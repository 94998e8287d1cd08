"""Automatic issuance when the academy records a completion (no edit to the academy)."""

from __future__ import annotations

import pytest

from oneteam.academy import actions as academy_actions
from oneteam.credentials.actions import do_define_achievement
from oneteam.credentials.models import IssuedCredential
from tests.credentials.app.conftest import Issuing
from tests.factories.academy import complete, enroll, lessons_of, make_cohort, make_program

pytestmark = pytest.mark.django_db(transaction=True)


def test_completing_a_course_or_a_program_issues_its_credentials(
        offline_issuing: Issuing) -> None:
    issuing = offline_issuing
    program = make_program(owner=issuing.organization, courses=2, modules=1, lessons=2)
    cohort = make_cohort(program, instructors=[issuing.instructor])
    first_course = program.courses.order_by("position").first()
    assert first_course is not None
    for_course = do_define_achievement(
        actor=issuing.instructor, organization=issuing.organization, name="Course 1",
        description="d", criteria_narrative="Complete course 1", criteria_kind="course",
        course=first_course)
    for_program = do_define_achievement(
        actor=issuing.instructor, organization=issuing.organization, name="Program",
        description="d", criteria_narrative="Complete the program", criteria_kind="program",
        program=program)
    enrollment = enroll(issuing.learner, cohort)
    course_lessons = [lesson for lesson in lessons_of(program)
                      if lesson.module.course_id == first_course.pk]
    complete(issuing.learner, program, len(course_lessons) - 1)
    assert not IssuedCredential.objects.filter(recipient=issuing.learner).exists()
    complete(issuing.learner, program, len(course_lessons))
    held = IssuedCredential.objects.filter(recipient=issuing.learner)
    assert [c.achievement_id for c in held] == [for_course.pk]
    assert held[0].issued_by is None
    academy_actions.do_complete_enrollment(actor=None, enrollment=enrollment)
    assert set(held.values_list("achievement_id", flat=True)) == {for_course.pk,
                                                                   for_program.pk}
    # Completing again issues nothing more.
    complete(issuing.learner, program, len(course_lessons))
    assert IssuedCredential.objects.filter(recipient=issuing.learner).count() == 2
