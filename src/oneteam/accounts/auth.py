"""How API callers prove who they are: a personal token, or the browser's session.

Routers pass ``auth=api_auth`` (the default of every app router that needs a person).
A request with ``Authorization: Bearer <token>`` is judged by the token alone: an
unknown or revoked token is refused, never silently replaced by the session. Without
that header the session counts, and a session request that writes must carry the
CSRF token (header ``X-CSRFToken``, from the ``csrftoken`` cookie).
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.http import HttpRequest
from django.utils.translation import gettext as _
from ninja.errors import AuthenticationError
from ninja.security import APIKeyCookie, HttpBearer
from ninja.utils import check_csrf

from oneteam.accounts.actions import do_record_api_token_use
from oneteam.accounts.models import Person
from oneteam.accounts.queries import authenticate_api_token
from oneteam.platform.errors import AccessDenied


class TokenAuth(HttpBearer):
    """``Authorization: Bearer ot_…``: a personal API token."""

    def authenticate(self, request: HttpRequest, token: str) -> Person:
        api_token = authenticate_api_token(token)
        if api_token is None:
            raise AuthenticationError(401, _("This API token is unknown or revoked."))
        do_record_api_token_use(api_token)
        request.user = api_token.person
        return api_token.person

    def __call__(self, request: HttpRequest) -> Any:
        header = request.headers.get("Authorization", "")
        if header and not header.lower().startswith("bearer "):
            raise AuthenticationError(401, _("Send the token as: Authorization: Bearer <token>."))
        return super().__call__(request)


class SessionAuth(APIKeyCookie):
    """The session cookie of a signed-in browser; writes need the CSRF token."""

    param_name = settings.SESSION_COOKIE_NAME

    def _get_key(self, request: HttpRequest) -> str | None:
        if not request.user.is_authenticated:
            return None
        if check_csrf(request) is not None:
            raise AccessDenied(_("CSRF check failed: session requests that change something "
                                 "must send the X-CSRFToken header."))
        return request.COOKIES.get(self.param_name)

    def authenticate(self, request: HttpRequest, key: str | None) -> Person | None:
        user = request.user
        return user if isinstance(user, Person) and user.is_authenticated else None


api_auth = [TokenAuth(), SessionAuth()]


def require_csrf(request: HttpRequest) -> None:
    """For anonymous endpoints that start a session: refuse a request without CSRF token."""
    if check_csrf(request) is not None:
        raise AccessDenied(_("CSRF check failed: first GET /api/accounts/csrf, then send its "
                             "token in the X-CSRFToken header."))
