"""The talent platform's pages: my profile and who viewed it, postings and search,
candidates, applications, job fairs, placements and outcomes.

Reads go through ``queries`` (NotFound/AccessDenied: 404/403 pages), writes through
``actions``; a recruiter's look at a candidate goes through ``actions.do_view_candidate``
so it is always logged. Buttons that move an application post with htmx and get back the
row to swap in (200 with the error shown when refused: htmx does not swap errors);
without JavaScript the same forms post normally. Forms answer 422 with each error under
its field.
"""

from __future__ import annotations

import csv
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from oneteam.accounts.models import Person
from oneteam.consortium.models import Organization
from oneteam.platform.errors import AccessDenied, InputError, NotFound
from oneteam.platform.http import page_person as _person
from oneteam.talent import actions, queries
from oneteam.talent.forms import (
    AboutForm,
    ApplyForm,
    FairForm,
    FairPositionForm,
    PlacementForm,
    PostingForm,
    ProjectForm,
    VisibilityForm,
    format_skills,
    parse_skills,
    ranking_from,
)
from oneteam.talent.models import (
    FairStatus,
    Industry,
    PostingKind,
    PostingStatus,
    ViewChannel,
)
from oneteam.talent.search import SearchResult
from oneteam.talent.taxonomy import default_taxonomy

CSV_FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")




def _is_htmx(request: HttpRequest) -> bool:
    return request.headers.get("HX-Request") == "true"


def _companies() -> list[tuple[str, str]]:
    return [(o.slug, o.name) for o in Organization.objects.filter(
        kind__in=queries.COMPANY_KINDS).order_by("name_en")]


# --------------------------------------------------------------------------- explanations


def _language(request: HttpRequest) -> str:
    return "en" if getattr(request, "LANGUAGE_CODE", "ko") == "en" else "ko"


STATUS_LABELS = {
    "evidenced": gettext_lazy("shown by evidence"),
    "named_in_query": gettext_lazy("named in the search"),
    "missing": gettext_lazy("no evidence yet"),
}


def explain(request: HttpRequest, result: SearchResult,
            links: dict[str, str] | None = None) -> dict[str, Any]:
    """A search result's explanation, in the page's language, ready for a template."""
    language = _language(request)
    taxonomy = default_taxonomy()
    why = result.explanation
    skills = []
    for match in why.skills:
        evidence = None
        if match.evidence is not None:
            kind = taxonomy.evidence_kinds[match.evidence.kind]
            evidence = {"kind": kind.en if language == "en" else kind.ko,
                        "kind_code": match.evidence.kind, "level": match.evidence.level,
                        "source": match.evidence.source,
                        "url": (links or {}).get(match.evidence.source, "")}
        skills.append({"name": match.name_en if language == "en" else match.name_ko,
                       "code": match.skill_id, "ncs": match.ncs_code,
                       "level": match.required_level, "preferred": match.weight < 1,
                       "status": match.status, "status_label": str(STATUS_LABELS.get(
                           match.status, match.status)),
                       "percent": round(match.credit * 100), "evidence": evidence})
    terms = []
    for term in why.terms:
        if term.skill_id and term.skill_id in taxonomy:
            terms.append(taxonomy.skill(term.skill_id).name(language))
        else:
            terms.append(term.term)
    return {"skills": skills, "skill_percent": round(why.skill_score * 100),
            "terms": list(dict.fromkeys(terms)),
            "similarity": why.embedding_similarity, "closest": why.closest_passage,
            "ranks": why.ranks}


# --------------------------------------------------------------------------- home


@login_required
@require_GET
def home(request: HttpRequest) -> HttpResponse:
    person = _person(request)
    organizations = list(queries.recruiting_organizations(person))
    context: dict[str, Any] = {"organizations": organizations}
    if organizations:
        context["managed"] = list(queries.access_managed_postings(person)[:20])
    else:
        context["recommended"] = [(found, explain(request, found.result)) for found in
                                  queries.recommended_postings(person, 5)]
        context["applications"] = list(queries.access_my_applications(person)[:10])
    return render(request, "talent/home.html", context)


@login_required
@require_GET
def learner_panel(request: HttpRequest) -> HttpResponse:
    """The dashboard's talent panel, loaded by htmx after the page."""
    person = _person(request)
    return render(request, "talent/_learner_panel.html", {
        "results": [(found, explain(request, found.result))
                    for found in queries.recommended_postings(person, 5)],
        "applications": list(queries.access_my_applications(person)[:5]),
        "views": queries.access_views_of_my_profile(person)[:5]})


