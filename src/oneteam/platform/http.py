"""Helpers about HTTP requests that several apps need."""

from __future__ import annotations

import ipaddress
from typing import TYPE_CHECKING

from django.conf import settings
from django.http import HttpRequest, HttpResponse

if TYPE_CHECKING:
    from oneteam.accounts.models import Person

UNKNOWN_ADDRESS = "0.0.0.0"


def client_address(request: HttpRequest) -> str:
    """The client's IP address: the socket's, or, behind ``ONETEAM_PROXY_COUNT`` proxies,
    the address the outermost trusted proxy saw (counted from the right of X-Forwarded-For,
    the part a client cannot forge)."""
    address = request.META.get("REMOTE_ADDR", "") or ""
    proxies: int = settings.ONETEAM_PROXY_COUNT
    if proxies > 0:
        hops = [h.strip() for h in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",")
                if h.strip()]
        if len(hops) >= proxies:
            address = hops[-proxies]
    try:
        return str(ipaddress.ip_address(address))
    except ValueError:
        return UNKNOWN_ADDRESS


def origin_of(request: HttpRequest) -> str:
    """``scheme://host`` to begin links sent by e-mail: ONETEAM_BASE_URL, or the request's own
    (its Host header was checked against ALLOWED_HOSTS)."""
    base: str = settings.ONETEAM_BASE_URL
    return base.rstrip("/") if base else request.build_absolute_uri("/").rstrip("/")


def set_language_cookie(response: HttpResponse, language: str) -> None:
    """Make ``language`` the interface language of this browser from the next request on."""
    response.set_cookie(
        settings.LANGUAGE_COOKIE_NAME, language, max_age=settings.LANGUAGE_COOKIE_AGE,
        path=settings.LANGUAGE_COOKIE_PATH, domain=settings.LANGUAGE_COOKIE_DOMAIN,
        secure=settings.LANGUAGE_COOKIE_SECURE, httponly=settings.LANGUAGE_COOKIE_HTTPONLY,
        samesite=settings.LANGUAGE_COOKIE_SAMESITE)  # type: ignore[arg-type]  # "Lax"


def api_person(request: HttpRequest) -> Person:
    """The person an API route's authentication found (its ``api_auth``); 401 otherwise,
    which only a route declared without authentication can meet."""
    from ninja.errors import AuthenticationError

    from oneteam.accounts.models import Person

    auth = getattr(request, "auth", None)
    if not isinstance(auth, Person):
        raise AuthenticationError()
    return auth


def page_person(request: HttpRequest) -> Person:
    """The signed-in person of a page behind ``login_required``; 403 otherwise, which only a
    view without that decorator can meet."""
    from oneteam.accounts.models import Person
    from oneteam.platform.errors import AccessDenied

    user = request.user
    if not isinstance(user, Person):
        from django.utils.translation import gettext

        raise AccessDenied(gettext("Sign in first."))
    return user


def page_language() -> str:
    """The interface's language for this request: "en" or "ko" (the default)."""
    from django.utils.translation import get_language

    return "en" if (get_language() or "ko").startswith("en") else "ko"
