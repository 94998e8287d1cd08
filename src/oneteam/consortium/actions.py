"""Every write of the consortium app: ``do_<verb>_<noun>``, one transaction each.

Ledger transactions are never sent from here: an action records a ``LedgerSubmission``
in its own transaction and, after commit, enqueues the outbox's task, which sends it
(``outbox.py``). Other apps submit their organization's ledger transactions with
:func:`do_submit_ledger_transaction`.
"""

from __future__ import annotations

import datetime
import re
from collections.abc import Iterable, Mapping
from typing import Any

from django.conf import settings
from django.core import signing
from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import IntegrityError, transaction
from django.db.models import Max
from django.utils import timezone
from django.utils.translation import gettext as _

from oneteam.accounts.models import Person, normalize_email
from oneteam.consortium import identity, outbox
from oneteam.consortium.models import (
    Invitation,
    KeyState,
    LedgerState,
    LedgerSubmission,
    Membership,
    Organization,
    OrganizationKey,
    OrganizationKind,
    Role,
    SubmissionError,
    SubmissionPurpose,
    SubmissionState,
)
from oneteam.consortium.queries import INVITATION_SALT, is_admin_of
from oneteam.platform.errors import AccessDenied, InputError

SLUG_PATTERN = re.compile(r"^[a-z0-9](?:[a-z0-9-]{0,48}[a-z0-9])?$")
NAME_LENGTH_MAX = 200
LEDGER_NAME_LENGTH_MAX = 200  # the membership contract's limit (PROTOCOL §6.1)
INVITATION_LIFETIME = datetime.timedelta(days=14)
# Roles an organization may hold on the chain (PROTOCOL §4), and what a new member of
# each kind is proposed with unless the operator chooses otherwise.
LEDGER_ROLES = ("operator", "issuer", "provider", "validator")
LEDGER_ROLES_BY_KIND: dict[str, list[str]] = {
    OrganizationKind.COMPANY: ["issuer", "provider"],
    OrganizationKind.UNIVERSITY: ["issuer"],
    OrganizationKind.RESEARCH_INSTITUTE: ["issuer", "provider"],
    OrganizationKind.PUBLIC_BODY: ["issuer"],
    OrganizationKind.SME: ["provider"],
}


# --- checking -----------------------------------------------------------------------------


def _clean_name(value: str, field: str) -> str:
    value = " ".join((value or "").split())
    if not value:
        raise InputError(field, _("Enter the organization's name."))
    if len(value) > NAME_LENGTH_MAX:
        raise InputError(field, _("The name may be at most %(count)d characters long.")
                         % {"count": NAME_LENGTH_MAX})
    return value


def _clean_role(role: str, field: str = "role") -> str:
    if role not in Role.values:
        raise InputError(field, _("Choose one of these roles: %(roles)s.")
                         % {"roles": ", ".join(Role.values)})
    return role


def _require_admin(actor: Person | None, organization: Organization, message: str) -> None:
    """``actor`` administers ``organization`` or operates the alliance (None: the system)."""
    if actor is not None and not (actor.is_operator or is_admin_of(actor, organization)):
        raise AccessDenied(message % {"organization": organization.name})


def _kick_outbox() -> None:
    """After commit, have the outbox send what is due."""
    from oneteam.consortium.tasks import process_ledger_submissions

    transaction.on_commit(process_ledger_submissions.enqueue)


# --- organizations and their keys ---------------------------------------------------------


def _new_key(organization: Organization, number: int) -> OrganizationKey:
    made = identity.generate_key()
    return OrganizationKey.objects.create(organization=organization, number=number,
                                          public_key=made.public_key,
                                          sealed_seed=made.sealed_seed,
                                          state=KeyState.CURRENT)


