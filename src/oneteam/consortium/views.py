"""The consortium pages: the member directory, an organization's public page and DID
document, its members, keys, approvals and ledger transactions (administrators and
operators), and the alliance as a whole (operators)."""

from __future__ import annotations

import datetime
import json

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from oneteam.accounts.models import Person, normalize_email
from oneteam.consortium import actions, identity, queries
from oneteam.consortium.forms import AddMemberForm, JoinForm, OrganizationForm, RolesForm
from oneteam.consortium.models import LedgerState, Organization
from oneteam.platform.errors import AccessDenied, InputError, NotFound
from oneteam.platform.http import origin_of
from oneteam.platform.http import page_person as _person

REFRESH_INTERVAL_S = 2




def _did(organization: Organization, request: HttpRequest) -> str | None:
    try:
        return queries.organization_did(organization, request)
    except identity.DidUnavailable:
        return None


def _back(request: HttpRequest, default: str) -> HttpResponse:
    """Back to the page the form was on (a local path), else ``default``."""
    target = request.POST.get("next", "")
    if target.startswith("/") and not target.startswith("//"):
        return redirect(target)
    return redirect(default)


def _organization_context(request: HttpRequest, organization: Organization,
                          tab: str) -> dict[str, object]:
    viewer = request.user
    return {"organization": organization, "tab": tab,
            "may_manage": queries.may_manage(viewer, organization),
            "is_admin": queries.is_admin_of(viewer, organization),
            "status": queries.ledger_status(organization)}


# --- public ---------------------------------------------------------------------------------


@require_GET
def directory(request: HttpRequest) -> HttpResponse:
    organizations = sorted(queries.access_organizations(request.user),
                           key=lambda organization: organization.name)
    rows = [(organization, queries.ledger_status(organization))
            for organization in organizations]
    return render(request, "consortium/directory.html", {"rows": rows})


@require_GET
def organization_page(request: HttpRequest, slug: str) -> HttpResponse:
    organization = queries.access_organization_by_slug(request.user, slug)
    did = _did(organization, request)
    keys = [(key, identity.multikey(key.public_key), f"{did}#{key.fragment}" if did else "")
            for key in queries.public_keys(organization)]
    context = _organization_context(request, organization, "overview")
    join_form = None
    if getattr(request.user, "is_operator", False) and organization.ledger_state in (
            LedgerState.NOT_REGISTERED, LedgerState.FAILED):
        join_form = JoinForm(initial={"roles": actions.LEDGER_ROLES_BY_KIND.get(
            organization.kind, [])})
    context.update(did=did, keys=keys, join_form=join_form)
    return render(request, "consortium/organization.html", context)


@require_GET
def ledger_status_fragment(request: HttpRequest, slug: str) -> HttpResponse:
    """The ledger status box; htmx polls it while something is pending (reads the chain)."""
    organization = queries.access_organization_by_slug(request.user, slug)
    checked = organization.ledger_checked
    if checked is None or timezone.now() - checked > datetime.timedelta(
            seconds=REFRESH_INTERVAL_S):
        actions.do_refresh_ledger_status(organization)
        organization.refresh_from_db()
    return render(request, "consortium/_ledger_status.html",
                  {"organization": organization, "status": queries.ledger_status(organization)})


@require_GET
def did_document(request: HttpRequest, slug: str) -> HttpResponse:
    """``/orgs/<slug>/did.json``: the organization's DID document (public)."""
    try:
        host = identity.did_host(request)
    except identity.DidUnavailable as error:
        raise NotFound(error.message) from None
    document = queries.access_did_document_by_slug(slug, host)
    response = HttpResponse(json.dumps(document.document, ensure_ascii=False, indent=2),
                            content_type=identity.DID_CONTENT_TYPE)
    response["Access-Control-Allow-Origin"] = "*"  # verifiers fetch it from anywhere
    response["Cache-Control"] = "public, max-age=300"
    return response


# --- an organization's private pages ----------------------------------------------------------


