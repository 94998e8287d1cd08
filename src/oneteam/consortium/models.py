"""The alliance's member organizations, the people who act in each, and their ledger identity.

An organization has Ed25519 signing keys (``OrganizationKey``: the private half only
sealed, never in the clear), a ``did:web`` identity derived from the platform's host
(``identity.py``), and a standing on the consortium ledger: the snapshot of what the
chain says about it (``ledger_*`` fields, refreshed from the chain) and the ledger
transactions the platform submits for it (``LedgerSubmission``, an outbox drained by
a background task).
"""

from __future__ import annotations

import datetime
from typing import ClassVar

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import get_language
from django.utils.translation import gettext_lazy as _


class OrganizationKind(models.TextChoices):
    COMPANY = "company", _("Company")
    UNIVERSITY = "university", _("University")
    RESEARCH_INSTITUTE = "research_institute", _("Research institute")
    PUBLIC_BODY = "public_body", _("Public body")
    SME = "sme", _("Small or medium enterprise")


class LedgerState(models.TextChoices):
    """Where an organization stands on the ledger (the chain is the truth; this mirrors it)."""

    NOT_REGISTERED = "not_registered", _("Not registered")
    JOINING = "joining", _("Joining")
    PROPOSED = "proposed", _("Proposed")
    REGISTERED = "registered", _("Registered")
    FAILED = "failed", _("Failed")


class LedgerReason(models.TextChoices):
    """Why an organization's joining stopped, when the platform can tell."""

    JOIN_FAILED = "join_failed", _("The proposal to join was refused.")
    PROPOSAL_CLOSED = "proposal_closed", _(
        "The proposal expired, or the member set changed before it reached its quorum; "
        "start joining again.")
    GONE = "gone", _("The ledger no longer lists this organization as a member.")


class Organization(models.Model):
    """A member of the alliance: a company, university, research institute, public body, SME."""

    slug = models.SlugField(_("short name"), max_length=50, unique=True)
    name_ko = models.CharField(_("name in Korean"), max_length=200)
    name_en = models.CharField(_("name in English"), max_length=200)
    kind = models.CharField(_("kind"), max_length=32, choices=OrganizationKind.choices)
    is_demo = models.BooleanField(_("demo data"), default=False)
    created = models.DateTimeField(_("created"), default=timezone.now)

    # What the chain says about the organization, as last read (its organization id on
    # the chain is its slug).
    ledger_state = models.CharField(_("ledger status"), max_length=16,
                                    choices=LedgerState.choices,
                                    default=LedgerState.NOT_REGISTERED)
    # Why the state is what it is: a code the pages translate (LedgerReason), and the
    # ledger's own words when it refused something.
    ledger_reason_code = models.CharField(_("reason"), max_length=32, blank=True)
    ledger_reason = models.CharField(_("details"), max_length=500, blank=True)
    ledger_roles = models.JSONField(_("roles on the ledger"), default=list, blank=True)
    ledger_keys = models.JSONField(_("active keys on the ledger"), default=list, blank=True)
    ledger_approvals = models.JSONField(_("approvals"), default=list, blank=True)
    ledger_quorum = models.PositiveIntegerField(_("approvals needed"), null=True, blank=True)
    ledger_height = models.PositiveBigIntegerField(_("joined at height"), null=True, blank=True)
    ledger_txid = models.CharField(_("transaction"), max_length=64, blank=True)
    ledger_proof_verified = models.BooleanField(_("inclusion proof verified"), default=False)
    ledger_checked = models.DateTimeField(_("last read from the ledger"), null=True, blank=True)

    class Meta:
        verbose_name = _("organization")
        verbose_name_plural = _("organizations")
        ordering: ClassVar[list[str]] = ["name_en"]

    def __str__(self) -> str:
        return self.name

    @property
    def name(self) -> str:
        """The name in the active language (Korean unless English is active)."""
        return self.name_en if (get_language() or "ko").startswith("en") else self.name_ko

    @property
    def ledger_org(self) -> str:
        """The organization's id on the chain."""
        return self.slug


class Role(models.TextChoices):
    ADMIN = "admin", _("Administrator")
    INSTRUCTOR = "instructor", _("Instructor")
    RECRUITER = "recruiter", _("Recruiter")
    LEARNER = "learner", _("Learner")


