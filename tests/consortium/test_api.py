"""The consortium API: the directory, errors that name the field, members and invitations."""

from __future__ import annotations

from typing import Any

import pytest
from django.core import mail

from oneteam.consortium import actions, outbox
from oneteam.consortium.models import Invitation, LedgerSubmission, Membership, Role
from oneteam.platform.errors import InputError
from tests.conftest import ApiClient
from tests.factories import (
    PASSWORD,
    make_admin,
    make_api_token,
    make_membership,
    make_operator,
    make_organization,
    make_person,
)

pytestmark = pytest.mark.django_db


def test_the_directory_is_public_with_names_kind_did_and_ledger_status(
        api: ApiClient, did_host: str) -> None:
    make_organization(slug="kaist", name_ko="한국과학기술원", name_en="KAIST", kind="university")
    directory = api.get("/api/consortium/organizations").json()
    assert [o["slug"] for o in directory] == ["kaist"]
    kaist = directory[0]
    assert (kaist["name_ko"], kaist["name_en"], kaist["kind"]) == (
        "한국과학기술원", "KAIST", "university")
    assert kaist["did"] == "did:web:oneteam.example%3A8443:orgs:kaist"
    assert kaist["did_document_url"].endswith("/orgs/kaist/did.json")
    assert kaist["ledger"]["state"] == "not_registered"
    detail = api.get("/api/consortium/organizations/kaist").json()
    assert detail["keys"][0]["multikey"].startswith("z6Mk")
    assert detail["keys"][0]["verification_method"] == kaist["did"] + "#key-1"
    assert api.get("/api/consortium/organizations/nobody").json()["field"] is None


def test_errors_name_the_field(api: ApiClient) -> None:
    operator = make_operator()
    _, token = make_api_token(operator)
    make_organization(slug="kaist")
    cases = [
        ({"slug": "Bad Slug", "name_ko": "가", "name_en": "A", "kind": "company"}, "slug"),
        ({"slug": "ok", "name_ko": " ", "name_en": "A", "kind": "company"}, "name_ko"),
        ({"slug": "ok", "name_ko": "가", "name_en": "A", "kind": "club"}, "kind"),
        ({"slug": "kaist", "name_ko": "가", "name_en": "A", "kind": "company"}, "slug"),
        ({"name_ko": "가", "name_en": "A", "kind": "company"}, "slug"),
    ]
    for body, field in cases:
        response = api.post("/api/consortium/organizations", body, token=token)
        assert response.status_code == 422, body
        assert response.json()["field"] == field, (body, response.json())
        assert response.json()["message"]
    response = api.post("/api/consortium/organizations/kaist/join", {"roles": ["king"]},
                        token=token)
    assert response.status_code == 422 and response.json()["field"] == "roles"
    response = api.post("/api/consortium/organizations/kaist/join",
                        {"roles": ["issuer", "issuer"]}, token=token)
    assert response.json()["field"] == "roles"
    response = api.post("/api/consortium/organizations/kaist/join", {"roles": "issuer"},
                        token=token)
    assert response.status_code == 422 and response.json()["field"] == "roles"
    assert not LedgerSubmission.objects.exists()  # nothing half-written


def test_a_started_joining_cannot_start_twice(api: ApiClient) -> None:
    _, token = make_api_token(make_operator())
    make_organization(slug="kaist")
    first = api.post("/api/consortium/organizations/kaist/join", {}, token=token)
    assert first.status_code == 202
    assert first.json()["args"]["roles"] == ["issuer", "provider"]
    assert first.json()["args"]["org"] == "kaist"
    again = api.post("/api/consortium/organizations/kaist/join", {}, token=token)
    assert again.status_code == 422 and again.json()["field"] is None
    assert LedgerSubmission.objects.count() == 1


def test_ledger_transactions_are_checked_before_they_are_queued() -> None:
    kaist = make_organization(slug="kaist")
    with pytest.raises(InputError) as caught:
        actions.do_submit_ledger_transaction(kaist, "anchors.anchor_batch", {})
    assert caught.value.field is None  # not a member on the ledger yet
    kaist.ledger_state = "registered"
    kaist.save()
    with pytest.raises(InputError) as caught:
        actions.do_submit_ledger_transaction(kaist, "anchors.explode", {})
    assert caught.value.field == "op"
    with pytest.raises(InputError) as caught:
        actions.do_submit_ledger_transaction(
            kaist, "anchors.anchor_batch", {"batch_id": "b", "root": b"short", "count": 1})
    assert caught.value.field == "args.root"
    with pytest.raises(InputError) as caught:
        actions.do_submit_ledger_transaction(
            kaist, "anchors.anchor_batch", {"batch_id": "b", "root": bytes(32), "count": 0})
    assert caught.value.field == "args.count"
    with pytest.raises(InputError) as caught:
        actions.do_submit_ledger_transaction(
            kaist, "anchors.anchor_batch", {"batch_id": "b", "root": bytes(32)})
    assert caught.value.field == "args"
    assert not LedgerSubmission.objects.exists()
    encoded = outbox.encode_args("membership.approve", {"org": "kaist"})
    assert encoded.shown == {"org": "kaist"}


