"""Postings, search with explanations (both languages), applications, fairs, outcomes."""

from __future__ import annotations

import csv
import datetime
import io
from typing import Any

import pytest
from django.test import Client
from django.utils import timezone

from oneteam.academy import actions as academy_actions
from oneteam.consortium.models import Role
from oneteam.platform.errors import AccessDenied, InputError
from oneteam.talent import actions, queries
from oneteam.talent.models import (
    ApplicationEvent,
    Audience,
    FairStatus,
    Placement,
    ProfileView,
)
from tests.factories import PASSWORD, make_membership, make_organization, make_person
from tests.factories.academy import make_cohort, make_program
from tests.factories.talent import (
    issue_credential,
    make_company,
    make_learner,
    make_posting,
    make_recruiter,
)

pytestmark = pytest.mark.django_db


def signed_in(person: Any) -> Client:
    client = Client()
    assert client.post("/accounts/sign-in/", {"email": person.email,
                                              "password": PASSWORD}).status_code == 302
    return client


def test_a_posting_names_each_wrong_field() -> None:
    company = make_company()
    recruiter = make_recruiter(company)
    with pytest.raises(InputError) as error:
        make_posting(company, requirements=[{"code": "pytorch", "level": 3},
                                            {"code": "pytorch", "level": 2}])
    assert error.value.field == "requirements[1].code"
    with pytest.raises(InputError) as error:
        make_posting(company, language="fr")
    assert error.value.field == "language"
    with pytest.raises(InputError) as error:
        make_posting(company, deadline=timezone.localdate() - datetime.timedelta(days=1))
    assert error.value.field == "deadline"
    university = make_organization(kind="university")
    with pytest.raises(InputError) as error:
        make_posting(university)
    assert error.value.field == "organization"
    with pytest.raises(AccessDenied):
        actions.do_create_posting(actor=make_person(), organization=company, kind="job",
                                  industry="finance", language="ko", title="t",
                                  description="d", requirements=[{"code": "sql", "level": 1}])
    posting = make_posting(company)
    assert actions.do_update_posting(actor=recruiter, posting=posting,
                                     status="closed").status == "closed"


def test_best_candidates_explain_skills_and_evidence_and_respect_consent() -> None:
    company = make_company()
    recruiter = make_recruiter(company)
    posting = make_posting(company)
    strong, strong_profile = make_learner(
        headline="Computer vision engineer who trains defect detection models")
    credential = issue_credential(strong, skills=["PyTorch", "deep learning"])
    make_learner(headline="Deep learning enthusiast",
                 declared=[{"code": "pytorch", "level": 4}, {"code": "deep-learning",
                                                             "level": 4}])
    private, private_profile = make_learner(audience=Audience.NOBODY,
                                            declared=[{"code": "pytorch", "level": 5}])
    other = make_company()
    _chosen, chosen_profile = make_learner(audience=Audience.CHOSEN, chosen=(other.slug,),
                                           declared=[{"code": "pytorch", "level": 5}])
    results = queries.search_candidates_for_posting(recruiter, posting)
    ids = [found.profile.pk for found in results]
    assert ids[0] == strong_profile.pk
    assert results[0].result.explanation.ranks["skills"] == 1  # verified beats claimed
    assert private_profile.pk not in ids and chosen_profile.pk not in ids
    first = results[0].result.explanation
    pytorch = next(s for s in first.skills if s.skill_id == "pytorch")
    assert pytorch.status == "evidenced" and pytorch.evidence.kind == "credential"
    assert results[0].evidence_links[pytorch.evidence.source] == (
        f"/credentials/verify/{credential.public_id}/")
    # the page shows the same, links the evidence, and logs each result as a view
    page = signed_in(recruiter).get(f"/talent/postings/{posting.pk}/candidates/")
    html = page.content.decode()
    assert page.status_code == 200
    assert f'data-candidate="{strong_profile.pk}"' in html
    assert f'data-candidate="{private_profile.pk}"' not in html
    assert f"/credentials/verify/{credential.public_id}/" in html
    assert ProfileView.objects.filter(profile=strong_profile, channel="search",
                                      posting=posting).count() == 1
    assert not ProfileView.objects.filter(profile=private_profile).exists()
    del private


