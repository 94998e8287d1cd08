"""The issuer's pages: the organizations' achievements and the form to define one, an
achievement's issuing forms and credentials with their status forms, the dashboard panel
and the navigation link; and who is refused."""

from __future__ import annotations

import re
from typing import Any

import pytest
from django.test import Client

from oneteam.academy import actions as academy_actions
from oneteam.consortium.models import Role
from oneteam.credentials import actions, views
from oneteam.credentials.models import (
    Achievement,
    AnchorState,
    CredentialState,
    IssuedCredential,
    StatusChange,
)
from oneteam.platform.errors import AccessDenied, InputError
from tests.credentials.app.conftest import Issuing
from tests.factories import PASSWORD, make_membership, make_organization, make_person
from tests.factories.academy import enroll, make_cohort, make_program
from tests.factories.labs import make_lab

ISSUING = "/credentials/issuing/"


def signed_in(person: Any) -> Client:
    """A client signed in as ``person``, reading the pages in English."""
    client = Client(headers={"accept-language": "en"})
    assert client.login(username=person.email, password=PASSWORD)
    return client


def page_of(achievement: Achievement) -> str:
    return f"{ISSUING}achievements/{achievement.public_id}/"


def error_on(response: Any, field: str) -> str:
    """The text of the error shown under ``field`` (the page must show one)."""
    found = re.search(rf'<p class="error"[^>]* data-field="{re.escape(field)}"[^>]*>([^<]*)</p>',
                      response.content.decode())
    assert found is not None, f"no error on {field}"
    return found.group(1)


def issue(issuing: Issuing, recipient: Any = None) -> IssuedCredential:
    return actions.do_issue_credential(actor=issuing.instructor,
                                       achievement=issuing.achievement,
                                       recipient=recipient or issuing.learner)


@pytest.mark.django_db
def test_the_pages_are_the_issuers_and_refuse_everyone_else(offline_issuing: Issuing) -> None:
    issuing = offline_issuing
    achievement_page = page_of(issuing.achievement)
    define = f"{ISSUING}orgs/kaist/achievements/"
    issue_one = f"{achievement_page}issue/"
    # Signed out: to the sign-in page.
    anonymous = Client()
    for path in (ISSUING, achievement_page):
        response = anonymous.get(path)
        assert response.status_code == 302 and "/sign-in/" in response["Location"]
    # A learner of the organization, an instructor of another: the list is refused
    # (403), the organization's achievements do not exist for them (404).
    member = make_person()
    make_membership(member, issuing.organization, Role.LEARNER)
    elsewhere = make_person()
    make_membership(elsewhere, make_organization(slug="other"), Role.INSTRUCTOR)
    for outsider, listing in ((issuing.learner, 403), (member, 403), (elsewhere, 200)):
        client = signed_in(outsider)
        assert client.get(ISSUING).status_code == listing
        assert issuing.achievement.name not in client.get(ISSUING).content.decode()
        assert client.get(achievement_page).status_code == 404
        assert client.post(issue_one, {"recipient_email": outsider.email,
                                       "cryptosuite": "eddsa-rdfc-2022"}).status_code == 404
        assert client.post(f"{achievement_page}deactivate/").status_code == 404
        assert client.post(define, {"name": "Mine now", "description": "d",
                                    "criteria_narrative": "c",
                                    "achievement_type": "Badge",
                                    "criteria_kind": "manual"}).status_code == 403
    assert not IssuedCredential.objects.exists()
    assert not Achievement.objects.filter(name="Mine now").exists()
    assert signed_in(elsewhere).post("/credentials/issuing/orgs/nobody/achievements/",
                                     {}).status_code == 404
    # The instructor: the organization's achievements, each with a link to its page.
    staff = signed_in(issuing.instructor)
    listing = staff.get(ISSUING)
    assert listing.status_code == 200
    html = listing.content.decode()
    assert f'href="{achievement_page}"' in html and "KAIST" in html
    assert 'id="id_kaist_name"' in html  # each organization's form has its own ids
    assert staff.get(achievement_page).status_code == 200
    assert staff.get(f"{achievement_page}nonsense/").status_code == 405
    assert staff.post(f"{achievement_page}nonsense/").status_code == 404


@pytest.mark.django_db
def test_the_navigation_links_the_issuing_page_for_issuers_only(
        offline_issuing: Issuing) -> None:
    link = f'href="{ISSUING}"'
    assert link in signed_in(offline_issuing.instructor).get("/academy/").content.decode()
    korean = Client()  # Korean first
    korean.login(username=offline_issuing.instructor.email, password=PASSWORD)
    assert f'<a href="{ISSUING}">발급</a>' in korean.get("/academy/").content.decode()
    assert "<h1>자격증명 발급</h1>" in korean.get(ISSUING).content.decode()
    assert link not in signed_in(offline_issuing.learner).get("/academy/").content.decode()
    assert link not in Client().get("/academy/").content.decode()