def do_create_organization(*, actor: Person | None, slug: str, name_ko: str, name_en: str,
                           kind: str, is_demo: bool = False) -> Organization:
    """A new member organization with its first signing key; only an operator adds one
    (``actor`` None: the system). It joins the ledger with :func:`do_start_joining`."""
    if actor is not None and not actor.is_operator:
        raise AccessDenied(_("Only the alliance's operators add member organizations."))
    slug = (slug or "").strip().lower()
    if not SLUG_PATTERN.match(slug):
        raise InputError("slug", _("Use 1 to 50 lowercase letters, digits and hyphens, "
                                   "beginning and ending with a letter or digit."))
    name_ko = _clean_name(name_ko, "name_ko")
    name_en = _clean_name(name_en, "name_en")
    if kind not in OrganizationKind.values:
        raise InputError("kind", _("Choose one of these kinds: %(kinds)s.")
                         % {"kinds": ", ".join(OrganizationKind.values)})
    taken = InputError("slug", _("Another organization already has this short name."))
    try:
        with transaction.atomic(durable=True):
            if Organization.objects.filter(slug=slug).exists():
                raise taken
            organization = Organization.objects.create(slug=slug, name_ko=name_ko,
                                                       name_en=name_en, kind=kind,
                                                       is_demo=is_demo)
            _new_key(organization, 1)
    except IntegrityError:
        raise taken from None
    return organization


def _current_key(organization: Organization) -> OrganizationKey | None:
    return OrganizationKey.objects.filter(organization=organization,
                                          state=KeyState.CURRENT).first()


def _queue(*, signer: Organization | None, subject: Organization | None, purpose: str,
           op: str, args: Mapping[str, Any], actor: Person | None = None,
           after: LedgerSubmission | None = None) -> LedgerSubmission:
    encoded = outbox.encode_args(op, args)
    return LedgerSubmission.objects.create(
        signer=signer, subject=subject, purpose=purpose, op=op, args=encoded.packed,
        args_shown=encoded.shown, after=after, created_by=actor)


def do_rotate_organization_key(*, actor: Person | None,
                               organization: Organization) -> OrganizationKey:
    """A new current key; the old one is retired (still in the DID for what it signed).

    On the ledger, the new key is registered (``membership.add_key``, signed by a key the
    chain accepts) and then the old one revoked (``membership.revoke_key``).
    """
    _require_admin(actor, organization,
                   _("Only the administrators of %(organization)s manage its keys."))
    now = timezone.now()
    with transaction.atomic(durable=True):
        locked = Organization.objects.select_for_update().get(pk=organization.pk)
        if locked.ledger_state in (LedgerState.JOINING, LedgerState.PROPOSED):
            raise InputError(None, _("%(organization)s is joining the ledger with its current "
                                     "key; rotate it once the organization is registered.")
                             % {"organization": locked.name})
        old = _current_key(locked)
        if old is not None:
            old.state = KeyState.RETIRED
            old.retired = now
            old.save(update_fields=["state", "retired"])
        number = (OrganizationKey.objects.filter(organization=locked)
                  .aggregate(top=Max("number"))["top"] or 0) + 1
        new = _new_key(locked, number)
        if locked.ledger_state == LedgerState.REGISTERED:
            added = _queue(signer=locked, subject=locked, purpose=SubmissionPurpose.ADD_KEY,
                           op="membership.add_key", args={"key": new.public_key_bytes},
                           actor=actor)
            if old is not None:
                _queue(signer=locked, subject=locked, purpose=SubmissionPurpose.REVOKE_KEY,
                       op="membership.revoke_key", args={"key": old.public_key_bytes},
                       actor=actor, after=added)
            _kick_outbox()
    return new


def do_revoke_organization_key(*, actor: Person | None, key: OrganizationKey) -> OrganizationKey:
    """Revoke a retired key: gone from the DID document and, if it is there, the ledger."""
    organization = key.organization
    _require_admin(actor, organization,
                   _("Only the administrators of %(organization)s manage its keys."))
    with transaction.atomic(durable=True):
        key = OrganizationKey.objects.select_for_update().get(pk=key.pk)
        if key.state == KeyState.REVOKED:
            return key
        if key.state == KeyState.CURRENT:
            raise InputError("key", _("This is the current key: rotate to a new key first, "
                                      "then revoke this one."))
        key.state = KeyState.REVOKED
        key.revoked = timezone.now()
        key.save(update_fields=["state", "revoked"])
        on_chain = key.public_key in (organization.ledger_keys or [])
        revoking = LedgerSubmission.objects.filter(
            signer=organization, op="membership.revoke_key", state__in=outbox.UNFINISHED,
            args_shown__key=key.public_key).exists()
        adding = LedgerSubmission.objects.filter(
            signer=organization, op="membership.add_key", state__in=outbox.UNFINISHED,
            args_shown__key=key.public_key).exists()
        if organization.ledger_state == LedgerState.REGISTERED and (
                on_chain or adding) and not revoking:
            _queue(signer=organization, subject=organization,
                   purpose=SubmissionPurpose.REVOKE_KEY, op="membership.revoke_key",
                   args={"key": key.public_key_bytes}, actor=actor)
            _kick_outbox()
    return key


