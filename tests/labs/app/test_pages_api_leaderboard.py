"""Pages, API, access rules, limits and leaderboards, without running the sandbox: each
submission's job is finished with a result as the executor reports one (the grader's
results.json among its files), through the worker's own ``record_finished``."""

from __future__ import annotations

import datetime
import io
import json

import pytest
from django.test import Client
from django.utils import timezone

from oneteam.compute.executors.base import JobResult, JobState, StepResult
from oneteam.compute.models import Job
from oneteam.compute.worker import record_finished
from oneteam.labs import actions, queries
from oneteam.labs.models import Lab, Submission, SubmissionState
from oneteam.platform.errors import InputError
from tests.factories import PASSWORD, make_api_token, make_person
from tests.factories.labs import submit_files
from tests.factories.probe_bundle import probe_bundle_zip
from tests.labs.app.conftest import Classroom

pytestmark = pytest.mark.django_db


def graded(submission: Submission, value: float, *, private: float | None = None) -> None:
    board = [{"name": "answer", "value": value, "split": "public"}]
    if private is not None:
        board.append({"name": "answer", "value": private, "split": "private"})
    results = {"tests": [
        {"name": "Seen", "score": 5, "max_score": 5, "visibility": "visible", "output": "ok"},
        {"name": "Secret", "score": 0, "max_score": 5, "visibility": "hidden",
         "output": "the secret"}], "leaderboard": board}
    step = StepResult("grade", 0, None, None, "", 0.1, 0.1, 1, b"", b"", 0, 0, 1)
    result = JobResult(job_id="x", state=JobState.SUCCEEDED, reason=None, failed_step=None,
                       detail="", steps=(step,), wall_seconds=0.2, cpu_seconds=0.1,
                       gpu_seconds=0.0, peak_memory_bytes=1,
                       files={"results/results.json": json.dumps(results).encode()},
                       enforcement={}, executor="local")
    record_finished(Job.objects.get(pk=submission.job_id), result)
    submission.refresh_from_db()


def probe(classroom: Classroom, **options: object) -> Lab:
    return actions.do_upload_lab(actor=classroom.instructor,
                                 archive=io.BytesIO(probe_bundle_zip(**options)),  # type: ignore[arg-type]
                                 owner=classroom.university, cohort=classroom.cohort)


def test_bad_bundles_are_refused_with_every_problem_named(classroom: Classroom) -> None:
    bad = probe_bundle_zip(slug="bad-one", per_day=0, skills='\n[[skills]]\ncode = "juggling"\n'
                           'level = 9\n')
    with pytest.raises(InputError) as refused:
        actions.do_upload_lab(actor=classroom.instructor, archive=io.BytesIO(bad),
                              owner=classroom.university, cohort=classroom.cohort)
    problems = [str(p) for p in refused.value.problems]  # type: ignore[attr-defined]
    assert "lab.toml: submissions.per_day: must be a whole number from 1 to 1000, not 0" in problems
    assert any("skills[0].code: 'juggling' is not a skill" in p for p in problems)
    assert not Lab.objects.filter(slug="bad-one").exists()
    with pytest.raises(InputError) as not_zip:
        actions.do_upload_lab(actor=classroom.instructor, archive=io.BytesIO(b"not a zip"),
                              owner=classroom.university, cohort=classroom.cohort)
    assert "not a readable zip file" in not_zip.value.message


def test_limits_access_and_what_learners_see(classroom: Classroom, client: Client) -> None:
    lab = probe(classroom, per_day=2)
    learner = classroom.learner
    first = submit_files(learner, lab, {"solution.py": b"print(1)\n"})
    submit_files(learner, lab, {"solution.py": b"print(2)\n"})
    with pytest.raises(InputError) as limited:
        submit_files(learner, lab, {"solution.py": b"print(3)\n"})
    assert limited.value.field == "files" and "2 submissions" in limited.value.message
    with pytest.raises(InputError) as wrong_name:
        submit_files(make_person_in(classroom), lab, {"other.py": b"x"})
    assert "other.py is not a file this lab takes" in wrong_name.value.message
    with pytest.raises(InputError) as too_big:
        submit_files(make_person_in(classroom), lab, {"solution.py": b"#" * 20_000})
    assert "larger than 10000 bytes" in too_big.value.message
    graded(first, 41.0)
    assert first.state == SubmissionState.GRADED and first.score == 5

    client.post("/accounts/sign-in/", {"email": learner.email, "password": PASSWORD})
    page = client.get(f"/labs/{lab.slug}/submissions/{first.pk}/")
    text = page.content.decode()
    assert page.status_code == 200 and "Seen" in text and "ok" in text
    assert "Secret" not in text and "the secret" not in text  # hidden: its score only
    status = client.get(f"/labs/{lab.slug}/submissions/{first.pk}/status/").content.decode()
    assert "hx-trigger" not in status                           # finished: polling stops
    assert client.get(f"/labs/{lab.slug}/").status_code == 200
    # someone outside the cohort does not know the lab exists
    outsider = make_person()
    client.post("/accounts/sign-in/", {"email": outsider.email, "password": PASSWORD})
    assert client.get(f"/labs/{lab.slug}/").status_code == 404
    assert client.get(f"/labs/{lab.slug}/submissions/{first.pk}/").status_code == 404


