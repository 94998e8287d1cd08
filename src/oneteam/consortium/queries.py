"""Reads of the consortium app that need a permission: ``access_<thing>_by_<key>``.

Public: the directory of organizations (names, kind, ledger status), an organization's
DID, DID document and public keys. Private to the organization's administrators and
the alliance's operators: its members and invitations, its keys' management, and its
ledger transactions. Giving an approval on the ledger is for the organization's own
administrators only (an action's check). The alliance at a glance is for operators.
"""

from __future__ import annotations

import datetime
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from django.conf import settings
from django.contrib.auth.models import AnonymousUser
from django.core import signing
from django.core.cache import cache
from django.db.models import Q, QuerySet
from django.http import HttpRequest
from django.utils import timezone
from django.utils.translation import gettext as _

from oneteam.accounts.models import Person
from oneteam.consortium import identity
from oneteam.consortium.models import (
    Invitation,
    KeyState,
    LedgerReason,
    LedgerState,
    LedgerSubmission,
    Membership,
    Organization,
    OrganizationKey,
    Role,
    SubmissionError,
    SubmissionPurpose,
    SubmissionState,
)
from oneteam.credentials.multikey import Ed25519KeyPair
from oneteam.platform.errors import AccessDenied, InputError, NotFound

Viewer = Person | AnonymousUser
INVITATION_SALT = "oneteam.consortium.invitation"
INVITATION_TOKEN_AGE_S = 14 * 24 * 3600
CHAIN_SUMMARY_CACHE_S = 5
UNFINISHED = (SubmissionState.QUEUED, SubmissionState.SENT)


def roles_of(person: Viewer) -> set[str]:
    """The roles a person holds in any organization (``Role`` values)."""
    if not person.is_authenticated:
        return set()
    return set(Membership.objects.filter(person=person).values_list("role", flat=True))


def memberships_of(person: Person) -> QuerySet[Membership]:
    """The person's own memberships, with their organizations."""
    return Membership.objects.filter(person=person).select_related("organization")


def organizations_administered_by(person: Person) -> QuerySet[Organization]:
    return Organization.objects.filter(memberships__person=person,
                                       memberships__role=Role.ADMIN).distinct()


def is_admin_of(person: Viewer, organization: Organization) -> bool:
    if not person.is_authenticated:
        return False
    return Membership.objects.filter(person=person, organization=organization,
                                     role=Role.ADMIN).exists()


def may_manage(viewer: Viewer, organization: Organization) -> bool:
    """Whether ``viewer`` sees and changes ``organization``'s private data."""
    return bool(getattr(viewer, "is_operator", False)) or is_admin_of(viewer, organization)


def _require_manager(viewer: Viewer, organization: Organization, message: str) -> None:
    if not may_manage(viewer, organization):
        raise AccessDenied(message % {"organization": organization.name})


# --- organizations: public ----------------------------------------------------------------


def access_organizations(viewer: Viewer) -> QuerySet[Organization]:
    """Every member organization: the alliance's membership is public."""
    return Organization.objects.all()


def access_organization_by_slug(viewer: Viewer, slug: str) -> Organization:
    organization = Organization.objects.filter(slug=slug).first()
    if organization is None:
        raise NotFound(_("There is no member organization “%(slug)s”.") % {"slug": slug})
    return organization


def access_managed_organization_by_slug(viewer: Viewer, slug: str) -> Organization:
    """The organization, for its administrators and the alliance's operators only."""
    organization = access_organization_by_slug(viewer, slug)
    _require_manager(viewer, organization,
                     _("Only the administrators of %(organization)s manage it."))
    return organization


# --- members and invitations: private -------------------------------------------------------


def access_members_by_organization_slug(viewer: Viewer, slug: str) -> QuerySet[Membership]:
    """The organization's memberships: for its administrators and the alliance's operators."""
    organization = access_organization_by_slug(viewer, slug)
    _require_manager(viewer, organization,
                     _("Only the administrators of %(organization)s see its members."))
    return (Membership.objects.filter(organization=organization)
            .select_related("person", "organization").order_by("role", "person__display_name"))


