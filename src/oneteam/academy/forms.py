"""The academy pages' forms. They check the shape of input; the actions check the rest."""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from oneteam.academy.models import (
    CLASS_NAME_LENGTH_MAX,
    COHORT_NAME_LENGTH_MAX,
    JOIN_CODE_LENGTH,
    Course,
    EnrollmentMode,
    Program,
)
from oneteam.consortium.models import Organization
from oneteam.platform.errors import InputError


class ActionForm(forms.Form):
    """A form whose action's InputError lands on the field it names."""

    def add_input_error(self, error: InputError) -> None:
        field = error.field if error.field in self.fields else None
        self.add_error(field, error.message)


class DateInput(forms.DateInput):
    input_type = "date"


class CohortForm(ActionForm):
    program = forms.ModelChoiceField(label=_("Program"), queryset=Program.objects.none())
    organization = forms.ModelChoiceField(label=_("Run by"),
                                          queryset=Organization.objects.none())
    name = forms.CharField(label=_("Name"), max_length=COHORT_NAME_LENGTH_MAX,
                           help_text=_("For example “2026 spring, Seoul”."))
    starts_on = forms.DateField(label=_("First day"), widget=DateInput())
    ends_on = forms.DateField(label=_("Last day"), widget=DateInput())
    enrollment_mode = forms.ChoiceField(label=_("How learners enter"),
                                        choices=EnrollmentMode.choices)
    capacity = forms.IntegerField(label=_("Capacity"), required=False, min_value=1,
                                  help_text=_("Most learners at once; empty: no limit."))
    instructors = forms.CharField(
        label=_("Other instructors' e-mail addresses"), required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text=_("People with the instructor or administrator role in the organization. "
                    "You are an instructor yourself if you teach there."))
    partners = forms.ModelMultipleChoiceField(
        label=_("Partner companies"), required=False, queryset=Organization.objects.all(),
        widget=forms.CheckboxSelectMultiple,
        help_text=_("Members that bring real problems for the team projects."))

    def __init__(self, *args: Any, programs: Any, organizations: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        program_field: Any = self.fields["program"]
        program_field.queryset = programs
        program_field.label_from_instance = lambda program: program.title
        organization_field: Any = self.fields["organization"]
        organization_field.queryset = organizations
        organization_field.label_from_instance = lambda organization: organization.name
        partners_field: Any = self.fields["partners"]
        partners_field.label_from_instance = lambda organization: organization.name


class EmailsForm(ActionForm):
    emails = forms.CharField(
        label=_("E-mail addresses"), widget=forms.Textarea(attrs={"rows": 4}),
        help_text=_("One or more, separated by commas, spaces or lines."))


class ClassForm(ActionForm):
    school = forms.ModelChoiceField(label=_("School"), queryset=Organization.objects.none())
    name = forms.CharField(label=_("Name"), max_length=CLASS_NAME_LENGTH_MAX,
                           help_text=_("For example “2nd grade, class 3: AI basics”."))
    courses = forms.ModelMultipleChoiceField(label=_("Courses"), queryset=Course.objects.none(),
                                             widget=forms.CheckboxSelectMultiple)

    def __init__(self, *args: Any, schools: Any, courses: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        school_field: Any = self.fields["school"]
        school_field.queryset = schools
        school_field.label_from_instance = lambda organization: organization.name
        course_field: Any = self.fields["courses"]
        course_field.queryset = courses
        course_field.label_from_instance = (
            lambda course: f"{course.program.title} · {course.title}")


class JoinClassForm(ActionForm):
    code = forms.CharField(label=_("Join code"), max_length=JOIN_CODE_LENGTH + 4,
                           help_text=_("The code your teacher gave you, e.g. K7M2Q9XA."),
                           widget=forms.TextInput(attrs={"autocomplete": "off",
                                                         "autocapitalize": "characters"}))