# --- joining the ledger -------------------------------------------------------------------


def ledger_name(organization: Organization) -> str:
    """The organization's name on the chain: Korean, with English when it differs."""
    name = organization.name_ko
    if organization.name_en and organization.name_en != organization.name_ko:
        name = f"{organization.name_ko} ({organization.name_en})"
    return name[:LEDGER_NAME_LENGTH_MAX]


def _clean_ledger_roles(roles: Iterable[str] | None, organization: Organization) -> list[str]:
    if roles is None:
        return list(LEDGER_ROLES_BY_KIND.get(organization.kind, []))
    chosen = list(roles)
    for role in chosen:
        if role not in LEDGER_ROLES:
            raise InputError("roles", _("Choose roles among: %(roles)s.")
                             % {"roles": ", ".join(LEDGER_ROLES)})
    if len(set(chosen)) != len(chosen):
        raise InputError("roles", _("A role is listed twice."))
    return sorted(chosen)


def do_start_joining(*, actor: Person | None, organization: Organization,
                     roles: Iterable[str] | None = None) -> LedgerSubmission:
    """Propose on the ledger that ``organization`` join, signed by the alliance operator.

    The operator's proposal is its approval; the other members' administrators approve
    on their dashboards (:func:`do_approve_joining`) until the quorum is reached.
    """
    if actor is not None and not actor.is_operator:
        raise AccessDenied(_("Only the alliance's operators start an organization's joining."))
    chosen = _clean_ledger_roles(roles, organization)
    with transaction.atomic(durable=True):
        locked = Organization.objects.select_for_update().get(pk=organization.pk)
        if locked.ledger_state not in (LedgerState.NOT_REGISTERED, LedgerState.FAILED):
            raise InputError(None, _("%(organization)s is already on the ledger or joining "
                                     "it (%(state)s).")
                             % {"organization": locked.name,
                                "state": locked.get_ledger_state_display()})
        key = _current_key(locked) or _new_key(locked, 1 + (
            OrganizationKey.objects.filter(organization=locked)
            .aggregate(top=Max("number"))["top"] or 0))
        submission = _queue(
            signer=None, subject=locked, purpose=SubmissionPurpose.JOIN, op="membership.propose",
            args={"action": "add", "org": locked.ledger_org, "name": ledger_name(locked),
                  "roles": chosen, "keys": [key.public_key_bytes]}, actor=actor)
        locked.ledger_state = LedgerState.JOINING
        locked.ledger_reason_code = locked.ledger_reason = ""
        locked.ledger_roles = chosen
        locked.ledger_approvals = []
        locked.save(update_fields=["ledger_state", "ledger_reason_code", "ledger_reason",
                                   "ledger_roles", "ledger_approvals"])
        _kick_outbox()
    organization.refresh_from_db()
    return submission


def _unfinished_approval(approver: Organization, subject: Organization) -> bool:
    return LedgerSubmission.objects.filter(
        signer=approver, subject=subject, purpose=SubmissionPurpose.APPROVE,
        state__in=outbox.UNFINISHED).exists()