@dataclass(frozen=True, slots=True)
class MemberRow:
    """A person in an organization with every role they hold there."""

    person: Person
    roles: list[str]
    memberships: list[Membership]

    @property
    def role_labels(self) -> list[str]:
        labels = dict(Role.choices)
        return [str(labels.get(role, role)) for role in self.roles]


def access_people_by_organization_slug(viewer: Viewer, slug: str) -> list[MemberRow]:
    """The organization's people, one row each, with their roles (administrators first)."""
    rows: dict[int, MemberRow] = {}
    for membership in access_members_by_organization_slug(viewer, slug):
        row = rows.setdefault(membership.person.pk,
                              MemberRow(membership.person, [], []))
        row.roles.append(membership.role)
        row.memberships.append(membership)
    order = {role: index for index, role in enumerate(Role.values)}
    for row in rows.values():
        row.roles.sort(key=lambda role: order.get(role, 99))
    return sorted(rows.values(), key=lambda row: (Role.ADMIN not in row.roles,
                                                   row.person.display_name.lower()))


def access_membership_by_id(viewer: Viewer, organization: Organization,
                            membership_id: int) -> Membership:
    """A membership of ``organization`` that ``viewer`` may change (admin or operator)."""
    _require_manager(viewer, organization,
                     _("Only the administrators of %(organization)s change its members."))
    membership = (Membership.objects.filter(organization=organization, pk=membership_id)
                  .select_related("person").first())
    if membership is None:
        raise NotFound(_("%(organization)s has no membership with this number.")
                       % {"organization": organization.name})
    return membership


def access_member_by_person_id(viewer: Viewer, organization: Organization,
                               person_id: int) -> Person:
    """A person who holds a role in ``organization``, for its administrators and operators."""
    _require_manager(viewer, organization,
                     _("Only the administrators of %(organization)s change its members."))
    person = Person.objects.filter(pk=person_id, memberships__organization=organization).first()
    if person is None:
        raise NotFound(_("%(organization)s has no member with this number.")
                       % {"organization": organization.name})
    return person


def access_invitations_by_organization_slug(viewer: Viewer, slug: str) -> QuerySet[Invitation]:
    organization = access_organization_by_slug(viewer, slug)
    _require_manager(viewer, organization,
                     _("Only the administrators of %(organization)s see its invitations."))
    return Invitation.objects.filter(organization=organization).select_related("invited_by")


def access_invitation_by_id(viewer: Viewer, organization: Organization,
                            invitation_id: int) -> Invitation:
    _require_manager(viewer, organization,
                     _("Only the administrators of %(organization)s see its invitations."))
    invitation = Invitation.objects.filter(organization=organization, pk=invitation_id).first()
    if invitation is None:
        raise NotFound(_("%(organization)s has no invitation with this number.")
                       % {"organization": organization.name})
    return invitation


def invitation_by_token(token: str) -> Invitation:
    """The invitation a link's token names; InputError (field ``token``) if it does not."""
    try:
        invitation_id = signing.loads(token or "", salt=INVITATION_SALT,
                                      max_age=INVITATION_TOKEN_AGE_S)
    except signing.BadSignature:
        invitation_id = None
    invitation = (Invitation.objects.filter(pk=invitation_id).select_related("organization")
                  .first() if isinstance(invitation_id, int) else None)
    if invitation is None:
        raise InputError("token", _("This invitation link is invalid or has expired."))
    return invitation


# --- keys -----------------------------------------------------------------------------------


def public_keys(organization: Organization) -> list[OrganizationKey]:
    """The keys anyone may know of: those in the DID document (current, then retired)."""
    return identity.document_keys(OrganizationKey.objects.filter(organization=organization))


