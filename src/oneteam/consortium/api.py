"""The consortium API, mounted at /api/consortium/ (organizations and their members)."""

from __future__ import annotations

import datetime

from django.http import HttpRequest
from ninja import Router, Schema, Status
from ninja.errors import AuthenticationError

from oneteam.accounts.auth import api_auth
from oneteam.accounts.models import Person
from oneteam.consortium import actions, queries
from oneteam.consortium.models import Membership, Organization

router = Router(tags=["consortium"], auth=api_auth)


class OrganizationOut(Schema):
    slug: str
    name_ko: str
    name_en: str
    kind: str
    is_demo: bool


class MemberOut(Schema):
    id: int
    organization: str
    email: str
    display_name: str
    role: str
    created: datetime.datetime


class MembershipIn(Schema):
    email: str
    role: str


class MyMembershipOut(Schema):
    organization: OrganizationOut
    role: str


def _person(request: HttpRequest) -> Person:
    auth = getattr(request, "auth", None)
    if not isinstance(auth, Person):
        raise AuthenticationError()
    return auth


def _member_out(membership: Membership) -> MemberOut:
    return MemberOut(id=membership.pk, organization=membership.organization.slug,
                     email=membership.person.email,
                     display_name=membership.person.display_name, role=membership.role,
                     created=membership.created)


@router.get("/organizations", response=list[OrganizationOut], summary="Member organizations")
def list_organizations(request: HttpRequest) -> list[Organization]:
    return list(queries.access_organizations(_person(request)))


@router.get("/organizations/{slug}", response=OrganizationOut, summary="A member organization")
def get_organization(request: HttpRequest, slug: str) -> Organization:
    return queries.access_organization_by_slug(_person(request), slug)


@router.get("/organizations/{slug}/members", response=list[MemberOut],
            summary="An organization's members (its administrators and operators only)")
def list_members(request: HttpRequest, slug: str) -> list[MemberOut]:
    return [_member_out(m)
            for m in queries.access_members_by_organization_slug(_person(request), slug)]


@router.post("/organizations/{slug}/members", response={201: MemberOut},
             summary="Give a person a role in the organization")
def add_member(request: HttpRequest, slug: str,
               payload: MembershipIn) -> Status[MemberOut]:
    viewer = _person(request)
    organization = queries.access_organization_by_slug(viewer, slug)
    membership = actions.do_add_membership(actor=viewer, organization=organization,
                                           email=payload.email, role=payload.role)
    return Status(201, _member_out(membership))


@router.delete("/organizations/{slug}/members/{membership_id}", response=MemberOut,
               summary="End a membership")
def remove_member(request: HttpRequest, slug: str, membership_id: int) -> MemberOut:
    viewer = _person(request)
    organization = queries.access_organization_by_slug(viewer, slug)
    membership = queries.access_membership_by_id(viewer, organization, membership_id)
    gone = _member_out(membership)
    actions.do_remove_membership(actor=viewer, membership=membership)
    return gone


@router.get("/memberships/mine", response=list[MyMembershipOut], summary="My organizations")
def my_memberships(request: HttpRequest) -> list[MyMembershipOut]:
    return [MyMembershipOut(organization=OrganizationOut.model_validate(m.organization),
                            role=m.role)
            for m in queries.memberships_of(_person(request))]
