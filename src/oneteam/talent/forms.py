"""The talent pages' forms. They check the shape of input; the actions check the rest.

Skills are typed as ``skill:level`` pairs separated by commas (``python:3, 딥러닝:2``):
a skill by its id or any of its names in Korean or English, a level from 1 to 5.
"""

from __future__ import annotations

import re
from typing import Any

from django import forms
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from oneteam.platform.errors import InputError
from oneteam.talent.models import (
    DESCRIPTION_LENGTH_MAX,
    HEADLINE_LENGTH_MAX,
    REGION_LENGTH_MAX,
    ROLE_LENGTH_MAX,
    SUMMARY_LENGTH_MAX,
    TITLE_LENGTH_MAX,
    Audience,
    Industry,
    Language,
    PostingKind,
    PostingStatus,
    WorkType,
)

SKILL_HELP = _("Comma-separated “skill:level” pairs, e.g. “python:3, 딥러닝:2”. Levels: "
               "1 awareness, 2 guided, 3 independent, 4 advanced, 5 expert.")


def parse_skills(text: str, field: str, *, required: bool | None = None) -> list[dict[str, Any]]:
    """``"python:3, 딥러닝:2"`` → ``[{"code": "python", "level": 3}, ...]`` (codes are
    checked by the actions); a level missing or not a number names the field."""
    skills: list[dict[str, Any]] = []
    for piece in re.split(r"[,\n]", text or ""):
        part = piece.strip()
        if not part:
            continue
        name, _sep, level = part.rpartition(":")
        if not name.strip() or not level.strip().isdigit():
            raise InputError(field, gettext("Write each skill as “skill:level”, such as "
                                            "“python:3” (got “%(part)s”).") % {"part": part})
        entry: dict[str, Any] = {"code": name.strip(), "level": int(level)}
        if required is not None:
            entry["required"] = required
        skills.append(entry)
    return skills


def format_skills(skills: list[dict[str, Any]], *, required: bool | None = None) -> str:
    return ", ".join(f"{s['code']}:{s['level']}" for s in skills
                     if required is None or bool(s.get("required", True)) == required)


class ActionForm(forms.Form):
    """A form whose action's InputError lands on the field it names."""

    def add_input_error(self, error: InputError) -> None:
        field = (error.field or "").split("[")[0]
        self.add_error(field if field in self.fields else None, error.message)


class AboutForm(ActionForm):
    headline = forms.CharField(label=_("Headline"), max_length=HEADLINE_LENGTH_MAX,
                               required=False,
                               help_text=_("One line, e.g. “Machine-learning engineer, "
                                           "computer vision”."))
    summary = forms.CharField(label=_("About me"), max_length=SUMMARY_LENGTH_MAX,
                              required=False, widget=forms.Textarea(attrs={"rows": 4}))
    declared_skills = forms.CharField(label=_("Skills I declare"), required=False,
                                      help_text=SKILL_HELP)
    desired_roles = forms.CharField(label=_("Roles I look for"), max_length=ROLE_LENGTH_MAX,
                                    required=False)
    regions = forms.CharField(label=_("Regions"), required=False,
                              help_text=_("Comma-separated, e.g. “서울, 대전”."))
    work_types = forms.MultipleChoiceField(label=_("Types of work"), required=False,
                                           choices=WorkType.choices,
                                           widget=forms.CheckboxSelectMultiple)
    posting_kinds = forms.MultipleChoiceField(label=_("What I look for"), required=False,
                                              choices=PostingKind.choices,
                                              widget=forms.CheckboxSelectMultiple)


