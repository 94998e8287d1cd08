"""The credentials' dashboard panels: a learner's credentials, newest first, each with its
state and the links a holder uses (the credential, its certificate, its verify page); and
for those who issue, per organization, what was issued lately, what waits for its anchoring
batch, what is anchored, and the latest batch.

The issuer's panel appears in the administrators' section for the organizations one
administers, and in the instructors' section for those where one only teaches, so that a
person with both roles sees each organization once.
"""

from __future__ import annotations

from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _

from oneteam.accounts.models import Person
from oneteam.consortium.models import Role
from oneteam.credentials import queries
from oneteam.platform.dashboard import INSTRUCTOR, LEARNER, ORGANIZATION_ADMIN, Panel, panel

PANEL_CREDENTIALS_MAX = 5


@panel(LEARNER, order=30)
def my_credentials(request: HttpRequest) -> Panel | None:
    """None for a person who holds no credential yet: the section shows its own text."""
    person = request.user
    if not isinstance(person, Person):
        return None
    credentials = list(queries.access_my_credentials(person)
                       .order_by("-issued")[:PANEL_CREDENTIALS_MAX + 1])
    if not credentials:
        return None
    return Panel(title=_("My credentials"), template="credentials/panels/mine.html",
                 context={"credentials": credentials[:PANEL_CREDENTIALS_MAX],
                          "more": len(credentials) > PANEL_CREDENTIALS_MAX})


def _issuing_panel(request: HttpRequest, *, admin: bool) -> Panel | None:
    person = request.user
    if not isinstance(person, Person):
        return None
    organizations = queries.issuing_organizations(person, (Role.ADMIN,))
    if not admin:
        organizations = queries.issuing_organizations(person, (Role.INSTRUCTOR,)).exclude(
            pk__in=organizations.values("pk"))
    rows = queries.issuing_summary(organizations)
    if not rows:
        return None
    return Panel(title=_("Credentials issued"), template="credentials/panels/issuing.html",
                 context={"rows": rows})


@panel(ORGANIZATION_ADMIN, order=40)
def issued_by_my_organizations(request: HttpRequest) -> Panel | None:
    """Organizations the viewer administers."""
    return _issuing_panel(request, admin=True)


@panel(INSTRUCTOR, order=40)
def issued_where_i_teach(request: HttpRequest) -> Panel | None:
    """Organizations where the viewer is an instructor and not an administrator."""
    return _issuing_panel(request, admin=False)
