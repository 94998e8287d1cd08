"""Reads of the credentials app that need a permission: ``access_<thing>_by_<key>``.

A learner sees their own credentials; an organization's administrators and instructors
see the credentials and achievements it issues; anyone holding an unexpired share link
sees that one credential. Status lists and the verify page are public.
"""

from __future__ import annotations

import datetime
import uuid
from dataclasses import dataclass
from typing import Any

from django.contrib.auth.models import AnonymousUser
from django.core.cache import cache
from django.db.models import Count, OuterRef, Q, QuerySet, Subquery
from django.utils import timezone
from django.utils.translation import gettext as _

from oneteam.academy.models import Cohort, Course, Program
from oneteam.accounts.models import Person
from oneteam.consortium import queries as consortium_queries
from oneteam.consortium.models import Membership, Organization, Role
from oneteam.credentials.actions import may_issue_for, share_token_hash
from oneteam.credentials.models import (
    Achievement,
    AnchorBatch,
    AnchorState,
    IssuedCredential,
    ShareLink,
    StatusChange,
    StatusList,
)
from oneteam.platform.errors import AccessDenied, NotFound

Viewer = Person | AnonymousUser
LIST_MAX = 500
ISSUER_ROLES = (Role.ADMIN, Role.INSTRUCTOR)
ISSUER_LINK_CACHE_S = 300
RECENT_DAYS = 30


def _uuid(value: Any, message: str) -> uuid.UUID:
    try:
        return uuid.UUID(str(value))
    except ValueError:
        raise NotFound(message) from None


def access_my_credentials(viewer: Viewer) -> QuerySet[IssuedCredential]:
    if not viewer.is_authenticated:
        raise AccessDenied(_("Sign in to see your credentials."))
    return (IssuedCredential.objects.filter(recipient=viewer)
            .select_related("achievement", "organization", "batch"))


def access_credential_by_public_id(viewer: Viewer, public_id: Any) -> IssuedCredential:
    """The recipient's own credential, or one the viewer's organization issued."""
    message = _("No such credential.")
    credential = (IssuedCredential.objects.select_related("achievement", "organization",
                                                          "recipient", "batch")
                  .filter(public_id=_uuid(public_id, message)).first())
    if credential is None or not viewer.is_authenticated:
        raise NotFound(message)
    if credential.recipient_id == viewer.pk or may_issue_for(viewer, credential.organization):
        return credential
    raise NotFound(message)


def access_managed_credential_by_public_id(viewer: Viewer, public_id: Any) -> IssuedCredential:
    """A credential the viewer may revoke or suspend (its issuer's staff)."""
    credential = access_credential_by_public_id(viewer, public_id)
    if not may_issue_for(viewer, credential.organization):  # type: ignore[arg-type]
        raise AccessDenied(_("Only the administrators and instructors of %(organization)s "
                             "issue and revoke its credentials.")
                           % {"organization": credential.organization.name})
    return credential


def access_credential_by_share_token(token: str) -> IssuedCredential:
    """The credential an open share link shows (NotFound once expired or withdrawn)."""
    link = (ShareLink.objects.select_related("credential__achievement",
                                             "credential__organization")
            .filter(token_hash=share_token_hash(token)).first())
    if link is None or link.revoked is not None or link.expires <= timezone.now():
        raise NotFound(_("This share link has expired or was withdrawn."))
    return link.credential


def access_share_links_by_credential(viewer: Viewer,
                                     credential: IssuedCredential) -> QuerySet[ShareLink]:
    if credential.recipient_id != viewer.pk:
        raise NotFound(_("No such credential."))
    return ShareLink.objects.filter(credential=credential)


def access_share_link_by_id(viewer: Viewer, link_id: int) -> ShareLink:
    link = ShareLink.objects.select_related("credential").filter(pk=link_id).first()
    if link is None or link.credential.recipient_id != viewer.pk:
        raise NotFound(_("No such share link."))
    return link


def issuing_organizations(viewer: Viewer,
                          roles: tuple[str, ...] = ISSUER_ROLES) -> QuerySet[Organization]:
    """Organizations whose credentials the viewer issues (administrator or instructor),
    or of those, where the viewer holds one of ``roles``; one query."""
    if not viewer.is_authenticated:
        return Organization.objects.none()
    return Organization.objects.filter(
        pk__in=Membership.objects.filter(person=viewer, role__in=roles)
        .values("organization_id")).order_by("name_en")


def may_issue_anywhere(viewer: Viewer) -> bool:
    """Whether the viewer issues for some organization, for the navigation's link.

    Asked on every page, so the answer is kept ISSUER_LINK_CACHE_S in the cache: a
    membership just given or ended shows in the navigation that much later. The pages
    themselves always ask the database (``access_issuing_organizations``).
    """
    if not isinstance(viewer, Person):
        return False
    # The person's joining time keeps a key apart from another person's given the same
    # (reused) primary key.
    key = f"credentials:issues:{viewer.pk}:{viewer.created.timestamp()}"
    cached = cache.get(key)
    if isinstance(cached, bool):
        return cached
    answer = Membership.objects.filter(person=viewer, role__in=ISSUER_ROLES).exists()
    cache.set(key, answer, ISSUER_LINK_CACHE_S)
    return answer


def access_issuing_organizations(viewer: Viewer) -> list[Organization]:
    """The organizations the viewer issues for; AccessDenied for a person who issues for
    none (the issuing pages are theirs)."""
    organizations = list(issuing_organizations(viewer))
    if not organizations:
        raise AccessDenied(_("Only the administrators and instructors of a member "
                             "organization issue credentials."))
    return organizations


