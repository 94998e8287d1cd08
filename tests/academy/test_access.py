"""Who sees what: programs, cohorts, rosters and progress, classes (queries.py)."""

from __future__ import annotations

import pytest

from oneteam.academy import actions, queries
from oneteam.academy.models import EnrollmentMode, Visibility
from oneteam.consortium.models import Role
from oneteam.platform.errors import AccessDenied, NotFound
from tests.factories import make_admin, make_membership, make_organization, make_person
from tests.factories.academy import (
    enroll,
    make_cohort,
    make_instructor,
    make_program,
    make_school_class,
)

pytestmark = pytest.mark.django_db


def test_a_public_program_is_readable_by_anyone() -> None:
    from django.contrib.auth.models import AnonymousUser

    program = make_program()
    assert queries.access_program_by_slug(AnonymousUser(), program.slug) == program
    assert queries.access_program_by_slug(make_person(), program.slug) == program
    assert program in queries.access_programs(AnonymousUser())


def test_an_organization_program_is_invisible_to_outsiders() -> None:
    from django.contrib.auth.models import AnonymousUser

    program = make_program(visibility=Visibility.ORGANIZATION)
    outsider = make_person()
    for viewer in (AnonymousUser(), outsider, make_admin(make_organization())):
        with pytest.raises(NotFound):
            queries.access_program_by_slug(viewer, program.slug)
        assert program not in queries.access_programs(viewer)
        lesson = program.lessons.first()
        with pytest.raises(NotFound):
            queries.access_lesson_by_slug(viewer, program.slug, lesson.slug)
    member = make_person()
    make_membership(member, program.owner, Role.LEARNER)
    assert queries.access_program_by_slug(member, program.slug) == program
    assert queries.access_program_by_slug(make_person(operator=True), program.slug) == program


def test_an_organization_programs_learners_and_students_may_read_it() -> None:
    program = make_program(visibility=Visibility.ORGANIZATION)
    cohort = make_cohort(program, mode=EnrollmentMode.INVITATION)
    learner = make_person()
    enroll(learner, cohort)
    assert queries.access_program_by_slug(learner, program.slug) == program
    assert queries.access_program_by_slug(cohort.instructors.get(), program.slug) == program
    student = make_person()
    school_class = make_school_class(school=program.owner,
                                     courses=[program.courses.first()], students=[student])
    assert queries.access_program_by_slug(student, program.slug) == program
    assert queries.access_program_by_slug(school_class.teacher, program.slug) == program


def test_a_learner_sees_cohorts_they_are_in_or_may_join_only() -> None:
    program = make_program()
    open_cohort = make_cohort(program, mode=EnrollmentMode.OPEN)
    approval = make_cohort(program, mode=EnrollmentMode.APPROVAL)
    private = make_cohort(program, mode=EnrollmentMode.INVITATION)
    invited_to = make_cohort(program, mode=EnrollmentMode.INVITATION)
    learner = make_person()
    actions.do_invite_learners(actor=None, cohort=invited_to, emails=[learner.email])
    seen = set(queries.access_cohorts(learner))
    assert seen == {open_cohort, approval, invited_to}
    with pytest.raises(NotFound):
        queries.access_cohort_by_id(learner, private.pk)
    access = queries.access_cohort_by_id(learner, invited_to.pk)
    assert access.status == "invited" and not access.is_manager


def test_an_invitation_by_email_is_visible_before_the_account_exists() -> None:
    cohort = make_cohort(mode=EnrollmentMode.INVITATION)
    actions.do_invite_learners(actor=None, cohort=cohort, emails=["later@example.org"])
    later = make_person(email="later@example.org")
    assert queries.access_cohort_by_id(later, cohort.pk).status == "invited"
    assert [e.cohort for e in queries.pending_invitations(later)] == [cohort]


def test_rosters_and_progress_are_for_managers_only() -> None:
    program = make_program()
    cohort = make_cohort(program)
    learner = make_person()
    enroll(learner, cohort)
    instructor = cohort.instructors.get()
    admin = make_admin(cohort.organization)
    operator = make_person(operator=True)
    for manager in (instructor, admin, operator):
        assert queries.access_cohort_progress_by_id(manager, cohort.pk)[0] == cohort
        assert queries.access_enrollments_by_cohort_id(manager, cohort.pk)[1]
    # A learner of the cohort, another instructor of the same organization, another
    # organization's administrator: none sees the roster.
    for stranger in (learner, make_instructor(cohort.organization),
                     make_admin(make_organization())):
        with pytest.raises(AccessDenied):
            queries.access_cohort_progress_by_id(stranger, cohort.pk)
        with pytest.raises(AccessDenied):
            queries.access_enrollments_by_cohort_id(stranger, cohort.pk)


