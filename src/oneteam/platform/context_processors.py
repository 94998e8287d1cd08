"""What every page's template can use."""

from __future__ import annotations

from django.conf import settings
from django.http import HttpRequest


def platform(request: HttpRequest) -> dict[str, object]:
    return {"ONETEAM_DEBUG": settings.DEBUG}