def test_korean_queries_find_english_postings_and_the_reverse(client: Client) -> None:
    company = make_company()
    english = make_posting(company, title="Computer vision engineer", language="en",
                           description="Train defect detection models on factory images.")
    korean = make_posting(company, title="데이터 분석가", language="ko",
                          description="SQL과 판다스로 매출 데이터를 분석하고 시각화합니다.",
                          requirements=[{"code": "sql", "level": 3},
                                        {"code": "pandas", "level": 2}])
    person = make_person()
    client = signed_in(person)
    page = client.get("/talent/postings/", {"q": "컴퓨터 비전 딥러닝"}).content.decode()
    assert page.index(f'data-posting="{english.pk}"') < page.find(
        f'data-posting="{korean.pk}"') or f'data-posting="{korean.pk}"' not in page
    assert client.get("/api/talent/postings", {"q": "컴퓨터 비전 딥러닝"}).json()[0]["id"] == (
        english.pk)
    api = client.get("/api/talent/postings", {"q": "data analyst pandas"}).json()
    assert api[0]["id"] == korean.pk


def test_learners_get_recommendations_with_why() -> None:
    company = make_company()
    vision = make_posting(company)
    make_posting(company, title="Accountant", description="Monthly statements and tax.",
                 requirements=[{"code": "ai-finance", "level": 1}])
    learner, _profile = make_learner(audience=Audience.NOBODY)
    issue_credential(learner, skills=["pytorch", "deep-learning", "computer vision"])
    found = queries.recommended_postings(learner)
    assert found[0].posting == vision
    assert {s.skill_id for s in found[0].result.explanation.skills
            if s.status == "evidenced"} == {"pytorch", "deep-learning", "computer-vision"}
    panel = signed_in(learner).get("/talent/panels/learner/").content.decode()
    assert f'data-recommended="{vision.pk}"' in panel


def test_the_application_pipeline_allows_only_its_transitions_and_keeps_history() -> None:
    company = make_company()
    recruiter = make_recruiter(company)
    posting = make_posting(company)
    learner, _profile = make_learner()
    application = actions.do_apply(person=learner, posting=posting, message="Hello")
    with pytest.raises(InputError):
        actions.do_apply(person=learner, posting=posting)
    with pytest.raises(InputError) as error:
        actions.do_move_application(actor=recruiter, application=application, verb="offer")
    assert error.value.field == "action"
    with pytest.raises(AccessDenied):
        actions.do_move_application(actor=learner, application=application, verb="shortlist")
    with pytest.raises(AccessDenied):
        actions.do_move_application(actor=recruiter, application=application, verb="accept")
    for actor, verb in ((recruiter, "shortlist"), (recruiter, "interview"),
                        (recruiter, "offer"), (learner, "accept")):
        application = actions.do_move_application(actor=actor, application=application,
                                                  verb=verb)
    assert application.status == "accepted"
    assert list(ApplicationEvent.objects.filter(application=application).values_list(
        "to_status", flat=True)) == ["applied", "shortlisted", "interview", "offered",
                                     "accepted"]
    placement = Placement.objects.get(application=application)
    assert (placement.organization, placement.source) == (company, "offer")
    with pytest.raises(InputError):
        actions.do_move_application(actor=learner, application=application, verb="withdraw")