# --------------------------------------------------------------------------- my profile


def _profile_page(request: HttpRequest, *, about: AboutForm | None = None,
                  visibility: VisibilityForm | None = None,
                  project: ProjectForm | None = None, status: int = 200) -> HttpResponse:
    person = _person(request)
    actions.do_open_profile(person)
    profile = queries.profile_of(person)
    assert profile is not None  # just opened
    view = queries.candidate_view(profile, None)
    about = about or AboutForm(initial={
        "headline": profile.headline, "summary": profile.summary,
        "declared_skills": format_skills(profile.declared_skills),
        "desired_roles": profile.desired_roles, "regions": ", ".join(profile.regions),
        "work_types": profile.work_types, "posting_kinds": profile.posting_kinds})
    visibility = visibility or VisibilityForm(companies=_companies(), initial={
        "audience": profile.audience,
        "organizations": [o.slug for o in profile.chosen_organizations.all()],
        "show_skills": profile.show_skills, "show_projects": profile.show_projects,
        "show_preferences": profile.show_preferences})
    return render(request, "talent/profile.html", {
        "profile": profile, "view": view, "about": about, "visibility": visibility,
        "project_form": project or ProjectForm(),
        "views": queries.access_views_of_my_profile(person)[:5]}, status=status)


@login_required
@require_http_methods(["GET", "POST"])
def my_profile(request: HttpRequest) -> HttpResponse:
    if request.method == "GET":
        return _profile_page(request)
    person = _person(request)
    form = AboutForm(request.POST)
    if form.is_valid():
        data = form.cleaned_data
        try:
            actions.do_update_profile(
                person, headline=data["headline"], summary=data["summary"],
                desired_roles=data["desired_roles"], regions=data["regions"],
                work_types=data["work_types"], posting_kinds=data["posting_kinds"],
                declared_skills=parse_skills(data["declared_skills"], "declared_skills"))
        except InputError as error:
            form.add_input_error(error)
        else:
            messages.success(request, _("Your profile is saved."))
            return redirect("talent:profile")
    return _profile_page(request, about=form, status=422)


@login_required
@require_POST
def my_visibility(request: HttpRequest) -> HttpResponse:
    person = _person(request)
    form = VisibilityForm(request.POST, companies=_companies())
    if form.is_valid():
        data = form.cleaned_data
        try:
            actions.do_set_profile_visibility(
                person, audience=data["audience"], organizations=data["organizations"],
                show_skills=data["show_skills"], show_projects=data["show_projects"],
                show_preferences=data["show_preferences"])
        except InputError as error:
            form.add_input_error(error)
        else:
            messages.success(request, _("Who sees your profile is saved."))
            return redirect("talent:profile")
    return _profile_page(request, visibility=form, status=422)


@login_required
@require_POST
def my_projects(request: HttpRequest) -> HttpResponse:
    person = _person(request)
    form = ProjectForm(request.POST)
    if form.is_valid():
        data = form.cleaned_data
        try:
            actions.do_add_project(person, title=data["title"],
                                   description=data["description"], url=data["url"],
                                   skills=parse_skills(data["skills"], "skills"))
        except InputError as error:
            form.add_input_error(error)
        else:
            messages.success(request, _("Project added."))
            return redirect("talent:profile")
    return _profile_page(request, project=form, status=422)


@login_required
@require_POST
def delete_project(request: HttpRequest, project_id: int) -> HttpResponse:
    try:
        actions.do_delete_project(_person(request), project_id=project_id)
    except InputError as error:
        raise NotFound(error.message) from None
    messages.success(request, _("Project removed."))
    return redirect("talent:profile")


@login_required
@require_GET
def my_profile_views(request: HttpRequest) -> HttpResponse:
    return render(request, "talent/profile_views.html",
                  {"views": queries.access_views_of_my_profile(_person(request))})


# --------------------------------------------------------------------------- postings


@require_GET
def postings(request: HttpRequest) -> HttpResponse:
    viewer = request.user
    q = request.GET.get("q", "").strip()
    kind = request.GET.get("kind", "")
    industry = request.GET.get("industry", "")
    results = None
    found: list[Any] = []
    if q:
        results = [(found, explain(request, found.result))
                   for found in queries.search_postings_by_text(viewer, q)]
    else:
        found = list(queries.access_postings(
            viewer, kind=kind if kind in PostingKind.values else "",
            industry=industry if industry in Industry.values else "")[:100])
    return render(request, "talent/postings.html", {
        "q": q, "kind": kind, "industry": industry, "results": results, "postings": found,
        "kinds": PostingKind.choices, "industries": Industry.choices,
        "may_post": queries.recruiting_organizations(viewer).exists()})


