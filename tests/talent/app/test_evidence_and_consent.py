"""Evidence from credentials, courses and the learner's word; consent and the view log."""

from __future__ import annotations

import datetime
from typing import Any

import pytest
from django.utils import timezone

from oneteam.academy import actions as academy_actions
from oneteam.academy.models import Course, Lesson
from oneteam.credentials.actions import do_revoke_credential, do_suspend_credential
from oneteam.platform.errors import InputError, NotFound
from oneteam.talent import actions, evidence, queries
from oneteam.talent.models import Audience, ProfileView, ViewChannel
from tests.factories.academy import make_program
from tests.factories.labs import reference_file, submit_files
from tests.factories.talent import (
    issue_credential,
    make_company,
    make_issuer,
    make_learner,
    make_posting,
    make_recruiter,
)
from tests.labs.app.conftest import Classroom, classroom, worker  # noqa: F401 - fixtures

pytestmark = pytest.mark.django_db


def _codes(items: list[evidence.EvidenceItem]) -> set[tuple[str, str, int]]:
    return {(item.code, item.kind, item.level) for item in items}


def test_a_valid_credential_evidences_its_known_skills_with_a_verify_link() -> None:
    learner, profile = make_learner()
    credential = issue_credential(learner, skills=["PyTorch", "딥러닝", "Teamwork"])
    items = evidence.collect(learner, profile)
    assert _codes(items) == {("pytorch", "credential", 2), ("deep-learning", "credential", 2)}
    assert all(item.url == f"/credentials/verify/{credential.public_id}/" for item in items)
    assert items[0].issuer == credential.organization.name


def test_revoked_suspended_and_expired_credentials_evidence_nothing() -> None:
    learner, profile = make_learner()
    issuer = make_issuer()
    revoked = issue_credential(learner, skills=["python"], name="Python", issuer=issuer)
    suspended = issue_credential(learner, skills=["sql"], name="SQL", issuer=issuer)
    expired = issue_credential(learner, skills=["pandas"], name="pandas", issuer=issuer)
    kept = issue_credential(learner, skills=["numpy"], name="NumPy", issuer=issuer)
    do_revoke_credential(actor=issuer[1], credential=revoked, reason="issued in error")
    do_suspend_credential(actor=issuer[1], credential=suspended, reason="under review")
    type(expired).objects.filter(pk=expired.pk).update(
        valid_until=timezone.now() - datetime.timedelta(days=1))
    assert {item.code for item in evidence.collect(learner, profile)} == {"numpy"}
    assert kept.state == "active"


def test_a_completed_course_evidences_its_skills_and_a_half_done_one_nothing() -> None:
    learner, profile = make_learner()
    program = make_program()
    first, second = program.courses.order_by("position")
    Course.objects.filter(pk=first.pk).update(skills=[{"code": "python", "level": 3}])
    Course.objects.filter(pk=second.pk).update(skills=[{"code": "sql", "level": 2}])
    for lesson in Lesson.objects.filter(module__course=first):
        academy_actions.do_complete_lesson(person=learner, lesson=lesson)
    academy_actions.do_complete_lesson(
        person=learner, lesson=Lesson.objects.filter(module__course=second).first())
    items = evidence.collect(learner, profile)
    assert _codes(items) == {("python", "course", 3)}
    assert items[0].url == f"/academy/programs/{program.slug}/courses/{first.slug}/"


def test_a_credential_for_a_course_takes_the_levels_the_course_states() -> None:
    learner, profile = make_learner()
    program = make_program()
    course = program.courses.order_by("position").first()
    Course.objects.filter(pk=course.pk).update(skills=[{"code": "deep-learning", "level": 4}])
    course.refresh_from_db()
    issue_credential(learner, skills=["Deep learning"], course=course, criteria_kind="course")
    assert _codes(evidence.collect(learner, profile)) == {("deep-learning", "credential", 4)}


def test_credentials_and_labs_weigh_more_than_the_learners_word() -> None:
    learner, profile = make_learner(declared=[{"code": "pytorch", "level": 4}])
    issue_credential(learner, skills=["pytorch"])
    skills = evidence.summarize(evidence.collect(learner, profile))
    assert [s.code for s in skills] == ["pytorch"]
    pytorch = skills[0]
    # the credential at level 2 (1.0 × 2/5) beats the claim at level 4 (0.3 × 4/5)
    assert [item.kind for item in pytorch.items] == ["credential", "self_declared"]
    assert pytorch.verified and pytorch.level == 2


def test_declared_skills_are_checked_against_the_taxonomy_naming_the_field() -> None:
    learner, _profile = make_learner()
    with pytest.raises(InputError) as error:
        actions.do_update_profile(learner, declared_skills=[{"code": "python", "level": 3},
                                                            {"code": "juggling", "level": 2}])
    assert error.value.field == "declared_skills[1].code"
    with pytest.raises(InputError) as error:
        actions.do_update_profile(learner, declared_skills=[{"code": "python", "level": 9}])
    assert error.value.field == "declared_skills[0].level"
    profile = actions.do_update_profile(learner, declared_skills=[{"code": "파이썬", "level": 3}])
    assert profile.declared_skills == [{"code": "python", "level": 3}]


