"""The labs API, mounted at /api/labs/: everything the labs' pages do.

Labs (list, one, upload a bundle, settings), submissions (submit files, follow one:
state, score, the visible part of the results), final submissions, leaderboards.
Errors are JSON ``{"message", "field"}``; a bundle's problems are listed in the message,
each naming its file and field.
"""

from __future__ import annotations

import datetime
from typing import Any

from django.http import HttpRequest
from django.urls import reverse
from django.utils.translation import gettext as _
from ninja import File, Form, Router, Schema, Status
from ninja.files import UploadedFile

from oneteam.academy.models import Cohort, Program
from oneteam.accounts.auth import api_auth
from oneteam.consortium.models import Organization
from oneteam.labs import actions, queries
from oneteam.labs.models import Lab, Submission
from oneteam.platform.errors import InputError
from oneteam.platform.http import api_person as _person

router = Router(tags=["labs"], auth=api_auth)




class LabOut(Schema):
    slug: str
    kind: str
    title_ko: str
    title_en: str
    owner: str
    program: str | None
    cohort: int | None
    deadline: datetime.datetime | None
    metric_name: str
    metric_direction: str
    submissions_per_day: int
    submission_files: list[str]
    notebook: str | None
    submission_max_bytes: int
    final_submissions_max: int
    skills: list[dict[str, Any]]
    version: str


def _lab_out(lab: Lab) -> LabOut:
    return LabOut(slug=lab.slug, kind=lab.kind, title_ko=lab.title_ko, title_en=lab.title_en,
                  owner=lab.owner.slug, program=lab.program.slug if lab.program else None,
                  cohort=lab.cohort_id, deadline=lab.deadline, metric_name=lab.metric_name,
                  metric_direction=lab.metric_direction,
                  submissions_per_day=lab.submissions_per_day,
                  submission_files=list(lab.submission_files), notebook=lab.notebook or None,
                  submission_max_bytes=lab.submission_max_bytes,
                  final_submissions_max=lab.final_submissions_max, skills=list(lab.skills),
                  version=lab.version)


class SubmissionOut(Schema):
    id: int
    lab: str
    state: str
    files: list[dict[str, Any]]
    organization: str
    score: float | None
    max_score: float | None
    metric: float | None
    reason: str
    detail: str
    results: dict[str, Any] | None
    stdout: str
    stderr: str
    is_final: bool
    created: datetime.datetime
    graded_at: datetime.datetime | None
    url: str


def _submission_out(submission: Submission) -> SubmissionOut:
    finished = submission.is_finished
    return SubmissionOut(
        id=submission.pk, lab=submission.lab.slug, state=submission.live_state,
        files=list(submission.files), organization=submission.organization.slug,
        score=submission.score, max_score=submission.max_score, metric=submission.metric,
        reason=submission.reason, detail=submission.detail,
        results=queries.submission_view(submission)["results"],
        stdout=submission.run_stdout if finished else "",
        stderr=submission.run_stderr if finished else "", is_final=submission.is_final,
        created=submission.created, graded_at=submission.graded_at,
        url=reverse("labs:submission", args=[submission.lab.slug, submission.pk]))


class BoardRowOut(Schema):
    rank: int
    person: str
    organization: str
    value: float
    submitted: datetime.datetime


class LeaderboardOut(Schema):
    metric_name: str
    metric_direction: str
    public: list[BoardRowOut]
    private: list[BoardRowOut] | None


class FinalIn(Schema):
    submissions: list[int]


@router.get("/labs", response=list[LabOut], summary="The labs and challenges I may see")
def list_labs(request: HttpRequest) -> list[LabOut]:
    return [_lab_out(lab) for lab in queries.access_labs(_person(request))]


@router.post("/labs", response={201: LabOut},
             summary="Upload a bundle (a zip of the folder with lab.toml) as a new lab")