@pytest.mark.django_db
def test_defining_an_achievement_shows_each_error_on_its_field(
        offline_issuing: Issuing) -> None:
    issuing = offline_issuing
    own = make_program(owner=issuing.organization, courses=1, modules=1, lessons=1)
    foreign = make_program(courses=1, modules=1, lessons=1)
    staff = signed_in(issuing.instructor)
    define = f"{ISSUING}orgs/kaist/achievements/"
    base = {"name": "Data engineer", "description": "Moves data reliably.",
            "criteria_narrative": "Completed the data course.",
            "achievement_type": "Badge", "criteria_kind": "manual", "skills": "",
            "valid_days": ""}
    before = Achievement.objects.count()
    cases = [
        ({"criteria_kind": "course"}, "course", "Choose the course"),  # the action's
        ({"criteria_kind": "program"}, "program", "Choose the program"),
        ({"criteria_kind": "course", "course": foreign.courses.get().pk}, "course", ""),
        ({"criteria_kind": "lab_score"}, "lab_thresholds", "at least one lab"),
        ({"criteria_kind": "lab_score", "lab_thresholds": "no-such-lab 50"},
         "lab_thresholds", "Line 1: There is no lab no-such-lab"),
        ({"criteria_kind": "lab_score", "lab_thresholds": "digits"}, "lab_thresholds",
         "Line 1"),
        ({"valid_days": "0"}, "valid_days", "36500"),
        ({"skills": "Python\n | https://example.org/x"}, "skills", "Skill 2"),
        ({"skills": "Python\nSQL | ftp://example.org/sql"}, "skills", "http"),
        ({"name": " "}, "name", ""),
        ({"achievement_type": "Trophy"}, "achievement_type", ""),
    ]
    for change, field, words in cases:
        response = staff.post(define, {**base, **change})
        assert response.status_code == 422, change
        assert words in error_on(response, field), change
        # The form comes back open with what was typed.
        assert "<details class=\"define-achievement\" open>" in response.content.decode()
        assert "Moves data reliably." in response.content.decode()
    assert Achievement.objects.count() == before

    response = staff.post(define, {**base, "criteria_kind": "course",
                                   "course": own.courses.get().pk, "valid_days": "365",
                                   "skills": "Python\n\nSQL | https://example.org/sql\n"})
    assert response.status_code == 302
    made = Achievement.objects.get(name="Data engineer")
    assert response["Location"] == page_of(made)
    assert made.organization == issuing.organization and made.created_by == issuing.instructor
    assert made.course == own.courses.get() and made.program is None
    assert made.skills == [{"name": "Python", "url": ""},
                           {"name": "SQL", "url": "https://example.org/sql"}]
    assert made.valid_days == 365 and made.achievement_type == "Badge"
    # A manual achievement keeps no course, whatever the form carried.
    staff.post(define, {**base, "name": "By hand", "course": own.courses.get().pk})
    assert Achievement.objects.get(name="By hand").course is None
    # Lab scores: each line a lab and the lowest score that earns it.
    make_lab("digits", issuing.organization, program=own)
    response = staff.post(define, {**base, "name": "Digits", "criteria_kind": "lab_score",
                                   "lab_thresholds": "digits 90\n"})
    assert response.status_code == 302
    assert Achievement.objects.get(name="Digits").lab_thresholds == [
        {"lab": "digits", "score_min": 90}]


@pytest.mark.django_db
def test_issuing_to_one_learner_through_the_form(offline_issuing: Issuing) -> None:
    issuing = offline_issuing
    staff = signed_in(issuing.instructor)
    path = f"{page_of(issuing.achievement)}issue/"
    unknown = staff.post(path, {"recipient_email": "nobody@example.org",
                                "cryptosuite": "eddsa-rdfc-2022"})
    assert unknown.status_code == 422
    assert "signed up" in error_on(unknown, "recipient_email")
    wrong_suite = staff.post(path, {"recipient_email": issuing.learner.email,
                                    "cryptosuite": "rsa-2048"})
    assert wrong_suite.status_code == 422 and error_on(wrong_suite, "cryptosuite")
    assert not IssuedCredential.objects.exists()

    done = staff.post(path, {"recipient_email": issuing.learner.email.upper(),
                             "cryptosuite": "eddsa-jcs-2022"})
    assert done.status_code == 302 and done["Location"] == page_of(issuing.achievement)
    credential = IssuedCredential.objects.get()
    assert credential.recipient == issuing.learner
    assert credential.issued_by == issuing.instructor
    assert credential.document["proof"]["cryptosuite"] == "eddsa-jcs-2022"
    # Issuing again: the learner already holds it, said under the address.
    again = staff.post(path, {"recipient_email": issuing.learner.email,
                              "cryptosuite": "eddsa-rdfc-2022"})
    assert again.status_code == 422
    assert issuing.learner.display_name in error_on(again, "recipient_email")
    assert IssuedCredential.objects.count() == 1
    # The list: the recipient, waiting for its anchor (no ledger here), its pages.
    html = staff.get(page_of(issuing.achievement)).content.decode()
    assert f'id="credential-{credential.public_id}" data-state="active"' in html
    assert issuing.learner.email in html and 'data-anchored="false"' in html
    assert f'href="/credentials/verify/{credential.public_id}/"' in html
    assert f'href="/credentials/c/{credential.public_id}/"' in html
    # The organization's list counts it.
    assert 'data-issued="1"' in staff.get(ISSUING).content.decode()