def test_a_private_profile_is_seen_by_no_recruiter_until_consent() -> None:
    company = make_company()
    recruiter = make_recruiter(company)
    learner, profile = make_learner(audience=Audience.NOBODY)
    with pytest.raises(NotFound):
        actions.do_view_candidate(recruiter, profile_id=profile.pk)
    assert not ProfileView.objects.exists()
    actions.do_set_profile_visibility(learner, audience=Audience.MEMBERS)
    view = actions.do_view_candidate(recruiter, profile_id=profile.pk)
    assert view.organization == company
    logged = ProfileView.objects.get()
    assert (logged.viewer, logged.organization, logged.channel) == (
        recruiter, company, ViewChannel.PROFILE)
    assert queries.access_views_of_my_profile(learner) == [logged]


def test_chosen_companies_only() -> None:
    chosen, other = make_company(), make_company()
    learner, profile = make_learner(audience=Audience.CHOSEN, chosen=(chosen.slug,))
    actions.do_view_candidate(make_recruiter(chosen), profile_id=profile.pk)
    with pytest.raises(NotFound):
        actions.do_view_candidate(make_recruiter(other), profile_id=profile.pk)
    with pytest.raises(InputError) as error:
        actions.do_set_profile_visibility(learner, audience=Audience.CHOSEN, organizations=[])
    assert error.value.field == "organizations"
    university, _instructor = make_issuer()
    with pytest.raises(InputError) as error:
        actions.do_set_profile_visibility(learner, audience=Audience.CHOSEN,
                                          organizations=[chosen.slug, university.slug])
    assert error.value.field == "organizations[1]"


def test_applying_shares_the_profile_with_that_company_only_while_active() -> None:
    company = make_company()
    recruiter = make_recruiter(company)
    posting = make_posting(company)
    learner, profile = make_learner(audience=Audience.NOBODY)
    application = actions.do_apply(person=learner, posting=posting)
    assert actions.do_view_candidate(recruiter, profile_id=profile.pk, posting=posting)
    with pytest.raises(NotFound):
        actions.do_view_candidate(make_recruiter(make_company()), profile_id=profile.pk)
    actions.do_move_application(actor=learner, application=application, verb="withdraw")
    with pytest.raises(NotFound):
        actions.do_view_candidate(recruiter, profile_id=profile.pk)


def test_hidden_parts_stay_hidden_from_recruiters_but_not_from_the_owner() -> None:
    company = make_company()
    recruiter = make_recruiter(company)
    learner, profile = make_learner(declared=[{"code": "sql", "level": 3}])
    actions.do_add_project(learner, title="Sales dashboard", skills=[
        {"code": "data-visualization", "level": 3}])
    actions.do_set_profile_visibility(learner, audience=Audience.MEMBERS, show_projects=False)
    view = actions.do_view_candidate(recruiter, profile_id=profile.pk)
    assert [s.code for s in view.skills] == ["sql"] and view.projects == []
    actions.do_set_profile_visibility(learner, audience=Audience.MEMBERS, show_skills=False,
                                      show_preferences=False)
    view = actions.do_view_candidate(recruiter, profile_id=profile.pk)
    assert view.skills == [] and not view.show_preferences and len(view.projects) == 1
    own = queries.candidate_view(profile, None)
    assert {s.code for s in own.skills} == {"sql", "data-visualization"}


def test_operators_and_non_recruiters_see_no_profile() -> None:
    from tests.factories import make_person

    _learner, profile = make_learner(audience=Audience.MEMBERS)
    for viewer in (make_person(operator=True), make_person()):
        with pytest.raises(NotFound):
            actions.do_view_candidate(viewer, profile_id=profile.pk)


@pytest.mark.django_db(transaction=True)
def test_a_graded_lab_evidences_the_skills_the_lab_states(
        classroom: Classroom, worker: Any) -> None:  # noqa: F811 - the labs' fixtures
    """Through the real sandbox and compute worker: the digits lab's best result."""
    learner = classroom.learner
    submission = submit_files(learner, classroom.lab, {"solution.py": reference_file("digits")})
    assert [item for item in evidence.collect(learner) if item.kind == "lab_result"] == []
    worker.run_until_idle()
    submission.refresh_from_db()
    items = [item for item in evidence.collect(learner) if item.kind == "lab_result"]
    stated = {skill["code"]: skill["level"] for skill in classroom.lab.skills}
    assert {(item.code, item.level) for item in items} == set(stated.items())
    assert all(item.url == f"/labs/digits/submissions/{submission.pk}/" for item in items)
    assert all(item.title_en == classroom.lab.title_en for item in items)
    assert items[0].issuer.startswith(f"{submission.score:g}/{submission.max_score:g}")
