"""Middleware of the platform."""

from __future__ import annotations

from collections.abc import Callable
from http import HTTPStatus

from django.http import HttpRequest, HttpResponse, JsonResponse
from django.utils.translation import gettext as _

from oneteam.platform.errors import error_body

API_PREFIX = "/api/"


class JsonErrorsForApiMiddleware:
    """Under /api/, every error is JSON ``{"message", "field"}``, whoever produced it.

    The API's own handlers already answer so; this catches the rest: an unknown path
    (the URL resolver's 404), a method the route does not take (405), a CSRF refusal by
    Django's middleware (403), a server error outside the API's handlers (500).
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        if (not request.path.startswith(API_PREFIX) or response.status_code < 400
                or response.get("Content-Type", "").startswith("application/json")):
            return response
        status = response.status_code
        if status == 404:
            message = _("No such API endpoint.")
        elif status == 405:
            allowed = response.get("Allow", "")
            message = _("This endpoint does not take %(method)s; it takes %(allowed)s.") % {
                "method": request.method, "allowed": allowed}
        elif status == 403:
            message = _("Forbidden: sign in, or send the CSRF token with session requests.")
        elif status >= 500:
            message = _("Internal error. It has been logged.")
        else:
            message = HTTPStatus(status).phrase
        converted = JsonResponse(error_body(message), status=status,
                                 json_dumps_params={"ensure_ascii": False})
        if "Allow" in response:
            converted["Allow"] = response["Allow"]
        return converted
