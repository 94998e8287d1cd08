"""Reads of the accounts app that need a permission: ``access_<thing>_by_<key>``.

Each raises (``NotFound``, ``AccessDenied``) rather than return what the viewer may not see.
"""

from __future__ import annotations

from django.db.models import F, QuerySet
from django.utils.translation import gettext as _

from oneteam.accounts.actions import API_TOKEN_MARK, api_token_digest
from oneteam.accounts.models import ApiToken, Person
from oneteam.platform.errors import NotFound


def authenticate_api_token(secret: str) -> ApiToken | None:
    """The active token with this secret, its person active, or None."""
    if not secret.startswith(API_TOKEN_MARK) or len(secret) > 200:
        return None
    return (ApiToken.objects.select_related("person")
            .filter(digest=api_token_digest(secret), revoked__isnull=True,
                    person__is_active=True)
            .first())


def access_api_tokens_by_person(viewer: Person) -> QuerySet[ApiToken]:
    """The viewer's own tokens, active first; no one lists another person's tokens."""
    return ApiToken.objects.filter(person=viewer).order_by(
        F("revoked").asc(nulls_first=True), "-created")


def access_api_token_by_id(viewer: Person, token_id: int) -> ApiToken:
    token = ApiToken.objects.filter(person=viewer, pk=token_id).first()
    if token is None:
        raise NotFound(_("You have no API token with this number."))
    return token