def do_approve_joining(*, actor: Person | None, approver: Organization,
                       subject: Organization) -> LedgerSubmission:
    """``approver`` approves, on the ledger, the proposal that ``subject`` join.

    Given by an administrator of ``approver`` (not by an operator on its behalf), signed
    with ``approver``'s key, which the platform holds sealed.
    """
    if actor is not None and not is_admin_of(actor, approver):
        raise AccessDenied(_("Only the administrators of %(organization)s approve for it.")
                           % {"organization": approver.name})
    if approver.pk == subject.pk:
        raise InputError("subject", _("An organization does not approve its own joining."))
    with transaction.atomic(durable=True):
        approver = Organization.objects.get(pk=approver.pk)
        subject = Organization.objects.select_for_update().get(pk=subject.pk)
        if approver.ledger_state != LedgerState.REGISTERED:
            raise InputError(None, _("%(organization)s is not a member on the ledger yet, so "
                                     "it cannot approve.") % {"organization": approver.name})
        held = set(OrganizationKey.objects.filter(organization=approver)
                   .exclude(state=KeyState.REVOKED).values_list("public_key", flat=True))
        if not held & set(approver.ledger_keys or []):
            raise InputError(None, _("The platform holds no key of %(organization)s that the "
                                     "ledger accepts.") % {"organization": approver.name})
        if subject.ledger_state != LedgerState.PROPOSED:
            raise InputError("subject", _("%(organization)s has no open proposal to join.")
                             % {"organization": subject.name})
        if approver.ledger_org in (subject.ledger_approvals or []) or _unfinished_approval(
                approver, subject):
            raise InputError("subject", _("%(approver)s has already approved %(subject)s.")
                             % {"approver": approver.name, "subject": subject.name})
        submission = _queue(signer=approver, subject=subject, purpose=SubmissionPurpose.APPROVE,
                            op="membership.approve", args={"org": subject.ledger_org},
                            actor=actor)
        _kick_outbox()
    return submission


def do_register_founding_members(organizations: list[Organization]) -> list[LedgerSubmission]:
    """Queue the joining of ``organizations``, one after another, each approved at once by
    the custodial keys of those registered before it (the demo alliance's founding).

    Each proposal waits for the previous member to be applied: a member joining voids
    the proposals open at that moment (PROTOCOL §6.1).
    """
    queued: list[LedgerSubmission] = []
    with transaction.atomic(durable=True):
        previous: LedgerSubmission | None = None
        registered: list[Organization] = []
        for organization in organizations:
            if organization.ledger_state == LedgerState.REGISTERED:
                registered.append(organization)
            if organization.ledger_state != LedgerState.NOT_REGISTERED:
                continue
            key = _current_key(organization)
            if key is None:
                key = _new_key(organization, 1)
            chosen = _clean_ledger_roles(None, organization)
            previous = _queue(
                signer=None, subject=organization, purpose=SubmissionPurpose.JOIN,
                op="membership.propose", after=previous,
                args={"action": "add", "org": organization.ledger_org,
                      "name": ledger_name(organization), "roles": chosen,
                      "keys": [key.public_key_bytes]})
            queued.append(previous)
            # The alliance operator and the members before it: quorum of that member set.
            needed = outbox.quorum(1 + len(registered)) - 1
            for approver in registered[:needed]:
                previous = _queue(signer=approver, subject=organization,
                                  purpose=SubmissionPurpose.APPROVE, op="membership.approve",
                                  args={"org": organization.ledger_org}, after=previous)
                queued.append(previous)
            Organization.objects.filter(pk=organization.pk).update(
                ledger_state=LedgerState.JOINING, ledger_roles=chosen)
            registered.append(organization)
        if queued:
            _kick_outbox()
    return queued


# --- any ledger transaction, for other apps -----------------------------------------------


def do_submit_ledger_transaction(organization: Organization | None, op: str,
                                 args: Mapping[str, Any], *, actor: Person | None = None,
                                 subject: Organization | None = None,
                                 purpose: str = SubmissionPurpose.OTHER,
                                 after: LedgerSubmission | None = None) -> LedgerSubmission:
    """Queue a ledger transaction signed by ``organization`` (None: the alliance operator).

    ``op`` is a ledger operation (``anchors.anchor_batch``, ``credits.transfer``, …) and
    ``args`` its arguments as a mapping (bytes as ``bytes``); they are checked now, and
    InputError names the field at fault (``op``, ``args.<name>``). The transaction is
    signed and sent after the current database transaction commits, so this may be
    called inside the caller's own ``transaction.atomic``; follow the returned row's
    ``state``, ``txid``, ``height`` and ``proof_verified``. ``actor`` (None: the system,
    after the caller's own checks) must administer ``organization``.
    """
    if organization is None:
        if actor is not None and not actor.is_operator:
            raise AccessDenied(_("Only the alliance's operators act for the alliance."))
    else:
        _require_admin(actor, organization,
                       _("Only the administrators of %(organization)s act for it on the "
                         "ledger."))
        if organization.ledger_state != LedgerState.REGISTERED:
            raise InputError(None, _("%(organization)s is not a member on the ledger yet.")
                             % {"organization": organization.name})
    if purpose not in SubmissionPurpose.values:
        raise InputError("purpose", _("Choose one of these purposes: %(purposes)s.")
                         % {"purposes": ", ".join(SubmissionPurpose.values)})
    with transaction.atomic():
        submission = _queue(signer=organization, subject=subject or organization,
                            purpose=purpose, op=op, args=args, actor=actor, after=after)
        _kick_outbox()
    return submission


