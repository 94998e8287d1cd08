"""The labs pages' forms. They check the shape of input; the actions check the rest."""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from oneteam.academy.models import Cohort, Program
from oneteam.consortium.models import Organization
from oneteam.labs.models import FINAL_SUBMISSIONS_DEFAULT, FINAL_SUBMISSIONS_MAX
from oneteam.platform.errors import InputError


class ActionForm(forms.Form):
    def add_input_error(self, error: InputError) -> None:
        field = error.field if error.field in self.fields else None
        problems = getattr(error, "problems", None)
        if problems:
            for problem in problems:
                self.add_error(field, str(problem))
        else:
            self.add_error(field, error.message)


class DateTimeInput(forms.DateTimeInput):
    input_type = "datetime-local"

    def __init__(self) -> None:
        super().__init__(format="%Y-%m-%dT%H:%M")


class LabUploadForm(ActionForm):
    bundle = forms.FileField(label=_("Bundle (a zip of the folder with lab.toml)"))
    owner = forms.ModelChoiceField(label=_("Run by"), queryset=Organization.objects.none())
    program = forms.ModelChoiceField(label=_("Program"), queryset=Program.objects.none(),
                                     required=False,
                                     help_text=_("For a lab; a challenge has none."))
    cohort = forms.ModelChoiceField(label=_("Cohort"), queryset=Cohort.objects.none(),
                                    required=False,
                                    help_text=_("Only this cohort's learners see the lab; "
                                                "empty: everyone who may read the program."))
    deadline = forms.DateTimeField(label=_("Deadline"), required=False,
                                   widget=DateTimeInput(),
                                   help_text=_("The private leaderboard is revealed then."))
    final_submissions_max = forms.IntegerField(
        label=_("Final submissions per person"), min_value=1,
        max_value=FINAL_SUBMISSIONS_MAX, initial=FINAL_SUBMISSIONS_DEFAULT)

    def __init__(self, *args: Any, owners: Any, programs: Any, cohorts: Any,
                 **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["owner"].queryset = owners  # type: ignore[attr-defined]
        self.fields["program"].queryset = programs  # type: ignore[attr-defined]
        self.fields["cohort"].queryset = cohorts  # type: ignore[attr-defined]


class LabSettingsForm(ActionForm):
    deadline = forms.DateTimeField(label=_("Deadline"), required=False,
                                   widget=DateTimeInput())
    final_submissions_max = forms.IntegerField(label=_("Final submissions per person"),
                                               min_value=1, max_value=FINAL_SUBMISSIONS_MAX)


class NewVersionForm(ActionForm):
    bundle = forms.FileField(label=_("New version of the bundle"))


class MultipleFileInput(forms.ClearableFileInput):
    allow_multiple_selected = True


class MultipleFileField(forms.FileField):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("widget", MultipleFileInput())
        super().__init__(*args, **kwargs)

    def clean(self, data: Any, initial: Any = None) -> Any:
        single = super().clean
        if isinstance(data, list | tuple):
            return [single(item, initial) for item in data]
        return [single(data, initial)] if data else single(data, initial)


class SubmitForm(ActionForm):
    files = MultipleFileField(label=_("Files"))  # type: ignore[assignment]
    organization = forms.ModelChoiceField(label=_("Submitting for"),
                                          queryset=Organization.objects.none(),
                                          required=False)

    def __init__(self, *args: Any, companies: Any = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if companies is None:
            del self.fields["organization"]
        else:
            self.fields["organization"].queryset = companies  # type: ignore[attr-defined]
            self.fields["organization"].required = True
