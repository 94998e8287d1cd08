"""The compute API, mounted at /api/compute/: pools, jobs, approvals, usage."""

from __future__ import annotations

import datetime

from django.http import HttpRequest
from django.utils.translation import gettext as _
from ninja import Field, Router, Schema, Status

from oneteam.accounts.auth import api_auth
from oneteam.compute import actions, queries
from oneteam.compute.models import ComputePool, Job
from oneteam.consortium.models import Organization
from oneteam.platform.errors import InputError
from oneteam.platform.http import api_person as _person

router = Router(tags=["compute"], auth=api_auth)




class PoolOut(Schema):
    slug: str
    name: str
    owner: str
    executor: str
    capacity: int
    gpus: int
    price_cpu_hour: int
    price_gpu_hour: int
    active: bool
    allowed_programs: list[str]
    allowed_organizations: list[str]


def _pool_out(pool: ComputePool) -> PoolOut:
    return PoolOut(slug=pool.slug, name=pool.name, owner=pool.owner.slug,
                   executor=pool.executor, capacity=pool.capacity, gpus=pool.gpus,
                   price_cpu_hour=pool.price_cpu_hour, price_gpu_hour=pool.price_gpu_hour,
                   active=pool.active,
                   allowed_programs=list(pool.allowed_programs.values_list("slug", flat=True)),
                   allowed_organizations=list(
                       pool.allowed_organizations.values_list("slug", flat=True)))


class PoolIn(Schema):
    owner: str
    slug: str
    name: str
    executor: str
    capacity: int
    price_cpu_hour: int
    price_gpu_hour: int = 0
    gpus: int = 0
    executor_settings: dict[str, str] = Field(default_factory=dict)
    allowed_programs: list[str] = Field(default_factory=list)
    allowed_organizations: list[str] = Field(default_factory=list)


class JobOut(Schema):
    id: int
    title: str
    pool: str
    consumer: str
    state: str
    reason: str
    detail: str
    cpu_seconds: float
    gpu_seconds: float
    max_cost: int
    charged: int | None
    created: datetime.datetime
    finished: datetime.datetime | None


class ApprovalIn(Schema):
    consumer: str
    provider: str
    limit: int


class ApprovalOut(Schema):
    consumer: str
    provider: str
    limit: int
    state: str
    txid: str


@router.get("/pools", response=list[PoolOut])
def list_pools(request: HttpRequest) -> list[PoolOut]:
    return [_pool_out(pool) for pool in queries.access_pools(_person(request))]


@router.post("/pools", response={201: PoolOut}, summary="Register a compute pool")
def register_pool(request: HttpRequest, payload: PoolIn) -> Status[PoolOut]:
    viewer = _person(request)
    owner = queries.organizations_providing(viewer).filter(slug=payload.owner).first()
    if owner is None:
        raise InputError("owner", _("You do not register pools for %(slug)s.")
                         % {"slug": payload.owner})
    pool = actions.do_register_pool(
        actor=viewer, owner=owner, slug=payload.slug, name=payload.name,
        executor=payload.executor, capacity=payload.capacity,
        price_cpu_hour=payload.price_cpu_hour, price_gpu_hour=payload.price_gpu_hour,
        gpus=payload.gpus, executor_settings=payload.executor_settings,
        allowed_program_slugs=payload.allowed_programs,
        allowed_organization_slugs=payload.allowed_organizations)
    return Status(201, _pool_out(pool))


@router.get("/pools/{slug}", response=PoolOut)
def get_pool(request: HttpRequest, slug: str) -> PoolOut:
    return _pool_out(queries.access_pool_by_slug(_person(request), slug))


@router.get("/jobs/{int:job_id}", response=JobOut)
def get_job(request: HttpRequest, job_id: int) -> JobOut:
    job: Job = queries.access_job_by_id(_person(request), job_id)
    charge = getattr(job, "charge", None) if hasattr(job, "charge") else None
    return JobOut(id=job.pk, title=job.title, pool=job.pool.slug, consumer=job.consumer.slug,
                  state=job.state, reason=job.reason, detail=job.detail,
                  cpu_seconds=job.cpu_seconds, gpu_seconds=job.gpu_seconds,
                  max_cost=job.max_cost, charged=charge.amount if charge else None,
                  created=job.created, finished=job.finished)


@router.post("/approvals", response={202: ApprovalOut},
             summary="Authorize a provider to charge my organization up to a limit")
def approve(request: HttpRequest, payload: ApprovalIn) -> Status[ApprovalOut]:
    viewer = _person(request)
    consumer = Organization.objects.filter(slug=payload.consumer).first()
    provider = Organization.objects.filter(slug=payload.provider).first()
    if consumer is None:
        raise InputError("consumer", _("There is no such organization."))
    if provider is None:
        raise InputError("provider", _("There is no such organization."))
    approval = actions.do_approve_usage(actor=viewer, consumer=consumer, provider=provider,
                                        limit=payload.limit)
    approval.submission.refresh_from_db()
    return Status(202, ApprovalOut(consumer=consumer.slug, provider=provider.slug,
                                   limit=approval.limit, state=approval.submission.state,
                                   txid=approval.submission.txid))


class UsageRowOut(Schema):
    organization: str
    jobs: int
    cpu_seconds: float
    gpu_seconds: float
    credits: int


class UsageOut(Schema):
    organization: str
    since: datetime.datetime
    as_consumer: list[UsageRowOut]
    as_provider: list[UsageRowOut]


@router.get("/usage/{slug}", response=UsageOut,
            summary="An organization's compute usage and charges, as user and as provider")
def usage(request: HttpRequest, slug: str) -> UsageOut:
    found = queries.access_usage_by_organization_slug(_person(request), slug)

    def rows(items: list[queries.UsageRow]) -> list[UsageRowOut]:
        return [UsageRowOut(organization=r.other.slug, jobs=r.jobs, cpu_seconds=r.cpu_seconds,
                            gpu_seconds=r.gpu_seconds, credits=r.credits) for r in items]

    return UsageOut(organization=found.organization.slug, since=found.since,
                    as_consumer=rows(found.as_consumer), as_provider=rows(found.as_provider))