def _posting_form_page(request: HttpRequest, form: PostingForm, posting: Any = None,
                       status: int = 200) -> HttpResponse:
    return render(request, "talent/posting_form.html", {"form": form, "posting": posting},
                  status=status)


@login_required
@require_http_methods(["GET", "POST"])
def posting_new(request: HttpRequest) -> HttpResponse:
    person = _person(request)
    companies = [(o.slug, o.name) for o in queries.recruiting_organizations(person)]
    if not companies:
        raise AccessDenied(_("Only the recruiters and administrators of a member company "
                             "post for it."))
    form = PostingForm(request.POST or None, companies=companies,
                       initial={"status": PostingStatus.OPEN,
                                "language": "en" if request.LANGUAGE_CODE == "en" else "ko"})
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            organization = queries.access_recruiting_organization_by_slug(
                person, data["organization"])
            posting = actions.do_create_posting(
                actor=person, organization=organization, kind=data["kind"],
                industry=data["industry"], language=data["language"], title=data["title"],
                description=data["description"], requirements=form.requirements(),
                region=data["region"], work_type=data["work_type"],
                deadline=data["deadline"], status=data["status"])
        except InputError as error:
            form.add_input_error(error)
        else:
            messages.success(request, _("The posting is saved."))
            return redirect("talent:posting", posting_id=posting.pk)
    return _posting_form_page(request, form, status=422 if form.errors else 200)


@login_required
@require_http_methods(["GET", "POST"])
def posting_edit(request: HttpRequest, posting_id: int) -> HttpResponse:
    person = _person(request)
    posting = queries.access_managed_posting_by_id(person, posting_id)
    companies = [(posting.organization.slug, posting.organization.name)]
    form = PostingForm(request.POST or None, companies=companies, initial={
        "organization": posting.organization.slug, "kind": posting.kind,
        "industry": posting.industry, "language": posting.language, "title": posting.title,
        "description": posting.description,
        "required_skills": format_skills(posting.requirements, required=True),
        "preferred_skills": format_skills(posting.requirements, required=False),
        "region": posting.region, "work_type": posting.work_type,
        "deadline": posting.deadline, "status": posting.status})
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            actions.do_update_posting(
                actor=person, posting=posting, kind=data["kind"], industry=data["industry"],
                language=data["language"], title=data["title"],
                description=data["description"], requirements=form.requirements(),
                region=data["region"], work_type=data["work_type"],
                deadline=data["deadline"], status=data["status"])
        except InputError as error:
            form.add_input_error(error)
        else:
            messages.success(request, _("The posting is saved."))
            return redirect("talent:posting", posting_id=posting.pk)
    return _posting_form_page(request, form, posting, status=422 if form.errors else 200)


def _skill_rows(requirements: list[dict[str, Any]]) -> list[dict[str, Any]]:
    taxonomy = default_taxonomy()
    return [{"code": r["code"], "skill": taxonomy.skill(r["code"]), "level": r["level"],
             "required": r.get("required", True)} for r in requirements]


@require_GET
def posting_page(request: HttpRequest, posting_id: int) -> HttpResponse:
    viewer = request.user
    posting = queries.access_posting_by_id(viewer, posting_id)
    application = None
    is_staff = queries.may_recruit_for(viewer, posting.organization)
    if isinstance(viewer, Person) and not is_staff:
        application = queries.access_my_applications(viewer).filter(posting=posting).first()
    return render(request, "talent/posting.html", {
        "posting": posting, "skills": _skill_rows(posting.requirements),
        "application": application, "is_staff": is_staff, "apply_form": ApplyForm()})


@login_required
@require_POST
def posting_apply(request: HttpRequest, posting_id: int) -> HttpResponse:
    person = _person(request)
    posting = queries.access_posting_by_id(person, posting_id)
    form = ApplyForm(request.POST)
    if form.is_valid():
        try:
            actions.do_apply(person=person, posting=posting,
                             message=form.cleaned_data["message"])
        except InputError as error:
            messages.error(request, error.message)
        else:
            messages.success(request, _("You applied. %(company)s now sees the parts of your "
                                        "profile you show.")
                             % {"company": posting.organization.name})
    return redirect("talent:posting", posting_id=posting.pk)