@login_required
@require_http_methods(["GET", "POST"])
def members(request: HttpRequest, slug: str) -> HttpResponse:
    viewer = _person(request)
    organization = queries.access_managed_organization_by_slug(viewer, slug)
    form = AddMemberForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        email, role = form.cleaned_data["email"], form.cleaned_data["role"]
        try:
            if Person.objects.filter(email=normalize_email(email)).exists():
                actions.do_add_membership(actor=viewer, organization=organization, email=email,
                                          role=role)
                messages.success(request, _("%(email)s now has this role.") % {"email": email})
            else:
                actions.do_invite_member(actor=viewer, organization=organization, email=email,
                                         role=role, origin=origin_of(request))
                messages.success(request, _("An invitation has been sent to %(email)s.")
                                 % {"email": email})
        except InputError as error:
            form.add_input_error(error)
        else:
            return redirect("consortium:members", slug=slug)
    context = _organization_context(request, organization, "members")
    invitations = [(invitation, reverse("consortium:invitation",
                                        args=[actions.invitation_token(invitation)]))
                   for invitation in queries.access_invitations_by_organization_slug(viewer, slug)
                   if invitation.is_open()]
    people = queries.access_people_by_organization_slug(viewer, slug)
    context.update(form=form, people=[(row, RolesForm(initial={"roles": row.roles},
                                                      auto_id=f"id_%s_{row.person.pk}"))
                                      for row in people],
                   invitations=invitations)
    return render(request, "consortium/members.html", context,
                  status=422 if form.errors else 200)


@login_required
@require_POST
def member_roles(request: HttpRequest, slug: str, person_id: int) -> HttpResponse:
    viewer = _person(request)
    organization = queries.access_managed_organization_by_slug(viewer, slug)
    person = queries.access_member_by_person_id(viewer, organization, person_id)
    form = RolesForm(request.POST)
    roles = form.cleaned_data["roles"] if form.is_valid() else []
    if not form.is_valid():
        messages.error(request, _("Choose roles from the list."))
        return redirect("consortium:members", slug=slug)
    try:
        actions.do_set_member_roles(actor=viewer, organization=organization, person=person,
                                    roles=roles)
    except InputError as error:
        messages.error(request, error.message)
    else:
        if roles:
            messages.success(request, _("The roles of %(name)s have been saved.")
                             % {"name": person.display_name})
        else:
            messages.success(request, _("%(name)s is no longer a member.")
                             % {"name": person.display_name})
    return redirect("consortium:members", slug=slug)


@login_required
@require_POST
def withdraw_invitation(request: HttpRequest, slug: str, invitation_id: int) -> HttpResponse:
    viewer = _person(request)
    organization = queries.access_managed_organization_by_slug(viewer, slug)
    invitation = queries.access_invitation_by_id(viewer, organization, invitation_id)
    actions.do_withdraw_invitation(actor=viewer, invitation=invitation)
    messages.success(request, _("The invitation to %(email)s has been withdrawn.")
                     % {"email": invitation.email})
    return redirect("consortium:members", slug=slug)


@login_required
@require_GET
def keys(request: HttpRequest, slug: str) -> HttpResponse:
    viewer = _person(request)
    all_keys = queries.access_keys_by_organization_slug(viewer, slug)
    organization = queries.access_organization_by_slug(viewer, slug)
    did = _did(organization, request)
    context = _organization_context(request, organization, "keys")
    context.update(rows=queries.key_rows(organization, all_keys), did=did)
    return render(request, "consortium/keys.html", context)


@login_required
@require_POST
def rotate_key(request: HttpRequest, slug: str) -> HttpResponse:
    viewer = _person(request)
    organization = queries.access_managed_organization_by_slug(viewer, slug)
    try:
        key = actions.do_rotate_organization_key(actor=viewer, organization=organization)
    except InputError as error:
        messages.error(request, error.message)
    else:
        messages.success(request, _("Key %(number)d is now the current key.")
                         % {"number": key.number})
    return redirect("consortium:keys", slug=slug)


@login_required
@require_POST
def revoke_key(request: HttpRequest, slug: str, number: int) -> HttpResponse:
    viewer = _person(request)
    key = queries.access_key_by_number(viewer, slug, number)
    try:
        actions.do_revoke_organization_key(actor=viewer, key=key)
    except InputError as error:
        messages.error(request, error.message)
    else:
        messages.success(request, _("Key %(number)d has been revoked.") % {"number": number})
    return redirect("consortium:keys", slug=slug)


@login_required
@require_GET
def approvals(request: HttpRequest, slug: str) -> HttpResponse:
    viewer = _person(request)
    pending = queries.access_pending_approvals_by_organization_slug(viewer, slug)
    organization = queries.access_organization_by_slug(viewer, slug)
    context = _organization_context(request, organization, "approvals")
    context.update(pending=pending)
    return render(request, "consortium/approvals.html", context)