@pytest.mark.django_db
def test_issuing_to_a_cohort_through_the_form(offline_issuing: Issuing) -> None:
    issuing = offline_issuing
    program = make_program(owner=issuing.organization, courses=1, modules=1, lessons=1)
    cohort = make_cohort(program, instructors=[issuing.instructor])
    completed = [make_person(display_name=f"Done {n}") for n in range(2)]
    learning = make_person(display_name="Still learning")
    for learner in completed:
        academy_actions.do_complete_enrollment(actor=None, enrollment=enroll(learner, cohort))
    enroll(learning, cohort)
    other_cohort = make_cohort(make_program(courses=1, modules=1, lessons=1))
    staff = signed_in(issuing.instructor)
    path = f"{page_of(issuing.achievement)}issue-cohort/"

    foreign = staff.post(path, {"cohort": other_cohort.pk, "completed_only": "1",
                                "cryptosuite": "eddsa-rdfc-2022"})
    assert foreign.status_code == 422 and error_on(foreign, "cohort")
    assert not IssuedCredential.objects.exists()

    first = staff.post(path, {"cohort": cohort.pk, "completed_only": "1",
                              "cryptosuite": "eddsa-rdfc-2022"})
    assert first.status_code == 302
    assert {c.recipient for c in IssuedCredential.objects.all()} == set(completed)
    assert all(c.cohort == cohort for c in IssuedCredential.objects.all())
    everyone = staff.post(path, {"cohort": cohort.pk, "completed_only": "0",
                                 "cryptosuite": "eddsa-jcs-2022"}, follow=True)
    assert "Issued 1 credentials" in everyone.content.decode()
    assert IssuedCredential.objects.get(recipient=learning).document["proof"][
        "cryptosuite"] == "eddsa-jcs-2022"
    assert IssuedCredential.objects.count() == 3
    nobody = staff.post(path, {"cohort": cohort.pk, "completed_only": "0",
                               "cryptosuite": "eddsa-rdfc-2022"})
    assert nobody.status_code == 302 and IssuedCredential.objects.count() == 3
    assert "Nobody to issue to" in staff.get(page_of(issuing.achievement)).content.decode()