@login_required
@require_GET
def posting_candidates(request: HttpRequest, posting_id: int) -> HttpResponse:
    person = _person(request)
    posting = queries.access_managed_posting_by_id(person, posting_id)
    results = queries.search_candidates_for_posting(person, posting)
    actions.do_log_search_views(person, posting.organization, results, posting)
    return render(request, "talent/candidates.html", {
        "posting": posting, "organization": posting.organization,
        "results": [(found, explain(request, found.result, found.evidence_links))
                    for found in results]})


@login_required
@require_GET
def posting_applications(request: HttpRequest, posting_id: int) -> HttpResponse:
    person = _person(request)
    posting = queries.access_posting_by_id(person, posting_id)
    applications = queries.access_applications_by_posting(person, posting)
    return render(request, "talent/applications.html", {
        "posting": posting, "applications": applications})


# --------------------------------------------------------------------------- candidates


@login_required
@require_GET
def candidate_search(request: HttpRequest) -> HttpResponse:
    person = _person(request)
    organizations = list(queries.recruiting_organizations(person))
    if not organizations:
        raise AccessDenied(_("Only the recruiters and administrators of a member company "
                             "search candidates."))
    slug = request.GET.get("organization") or organizations[0].slug
    organization = queries.access_recruiting_organization_by_slug(person, slug)
    q = request.GET.get("q", "").strip()
    results = None
    if q:
        results = queries.search_candidates_by_text(person, organization, q)
        actions.do_log_search_views(person, organization, results)
    return render(request, "talent/candidate_search.html", {
        "organizations": organizations, "organization": organization, "q": q,
        "results": None if results is None else [
            (found, explain(request, found.result, found.evidence_links))
            for found in results]})


@login_required
@require_GET
def candidate_page(request: HttpRequest, profile_id: int) -> HttpResponse:
    person = _person(request)
    posting = None
    posting_id = request.GET.get("posting", "")
    if posting_id.isdigit():
        posting = queries.access_managed_posting_by_id(person, int(posting_id))
    view = actions.do_view_candidate(person, profile_id=profile_id, posting=posting,
                                     channel=ViewChannel.PROFILE)
    return render(request, "talent/candidate.html", {"view": view, "posting": posting,
                                                     "profile": view.profile})


# --------------------------------------------------------------------------- applications


@login_required
@require_GET
def my_applications(request: HttpRequest) -> HttpResponse:
    return render(request, "talent/my_applications.html", {
        "applications": queries.access_my_applications(_person(request))})


@login_required
@require_POST
def application_move(request: HttpRequest, application_id: int, verb: str) -> HttpResponse:
    person = _person(request)
    application = queries.access_application_by_id(person, application_id)
    error = None
    try:
        application = actions.do_move_application(actor=person, application=application,
                                                  verb=verb, note=request.POST.get("note", ""))
    except InputError as refused:
        error = refused.message
    if _is_htmx(request):
        template = ("talent/_my_application_row.html" if application.person_id == person.pk
                    else "talent/_application_row.html")
        return render(request, template, {"application": application, "error": error,
                                          "posting": application.posting})
    if error:
        messages.error(request, error)
    if application.person_id == person.pk:
        return redirect("talent:my-applications")
    return redirect("talent:posting-applications", posting_id=application.posting_id)


# --------------------------------------------------------------------------- job fairs


@login_required
@require_GET
def fairs(request: HttpRequest) -> HttpResponse:
    person = _person(request)
    return render(request, "talent/fairs.html", {
        "fairs": queries.access_fairs(person)[:100],
        "may_organize": queries.fair_organizing_organizations(person).exists()})


@login_required
@require_http_methods(["GET", "POST"])
def fair_new(request: HttpRequest) -> HttpResponse:
    person = _person(request)
    organizers = [(o.slug, o.name) for o in queries.fair_organizing_organizations(person)]
    if not organizers:
        raise AccessDenied(_("Only the administrators and instructors of a member "
                             "organization organize job fairs."))
    form = FairForm(request.POST or None, organizers=organizers)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        organization = Organization.objects.get(slug=data["organization"])
        try:
            fair = actions.do_create_fair(actor=person, organization=organization,
                                          name=data["name"], description=data["description"],
                                          rank_by=data["rank_by"])
        except InputError as error:
            form.add_input_error(error)
        else:
            return redirect("talent:fair", fair_id=fair.pk)
    return render(request, "talent/fair_new.html", {"form": form},
                  status=422 if form.errors else 200)