def test_another_organizations_private_cohort_does_not_exist_for_its_admins() -> None:
    cohort = make_cohort(mode=EnrollmentMode.INVITATION)
    other_admin = make_admin(make_organization())
    with pytest.raises(NotFound):
        queries.access_cohort_by_id(other_admin, cohort.pk)
    with pytest.raises(NotFound):
        queries.access_cohort_progress_by_id(other_admin, cohort.pk)
    assert cohort not in queries.access_cohorts(other_admin)
    assert cohort not in queries.organization_cohorts(other_admin)
    assert cohort in queries.organization_cohorts(make_admin(cohort.organization))


def test_an_enrollment_of_another_cohort_is_not_found_through_this_one() -> None:
    first, second = make_cohort(), make_cohort()
    enrollment = enroll(make_person(), second)
    with pytest.raises(NotFound):
        queries.access_enrollment_by_id(first.instructors.get(), first, enrollment.pk)


def test_classes_are_for_their_teacher_students_and_school_admins() -> None:
    student = make_person()
    school_class = make_school_class(students=[student])
    assert queries.access_class_by_id(student, school_class.pk).is_manager is False
    with pytest.raises(AccessDenied):
        queries.access_class_progress_by_id(student, school_class.pk)
    assert queries.access_class_by_id(school_class.teacher, school_class.pk).is_manager
    admin = make_admin(school_class.school)
    assert queries.access_class_progress_by_id(admin, school_class.pk)[0] == school_class
    for stranger in (make_person(), make_admin(make_organization()),
                     make_instructor(school_class.school)):
        with pytest.raises(NotFound):
            queries.access_class_by_id(stranger, school_class.pk)


def test_joining_a_class_by_code() -> None:
    from oneteam.platform.errors import InputError

    school_class = make_school_class()
    pupil = make_person()
    code = school_class.join_code
    assert actions.do_join_class(person=pupil, code=f" {code[:4].lower()} {code[4:]} ") == (
        school_class)
    assert queries.access_class_by_id(pupil, school_class.pk)
    for bad in ("", "ABC", "ZZZZZZZZ"):
        with pytest.raises(InputError) as error:
            actions.do_join_class(person=pupil, code=bad)
        assert error.value.field == "code"


def test_adding_students_names_unknown_addresses_and_adds_nobody() -> None:
    from oneteam.platform.errors import InputError

    school_class = make_school_class()
    known = make_person()
    with pytest.raises(InputError) as error:
        actions.do_add_students(actor=school_class.teacher, school_class=school_class,
                                emails=[known.email, "ghost@example.org"])
    assert error.value.field == "emails" and "ghost@example.org" in error.value.message
    assert school_class.students.count() == 0
    with pytest.raises(AccessDenied):
        actions.do_add_students(actor=make_person(), school_class=school_class,
                                emails=[known.email])


def test_a_program_made_private_hides_its_lessons_at_once() -> None:
    """The lesson page keeps lessons in memory, but who may read them is read each time."""
    from oneteam.academy.models import Program

    program = make_program()
    lesson = program.lessons.order_by("ordinal").first()
    outsider = make_person()
    assert queries.access_lesson_by_slug(outsider, program.slug, lesson.slug) == lesson
    Program.objects.filter(pk=program.pk).update(visibility=Visibility.ORGANIZATION)
    with pytest.raises(NotFound):
        queries.access_lesson_by_slug(outsider, program.slug, lesson.slug)


def test_an_edited_lesson_is_seen_at_once_despite_the_memory() -> None:
    program = make_program()
    lesson = program.lessons.order_by("ordinal").first()
    viewer = make_person()
    assert queries.access_lesson_by_slug(viewer, program.slug, lesson.slug).title_en == (
        "Lesson 1.1.1")
    actions.do_update_lesson(actor=None, lesson=lesson, title_en="Renamed")
    found = queries.access_lesson_by_slug(viewer, program.slug, lesson.slug)
    assert found.title_en == "Renamed"
    _previous, following = queries.lesson_neighbours(found)
    assert following is not None and following.slug == "lesson-1-1-2"
