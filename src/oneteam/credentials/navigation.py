"""The credentials' link in the navigation: the issuing pages, for those who issue."""

from __future__ import annotations

from django.http import HttpRequest
from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from oneteam.credentials import queries
from oneteam.platform.navigation import NavLink, nav_link


@nav_link(order=30)
def issuing(request: HttpRequest) -> NavLink | None:
    if not queries.may_issue_anywhere(request.user):
        return None
    return NavLink(_("Issuing"), reverse("credentials:issuing"))
