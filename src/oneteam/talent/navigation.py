"""The talent app's link in the navigation: jobs, internships and AI+X projects, for
everyone signed in (learners look for postings, recruiters post and search)."""

from __future__ import annotations

from django.http import HttpRequest
from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from oneteam.platform.navigation import NavLink, nav_link


@nav_link(order=20)
def talent(request: HttpRequest) -> NavLink | None:
    if not request.user.is_authenticated:
        return None
    return NavLink(_("Jobs and projects"), reverse("talent:home"))
