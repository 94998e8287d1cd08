"""The platform's pages: home, dashboard, the language switch, health."""

from __future__ import annotations

import contextlib
import logging
from typing import Any

from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.core.cache import cache
from django.db import connection
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_POST
from django.views.i18n import set_language

from oneteam.consortium.queries import access_organizations
from oneteam.platform import dashboard

logger = logging.getLogger(__name__)
LEDGER_STATUS_CACHE_S = 5


@require_GET
def home(request: HttpRequest) -> HttpResponse:
    if request.user.is_authenticated:
        return redirect("platform:dashboard")
    organizations = sorted(access_organizations(request.user),
                           key=lambda organization: organization.name)
    return render(request, "platform/home.html", {"organizations": organizations})


@login_required
@require_GET
def dashboard_page(request: HttpRequest) -> HttpResponse:
    sections = [(section, dashboard.render_section(request, section))
                for section in dashboard.viewer_sections(request)]
    return render(request, "platform/dashboard.html", {"sections": sections})


def ledger_status() -> dict[str, Any]:
    """The ledger node's status, through the client SDK, cached for a few seconds."""
    from oneteam.ledger.client import LedgerClientError, SyncLedgerClient

    cached = cache.get("platform:ledger-status")
    if cached is not None:
        return dict(cached)
    try:
        status = SyncLedgerClient(settings.ONETEAM_LEDGER_URL,
                                  timeout_s=settings.ONETEAM_LEDGER_TIMEOUT_S).status()
        result = {"ok": True, "chain_id": status.get("chain_id"),
                  "height": status.get("height"),
                  "committed": status.get("statistics", {}).get("committed_txs"),
                  "url": settings.ONETEAM_LEDGER_URL}
    except (LedgerClientError, OSError, ValueError) as error:
        logger.warning("ledger status unavailable: %s", error)
        result = {"ok": False, "url": settings.ONETEAM_LEDGER_URL}
    cache.set("platform:ledger-status", result, LEDGER_STATUS_CACHE_S)
    return result


@login_required
@require_GET
def ledger_panel(request: HttpRequest) -> HttpResponse:
    """The ledger panel's content, fetched by htmx after the dashboard has shown."""
    return render(request, "platform/panels/ledger_status.html", {"ledger": ledger_status()})


@require_POST
def switch_language(request: HttpRequest) -> HttpResponse:
    """Django's set_language, and, for a signed-in person, their preferred language too."""
    from oneteam.accounts.actions import do_update_profile
    from oneteam.accounts.models import Person
    from oneteam.platform.errors import InputError

    language = request.POST.get("language", "")
    if isinstance(request.user, Person) and language != request.user.preferred_language:
        with contextlib.suppress(InputError):  # set_language ignores an unknown one too
            do_update_profile(request.user, preferred_language=language)
    return set_language(request)


@never_cache
@require_GET
def health(request: HttpRequest) -> JsonResponse:
    """200 when the web process can reach its database; for `oneteam up` and load balancers."""
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
    except Exception as error:  # noqa: BLE001 - any database failure means unhealthy
        logger.error("health check: database unreachable: %s", error)
        return JsonResponse({"ok": False, "message": _("The database does not answer.")},
                            status=503)
    return JsonResponse({"ok": True})
