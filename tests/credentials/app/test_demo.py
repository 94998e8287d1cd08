"""The credentials' demo: KAIST's and KT's achievements, one awarded on the digits lab's
score, and the demo learner's two credentials issued by hand."""

from __future__ import annotations

import pytest

from oneteam.credentials.models import Achievement, CriteriaKind, IssuedCredential
from oneteam.platform import demo

pytestmark = pytest.mark.django_db


def test_the_demo_defines_and_issues(did_host: str) -> None:
    ran = demo.load_demo()
    # The labs' loader runs first: the lab-score achievement names a demo lab.
    assert ran.index("oneteam.labs.demo.load_demo") < ran.index(
        "oneteam.credentials.demo.load_demo")
    on_lab = Achievement.objects.get(name="Digits practitioner")
    assert on_lab.criteria_kind == CriteriaKind.LAB_SCORE
    assert on_lab.lab_thresholds == [{"lab": "digits", "score_min": 90}]
    assert on_lab.organization.slug == "kaist" and on_lab.is_demo
    learner = demo.demo_alliance().people["learner"]
    held = IssuedCredential.objects.filter(recipient=learner).select_related("achievement")
    assert sorted(c.achievement.name for c in held) == [
        "Enterprise AI practitioner (KT)", "Python for AI"]
