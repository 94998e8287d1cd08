"""Every write of the consortium app: ``do_<verb>_<noun>``, one transaction each."""

from __future__ import annotations

import re

from django.db import IntegrityError, transaction
from django.utils.translation import gettext as _

from oneteam.accounts.models import Person, normalize_email
from oneteam.consortium.models import Membership, Organization, OrganizationKind, Role
from oneteam.consortium.queries import is_admin_of
from oneteam.platform.errors import AccessDenied, InputError

SLUG_PATTERN = re.compile(r"^[a-z0-9](?:[a-z0-9-]{0,48}[a-z0-9])?$")
NAME_LENGTH_MAX = 200


def _clean_name(value: str, field: str) -> str:
    value = " ".join((value or "").split())
    if not value:
        raise InputError(field, _("Enter the organization's name."))
    if len(value) > NAME_LENGTH_MAX:
        raise InputError(field, _("The name may be at most %(count)d characters long.")
                         % {"count": NAME_LENGTH_MAX})
    return value


def do_create_organization(*, actor: Person | None, slug: str, name_ko: str, name_en: str,
                           kind: str, is_demo: bool = False) -> Organization:
    """A new member organization; only an operator may add one (``actor`` None: the system)."""
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
            return Organization.objects.create(slug=slug, name_ko=name_ko, name_en=name_en,
                                               kind=kind, is_demo=is_demo)
    except IntegrityError:
        raise taken from None


def do_add_membership(*, actor: Person | None, organization: Organization, email: str,
                      role: str) -> Membership:
    """Give the person with this e-mail address ``role`` in ``organization``.

    ``actor`` must administer the organization or operate the alliance (None: the system).
    Adding a role the person already holds returns the existing membership.
    """
    if actor is not None and not (actor.is_operator or is_admin_of(actor, organization)):
        raise AccessDenied(_("Only the administrators of %(organization)s add its members.")
                           % {"organization": organization.name})
    if role not in Role.values:
        raise InputError("role", _("Choose one of these roles: %(roles)s.")
                         % {"roles": ", ".join(Role.values)})
    person = Person.objects.filter(email=normalize_email(email or "")).first()
    if person is None:
        raise InputError("email", _("No one has signed up with this e-mail address."))
    with transaction.atomic(durable=True):
        membership, _created = Membership.objects.get_or_create(
            person=person, organization=organization, role=role)
    return membership


def do_remove_membership(*, actor: Person, membership: Membership) -> None:
    """End a membership; an organization keeps at least one administrator."""
    organization = membership.organization
    if not (actor.is_operator or is_admin_of(actor, organization)):
        raise AccessDenied(_("Only the administrators of %(organization)s remove its members.")
                           % {"organization": organization.name})
    with transaction.atomic(durable=True):
        if membership.role == Role.ADMIN and not Membership.objects.filter(
                organization=organization, role=Role.ADMIN).exclude(pk=membership.pk).exists():
            raise InputError("role", _("An organization keeps at least one administrator: "
                                       "add another before removing this one."))
        membership.delete()
