"""Test factories: real objects made through the apps' own actions, with sensible defaults.

Every factory takes keyword arguments for what a test cares about and makes up the rest
(unique e-mail addresses and short names from a counter). Import from here in any test::

    from tests.factories import make_person, make_organization, make_membership

``PASSWORD`` is every made person's password unless a test gives another.
"""

from __future__ import annotations

import itertools

from oneteam.accounts.actions import do_create_api_token, do_sign_up
from oneteam.accounts.models import ApiToken, Person
from oneteam.consortium.actions import do_add_membership, do_create_organization
from oneteam.consortium.models import Membership, Organization, OrganizationKind, Role

PASSWORD = "Quiet-river-2718"
_counter = itertools.count(1)


def make_person(*, email: str | None = None, display_name: str | None = None,
                password: str = PASSWORD, language: str = "ko",
                operator: bool = False, staff: bool = False) -> Person:
    number = next(_counter)
    person = do_sign_up(email=email or f"person{number}@example.org",
                        display_name=display_name or f"Person {number}", password=password,
                        preferred_language=language)
    if operator or staff:
        person.is_operator = operator
        person.is_staff = staff
        person.save(update_fields=["is_operator", "is_staff"])
    return person


def make_organization(*, slug: str | None = None, name_ko: str | None = None,
                      name_en: str | None = None, kind: str = OrganizationKind.COMPANY,
                      is_demo: bool = False) -> Organization:
    number = next(_counter)
    return do_create_organization(actor=None, slug=slug or f"org-{number}",
                                  name_ko=name_ko or f"기관 {number}",
                                  name_en=name_en or f"Organization {number}", kind=kind,
                                  is_demo=is_demo)


def make_membership(person: Person, organization: Organization,
                    role: str = Role.LEARNER) -> Membership:
    return do_add_membership(actor=None, organization=organization, email=person.email,
                             role=role)


def make_admin(organization: Organization, **person_fields: object) -> Person:
    """A new person who administers ``organization``."""
    person = make_person(**person_fields)  # type: ignore[arg-type]
    make_membership(person, organization, Role.ADMIN)
    return person


def make_operator(**person_fields: object) -> Person:
    """A new operator of the alliance."""
    return make_person(operator=True, **person_fields)  # type: ignore[arg-type]


def make_api_token(person: Person, name: str = "test script") -> tuple[ApiToken, str]:
    """A token and its secret (the only time the secret is known)."""
    return do_create_api_token(person, name=name)
