"""The consortium pages' forms. They check the shape of input; the actions check the rest."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from oneteam.consortium.actions import LEDGER_ROLES
from oneteam.consortium.models import OrganizationKind, Role
from oneteam.platform.errors import InputError

LEDGER_ROLE_LABELS = {
    "operator": _("operator (runs the alliance's credits)"),
    "issuer": _("issuer (issues credentials)"),
    "provider": _("provider (shares compute, data or models)"),
    "validator": _("validator (runs a validator node)"),
}


class ActionForm(forms.Form):
    """A form whose action's InputError lands on the field it names."""

    def add_input_error(self, error: InputError) -> None:
        field = error.field if error.field in self.fields else None
        self.add_error(field, error.message)


class OrganizationForm(ActionForm):
    slug = forms.CharField(label=_("Short name"), max_length=50,
                           help_text=_("Lowercase letters, digits and hyphens, e.g. "
                                       "\"kaist\". It names the organization on the ledger "
                                       "and in its DID, and cannot change."))
    name_ko = forms.CharField(label=_("Name in Korean"), max_length=200)
    name_en = forms.CharField(label=_("Name in English"), max_length=200)
    kind = forms.ChoiceField(label=_("Kind"), choices=OrganizationKind.choices)


class JoinForm(ActionForm):
    roles = forms.MultipleChoiceField(
        label=_("Roles on the ledger"), required=False, widget=forms.CheckboxSelectMultiple,
        choices=[(role, LEDGER_ROLE_LABELS[role]) for role in LEDGER_ROLES])


class AddMemberForm(ActionForm):
    email = forms.EmailField(label=_("E-mail address"), max_length=254,
                             help_text=_("Someone who has not signed up yet is sent an "
                                         "invitation."))
    role = forms.ChoiceField(label=_("Role"), choices=Role.choices)


class RolesForm(ActionForm):
    roles = forms.MultipleChoiceField(label=_("Roles"), required=False,
                                      widget=forms.CheckboxSelectMultiple, choices=Role.choices)
