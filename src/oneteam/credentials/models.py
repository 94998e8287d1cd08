"""Tables of the credentials app: achievements, issued credentials, anchoring batches,
status lists and their audited changes, share links.

The signed credential is stored as issued (``IssuedCredential.document``); once its batch
is anchored the anchor proof is added to it. Nothing here holds a private key: signing
uses the issuing organization's sealed key through ``consortium.queries``.
"""

from __future__ import annotations

import uuid
from typing import ClassVar

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from oneteam.academy.models import Cohort, Course, Program
from oneteam.consortium.models import LedgerSubmission, Organization


class CriteriaKind(models.TextChoices):
    MANUAL = "manual", _("Awarded by an instructor")
    COURSE = "course", _("Course completed")
    PROGRAM = "program", _("Program completed")
    LAB_SCORE = "lab_score", _("Lab scores over thresholds")


class AchievementType(models.TextChoices):
    CERTIFICATE_OF_COMPLETION = "CertificateOfCompletion", _("Certificate of completion")
    CERTIFICATE = "Certificate", _("Certificate")
    BADGE = "Badge", _("Badge")
    COURSE = "Course", _("Course")
    LEARNING_PROGRAM = "LearningProgram", _("Learning program")
    MICRO_CREDENTIAL = "MicroCredential", _("Micro-credential")


class Achievement(models.Model):
    """What an organization certifies, and the criteria a learner meets to earn it."""

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    organization = models.ForeignKey(Organization, on_delete=models.PROTECT,
                                     related_name="achievements",
                                     verbose_name=_("issuing organization"))
    name = models.CharField(_("name"), max_length=200)
    description = models.TextField(_("description"), max_length=2000)
    criteria_narrative = models.TextField(_("criteria"), max_length=2000)
    achievement_type = models.CharField(_("kind"), max_length=32,
                                        choices=AchievementType.choices,
                                        default=AchievementType.CERTIFICATE_OF_COMPLETION)
    criteria_kind = models.CharField(_("awarded when"), max_length=16,
                                     choices=CriteriaKind.choices, default=CriteriaKind.MANUAL)
    course = models.ForeignKey(Course, on_delete=models.PROTECT, null=True, blank=True,
                               related_name="achievements", verbose_name=_("course"))
    program = models.ForeignKey(Program, on_delete=models.PROTECT, null=True, blank=True,
                                related_name="achievements", verbose_name=_("program"))
    # For lab-score criteria, kept for the labs app: [{"lab": slug, "score_min": int}].
    lab_thresholds = models.JSONField(_("lab score thresholds"), default=list, blank=True)
    # [{"name": str, "url": str | ""}]: each a tag; those with a URL also an alignment.
    skills = models.JSONField(_("skills"), default=list, blank=True)
    valid_days = models.PositiveIntegerField(_("valid for (days)"), null=True, blank=True)
    is_active = models.BooleanField(_("active"), default=True)
    is_demo = models.BooleanField(_("demo data"), default=False)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL,
                                   null=True, blank=True, related_name="+")
    created = models.DateTimeField(_("created"), default=timezone.now)

    class Meta:
        verbose_name = _("achievement")
        verbose_name_plural = _("achievements")
        ordering: ClassVar[list[str]] = ["organization_id", "name"]

    def __str__(self) -> str:
        return self.name


class StatusPurpose(models.TextChoices):
    REVOCATION = "revocation", _("Revocation")
    SUSPENSION = "suspension", _("Suspension")


class StatusList(models.Model):
    """One Bitstring Status List of an organization, published as a signed credential.

    Lists come in pairs (revocation and suspension) of the same length; a credential
    has the same index in both. ``version`` grows at each change; each version's
    digest is anchored on the ledger.
    """

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    organization = models.ForeignKey(Organization, on_delete=models.PROTECT,
                                     related_name="status_lists")
    purpose = models.CharField(max_length=16, choices=StatusPurpose.choices)
    pair = models.UUIDField(db_index=True)  # shared by the two lists of a pair
    length = models.PositiveIntegerField()
    bits = models.BinaryField()  # the uncompressed bitstring
    version = models.PositiveIntegerField(default=0)
    document = models.JSONField(default=dict)  # the signed BitstringStatusListCredential
    digest = models.CharField(max_length=64, blank=True)  # SHA-256 of JCS(document)
    submission = models.ForeignKey(LedgerSubmission, on_delete=models.SET_NULL, null=True,
                                   blank=True, related_name="+")
    is_open = models.BooleanField(default=True)  # new credentials draw indexes from it
    created = models.DateTimeField(default=timezone.now)
    updated = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = _("status list")
        verbose_name_plural = _("status lists")

    def __str__(self) -> str:
        return f"{self.organization_id} {self.purpose} {self.public_id} v{self.version}"

    @property
    def ledger_label(self) -> str:
        return f"status/{self.public_id.hex}"


class AnchorState(models.TextChoices):
    SUBMITTED = "submitted", _("Sent to the ledger")
    ANCHORED = "anchored", _("Anchored")
    FAILED = "failed", _("Failed")


