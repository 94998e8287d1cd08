"""The consortium API, mounted at /api/consortium/: everything the consortium pages do.

Public (no credentials): the directory, an organization with its DID, public keys and
ledger status. Everything else needs a person (``api_auth``); the queries decide who
may see what. Private keys are never in any answer.
"""

from __future__ import annotations

import datetime
from typing import Any

from django.http import HttpRequest
from django.urls import reverse
from django.utils import timezone
from ninja import Router, Schema, Status

from oneteam.accounts.auth import api_auth
from oneteam.consortium import actions, identity, queries
from oneteam.consortium.models import (
    Invitation,
    LedgerSubmission,
    Membership,
    Organization,
    OrganizationKey,
    SubmissionError,
)
from oneteam.platform.http import api_person as _person
from oneteam.platform.http import origin_of

router = Router(tags=["consortium"], auth=api_auth)
REFRESH_INTERVAL_S = 2


# --- schemas ----------------------------------------------------------------------------------


class LedgerStatusOut(Schema):
    state: str
    label: str
    detail: str
    pending: bool
    approvals: list[str]
    quorum: int | None
    height: int | None
    txid: str
    proof_verified: bool
    reason: str
    retry_at: datetime.datetime | None
    attempts: int
    checked: datetime.datetime | None


class PublicKeyOut(Schema):
    number: int
    state: str
    public_key_hex: str
    multikey: str
    verification_method: str | None


class OrganizationOut(Schema):
    slug: str
    name_ko: str
    name_en: str
    kind: str
    is_demo: bool
    did: str | None
    did_document_url: str
    ledger: LedgerStatusOut


class OrganizationDetailOut(OrganizationOut):
    keys: list[PublicKeyOut]


class OrganizationIn(Schema):
    slug: str
    name_ko: str
    name_en: str
    kind: str


class JoinIn(Schema):
    roles: list[str] | None = None


class MemberOut(Schema):
    id: int
    organization: str
    person_id: int
    email: str
    display_name: str
    role: str
    created: datetime.datetime


class PersonRolesOut(Schema):
    person_id: int
    email: str
    display_name: str
    roles: list[str]


class MembershipIn(Schema):
    email: str
    role: str


class RolesIn(Schema):
    roles: list[str]


class MyMembershipOut(Schema):
    organization: OrganizationOut
    role: str


class InvitationIn(Schema):
    email: str
    role: str


class InvitationOut(Schema):
    id: int
    organization: str
    email: str
    role: str
    created: datetime.datetime
    expires: datetime.datetime
    accepted: datetime.datetime | None
    withdrawn: datetime.datetime | None
    is_open: bool
    link: str | None


class AcceptIn(Schema):
    token: str


class KeyOut(Schema):
    number: int
    state: str
    public_key_hex: str
    multikey: str
    verification_method: str | None
    on_ledger: bool
    ledger_pending: str
    created: datetime.datetime
    retired: datetime.datetime | None
    revoked: datetime.datetime | None


class SubmissionOut(Schema):
    id: int
    op: str
    purpose: str
    signer: str | None
    subject: str | None
    args: dict[str, Any]
    state: str
    state_label: str
    txid: str
    height: int | None
    receipt_code: str
    receipt_reason: str
    proof_verified: bool
    attempts: int
    next_attempt: datetime.datetime
    error_code: str
    error: str
    details: str
    created: datetime.datetime
    updated: datetime.datetime


class PendingApprovalOut(Schema):
    organization: OrganizationOut
    sending: bool


class ProposalOut(Schema):
    slug: str
    name: str
    ledger: LedgerStatusOut


class AllianceOut(Schema):
    organizations: int
    registered: int
    people: int
    ledger_ok: bool
    chain_id: str
    ledger_height: int | None
    ledger_members: int | None
    proposals: list[ProposalOut]
    failed: list[ProposalOut]
    waiting_submissions: int
    failed_submissions: int


# --- helpers ----------------------------------------------------------------------------------




def _viewer(request: HttpRequest) -> Any:
    return request.user


def _did(organization: Organization, request: HttpRequest) -> str | None:
    try:
        return queries.organization_did(organization, request)
    except identity.DidUnavailable:
        return None


def _ledger_out(organization: Organization) -> LedgerStatusOut:
    status = queries.ledger_status(organization)
    return LedgerStatusOut(
        state=status.state, label=status.label, detail=status.detail, pending=status.pending,
        approvals=status.approvals, quorum=status.quorum, height=status.height,
        txid=status.txid, proof_verified=status.proof_verified, reason=status.reason,
        retry_at=status.retry_at, attempts=status.attempts, checked=status.checked)