def do_retry_ledger_submission(*, actor: Person | None,
                               submission: LedgerSubmission) -> LedgerSubmission:
    """Send a failed submission again (not one the contract refused: that needs a new one)."""
    if submission.signer is None:
        if actor is not None and not actor.is_operator:
            raise AccessDenied(_("Only the alliance's operators act for the alliance."))
    else:
        _require_admin(actor, submission.signer,
                       _("Only the administrators of %(organization)s act for it on the "
                         "ledger."))
    with transaction.atomic(durable=True):
        submission = LedgerSubmission.objects.select_for_update().get(pk=submission.pk)
        if submission.state != SubmissionState.FAILED:
            raise InputError(None, _("Only a failed transaction can be retried."))
        if submission.error_code == SubmissionError.RECEIPT:
            raise InputError(None, _("The ledger's contract refused this transaction; sending "
                                     "it again would not change that."))
        submission.state = SubmissionState.QUEUED
        submission.attempts = 0
        submission.next_attempt = timezone.now()
        submission.error_code = submission.last_error = ""
        submission.claimed_until = None
        submission.updated = timezone.now()
        submission.save(update_fields=["state", "attempts", "next_attempt", "error_code",
                                       "last_error", "claimed_until", "updated"])
        subject = submission.subject
        if submission.purpose == SubmissionPurpose.JOIN and subject is not None:
            Organization.objects.filter(pk=subject.pk).update(
                ledger_state=LedgerState.JOINING, ledger_reason_code="", ledger_reason="")
        # Steps that failed because this one did are sent again after it.
        LedgerSubmission.objects.filter(
            after=submission, state=SubmissionState.FAILED,
            error_code=SubmissionError.DEPENDENCY).update(
            state=SubmissionState.QUEUED, attempts=0, next_attempt=timezone.now(),
            error_code="", last_error="")
        _kick_outbox()
    return submission


def do_refresh_ledger_status(organization: Organization) -> bool:
    """Read the organization's standing from the chain now; False if the ledger is down.

    Also has the outbox look at submissions that are overdue (their wakeup was lost).
    """
    from oneteam.ledger.client import LedgerClientError

    if outbox.stalled():
        from oneteam.consortium.tasks import process_ledger_submissions

        process_ledger_submissions.enqueue()
    try:
        outbox.refresh_organization(organization, outbox.ChainView(
            outbox.ledger_client(settings.ONETEAM_LEDGER_TIMEOUT_S)))
    except LedgerClientError:
        return False
    return True


# --- people in an organization ------------------------------------------------------------


def do_add_membership(*, actor: Person | None, organization: Organization, email: str,
                      role: str) -> Membership:
    """Give the person with this e-mail address ``role`` in ``organization``.

    ``actor`` must administer the organization or operate the alliance (None: the system).
    Adding a role the person already holds returns the existing membership.
    """
    _require_admin(actor, organization,
                   _("Only the administrators of %(organization)s add its members."))
    _clean_role(role)
    person = Person.objects.filter(email=normalize_email(email or "")).first()
    if person is None:
        raise InputError("email", _("No one has signed up with this e-mail address."))
    with transaction.atomic(durable=True):
        membership, _created = Membership.objects.get_or_create(
            person=person, organization=organization, role=role)
    return membership


def _keeps_an_admin(organization: Organization, without: Iterable[int]) -> bool:
    return Membership.objects.filter(organization=organization, role=Role.ADMIN).exclude(
        pk__in=list(without)).exists()


def do_remove_membership(*, actor: Person, membership: Membership) -> None:
    """End a membership; an organization keeps at least one administrator."""
    organization = membership.organization
    _require_admin(actor, organization,
                   _("Only the administrators of %(organization)s remove its members."))
    with transaction.atomic(durable=True):
        if membership.role == Role.ADMIN and not _keeps_an_admin(organization, [membership.pk]):
            raise InputError("role", _("An organization keeps at least one administrator: "
                                       "add another before removing this one."))
        membership.delete()


