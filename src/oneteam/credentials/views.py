"""The credentials pages: the public verify page (paste, upload or open a link), status
lists at their stable URLs, achievements' public descriptions and anchor records; a
learner's credentials, downloads and share links; the issuer's pages: an organization's
achievements and a form to define one, and per achievement, issuing to one learner or to
a cohort, and the credentials issued with their revoke, suspend and reinstate forms.

Reads go through ``queries`` (NotFound/AccessDenied: 404/403 pages), writes through
``actions``. Forms answer 422 with each error under its field. A status change posted
with htmx gets back its table row; refused, the row shows why, with status 200, because
htmx does not swap error responses.
"""

from __future__ import annotations

import json
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from oneteam.accounts.models import Person
from oneteam.consortium.models import Organization
from oneteam.credentials import actions, queries
from oneteam.credentials.forms import AchievementForm, CohortIssueForm, IssueForm
from oneteam.credentials.models import Achievement, AnchorBatch, CriteriaKind, IssuedCredential
from oneteam.credentials.verification import CREDENTIAL_BYTES_MAX, verify_for_platform
from oneteam.platform.errors import InputError, NotFound
from oneteam.platform.http import origin_of
from oneteam.platform.http import page_language as _language
from oneteam.platform.http import page_person as _person

JSON_LD = "application/ld+json"
ISSUED_PER_PAGE = 50






def _report_rows(report: Any) -> list[dict[str, Any]]:
    language = _language()
    return [{"code": check.code, "status": check.status,
             "summary": check.summary.text(language),
             "problems": [{"code": problem.code, "path": problem.path,
                           "message": problem.message.text(language)}
                          for problem in check.problems]}
            for check in report.checks]


def _check_label(code: str) -> str:
    labels = {"format": _("Format"), "structure": _("Structure"),
              "jsonld": _("Vocabulary"), "issuer_key": _("Issuer's key"),
              "proof": _("Signature"), "status": _("Status"),
              "validity": _("Validity dates"), "anchor": _("Ledger anchor"),
              "membership": _("Issuer membership"),
              "status_anchor": _("Status list on the ledger")}
    return labels.get(code, code)


def _verify_context(report: Any, credential: Any) -> dict[str, Any]:
    rows = _report_rows(report)
    for row in rows:
        row["label"] = _check_label(row["code"])
    summary = None
    if isinstance(credential, dict):
        subject = credential.get("credentialSubject") or {}
        achievement = subject.get("achievement") if isinstance(subject, dict) else None
        issuer = credential.get("issuer")
        summary = {"name": credential.get("name"),
                   "issuer": issuer.get("name") if isinstance(issuer, dict) else issuer,
                   "achievement": achievement.get("description")
                   if isinstance(achievement, dict) else None,
                   "valid_from": credential.get("validFrom"),
                   "valid_until": credential.get("validUntil")}
    return {"verified": report.verified, "rows": rows, "summary": summary}


# --- public ---------------------------------------------------------------------------------


@require_http_methods(["GET", "POST"])
def verify_page(request: HttpRequest) -> HttpResponse:
    """Paste JSON or upload a file; the report shows each check."""
    context: dict[str, Any] = {"text": "", "error": None}
    status = 200
    if request.method == "POST":
        upload = request.FILES.get("file")
        if upload is not None:
            if upload.size is not None and upload.size > CREDENTIAL_BYTES_MAX:
                context["error"] = _("A credential is at most %(count)d bytes.") % {
                    "count": CREDENTIAL_BYTES_MAX}
                text = ""
            else:
                text = upload.read(CREDENTIAL_BYTES_MAX + 1).decode("utf-8", "replace")
        else:
            text = request.POST.get("credential", "")
        context["text"] = text[:CREDENTIAL_BYTES_MAX]
        if not text.strip() and context["error"] is None:
            context["error"] = _("Paste a credential (JSON) or choose a file.")
        if context["error"] is None:
            try:
                credential = json.loads(text)
            except ValueError:
                credential = None
            context.update(_verify_context(verify_for_platform(text), credential))
        else:
            status = 422
    return render(request, "credentials/verify.html", context, status=status)


@require_GET
def verify_stored(request: HttpRequest, public_id: str) -> HttpResponse:
    """The QR code's link: the report for a credential stored here (no document shown)."""
    credential = IssuedCredential.objects.filter(public_id=_uuid_or_404(public_id)).first()
    if credential is None:
        raise NotFound(_("No such credential."))
    context = _verify_context(verify_for_platform(credential.document), credential.document)
    context["stored"] = True
    return render(request, "credentials/verify.html", context)