def _organization_out(organization: Organization, request: HttpRequest) -> OrganizationOut:
    return OrganizationOut(
        slug=organization.slug, name_ko=organization.name_ko, name_en=organization.name_en,
        kind=organization.kind, is_demo=organization.is_demo, did=_did(organization, request),
        did_document_url=request.build_absolute_uri(
            reverse("consortium-did", args=[organization.slug])),
        ledger=_ledger_out(organization))


def _method(did: str | None, key: OrganizationKey) -> str | None:
    return f"{did}#{key.fragment}" if did else None


def _member_out(membership: Membership) -> MemberOut:
    return MemberOut(id=membership.pk, organization=membership.organization.slug,
                     person_id=membership.person.pk, email=membership.person.email,
                     display_name=membership.person.display_name, role=membership.role,
                     created=membership.created)


def _invitation_out(invitation: Invitation, request: HttpRequest) -> InvitationOut:
    link = None
    if invitation.is_open():
        link = request.build_absolute_uri(
            reverse("consortium:invitation", args=[actions.invitation_token(invitation)]))
    return InvitationOut(id=invitation.pk, organization=invitation.organization.slug,
                         email=invitation.email, role=invitation.role,
                         created=invitation.created, expires=invitation.expires,
                         accepted=invitation.accepted, withdrawn=invitation.withdrawn,
                         is_open=invitation.is_open(), link=link)


def _submission_out(submission: LedgerSubmission) -> SubmissionOut:
    error = (str(SubmissionError(submission.error_code).label)
             if submission.error_code in SubmissionError.values else "")
    return SubmissionOut(
        id=submission.pk, op=submission.op, purpose=submission.purpose,
        signer=submission.signer.slug if submission.signer else None,
        subject=submission.subject.slug if submission.subject else None,
        args=submission.args_shown, state=submission.state,
        state_label=str(submission.get_state_display()), txid=submission.txid,
        height=submission.height, receipt_code=submission.receipt_code,
        receipt_reason=submission.receipt_reason, proof_verified=submission.proof_verified,
        attempts=submission.attempts, next_attempt=submission.next_attempt,
        error_code=submission.error_code, error=error, details=submission.last_error,
        created=submission.created, updated=submission.updated)


def _proposal_out(pair: tuple[Organization, queries.LedgerStatus]) -> ProposalOut:
    organization, _status = pair
    return ProposalOut(slug=organization.slug, name=organization.name,
                       ledger=_ledger_out(organization))


# --- the directory and organizations (public reads) -------------------------------------------


@router.get("/organizations", auth=None, response=list[OrganizationOut],
            summary="The member directory (public)")
def list_organizations(request: HttpRequest) -> list[OrganizationOut]:
    return [_organization_out(o, request)
            for o in queries.access_organizations(_viewer(request)).order_by("slug")]


@router.get("/organizations/{slug}", auth=None, response=OrganizationDetailOut,
            summary="A member organization, its DID and public keys (public)")
def get_organization(request: HttpRequest, slug: str) -> OrganizationDetailOut:
    organization = queries.access_organization_by_slug(_viewer(request), slug)
    did = _did(organization, request)
    keys = [PublicKeyOut(number=key.number, state=key.state, public_key_hex=key.public_key,
                         multikey=identity.multikey(key.public_key),
                         verification_method=_method(did, key))
            for key in queries.public_keys(organization)]
    return OrganizationDetailOut(**_organization_out(organization, request).dict(), keys=keys)


@router.get("/organizations/{slug}/ledger", auth=None, response=LedgerStatusOut,
            summary="An organization's standing on the ledger (public); refresh=true reads "
                    "the chain first")
def get_ledger_status(request: HttpRequest, slug: str, refresh: bool = False) -> LedgerStatusOut:
    organization = queries.access_organization_by_slug(_viewer(request), slug)
    checked = organization.ledger_checked
    if refresh and (checked is None or timezone.now() - checked > datetime.timedelta(
            seconds=REFRESH_INTERVAL_S)):
        actions.do_refresh_ledger_status(organization)
        organization.refresh_from_db()
    return _ledger_out(organization)


@router.post("/organizations", response={201: OrganizationOut},
             summary="Add a member organization (operators)")
def create_organization(request: HttpRequest, payload: OrganizationIn) -> Status[OrganizationOut]:
    organization = actions.do_create_organization(
        actor=_person(request), slug=payload.slug, name_ko=payload.name_ko,
        name_en=payload.name_en, kind=payload.kind)
    return Status(201, _organization_out(organization, request))


@router.post("/organizations/{slug}/join", response={202: SubmissionOut},
             summary="Start an organization's joining of the ledger (operators)")
