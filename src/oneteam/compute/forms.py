"""The compute pages' forms. They check the shape of input; the actions check the rest."""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from oneteam.academy.models import Program
from oneteam.compute.models import CAPACITY_MAX, ExecutorKind
from oneteam.consortium.models import Organization
from oneteam.platform.errors import InputError


class ActionForm(forms.Form):
    def add_input_error(self, error: InputError) -> None:
        field = error.field.split(".", 1)[0] if error.field else None
        self.add_error(field if field in self.fields else None, error.message)


class PoolForm(ActionForm):
    owner = forms.ModelChoiceField(label=_("Provided by"), queryset=Organization.objects.none())
    slug = forms.CharField(label=_("Short name"), max_length=50)
    name = forms.CharField(label=_("Name"), max_length=100)
    executor = forms.ChoiceField(label=_("Executor"), choices=ExecutorKind.choices)
    capacity = forms.IntegerField(label=_("Jobs at once"), min_value=1, max_value=CAPACITY_MAX)
    gpus = forms.IntegerField(label=_("GPUs per job at most"), min_value=0, initial=0)
    price_cpu_hour = forms.IntegerField(label=_("Credits per CPU-hour"), min_value=0)
    price_gpu_hour = forms.IntegerField(label=_("Credits per GPU-hour"), min_value=0, initial=0)
    shared_dir = forms.CharField(label=_("Slurm: folder shared with the nodes"), required=False)
    partition = forms.CharField(label=_("Slurm: partition"), required=False)
    account = forms.CharField(label=_("Slurm: account"), required=False)
    slurm_conf = forms.CharField(label=_("Slurm: slurm.conf path"), required=False)
    allowed_programs = forms.ModelMultipleChoiceField(
        label=_("Programs allowed"), queryset=Program.objects.all(), required=False,
        widget=forms.CheckboxSelectMultiple, help_text=_("None chosen: every program."))
    allowed_organizations = forms.ModelMultipleChoiceField(
        label=_("Organizations allowed"), queryset=Organization.objects.all(), required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text=_("None chosen: every member organization."))

    def __init__(self, *args: Any, owners: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["owner"].queryset = owners  # type: ignore[attr-defined]

    def executor_settings(self) -> dict[str, str]:
        data = self.cleaned_data
        if data["executor"] != ExecutorKind.SLURM:
            return {}
        return {key: data[key] for key in ("shared_dir", "partition", "account", "slurm_conf")
                if data.get(key)}


class OfferForm(ActionForm):
    """What a pool offers from now on: its capacity and prices (jobs queued already keep the
    prices they were reserved at)."""

    capacity = forms.IntegerField(label=_("Jobs at once"), min_value=1, max_value=CAPACITY_MAX)
    price_cpu_hour = forms.IntegerField(label=_("Credits per CPU-hour"), min_value=0)
    price_gpu_hour = forms.IntegerField(label=_("Credits per GPU-hour"), min_value=0)


class ApprovalForm(ActionForm):
    provider = forms.ModelChoiceField(label=_("Providing organization"),
                                      queryset=Organization.objects.none())
    limit = forms.IntegerField(label=_("Credit limit"), min_value=0,
                               help_text=_("The most the provider may charge from now on; "
                                           "it replaces an earlier limit."))

    def __init__(self, *args: Any, providers: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["provider"].queryset = providers  # type: ignore[attr-defined]
