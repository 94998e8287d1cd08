"""Every write of the accounts app: ``do_<verb>_<noun>``, one transaction each.

Bad input raises :class:`~oneteam.platform.errors.InputError` naming the field, before
anything is written. Side effects (e-mail) are enqueued as tasks after commit.
"""

from __future__ import annotations

import datetime
import hashlib
import math
import secrets

from django.conf import settings
from django.contrib.auth import authenticate, password_validation
from django.contrib.auth.tokens import default_token_generator
from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.encoding import force_str
from django.utils.http import urlsafe_base64_decode
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from oneteam.accounts.models import (
    DISPLAY_NAME_LENGTH_MAX,
    TOKEN_NAME_LENGTH_MAX,
    ApiToken,
    Person,
    SignInFailure,
    normalize_email,
)
from oneteam.platform.errors import InputError, NotFound, TooManyAttempts

API_TOKEN_MARK = "ot_"
API_TOKEN_PREFIX_LENGTH = 11
# Writing last_used on every request would turn every API read into a write.
API_TOKEN_USE_RESOLUTION = datetime.timedelta(seconds=60)


# --- checking input ---------------------------------------------------------------------------


def _clean_email(email: str, field: str = "email") -> str:
    email = normalize_email(email or "")
    if not email:
        raise InputError(field, _("Enter your e-mail address."))
    try:
        validate_email(email)
    except ValidationError:
        raise InputError(field, _("Enter a valid e-mail address.")) from None
    return email


def _clean_display_name(display_name: str) -> str:
    display_name = " ".join((display_name or "").split())
    if not display_name:
        raise InputError("display_name", _("Enter the name to show to others."))
    if len(display_name) > DISPLAY_NAME_LENGTH_MAX:
        raise InputError("display_name", _("The name may be at most %(count)d characters long.")
                         % {"count": DISPLAY_NAME_LENGTH_MAX})
    return display_name


def _clean_language(language: str) -> str:
    codes = [code for code, _name in settings.LANGUAGES]
    if language not in codes:
        raise InputError("preferred_language",
                         _("Choose one of these languages: %(codes)s.")
                         % {"codes": ", ".join(codes)})
    return language


def _check_password(password: str, person: Person, field: str) -> None:
    if not password:
        raise InputError(field, _("Enter a password."))
    try:
        password_validation.validate_password(password, person)
    except ValidationError as error:
        raise InputError(field, " ".join(error.messages)) from None


# --- people -----------------------------------------------------------------------------------


def do_sign_up(*, email: str, display_name: str, password: str,
               preferred_language: str | None = None, is_demo: bool = False) -> Person:
    """A new person, with a password; the caller signs them in if it wishes."""
    email = _clean_email(email)
    display_name = _clean_display_name(display_name)
    language = _clean_language(preferred_language or settings.LANGUAGE_CODE)
    person = Person(email=email, display_name=display_name, preferred_language=language,
                    is_demo=is_demo)
    _check_password(password, person, "password")
    person.set_password(password)
    taken = InputError("email", _("Someone has already signed up with this e-mail address. "
                                  "Sign in, or reset the password."))
    try:
        with transaction.atomic(durable=True):
            if Person.objects.filter(email=email).exists():
                raise taken
            person.save()
    except IntegrityError:  # signed up at the same moment by another request
        raise taken from None
    return person


def do_update_profile(person: Person, *, display_name: str | None = None,
                      preferred_language: str | None = None) -> Person:
    fields = []
    if display_name is not None:
        person.display_name = _clean_display_name(display_name)
        fields.append("display_name")
    if preferred_language is not None:
        person.preferred_language = _clean_language(preferred_language)
        fields.append("preferred_language")
    if fields:
        with transaction.atomic(durable=True):
            person.save(update_fields=fields)
    return person


def do_change_password(person: Person, *, current_password: str, new_password: str) -> Person:
    if not person.check_password(current_password or ""):
        raise InputError("current_password", _("The current password is incorrect."))
    _check_password(new_password, person, "new_password")
    person.set_password(new_password)
    with transaction.atomic(durable=True):
        person.save(update_fields=["password"])
    return person


# --- signing in, with throttling --------------------------------------------------------------


def _retry_after_s(failures: list[datetime.datetime], now: datetime.datetime) -> int:
    window = datetime.timedelta(seconds=settings.ONETEAM_SIGN_IN_WINDOW_S)
    return max(1, math.ceil((min(failures) + window - now).total_seconds()))


def _check_throttle(email: str, address: str, now: datetime.datetime) -> None:
    since = now - datetime.timedelta(seconds=settings.ONETEAM_SIGN_IN_WINDOW_S)
    recent = SignInFailure.objects.filter(created__gte=since)
    limits = (
        (recent.filter(email=email), settings.ONETEAM_SIGN_IN_FAILURES_PER_ACCOUNT_MAX),
        (recent.filter(address=address), settings.ONETEAM_SIGN_IN_FAILURES_PER_ADDRESS_MAX),
    )
    for failures, limit in limits:
        times = list(failures.order_by("-created").values_list("created", flat=True)[:limit])
        if len(times) >= limit:
            retry_after_s = _retry_after_s(times, now)
            minutes = math.ceil(retry_after_s / 60)
            raise TooManyAttempts(
                "email",
                ngettext("Too many failed sign-ins. Try again in %(minutes)d minute.",
                         "Too many failed sign-ins. Try again in %(minutes)d minutes.",
                         minutes) % {"minutes": minutes},
                retry_after_s)


