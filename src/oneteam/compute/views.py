"""The compute pages: the pool directory, registering a pool, a pool's jobs, an
organization's usage and charges (both sides) with its approvals, a job."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods

from oneteam.compute import actions, queries
from oneteam.compute.forms import ApprovalForm, OfferForm, PoolForm
from oneteam.consortium.models import Organization
from oneteam.consortium.queries import is_admin_of
from oneteam.platform.errors import AccessDenied, InputError
from oneteam.platform.http import page_person as _person


@require_GET
@login_required
def pool_list(request: HttpRequest) -> HttpResponse:
    person = _person(request)
    return render(request, "compute/pools.html", {
        "pools": queries.access_pools(person),
        "may_register": queries.organizations_providing(person).exists(),
        "usage_organizations": queries.usage_organizations(person).order_by("name_en")})


@require_http_methods(["GET", "POST"])
@login_required
def pool_new(request: HttpRequest) -> HttpResponse:
    person = _person(request)
    owners = queries.organizations_providing(person).order_by("name_en")
    if not owners.exists():
        raise AccessDenied(_("Only the administrators of a member organization register "
                             "compute pools."))
    form = PoolForm(request.POST or None, owners=owners)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            pool = actions.do_register_pool(
                actor=person, owner=data["owner"], slug=data["slug"], name=data["name"],
                executor=data["executor"], capacity=data["capacity"], gpus=data["gpus"],
                price_cpu_hour=data["price_cpu_hour"], price_gpu_hour=data["price_gpu_hour"],
                executor_settings=form.executor_settings(),
                allowed_program_slugs=[p.slug for p in data["allowed_programs"]],
                allowed_organization_slugs=[o.slug for o in data["allowed_organizations"]])
        except InputError as error:
            form.add_input_error(error)
        else:
            messages.success(request, _("The pool “%(name)s” is registered.")
                             % {"name": pool.name})
            return redirect("compute:pool", slug=pool.slug)
    return render(request, "compute/pool_new.html", {"form": form},
                  status=422 if form.errors else 200)


@require_http_methods(["GET", "POST"])
@login_required
def pool_page(request: HttpRequest, slug: str) -> HttpResponse:
    person = _person(request)
    pool = queries.access_pool_by_slug(person, slug)
    may_manage = queries.may_manage_pool(person, pool)
    offer = OfferForm(initial={"capacity": pool.capacity, "price_cpu_hour": pool.price_cpu_hour,
                               "price_gpu_hour": pool.price_gpu_hour})
    status = 200
    if request.method == "POST":
        pool = queries.access_managed_pool_by_slug(person, slug)
        if request.POST.get("form") == "offer":
            offer = OfferForm(request.POST)
            if offer.is_valid():
                try:
                    actions.do_update_pool(actor=person, pool=pool, **offer.cleaned_data)
                except InputError as error:
                    offer.add_input_error(error)
                else:
                    messages.success(request, _("The pool's offer is saved; jobs queued from "
                                                "now on are priced by it."))
                    return redirect("compute:pool", slug=slug)
            status = 422
        else:
            try:
                actions.do_update_pool(actor=person, pool=pool,
                                       active=request.POST.get("active") == "1")
            except InputError as error:
                messages.error(request, error.message)
            return redirect("compute:pool", slug=slug)
    jobs = (queries.access_pool_jobs_by_slug(person, slug)[1][:100] if may_manage else [])
    return render(request, "compute/pool.html", {
        "pool": pool, "may_manage": may_manage, "jobs": jobs, "offer": offer,
        "statistics": queries.pool_statistics(pool) if may_manage else None,
        "programs": pool.allowed_programs.all(),
        "organizations": pool.allowed_organizations.all()}, status=status)


@require_http_methods(["GET", "POST"])
@login_required
def usage_page(request: HttpRequest, organization: str) -> HttpResponse:
    person = _person(request)
    usage = queries.access_usage_by_organization_slug(person, organization)
    may_approve = is_admin_of(person, usage.organization)
    providers = (Organization.objects.filter(pools__isnull=False).exclude(
        pk=usage.organization.pk).distinct().order_by("name_en"))
    form = ApprovalForm(request.POST or None, providers=providers)
    if request.method == "POST":
        if not may_approve:
            raise AccessDenied(_("Only the administrators of %(organization)s authorize "
                                 "spending its credits.")
                               % {"organization": usage.organization.name})
        if form.is_valid():
            try:
                actions.do_approve_usage(actor=person, consumer=usage.organization,
                                         provider=form.cleaned_data["provider"],
                                         limit=form.cleaned_data["limit"])
            except InputError as error:
                form.add_input_error(error)
            else:
                messages.success(request, _("The approval is on its way to the ledger."))
                return redirect("compute:usage", organization=organization)
    return render(request, "compute/usage.html", {
        "usage": usage, "form": form, "may_approve": may_approve},
        status=422 if form.errors else 200)


@require_GET
@login_required
def job_page(request: HttpRequest, job_id: int) -> HttpResponse:
    job = queries.access_job_by_id(_person(request), job_id)
    return render(request, "compute/job.html", {"job": job})