def _uuid_or_404(value: str) -> str:
    import uuid

    try:
        return str(uuid.UUID(value))
    except ValueError:
        raise NotFound(_("No such credential.")) from None


@require_GET
def status_list(request: HttpRequest, public_id: str) -> HttpResponse:
    """A status list credential, at the stable URL credentials name."""
    document = queries.public_status_list_by_public_id(public_id).document
    response = JsonResponse(document)
    response["Content-Type"] = "application/vc+ld+json"
    response["Cache-Control"] = "public, max-age=60"
    return response


@require_GET
def achievement_page(request: HttpRequest, public_id: str) -> HttpResponse:
    achievement = queries.public_achievement_by_public_id(public_id)
    return render(request, "credentials/achievement.html", {"achievement": achievement})


@require_GET
def anchor_record(request: HttpRequest, label: str) -> HttpResponse:
    """A batch's anchor: organization, root, count, transaction, height, ledger proof."""
    batch = AnchorBatch.objects.select_related("organization").filter(label=label).first()
    if batch is None:
        raise NotFound(_("No such anchor."))
    return JsonResponse({"org": batch.organization.slug, "batchId": batch.label,
                         "root": batch.root, "count": batch.count, "state": batch.state,
                         "txid": batch.txid, "height": batch.height,
                         "proof": batch.ledger_proof or None})


@require_GET
def shared(request: HttpRequest, token: str) -> HttpResponse:
    credential = queries.access_credential_by_share_token(token)
    context = _verify_context(verify_for_platform(credential.document), credential.document)
    context.update(credential=credential, shared=True,
                   document=json.dumps(credential.document, ensure_ascii=False, indent=2))
    return render(request, "credentials/shared.html", context)


# --- a learner's credentials ------------------------------------------------------------------


@login_required
@require_GET
def mine(request: HttpRequest) -> HttpResponse:
    credentials = queries.access_my_credentials(_person(request))[:queries.LIST_MAX]
    return render(request, "credentials/mine.html", {"credentials": credentials})


@login_required
@require_GET
def detail(request: HttpRequest, public_id: str) -> HttpResponse:
    viewer = _person(request)
    credential = queries.access_credential_by_public_id(viewer, public_id)
    is_holder = credential.recipient_id == viewer.pk
    context = {
        "credential": credential, "is_holder": is_holder,
        "may_manage": actions.may_issue_for(viewer, credential.organization),
        "links": queries.access_share_links_by_credential(viewer, credential)
        if is_holder else [],
        "changes": queries.access_status_changes_by_credential(viewer, credential),
        "verify_url": f"{origin_of(request)}/credentials/verify/{credential.public_id}/",
        "new_link": request.session.pop("credentials_new_link", None),
    }
    return render(request, "credentials/detail.html", context)


@login_required
@require_GET
def download(request: HttpRequest, public_id: str) -> HttpResponse:
    credential = queries.access_credential_by_public_id(_person(request), public_id)
    body = json.dumps(credential.document, ensure_ascii=False, indent=2)
    response = HttpResponse(body, content_type=f"{JSON_LD}; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="credential-{public_id}.json"'
    return response


@login_required
@require_GET
def certificate(request: HttpRequest, public_id: str) -> HttpResponse:
    """The printable certificate (PDF) with a QR code to the credential's verify page."""
    from oneteam.credentials.certificate import render_certificate_pdf

    credential = queries.access_credential_by_public_id(_person(request), public_id)
    organization = credential.organization
    achievement = credential.achievement
    body = render_certificate_pdf(
        recipient=credential.recipient.display_name,
        achievement=achievement.name, description=achievement.description,
        issuer_ko=organization.name_ko, issuer_en=organization.name_en,
        issued_on=credential.issued.date().isoformat(),
        valid_until=credential.valid_until.date().isoformat()
        if credential.valid_until else None,
        credential_id=f"urn:uuid:{credential.public_id}",
        state_label=str(credential.get_state_display()),
        verify_url=f"{origin_of(request)}/credentials/verify/{credential.public_id}/")
    response = HttpResponse(body, content_type="application/pdf")
    response["Content-Disposition"] = f'inline; filename="certificate-{public_id}.pdf"'
    return response


@login_required
@require_POST
def create_share_link(request: HttpRequest, public_id: str) -> HttpResponse:
    viewer = _person(request)
    credential = queries.access_credential_by_public_id(viewer, public_id)
    try:
        days = int(request.POST.get("days", "30"))
    except ValueError:
        days = 0
    try:
        _link, token = actions.do_create_share_link(actor=viewer, credential=credential,
                                                    days=days)
    except InputError as error:
        messages.error(request, error.message)
    else:
        request.session["credentials_new_link"] = \
            f"{origin_of(request)}/credentials/shared/{token}/"
        messages.success(request, _("Share link created. Copy it now: it is shown once."))
    return redirect("credentials:detail", public_id=public_id)


@login_required
@require_POST
def withdraw_share_link(request: HttpRequest, link_id: int) -> HttpResponse:
    viewer = _person(request)
    link = queries.access_share_link_by_id(viewer, link_id)
    actions.do_withdraw_share_link(actor=viewer, link=link)
    messages.success(request, _("The share link was withdrawn."))
    return redirect("credentials:detail", public_id=link.credential.public_id)


STATUS_ACTIONS = {"revoke": actions.do_revoke_credential,
                  "suspend": actions.do_suspend_credential,
                  "reinstate": actions.do_reinstate_credential}


def _is_htmx(request: HttpRequest) -> bool:
    return request.headers.get("HX-Request") == "true"


def _safe_next(request: HttpRequest) -> str | None:
    """The page to return to (``next``), if it is one of this site's."""
    target = request.POST.get("next", "")
    if target and url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()},
                                                  require_https=request.is_secure()):
        return target
    return None


