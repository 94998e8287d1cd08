"""Charging a job's usage on a real ledger: the consumer authorizes the provider
(``credits.approve_usage``), the provider charges each finished job once
(``credits.charge``), and a missing or used-up authorization stops a job before it runs.
"""

from __future__ import annotations

import io

import pytest

from oneteam.compute import actions as compute_actions
from oneteam.compute import queries as compute_queries
from oneteam.compute.models import Charge, Job, JobState
from oneteam.compute.worker import ComputeWorker
from oneteam.consortium import actions as consortium_actions
from oneteam.consortium.models import LedgerState, Organization, SubmissionState
from oneteam.labs import actions as lab_actions
from oneteam.labs.models import SubmissionState as LabSubmissionState
from oneteam.platform.errors import AccessDenied, InputError
from tests.compute.conftest import sandbox_or_skip
from tests.consortium.conftest import LedgerNode, ledger  # noqa: F401 - fixture
from tests.factories import make_admin, make_operator, make_organization, make_person
from tests.factories.academy import enroll, make_cohort, make_program
from tests.factories.labs import make_pool, submit_files
from tests.factories.probe_bundle import probe_bundle_zip

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.slow]

ANSWER = b"open('/work/answer.txt', 'w').write('42')\n"


def register(operator: object, *organizations: Organization) -> None:
    """Join the organizations to the ledger one by one, each approved by those before."""
    joined: list[Organization] = []
    for organization in organizations:
        consortium_actions.do_start_joining(actor=operator, organization=organization)  # type: ignore[arg-type]
        for approver in joined:
            consortium_actions.do_approve_joining(actor=None, approver=approver,
                                                  subject=organization)
        organization.refresh_from_db()
        assert organization.ledger_state == LedgerState.REGISTERED
        joined.append(organization)


def test_usage_is_charged_on_the_ledger_once_authorized(ledger: LedgerNode) -> None:  # noqa: F811
    sandbox_or_skip()
    operator = make_operator()
    kt = make_organization(slug="kt", name_en="KT", kind="company")
    kaist = make_organization(slug="kaist", name_en="KAIST", kind="university")
    register(operator, kt, kaist)
    kaist_admin = make_admin(kaist)
    consortium_actions.do_submit_ledger_transaction(None, "credits.allocate",
                                                    {"to": "kaist", "amount": 1000})
    # KT's pool: one credit per CPU-second; KAIST runs a cohort with a lab, and no pool
    pool = make_pool(kt, price_cpu_hour=3600)
    program = make_program(owner=kaist)
    cohort = make_cohort(program)
    learner = make_person()
    enroll(learner, cohort)
    lab = lab_actions.do_upload_lab(actor=None, archive=io.BytesIO(probe_bundle_zip()),
                                    owner=kaist, cohort=cohort)

    # no authorization: refused before anything runs, saying what is missing
    with pytest.raises(InputError) as refused:
        submit_files(learner, lab, {"solution.py": ANSWER})
    assert refused.value.field == "pool" and "has not authorized" in refused.value.message
    assert not Job.objects.exists()

    # only KAIST's own administrators authorize spending its credits
    with pytest.raises(AccessDenied):
        compute_actions.do_approve_usage(actor=make_admin(kt), consumer=kaist, provider=kt,
                                         limit=100)
    approval = compute_actions.do_approve_usage(actor=kaist_admin, consumer=kaist, provider=kt,
                                                limit=100)
    approval.submission.refresh_from_db()
    assert approval.submission.state == SubmissionState.COMMITTED
    assert ledger.state("credits", "allowance", "kaist", "kt") == 100

    submission = submit_files(learner, lab, {"solution.py": ANSWER})
    job = Job.objects.get(pk=submission.job_id)
    assert job.pool == pool and job.approval == approval and job.max_cost == 6  # 3 s + 3 s
    assert compute_queries.allowance(approval).reserved == 6
    worker = ComputeWorker()
    try:
        worker.run_until_idle()
    finally:
        worker.close()
    submission.refresh_from_db()
    assert submission.state == LabSubmissionState.GRADED
    job.refresh_from_db()
    assert job.state == JobState.SUCCEEDED
    charge = Charge.objects.get(job=job)
    assert charge.consumer == kaist and charge.provider == kt
    assert 1 <= charge.amount <= job.max_cost
    assert charge.amount == pool.cost(job.cpu_seconds, 0)
    charge.submission.refresh_from_db()
    assert charge.submission.state == SubmissionState.COMMITTED
    assert charge.submission.proof_verified
    assert ledger.state("credits", "balance", "kaist") == 1000 - charge.amount
    assert ledger.state("credits", "balance", "kt") == charge.amount
    assert ledger.state("credits", "allowance", "kaist", "kt") == 100 - charge.amount
    left = compute_queries.allowance(approval)
    assert (left.charged, left.reserved, left.remaining) == (charge.amount, 0,
                                                             100 - charge.amount)

    # both sides see it
    usage = compute_queries.access_usage_by_organization_slug(kaist_admin, "kaist")
    assert [(row.other, row.jobs, row.credits) for row in usage.as_consumer] == [
        (kt, 1, charge.amount)]
    assert usage.charges_paid == [charge]
    kt_usage = compute_queries.access_usage_by_organization_slug(operator, "kt")
    assert [(row.other, row.credits) for row in kt_usage.as_provider] == [(kaist,
                                                                           charge.amount)]
    assert kt_usage.charges_received == [charge]

    # a limit too small for the most a job may cost: refused before it runs
    small = compute_actions.do_approve_usage(actor=kaist_admin, consumer=kaist, provider=kt,
                                             limit=5)
    small.submission.refresh_from_db()
    with pytest.raises(InputError) as exhausted:
        submit_files(learner, lab, {"solution.py": ANSWER})
    assert "has 5 credits left" in exhausted.value.message
    assert "up to 6" in exhausted.value.message
    assert Job.objects.count() == 1