def upload_lab(request: HttpRequest, bundle: File[UploadedFile], owner: Form[str], *,
               program: Form[str | None] = None, cohort: Form[int | None] = None,
               deadline: Form[datetime.datetime | None] = None,
               final_submissions_max: Form[int] = 2) -> Status[LabOut]:
    viewer = _person(request)
    organization = queries.staff_organizations(viewer).filter(slug=owner).first()
    if organization is None:
        raise InputError("owner", _("You do not upload labs for %(slug)s.") % {"slug": owner})
    found_program = Program.objects.filter(slug=program).first() if program else None
    if program and found_program is None:
        raise InputError("program", _("There is no such program."))
    found_cohort = Cohort.objects.filter(pk=cohort).first() if cohort else None
    if cohort and found_cohort is None:
        raise InputError("cohort", _("There is no such cohort."))
    lab = actions.do_upload_lab(actor=viewer, archive=bundle, owner=organization,
                                program=found_program, cohort=found_cohort, deadline=deadline,
                                final_submissions_max=final_submissions_max)
    return Status(201, _lab_out(lab))


@router.get("/labs/{slug}", response=LabOut)
def get_lab(request: HttpRequest, slug: str) -> LabOut:
    return _lab_out(queries.access_lab_by_slug(_person(request), slug))


@router.post("/labs/{slug}/submissions", response={202: SubmissionOut},
             summary="Submit files (or one notebook); the result follows at its URL")
def submit(request: HttpRequest, slug: str, files: File[list[UploadedFile]],
           organization: Form[str | None] = None) -> Status[SubmissionOut]:
    viewer = _person(request)
    lab = queries.access_lab_by_slug(viewer, slug)
    payer = None
    if organization:
        payer = Organization.objects.filter(slug=organization).first()
        if payer is None:
            raise InputError("organization", _("There is no such organization."))
    submission = actions.do_submit(actor=viewer, lab=lab,
                                   files={upload.name or "": upload for upload in files},
                                   organization=payer)
    return Status(202, _submission_out(submission))


@router.get("/labs/{slug}/submissions", response=list[SubmissionOut],
            summary="My submissions to a lab, newest first")
def my_submissions(request: HttpRequest, slug: str) -> list[SubmissionOut]:
    viewer = _person(request)
    lab = queries.access_lab_by_slug(viewer, slug)
    return [_submission_out(s) for s in queries.my_submissions(viewer, lab)[:100]]


@router.get("/submissions/{int:submission_id}", response=SubmissionOut)
def get_submission(request: HttpRequest, submission_id: int) -> SubmissionOut:
    return _submission_out(queries.access_submission_by_id(_person(request), submission_id))


@router.post("/labs/{slug}/final", response=list[SubmissionOut],
             summary="Choose my final submissions for the private leaderboard")
def choose_final(request: HttpRequest, slug: str, payload: FinalIn) -> list[SubmissionOut]:
    viewer = _person(request)
    lab = queries.access_lab_by_slug(viewer, slug)
    chosen = actions.do_choose_final_submissions(actor=viewer, lab=lab,
                                                 submission_ids=payload.submissions)
    return [_submission_out(s) for s in chosen]


def _rows(rows: list[queries.BoardRow] | None) -> list[BoardRowOut] | None:
    if rows is None:
        return None
    return [BoardRowOut(rank=r.rank, person=r.person.display_name,
                        organization=r.organization.slug, value=r.value, submitted=r.submitted)
            for r in rows]


@router.get("/labs/{slug}/leaderboard", response=LeaderboardOut,
            summary="Public leaderboard; the private one once the deadline has passed")
def leaderboard(request: HttpRequest, slug: str) -> LeaderboardOut:
    lab = queries.access_lab_by_slug(_person(request), slug)
    return LeaderboardOut(metric_name=lab.metric_name, metric_direction=lab.metric_direction,
                          public=_rows(queries.public_leaderboard(lab)) or [],
                          private=_rows(queries.private_leaderboard(lab)))
