"""The issuing pages' forms. They check the shape of input; the actions check the rest,
and an action's InputError lands on the field it names."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, ClassVar

from django import forms
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from oneteam.academy.forms import ActionForm
from oneteam.academy.models import Cohort, Course, Program
from oneteam.credentials.actions import (
    CRYPTOSUITES,
    NAME_LENGTH_MAX,
    SKILLS_MAX,
    TEXT_LENGTH_MAX,
)
from oneteam.credentials.models import AchievementType, CriteriaKind
from oneteam.platform.errors import InputError

SKILL_URL_SEPARATOR = "|"


class IssuingForm(ActionForm):
    """An ActionForm whose actions name fields differently from the form's own names."""

    # The action's field name -> this form's field.
    field_names: ClassVar[Mapping[str, str]] = {}

    def add_input_error(self, error: InputError) -> None:
        field = self.field_names.get(error.field or "", error.field)
        self.add_error(field if field in self.fields else None, error.message)


class AchievementForm(IssuingForm):
    name = forms.CharField(label=_("Name"), max_length=NAME_LENGTH_MAX)
    description = forms.CharField(label=_("Description"), max_length=TEXT_LENGTH_MAX,
                                  widget=forms.Textarea(attrs={"rows": 3}))
    criteria_narrative = forms.CharField(
        label=_("Criteria"), max_length=TEXT_LENGTH_MAX,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_("What a learner did to earn it, as the credential will say."))
    achievement_type = forms.ChoiceField(label=_("Kind"), choices=AchievementType.choices,
                                         initial=AchievementType.CERTIFICATE_OF_COMPLETION)
    criteria_kind = forms.ChoiceField(label=_("Awarded when"), choices=CriteriaKind.choices,
                                      initial=CriteriaKind.MANUAL,
                                      help_text=_("On completion, it is issued automatically."))
    course = forms.ModelChoiceField(label=_("Course"), required=False,
                                    queryset=Course.objects.none(),
                                    help_text=_("For “Course completed”: one of your "
                                                "organization's courses."))
    program = forms.ModelChoiceField(label=_("Program"), required=False,
                                     queryset=Program.objects.none(),
                                     help_text=_("For “Program completed”: one of your "
                                                 "organization's programs."))
    lab_thresholds = forms.CharField(
        label=_("Lab scores"), required=False, widget=forms.Textarea(attrs={"rows": 2}),
        help_text=_("For “Lab scores over thresholds”: one lab a line, its short name and "
                    "the lowest score that earns it, e.g. “digits 90”."))
    skills = forms.CharField(
        label=_("Skills"), required=False, widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_("One a line; a URL describing it may follow a “|”, e.g. "
                    "“Deep learning | https://example.org/skills/dl”."))
    valid_days = forms.IntegerField(label=_("Valid for (days)"), required=False,
                                    help_text=_("Empty: valid without end."))

    def __init__(self, *args: Any, courses: Any, programs: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        course_field: Any = self.fields["course"]
        course_field.queryset = courses
        course_field.label_from_instance = (
            lambda course: f"{course.program.title} · {course.title}")
        program_field: Any = self.fields["program"]
        program_field.queryset = programs
        program_field.label_from_instance = lambda program: program.title

    def add_input_error(self, error: InputError) -> None:
        # The action names a threshold by its position, ``lab_thresholds[1].lab``.
        if error.field and error.field.startswith("lab_thresholds["):
            position = int(error.field[len("lab_thresholds["):].split("]", 1)[0])
            self.add_error("lab_thresholds", gettext("Line %(number)d: %(message)s")
                           % {"number": position + 1, "message": error.message})
            return
        # The action names a skill by its position, ``skills[2].url``: say which one.
        if error.field and error.field.startswith("skills["):
            position = int(error.field[len("skills["):].split("]", 1)[0])
            self.add_error("skills", gettext("Skill %(number)d: %(message)s")
                           % {"number": position + 1, "message": error.message})
            return
        super().add_input_error(error)

    def clean_lab_thresholds(self) -> list[dict[str, Any]]:
        thresholds: list[dict[str, Any]] = []
        for number, line in enumerate(self.cleaned_data["lab_thresholds"].splitlines(), 1):
            if not line.strip():
                continue
            slug, _separator, score = line.strip().rpartition(" ")
            try:
                value = float(score)
            except ValueError:
                raise forms.ValidationError(
                    gettext("Line %(number)d: a lab's short name, a space, then a score.")
                    % {"number": number}) from None
            thresholds.append({"lab": slug.strip(),
                               "score_min": int(value) if value.is_integer() else value})
        return thresholds

    def clean_skills(self) -> list[dict[str, str]]:
        lines = [line.strip() for line in self.cleaned_data["skills"].splitlines()]
        skills = []
        for line in lines:
            if not line:
                continue
            name, _separator, url = line.partition(SKILL_URL_SEPARATOR)
            skills.append({"name": name.strip(), "url": url.strip()})
        if len(skills) > SKILLS_MAX:
            raise forms.ValidationError(gettext("At most %(count)d skills.")
                                        % {"count": SKILLS_MAX})
        return skills


class IssueForm(IssuingForm):
    field_names: ClassVar[Mapping[str, str]] = {"recipient": "recipient_email"}

    recipient_email = forms.EmailField(label=_("Learner's e-mail address"),
                                       help_text=_("The address they signed up with."))
    cryptosuite = forms.ChoiceField(
        label=_("Signature"), choices=[(suite, suite) for suite in CRYPTOSUITES],
        initial=CRYPTOSUITES[0],
        help_text=_("eddsa-rdfc-2022 suits JSON-LD tools; eddsa-jcs-2022 signs the JSON "
                    "as written."))


class CohortIssueForm(IssuingForm):
    cohort = forms.ModelChoiceField(label=_("Cohort"), queryset=Cohort.objects.none())
    completed_only = forms.TypedChoiceField(
        label=_("Learners"), coerce=lambda value: value == "1", initial="1",
        choices=[("1", _("Only those who completed the cohort")),
                 ("0", _("Everyone seated: learning or completed"))],
        widget=forms.RadioSelect)
    cryptosuite = forms.ChoiceField(label=_("Signature"),
                                    choices=[(suite, suite) for suite in CRYPTOSUITES],
                                    initial=CRYPTOSUITES[0])

    def __init__(self, *args: Any, cohorts: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        cohort_field: Any = self.fields["cohort"]
        cohort_field.queryset = cohorts
        cohort_field.label_from_instance = (
            lambda cohort: f"{cohort.name} · {cohort.program.title}")
