"""Cohorts and enrollment: the three modes, capacity, invitations by e-mail, decisions."""

from __future__ import annotations

import datetime
from typing import Any

import pytest
from django.core import mail
from django.utils import timezone, translation

from oneteam.academy import actions
from oneteam.academy.models import Cohort, Enrollment, EnrollmentMode, EnrollmentStatus
from oneteam.platform.errors import AccessDenied, InputError
from tests.factories import make_admin, make_organization, make_person
from tests.factories.academy import make_cohort, make_instructor, make_program

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def in_english() -> Any:
    with translation.override("en"):
        yield

ACTIVE = EnrollmentStatus.ACTIVE


def test_an_open_cohort_takes_anyone_who_joins_once() -> None:
    cohort = make_cohort(mode=EnrollmentMode.OPEN)
    learner = make_person()
    enrollment = actions.do_join_cohort(person=learner, cohort=cohort)
    assert enrollment.status == ACTIVE and enrollment.joined is not None
    assert actions.do_join_cohort(person=learner, cohort=cohort).pk == enrollment.pk
    assert Enrollment.objects.count() == 1


def test_joining_refuses_other_modes_naming_what_to_do() -> None:
    learner = make_person()
    approval = make_cohort(mode=EnrollmentMode.APPROVAL)
    with pytest.raises(InputError, match="approval"):
        actions.do_join_cohort(person=learner, cohort=approval)
    invitation = make_cohort(mode=EnrollmentMode.INVITATION)
    with pytest.raises(InputError, match="invitation"):
        actions.do_join_cohort(person=learner, cohort=invitation)
    with pytest.raises(InputError, match="invitation"):
        actions.do_request_enrollment(person=learner, cohort=invitation)
    with pytest.raises(InputError, match="open"):
        actions.do_request_enrollment(person=learner, cohort=make_cohort())
    assert not Enrollment.objects.exists()


def test_by_approval_a_request_waits_for_a_manager() -> None:
    cohort = make_cohort(mode=EnrollmentMode.APPROVAL)
    manager = cohort.instructors.get()
    first, second = make_person(), make_person()
    request = actions.do_request_enrollment(person=first, cohort=cohort)
    assert request.status == EnrollmentStatus.REQUESTED
    approved = actions.do_approve_enrollment(actor=manager, enrollment=request)
    assert approved.status == ACTIVE and approved.decided_by == manager
    other = actions.do_request_enrollment(person=second, cohort=cohort)
    rejected = actions.do_reject_enrollment(actor=manager, enrollment=other)
    assert rejected.status == EnrollmentStatus.REJECTED
    with pytest.raises(InputError, match="did not admit"):
        actions.do_request_enrollment(person=second, cohort=cohort)
    with pytest.raises(InputError) as error:
        actions.do_approve_enrollment(actor=manager, enrollment=rejected)
    assert error.value.field == "status"


def test_only_managers_decide() -> None:
    cohort = make_cohort(mode=EnrollmentMode.APPROVAL)
    request = actions.do_request_enrollment(person=make_person(), cohort=cohort)
    for stranger in (make_person(), make_instructor(cohort.organization),
                     make_admin(make_organization())):
        with pytest.raises(AccessDenied):
            actions.do_approve_enrollment(actor=stranger, enrollment=request)
    admin = make_admin(cohort.organization)
    assert actions.do_approve_enrollment(actor=admin, enrollment=request).status == ACTIVE


def test_invitations_reach_people_with_and_without_accounts(
        django_capture_on_commit_callbacks: Any) -> None:
    cohort = make_cohort(mode=EnrollmentMode.INVITATION)
    manager = cohort.instructors.get()
    known = make_person(email="known@example.org", language="en")
    with django_capture_on_commit_callbacks(execute=True):
        results = actions.do_invite_learners(
            actor=manager, cohort=cohort, emails=["Known@Example.org", "new@example.org",
                                                  "known@example.org"], origin="https://x.test")
    assert [(r.email, r.outcome) for r in results] == [("known@example.org", "invited"),
                                                      ("new@example.org", "invited")]
    assert results[0].enrollment.person == known and results[1].enrollment.person is None
    assert sorted(m.to[0] for m in mail.outbox) == ["known@example.org", "new@example.org"]
    english = next(m for m in mail.outbox if m.to == ["known@example.org"])
    assert english.subject.startswith("You are invited to")
    assert f"https://x.test/academy/cohorts/{cohort.pk}/" in english.body
    # Someone signs up later with the invited address, and accepts.
    newcomer = make_person(email="new@example.org")
    enrollment = actions.do_accept_invitation(person=newcomer, cohort=cohort)
    assert enrollment.status == ACTIVE and enrollment.person == newcomer
    declined = actions.do_withdraw_enrollment(person=known, cohort=cohort)
    assert declined.status == EnrollmentStatus.WITHDRAWN


def test_inviting_someone_who_asked_admits_them_and_leaves_learners_alone() -> None:
    cohort = make_cohort(mode=EnrollmentMode.APPROVAL)
    asker, learner = make_person(), make_person()
    actions.do_request_enrollment(person=asker, cohort=cohort)
    request = actions.do_request_enrollment(person=learner, cohort=cohort)
    actions.do_approve_enrollment(actor=None, enrollment=request)
    results = actions.do_invite_learners(actor=None, cohort=cohort,
                                         emails=[asker.email, learner.email])
    assert [r.outcome for r in results] == ["admitted", "already"]
    assert Enrollment.objects.get(email=asker.email).status == ACTIVE