def start_joining(request: HttpRequest, slug: str, payload: JoinIn) -> Status[SubmissionOut]:
    viewer = _person(request)
    organization = queries.access_organization_by_slug(viewer, slug)
    submission = actions.do_start_joining(actor=viewer, organization=organization,
                                          roles=payload.roles)
    submission.refresh_from_db()
    return Status(202, _submission_out(submission))


@router.get("/alliance", response=AllianceOut, summary="The alliance at a glance (operators)")
def alliance(request: HttpRequest) -> AllianceOut:
    overview = queries.access_alliance(_person(request))
    return AllianceOut(
        organizations=overview.organizations, registered=overview.registered,
        people=overview.people, ledger_ok=overview.chain.ok, chain_id=overview.chain.chain_id,
        ledger_height=overview.chain.height, ledger_members=overview.chain.members,
        proposals=[_proposal_out(p) for p in overview.proposals],
        failed=[_proposal_out(p) for p in overview.failed],
        waiting_submissions=overview.waiting_submissions,
        failed_submissions=overview.failed_submissions)


# --- members and invitations (private) --------------------------------------------------------


@router.get("/organizations/{slug}/members", response=list[MemberOut],
            summary="An organization's members (its administrators and operators only)")
def list_members(request: HttpRequest, slug: str) -> list[MemberOut]:
    return [_member_out(m)
            for m in queries.access_members_by_organization_slug(_person(request), slug)]


@router.post("/organizations/{slug}/members", response={201: MemberOut},
             summary="Give a person who has signed up a role in the organization")
def add_member(request: HttpRequest, slug: str,
               payload: MembershipIn) -> Status[MemberOut]:
    viewer = _person(request)
    organization = queries.access_managed_organization_by_slug(viewer, slug)
    membership = actions.do_add_membership(actor=viewer, organization=organization,
                                           email=payload.email, role=payload.role)
    return Status(201, _member_out(membership))


@router.put("/organizations/{slug}/people/{person_id}/roles", response=PersonRolesOut,
            summary="Set a member's roles (an empty list removes them)")
def set_roles(request: HttpRequest, slug: str, person_id: int,
              payload: RolesIn) -> PersonRolesOut:
    viewer = _person(request)
    organization = queries.access_managed_organization_by_slug(viewer, slug)
    person = queries.access_member_by_person_id(viewer, organization, person_id)
    memberships = actions.do_set_member_roles(actor=viewer, organization=organization,
                                              person=person, roles=payload.roles)
    return PersonRolesOut(person_id=person.pk, email=person.email,
                          display_name=person.display_name,
                          roles=[m.role for m in memberships])


@router.delete("/organizations/{slug}/members/{membership_id}", response=MemberOut,
               summary="End a membership")
def remove_member(request: HttpRequest, slug: str, membership_id: int) -> MemberOut:
    viewer = _person(request)
    organization = queries.access_managed_organization_by_slug(viewer, slug)
    membership = queries.access_membership_by_id(viewer, organization, membership_id)
    gone = _member_out(membership)
    actions.do_remove_membership(actor=viewer, membership=membership)
    return gone


@router.get("/organizations/{slug}/invitations", response=list[InvitationOut],
            summary="The organization's invitations")
def list_invitations(request: HttpRequest, slug: str) -> list[InvitationOut]:
    return [_invitation_out(i, request) for i in
            queries.access_invitations_by_organization_slug(_person(request), slug)]


@router.post("/organizations/{slug}/invitations", response={201: InvitationOut},
             summary="Invite someone by e-mail to take a role (they receive a link)")
def invite(request: HttpRequest, slug: str, payload: InvitationIn) -> Status[InvitationOut]:
    viewer = _person(request)
    organization = queries.access_managed_organization_by_slug(viewer, slug)
    invitation = actions.do_invite_member(actor=viewer, organization=organization,
                                          email=payload.email, role=payload.role,
                                          origin=origin_of(request))
    return Status(201, _invitation_out(invitation, request))


@router.delete("/organizations/{slug}/invitations/{invitation_id}", response=InvitationOut,
               summary="Withdraw an invitation")
def withdraw_invitation(request: HttpRequest, slug: str, invitation_id: int) -> InvitationOut:
    viewer = _person(request)
    organization = queries.access_managed_organization_by_slug(viewer, slug)
    invitation = queries.access_invitation_by_id(viewer, organization, invitation_id)
    return _invitation_out(actions.do_withdraw_invitation(actor=viewer, invitation=invitation),
                           request)


@router.post("/invitations/accept", response=MyMembershipOut,
             summary="Accept an invitation with the token of its link")
def accept_invitation(request: HttpRequest, payload: AcceptIn) -> MyMembershipOut:
    invitation = queries.invitation_by_token(payload.token)
    membership = actions.do_accept_invitation(person=_person(request), invitation=invitation)
    return MyMembershipOut(organization=_organization_out(membership.organization, request),
                           role=membership.role)


