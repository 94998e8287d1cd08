"""The academy's dashboard panels: a learner's programs and invitations, an instructor's
cohorts, a teacher's classes, an administrator's cohorts. Each returns None when it has
nothing to show, so a new person sees the section's own empty text."""

from __future__ import annotations

from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _

from oneteam.academy import queries
from oneteam.academy.models import Enrollment, SchoolClass
from oneteam.accounts.models import Person
from oneteam.platform.dashboard import INSTRUCTOR, LEARNER, ORGANIZATION_ADMIN, Panel, panel


def _viewer(request: HttpRequest) -> Person | None:
    user = request.user
    return user if isinstance(user, Person) else None


def _my_enrollments(request: HttpRequest, person: Person) -> list[Enrollment]:
    """The viewer's seats and invitations, read once for the panels that show them."""
    found: list[Enrollment] | None = getattr(request, "_academy_enrollments", None)
    if found is None:
        found = queries.my_enrollments(person)
        request._academy_enrollments = found  # type: ignore[attr-defined]
    return found


def _my_classes(request: HttpRequest, person: Person) -> list[SchoolClass]:
    """The classes the viewer is a student of, read once for the panels that show them."""
    found: list[SchoolClass] | None = getattr(request, "_academy_classes", None)
    if found is None:
        found = queries.student_classes(person)
        request._academy_classes = found  # type: ignore[attr-defined]
    return found


@panel(LEARNER, order=10)
def my_programs(request: HttpRequest) -> Panel | None:
    """The programs I learn, with my progress and a link straight to the next lesson."""
    person = _viewer(request)
    programs = (queries.learner_programs(person, _my_enrollments(request, person),
                                         _my_classes(request, person)) if person else [])
    if not programs:
        return None
    return Panel(title=_("My programs"), template="academy/panels/programs.html",
                 context={"programs": programs})


@panel(LEARNER, order=20)
def my_invitations(request: HttpRequest) -> Panel | None:
    person = _viewer(request)
    invitations = (queries.pending_invitations(person, _my_enrollments(request, person))
                   if person else [])
    if not invitations:
        return None
    return Panel(title=_("Invitations to cohorts"), template="academy/panels/invitations.html",
                 context={"invitations": invitations})


@panel(LEARNER, order=30)
def my_classes(request: HttpRequest) -> Panel | None:
    person = _viewer(request)
    classes = _my_classes(request, person) if person else []
    if not classes:
        return None
    return Panel(title=_("My classes"), template="academy/panels/my_classes.html",
                 context={"classes": classes})


@panel(INSTRUCTOR, order=10)
def taught_cohorts(request: HttpRequest) -> Panel | None:
    """The cohorts I teach: learners, requests waiting, average progress."""
    person = _viewer(request)
    cohorts = queries.taught_cohorts(person) if person else []
    if not cohorts:
        return None
    return Panel(title=_("Cohorts I teach"), template="academy/panels/cohorts.html",
                 context={"summaries": queries.cohort_summaries(cohorts)})


@panel(INSTRUCTOR, order=20)
def taught_classes(request: HttpRequest) -> Panel | None:
    person = _viewer(request)
    classes = queries.taught_classes(person) if person else []
    if not classes:
        return None
    return Panel(title=_("Classes I teach"), template="academy/panels/classes.html",
                 context={"classes": classes})


@panel(ORGANIZATION_ADMIN, order=20)
def organization_cohorts(request: HttpRequest) -> Panel | None:
    person = _viewer(request)
    cohorts = queries.organization_cohorts(person) if person else []
    if not cohorts:
        return None
    return Panel(title=_("Our cohorts"), template="academy/panels/cohorts.html",
                 context={"summaries": queries.cohort_summaries(cohorts)})
