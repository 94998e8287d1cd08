"""The labs' pages: the list, uploading a bundle, a lab, submitting, a submission's live
status and result, leaderboards, choosing final submissions, managing a lab.

Reads go through ``queries``, writes through ``actions``. A submission's page polls its
status fragment with htmx (every second while it waits or runs) and stops once the
result is in, so the learner sees the result appear without reloading.
"""

from __future__ import annotations

import mimetypes
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from oneteam.academy import queries as academy_queries
from oneteam.academy.models import Cohort
from oneteam.accounts.models import Person
from oneteam.compute.models import JobReason
from oneteam.labs import actions, queries, storage
from oneteam.labs.forms import LabSettingsForm, LabUploadForm, NewVersionForm, SubmitForm
from oneteam.labs.markdown import render as render_markdown
from oneteam.labs.models import Lab, LabKind, Submission
from oneteam.platform.errors import AccessDenied, InputError
from oneteam.platform.http import page_language as _language
from oneteam.platform.http import page_person as _person

SANDBOX_POLICY = "default-src 'none'; sandbox"






def reason_text(reason: str) -> str:
    """A failure reason in the reader's language."""
    if reason in JobReason.values:
        return str(JobReason(reason).label)
    return reason


@require_GET
@login_required
def lab_list(request: HttpRequest) -> HttpResponse:
    person = _person(request)
    labs = queries.access_labs(person)
    return render(request, "labs/list.html", {
        "labs": [lab for lab in labs if lab.kind == LabKind.LAB],
        "challenges": [lab for lab in labs if lab.kind == LabKind.CHALLENGE],
        "may_upload": queries.staff_organizations(person).exists()})


@require_http_methods(["GET", "POST"])
@login_required
def lab_new(request: HttpRequest) -> HttpResponse:
    person = _person(request)
    owners = queries.staff_organizations(person).order_by("name_en")
    if not owners.exists():
        raise AccessDenied(_("Only the administrators and instructors of a member "
                             "organization upload labs."))
    programs = academy_queries.access_programs(person)
    cohorts = Cohort.objects.filter(pk__in=[c.pk for c in academy_queries.access_cohorts(person)
                                            if academy_queries.is_cohort_manager(person, c)])
    form = LabUploadForm(request.POST or None, request.FILES or None, owners=owners,
                         programs=programs, cohorts=cohorts)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            lab = actions.do_upload_lab(
                actor=person, archive=data["bundle"], owner=data["owner"],
                program=data["program"], cohort=data["cohort"], deadline=data["deadline"],
                final_submissions_max=data["final_submissions_max"])
        except InputError as error:
            form.add_input_error(error)
        else:
            messages.success(request, _("The lab “%(title)s” is ready.") % {"title": lab.title})
            return redirect("labs:lab", slug=lab.slug)
    return render(request, "labs/new.html", {"form": form},
                  status=422 if form.errors else 200)


def _lab_context(request: HttpRequest, person: Person, lab: Lab,
                 form: SubmitForm | None = None) -> dict[str, Any]:
    companies = queries.companies_of(person) if lab.kind == LabKind.CHALLENGE else None
    if form is None:
        form = SubmitForm(companies=companies)
    bundle = storage.open_bundle(lab.bundle_digest)
    mine = list(queries.my_submissions(person, lab)[:50])
    used = queries.submissions_today(person, lab)
    return {
        "lab": lab, "form": form,
        "instructions": render_markdown(bundle.instructions_markdown(_language())),
        "submissions": mine, "used_today": used,
        "left_today": max(0, lab.submissions_per_day - used),
        "may_manage": queries.may_manage_lab(person, lab),
        "deadline_passed": lab.deadline_passed(),
        "accepts": ", ".join([*lab.submission_files, *([lab.notebook] if lab.notebook else [])]),
    }


@require_http_methods(["GET", "POST"])
@login_required
def lab_page(request: HttpRequest, slug: str) -> HttpResponse:
    person = _person(request)
    lab = queries.access_lab_by_slug(person, slug)
    companies = queries.companies_of(person) if lab.kind == LabKind.CHALLENGE else None
    form = SubmitForm(request.POST or None, request.FILES or None, companies=companies)
    if request.method == "POST":
        if form.is_valid():
            uploads = form.cleaned_data["files"]
            files = {upload.name: upload for upload in uploads}
            try:
                submission = actions.do_submit(
                    actor=person, lab=lab, files=files,
                    organization=form.cleaned_data.get("organization"))
            except InputError as error:
                form.add_input_error(error)
            else:
                return redirect("labs:submission", slug=lab.slug, submission_id=submission.pk)
        return render(request, "labs/lab.html", _lab_context(request, person, lab, form),
                      status=422)
    return render(request, "labs/lab.html", _lab_context(request, person, lab, form))


