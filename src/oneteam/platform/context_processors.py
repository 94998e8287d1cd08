"""What every page's template can use."""

from __future__ import annotations

from functools import partial

from django.conf import settings
from django.http import HttpRequest

from oneteam.platform.navigation import links_for


def platform(request: HttpRequest) -> dict[str, object]:
    # A callable: the template calls it only where it shows the navigation.
    return {"ONETEAM_DEBUG": settings.DEBUG, "nav_links": partial(links_for, request)}
