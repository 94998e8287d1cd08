"""The dashboard: sections per role, filled with panels that the apps contribute.

An app contributes a panel by writing a function in its own ``dashboard.py``::

    from oneteam.platform.dashboard import Panel, panel

    @panel("learner", order=10)
    def my_programs(request):
        programs = queries.access_programs_by_learner(request.user)
        return Panel(title=_("My programs"), template="academy/panels/programs.html",
                     context={"programs": programs})

The platform imports every installed app's ``dashboard`` module at start
(:func:`autodiscover`), so it never imports an app's views, and an app needs no
change outside its own package. A panel function returns ``None`` to show nothing.
Sections appear for the roles the viewer holds (``SECTIONS``); the dashboard shows a
section's empty text when no panel in it has anything of the viewer's own to show (panels
marked ``ambient``, shown to everyone, do not count).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from django.http import HttpRequest
from django.template.loader import render_to_string
from django.utils.functional import Promise
from django.utils.module_loading import autodiscover_modules
from django.utils.safestring import SafeString
from django.utils.translation import gettext_lazy as _


@dataclass(frozen=True, slots=True)
class Section:
    key: str
    title: str | Promise
    empty_text: str | Promise
    order: int


LEARNER = "learner"
INSTRUCTOR = "instructor"
RECRUITER = "recruiter"
ORGANIZATION_ADMIN = "organization_admin"
OPERATOR = "operator"

SECTIONS: dict[str, Section] = {
    s.key: s for s in (
        Section(OPERATOR, _("The alliance at a glance"),
                _("Nothing to report about the alliance yet."), 10),
        Section(ORGANIZATION_ADMIN, _("My organization"),
                _("Nothing to manage in your organization yet."), 20),
        Section(INSTRUCTOR, _("My cohorts"), _("You teach no cohort yet."), 30),
        Section(RECRUITER, _("Recruiting"), _("No postings or candidates yet."), 40),
        Section(LEARNER, _("My learning"),
                _("You are not enrolled in a program yet. Your programs and your next "
                  "lesson will appear here."), 50),
    )
}


@dataclass(frozen=True, slots=True)
class Panel:
    """What a panel function returns: a title and a template rendered with ``context``."""

    title: str | Promise
    template: str
    context: Mapping[str, Any] = field(default_factory=dict)
    # Shown to everyone in the section whatever they have (a job board): it does not
    # count as the section having something of the viewer's own, so the section's empty
    # text still tells a newcomer where to start.
    ambient: bool = False


PanelFunction = Callable[[HttpRequest], Panel | None]


@dataclass(frozen=True, slots=True)
class _Registered:
    order: int
    name: str
    function: PanelFunction


_registry: dict[str, list[_Registered]] = {key: [] for key in SECTIONS}


def panel(section: str, *, order: int = 100) -> Callable[[PanelFunction], PanelFunction]:
    """Register a panel function in ``section`` (a key of SECTIONS); lower ``order`` first."""
    if section not in SECTIONS:
        raise ValueError(f"unknown dashboard section {section!r}; one of {sorted(SECTIONS)}")

    def register(function: PanelFunction) -> PanelFunction:
        name = f"{function.__module__}.{function.__qualname__}"
        entries = _registry[section]
        if all(entry.name != name for entry in entries):  # importing twice registers once
            entries.append(_Registered(order, name, function))
            entries.sort(key=lambda entry: (entry.order, entry.name))
        return function

    return register


def registered(section: str) -> list[str]:
    """Names of the panel functions of ``section``, in order (for tests and checks)."""
    return [entry.name for entry in _registry[section]]


def autodiscover() -> None:
    """Import ``dashboard`` from every installed app, so that their panels register."""
    autodiscover_modules("dashboard")


def viewer_sections(request: HttpRequest) -> list[Section]:
    """The sections for the signed-in viewer's roles, in order.

    Roles come from memberships; ``is_operator`` adds the alliance section; the learner
    role, or no role at all (a learner needs no organization), the learner section.
    """
    from oneteam.consortium.models import Role
    from oneteam.consortium.queries import roles_of

    person = request.user
    roles = roles_of(person)
    keys = set()
    if getattr(person, "is_operator", False):
        keys.add(OPERATOR)
    if Role.ADMIN in roles:
        keys.add(ORGANIZATION_ADMIN)
    if Role.INSTRUCTOR in roles:
        keys.add(INSTRUCTOR)
    if Role.RECRUITER in roles:
        keys.add(RECRUITER)
    if Role.LEARNER in roles or not (roles or OPERATOR in keys):
        keys.add(LEARNER)
    return sorted((SECTIONS[key] for key in keys), key=lambda s: s.order)


@dataclass(frozen=True, slots=True)
class RenderedPanel:
    title: str | Promise
    html: SafeString
    name: str
    ambient: bool = False


class RenderedSection(list[RenderedPanel]):
    """A section's rendered panels; ``show_empty`` when none is the viewer's own."""

    @property
    def show_empty(self) -> bool:
        return all(rendered.ambient for rendered in self)


def render_section(request: HttpRequest, section: Section) -> RenderedSection:
    rendered = RenderedSection()
    for entry in _registry[section.key]:
        result = entry.function(request)
        if result is None:
            continue
        html = render_to_string(result.template, dict(result.context), request=request)
        rendered.append(RenderedPanel(result.title, html, entry.name, result.ambient))
    return rendered