@require_GET
@login_required
def starter_file(request: HttpRequest, slug: str, name: str) -> FileResponse:
    lab = queries.access_lab_by_slug(_person(request), slug)
    if name not in lab.starter_files:
        raise Http404(name)
    bundle = storage.open_bundle(lab.bundle_digest)
    path = bundle.path(name)
    content_type = mimetypes.guess_type(name)[0] or "application/octet-stream"
    response = FileResponse(path.open("rb"), as_attachment=True,
                            filename=name.rsplit("/", 1)[-1], content_type=content_type)
    response["Content-Security-Policy"] = SANDBOX_POLICY
    return response


def _submission_context(submission: Submission) -> dict[str, Any]:
    return {"submission": submission, "lab": submission.lab,
            "view": queries.submission_view(submission),
            "reason_text": reason_text(submission.reason) if submission.reason else ""}


@require_GET
@login_required
def submission_page(request: HttpRequest, slug: str, submission_id: int) -> HttpResponse:
    submission = queries.access_submission_by_id(_person(request), submission_id)
    if submission.lab.slug != slug:
        raise Http404(slug)
    return render(request, "labs/submission.html", _submission_context(submission))


@require_GET
@login_required
def submission_status(request: HttpRequest, slug: str, submission_id: int) -> HttpResponse:
    submission = queries.access_submission_by_id(_person(request), submission_id)
    if submission.lab.slug != slug:
        raise Http404(slug)
    response = render(request, "labs/_status.html", _submission_context(submission))
    response["Cache-Control"] = "no-store"
    return response


@require_POST
@login_required
def submission_cancel(request: HttpRequest, slug: str, submission_id: int) -> HttpResponse:
    person = _person(request)
    submission = queries.access_submission_by_id(person, submission_id)
    try:
        actions.do_cancel_submission(actor=person, submission=submission)
    except InputError as error:
        messages.error(request, error.message)
    return redirect("labs:submission", slug=slug, submission_id=submission_id)


@require_GET
@login_required
def executed_notebook(request: HttpRequest, slug: str, submission_id: int) -> FileResponse:
    submission = queries.access_submission_by_id(_person(request), submission_id)
    if not submission.executed_notebook or submission.lab.slug != slug:
        raise Http404(slug)
    path = storage.submission_dir(submission.pk) / submission.executed_notebook
    response = FileResponse(path.open("rb"), as_attachment=True,
                            filename=f"{slug}-{submission.pk}.ipynb",
                            content_type="application/x-ipynb+json")
    response["Content-Security-Policy"] = SANDBOX_POLICY
    return response


@require_GET
@login_required
def leaderboard(request: HttpRequest, slug: str) -> HttpResponse:
    person = _person(request)
    lab = queries.access_lab_by_slug(person, slug)
    return render(request, "labs/leaderboard.html", {
        "lab": lab, "public": queries.public_leaderboard(lab),
        "private": queries.private_leaderboard(lab)})


@require_POST
@login_required
def choose_final(request: HttpRequest, slug: str) -> HttpResponse:
    person = _person(request)
    lab = queries.access_lab_by_slug(person, slug)
    try:
        ids = [int(value) for value in request.POST.getlist("submission")]
    except ValueError:
        ids = []
        messages.error(request, _("Choose among your own submissions."))
    else:
        try:
            actions.do_choose_final_submissions(actor=person, lab=lab, submission_ids=ids)
        except InputError as error:
            messages.error(request, error.message)
        else:
            messages.success(request, _("Your final submissions are saved."))
    return redirect("labs:lab", slug=slug)


@require_http_methods(["GET", "POST"])
@login_required
def lab_manage(request: HttpRequest, slug: str) -> HttpResponse:
    person = _person(request)
    lab, submissions = queries.access_lab_submissions_by_slug(person, slug)
    settings_form = LabSettingsForm(
        request.POST if request.POST.get("form") == "settings" else None,
        initial={"deadline": lab.deadline, "final_submissions_max": lab.final_submissions_max})
    version_form = NewVersionForm(
        request.POST if request.POST.get("form") == "version" else None,
        request.FILES if request.POST.get("form") == "version" else None)
    if request.method == "POST":
        try:
            if request.POST.get("form") == "settings" and settings_form.is_valid():
                actions.do_update_lab(
                    actor=person, lab=lab, deadline=settings_form.cleaned_data["deadline"],
                    final_submissions_max=settings_form.cleaned_data["final_submissions_max"])
                messages.success(request, _("The lab's settings are saved."))
                return redirect("labs:manage", slug=slug)
            if request.POST.get("form") == "version" and version_form.is_valid():
                lab = actions.do_update_lab_bundle(actor=person, lab=lab,
                                                   archive=version_form.cleaned_data["bundle"])
                messages.success(request, _("Version %(version)s of the bundle is in use.")
                                 % {"version": lab.version})
                return redirect("labs:manage", slug=slug)
        except InputError as error:
            (settings_form if request.POST.get("form") == "settings"
             else version_form).add_input_error(error)
    failed = bool(settings_form.errors or version_form.errors)
    return render(request, "labs/manage.html", {
        "lab": lab, "submissions": submissions[:200], "settings_form": settings_form,
        "version_form": version_form}, status=422 if failed else 200)