def access_keys_by_organization_slug(viewer: Viewer, slug: str) -> QuerySet[OrganizationKey]:
    """Every key of the organization, revoked ones too: its administrators and operators."""
    organization = access_organization_by_slug(viewer, slug)
    _require_manager(viewer, organization,
                     _("Only the administrators of %(organization)s manage its keys."))
    return OrganizationKey.objects.filter(organization=organization).order_by("-number")


def access_key_by_number(viewer: Viewer, slug: str, number: int) -> OrganizationKey:
    key = access_keys_by_organization_slug(viewer, slug).filter(number=number).first()
    if key is None:
        raise NotFound(_("This organization has no key number %(number)d.")
                       % {"number": number})
    return key


@dataclass(frozen=True, slots=True)
class KeyRow:
    """A key as the keys page shows it: its encodings and where it stands on the ledger."""

    key: OrganizationKey
    multikey: str
    on_ledger: bool
    ledger_pending: str  # "add_key", "revoke_key" or ""


def key_rows(organization: Organization, keys: Iterable[OrganizationKey]) -> list[KeyRow]:
    pending: dict[str, str] = {}
    for submission in LedgerSubmission.objects.filter(
            signer=organization, state__in=UNFINISHED,
            purpose__in=(SubmissionPurpose.ADD_KEY, SubmissionPurpose.REVOKE_KEY)):
        pending[str(submission.args_shown.get("key", ""))] = submission.purpose
    on_ledger = set(organization.ledger_keys or [])
    return [KeyRow(key, identity.multikey(key.public_key), key.public_key in on_ledger,
                   pending.get(key.public_key, ""))
            for key in keys]


@dataclass(frozen=True)
class OrganizationSigner:
    """What the credentials code signs with for an organization: its DID, the verification
    method of its current key, and the key pair (unsealed now; never log or keep it)."""

    did: str
    verification_method: str
    public_key: str
    key_pair: Ed25519KeyPair = field(repr=False)


def organization_did(organization: Organization, request: HttpRequest | None = None) -> str:
    """The organization's ``did:web``; raises identity.DidUnavailable without a DID host."""
    return identity.organization_did(organization, identity.did_host(request))


def organization_signer(organization: Organization,
                        request: HttpRequest | None = None) -> OrganizationSigner:
    """The organization's current key, ready to sign a credential for it.

    For the system, after the caller's own permission checks (an issuing action checks
    that its actor may issue for ``organization``). Raises NotFound if it has no key,
    identity.DidUnavailable if the platform has no DID host.
    """
    key = OrganizationKey.objects.filter(organization=organization,
                                         state=KeyState.CURRENT).first()
    if key is None:
        raise NotFound(_("%(organization)s has no signing key yet.")
                       % {"organization": organization.name})
    did = organization_did(organization, request)
    return OrganizationSigner(did=did, verification_method=f"{did}#{key.fragment}",
                              public_key=key.public_key, key_pair=identity.key_pair(key))


def access_did_document_by_slug(slug: str, host: str) -> identity.DidDocument:
    """The public DID document of an organization (NotFound if none, or no keys)."""
    organization = access_organization_by_slug(AnonymousUser(), slug)
    try:
        return identity.did_document(organization, OrganizationKey.objects.filter(
            organization=organization), host)
    except identity.DidUnavailable as error:
        raise NotFound(error.message) from None


# --- the ledger -----------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class LedgerStatus:
    """Where an organization stands on the ledger, ready to show."""

    state: str
    label: str
    detail: str
    tone: str  # "ok", "pending", "error", "none"
    pending: bool  # worth polling: it will change without anyone acting
    approvals: list[str] = field(default_factory=list)
    quorum: int | None = None
    height: int | None = None
    txid: str = ""
    proof_verified: bool = False
    reason: str = ""
    retry_at: datetime.datetime | None = None
    attempts: int = 0
    checked: datetime.datetime | None = None


def _waiting_submission(organization: Organization) -> LedgerSubmission | None:
    """The organization's oldest unfinished submission that ran into an error, if any."""
    return (LedgerSubmission.objects
            .filter(Q(subject=organization) | Q(signer=organization), state__in=UNFINISHED)
            .exclude(error_code="").order_by("id").first())