def do_sign_in(*, email: str, password: str, address: str) -> Person:
    """The person with these credentials, unless too many sign-ins failed lately.

    Failures are counted per account and per client address over
    ``ONETEAM_SIGN_IN_WINDOW_S``; past either limit every attempt is refused, right or
    wrong, until the window has passed. A success clears the account's failures.
    """
    email = _clean_email(email)
    if not password:
        raise InputError("password", _("Enter your password."))
    now = timezone.now()
    _check_throttle(email, address, now)
    person = authenticate(None, username=email, password=password)
    if not isinstance(person, Person):
        since = now - datetime.timedelta(seconds=settings.ONETEAM_SIGN_IN_WINDOW_S)
        with transaction.atomic(durable=True):
            SignInFailure.objects.create(email=email, address=address, created=now)
            # Keep the table to the window: what fell out of it no longer counts.
            SignInFailure.objects.filter(email=email, created__lt=since).delete()
            SignInFailure.objects.filter(address=address, created__lt=since).delete()
        raise InputError("password", _("The e-mail address or password is incorrect."))
    with transaction.atomic(durable=True):
        SignInFailure.objects.filter(email=email).delete()
    return person


def do_prune_sign_in_failures(now: datetime.datetime | None = None) -> int:
    """Forget failures older than the throttling window; returns how many were deleted."""
    since = (now or timezone.now()) - datetime.timedelta(
        seconds=settings.ONETEAM_SIGN_IN_WINDOW_S)
    with transaction.atomic(durable=True):
        deleted, _by_model = SignInFailure.objects.filter(created__lt=since).delete()
    return deleted


# --- password reset ---------------------------------------------------------------------------


def do_request_password_reset(*, email: str, origin: str) -> None:
    """E-mail a reset link to the person with this address, if there is one.

    The answer is the same either way, so the form tells no one who has an account.
    ``origin`` (``https://host``) begins the link.
    """
    from oneteam.accounts.tasks import send_password_reset_email

    email = _clean_email(email)
    with transaction.atomic(durable=True):
        person = Person.objects.filter(email=email, is_active=True).first()
        if person is not None:
            person_id = person.pk
            transaction.on_commit(
                lambda: send_password_reset_email.enqueue(person_id, origin))


def _person_from_reset_link(uid: str, token: str) -> Person:
    try:
        person_id = int(force_str(urlsafe_base64_decode(uid or "")))
        person = Person.objects.get(pk=person_id, is_active=True)
    except (ValueError, TypeError, OverflowError, Person.DoesNotExist):
        person = None
    if person is None or not default_token_generator.check_token(person, token or ""):
        raise InputError("token", _("This password reset link is invalid or has expired. "
                                    "Ask for a new one."))
    return person


def check_password_reset_link(uid: str, token: str) -> Person:
    """The person a reset link is for; raises InputError (field ``token``) if it is not valid."""
    return _person_from_reset_link(uid, token)


def do_reset_password(*, uid: str, token: str, new_password: str) -> Person:
    person = _person_from_reset_link(uid, token)
    _check_password(new_password, person, "new_password")
    person.set_password(new_password)
    with transaction.atomic(durable=True):
        person.save(update_fields=["password"])
        # A person locked out by failures who proved their address may sign in again.
        SignInFailure.objects.filter(email=person.email).delete()
    return person


# --- API tokens -------------------------------------------------------------------------------


def api_token_digest(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def do_create_api_token(person: Person, *, name: str) -> tuple[ApiToken, str]:
    """A new token for ``person``; returns it and its secret, which is never shown again."""
    name = " ".join((name or "").split())
    if not name:
        raise InputError("name", _("Name the token after where you will use it."))
    if len(name) > TOKEN_NAME_LENGTH_MAX:
        raise InputError("name", _("The name may be at most %(count)d characters long.")
                         % {"count": TOKEN_NAME_LENGTH_MAX})
    secret = API_TOKEN_MARK + secrets.token_urlsafe(32)
    with transaction.atomic(durable=True):
        active = ApiToken.objects.filter(person=person, revoked__isnull=True).count()
        if active >= settings.ONETEAM_API_TOKENS_PER_PERSON_MAX:
            raise InputError("name", _("You have %(count)d active tokens, the most allowed. "
                                       "Revoke one first.") % {"count": active})
        token = ApiToken.objects.create(person=person, name=name,
                                        prefix=secret[:API_TOKEN_PREFIX_LENGTH],
                                        digest=api_token_digest(secret))
    return token, secret


def do_revoke_api_token(person: Person, *, token_id: int) -> ApiToken:
    with transaction.atomic(durable=True):
        token = ApiToken.objects.select_for_update().filter(pk=token_id, person=person).first()
        if token is None:
            raise NotFound(_("You have no API token with this number."))
        if token.revoked is None:
            token.revoked = timezone.now()
            token.save(update_fields=["revoked"])
    return token


def do_record_api_token_use(token: ApiToken, now: datetime.datetime | None = None) -> None:
    """Note that ``token`` was used, at most once a minute (a write per request would cost)."""
    now = now or timezone.now()
    if token.last_used is not None and now - token.last_used < API_TOKEN_USE_RESOLUTION:
        return
    with transaction.atomic(durable=True):
        ApiToken.objects.filter(pk=token.pk).update(last_used=now)
    token.last_used = now