def _fair_page(request: HttpRequest, fair_id: int, status: int = 200) -> HttpResponse:
    person = _person(request)
    fair = queries.access_fair_by_id(person, fair_id)
    positions = queries.fair_positions(fair)
    by_id = {position.pk: position for position in positions}
    participant = queries.fair_participant(person, fair)
    organizer = queries.is_fair_organizer(person, fair)
    mine = queries.positions_ranked_by(person, fair)
    participants = queries.fair_participants(fair) if (organizer or mine) else []
    people = {p.person_id: p.person for p in participants}
    profiles: dict[int, int] = {}
    if participants:
        from oneteam.talent.models import TalentProfile

        profiles = dict(TalentProfile.objects.filter(person_id__in=people).values_list(
            "person_id", "pk"))
    context: dict[str, Any] = {"fair": fair, "positions": positions,
                               "participant": participant, "organizer": organizer,
                               "participant_count": fair.participants.count()}
    if participant is not None:
        ranks = {position: i + 1 for i, position in enumerate(participant.ranking)}
        context["my_rows"] = [(position, ranks.get(position.pk, "")) for position in positions]
    context["company_rankings"] = [
        (position, [(p, profiles.get(p.person_id), {pid: i + 1 for i, pid in enumerate(
            position.ranking)}.get(p.person_id, "")) for p in participants])
        for position in mine]
    if fair.status == FairStatus.MATCHED:
        if participant is not None and participant.explanation:
            explanation = participant.explanation
            context["my_result"] = {
                "position": participant.matched_position, "choice": explanation.get("choice"),
                "length": explanation.get("list_length"),
                "preferred": [{**item, "title": by_id[item["position"]].posting.title
                               if item["position"] in by_id else "?"}
                              for item in explanation.get("preferred", [])]}
        shown = positions if organizer else mine
        context["position_results"] = [
            {"position": position, "cutoff": position.explanation.get("cutoff_rank"),
             "admitted": [{**a, "name": people[a["person"]].display_name
                           if a["person"] in people else a["person"]}
                          for a in position.explanation.get("admitted", [])],
             "rejected": [{**r, "name": people[r["person"]].display_name
                           if r["person"] in people else r["person"],
                           "placed": by_id[r["placed_at"]].posting.title
                           if r.get("placed_at") in by_id else ""}
                          for r in position.explanation.get("rejected", [])]}
            for position in shown if position.explanation]
    elif fair.status == FairStatus.OPEN:
        in_fair = {p.posting_id for p in positions}
        choices = {p.pk: f"{p.organization.name} · {p.title}" for p in
                   queries.access_managed_postings(person).exclude(status=PostingStatus.DRAFT)
                   if p.pk not in in_fair}
        if organizer:
            choices.update({p.pk: f"{p.organization.name} · {p.title}"
                            for p in queries.access_postings(person) if p.pk not in in_fair})
        if choices:
            context["position_form"] = FairPositionForm(postings=sorted(
                choices.items(), key=lambda item: item[1]))
    return render(request, "talent/fair.html", context, status=status)


@login_required
@require_GET
def fair_page(request: HttpRequest, fair_id: int) -> HttpResponse:
    return _fair_page(request, fair_id)


@login_required
@require_POST
def fair_join(request: HttpRequest, fair_id: int) -> HttpResponse:
    person = _person(request)
    fair = queries.access_fair_by_id(person, fair_id)
    try:
        if request.POST.get("leave"):
            actions.do_leave_fair(person=person, fair=fair)
        else:
            actions.do_join_fair(person=person, fair=fair)
            messages.success(request, _("You joined. The fair's companies now see the parts "
                                        "of your profile you show."))
    except InputError as error:
        messages.error(request, error.message)
    return redirect("talent:fair", fair_id=fair.pk)


@login_required
@require_POST
def fair_rank(request: HttpRequest, fair_id: int) -> HttpResponse:
    """A learner's ranking of positions, or (``position`` given) a company's of learners."""
    person = _person(request)
    fair = queries.access_fair_by_id(person, fair_id)
    position_id = request.POST.get("position", "")
    try:
        if position_id.isdigit():
            position = queries.access_fair_position_by_id(person, fair, int(position_id))
            allowed = list(fair.participants.values_list("person_id", flat=True))
            actions.do_rank_participants(actor=person, position=position,
                                         person_ids=ranking_from(request.POST, "rank_", allowed))
        else:
            allowed = list(fair.positions.values_list("pk", flat=True))
            actions.do_rank_positions(person=person, fair=fair,
                                      position_ids=ranking_from(request.POST, "rank_", allowed))
    except InputError as error:
        messages.error(request, error.message)
    else:
        messages.success(request, _("Your ranking is saved."))
    return redirect("talent:fair", fair_id=fair.pk)


