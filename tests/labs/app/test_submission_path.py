"""A submission's whole path through real components: upload, queue, the compute worker,
the local sandbox, the grader, the recorded outcome, and what the learner sees.

Real sandbox runs cost a fraction of a second to a few seconds each, so these tests run
few of them: the digits lab's reference solution, and the unsafe submissions side by side.
"""

from __future__ import annotations

import io

import pytest

from oneteam.compute.models import Job, JobState
from oneteam.labs import actions, queries
from oneteam.labs.models import SubmissionState
from oneteam.labs.signals import result_recorded
from tests.factories.labs import reference_file, submit_files
from tests.factories.probe_bundle import probe_bundle_zip
from tests.labs.app.conftest import Classroom

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.slow]


def test_a_reference_solution_is_graded_in_full(classroom: Classroom, worker: object,
                                                client: object) -> None:
    heard = []

    def listener(sender: object, submission: object, **_: object) -> None:
        heard.append(submission)

    result_recorded.connect(listener)
    try:
        submission = submit_files(classroom.learner, classroom.lab,
                                  {"solution.py": reference_file("digits")})
        assert submission.state == SubmissionState.QUEUED
        assert submission.job is not None and submission.job.pool == classroom.pool
        worker.run_until_idle()  # type: ignore[attr-defined]
    finally:
        result_recorded.disconnect(listener)
    submission.refresh_from_db()
    assert submission.state == SubmissionState.GRADED, (submission.reason, submission.detail)
    assert submission.score == submission.max_score and submission.metric > 0.95
    assert [s.pk for s in heard] == [submission.pk]
    job = Job.objects.get(pk=submission.job_id)
    assert job.state == JobState.SUCCEEDED and job.cpu_seconds > 0
    view = queries.submission_view(submission)
    hidden = [test for test in view["results"]["tests"] if test["hidden"]]
    assert hidden and all("output" not in test and "name" not in test for test in hidden)
    best = queries.best_results(classroom.learner)
    assert [(b.lab_slug, b.score, b.metric_name) for b in best] == [
        ("digits", submission.score, "accuracy")]
    assert {s["code"] for s in best[0].skills} >= {"scikit-learn", "python"}
    assert best[0].url == f"/labs/digits/submissions/{submission.pk}/"


UNSAFE = {
    "socket": ("import socket\ns = socket.create_connection(('1.1.1.1', 80), timeout=2)\n"
               "open('/work/answer.txt', 'w').write('42')\n", "exit_status"),
    "hidden": ("print(open('/hidden/secret.txt').read())\n"
               "open('/work/answer.txt', 'w').write('42')\n", "exit_status"),
    "sleep": ("import time\ntime.sleep(10_000)\n", "time_limit"),
    "print": ("import sys\nwhile True:\n    sys.stdout.write('x' * 65536)\n", "output_limit"),
    "memory": ("block = bytearray(50 * 1024 ** 3)\n", "memory_limit"),
    "disk": ("with open('/work/fill', 'wb') as f:\n    while True:\n"
             "        f.write(b'0' * (1 << 20))\n", "disk_limit"),
}


def test_unsafe_submissions_fail_clearly_and_harm_nothing(classroom: Classroom,
                                                         worker: object) -> None:
    probe = actions.do_upload_lab(actor=None, archive=io.BytesIO(probe_bundle_zip()),
                                  owner=classroom.university, cohort=classroom.cohort)
    classroom.pool.capacity = 3
    classroom.pool.save()
    submissions = {name: submit_files(classroom.learner, probe, {"solution.py": code.encode()})
                   for name, (code, _reason) in UNSAFE.items()}
    calm = submit_files(classroom.learner, probe,
                        {"solution.py": b"open('/work/answer.txt', 'w').write('42')\n"})
    worker.run_until_idle(timeout_s=180)  # type: ignore[attr-defined]
    for name, (_code, reason) in UNSAFE.items():
        submission = submissions[name]
        submission.refresh_from_db()
        assert submission.state == SubmissionState.FAILED, name
        assert submission.reason == reason, (name, submission.reason, submission.detail)
        assert submission.detail and submission.score is None
    # the hidden data was not there to read, and the socket found no network
    assert "secret.txt" in submissions["hidden"].run_stderr
    assert "the hidden answer" not in submissions["hidden"].run_stdout
    assert "OSError" in submissions["socket"].run_stderr or (
        "Network is unreachable" in submissions["socket"].run_stderr)
    # a calm submission beside them is graded as usual
    calm.refresh_from_db()
    assert calm.state == SubmissionState.GRADED and calm.score == 10
