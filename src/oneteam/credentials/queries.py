"""Reads of the credentials app that need a permission: ``access_<thing>_by_<key>``.

A learner sees their own credentials; an organization's administrators and instructors
see the credentials and achievements it issues; anyone holding an unexpired share link
sees that one credential. Status lists and the verify page are public.
"""

from __future__ import annotations

import uuid
from typing import Any

from django.contrib.auth.models import AnonymousUser
from django.db.models import QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _

from oneteam.accounts.models import Person
from oneteam.consortium import queries as consortium_queries
from oneteam.credentials.actions import may_issue_for, share_token_hash
from oneteam.credentials.models import (
    Achievement,
    IssuedCredential,
    ShareLink,
    StatusChange,
    StatusList,
)
from oneteam.platform.errors import AccessDenied, NotFound

Viewer = Person | AnonymousUser
LIST_MAX = 500


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


def issuing_organizations(viewer: Viewer) -> list[Any]:
    """Organizations whose credentials the viewer issues (administrator or instructor)."""
    if not viewer.is_authenticated:
        return []
    return [organization for organization in
            consortium_queries.access_organizations(viewer)
            if may_issue_for(viewer, organization)]


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
