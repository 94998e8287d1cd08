"""The labs' dashboard panel: a learner's labs with their best score so far."""

from __future__ import annotations

from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _

from oneteam.accounts.models import Person
from oneteam.labs import queries
from oneteam.platform.dashboard import INSTRUCTOR, LEARNER, Panel, panel


@panel(LEARNER, order=40)
def my_labs(request: HttpRequest) -> Panel | None:
    person = request.user
    if not isinstance(person, Person):
        return None
    labs = queries.access_labs(person)
    if not labs:
        return None
    best = {result.lab_slug: result for result in queries.best_results(person)}
    return Panel(title=_("Labs and challenges"), template="labs/panels/labs.html",
                 context={"rows": [(lab, best.get(lab.slug)) for lab in labs[:10]]})


@panel(INSTRUCTOR, order=40)
def managed_labs(request: HttpRequest) -> Panel | None:
    person = request.user
    if not isinstance(person, Person):
        return None
    labs = [lab for lab in queries.access_labs(person) if queries.may_manage_lab(person, lab)]
    if not labs:
        return None
    return Panel(title=_("Labs I manage"), template="labs/panels/managed.html",
                 context={"labs": labs[:10]})
