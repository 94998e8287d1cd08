"""Achievements awarded on lab scores: a graded submission through the real sandbox and
compute worker, the labs' result_recorded signal, then issuance (no edit to the labs)."""

from __future__ import annotations

from typing import Any

import pytest

from oneteam.credentials.actions import do_define_achievement
from oneteam.credentials.models import IssuedCredential
from oneteam.platform.errors import InputError
from tests.factories.labs import reference_file, submit_files
from tests.labs.app.conftest import Classroom, classroom, worker  # noqa: F401 - fixtures

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.slow]


def define(classroom: Classroom, name: str, thresholds: list[dict[str, Any]]) -> Any:  # noqa: F811
    return do_define_achievement(
        actor=classroom.instructor, organization=classroom.university, name=name,
        description="Handwritten digits recognized on the hidden test set.",
        criteria_narrative="The digits lab passed with the score stated.",
        criteria_kind="lab_score", lab_thresholds=thresholds)


def test_a_score_over_the_threshold_issues_the_credential(classroom: Classroom,  # noqa: F811
                                                          worker: Any,  # noqa: F811
                                                          settings: Any) -> None:
    settings.ONETEAM_DID_HOST = "oneteam.example:8443"
    reached = define(classroom, "Digits practitioner", [{"lab": "digits", "score_min": 1}])
    out_of_reach = define(classroom, "Digits grandmaster",
                          [{"lab": "digits", "score_min": 10**6}])
    submission = submit_files(classroom.learner, classroom.lab,
                              {"solution.py": reference_file("digits")})
    assert not IssuedCredential.objects.filter(recipient=classroom.learner).exists()
    worker.run_until_idle()
    submission.refresh_from_db()
    assert submission.state == "graded", (submission.reason, submission.detail)
    held = list(IssuedCredential.objects.filter(recipient=classroom.learner))
    assert [credential.achievement_id for credential in held] == [reached.pk]
    assert held[0].issued_by is None  # the system, on the lab's result
    assert out_of_reach.pk not in {credential.achievement_id for credential in held}
    # Grading again issues nothing twice.
    submit_files(classroom.learner, classroom.lab, {"solution.py": reference_file("digits")})
    worker.run_until_idle()
    assert IssuedCredential.objects.filter(recipient=classroom.learner).count() == 1


@pytest.mark.parametrize(("thresholds", "field"), [
    ([], "lab_thresholds"),
    ([{"lab": "no-such-lab", "score_min": 50}], "lab_thresholds[0].lab"),
    ([{"lab": "digits", "score_min": -1}], "lab_thresholds[0].score_min"),
    ([{"lab": "digits", "score_min": "high"}], "lab_thresholds[0].score_min"),
    ([{"lab": "digits", "score_min": 50}, {"lab": "digits", "score_min": 60}],
     "lab_thresholds[1].lab"),
    ([{"lab": "digits", "score_min": 50, "extra": 1}], "lab_thresholds[0]"),
])
def test_thresholds_name_what_is_wrong(classroom: Classroom, thresholds: list[Any],  # noqa: F811
                                       field: str) -> None:
    with pytest.raises(InputError) as raised:
        define(classroom, "Bad", thresholds)
    assert raised.value.field == field