class Membership(models.Model):
    """A person's role in an organization; one row per role held."""

    person = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE,
                               related_name="memberships", verbose_name=_("person"))
    organization = models.ForeignKey(Organization, on_delete=models.CASCADE,
                                     related_name="memberships",
                                     verbose_name=_("organization"))
    role = models.CharField(_("role"), max_length=16, choices=Role.choices)
    created = models.DateTimeField(_("since"), default=timezone.now)

    class Meta:
        verbose_name = _("membership")
        verbose_name_plural = _("memberships")
        constraints: ClassVar[list[models.BaseConstraint]] = [
            models.UniqueConstraint(fields=["person", "organization", "role"],
                                    name="membership_unique_role"),
        ]
        ordering: ClassVar[list[str]] = ["organization__name_en", "role"]

    def __str__(self) -> str:
        return f"{self.person} — {self.organization.slug} ({self.role})"


class Invitation(models.Model):
    """An invitation to take a role in an organization, sent to an e-mail address.

    The link carries a signed token naming the invitation (``django.core.signing``), so
    nothing secret is stored; the invitation works once, until it expires or is withdrawn.
    """

    organization = models.ForeignKey(Organization, on_delete=models.CASCADE,
                                     related_name="invitations",
                                     verbose_name=_("organization"))
    email = models.EmailField(_("e-mail address"))
    role = models.CharField(_("role"), max_length=16, choices=Role.choices)
    invited_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL,
                                   null=True, blank=True, related_name="+",
                                   verbose_name=_("invited by"))
    created = models.DateTimeField(_("sent"), default=timezone.now)
    expires = models.DateTimeField(_("expires"))
    accepted = models.DateTimeField(_("accepted"), null=True, blank=True)
    accepted_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL,
                                    null=True, blank=True, related_name="+",
                                    verbose_name=_("accepted by"))
    withdrawn = models.DateTimeField(_("withdrawn"), null=True, blank=True)

    class Meta:
        verbose_name = _("invitation")
        verbose_name_plural = _("invitations")
        ordering: ClassVar[list[str]] = ["-created"]

    def __str__(self) -> str:
        return f"{self.email} → {self.organization.slug} ({self.role})"

    def is_open(self, now: datetime.datetime | None = None) -> bool:
        return (self.accepted is None and self.withdrawn is None
                and self.expires > (now or timezone.now()))


class KeyState(models.TextChoices):
    CURRENT = "current", _("Current")
    RETIRED = "retired", _("Retired")
    REVOKED = "revoked", _("Revoked")


class OrganizationKey(models.Model):
    """An Ed25519 signing key of an organization; the seed is stored sealed only.

    One key is current: it signs the organization's ledger transactions and
    credentials, and is the one registered on the ledger. A key replaced by rotation is
    retired: revoked on the ledger, but still listed in the DID document for
    assertions, so what it signed still verifies. A revoked key (compromised, say) is
    gone from both.
    """

    organization = models.ForeignKey(Organization, on_delete=models.CASCADE,
                                     related_name="keys", verbose_name=_("organization"))
    number = models.PositiveIntegerField(_("number"))
    public_key = models.CharField(_("public key"), max_length=64, unique=True)
    sealed_seed = models.BinaryField(editable=False)
    state = models.CharField(_("state"), max_length=16, choices=KeyState.choices,
                             default=KeyState.CURRENT)
    created = models.DateTimeField(_("created"), default=timezone.now)
    retired = models.DateTimeField(_("retired"), null=True, blank=True)
    revoked = models.DateTimeField(_("revoked"), null=True, blank=True)

    class Meta:
        verbose_name = _("signing key")
        verbose_name_plural = _("signing keys")
        ordering: ClassVar[list[str]] = ["organization", "-number"]
        constraints: ClassVar[list[models.BaseConstraint]] = [
            models.UniqueConstraint(fields=["organization", "number"],
                                    name="organization_key_number_unique"),
            models.UniqueConstraint(fields=["organization"], condition=Q(state="current"),
                                    name="organization_one_current_key"),
        ]

    def __str__(self) -> str:
        return f"{self.organization.slug} key-{self.number} ({self.state})"

    @property
    def fragment(self) -> str:
        """The key's fragment in the organization's DID document: ``key-<number>``."""
        return f"key-{self.number}"

    @property
    def public_key_bytes(self) -> bytes:
        return bytes.fromhex(self.public_key)


class SubmissionState(models.TextChoices):
    QUEUED = "queued", _("Waiting to be sent")
    SENT = "sent", _("Sent, waiting for a block")
    COMMITTED = "committed", _("Committed")
    FAILED = "failed", _("Failed")


class SubmissionPurpose(models.TextChoices):
    JOIN = "join", _("Proposal to join")
    APPROVE = "approve", _("Approval of a member")
    ADD_KEY = "add_key", _("Key registration")
    REVOKE_KEY = "revoke_key", _("Key revocation")
    OTHER = "other", _("Transaction")