def test_the_pipeline_through_pages_and_api() -> None:
    company = make_company()
    recruiter = make_recruiter(company)
    posting = make_posting(company)
    learner, profile = make_learner(audience=Audience.NOBODY)
    learner_client, recruiter_client = signed_in(learner), signed_in(recruiter)
    # without consent the recruiter finds nothing, in pages and the API
    assert recruiter_client.get(f"/talent/candidates/{profile.pk}/").status_code == 404
    assert recruiter_client.get(f"/api/talent/candidates/{profile.pk}").status_code == 404
    assert learner_client.post(f"/talent/postings/{posting.pk}/apply/",
                               {"message": "Hi"}).status_code == 302
    rows = recruiter_client.get(f"/talent/postings/{posting.pk}/applications/")
    application = posting.applications.get()
    assert f'data-application="{application.pk}"' in rows.content.decode()
    response = recruiter_client.post(
        f"/talent/applications/{application.pk}/shortlist/", HTTP_HX_REQUEST="true")
    assert 'data-status="shortlisted"' in response.content.decode()
    refused = recruiter_client.post(f"/talent/applications/{application.pk}/accept/",
                                    HTTP_HX_REQUEST="true")
    assert refused.status_code == 403
    body = recruiter_client.get(f"/api/talent/candidates/{profile.pk}?posting={posting.pk}")
    assert body.status_code == 200 and body.json()["organization"] == company.slug
    views = learner_client.get("/api/talent/me/profile/views").json()
    assert [(v["channel"], v["organization"], v["posting"]) for v in views] == [
        ("api", company.slug, posting.pk)]
    assert learner_client.post(f"/api/talent/applications/{application.pk}/withdraw",
                               {}, content_type="application/json").json()["status"] == (
        "withdrawn")
    assert recruiter_client.get(f"/talent/candidates/{profile.pk}/").status_code == 404


def test_the_api_names_wrong_fields() -> None:
    company = make_company()
    recruiter = make_recruiter(company)
    client = signed_in(recruiter)
    response = client.post("/api/talent/postings", {
        "organization": company.slug, "kind": "job", "industry": "finance", "language": "ko",
        "title": "분석가", "description": "분석", "requirements": [{"code": "nope", "level": 2}]},
        content_type="application/json")
    assert response.status_code == 422 and response.json()["field"] == "requirements[0].code"
    response = client.put("/api/talent/me/profile/visibility", {"audience": "everyone"},
                          content_type="application/json")
    assert response.status_code == 422 and response.json()["field"] == "audience"


def _fair_setup() -> tuple[Any, ...]:
    kaist = make_organization(kind="university")
    organizer = make_person()
    make_membership(organizer, kaist, Role.INSTRUCTOR)
    lg, dongwon = make_company(), make_company()
    lg_recruiter, dongwon_recruiter = make_recruiter(lg), make_recruiter(dongwon)
    fair = actions.do_create_fair(actor=organizer, organization=kaist, name="Matching day")
    vision = actions.do_add_fair_position(actor=lg_recruiter, fair=fair,
                                          posting=make_posting(lg), capacity=1)
    demand = actions.do_add_fair_position(actor=organizer, fair=fair,
                                          posting=make_posting(dongwon, title="수요 예측"),
                                          capacity=1)
    return organizer, fair, vision, demand, lg_recruiter, dongwon_recruiter


