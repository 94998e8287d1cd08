"""The consortium's dashboard panels.

Administrators: their organizations' members, pending approvals, keys and ledger
status. Operators: the alliance on the ledger at a glance. Everyone: invitations
waiting for them.
"""

from __future__ import annotations

from django.http import HttpRequest
from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from oneteam.accounts.models import Person
from oneteam.consortium import actions, identity, queries
from oneteam.consortium.models import (
    Invitation,
    KeyState,
    Membership,
    Organization,
    OrganizationKey,
)
from oneteam.platform.dashboard import LEARNER, OPERATOR, ORGANIZATION_ADMIN, Panel, panel


def _administered(request: HttpRequest) -> tuple[Person | None, list[Organization]]:
    person = request.user
    if not isinstance(person, Person):
        return None, []
    return person, list(queries.organizations_administered_by(person))


@panel(ORGANIZATION_ADMIN, order=10)
def members(request: HttpRequest) -> Panel | None:
    person, organizations = _administered(request)
    if person is None or not organizations:
        return None
    rows = []
    for organization in organizations:
        members = list(queries.access_members_by_organization_slug(
            person, organization.slug))
        rows.append({"organization": organization, "members": members})
    return Panel(title=_("Members"), template="consortium/panels/members.html",
                 context={"rows": rows})


@panel(ORGANIZATION_ADMIN, order=15)
def pending_approvals(request: HttpRequest) -> Panel | None:
    person, organizations = _administered(request)
    if person is None:
        return None
    rows = []
    for organization in organizations:
        pending = queries.access_pending_approvals_by_organization_slug(
            person, organization.slug)
        if pending:
            rows.append({"organization": organization, "pending": pending})
    if not rows:
        return None
    return Panel(title=_("Pending approvals"), template="consortium/panels/approvals.html",
                 context={"rows": rows})


@panel(ORGANIZATION_ADMIN, order=20)
def keys(request: HttpRequest) -> Panel | None:
    person, organizations = _administered(request)
    if person is None or not organizations:
        return None
    rows = []
    for organization in organizations:
        key = OrganizationKey.objects.filter(organization=organization,
                                             state=KeyState.CURRENT).first()
        rows.append({"organization": organization, "key": key,
                     "multikey": identity.multikey(key.public_key) if key else ""})
    return Panel(title=_("Signing keys"), template="consortium/panels/keys.html",
                 context={"rows": rows})


@panel(ORGANIZATION_ADMIN, order=30)
def ledger_status(request: HttpRequest) -> Panel | None:
    person, organizations = _administered(request)
    if person is None or not organizations:
        return None
    rows = [{"organization": organization,
             "status": queries.ledger_status(organization)}
            for organization in organizations]
    return Panel(title=_("On the ledger"), template="consortium/panels/ledger.html",
                 context={"rows": rows})


@panel(OPERATOR, order=15)
def alliance_on_the_ledger(request: HttpRequest) -> Panel | None:
    person = request.user
    if not isinstance(person, Person) or not person.is_operator:
        return None
    return Panel(title=_("The alliance on the ledger"),
                 template="consortium/panels/alliance.html",
                 context={"overview": queries.access_alliance(person)})


@panel(LEARNER, order=5)
def invitations_for_me(request: HttpRequest) -> Panel | None:
    person = request.user
    if not isinstance(person, Person):
        return None
    open_ones = [invitation for invitation in Invitation.objects.filter(
        email=person.email, accepted__isnull=True, withdrawn__isnull=True)
        .select_related("organization") if invitation.is_open()]
    if not open_ones:
        return None
    rows = [(invitation, reverse("consortium:invitation",
                                 args=[actions.invitation_token(invitation)]))
            for invitation in open_ones]
    return Panel(title=_("Invitations for you"), template="consortium/panels/invitations.html",
                 context={"invitations": rows})


@panel(LEARNER, order=90)
def my_organizations(request: HttpRequest) -> Panel | None:
    person = request.user
    if not isinstance(person, Person):
        return None
    memberships: list[Membership] = list(queries.memberships_of(person))
    if not memberships:
        return None
    return Panel(title=_("My organizations"), template="consortium/panels/mine.html",
                 context={"memberships": memberships})