def ledger_status(organization: Organization) -> LedgerStatus:
    """The organization's ledger standing as the directory and its pages show it."""
    state = organization.ledger_state
    label = str(organization.get_ledger_state_display())
    common: dict[str, Any] = {"checked": organization.ledger_checked,
                              "reason": organization.ledger_reason}
    waiting = _waiting_submission(organization)
    if waiting is not None and waiting.error_code in (SubmissionError.UNREACHABLE,
                                                      SubmissionError.BUSY,
                                                      SubmissionError.DROPPED,
                                                      SubmissionError.INTERNAL):
        common.update(retry_at=waiting.next_attempt, attempts=waiting.attempts)
    if state == LedgerState.REGISTERED:
        detail = _("Registered on the ledger at block %(height)s.") % {
            "height": organization.ledger_height}
        return LedgerStatus(state, label, detail, "ok", waiting is not None,
                            height=organization.ledger_height, txid=organization.ledger_txid,
                            proof_verified=organization.ledger_proof_verified, **common)
    if state == LedgerState.PROPOSED:
        approvals = list(organization.ledger_approvals or [])
        detail = _("Proposed: approved by %(count)d of the %(quorum)d members needed.") % {
            "count": len(approvals), "quorum": organization.ledger_quorum or 0}
        return LedgerStatus(state, label, detail, "pending", True, approvals=approvals,
                            quorum=organization.ledger_quorum, **common)
    if state == LedgerState.JOINING:
        joining = (LedgerSubmission.objects.filter(subject=organization,
                                                   purpose=SubmissionPurpose.JOIN)
                   .order_by("-id").first())
        if joining is not None and joining.state == SubmissionState.FAILED:
            detail = str(SubmissionError(joining.error_code).label) if (
                joining.error_code in SubmissionError.values) else _("Joining failed.")
            return LedgerStatus(LedgerState.FAILED, str(LedgerState.FAILED.label), detail,
                                "error", False, **{**common, "reason": joining.last_error})
        if common.get("retry_at") is not None:
            detail = _("The ledger is unreachable; the platform will retry at %(time)s "
                       "(attempt %(attempt)d).") % {
                "time": _local_time(common["retry_at"]), "attempt": common["attempts"] + 1}
            return LedgerStatus(state, label, detail, "pending", True, **common)
        return LedgerStatus(state, label, _("Joining: the proposal is on its way to the "
                                            "ledger."), "pending", True, **common)
    if state == LedgerState.FAILED:
        code = organization.ledger_reason_code
        detail = str(LedgerReason(code).label) if code in LedgerReason.values else _(
            "Joining failed.")
        return LedgerStatus(state, label, detail, "error", False, **common)
    code = organization.ledger_reason_code
    detail = str(LedgerReason(code).label) if code in LedgerReason.values else _(
        "Not registered on the ledger.")
    return LedgerStatus(state, label, detail, "none", False, **common)


def _local_time(moment: datetime.datetime) -> str:
    return timezone.localtime(moment).strftime("%H:%M:%S")


def access_ledger_submissions_by_organization_slug(
        viewer: Viewer, slug: str) -> QuerySet[LedgerSubmission]:
    """The ledger transactions signed by or about the organization: private."""
    organization = access_organization_by_slug(viewer, slug)
    _require_manager(viewer, organization,
                     _("Only the administrators of %(organization)s see its ledger "
                       "transactions."))
    return (LedgerSubmission.objects.filter(Q(signer=organization) | Q(subject=organization))
            .select_related("signer", "subject").order_by("-id"))