class AnchorBatch(models.Model):
    """Credentials of one organization whose Merkle root went on the ledger together."""

    organization = models.ForeignKey(Organization, on_delete=models.PROTECT,
                                     related_name="anchor_batches")
    label = models.CharField(max_length=128, unique=True)
    root = models.CharField(max_length=64)
    count = models.PositiveIntegerField()
    submission = models.ForeignKey(LedgerSubmission, on_delete=models.SET_NULL, null=True,
                                   blank=True, related_name="+")
    state = models.CharField(max_length=16, choices=AnchorState.choices,
                             default=AnchorState.SUBMITTED)
    txid = models.CharField(max_length=64, blank=True)
    height = models.PositiveBigIntegerField(null=True, blank=True)
    ledger_proof = models.JSONField(default=dict, blank=True)
    attempts = models.PositiveIntegerField(default=0)
    last_error = models.CharField(max_length=500, blank=True)
    created = models.DateTimeField(default=timezone.now)
    anchored = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("anchoring batch")
        verbose_name_plural = _("anchoring batches")

    def __str__(self) -> str:
        return f"{self.label} ({self.state})"


class CredentialState(models.TextChoices):
    ACTIVE = "active", _("Valid")
    SUSPENDED = "suspended", _("Suspended")
    REVOKED = "revoked", _("Revoked")


class IssuedCredential(models.Model):
    """An OpenBadgeCredential as signed by its issuer, kept for its recipient."""

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    achievement = models.ForeignKey(Achievement, on_delete=models.PROTECT,
                                    related_name="credentials", verbose_name=_("achievement"))
    organization = models.ForeignKey(Organization, on_delete=models.PROTECT,
                                     related_name="issued_credentials")
    recipient = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT,
                                  related_name="credentials", verbose_name=_("recipient"))
    cohort = models.ForeignKey(Cohort, on_delete=models.SET_NULL, null=True, blank=True,
                               related_name="+")
    document = models.JSONField()
    issued = models.DateTimeField(_("issued"), default=timezone.now)
    valid_until = models.DateTimeField(_("valid until"), null=True, blank=True)
    revocation_list = models.ForeignKey(StatusList, on_delete=models.PROTECT,
                                        related_name="+")
    suspension_list = models.ForeignKey(StatusList, on_delete=models.PROTECT,
                                        related_name="+")
    status_index = models.PositiveIntegerField()
    state = models.CharField(_("state"), max_length=16, choices=CredentialState.choices,
                             default=CredentialState.ACTIVE)
    batch = models.ForeignKey(AnchorBatch, on_delete=models.SET_NULL, null=True, blank=True,
                              related_name="credentials")
    leaf_index = models.PositiveIntegerField(null=True, blank=True)
    issued_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL,
                                  null=True, blank=True, related_name="+",
                                  help_text=_("Empty: issued automatically."))

    class Meta:
        verbose_name = _("issued credential")
        verbose_name_plural = _("issued credentials")
        ordering: ClassVar[list[str]] = ["-issued"]
        constraints: ClassVar[list[models.BaseConstraint]] = [
            models.UniqueConstraint(fields=["revocation_list", "status_index"],
                                    name="credential_status_index_unique"),
            models.UniqueConstraint(fields=["achievement", "recipient"],
                                    condition=~Q(state="revoked"),
                                    name="credential_one_unrevoked_per_achievement"),
        ]
        indexes: ClassVar[list[models.Index]] = [
            models.Index(fields=["organization", "batch"], name="credential_unbatched"),
        ]

    def __str__(self) -> str:
        return f"{self.public_id} ({self.state})"

    @property
    def credential_id(self) -> str:
        return f"urn:uuid:{self.public_id}"


class StatusAction(models.TextChoices):
    REVOKE = "revoke", _("Revoked")
    SUSPEND = "suspend", _("Suspended")
    REINSTATE = "reinstate", _("Reinstated")


class StatusChange(models.Model):
    """Audit record of a revocation, suspension or reinstatement, with its reason."""

    credential = models.ForeignKey(IssuedCredential, on_delete=models.PROTECT,
                                   related_name="status_changes")
    action = models.CharField(_("action"), max_length=16, choices=StatusAction.choices)
    reason = models.CharField(_("reason"), max_length=500)
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True,
                              blank=True, related_name="+", verbose_name=_("by"))
    list_version = models.PositiveIntegerField()
    created = models.DateTimeField(_("when"), default=timezone.now)

    class Meta:
        verbose_name = _("status change")
        verbose_name_plural = _("status changes")
        ordering: ClassVar[list[str]] = ["-created", "-id"]

    def __str__(self) -> str:
        return f"{self.action} {self.credential_id}"


class ShareLink(models.Model):
    """A link that shows one credential to anyone holding it, until it expires.

    Only the SHA-256 of the random token is stored.
    """

    credential = models.ForeignKey(IssuedCredential, on_delete=models.CASCADE,
                                   related_name="share_links")
    token_hash = models.CharField(max_length=64, unique=True)
    expires = models.DateTimeField(_("expires"))
    created = models.DateTimeField(_("created"), default=timezone.now)
    revoked = models.DateTimeField(_("withdrawn"), null=True, blank=True)

    class Meta:
        verbose_name = _("share link")
        verbose_name_plural = _("share links")
        ordering: ClassVar[list[str]] = ["-created"]

    def __str__(self) -> str:
        return f"share of {self.credential_id} until {self.expires}"