@pytest.mark.django_db
def test_the_credentials_list_is_paginated(offline_issuing: Issuing,
                                           monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(views, "ISSUED_PER_PAGE", 2)
    issued = [issue(offline_issuing, make_person(display_name=f"P{n}")) for n in range(3)]
    staff = signed_in(offline_issuing.instructor)
    path = page_of(offline_issuing.achievement)
    first = staff.get(path).content.decode()
    second = staff.get(path, {"page": "2"}).content.decode()
    shown = [sum(f'id="credential-{c.public_id}"' in html for c in issued)
             for html in (first, second)]
    assert shown == [2, 1]
    assert 'rel="next"' in first and 'rel="prev"' in second
    assert "3 credentials issued" in first and "Page 2 of 2" in second


@pytest.mark.django_db
def test_revoking_from_the_list_records_the_reason(offline_issuing: Issuing) -> None:
    credential = issue(offline_issuing)
    staff = signed_in(offline_issuing.instructor)
    back = page_of(offline_issuing.achievement) + "?page=1"
    base = f"/credentials/c/{credential.public_id}/"
    # Without a reason nothing changes; the page says why.
    refused = staff.post(f"{base}revoke/", {"reason": "  ", "next": back}, follow=True)
    assert "required" in refused.content.decode()
    credential.refresh_from_db()
    assert credential.state == CredentialState.ACTIVE and not StatusChange.objects.exists()
    # With htmx, the row comes back, showing the refusal, then the suspension.
    htmx = {"HTTP_HX_REQUEST": "true"}
    row = staff.post(f"{base}suspend/", {"reason": "", "next": back}, **htmx)
    assert row.status_code == 200 and error_on(row, "reason")
    row = staff.post(f"{base}suspend/", {"reason": "Checking the records", "next": back},
                     **htmx)
    assert f'id="credential-{credential.public_id}" data-state="suspended"' in \
        row.content.decode()
    assert f'value="{back}"' in row.content.decode()
    # Without htmx: back to the list it came from.
    response = staff.post(f"{base}revoke/", {"reason": "Issued by mistake", "next": back})
    assert response.status_code == 302 and response["Location"] == back
    credential.refresh_from_db()
    assert credential.state == CredentialState.REVOKED
    change = StatusChange.objects.get(action="revoke")
    assert change.reason == "Issued by mistake" and change.actor == offline_issuing.instructor
    assert list(StatusChange.objects.values_list("action", flat=True)) == ["revoke", "suspend"]
    # Another site is never where it sends you back.
    other = issue(offline_issuing, make_person())
    away = staff.post(f"/credentials/c/{other.public_id}/suspend/",
                      {"reason": "x", "next": "https://elsewhere.example/"})
    assert away["Location"] == f"/credentials/c/{other.public_id}/"
    # A revoked credential has no status form left.
    html = staff.get(page_of(offline_issuing.achievement)).content.decode()
    row_html = html.split(f'id="credential-{credential.public_id}"', 1)[1].split("</tr>", 1)[0]
    assert "<form" not in row_html


@pytest.mark.django_db
def test_deactivating_an_achievement_stops_issuing(offline_issuing: Issuing) -> None:
    issuing = offline_issuing
    with pytest.raises(AccessDenied):
        actions.do_deactivate_achievement(actor=issuing.learner,
                                          achievement=issuing.achievement)
    issued = issue(issuing)
    staff = signed_in(issuing.instructor)
    page = page_of(issuing.achievement)
    assert staff.post(f"{page}deactivate/")["Location"] == page
    issuing.achievement.refresh_from_db()
    assert not issuing.achievement.is_active
    html = staff.get(page).content.decode()
    assert "issue-one" not in html and "reactivate/" in html
    with pytest.raises(InputError) as refused:
        issue(issuing, make_person())
    assert refused.value.field == "achievement"
    # Issuing through the page is refused with the reason; what was issued stays valid.
    response = staff.post(f"{page}issue/", {"recipient_email": make_person().email,
                                            "cryptosuite": "eddsa-rdfc-2022"})
    assert response.status_code == 422 and "no longer awarded" in response.content.decode()
    issued.refresh_from_db()
    assert issued.state == CredentialState.ACTIVE
    actions.do_reactivate_achievement(actor=issuing.instructor, achievement=issuing.achievement)
    issuing.achievement.refresh_from_db()
    assert issuing.achievement.is_active
    assert issue(issuing, make_person()).pk


@pytest.mark.django_db(transaction=True)
@pytest.mark.slow
def test_the_dashboard_panel_counts_and_names_the_latest_batch(issuing: Issuing) -> None:
    admin = make_person(display_name="Administrator")
    make_membership(admin, issuing.organization, Role.ADMIN)
    make_membership(admin, issuing.organization, Role.INSTRUCTOR)
    staff = signed_in(issuing.instructor)
    response = staff.post(f"{page_of(issuing.achievement)}issue/",
                          {"recipient_email": issuing.learner.email,
                           "cryptosuite": "eddsa-rdfc-2022"})
    assert response.status_code == 302
    credential = IssuedCredential.objects.select_related("batch").get()
    assert credential.batch is not None and credential.batch.state == AnchorState.ANCHORED
    batch = credential.batch
    # The list shows it anchored, linking its batch's record.
    html = staff.get(page_of(issuing.achievement)).content.decode()
    assert f'href="/credentials/anchors/{batch.label}"' in html
    assert f"{batch.height}" in html and 'data-anchored="true"' in html
    for person in (issuing.instructor, admin):
        dashboard = signed_in(person).get("/dashboard/").content.decode()
        # Once, in the section of the viewer's highest role there.
        assert dashboard.count('data-organization="kaist"') == 1
        row = dashboard.split('data-organization="kaist"', 1)[1].split("</tr>", 1)[0]
        assert '<td data-count="recent">1</td>' in row
        assert '<td data-count="waiting">0</td>' in row
        assert '<td data-count="anchored">1</td>' in row
        assert f"/credentials/anchors/{batch.label}" in row and str(batch.height) in row
        assert f'href="{ISSUING}"' in dashboard
    # A learner has no such panel.
    assert 'data-organization="kaist"' not in \
        signed_in(issuing.learner).get("/dashboard/").content.decode()
