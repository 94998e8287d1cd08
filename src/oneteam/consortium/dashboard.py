"""The consortium's dashboard panels."""

from __future__ import annotations

from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _

from oneteam.consortium import queries
from oneteam.consortium.models import Membership
from oneteam.platform.dashboard import LEARNER, ORGANIZATION_ADMIN, Panel, panel


@panel(ORGANIZATION_ADMIN, order=10)
def members(request: HttpRequest) -> Panel | None:
    person = request.user
    organizations = list(queries.organizations_administered_by(person))  # type: ignore[arg-type]
    if not organizations:
        return None
    rows = []
    for organization in organizations:
        members = list(queries.access_members_by_organization_slug(
            person, organization.slug))  # type: ignore[arg-type]
        rows.append({"organization": organization, "members": members})
    return Panel(title=_("Members"), template="consortium/panels/members.html",
                 context={"rows": rows})


@panel(LEARNER, order=90)
def my_organizations(request: HttpRequest) -> Panel | None:
    memberships: list[Membership] = list(
        queries.memberships_of(request.user))  # type: ignore[arg-type]
    if not memberships:
        return None
    return Panel(title=_("My organizations"), template="consortium/panels/mine.html",
                 context={"memberships": memberships})