@login_required
@require_POST
def fair_add_position(request: HttpRequest, fair_id: int) -> HttpResponse:
    person = _person(request)
    fair = queries.access_fair_by_id(person, fair_id)
    form = FairPositionForm(request.POST, postings=[(int(p), p) for p in
                                                    [request.POST.get("posting", "")]
                                                    if str(p).isdigit()])
    if form.is_valid():
        try:
            posting = queries.access_posting_by_id(person, int(form.cleaned_data["posting"]))
            actions.do_add_fair_position(actor=person, fair=fair, posting=posting,
                                         capacity=form.cleaned_data["capacity"])
        except (InputError, NotFound) as error:
            messages.error(request, error.message)
        else:
            messages.success(request, _("The posting is in the fair."))
        return redirect("talent:fair", fair_id=fair.pk)
    return _fair_page(request, fair_id, status=422)


@login_required
@require_POST
def fair_run(request: HttpRequest, fair_id: int) -> HttpResponse:
    person = _person(request)
    fair = queries.access_managed_fair_by_id(person, fair_id)
    try:
        actions.do_run_fair(actor=person, fair=fair)
    except InputError as error:
        messages.error(request, error.message)
    else:
        messages.success(request, _("Matched. Each learner and company sees the result and "
                                    "why."))
    return redirect("talent:fair", fair_id=fair.pk)


# --------------------------------------------------------------------------- outcomes


@login_required
@require_http_methods(["GET", "POST"])
def my_placements(request: HttpRequest) -> HttpResponse:
    person = _person(request)
    form = PlacementForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            actions.do_record_placement(actor=person, person=person, employer=data["employer"],
                                        role=data["role"], kind=data["kind"],
                                        started_on=data["started_on"])
        except InputError as error:
            form.add_input_error(error)
        else:
            messages.success(request, _("Recorded. Thank you: it helps the next learners."))
            return redirect("talent:placements")
    return render(request, "talent/placements.html", {
        "placements": queries.access_my_placements(person), "form": form},
        status=422 if form.errors else 200)


@login_required
@require_GET
def outcomes(request: HttpRequest) -> HttpResponse:
    return render(request, "talent/outcomes.html",
                  {"programs": queries.outcome_programs(_person(request))})


def _bar_rows(rows: list[tuple[str, int]], total: int) -> list[dict[str, Any]]:
    return [{"name": name, "count": count,
             "percent": count * 100 // total if total else 0} for name, count in rows]


@login_required
@require_GET
def program_outcomes(request: HttpRequest, slug: str) -> HttpResponse:
    found = queries.access_program_outcomes_by_slug(_person(request), slug)
    return render(request, "talent/program_outcomes.html", {
        "outcomes": found, "by_company": _bar_rows(found.by_company, found.placed),
        "by_role": _bar_rows(found.by_role, found.placed)})


def _csv_cell(value: object) -> str:
    text = str(value)
    return "'" + text if text.startswith(CSV_FORMULA_STARTS) else text


@login_required
@require_GET
def program_outcomes_csv(request: HttpRequest, slug: str) -> HttpResponse:
    found = queries.access_program_outcomes_by_slug(_person(request), slug)
    response = HttpResponse(content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="outcomes-{found.program.slug}.csv"'
    response.write("\ufeff")  # spreadsheets then read the Korean as UTF-8
    writer = csv.writer(response)
    writer.writerow([_("Cohort"), _("Ends on"), _("Counted until"), _("Final"), _("Learners"),
                     _("Employed or placed"), _("Share %"), _("Breakdown"), _("Name"),
                     _("Count")])
    for outcome in found.cohorts:
        row = [_csv_cell(outcome.cohort.name), outcome.cohort.ends_on.isoformat(),
               outcome.window_ends.isoformat(), "yes" if outcome.finished else "no",
               outcome.learners, outcome.placed, outcome.percent]
        writer.writerow([*row, _("all"), "", outcome.placed])
        for name, count in outcome.by_company:
            writer.writerow([*row, _("company"), _csv_cell(name), count])
        for name, count in outcome.by_role:
            writer.writerow([*row, _("role"), _csv_cell(name), count])
    return response