def test_admins_add_people_change_roles_and_remove_them(api: ApiClient) -> None:
    kt = make_organization(slug="kt")
    admin = make_admin(kt)
    _, token = make_api_token(admin)
    colleague = make_person(email="colleague@example.org")
    response = api.post("/api/consortium/organizations/kt/members",
                        {"email": "Colleague@Example.org", "role": "instructor"}, token=token)
    assert response.status_code == 201
    path = f"/api/consortium/organizations/kt/people/{colleague.pk}/roles"
    response = api.client.put(path, '{"roles": ["recruiter", "admin"]}',
                              content_type="application/json",
                              HTTP_AUTHORIZATION=f"Bearer {token}")
    assert response.status_code == 200 and response.json()["roles"] == ["admin", "recruiter"]
    response = api.client.put(path, '{"roles": ["dean"]}', content_type="application/json",
                              HTTP_AUTHORIZATION=f"Bearer {token}")
    assert response.status_code == 422 and response.json()["field"] == "roles"
    # The last administrator cannot drop the role.
    mine = f"/api/consortium/organizations/kt/people/{admin.pk}/roles"
    api.client.put(path, '{"roles": []}', content_type="application/json",
                   HTTP_AUTHORIZATION=f"Bearer {token}")
    assert not Membership.objects.filter(person=colleague).exists()
    response = api.client.put(mine, '{"roles": ["learner"]}', content_type="application/json",
                              HTTP_AUTHORIZATION=f"Bearer {token}")
    assert response.status_code == 422 and response.json()["field"] == "roles"
    outsider = make_person()
    response = api.client.put(f"/api/consortium/organizations/kt/people/{outsider.pk}/roles",
                              '{"roles": ["learner"]}', content_type="application/json",
                              HTTP_AUTHORIZATION=f"Bearer {token}")
    assert response.status_code == 404


def test_an_invitation_brings_a_new_person_in(api: ApiClient, client: Any,
                                              mailoutbox: list[Any]) -> None:
    kt = make_organization(slug="kt", name_ko="KT", name_en="KT")
    admin = make_admin(kt)
    _, token = make_api_token(admin)
    response = api.post("/api/consortium/organizations/kt/invitations",
                        {"email": "new@example.org", "role": "instructor"}, token=token)
    assert response.status_code == 201, response.content
    link = response.json()["link"]
    assert "/consortium/invitations/" in link
    response = api.post("/api/consortium/organizations/kt/invitations",
                        {"email": "not an address", "role": "instructor"}, token=token)
    assert response.status_code == 422 and response.json()["field"] == "email"
    token_part = link.rstrip("/").rsplit("/", 1)[1]
    # Someone else signed in cannot use it.
    other = make_person(email="other@example.org")
    _, other_token = make_api_token(other)
    response = api.post("/api/consortium/invitations/accept", {"token": token_part},
                        token=other_token)
    assert response.status_code == 422 and response.json()["field"] == "token"
    response = api.post("/api/consortium/invitations/accept", {"token": "forged"},
                        token=other_token)
    assert response.status_code == 422 and response.json()["field"] == "token"
    # The invitee signs up with the invited address and accepts.
    invitee = make_person(email="new@example.org")
    client.post("/accounts/sign-in/", {"email": invitee.email, "password": PASSWORD})
    page = client.get(f"/consortium/invitations/{token_part}/")
    assert page.status_code == 200
    response = client.post(f"/consortium/invitations/{token_part}/")
    assert response.status_code == 302
    assert Membership.objects.filter(person=invitee, organization=kt,
                                     role=Role.INSTRUCTOR).exists()
    assert Invitation.objects.get().accepted is not None
    response = client.post(f"/consortium/invitations/{token_part}/")
    assert response.status_code == 422  # used


def test_the_invitation_email_is_sent_after_commit(
        django_capture_on_commit_callbacks: Any, mailoutbox: list[Any]) -> None:
    kt = make_organization(slug="kt", name_ko="KT", name_en="KT")
    admin = make_admin(kt)
    with django_capture_on_commit_callbacks(execute=True):
        actions.do_invite_member(actor=admin, organization=kt, email="new@example.org",
                                 role=Role.LEARNER, origin="https://oneteam.example")
    assert len(mail.outbox) == 1
    message = mail.outbox[0]
    assert message.to == ["new@example.org"]
    assert "https://oneteam.example/consortium/invitations/" in message.body
    assert "KT" in message.subject


def test_memberships_of_another_organization_cannot_be_changed(api: ApiClient) -> None:
    kt, hanyang = make_organization(slug="kt"), make_organization(slug="hanyang")
    _, token = make_api_token(make_admin(kt))
    student = make_person()
    make_membership(student, hanyang, Role.LEARNER)
    response = api.client.put(f"/api/consortium/organizations/hanyang/people/{student.pk}/roles",
                              '{"roles": []}', content_type="application/json",
                              HTTP_AUTHORIZATION=f"Bearer {token}")
    assert response.status_code == 403
    assert api.post("/api/consortium/organizations/hanyang/invitations",
                    {"email": "x@example.org", "role": "admin"},
                    token=token).status_code == 403
    assert api.get("/api/consortium/organizations/hanyang/invitations",
                   token=token).status_code == 403
    assert api.get("/api/consortium/organizations/hanyang/approvals",
                   token=token).status_code == 403
    assert Membership.objects.filter(person=student).exists()
