"""The talent platform's dashboard panels.

Learners: postings recommended for them (with why), their applications, who viewed their
profile (one panel, loaded after the page). Recruiters: their company's postings with
counts, the newest applications, and a way to the candidates.
"""

from __future__ import annotations

from django.db.models import Count, Q
from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _

from oneteam.accounts.models import Person
from oneteam.platform.dashboard import LEARNER, RECRUITER, Panel, panel
from oneteam.talent import queries
from oneteam.talent.models import ACTIVE_APPLICATION, Application, ApplicationStatus

PANEL_ITEMS_MAX = 5


def _viewer(request: HttpRequest) -> Person | None:
    user = request.user
    return user if isinstance(user, Person) else None


@panel(LEARNER, order=60)
def talent_for_learner(request: HttpRequest) -> Panel:
    """Recommended postings with why, my applications, who viewed my profile: loaded by
    htmx after the page (``views.learner_panel``), so the dashboard itself makes no query
    for it and a search's first use in a process never slows the page."""
    return Panel(title=_("Jobs and projects"), template="talent/panels/learner.html",
                 ambient=True)


@panel(RECRUITER, order=10)
def our_postings(request: HttpRequest) -> Panel | None:
    person = _viewer(request)
    if person is None or not queries.recruiting_organizations(person).exists():
        return None
    postings = list(queries.access_managed_postings(person).annotate(
        active=Count("applications", filter=Q(applications__status__in=ACTIVE_APPLICATION)),
        waiting=Count("applications",
                      filter=Q(applications__status=ApplicationStatus.APPLIED)))
        [:PANEL_ITEMS_MAX * 2])
    return Panel(title=_("Our postings"), template="talent/panels/postings.html",
                 context={"postings": postings})


@panel(RECRUITER, order=20)
def newest_applications(request: HttpRequest) -> Panel | None:
    person = _viewer(request)
    if person is None:
        return None
    applications = list(Application.objects.filter(
        posting__organization__in=queries.recruiting_organizations(person))
        .select_related("posting", "person", "person__talent_profile")
        .order_by("-changed", "-id")[:PANEL_ITEMS_MAX])
    if not applications:
        return None
    return Panel(title=_("Newest applications"), template="talent/panels/new_applications.html",
                 context={"applications": applications})
