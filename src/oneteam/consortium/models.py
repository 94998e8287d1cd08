"""The alliance's member organizations and the people who act in each, with a role.

Kept minimal for now: keys, DIDs and the organization's ledger identity come later.
"""

from __future__ import annotations

from typing import ClassVar

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import get_language
from django.utils.translation import gettext_lazy as _


class OrganizationKind(models.TextChoices):
    COMPANY = "company", _("Company")
    UNIVERSITY = "university", _("University")
    RESEARCH_INSTITUTE = "research_institute", _("Research institute")
    PUBLIC_BODY = "public_body", _("Public body")
    SME = "sme", _("Small or medium enterprise")


class Organization(models.Model):
    """A member of the alliance: a company, university, research institute, public body, SME."""

    slug = models.SlugField(_("short name"), max_length=50, unique=True)
    name_ko = models.CharField(_("name in Korean"), max_length=200)
    name_en = models.CharField(_("name in English"), max_length=200)
    kind = models.CharField(_("kind"), max_length=32, choices=OrganizationKind.choices)
    is_demo = models.BooleanField(_("demo data"), default=False)
    created = models.DateTimeField(_("created"), default=timezone.now)

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
