"""Links the apps add to the navigation, for the people they concern.

An app adds a link by writing a function in its own ``navigation.py``::

    from oneteam.platform.navigation import NavLink, nav_link

    @nav_link(order=20)
    def issuing(request):
        if not queries.may_issue_anywhere(request.user):
            return None
        return NavLink(_("Issuing"), reverse("credentials:issuing"))

The platform imports every installed app's ``navigation`` module at start
(:func:`autodiscover`), as it does ``dashboard``; ``platform/base.html`` shows the links
returned for the signed-in viewer after the platform's own. A link function runs on every
page, the hot ones included (the lesson page makes four queries in all): it answers from
the request or the cache, not from a database query each time.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from django.http import HttpRequest
from django.utils.functional import Promise
from django.utils.module_loading import autodiscover_modules


@dataclass(frozen=True, slots=True)
class NavLink:
    label: str | Promise
    url: str


LinkFunction = Callable[[HttpRequest], NavLink | None]


@dataclass(frozen=True, slots=True)
class _Registered:
    order: int
    name: str
    function: LinkFunction


_registry: list[_Registered] = []


def nav_link(*, order: int = 100) -> Callable[[LinkFunction], LinkFunction]:
    """Register a link function; lower ``order`` first."""

    def register(function: LinkFunction) -> LinkFunction:
        name = f"{function.__module__}.{function.__qualname__}"
        if all(entry.name != name for entry in _registry):  # importing twice registers once
            _registry.append(_Registered(order, name, function))
            _registry.sort(key=lambda entry: (entry.order, entry.name))
        return function

    return register


def registered() -> list[str]:
    """Names of the link functions, in order (for tests and checks)."""
    return [entry.name for entry in _registry]


def links_for(request: HttpRequest) -> list[NavLink]:
    """The apps' links for this request's viewer, in order."""
    links = []
    for entry in _registry:
        link = entry.function(request)
        if link is not None:
            links.append(link)
    return links


def autodiscover() -> None:
    """Import ``navigation`` from every installed app, so that their links register."""
    autodiscover_modules("navigation")