@router.get("/memberships/mine", response=list[MyMembershipOut], summary="My organizations")
def my_memberships(request: HttpRequest) -> list[MyMembershipOut]:
    return [MyMembershipOut(organization=_organization_out(m.organization, request),
                            role=m.role)
            for m in queries.memberships_of(_person(request))]


# --- keys (private) ---------------------------------------------------------------------------


def _keys_out(organization: Organization, request: HttpRequest,
              keys: list[OrganizationKey]) -> list[KeyOut]:
    did = _did(organization, request)
    rows = queries.key_rows(organization, keys)
    return [KeyOut(number=row.key.number, state=row.key.state,
                   public_key_hex=row.key.public_key, multikey=row.multikey,
                   verification_method=_method(did, row.key)
                   if row.key.state != "revoked" else None,
                   on_ledger=row.on_ledger, ledger_pending=row.ledger_pending,
                   created=row.key.created, retired=row.key.retired, revoked=row.key.revoked)
            for row in rows]


@router.get("/organizations/{slug}/keys", response=list[KeyOut],
            summary="The organization's signing keys (public halves only)")
def list_keys(request: HttpRequest, slug: str) -> list[KeyOut]:
    viewer = _person(request)
    keys = list(queries.access_keys_by_organization_slug(viewer, slug))
    organization = queries.access_organization_by_slug(viewer, slug)
    return _keys_out(organization, request, keys)


@router.post("/organizations/{slug}/keys/rotate", response={201: KeyOut},
             summary="Make a new current key; on the ledger, register it and revoke the old")
def rotate_key(request: HttpRequest, slug: str) -> Status[KeyOut]:
    viewer = _person(request)
    organization = queries.access_managed_organization_by_slug(viewer, slug)
    key = actions.do_rotate_organization_key(actor=viewer, organization=organization)
    organization.refresh_from_db()
    return Status(201, _keys_out(organization, request, [key])[0])


@router.post("/organizations/{slug}/keys/{number}/revoke", response=KeyOut,
             summary="Revoke a retired key (from the DID document and the ledger)")
def revoke_key(request: HttpRequest, slug: str, number: int) -> KeyOut:
    viewer = _person(request)
    key = queries.access_key_by_number(viewer, slug, number)
    key = actions.do_revoke_organization_key(actor=viewer, key=key)
    return _keys_out(key.organization, request, [key])[0]


# --- approvals and ledger transactions --------------------------------------------------------


@router.get("/organizations/{slug}/approvals", response=list[PendingApprovalOut],
            summary="Proposals to join that this organization has not approved yet")
def list_approvals(request: HttpRequest, slug: str) -> list[PendingApprovalOut]:
    return [PendingApprovalOut(organization=_organization_out(p.subject, request),
                               sending=p.sending)
            for p in queries.access_pending_approvals_by_organization_slug(
                _person(request), slug)]


@router.post("/organizations/{slug}/approvals/{subject}", response={202: SubmissionOut},
             summary="Approve, signed with this organization's key, that another join")
def approve(request: HttpRequest, slug: str, subject: str) -> Status[SubmissionOut]:
    viewer = _person(request)
    approver = queries.access_managed_organization_by_slug(viewer, slug)
    joining = queries.access_organization_by_slug(viewer, subject)
    submission = actions.do_approve_joining(actor=viewer, approver=approver, subject=joining)
    submission.refresh_from_db()
    return Status(202, _submission_out(submission))


@router.get("/organizations/{slug}/ledger/transactions", response=list[SubmissionOut],
            summary="Ledger transactions signed by or about the organization")
def list_transactions(request: HttpRequest, slug: str) -> list[SubmissionOut]:
    submissions = queries.access_ledger_submissions_by_organization_slug(_person(request), slug)
    return [_submission_out(s) for s in submissions[:200]]


@router.get("/ledger/transactions/{submission_id}", response=SubmissionOut,
            summary="One ledger transaction")
def get_transaction(request: HttpRequest, submission_id: int) -> SubmissionOut:
    return _submission_out(queries.access_ledger_submission_by_id(_person(request),
                                                                  submission_id))


@router.post("/ledger/transactions/{submission_id}/retry", response={202: SubmissionOut},
             summary="Send a failed ledger transaction again")
def retry_transaction(request: HttpRequest, submission_id: int) -> Status[SubmissionOut]:
    viewer = _person(request)
    submission = queries.access_ledger_submission_by_id(viewer, submission_id)
    submission = actions.do_retry_ledger_submission(actor=viewer, submission=submission)
    submission.refresh_from_db()
    return Status(202, _submission_out(submission))
