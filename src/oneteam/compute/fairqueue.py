"""The fair queue: which waiting job a pool runs next. Plain Python, no Django.

The rule, applied each time a pool has a free slot:

1. the **organization** (the job's paying organization) with the fewest jobs running on
   the pool now;
2. among those, the one that used the least CPU time on the pool in the recent window
   (``USAGE_WINDOW_S``, one hour);
3. among those, the one whose oldest waiting job has waited longest;
4. inside the chosen organization, the **person** with the fewest jobs running on the
   pool, then the oldest job, then the lowest job number.

Reason: an organization that sends a hundred jobs at once (a whole cohort submitting
before a deadline) gets its share of the slots, not all of them: each other organization
with a job waiting gets a slot before the busy one gets a second, so no organization
waits behind another's backlog. Running jobs, not past usage, come first because they
are what a newcomer is actually waiting for; past usage breaks ties between
organizations holding equal slots, so the one that has had less gets the next. Inside an
organization the same rule among its people keeps one learner's burst from holding up
their classmates. The choice depends only on its inputs (no clock, no randomness), so a
simulation with a seed reproduces it exactly.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass

USAGE_WINDOW_S = 3600


@dataclass(frozen=True, slots=True)
class Waiting:
    """A job waiting on a pool, as the queue sees it."""

    job_id: int
    organization: int
    person: int | None
    created: float            # any increasing measure of submission time


def choose_next(waiting: Iterable[Waiting], *, running_by_organization: Mapping[int, int],
                usage_by_organization: Mapping[int, float],
                running_by_person: Mapping[int | None, int]) -> Waiting | None:
    """The job the rule above picks among ``waiting``, or None when nothing waits."""
    by_organization: dict[int, list[Waiting]] = {}
    for job in waiting:
        by_organization.setdefault(job.organization, []).append(job)
    if not by_organization:
        return None

    def organization_key(organization: int) -> tuple[int, float, float, int]:
        oldest = min(job.created for job in by_organization[organization])
        return (running_by_organization.get(organization, 0),
                usage_by_organization.get(organization, 0.0), oldest, organization)

    chosen = min(by_organization, key=organization_key)

    def job_key(job: Waiting) -> tuple[int, float, int]:
        return (running_by_person.get(job.person, 0) if job.person is not None else 0,
                job.created, job.job_id)

    return min(by_organization[chosen], key=job_key)
