"""The labs' link in the navigation: labs and challenges, for everyone signed in."""

from __future__ import annotations

from django.http import HttpRequest
from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from oneteam.platform.navigation import NavLink, nav_link


@nav_link(order=10)
def labs(request: HttpRequest) -> NavLink | None:
    if not request.user.is_authenticated:
        return None
    return NavLink(_("Labs"), reverse("labs:list"))
