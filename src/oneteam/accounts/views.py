"""The accounts pages: sign up, sign in and out, password reset, profile, API tokens."""

from __future__ import annotations

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import login, logout, update_session_auth_hash
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import get_language
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from oneteam.accounts import actions, queries
from oneteam.accounts.forms import (
    NewPasswordForm,
    PasswordChangeForm,
    PasswordResetForm,
    ProfileForm,
    SignInForm,
    SignUpForm,
    TokenForm,
)
from oneteam.accounts.models import Person
from oneteam.platform.errors import InputError
from oneteam.platform.http import client_address, origin_of, set_language_cookie
from oneteam.platform.http import page_person as _person

MODEL_BACKEND = "django.contrib.auth.backends.ModelBackend"




def _next_url(request: HttpRequest) -> str:
    candidate = request.POST.get("next") or request.GET.get("next") or ""
    if candidate and url_has_allowed_host_and_scheme(
            candidate, allowed_hosts={request.get_host()}, require_https=request.is_secure()):
        return candidate
    return reverse(settings.LOGIN_REDIRECT_URL)


def _signed_in(request: HttpRequest, person: Person, to: str) -> HttpResponse:
    login(request, person, backend=MODEL_BACKEND)
    response = HttpResponseRedirect(to)
    set_language_cookie(response, person.preferred_language)
    return response


@require_http_methods(["GET", "POST"])
def sign_up(request: HttpRequest) -> HttpResponse:
    if request.user.is_authenticated:
        return redirect(settings.LOGIN_REDIRECT_URL)
    form = SignUpForm(request.POST or None, initial={"preferred_language": get_language()})
    if request.method == "POST" and form.is_valid():
        try:
            person = actions.do_sign_up(**form.cleaned_data)
        except InputError as error:
            form.add_input_error(error)
        else:
            messages.success(request, _("Welcome to OneTeam, %(name)s.")
                             % {"name": person.display_name})
            return _signed_in(request, person, reverse(settings.LOGIN_REDIRECT_URL))
    return render(request, "accounts/sign_up.html", {"form": form},
                  status=422 if form.errors else 200)


@require_http_methods(["GET", "POST"])
def sign_in(request: HttpRequest) -> HttpResponse:
    if request.user.is_authenticated and request.method == "GET":
        return redirect(_next_url(request))
    form = SignInForm(request.POST or None)
    status = 200
    if request.method == "POST" and form.is_valid():
        try:
            person = actions.do_sign_in(email=form.cleaned_data["email"],
                                        password=form.cleaned_data["password"],
                                        address=client_address(request))
        except InputError as error:
            form.add_input_error(error)
            status = getattr(error, "status", 422)
        else:
            return _signed_in(request, person, _next_url(request))
    if form.errors and status == 200:
        status = 422
    return render(request, "accounts/sign_in.html",
                  {"form": form, "next": request.POST.get("next") or request.GET.get("next", "")},
                  status=status)


@require_POST
def sign_out(request: HttpRequest) -> HttpResponse:
    logout(request)
    messages.info(request, _("You have signed out."))
    return redirect(settings.LOGOUT_REDIRECT_URL)


@require_http_methods(["GET", "POST"])
def password_reset(request: HttpRequest) -> HttpResponse:
    form = PasswordResetForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            actions.do_request_password_reset(email=form.cleaned_data["email"],
                                              origin=origin_of(request))
        except InputError as error:
            form.add_input_error(error)
        else:
            return redirect("accounts:password-reset-sent")
    return render(request, "accounts/password_reset.html", {"form": form},
                  status=422 if form.errors else 200)


def password_reset_sent(request: HttpRequest) -> HttpResponse:
    return render(request, "accounts/password_reset_sent.html")


@require_http_methods(["GET", "POST"])
def password_reset_confirm(request: HttpRequest, uid: str, token: str) -> HttpResponse:
    try:
        actions.check_password_reset_link(uid, token)
    except InputError as error:
        return render(request, "accounts/password_reset_confirm.html",
                      {"link_error": error.message}, status=400)
    form = NewPasswordForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            actions.do_reset_password(uid=uid, token=token,
                                      new_password=form.cleaned_data["new_password"])
        except InputError as error:
            form.add_input_error(error)
        else:
            messages.success(request, _("Your password has been changed. Sign in with it."))
            return redirect("accounts:sign-in")
    return render(request, "accounts/password_reset_confirm.html", {"form": form},
                  status=422 if form.errors else 200)


@login_required
@require_http_methods(["GET", "POST"])
def profile(request: HttpRequest) -> HttpResponse:
    person = _person(request)
    form = ProfileForm(request.POST or None, initial={
        "display_name": person.display_name, "preferred_language": person.preferred_language})
    if request.method == "POST" and form.is_valid():
        try:
            actions.do_update_profile(person, **form.cleaned_data)
        except InputError as error:
            form.add_input_error(error)
        else:
            messages.success(request, _("Your profile has been saved."))
            response = redirect("accounts:profile")
            set_language_cookie(response, person.preferred_language)
            return response
    return render(request, "accounts/profile.html", {"form": form},
                  status=422 if form.errors else 200)


@login_required
@require_http_methods(["GET", "POST"])
def change_password(request: HttpRequest) -> HttpResponse:
    person = _person(request)
    form = PasswordChangeForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            actions.do_change_password(person, **form.cleaned_data)
        except InputError as error:
            form.add_input_error(error)
        else:
            update_session_auth_hash(request, person)
            messages.success(request, _("Your password has been changed."))
            return redirect("accounts:profile")
    return render(request, "accounts/password_change.html", {"form": form},
                  status=422 if form.errors else 200)


@login_required
@require_http_methods(["GET", "POST"])
def tokens(request: HttpRequest) -> HttpResponse:
    person = _person(request)
    form = TokenForm(request.POST or None)
    created = None
    if request.method == "POST" and form.is_valid():
        try:
            token, secret = actions.do_create_api_token(person, name=form.cleaned_data["name"])
        except InputError as error:
            form.add_input_error(error)
        else:
            created = {"token": token, "secret": secret}
            form = TokenForm()
    context = {"form": form, "created": created,
               "tokens": queries.access_api_tokens_by_person(person)}
    response = render(request, "accounts/tokens.html", context,
                      status=422 if form.errors else 200)
    # The secret is on this page only: keep it out of every cache.
    response["Cache-Control"] = "no-store"
    return response


@login_required
@require_POST
def revoke_token(request: HttpRequest, token_id: int) -> HttpResponse:
    token = actions.do_revoke_api_token(_person(request), token_id=token_id)
    if request.headers.get("HX-Request"):
        return render(request, "accounts/_token_row.html", {"token": token})
    messages.success(request, _("The token “%(name)s” has been revoked.") % {"name": token.name})
    return redirect("accounts:tokens")