@login_required
@require_POST
def change_status(request: HttpRequest, public_id: str, action: str) -> HttpResponse:
    """Revoke, suspend or reinstate, with a reason; back to ``next`` (the achievement's
    list), else to the credential's page. With htmx, the list's row for the credential."""
    viewer = _person(request)
    credential = queries.access_managed_credential_by_public_id(viewer, public_id)
    do = STATUS_ACTIONS.get(action)
    if do is None:
        raise NotFound(_("No such action."))
    error = None
    try:
        do(actor=viewer, credential=credential, reason=request.POST.get("reason", ""))
    except InputError as refused:
        error = refused.message
    if _is_htmx(request):
        credential = queries.access_managed_credential_by_public_id(viewer, public_id)
        return render(request, "credentials/_issued_row.html",
                      {"credential": credential, "error": error,
                       "next": _safe_next(request) or ""})
    if error:
        messages.error(request, error)
    else:
        messages.success(request, _("The credential's status was changed."))
    target = _safe_next(request)
    if target:
        return redirect(target)
    return redirect("credentials:detail", public_id=public_id)


# --- the issuer's pages ---------------------------------------------------------------------


def _achievement_form(organization: Organization, data: Any = None) -> AchievementForm:
    # Several organizations' forms share the issuing page: ids apart, names alike.
    return AchievementForm(data, courses=queries.courses_of(organization),
                           programs=queries.programs_of(organization),
                           auto_id=f"id_{organization.slug}_%s")


def _issuing_page(request: HttpRequest, viewer: Person,
                  bound: AchievementForm | None = None,
                  bound_for: Organization | None = None) -> HttpResponse:
    organizations = queries.access_issuing_organizations(viewer)
    achievements = queries.achievements_with_counts(organizations)
    sections = [{"organization": organization,
                 "achievements": achievements[organization.pk],
                 "form": bound if bound is not None and bound_for is not None
                 and bound_for.pk == organization.pk else _achievement_form(organization)}
                for organization in organizations]
    failed = bound is not None and bool(bound.errors)
    return render(request, "credentials/issuing.html", {"sections": sections},
                  status=422 if failed else 200)


@login_required
@require_GET
def issuing(request: HttpRequest) -> HttpResponse:
    """Every organization the viewer issues for: its achievements and a form for a new one."""
    return _issuing_page(request, _person(request))


@login_required
@require_POST
def define_achievement(request: HttpRequest, slug: str) -> HttpResponse:
    viewer = _person(request)
    organization = queries.access_issuing_organization_by_slug(viewer, slug)
    form = _achievement_form(organization, request.POST)
    if form.is_valid():
        data = form.cleaned_data
        kind = data["criteria_kind"]
        try:
            achievement = actions.do_define_achievement(
                actor=viewer, organization=organization, name=data["name"],
                description=data["description"],
                criteria_narrative=data["criteria_narrative"], criteria_kind=kind,
                achievement_type=data["achievement_type"],
                course=data["course"] if kind == CriteriaKind.COURSE else None,
                program=data["program"] if kind == CriteriaKind.PROGRAM else None,
                lab_thresholds=data["lab_thresholds"] if kind == CriteriaKind.LAB_SCORE
                else (), skills=data["skills"], valid_days=data["valid_days"])
        except InputError as error:
            form.add_input_error(error)
        else:
            messages.success(request, _("The achievement “%(name)s” is defined. Issue it "
                                        "here.") % {"name": achievement.name})
            return redirect("credentials:issuing-achievement",
                            public_id=achievement.public_id)
    return _issuing_page(request, viewer, form, organization)


