"""The consortium's pages and dashboard panels, as administrators and operators see them."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client

from oneteam.consortium import actions
from oneteam.consortium.models import Invitation, Membership, Organization, Role
from tests.factories import (
    PASSWORD,
    make_admin,
    make_membership,
    make_operator,
    make_organization,
    make_person,
)

pytestmark = pytest.mark.django_db


def sign_in(client: Client, email: str) -> None:
    response = client.post("/accounts/sign-in/", {"email": email, "password": PASSWORD})
    assert response.status_code == 302


def test_the_directory_shows_names_in_the_viewers_language(client: Client) -> None:
    make_organization(slug="kaist", name_ko="한국과학기술원", name_en="KAIST", kind="university")
    korean = client.get("/consortium/").content.decode()
    assert "한국과학기술원" in korean and "원장에 등록되지 않음" in korean
    english = client.get("/consortium/", HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert "KAIST" in english and "Not registered" in english and "University" in english


def test_an_operator_adds_an_organization_and_starts_its_joining(client: Client) -> None:
    operator = make_operator()
    sign_in(client, operator.email)
    response = client.post("/consortium/alliance/new/", {
        "slug": "Not ok", "name_ko": "네이버", "name_en": "NAVER", "kind": "company"})
    assert response.status_code == 422
    assert 'data-field="slug"' in response.content.decode()
    response = client.post("/consortium/alliance/new/", {
        "slug": "naver", "name_ko": "네이버", "name_en": "NAVER", "kind": "company"})
    assert response.status_code == 302 and response["Location"] == "/consortium/orgs/naver/"
    page = client.get("/consortium/orgs/naver/").content.decode()
    assert 'action="/consortium/orgs/naver/join/"' in page
    response = client.post("/consortium/orgs/naver/join/",
                           {"roles_chosen": "1", "roles": ["issuer"]})
    assert response.status_code == 302
    naver = Organization.objects.get(slug="naver")
    assert naver.ledger_state == "joining" and naver.ledger_roles == ["issuer"]
    page = client.get("/consortium/orgs/naver/").content.decode()
    # While joining, the status box polls itself.
    assert 'hx-get="/consortium/orgs/naver/ledger-status/"' in page
    alliance = client.get("/consortium/alliance/").content.decode()
    assert "naver" in alliance and "/consortium/alliance/new/" in alliance
    # The alliance page's bare button proposes the defaults of the organization's kind.
    make_organization(slug="snu", kind="university")
    alliance = client.get("/consortium/alliance/").content.decode()
    assert 'action="/consortium/orgs/snu/join/"' in alliance
    client.post("/consortium/orgs/snu/join/", {"next": "/consortium/alliance/"})
    assert Organization.objects.get(slug="snu").ledger_roles == ["issuer"]
    dashboard = client.get("/dashboard/").content.decode()
    assert 'data-panel="oneteam.consortium.dashboard.alliance_on_the_ledger"' in dashboard


def test_an_admin_adds_a_member_or_invites_one(client: Client, mailoutbox: list[Any]) -> None:
    kt = make_organization(slug="kt")
    admin = make_admin(kt)
    colleague = make_person(email="colleague@example.org")
    sign_in(client, admin.email)
    response = client.post("/consortium/orgs/kt/members/",
                           {"email": "colleague@example.org", "role": "recruiter"})
    assert response.status_code == 302
    assert Membership.objects.filter(person=colleague, role=Role.RECRUITER).exists()
    response = client.post("/consortium/orgs/kt/members/",
                           {"email": "newcomer@example.org", "role": "learner"})
    assert response.status_code == 302
    invitation = Invitation.objects.get()
    assert invitation.email == "newcomer@example.org"
    page = client.get("/consortium/orgs/kt/members/").content.decode()
    assert "newcomer@example.org" in page and "colleague@example.org" in page
    response = client.post(f"/consortium/orgs/kt/members/{colleague.pk}/roles/",
                           {"roles": ["instructor", "recruiter"]})
    assert response.status_code == 302
    assert set(Membership.objects.filter(person=colleague).values_list("role", flat=True)) == {
        "instructor", "recruiter"}
    client.post(f"/consortium/orgs/kt/members/{colleague.pk}/roles/", {})
    assert not Membership.objects.filter(person=colleague).exists()
    client.post(f"/consortium/orgs/kt/invitations/{invitation.pk}/withdraw/")
    invitation.refresh_from_db()
    assert invitation.withdrawn is not None
    response = client.post("/consortium/orgs/kt/members/", {"email": "nope", "role": "learner"})
    assert response.status_code == 422


def test_an_admin_sees_keys_and_pending_approvals(client: Client, did_host: str) -> None:
    kt = make_organization(slug="kt")
    kaist = make_organization(slug="kaist")
    admin = make_admin(kt)
    kt.ledger_state = "registered"
    kt.save()
    kaist.ledger_state = "proposed"
    kaist.ledger_approvals = ["alliance"]
    kaist.ledger_quorum = 2
    kaist.save()
    sign_in(client, admin.email)
    keys = client.get("/consortium/orgs/kt/keys/").content.decode()
    assert "z6Mk" in keys and "did:web:oneteam.example%3A8443:orgs:kt#key-1" in keys
    approvals = client.get("/consortium/orgs/kt/approvals/").content.decode()
    assert 'action="/consortium/orgs/kt/approvals/kaist/"' in approvals
    dashboard = client.get("/dashboard/").content.decode()
    assert 'data-panel="oneteam.consortium.dashboard.pending_approvals"' in dashboard
    assert 'data-panel="oneteam.consortium.dashboard.keys"' in dashboard
    assert 'data-panel="oneteam.consortium.dashboard.ledger_status"' in dashboard


def test_the_ledger_status_box_says_when_the_ledger_is_down(client: Client,
                                                            settings: Any) -> None:
    settings.ONETEAM_LEDGER_URL = "http://127.0.0.1:9"
    operator = make_operator()
    kaist = make_organization(slug="kaist")
    actions.do_start_joining(actor=operator, organization=kaist)
    fragment = client.get("/consortium/orgs/kaist/ledger-status/",
                          HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert "Joining" in fragment and 'hx-trigger="every 2s"' in fragment


def test_invitations_wait_on_the_invitees_dashboard(client: Client) -> None:
    kt = make_organization(slug="kt", name_ko="KT", name_en="KT")
    admin = make_admin(kt)
    actions.do_invite_member(actor=admin, organization=kt, email="new@example.org",
                             role=Role.LEARNER, origin="https://oneteam.example")
    make_person(email="new@example.org")
    sign_in(client, "new@example.org")
    dashboard = client.get("/dashboard/").content.decode()
    assert "/consortium/invitations/" in dashboard


def test_a_learner_sees_their_organizations(client: Client) -> None:
    hanyang = make_organization(slug="hanyang", name_ko="한양대학교", name_en="Hanyang")
    student = make_person()
    make_membership(student, hanyang, Role.LEARNER)
    sign_in(client, student.email)
    assert "한양대학교" in client.get("/dashboard/").content.decode()
