"""The API root: one NinjaAPI at /api/, each app's router mounted at /api/<app label>/.

An installed app under ``oneteam.`` that has an ``api`` module with a ``router`` is
mounted automatically (:func:`mount_app_routers`), so a new app needs no change here.
OpenAPI: /api/openapi.json, browsable at /api/docs (served from the package, no CDN).

Every error answers JSON ``{"message": ..., "field": ...}`` (see ``errors.py``):
validation errors and InputError 422, TooManyAttempts 429, unauthenticated 401,
denied 403, not found 404, anything unexpected 500 (logged).
"""

from __future__ import annotations

import importlib
import logging
from typing import Any

from django.apps import apps
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse
from django.utils.translation import gettext as _
from ninja import NinjaAPI, Router, Schema
from ninja.errors import AuthenticationError, HttpError, ValidationError
from ninja.renderers import JSONRenderer

from oneteam.platform.errors import AccessDenied, InputError, NotFound, TooManyAttempts

logger = logging.getLogger(__name__)

# Parts of a validation error's location that say where, not which field.
LOCATION_KINDS = frozenset({"body", "query", "path", "header", "cookie", "form", "file",
                            "payload"})

class JsonRenderer(JSONRenderer):
    def __init__(self) -> None:
        self.json_dumps_params = {"ensure_ascii": False}  # Korean as is, not escaped


api = NinjaAPI(
    title="OneTeam",
    version="1",
    description="The API of the OneTeam platform. Authenticate with a personal API token "
                "(Authorization: Bearer ot_…, created at /accounts/tokens/ or with POST "
                "/api/accounts/tokens/by-password) or with the browser's session (writes "
                "then need the X-CSRFToken header). Errors are JSON {\"message\", \"field\"}.",
    urls_namespace="api",
    docs_url="/docs",
    renderer=JsonRenderer(),
)


def _response(request: HttpRequest, status: int, message: str,
              field: str | None = None) -> HttpResponse:
    return api.create_response(request, {"message": str(message), "field": field}, status=status)


def _field_of(location: tuple[Any, ...] | list[Any]) -> str | None:
    parts = [str(part) for part in location if str(part) not in LOCATION_KINDS]
    return ".".join(parts) or None


def _validation_message(error: dict[str, Any]) -> str:
    kind = error.get("type", "")
    if kind == "missing":
        return _("This field is required.")
    if kind == "json_invalid":
        return _("The request body is not valid JSON.")
    if kind in ("model_attributes_type", "dict_type", "model_type"):
        return _("Send a JSON object.")
    message = str(error.get("msg", _("This value is not valid.")))
    return message.removeprefix("Value error, ")


@api.exception_handler(ValidationError)
def on_validation_error(request: HttpRequest, exc: ValidationError) -> HttpResponse:
    first = exc.errors[0] if exc.errors else {}
    return _response(request, 422, _validation_message(first),
                     _field_of(first.get("loc", ())))


@api.exception_handler(InputError)
def on_input_error(request: HttpRequest, exc: InputError) -> HttpResponse:
    response = _response(request, exc.status, exc.message, exc.field)
    if isinstance(exc, TooManyAttempts):
        response["Retry-After"] = str(exc.retry_after_s)
    return response


@api.exception_handler(AuthenticationError)
def on_unauthenticated(request: HttpRequest, exc: AuthenticationError) -> HttpResponse:
    message = exc.message if exc.message != "Unauthorized" else _(
        "Sign in, or send a personal API token: Authorization: Bearer <token>.")
    return _response(request, 401, message)


@api.exception_handler(HttpError)
def on_http_error(request: HttpRequest, exc: HttpError) -> HttpResponse:
    message = exc.message
    if exc.status_code == 400 and message == "Cannot parse request body":
        message = _("The request body is not valid JSON.")
    return _response(request, exc.status_code, message)


@api.exception_handler(Http404)
def on_not_found(request: HttpRequest, exc: Http404) -> HttpResponse:
    message = exc.message if isinstance(exc, NotFound) else _("Not found.")
    return _response(request, 404, message)


@api.exception_handler(PermissionDenied)
def on_denied(request: HttpRequest, exc: PermissionDenied) -> HttpResponse:
    message = exc.message if isinstance(exc, AccessDenied) else _(
        "You may not do this.")
    return _response(request, 403, message)


@api.exception_handler(Exception)
def on_unexpected(request: HttpRequest, exc: Exception) -> HttpResponse:
    logger.exception("API error on %s %s", request.method, request.path)
    return _response(request, 500, _("Internal error. It has been logged."))


class StatusOut(Schema):
    version: str
    ledger_ok: bool
    ledger_chain_id: str | None = None
    ledger_height: int | None = None


@api.get("/status", response=StatusOut, tags=["platform"], summary="The platform and its ledger")
def status(request: HttpRequest) -> StatusOut:
    from oneteam.platform.views import ledger_status

    ledger = ledger_status()
    return StatusOut(version=api.version, ledger_ok=ledger["ok"],
                     ledger_chain_id=ledger.get("chain_id"), ledger_height=ledger.get("height"))


def mount_app_routers(root: NinjaAPI) -> list[str]:
    """Mount ``<app>.api.router`` of every installed OneTeam app at ``/<label>/``."""
    mounted = []
    for config in apps.get_app_configs():
        if not config.name.startswith("oneteam.") or config.name == "oneteam.platform":
            continue
        try:
            module = importlib.import_module(f"{config.name}.api")
        except ModuleNotFoundError as error:
            if error.name != f"{config.name}.api":
                raise
            continue
        router = getattr(module, "router", None)
        if not isinstance(router, Router):
            raise TypeError(f"{config.name}.api must define `router`, a ninja.Router")
        root.add_router(f"/{config.label}/", router)
        mounted.append(config.label)
    return mounted


MOUNTED = mount_app_routers(api)