@login_required
@require_POST
def approve(request: HttpRequest, slug: str, subject: str) -> HttpResponse:
    viewer = _person(request)
    approver = queries.access_managed_organization_by_slug(viewer, slug)
    joining = queries.access_organization_by_slug(viewer, subject)
    try:
        actions.do_approve_joining(actor=viewer, approver=approver, subject=joining)
    except InputError as error:
        messages.error(request, error.message)
    else:
        messages.success(request, _("%(approver)s's approval of %(subject)s is on its way to "
                                    "the ledger.") % {"approver": approver.name,
                                                      "subject": joining.name})
    return _back(request, reverse("consortium:approvals", args=[slug]))


@login_required
@require_GET
def transactions(request: HttpRequest, slug: str) -> HttpResponse:
    viewer = _person(request)
    submissions = queries.access_ledger_submissions_by_organization_slug(viewer, slug)[:200]
    organization = queries.access_organization_by_slug(viewer, slug)
    context = _organization_context(request, organization, "transactions")
    context.update(submissions=submissions)
    return render(request, "consortium/transactions.html", context)


@login_required
@require_POST
def retry_transaction(request: HttpRequest, submission_id: int) -> HttpResponse:
    viewer = _person(request)
    submission = queries.access_ledger_submission_by_id(viewer, submission_id)
    try:
        actions.do_retry_ledger_submission(actor=viewer, submission=submission)
    except InputError as error:
        messages.error(request, error.message)
    else:
        messages.success(request, _("The transaction will be sent again."))
    organization = submission.signer or submission.subject
    default = (reverse("consortium:transactions", args=[organization.slug])
               if organization else reverse("consortium:alliance"))
    return _back(request, default)


# --- the alliance (operators) -------------------------------------------------------------


@login_required
@require_POST
def start_joining(request: HttpRequest, slug: str) -> HttpResponse:
    viewer = _person(request)
    organization = queries.access_organization_by_slug(viewer, slug)
    # The organization's page sends the roles chosen (perhaps none); a bare "start
    # joining" button elsewhere leaves them to the defaults for the organization's kind.
    form = JoinForm(request.POST)
    roles = (form.cleaned_data["roles"] if "roles_chosen" in request.POST and form.is_valid()
             else None)
    try:
        actions.do_start_joining(actor=viewer, organization=organization, roles=roles)
    except InputError as error:
        messages.error(request, error.message)
    else:
        messages.success(request, _("%(organization)s's proposal to join is on its way to the "
                                    "ledger.") % {"organization": organization.name})
    return _back(request, reverse("consortium:organization", args=[slug]))


@login_required
@require_GET
def alliance(request: HttpRequest) -> HttpResponse:
    overview = queries.access_alliance(_person(request))
    rows = [(organization, queries.ledger_status(organization))
            for organization in Organization.objects.order_by("slug")]
    return render(request, "consortium/alliance.html", {"overview": overview, "rows": rows})


@login_required
@require_http_methods(["GET", "POST"])
def new_organization(request: HttpRequest) -> HttpResponse:
    viewer = _person(request)
    if not viewer.is_operator:
        raise AccessDenied(_("Only the alliance's operators add member organizations."))
    form = OrganizationForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            organization = actions.do_create_organization(actor=viewer, **form.cleaned_data)
        except InputError as error:
            form.add_input_error(error)
        else:
            messages.success(request, _("%(organization)s has been added. Start its joining of "
                                        "the ledger when you are ready.")
                             % {"organization": organization.name})
            return redirect("consortium:organization", slug=organization.slug)
    return render(request, "consortium/organization_new.html", {"form": form},
                  status=422 if form.errors else 200)


# --- invitations ----------------------------------------------------------------------------


@require_http_methods(["GET", "POST"])
def invitation(request: HttpRequest, token: str) -> HttpResponse:
    try:
        found = queries.invitation_by_token(token)
    except InputError as error:
        return render(request, "consortium/invitation.html", {"link_error": error.message},
                      status=400)
    error_message = ""
    if request.method == "POST":
        try:
            membership = actions.do_accept_invitation(person=_person(request),
                                                      invitation=found)
        except InputError as error:
            error_message = error.message
        else:
            messages.success(request, _("You are now %(role)s at %(organization)s.") % {
                "role": membership.get_role_display(),
                "organization": membership.organization.name})
            return redirect("platform:dashboard")
    return render(request, "consortium/invitation.html",
                  {"invitation": found, "error": error_message,
                   "next": request.get_full_path()},
                  status=422 if error_message else 200)
