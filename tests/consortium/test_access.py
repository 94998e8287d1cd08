"""An organization's private data (its members) stays inside it, via queries and the API."""

from __future__ import annotations

from typing import Any

import pytest

from oneteam.consortium import actions, queries
from oneteam.consortium.models import Membership, Role
from oneteam.platform.errors import AccessDenied, InputError, NotFound
from tests.conftest import ApiClient
from tests.factories import (
    make_admin,
    make_api_token,
    make_membership,
    make_organization,
    make_person,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def two_members() -> dict[str, Any]:
    kt = make_organization(slug="kt", name_en="KT")
    hanyang = make_organization(slug="hanyang", name_en="Hanyang University",
                                kind="university")
    kt_admin = make_admin(kt)
    hanyang_admin = make_admin(hanyang)
    student = make_person()
    make_membership(student, hanyang, Role.LEARNER)
    return {"kt": kt, "hanyang": hanyang, "kt_admin": kt_admin,
            "hanyang_admin": hanyang_admin, "student": student}


def test_an_admin_sees_their_own_members_and_no_one_elses(two_members: dict[str, Any]) -> None:
    kt_admin = two_members["kt_admin"]
    own = queries.access_members_by_organization_slug(kt_admin, "kt")
    assert [m.person for m in own] == [kt_admin]
    with pytest.raises(AccessDenied):
        queries.access_members_by_organization_slug(kt_admin, "hanyang")
    with pytest.raises(AccessDenied):
        queries.access_members_by_organization_slug(two_members["student"], "hanyang")
    with pytest.raises(NotFound):
        queries.access_members_by_organization_slug(kt_admin, "no-such-org")


def test_an_operator_sees_every_organizations_members(two_members: dict[str, Any]) -> None:
    operator = make_person(operator=True)
    members = queries.access_members_by_organization_slug(operator, "hanyang")
    assert {m.person for m in members} == {two_members["hanyang_admin"], two_members["student"]}


def test_no_one_changes_another_organizations_members(two_members: dict[str, Any]) -> None:
    kt_admin, hanyang = two_members["kt_admin"], two_members["hanyang"]
    with pytest.raises(AccessDenied):
        actions.do_add_membership(actor=kt_admin, organization=hanyang,
                                  email=kt_admin.email, role=Role.ADMIN)
    membership = Membership.objects.get(person=two_members["student"])
    with pytest.raises(AccessDenied):
        queries.access_membership_by_id(kt_admin, hanyang, membership.pk)
    with pytest.raises(AccessDenied):
        actions.do_remove_membership(actor=kt_admin, membership=membership)


def test_membership_input_is_checked(two_members: dict[str, Any]) -> None:
    kt, kt_admin = two_members["kt"], two_members["kt_admin"]
    with pytest.raises(InputError) as caught:
        actions.do_add_membership(actor=kt_admin, organization=kt, email="x@example.org",
                                  role=Role.LEARNER)
    assert caught.value.field == "email"
    with pytest.raises(InputError) as caught:
        actions.do_add_membership(actor=kt_admin, organization=kt,
                                  email=two_members["student"].email, role="boss")
    assert caught.value.field == "role"
    last_admin = Membership.objects.get(organization=kt, role=Role.ADMIN)
    with pytest.raises(InputError) as caught:
        actions.do_remove_membership(actor=kt_admin, membership=last_admin)
    assert caught.value.field == "role"


def test_organization_input_is_checked() -> None:
    operator = make_person(operator=True)
    good = {"slug": "etri", "name_ko": "한국전자통신연구원", "name_en": "ETRI",
            "kind": "research_institute"}
    for changes, field in (({"slug": "Not A Slug"}, "slug"), ({"name_ko": " "}, "name_ko"),
                           ({"name_en": ""}, "name_en"), ({"kind": "club"}, "kind")):
        with pytest.raises(InputError) as caught:
            actions.do_create_organization(actor=operator, **{**good, **changes})
        assert caught.value.field == field
    actions.do_create_organization(actor=operator, **good)
    with pytest.raises(InputError) as caught:
        actions.do_create_organization(actor=operator, **good)
    assert caught.value.field == "slug"
    with pytest.raises(AccessDenied):
        actions.do_create_organization(actor=make_person(), **{**good, "slug": "other"})


def test_the_api_keeps_members_private(api: ApiClient, two_members: dict[str, Any]) -> None:
    _, kt_secret = make_api_token(two_members["kt_admin"])
    orgs = api.get("/api/consortium/organizations", token=kt_secret).json()
    assert {o["slug"] for o in orgs} == {"kt", "hanyang"}
    assert api.get("/api/consortium/organizations/kt/members", token=kt_secret).status_code == 200
    response = api.get("/api/consortium/organizations/hanyang/members", token=kt_secret)
    assert response.status_code == 403
    assert set(response.json()) == {"message", "field"}
    response = api.post("/api/consortium/organizations/kt/members",
                        {"email": two_members["student"].email, "role": "recruiter"},
                        token=kt_secret)
    assert response.status_code == 201, response.content
    response = api.post("/api/consortium/organizations/kt/members",
                        {"email": two_members["student"].email, "role": "emperor"},
                        token=kt_secret)
    assert response.status_code == 422 and response.json()["field"] == "role"
    hanyang_member = Membership.objects.get(organization=two_members["hanyang"],
                                            role=Role.LEARNER)
    response = api.delete(f"/api/consortium/organizations/hanyang/members/{hanyang_member.pk}",
                          token=kt_secret)
    assert response.status_code == 403
    _, student_secret = make_api_token(two_members["student"])
    mine = api.get("/api/consortium/memberships/mine", token=student_secret).json()
    assert {(m["organization"]["slug"], m["role"]) for m in mine} == {
        ("hanyang", "learner"), ("kt", "recruiter")}
    assert api.get("/api/consortium/organizations").status_code == 200  # the directory is public
    assert api.get("/api/consortium/organizations/kt/members").status_code == 401


def test_keys_are_managed_by_their_organization_only(api: ApiClient,
                                                     two_members: dict[str, Any]) -> None:
    from oneteam.consortium.models import OrganizationKey

    kt_admin = two_members["kt_admin"]
    _, kt_secret = make_api_token(kt_admin)
    _, student_secret = make_api_token(two_members["student"])
    assert len(queries.access_keys_by_organization_slug(kt_admin, "kt")) == 1
    with pytest.raises(AccessDenied):
        queries.access_keys_by_organization_slug(kt_admin, "hanyang")
    with pytest.raises(AccessDenied):
        actions.do_rotate_organization_key(actor=kt_admin, organization=two_members["hanyang"])
    keys = api.get("/api/consortium/organizations/kt/keys", token=kt_secret)
    assert keys.status_code == 200
    assert set(keys.json()[0]) >= {"public_key_hex", "multikey", "state", "on_ledger"}
    assert not any("seed" in field or "private" in field for field in keys.json()[0])
    for path in ("/api/consortium/organizations/hanyang/keys",
                 "/api/consortium/organizations/hanyang/keys/rotate",
                 "/api/consortium/organizations/hanyang/keys/1/revoke"):
        call = api.get if path.endswith("keys") else api.post
        assert call(path, token=kt_secret).status_code == 403, path
        assert call(path, token=student_secret).status_code == 403, path
    assert api.get("/api/consortium/organizations/nobody/keys",
                   token=kt_secret).status_code == 404
    assert api.post("/api/consortium/organizations/kt/keys/7/revoke",
                    token=kt_secret).status_code == 404
    assert OrganizationKey.objects.filter(organization=two_members["hanyang"]).count() == 1
    # Revoking the current key is refused, naming the key.
    response = api.post("/api/consortium/organizations/kt/keys/1/revoke", token=kt_secret)
    assert response.status_code == 422 and response.json()["field"] == "key"
    rotated = api.post("/api/consortium/organizations/kt/keys/rotate", token=kt_secret)
    assert rotated.status_code == 201 and rotated.json()["state"] == "current"
    response = api.post("/api/consortium/organizations/kt/keys/1/revoke", token=kt_secret)
    assert response.status_code == 200 and response.json()["state"] == "revoked"


def test_the_private_pages_answer_403_to_other_organizations(
        client: Any, two_members: dict[str, Any]) -> None:
    from tests.factories import PASSWORD

    client.post("/accounts/sign-in/", {"email": two_members["kt_admin"].email,
                                       "password": PASSWORD})
    for page in ("members", "keys", "approvals", "ledger"):
        assert client.get(f"/consortium/orgs/kt/{page}/").status_code == 200, page
        assert client.get(f"/consortium/orgs/hanyang/{page}/").status_code == 403, page
    assert client.post("/consortium/orgs/hanyang/keys/rotate/").status_code == 403
    student = two_members["student"]
    assert client.post(f"/consortium/orgs/hanyang/members/{student.pk}/roles/",
                       {"roles": ["admin"]}).status_code == 403
    assert client.get("/consortium/alliance/").status_code == 403
    assert client.post("/consortium/orgs/hanyang/join/").status_code == 403
    # The public pages are public.
    assert client.get("/consortium/").status_code == 200
    assert client.get("/consortium/orgs/hanyang/").status_code == 200
    assert client.get("/consortium/orgs/nobody/").status_code == 404


def test_ledger_transactions_are_private(api: ApiClient, two_members: dict[str, Any]) -> None:
    operator = make_person(operator=True)
    hanyang = two_members["hanyang"]
    _, kt_secret = make_api_token(two_members["kt_admin"])
    _, hanyang_secret = make_api_token(two_members["hanyang_admin"])
    _, operator_secret = make_api_token(operator)
    submission = actions.do_start_joining(actor=operator, organization=hanyang)
    assert api.get("/api/consortium/organizations/hanyang/ledger/transactions",
                   token=kt_secret).status_code == 403
    own = api.get("/api/consortium/organizations/hanyang/ledger/transactions",
                  token=hanyang_secret)
    assert [t["id"] for t in own.json()] == [submission.pk]
    assert "wire" not in own.json()[0]
    assert api.get(f"/api/consortium/ledger/transactions/{submission.pk}",
                   token=kt_secret).status_code == 404
    assert api.get(f"/api/consortium/ledger/transactions/{submission.pk}",
                   token=operator_secret).status_code == 200
    assert api.post(f"/api/consortium/ledger/transactions/{submission.pk}/retry",
                    token=kt_secret).status_code == 404
    # Not failed (waiting for the ledger): nothing to retry.
    response = api.post(f"/api/consortium/ledger/transactions/{submission.pk}/retry",
                        token=operator_secret)
    assert response.status_code == 422
    assert api.get("/api/consortium/alliance", token=kt_secret).status_code == 403
    assert api.get("/api/consortium/alliance", token=operator_secret).status_code == 200


def test_only_operators_add_organizations_and_start_joining(
        api: ApiClient, two_members: dict[str, Any]) -> None:
    _, kt_secret = make_api_token(two_members["kt_admin"])
    _, operator_secret = make_api_token(make_person(operator=True))
    body = {"slug": "etri", "name_ko": "한국전자통신연구원", "name_en": "ETRI",
            "kind": "research_institute"}
    assert api.post("/api/consortium/organizations", body, token=kt_secret).status_code == 403
    created = api.post("/api/consortium/organizations", body, token=operator_secret)
    assert created.status_code == 201
    assert created.json()["ledger"]["state"] == "not_registered"
    assert api.post("/api/consortium/organizations/etri/join", {},
                    token=kt_secret).status_code == 403