@pytest.mark.parametrize(("emails", "message"), [
    ([], "at least one"),
    (["not-an-address"], "not a valid"),
    ([f"p{n}@example.org" for n in range(201)], "At most"),
])
def test_bad_invitations_name_the_emails_field(emails: list[str], message: str) -> None:
    cohort = make_cohort()
    with pytest.raises(InputError, match=message) as error:
        actions.do_invite_learners(actor=None, cohort=cohort, emails=emails)
    assert error.value.field == "emails"
    assert not Enrollment.objects.exists()


def test_capacity_holds_for_joins_acceptances_and_approvals() -> None:
    cohort = make_cohort(capacity=2)
    actions.do_join_cohort(person=make_person(), cohort=cohort)
    invited = make_person()
    actions.do_invite_learners(actor=None, cohort=cohort, emails=[invited.email])
    actions.do_join_cohort(person=make_person(), cohort=cohort)
    with pytest.raises(InputError, match="full"):
        actions.do_join_cohort(person=make_person(), cohort=cohort)
    with pytest.raises(InputError, match="full"):
        actions.do_accept_invitation(person=invited, cohort=cohort)
    assert Enrollment.objects.filter(cohort=cohort, status=ACTIVE).count() == 2
    # A seat freed by withdrawal is taken again.
    leaver = Enrollment.objects.filter(status=ACTIVE).first().person
    actions.do_withdraw_enrollment(person=leaver, cohort=cohort)
    assert actions.do_accept_invitation(person=invited, cohort=cohort).status == ACTIVE


def test_an_ended_cohort_takes_nobody() -> None:
    past = timezone.localdate() - datetime.timedelta(days=100)
    cohort = make_cohort(starts_on=past, ends_on=past + datetime.timedelta(days=30))
    with pytest.raises(InputError, match="ended"):
        actions.do_join_cohort(person=make_person(), cohort=cohort)


def test_withdrawing_and_rejoining_an_open_cohort() -> None:
    cohort = make_cohort()
    learner = make_person()
    actions.do_join_cohort(person=learner, cohort=cohort)
    assert actions.do_withdraw_enrollment(person=learner, cohort=cohort).status == "withdrawn"
    with pytest.raises(InputError, match="not in this cohort"):
        actions.do_withdraw_enrollment(person=learner, cohort=cohort)
    assert actions.do_join_cohort(person=learner, cohort=cohort).status == ACTIVE


def test_completing_a_learner() -> None:
    cohort = make_cohort()
    enrollment = actions.do_join_cohort(person=make_person(), cohort=cohort)
    done = actions.do_complete_enrollment(actor=cohort.instructors.get(), enrollment=enrollment)
    assert done.status == EnrollmentStatus.COMPLETED and done.completed is not None
    with pytest.raises(InputError):
        actions.do_withdraw_enrollment(person=done.person, cohort=cohort)


TODAY = datetime.date(2026, 3, 2)


@pytest.mark.parametrize(("changes", "field"), [
    ({"name": "  "}, "name"),
    ({"name": "x" * 121}, "name"),
    ({"starts_on": None}, "starts_on"),
    ({"ends_on": "2026-09-01"}, "ends_on"),
    ({"ends_on": TODAY - datetime.timedelta(days=1)}, "ends_on"),
    ({"ends_on": TODAY + datetime.timedelta(days=4 * 365)}, "ends_on"),
    ({"enrollment_mode": "lottery"}, "enrollment_mode"),
    ({"capacity": 0}, "capacity"),
    ({"capacity": 10_001}, "capacity"),
    ({"instructor_emails": ["nobody@example.org"]}, "instructors"),
    ({"instructor_emails": ["outsider@example.org"]}, "instructors"),
    ({"partner_slugs": ["no-such-org"]}, "partners"),
])
def test_bad_cohorts_name_the_field(changes: dict[str, object], field: str) -> None:
    program = make_program()
    make_person(email="outsider@example.org")
    fields: dict[str, object] = {
        "actor": None, "program": program, "organization": program.owner, "name": "Spring",
        "starts_on": TODAY, "ends_on": TODAY + datetime.timedelta(days=180), **changes}
    with pytest.raises(InputError) as error:
        actions.do_create_cohort(**fields)  # type: ignore[arg-type]
    assert error.value.field == field
    assert not Cohort.objects.exists()


def test_who_may_create_a_cohort_and_of_what() -> None:
    program = make_program()
    owner = program.owner
    instructor = make_instructor(owner)
    cohort = actions.do_create_cohort(actor=instructor, program=program, organization=owner,
                                      name="Spring", starts_on=TODAY,
                                      ends_on=TODAY + datetime.timedelta(days=90))
    assert list(cohort.instructors.all()) == [instructor]
    admin = make_admin(owner)
    by_admin = actions.do_create_cohort(actor=admin, program=program, organization=owner,
                                        name="Autumn", starts_on=TODAY,
                                        ends_on=TODAY + datetime.timedelta(days=90))
    assert by_admin.instructors.count() == 0  # an administrator runs it, need not teach it
    with pytest.raises(AccessDenied):
        actions.do_create_cohort(actor=make_person(), program=program, organization=owner,
                                 name="Mine", starts_on=TODAY,
                                 ends_on=TODAY + datetime.timedelta(days=90))
    private = make_program(visibility="organization")
    other = make_organization()
    with pytest.raises(InputError) as error:
        actions.do_create_cohort(actor=None, program=private, organization=other,
                                 name="Borrowed", starts_on=TODAY,
                                 ends_on=TODAY + datetime.timedelta(days=90))
    assert error.value.field == "program"
