"""The fair queue's rule, in a seeded simulation of many organizations, and in the
database: the worker's claims, and jobs left running by a worker that stopped."""

from __future__ import annotations

import datetime
import random

import pytest
from django.utils import timezone

from oneteam.compute.executors.base import JobSpec, Limits, Step, spec_to_json
from oneteam.compute.fairqueue import Waiting, choose_next
from oneteam.compute.models import ComputePool, Job, JobReason, JobState
from oneteam.compute.worker import ComputeWorker
from oneteam.consortium.models import Organization
from tests.factories import make_organization, make_person
from tests.factories.labs import make_pool

SEEDS = range(20)


def simulate(seed: int, *, organizations: int = 12, capacity: int = 4,
             steps: int = 400) -> tuple[list[tuple[int, dict[int, int]]], dict[int, list[int]]]:
    """Organizations submit at random (one of them in huge bursts); jobs take 1-5 ticks.
    Returns each choice with the running counts it saw, and each job's wait in ticks."""
    rng = random.Random(seed)
    waiting: list[Waiting] = []
    running: list[tuple[int, Waiting]] = []      # (tick it ends, job)
    usage: dict[int, float] = {}
    choices: list[tuple[int, dict[int, int]]] = []
    waits: dict[int, list[int]] = {}
    submitted_at: dict[int, int] = {}
    next_id = 0
    for tick in range(steps):
        for organization in range(organizations):
            burst = 30 if organization == 0 and tick % 50 == 0 else (
                1 if rng.random() < 0.05 else 0)
            for _ in range(burst):
                next_id += 1
                person = organization * 100 + rng.randrange(5)
                waiting.append(Waiting(next_id, organization, person, tick + next_id * 1e-6))
                submitted_at[next_id] = tick
        running = [(end, job) for end, job in running if end > tick]
        while len(running) < capacity and waiting:
            by_organization: dict[int, int] = {}
            by_person: dict[int | None, int] = {}
            for _end, job in running:
                by_organization[job.organization] = by_organization.get(job.organization, 0) + 1
                by_person[job.person] = by_person.get(job.person, 0) + 1
            chosen = choose_next(waiting, running_by_organization=by_organization,
                                 usage_by_organization=usage, running_by_person=by_person)
            assert chosen is not None
            choices.append((chosen.organization, {
                job.organization: by_organization.get(job.organization, 0) for job in waiting}))
            waiting.remove(chosen)
            duration = rng.randint(1, 5)
            running.append((tick + duration, chosen))
            usage[chosen.organization] = usage.get(chosen.organization, 0.0) + duration
            waits.setdefault(chosen.organization, []).append(tick - submitted_at[chosen.job_id])
    return choices, waits


@pytest.mark.parametrize("seed", SEEDS)
def test_each_choice_goes_to_an_organization_with_the_fewest_running(seed: int) -> None:
    choices, _waits = simulate(seed)
    assert choices
    for chosen, running in choices:
        assert running[chosen] == min(running.values()), (seed, chosen, running)


@pytest.mark.parametrize("seed", SEEDS)
def test_a_burst_does_not_hold_up_the_others(seed: int) -> None:
    _choices, waits = simulate(seed)
    burst_wait = max(waits[0])
    others = [wait for organization, values in waits.items() if organization != 0
              for wait in values]
    # the bursting organization waits for its own backlog of 30; another waits at most
    # until each organization ahead of it has had a slot: 12 organizations over 4 slots,
    # jobs of at most 5 ticks, so 3 rounds of 5 ticks (in a first-come queue it would wait
    # behind the whole burst: 30 jobs over 4 slots, about 22 ticks)
    assert burst_wait > 20
    assert max(others) <= 15, (seed, max(others))


def test_ties_go_to_less_past_usage_then_the_oldest_then_each_person_in_turn() -> None:
    jobs = [Waiting(1, 10, 1, 1.0), Waiting(2, 20, 2, 2.0), Waiting(3, 20, 3, 3.0)]
    assert choose_next(jobs, running_by_organization={}, usage_by_organization={10: 5.0},
                       running_by_person={}).job_id == 2
    assert choose_next(jobs, running_by_organization={}, usage_by_organization={},
                       running_by_person={}).job_id == 1
    assert choose_next(jobs[1:], running_by_organization={}, usage_by_organization={},
                       running_by_person={2: 1}).job_id == 3
    assert choose_next([], running_by_organization={}, usage_by_organization={},
                       running_by_person={}) is None


def _spec() -> dict[str, object]:
    return spec_to_json(JobSpec(job_id="pending", steps=(Step("run", ("true",)),),
                                limits=Limits(wall_seconds=5, cpu_seconds=5)))


def _job(pool: ComputePool, consumer: Organization, **fields: object) -> Job:
    return Job.objects.create(pool=pool, consumer=consumer, owner="test", title="t",
                              spec=_spec(), **fields)


@pytest.mark.django_db
def test_the_worker_claims_fairly_and_never_past_the_capacity() -> None:
    provider = make_organization()
    busy, quiet = make_organization(), make_organization()
    pool = make_pool(provider, capacity=2)
    person = make_person()
    for _ in range(5):
        _job(pool, busy, submitted_by=person)
    late = _job(pool, quiet)
    worker = ComputeWorker()
    first, second = worker._claim(pool), worker._claim(pool)
    assert first is not None and second is not None
    assert first.consumer == busy and second == late       # quiet's one job goes second
    assert worker._claim(pool) is None                       # the pool is full
    assert Job.objects.filter(state=JobState.RUNNING).count() == 2


@pytest.mark.django_db
def test_a_job_left_running_by_a_stopped_worker_runs_again_then_fails_clearly() -> None:
    provider = make_organization()
    pool = make_pool(provider)
    past = timezone.now() - datetime.timedelta(minutes=5)
    lost_once = _job(pool, provider, state=JobState.RUNNING, attempts=1, worker="gone:1",
                     lease_until=past)
    lost_twice = _job(pool, provider, state=JobState.RUNNING, attempts=2, worker="gone:2",
                      lease_until=past)
    alive = _job(pool, provider, state=JobState.RUNNING, attempts=1, worker="other:3",
                 lease_until=timezone.now() + datetime.timedelta(minutes=1))
    ComputeWorker().recover()
    lost_once.refresh_from_db()
    lost_twice.refresh_from_db()
    alive.refresh_from_db()
    assert lost_once.state == JobState.QUEUED and lost_once.worker == ""
    assert "stopped" in lost_once.detail
    assert lost_twice.state == JobState.FAILED and lost_twice.reason == JobReason.WORKER_LOST
    assert lost_twice.finished is not None
    assert alive.state == JobState.RUNNING and alive.worker == "other:3"
