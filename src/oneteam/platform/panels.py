"""The platform's own dashboard panels: the alliance at a glance, the ledger's status."""

from __future__ import annotations

from django.db.models import Count
from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _

from oneteam.accounts.models import Person
from oneteam.consortium.models import Membership, Organization, OrganizationKind, Role
from oneteam.platform.dashboard import OPERATOR, ORGANIZATION_ADMIN, Panel, panel


@panel(OPERATOR, order=10)
def alliance_at_a_glance(request: HttpRequest) -> Panel | None:
    kinds = dict(OrganizationKind.choices)
    roles = dict(Role.choices)
    by_kind = (Organization.objects.values("kind").annotate(count=Count("id"))
               .order_by("kind"))
    by_role = Membership.objects.values("role").annotate(count=Count("id")).order_by("role")
    return Panel(
        title=_("Members and people"),
        template="platform/panels/alliance.html",
        context={
            "organizations": Organization.objects.count(),
            "people": Person.objects.filter(is_active=True).count(),
            "by_kind": [(kinds.get(row["kind"], row["kind"]), row["count"]) for row in by_kind],
            "by_role": [(roles.get(row["role"], row["role"]), row["count"]) for row in by_role],
        })


def _ledger_panel(request: HttpRequest) -> Panel:
    return Panel(title=_("Consortium ledger"), template="platform/panels/ledger.html")


@panel(OPERATOR, order=20)
def ledger_for_operators(request: HttpRequest) -> Panel | None:
    return _ledger_panel(request)


@panel(ORGANIZATION_ADMIN, order=90)
def ledger_for_admins(request: HttpRequest) -> Panel | None:
    return _ledger_panel(request)
