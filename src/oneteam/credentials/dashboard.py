"""The credentials' dashboard panel: a learner's credentials, newest first, each with its
state and the links a holder uses (the credential, its certificate, its verify page)."""

from __future__ import annotations

from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _

from oneteam.accounts.models import Person
from oneteam.credentials import queries
from oneteam.platform.dashboard import LEARNER, Panel, panel

PANEL_CREDENTIALS_MAX = 5


@panel(LEARNER, order=30)
def my_credentials(request: HttpRequest) -> Panel | None:
    """None for a person who holds no credential yet: the section shows its own text."""
    person = request.user
    if not isinstance(person, Person):
        return None
    credentials = list(queries.access_my_credentials(person)
                       .order_by("-issued")[:PANEL_CREDENTIALS_MAX + 1])
    if not credentials:
        return None
    return Panel(title=_("My credentials"), template="credentials/panels/mine.html",
                 context={"credentials": credentials[:PANEL_CREDENTIALS_MAX],
                          "more": len(credentials) > PANEL_CREDENTIALS_MAX})