def access_issuing_organization_by_slug(viewer: Viewer, slug: str) -> Any:
    organization = consortium_queries.access_organization_by_slug(viewer, slug)
    if not may_issue_for(viewer, organization):  # type: ignore[arg-type]
        raise AccessDenied(_("Only the administrators and instructors of %(organization)s "
                             "issue and revoke its credentials.")
                           % {"organization": organization.name})
    return organization


def access_achievements_by_organization_slug(viewer: Viewer,
                                             slug: str) -> QuerySet[Achievement]:
    organization = access_issuing_organization_by_slug(viewer, slug)
    return Achievement.objects.filter(organization=organization)


def access_achievement_by_public_id(viewer: Viewer, public_id: Any) -> Achievement:
    """An achievement of an organization the viewer issues for."""
    message = _("No such achievement.")
    achievement = (Achievement.objects.select_related("organization")
                   .filter(public_id=_uuid(public_id, message)).first())
    if achievement is None or not may_issue_for(viewer, achievement.organization):  # type: ignore[arg-type]
        raise NotFound(message)
    return achievement


def public_achievement_by_public_id(public_id: Any) -> Achievement:
    """An achievement's public description (its id in credentials is this page's URL)."""
    message = _("No such achievement.")
    achievement = (Achievement.objects.select_related("organization")
                   .filter(public_id=_uuid(public_id, message)).first())
    if achievement is None:
        raise NotFound(message)
    return achievement


def access_issued_by_organization_slug(viewer: Viewer,
                                       slug: str) -> QuerySet[IssuedCredential]:
    organization = access_issuing_organization_by_slug(viewer, slug)
    return (IssuedCredential.objects.filter(organization=organization)
            .select_related("achievement", "recipient"))


def access_status_changes_by_credential(viewer: Viewer,
                                        credential: IssuedCredential) -> QuerySet[StatusChange]:
    access_credential_by_public_id(viewer, credential.public_id)
    return StatusChange.objects.filter(credential=credential).select_related("actor")


def public_status_list_by_public_id(public_id: Any) -> StatusList:
    message = _("No such status list.")
    status_list = StatusList.objects.filter(public_id=_uuid(public_id, message)).first()
    if status_list is None or not status_list.document:
        raise NotFound(message)
    return status_list


# --- the issuing pages ------------------------------------------------------------------------


def achievements_with_counts(organizations: list[Organization]) -> dict[int, list[Achievement]]:
    """Each organization's achievements (by organization id), each with ``issued_count``
    (credentials issued, revoked ones included); one query. The organizations must be
    ones the viewer issues for (``access_issuing_organizations``)."""
    found: dict[int, list[Achievement]] = {organization.pk: [] for organization in organizations}
    achievements = (Achievement.objects.filter(organization__in=organizations)
                    .select_related("course", "program")
                    .annotate(issued_count=Count("credentials"))
                    .order_by("-is_active", "name", "pk"))
    for achievement in achievements:
        found[achievement.organization_id].append(achievement)
    return found


def courses_of(organization: Organization) -> QuerySet[Course]:
    """The courses of ``organization``'s own programs: those an achievement may name."""
    return Course.objects.filter(program__owner=organization).select_related("program")


def programs_of(organization: Organization) -> QuerySet[Program]:
    return Program.objects.filter(owner=organization)


def cohorts_of(organization: Organization) -> QuerySet[Cohort]:
    """The cohorts ``organization`` runs: those it may issue to in bulk."""
    return Cohort.objects.filter(organization=organization).select_related("program")


def access_issued_by_achievement(viewer: Viewer,
                                 achievement: Achievement) -> QuerySet[IssuedCredential]:
    """The credentials of an achievement, newest first, for its organization's issuers."""
    access_achievement_by_public_id(viewer, achievement.public_id)
    return (IssuedCredential.objects.filter(achievement=achievement)
            .select_related("recipient", "batch", "organization", "achievement")
            .order_by("-issued", "-pk"))


@dataclass(frozen=True, slots=True)
class IssuingRow:
    """One organization's line in the issuer's dashboard panel."""

    organization: Organization
    recent_count: int  # issued in the last RECENT_DAYS
    waiting_count: int  # not yet in an anchored batch
    anchored_count: int
    latest_batch: AnchorBatch | None


def issuing_summary(organizations: QuerySet[Organization]) -> list[IssuingRow]:
    """Per organization: credentials issued in the last RECENT_DAYS, those waiting for
    their anchoring batch and those anchored, and its latest anchoring batch; two
    queries whatever the number of organizations. For the issuer's dashboard panel, with
    organizations the viewer issues for (``issuing_organizations``)."""
    since = timezone.now() - datetime.timedelta(days=RECENT_DAYS)
    latest = (AnchorBatch.objects.filter(organization=OuterRef("pk"))
              .order_by("-created", "-pk").values("pk")[:1])
    found = list(Organization.objects.filter(pk__in=organizations.values("pk"))
                 .annotate(recent_count=Count("issued_credentials",
                                              filter=Q(issued_credentials__issued__gte=since)),
                           anchored_count=Count("issued_credentials", filter=Q(
                               issued_credentials__batch__state=AnchorState.ANCHORED)),
                           total_count=Count("issued_credentials"),
                           latest_batch_id=Subquery(latest))
                 .order_by("name_en"))
    batches = AnchorBatch.objects.in_bulk([organization.latest_batch_id
                                           for organization in found
                                           if organization.latest_batch_id is not None])
    return [IssuingRow(organization=organization, recent_count=organization.recent_count,
                       waiting_count=organization.total_count - organization.anchored_count,
                       anchored_count=organization.anchored_count,
                       latest_batch=batches.get(organization.latest_batch_id))
            for organization in found]
