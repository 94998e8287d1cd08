"""The accounts API, mounted at /api/accounts/: everything the accounts pages do."""

from __future__ import annotations

import datetime

from django.contrib.auth import login, logout
from django.http import HttpRequest, HttpResponse
from django.middleware.csrf import get_token
from django.utils.translation import gettext as _
from ninja import Router, Schema, Status

from oneteam.accounts import actions, queries
from oneteam.accounts.auth import api_auth, require_csrf
from oneteam.accounts.models import ApiToken, Person
from oneteam.platform.http import api_person as _person
from oneteam.platform.http import client_address, origin_of, set_language_cookie

router = Router(tags=["accounts"])


class PersonOut(Schema):
    id: int
    email: str
    display_name: str
    preferred_language: str
    is_operator: bool
    created: datetime.datetime


class SignUpIn(Schema):
    email: str
    display_name: str
    password: str
    preferred_language: str | None = None


class SignInIn(Schema):
    email: str
    password: str


class ProfileIn(Schema):
    display_name: str | None = None
    preferred_language: str | None = None


class PasswordChangeIn(Schema):
    current_password: str
    new_password: str


class PasswordResetIn(Schema):
    email: str


class PasswordResetConfirmIn(Schema):
    uid: str
    token: str
    new_password: str


class TokenIn(Schema):
    name: str


class TokenByPasswordIn(Schema):
    email: str
    password: str
    name: str


class TokenOut(Schema):
    id: int
    name: str
    prefix: str
    created: datetime.datetime
    last_used: datetime.datetime | None
    revoked: datetime.datetime | None


class NewTokenOut(TokenOut):
    token: str


class CsrfOut(Schema):
    csrf_token: str


class Done(Schema):
    message: str




def _new_token_out(token: ApiToken, secret: str) -> NewTokenOut:
    return NewTokenOut(id=token.pk, name=token.name, prefix=token.prefix, created=token.created,
                       last_used=token.last_used, revoked=token.revoked, token=secret)


@router.get("/csrf", response=CsrfOut, summary="Get a CSRF token (and its cookie) for session "
            "requests")
def csrf(request: HttpRequest) -> CsrfOut:
    return CsrfOut(csrf_token=get_token(request))


@router.post("/people", response={201: PersonOut}, summary="Sign up")
def sign_up(request: HttpRequest, payload: SignUpIn) -> Status[Person]:
    person = actions.do_sign_up(email=payload.email, display_name=payload.display_name,
                                password=payload.password,
                                preferred_language=payload.preferred_language)
    return Status(201, person)


@router.post("/session", response=PersonOut, summary="Sign in: start a browser session "
             "(needs the CSRF token)")
def sign_in(request: HttpRequest, response: HttpResponse, payload: SignInIn) -> Person:
    require_csrf(request)
    person = actions.do_sign_in(email=payload.email, password=payload.password,
                                address=client_address(request))
    login(request, person, backend="django.contrib.auth.backends.ModelBackend")
    set_language_cookie(response, person.preferred_language)
    return person


@router.delete("/session", auth=api_auth, response=Done, summary="Sign out")
def sign_out(request: HttpRequest) -> Done:
    logout(request)
    return Done(message=_("You have signed out."))


@router.get("/me", auth=api_auth, response=PersonOut, summary="Who am I")
def me(request: HttpRequest) -> Person:
    return _person(request)


@router.patch("/me", auth=api_auth, response=PersonOut, summary="Change my name or language")
def update_me(request: HttpRequest, payload: ProfileIn) -> Person:
    return actions.do_update_profile(_person(request), display_name=payload.display_name,
                                     preferred_language=payload.preferred_language)


@router.post("/me/password", auth=api_auth, response=Done, summary="Change my password")
def change_password(request: HttpRequest, payload: PasswordChangeIn) -> Done:
    person = actions.do_change_password(_person(request),
                                        current_password=payload.current_password,
                                        new_password=payload.new_password)
    if request.user.is_authenticated and request.user.pk == person.pk and hasattr(
            request, "session"):
        from django.contrib.auth import update_session_auth_hash

        update_session_auth_hash(request, person)
    return Done(message=_("Your password has been changed."))


@router.post("/password-reset", response={202: Done},
             summary="E-mail a password reset link (the answer never says whether the "
                     "address has an account)")
def request_password_reset(request: HttpRequest, payload: PasswordResetIn) -> Status[Done]:
    actions.do_request_password_reset(email=payload.email, origin=origin_of(request))
    return Status(202, Done(message=_(
        "If an account uses this address, a link to set a new password is on its way. "
        "The link works for three hours.")))


@router.post("/password-reset/confirm", response=Done,
             summary="Set a new password with the uid and token of a reset link")
def confirm_password_reset(request: HttpRequest, payload: PasswordResetConfirmIn) -> Done:
    actions.do_reset_password(uid=payload.uid, token=payload.token,
                              new_password=payload.new_password)
    return Done(message=_("Your password has been changed. Sign in with it."))


@router.get("/tokens", auth=api_auth, response=list[TokenOut], summary="My API tokens")
def list_tokens(request: HttpRequest) -> list[ApiToken]:
    return list(queries.access_api_tokens_by_person(_person(request)))


@router.post("/tokens", auth=api_auth, response={201: NewTokenOut},
             summary="Create an API token (its secret is shown this once)")
def create_token(request: HttpRequest, payload: TokenIn) -> Status[NewTokenOut]:
    token, secret = actions.do_create_api_token(_person(request), name=payload.name)
    return Status(201, _new_token_out(token, secret))


@router.post("/tokens/by-password", response={201: NewTokenOut},
             summary="Create an API token with e-mail and password (throttled like sign-in)")
def create_token_by_password(request: HttpRequest,
                             payload: TokenByPasswordIn) -> Status[NewTokenOut]:
    person = actions.do_sign_in(email=payload.email, password=payload.password,
                                address=client_address(request))
    token, secret = actions.do_create_api_token(person, name=payload.name)
    return Status(201, _new_token_out(token, secret))


@router.delete("/tokens/{token_id}", auth=api_auth, response=TokenOut,
               summary="Revoke an API token")
def revoke_token(request: HttpRequest, token_id: int) -> ApiToken:
    return actions.do_revoke_api_token(_person(request), token_id=token_id)