def do_set_member_roles(*, actor: Person | None, organization: Organization, person: Person,
                        roles: Iterable[str]) -> list[Membership]:
    """Make ``person``'s roles in ``organization`` exactly ``roles`` (none: remove them)."""
    _require_admin(actor, organization,
                   _("Only the administrators of %(organization)s change its members."))
    wanted = {_clean_role(role, "roles") for role in roles}
    with transaction.atomic(durable=True):
        current = {m.role: m for m in Membership.objects.select_for_update().filter(
            organization=organization, person=person)}
        dropped = [m.pk for role, m in current.items() if role not in wanted]
        if Role.ADMIN in current and Role.ADMIN not in wanted and not _keeps_an_admin(
                organization, dropped):
            raise InputError("roles", _("An organization keeps at least one administrator: "
                                        "add another before removing this one."))
        Membership.objects.filter(pk__in=dropped).delete()
        for role in sorted(wanted - set(current)):
            Membership.objects.create(person=person, organization=organization, role=role)
    return list(Membership.objects.filter(organization=organization, person=person)
                .order_by("role"))


def invitation_token(invitation: Invitation) -> str:
    """The token of an invitation's link: signed, naming the invitation; nothing stored."""
    return signing.dumps(invitation.pk, salt=INVITATION_SALT)


def do_invite_member(*, actor: Person | None, organization: Organization, email: str,
                     role: str, origin: str) -> Invitation:
    """Invite the holder of ``email`` to take ``role`` in ``organization``; e-mails a link.

    ``origin`` (``https://host``) begins the link.
    """
    _require_admin(actor, organization,
                   _("Only the administrators of %(organization)s invite its members."))
    _clean_role(role)
    email = normalize_email(email or "")
    try:
        validate_email(email)
    except ValidationError:
        raise InputError("email", _("Enter a valid e-mail address.")) from None
    if Membership.objects.filter(organization=organization, person__email=email,
                                 role=role).exists():
        raise InputError("email", _("This person already holds this role here."))
    from oneteam.consortium.tasks import send_invitation_email

    with transaction.atomic(durable=True):
        open_ones = Invitation.objects.filter(organization=organization, email=email, role=role,
                                              accepted__isnull=True, withdrawn__isnull=True,
                                              expires__gt=timezone.now())
        open_ones.update(withdrawn=timezone.now())  # the newest link is the one that works
        invitation = Invitation.objects.create(
            organization=organization, email=email, role=role, invited_by=actor,
            expires=timezone.now() + INVITATION_LIFETIME)
        invitation_id = invitation.pk
        transaction.on_commit(lambda: send_invitation_email.enqueue(invitation_id, origin))
    return invitation


def do_withdraw_invitation(*, actor: Person | None, invitation: Invitation) -> Invitation:
    _require_admin(actor, invitation.organization,
                   _("Only the administrators of %(organization)s invite its members."))
    with transaction.atomic(durable=True):
        if invitation.accepted is None and invitation.withdrawn is None:
            invitation.withdrawn = timezone.now()
            invitation.save(update_fields=["withdrawn"])
    return invitation


def do_accept_invitation(*, person: Person, invitation: Invitation) -> Membership:
    """``person`` takes the invited role; the invitation must be for their e-mail address."""
    if not invitation.is_open():
        raise InputError("token", _("This invitation has expired, been withdrawn or been "
                                    "used. Ask for a new one."))
    if normalize_email(person.email) != invitation.email:
        raise InputError("token", _("This invitation is for %(email)s: sign in with that "
                                    "address to accept it.") % {"email": invitation.email})
    with transaction.atomic(durable=True):
        locked = Invitation.objects.select_for_update().get(pk=invitation.pk)
        if not locked.is_open():
            raise InputError("token", _("This invitation has expired, been withdrawn or been "
                                        "used. Ask for a new one."))
        membership, _created = Membership.objects.get_or_create(
            person=person, organization=locked.organization, role=locked.role)
        locked.accepted = timezone.now()
        locked.accepted_by = person
        locked.save(update_fields=["accepted", "accepted_by"])
    invitation.refresh_from_db()
    return membership
