"""Reads of the consortium app that need a permission: ``access_<thing>_by_<key>``.

An organization's name and kind are public to everyone signed in; its members and
their roles are its private data, visible to its own administrators and to the
alliance's operators only.
"""

from __future__ import annotations

from django.db.models import QuerySet
from django.utils.translation import gettext as _

from oneteam.accounts.models import Person
from oneteam.consortium.models import Membership, Organization, Role
from oneteam.platform.errors import AccessDenied, NotFound


def roles_of(person: Person) -> set[str]:
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


def is_admin_of(person: Person, organization: Organization) -> bool:
    return Membership.objects.filter(person=person, organization=organization,
                                     role=Role.ADMIN).exists()


def access_organizations(viewer: Person) -> QuerySet[Organization]:
    """Every member organization: the alliance's membership is public to its people."""
    return Organization.objects.all()


def access_organization_by_slug(viewer: Person, slug: str) -> Organization:
    organization = Organization.objects.filter(slug=slug).first()
    if organization is None:
        raise NotFound(_("There is no member organization “%(slug)s”.") % {"slug": slug})
    return organization


def access_members_by_organization_slug(viewer: Person, slug: str) -> QuerySet[Membership]:
    """The organization's memberships: for its administrators and the alliance's operators."""
    organization = access_organization_by_slug(viewer, slug)
    if not (viewer.is_operator or is_admin_of(viewer, organization)):
        raise AccessDenied(_("Only the administrators of %(organization)s see its members.")
                           % {"organization": organization.name})
    return (Membership.objects.filter(organization=organization)
            .select_related("person", "organization").order_by("role", "person__display_name"))


def access_membership_by_id(viewer: Person, organization: Organization,
                            membership_id: int) -> Membership:
    """A membership of ``organization`` that ``viewer`` may change (admin or operator)."""
    if not (viewer.is_operator or is_admin_of(viewer, organization)):
        raise AccessDenied(_("Only the administrators of %(organization)s change its members.")
                           % {"organization": organization.name})
    membership = (Membership.objects.filter(organization=organization, pk=membership_id)
                  .select_related("person").first())
    if membership is None:
        raise NotFound(_("%(organization)s has no membership with this number.")
                       % {"organization": organization.name})
    return membership