class SubmissionError(models.TextChoices):
    UNREACHABLE = "unreachable", _("The ledger is unreachable; the platform will retry.")
    BUSY = "busy", _("The ledger is busy; the platform will retry.")
    REFUSED = "refused", _("The ledger refused the transaction.")
    RECEIPT = "receipt", _("The transaction was committed, but the contract refused it.")
    DEPENDENCY = "dependency", _("An earlier step failed, so this one was not sent.")
    NO_KEY = "no_key", _("The platform holds no key of this organization that the ledger "
                         "accepts.")
    OPERATOR_KEY = "operator_key", _("The alliance operator's key cannot be read.")
    DROPPED = "dropped", _("The ledger dropped the transaction; it will be signed and sent "
                           "again.")
    PROOF = "proof", _("The inclusion proof did not verify.")
    INTERNAL = "internal", _("Something went wrong in the platform; it has been logged, and "
                             "the platform will retry.")
    GAVE_UP = "gave_up", _("The ledger stayed unreachable; the platform gave up. Retry it "
                           "when the ledger is back.")


class LedgerSubmission(models.Model):
    """A ledger transaction the platform submits for an organization (or for the alliance).

    Created by an action in the same database transaction as the change it records, and
    sent by a background task after commit: nothing is lost if the ledger is down, and the
    task retries with backoff. The signed bytes are kept once made, so a retry resends
    the very same transaction rather than a second one.
    """

    signer = models.ForeignKey(Organization, on_delete=models.CASCADE, null=True, blank=True,
                               related_name="ledger_submissions",
                               verbose_name=_("signed by"),
                               help_text=_("Empty: the alliance's operator."))
    subject = models.ForeignKey(Organization, on_delete=models.CASCADE, null=True, blank=True,
                                related_name="ledger_subject_of", verbose_name=_("about"))
    purpose = models.CharField(_("purpose"), max_length=16, choices=SubmissionPurpose.choices)
    op = models.CharField(_("operation"), max_length=64)
    args = models.BinaryField(editable=False)  # MessagePack of the argument map
    args_shown = models.JSONField(_("arguments"), default=dict)  # the same, bytes as hex
    after = models.ForeignKey("self", on_delete=models.SET_NULL, null=True, blank=True,
                              related_name="+", verbose_name=_("after"))
    state = models.CharField(_("state"), max_length=16, choices=SubmissionState.choices,
                             default=SubmissionState.QUEUED)
    attempts = models.PositiveIntegerField(_("attempts"), default=0)
    next_attempt = models.DateTimeField(_("next attempt"), default=timezone.now)
    claimed_until = models.DateTimeField(null=True, blank=True, editable=False)
    wire = models.BinaryField(null=True, blank=True, editable=False)
    txid = models.CharField(_("transaction id"), max_length=64, blank=True)
    signer_key = models.CharField(_("signing key"), max_length=64, blank=True)
    nonce = models.PositiveBigIntegerField(_("nonce"), null=True, blank=True)
    height = models.PositiveBigIntegerField(_("block height"), null=True, blank=True)
    receipt_code = models.CharField(_("receipt"), max_length=16, blank=True)
    receipt_reason = models.CharField(_("receipt reason"), max_length=500, blank=True)
    events = models.JSONField(_("events"), default=list, blank=True)
    proof_verified = models.BooleanField(_("inclusion proof verified"), default=False)
    # What went wrong last: a code the pages translate (SubmissionError), and details.
    error_code = models.CharField(_("error"), max_length=32, blank=True)
    last_error = models.CharField(_("details"), max_length=500, blank=True)
    # The next attempt for which a deferred run of the outbox is already enqueued.
    wakeup = models.DateTimeField(null=True, blank=True, editable=False)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL,
                                   null=True, blank=True, related_name="+",
                                   verbose_name=_("requested by"))
    created = models.DateTimeField(_("created"), default=timezone.now)
    updated = models.DateTimeField(_("updated"), default=timezone.now)

    class Meta:
        verbose_name = _("ledger transaction")
        verbose_name_plural = _("ledger transactions")
        ordering: ClassVar[list[str]] = ["-id"]
        indexes: ClassVar[list[models.Index]] = [
            models.Index(fields=["state", "next_attempt"], name="ledger_submission_due"),
        ]

    def __str__(self) -> str:
        return f"{self.op} #{self.pk} ({self.state})"

    @property
    def is_finished(self) -> bool:
        return self.state in (SubmissionState.COMMITTED, SubmissionState.FAILED)
