"""The errors actions and queries raise; views turn them into form errors, the API into JSON.

Every API error answers ``{"message": ..., "field": ...}``: ``field`` names the input at
fault (``null`` when no one input is), ``message`` is in the caller's language.
"""

from __future__ import annotations

from django.core.exceptions import PermissionDenied
from django.http import Http404


class InputError(Exception):
    """Bad input: ``field`` names it (``None`` for the input as a whole). API status 422."""

    status = 422

    def __init__(self, field: str | None, message: str) -> None:
        super().__init__(message)
        self.field = field
        self.message = message


class TooManyAttempts(InputError):
    """Refused for now, after too many failures; retry after ``retry_after_s``. API status 429."""

    status = 429

    def __init__(self, field: str | None, message: str, retry_after_s: int) -> None:
        super().__init__(field, message)
        self.retry_after_s = retry_after_s


class AccessDenied(PermissionDenied):
    """The person may not see or do this. API status 403."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class NotFound(Http404):
    """No such thing, or none the person may know of. API status 404."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


def error_body(message: str, field: str | None = None) -> dict[str, str | None]:
    return {"message": str(message), "field": field}