def make_person_in(classroom: Classroom) -> object:
    from tests.factories.academy import enroll

    person = make_person()
    enroll(person, classroom.cohort)
    return person


def test_leaderboards_rank_best_public_then_private_at_the_deadline(
        classroom: Classroom) -> None:
    lab = probe(classroom, slug="probe-board", kind="lab")
    alice, bob, carol = (make_person_in(classroom) for _ in range(3))
    a1 = submit_files(alice, lab, {"solution.py": b"1"})  # type: ignore[arg-type]
    graded(a1, 40.0, private=30.0)
    b1 = submit_files(bob, lab, {"solution.py": b"1"})  # type: ignore[arg-type]
    graded(b1, 42.0, private=10.0)
    c1 = submit_files(carol, lab, {"solution.py": b"1"})  # type: ignore[arg-type]
    graded(c1, 40.0, private=35.0)
    a2 = submit_files(alice, lab, {"solution.py": b"2"})  # type: ignore[arg-type]
    graded(a2, 39.0, private=50.0)
    public = queries.public_leaderboard(lab)
    # bob first; alice and carol tie on 40: alice submitted earlier
    assert [(row.person, row.value) for row in public] == [(bob, 42.0), (alice, 40.0),
                                                           (carol, 40.0)]
    assert queries.private_leaderboard(lab) is None             # before the deadline
    # alice chooses her second submission as final (its private value is best)
    actions.do_choose_final_submissions(actor=alice, lab=lab,  # type: ignore[arg-type]
                                        submission_ids=[a2.pk])
    with pytest.raises(InputError):
        actions.do_choose_final_submissions(actor=alice, lab=lab,  # type: ignore[arg-type]
                                            submission_ids=[b1.pk])
    lab.deadline = timezone.now() - datetime.timedelta(minutes=1)
    lab.save()
    private = queries.private_leaderboard(lab)
    assert private is not None
    assert [(row.person, row.value) for row in private] == [(alice, 50.0), (carol, 35.0),
                                                            (bob, 10.0)]
    with pytest.raises(InputError):
        submit_files(bob, lab, {"solution.py": b"3"})  # type: ignore[arg-type]


def test_the_api_submits_and_reports(classroom: Classroom, client: Client) -> None:
    lab = probe(classroom, slug="probe-api")
    _, token = make_api_token(classroom.learner)
    auth = {"HTTP_AUTHORIZATION": f"Bearer {token}"}
    listed = client.get("/api/labs/labs", **auth).json()
    assert {"probe-api", "digits"} <= {lab["slug"] for lab in listed}
    upload = io.BytesIO(b"print(1)\n")
    upload.name = "solution.py"
    sent = client.post(f"/api/labs/labs/{lab.slug}/submissions", {"files": upload}, **auth)
    assert sent.status_code == 202, sent.content
    body = sent.json()
    assert body["state"] == "queued" and body["results"] is None
    graded(Submission.objects.get(pk=body["id"]), 42.0)
    shown = client.get(f"/api/labs/submissions/{body['id']}", **auth).json()
    assert shown["state"] == "graded" and shown["score"] == 5
    assert [t["hidden"] for t in shown["results"]["tests"]] == [False, True]
    assert "name" not in shown["results"]["tests"][1]
    wrong = io.BytesIO(b"x")
    wrong.name = "evil.sh"
    refused = client.post(f"/api/labs/labs/{lab.slug}/submissions", {"files": wrong}, **auth)
    assert refused.status_code == 422 and refused.json()["field"] == "files"
    board = client.get(f"/api/labs/labs/{lab.slug}/leaderboard", **auth).json()
    assert board["public"][0]["value"] == 42.0 and board["private"] is None
    pools = client.get("/api/compute/pools", **auth).json()
    assert [p["slug"] for p in pools] == [classroom.pool.slug]
    job_id = Submission.objects.get(pk=body["id"]).job_id
    job = client.get(f"/api/compute/jobs/{job_id}", **auth)
    assert job.status_code == 200 and job.json()["state"] == "succeeded"