def access_ledger_submission_by_id(viewer: Viewer, submission_id: int) -> LedgerSubmission:
    """One ledger transaction: its signer's administrators (about the organization: its
    own administrators too) and the operators."""
    submission = (LedgerSubmission.objects.filter(pk=submission_id)
                  .select_related("signer", "subject").first())
    allowed = submission is not None and (
        bool(getattr(viewer, "is_operator", False))
        or any(org is not None and is_admin_of(viewer, org)
               for org in (submission.signer, submission.subject)))
    if submission is None or not allowed:
        raise NotFound(_("There is no ledger transaction with this number that you may see."))
    return submission


@dataclass(frozen=True, slots=True)
class PendingApproval:
    """A proposal that ``approver`` may approve, and whether its approval is on its way."""

    subject: Organization
    status: LedgerStatus
    sending: bool


def pending_approvals(approver: Organization) -> list[PendingApproval]:
    """Open proposals to join that ``approver`` (a member on the ledger) has not approved."""
    if approver.ledger_state != LedgerState.REGISTERED:
        return []
    sending = set(LedgerSubmission.objects.filter(
        signer=approver, purpose=SubmissionPurpose.APPROVE, state__in=UNFINISHED)
        .values_list("subject_id", flat=True))
    found = []
    for subject in Organization.objects.filter(ledger_state=LedgerState.PROPOSED).exclude(
            pk=approver.pk).order_by("slug"):
        if approver.ledger_org in (subject.ledger_approvals or []):
            continue
        found.append(PendingApproval(subject, ledger_status(subject), subject.pk in sending))
    return found


def access_pending_approvals_by_organization_slug(viewer: Viewer,
                                                  slug: str) -> list[PendingApproval]:
    organization = access_organization_by_slug(viewer, slug)
    _require_manager(viewer, organization,
                     _("Only the administrators of %(organization)s see its approvals."))
    return pending_approvals(organization)


@dataclass(frozen=True, slots=True)
class ChainSummary:
    ok: bool
    chain_id: str = ""
    height: int | None = None
    members: int | None = None


def chain_summary() -> ChainSummary:
    """The ledger's chain, height and member count; cached a few seconds, short timeout."""
    from oneteam.consortium import outbox
    from oneteam.ledger.client import LedgerClientError

    cached = cache.get("consortium:chain-summary")
    if isinstance(cached, ChainSummary):
        return cached
    chain = outbox.ChainView(outbox.ledger_client(settings.ONETEAM_LEDGER_TIMEOUT_S))
    try:
        summary = ChainSummary(True, chain.chain_id, int(chain.status().get("height", 0)),
                               len(chain.members()))
    except (LedgerClientError, OSError, ValueError, KeyError):
        summary = ChainSummary(False)
    cache.set("consortium:chain-summary", summary, CHAIN_SUMMARY_CACHE_S)
    return summary


@dataclass(frozen=True, slots=True)
class AllianceOverview:
    organizations: int
    registered: int
    people: int
    chain: ChainSummary
    proposals: list[tuple[Organization, LedgerStatus]]
    failed: list[tuple[Organization, LedgerStatus]]
    waiting_submissions: int
    failed_submissions: int


def access_alliance(viewer: Viewer) -> AllianceOverview:
    """The alliance at a glance: for operators."""
    if not getattr(viewer, "is_operator", False):
        raise AccessDenied(_("Only the alliance's operators see the alliance at a glance."))
    organizations = list(Organization.objects.order_by("slug"))
    proposals = [(o, ledger_status(o)) for o in organizations
                 if o.ledger_state in (LedgerState.JOINING, LedgerState.PROPOSED)]
    failed = [(o, ledger_status(o)) for o in organizations
              if o.ledger_state == LedgerState.FAILED]
    return AllianceOverview(
        organizations=len(organizations),
        registered=sum(o.ledger_state == LedgerState.REGISTERED for o in organizations),
        people=Person.objects.filter(is_active=True).count(),
        chain=chain_summary(),
        proposals=proposals,
        failed=failed,
        waiting_submissions=LedgerSubmission.objects.filter(state__in=UNFINISHED).count(),
        failed_submissions=LedgerSubmission.objects.filter(
            state=SubmissionState.FAILED).count())
