"""The accounts pages' forms. They check the shape of input; the actions check the rest."""

from __future__ import annotations

from django import forms
from django.conf import settings
from django.utils.translation import gettext_lazy as _

from oneteam.accounts.models import DISPLAY_NAME_LENGTH_MAX, TOKEN_NAME_LENGTH_MAX
from oneteam.platform.errors import InputError


class ActionForm(forms.Form):
    """A form whose action's InputError lands on the field it names."""

    def add_input_error(self, error: InputError) -> None:
        field = error.field if error.field in self.fields else None
        self.add_error(field, error.message)


def _language_choices() -> list[tuple[str, str]]:
    names = {"ko": "한국어", "en": "English"}
    return [(code, names.get(code, name)) for code, name in settings.LANGUAGES]


class SignUpForm(ActionForm):
    email = forms.EmailField(label=_("E-mail address"), max_length=254,
                             widget=forms.EmailInput(attrs={"autocomplete": "email"}))
    display_name = forms.CharField(label=_("Name shown to others"),
                                   max_length=DISPLAY_NAME_LENGTH_MAX,
                                   widget=forms.TextInput(attrs={"autocomplete": "name"}))
    password = forms.CharField(
        label=_("Password"), strip=False,
        help_text=_("At least 10 characters; not a common password, not only digits."),
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}))
    preferred_language = forms.ChoiceField(label=_("Language"), choices=_language_choices)


class SignInForm(ActionForm):
    email = forms.EmailField(label=_("E-mail address"), max_length=254,
                             widget=forms.EmailInput(attrs={"autocomplete": "email",
                                                            "autofocus": True}))
    password = forms.CharField(label=_("Password"), strip=False,
                               widget=forms.PasswordInput(
                                   attrs={"autocomplete": "current-password"}))


class PasswordResetForm(ActionForm):
    email = forms.EmailField(label=_("E-mail address"), max_length=254,
                             widget=forms.EmailInput(attrs={"autocomplete": "email"}))


class NewPasswordForm(ActionForm):
    new_password = forms.CharField(
        label=_("New password"), strip=False,
        help_text=_("At least 10 characters; not a common password, not only digits."),
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}))


class PasswordChangeForm(NewPasswordForm):
    current_password = forms.CharField(
        label=_("Current password"), strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "current-password"}))
    field_order = ("current_password", "new_password")


class ProfileForm(ActionForm):
    display_name = forms.CharField(label=_("Name shown to others"),
                                   max_length=DISPLAY_NAME_LENGTH_MAX)
    preferred_language = forms.ChoiceField(label=_("Language"), choices=_language_choices)


class TokenForm(ActionForm):
    name = forms.CharField(label=_("Token name"), max_length=TOKEN_NAME_LENGTH_MAX,
                           help_text=_("Where you will use it, e.g. \"laptop script\"."))