def _issuer_achievement_page(request: HttpRequest, viewer: Person, achievement: Achievement,
                             issue_form: IssueForm | None = None,
                             cohort_form: CohortIssueForm | None = None) -> HttpResponse:
    organization = achievement.organization
    credentials = queries.access_issued_by_achievement(viewer, achievement)
    page = Paginator(credentials, ISSUED_PER_PAGE).get_page(request.GET.get("page"))
    failed = any(form is not None and form.errors for form in (issue_form, cohort_form))
    return render(request, "credentials/issuer_achievement.html", {
        "achievement": achievement, "organization": organization, "page": page,
        "issue_form": issue_form or IssueForm(auto_id="id_issue_%s"),
        "cohort_form": cohort_form or CohortIssueForm(
            cohorts=queries.cohorts_of(organization), auto_id="id_cohort_%s"),
        "here": request.get_full_path()}, status=422 if failed else 200)


@login_required
@require_GET
def issuer_achievement(request: HttpRequest, public_id: str) -> HttpResponse:
    """An achievement for its issuers: issue to one learner or a cohort, the credentials
    issued (paginated) with their status forms, deactivate or reactivate."""
    viewer = _person(request)
    achievement = queries.access_achievement_by_public_id(viewer, public_id)
    return _issuer_achievement_page(request, viewer, achievement)


@login_required
@require_POST
def issue_one(request: HttpRequest, public_id: str) -> HttpResponse:
    viewer = _person(request)
    achievement = queries.access_achievement_by_public_id(viewer, public_id)
    form = IssueForm(request.POST, auto_id="id_issue_%s")
    if form.is_valid():
        email = form.cleaned_data["recipient_email"].strip().lower()
        recipient = Person.objects.filter(email=email).first()
        if recipient is None:
            form.add_error("recipient_email", _("Nobody has signed up with this address."))
        else:
            try:
                issued = actions.do_issue_credential(
                    actor=viewer, achievement=achievement, recipient=recipient,
                    cryptosuite=form.cleaned_data["cryptosuite"])
            except InputError as error:
                form.add_input_error(error)
            else:
                messages.success(request, _("Issued to %(person)s. It is anchored on the "
                                            "ledger shortly.")
                                 % {"person": issued.recipient.display_name})
                return redirect("credentials:issuing-achievement",
                                public_id=achievement.public_id)
    return _issuer_achievement_page(request, viewer, achievement, issue_form=form)


@login_required
@require_POST
def issue_cohort(request: HttpRequest, public_id: str) -> HttpResponse:
    viewer = _person(request)
    achievement = queries.access_achievement_by_public_id(viewer, public_id)
    form = CohortIssueForm(request.POST, cohorts=queries.cohorts_of(achievement.organization),
                           auto_id="id_cohort_%s")
    if form.is_valid():
        data = form.cleaned_data
        try:
            issued = actions.do_issue_for_cohort(
                actor=viewer, achievement=achievement, cohort=data["cohort"],
                completed_only=data["completed_only"], cryptosuite=data["cryptosuite"])
        except InputError as error:
            form.add_input_error(error)
        else:
            if issued:
                messages.success(request, _("Issued %(count)d credentials to “%(cohort)s”.")
                                 % {"count": len(issued), "cohort": data["cohort"].name})
            else:
                messages.info(request, _("Nobody to issue to: every such learner of "
                                         "“%(cohort)s” already holds it.")
                              % {"cohort": data["cohort"].name})
            return redirect("credentials:issuing-achievement",
                            public_id=achievement.public_id)
    return _issuer_achievement_page(request, viewer, achievement, cohort_form=form)


@login_required
@require_POST
def achievement_activity(request: HttpRequest, public_id: str, verb: str) -> HttpResponse:
    """Deactivate (no more issuing, by hand or automatically) or reactivate."""
    viewer = _person(request)
    achievement = queries.access_achievement_by_public_id(viewer, public_id)
    if verb == "deactivate":
        actions.do_deactivate_achievement(actor=viewer, achievement=achievement)
        messages.success(request, _("“%(name)s” is no longer awarded. Credentials already "
                                    "issued keep their state.") % {"name": achievement.name})
    elif verb == "reactivate":
        actions.do_reactivate_achievement(actor=viewer, achievement=achievement)
        messages.success(request, _("“%(name)s” is awarded again.")
                         % {"name": achievement.name})
    else:
        raise NotFound(_("No such action."))
    return redirect("credentials:issuing-achievement", public_id=achievement.public_id)
