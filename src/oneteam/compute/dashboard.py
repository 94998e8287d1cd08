"""The compute app's dashboard panel: an administrator's pools and usage."""

from __future__ import annotations

from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _

from oneteam.accounts.models import Person
from oneteam.compute.models import ComputePool
from oneteam.consortium.queries import organizations_administered_by
from oneteam.platform.dashboard import ORGANIZATION_ADMIN, Panel, panel


@panel(ORGANIZATION_ADMIN, order=50)
def compute_usage(request: HttpRequest) -> Panel | None:
    person = request.user
    if not isinstance(person, Person):
        return None
    organizations = list(organizations_administered_by(person).order_by("name_en"))
    if not organizations:
        return None
    pools = list(ComputePool.objects.filter(owner__in=organizations).select_related("owner"))
    return Panel(title=_("Compute"), template="compute/panels/usage.html",
                 context={"organizations": organizations, "pools": pools})