class VisibilityForm(ActionForm):
    audience = forms.ChoiceField(label=_("Who may see my profile"), choices=Audience.choices,
                                 widget=forms.RadioSelect)
    organizations = forms.MultipleChoiceField(
        label=_("Companies I choose"), required=False, widget=forms.CheckboxSelectMultiple,
        help_text=_("Only for “the member companies I choose”."))
    show_skills = forms.BooleanField(label=_("Show my skills and their evidence"),
                                     required=False)
    show_projects = forms.BooleanField(label=_("Show my projects"), required=False)
    show_preferences = forms.BooleanField(label=_("Show my preferences (roles, regions, "
                                                  "types of work)"), required=False)

    def __init__(self, *args: Any, companies: list[tuple[str, str]], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        field: Any = self.fields["organizations"]
        field.choices = companies


class ProjectForm(ActionForm):
    title = forms.CharField(label=_("Project"), max_length=TITLE_LENGTH_MAX)
    description = forms.CharField(label=_("What I did"), max_length=SUMMARY_LENGTH_MAX,
                                  required=False, widget=forms.Textarea(attrs={"rows": 3}))
    url = forms.CharField(label=_("Link"), required=False, max_length=500)
    skills = forms.CharField(label=_("Skills used"), required=False, help_text=SKILL_HELP)


class DateInput(forms.DateInput):
    input_type = "date"


class PostingForm(ActionForm):
    organization = forms.ChoiceField(label=_("Company"))
    kind = forms.ChoiceField(label=_("Kind"), choices=PostingKind.choices)
    industry = forms.ChoiceField(label=_("Industry"), choices=Industry.choices)
    language = forms.ChoiceField(label=_("Language of the posting"), choices=Language.choices)
    title = forms.CharField(label=_("Title"), max_length=TITLE_LENGTH_MAX)
    description = forms.CharField(label=_("Description"), max_length=DESCRIPTION_LENGTH_MAX,
                                  widget=forms.Textarea(attrs={"rows": 6}),
                                  help_text=_("For an AI+X project: the problem from your "
                                              "industry, the data, what a result looks like."))
    required_skills = forms.CharField(label=_("Required skills"), help_text=SKILL_HELP)
    preferred_skills = forms.CharField(label=_("Preferred skills"), required=False,
                                       help_text=SKILL_HELP)
    region = forms.CharField(label=_("Region"), max_length=REGION_LENGTH_MAX, required=False)
    work_type = forms.ChoiceField(label=_("Work type"), choices=WorkType.choices)
    deadline = forms.DateField(label=_("Apply by"), required=False, widget=DateInput())
    status = forms.ChoiceField(label=_("Status"), choices=PostingStatus.choices)

    def __init__(self, *args: Any, companies: list[tuple[str, str]], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        field: Any = self.fields["organization"]
        field.choices = companies

    def requirements(self) -> list[dict[str, Any]]:
        data = self.cleaned_data
        return (parse_skills(data["required_skills"], "required_skills", required=True)
                + parse_skills(data.get("preferred_skills", ""), "preferred_skills",
                               required=False))


class ApplyForm(ActionForm):
    message = forms.CharField(label=_("A note to the company (optional)"), required=False,
                              max_length=1000, widget=forms.Textarea(attrs={"rows": 3}))


class FairForm(ActionForm):
    organization = forms.ChoiceField(label=_("Organizer"))
    name = forms.CharField(label=_("Name"), max_length=TITLE_LENGTH_MAX)
    description = forms.CharField(label=_("Description"), required=False,
                                  max_length=SUMMARY_LENGTH_MAX,
                                  widget=forms.Textarea(attrs={"rows": 3}))
    rank_by = forms.DateField(label=_("Rankings due"), required=False, widget=DateInput())

    def __init__(self, *args: Any, organizers: list[tuple[str, str]], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        field: Any = self.fields["organization"]
        field.choices = organizers


class FairPositionForm(ActionForm):
    posting = forms.ChoiceField(label=_("Posting"))
    capacity = forms.IntegerField(label=_("Places"), min_value=1, max_value=1000)

    def __init__(self, *args: Any, postings: list[tuple[int, str]], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        field: Any = self.fields["posting"]
        field.choices = postings


class PlacementForm(ActionForm):
    employer = forms.CharField(label=_("Employer"), max_length=TITLE_LENGTH_MAX)
    role = forms.CharField(label=_("Role"), max_length=ROLE_LENGTH_MAX)
    kind = forms.ChoiceField(label=_("Kind"), choices=PostingKind.choices)
    started_on = forms.DateField(label=_("First day"), widget=DateInput())


def ranking_from(post: Any, prefix: str, allowed: list[int]) -> list[int]:
    """A ranking from inputs ``<prefix><id>`` holding 1, 2, 3, ... (empty: not ranked)."""
    ranked: list[tuple[int, int]] = []
    for item in allowed:
        value = (post.get(f"{prefix}{item}") or "").strip()
        if not value:
            continue
        if not value.isdigit() or int(value) < 1:
            raise InputError("ranking", gettext("Ranks are whole numbers from 1 (your "
                                                "first choice)."))
        ranked.append((int(value), item))
    ranks = [rank for rank, _item in ranked]
    if len(set(ranks)) != len(ranks):
        raise InputError("ranking", gettext("Give each choice a different rank."))
    return [item for _rank, item in sorted(ranked)]