def test_a_fair_matches_stably_and_explains_each_side() -> None:
    organizer, fair, vision, demand, lg_recruiter, dongwon_recruiter = _fair_setup()
    alice, _p1 = make_learner(audience=Audience.NOBODY, display_name="Alice")
    bob, _p2 = make_learner(audience=Audience.NOBODY, display_name="Bob")
    for person in (alice, bob):
        actions.do_join_fair(person=person, fair=fair)
    # joining shares the profile with the fair's companies
    assert queries.recruiting_organization_for(lg_recruiter, bob.talent_profile) is not None
    # both want the vision job; it prefers Bob
    actions.do_rank_positions(person=alice, fair=fair, position_ids=[vision.pk, demand.pk])
    actions.do_rank_positions(person=bob, fair=fair, position_ids=[vision.pk])
    with pytest.raises(AccessDenied):
        actions.do_rank_participants(actor=dongwon_recruiter, position=vision,
                                     person_ids=[alice.pk])
    with pytest.raises(InputError) as error:
        actions.do_rank_participants(actor=lg_recruiter, position=vision,
                                     person_ids=[bob.pk, 999_999])
    assert error.value.field == "people[1]"
    actions.do_rank_participants(actor=lg_recruiter, position=vision,
                                 person_ids=[bob.pk, alice.pk])
    actions.do_rank_participants(actor=dongwon_recruiter, position=demand,
                                 person_ids=[alice.pk])
    with pytest.raises(AccessDenied):
        actions.do_run_fair(actor=lg_recruiter, fair=fair)
    fair = actions.do_run_fair(actor=organizer, fair=fair)
    assert fair.status == FairStatus.MATCHED and fair.statistics["matched"] == 2
    alice_result = fair.participants.get(person=alice)
    assert alice_result.matched_position == demand
    assert alice_result.explanation["choice"] == 2
    assert alice_result.explanation["preferred"] == [{
        "position": vision.pk, "choice": 1, "reason": "filled", "your_rank": 2,
        "cutoff_rank": 1, "capacity": 1}]
    assert Placement.objects.filter(fair=fair).count() == 2
    page = signed_in(alice).get(f"/talent/fairs/{fair.pk}/").content.decode()
    assert 'data-reason="filled"' in page
    company_page = signed_in(lg_recruiter).get(f"/talent/fairs/{fair.pk}/").content.decode()
    assert f'data-admitted="{vision.pk}"' in company_page and "Bob" in company_page
    with pytest.raises(InputError):
        actions.do_join_fair(person=make_person(), fair=fair)


def test_outcomes_count_placements_within_six_months_of_the_cohort_end() -> None:
    owner = make_organization(kind="university")
    program = make_program(owner=owner)
    staff = make_person()
    make_membership(staff, owner, Role.ADMIN)
    cohort = make_cohort(program, organization=owner)
    learners = [make_person() for _ in range(4)]
    for person in learners:
        academy_actions.do_join_cohort(person=person, cohort=cohort)
    # the cohort ended 250 days ago (its dates moved back after the learners joined)
    end = timezone.localdate() - datetime.timedelta(days=250)
    type(cohort).objects.filter(pk=cohort.pk).update(
        starts_on=end - datetime.timedelta(days=90), ends_on=end)
    company = make_company(name_ko="엘지", name_en="LG")
    actions.do_record_placement(actor=learners[0], person=learners[0], employer="",
                                organization=company, role="ML engineer", started_on=end)
    actions.do_record_placement(actor=staff, person=learners[1], employer="Startup",
                                role="ML engineer", started_on=end + datetime.timedelta(
                                    days=100))
    actions.do_record_placement(actor=learners[2], person=learners[2], employer="Late",
                                role="Analyst", started_on=end + datetime.timedelta(days=200))
    with pytest.raises(AccessDenied):
        actions.do_record_placement(actor=make_person(), person=learners[3], employer="X",
                                    role="Y", started_on=end)
    outcomes = queries.access_program_outcomes_by_slug(staff, program.slug)
    assert (outcomes.learners, outcomes.placed, outcomes.percent) == (4, 2, 50)
    assert outcomes.cohorts[0].finished
    assert dict(outcomes.by_role) == {"ML engineer": 2}
    assert dict(outcomes.by_company) == {"엘지": 1, "Startup": 1}
    with pytest.raises(AccessDenied):
        queries.access_program_outcomes_by_slug(make_person(), program.slug)
    client = signed_in(staff)
    page = client.get(f"/talent/outcomes/{program.slug}/").content.decode()
    assert 'data-percent="50"' in page
    response = client.get(f"/talent/outcomes/{program.slug}.csv")
    text = response.content.decode("utf-8-sig")
    rows = list(csv.reader(io.StringIO(text)))
    assert rows[1][4:7] == ["4", "2", "50"]
    assert rows[-1][-2:] == ["ML engineer", "2"]
