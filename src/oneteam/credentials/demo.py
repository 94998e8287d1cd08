"""The credentials' demo data, loaded once by ``oneteam up`` after the academy's.

KAIST awards "AI Developer" on completing its AI Developer program, "Python for AI" by
hand, and "Digits practitioner" on a score of 90 or more in its digits lab (the labs'
demo, loaded before); KT awards "Enterprise AI practitioner" by hand. The demo learner holds the two
awarded by hand, issued by the demo instructor (KAIST) and KT's administrator; they are
anchored once the founding members have joined the ledger.
"""

from __future__ import annotations

import logging

from oneteam.academy.models import Program
from oneteam.consortium import identity
from oneteam.consortium import queries as consortium_queries
from oneteam.credentials import actions
from oneteam.credentials.models import AchievementType, CriteriaKind
from oneteam.labs.models import Lab
from oneteam.platform.demo import DemoAlliance

logger = logging.getLogger(__name__)


def load_demo(alliance: DemoAlliance) -> None:
    kaist = alliance.organizations.get("kaist")
    kt = alliance.organizations.get("kt")
    learner = alliance.people.get("learner")
    instructor = alliance.people.get("instructor")
    kt_admin = alliance.people.get("admin")
    if kaist is None or kt is None or learner is None or instructor is None or \
            kt_admin is None:
        return
    try:
        consortium_queries.organization_did(kaist)
    except identity.DidUnavailable:
        logger.warning("no DID host: the demo issues no credentials")
        return
    program = Program.objects.filter(owner=kaist, slug="ai-developer").first()
    if program is not None:
        actions.do_define_achievement(
            actor=None, organization=kaist, name="AI Developer (KAIST)",
            description="Designs, trains, evaluates and deploys machine-learning systems.",
            criteria_narrative="Completed every course of KAIST's AI Developer program.",
            criteria_kind=CriteriaKind.PROGRAM, program=program,
            achievement_type=AchievementType.CERTIFICATE_OF_COMPLETION,
            skills=["Python", "Machine learning", "Deep learning", "MLOps"], is_demo=True)
    python = actions.do_define_achievement(
        actor=None, organization=kaist, name="Python for AI",
        description="Writes idiomatic Python with NumPy and pandas for data work.",
        criteria_narrative="Passed the Python for AI labs with at least 80 points each.",
        achievement_type=AchievementType.BADGE, skills=["Python", "NumPy", "pandas"],
        is_demo=True)
    if Lab.objects.filter(slug="digits").exists():
        actions.do_define_achievement(
            actor=None, organization=kaist, name="Digits practitioner",
            description="Trains an image classifier for handwritten digits that holds up on "
                        "unseen data.",
            criteria_narrative="Scored 90 or more in the digits lab, graded on hidden data.",
            criteria_kind=CriteriaKind.LAB_SCORE,
            lab_thresholds=[{"lab": "digits", "score_min": 90}],
            achievement_type=AchievementType.BADGE,
            skills=["Python", "Machine learning", "scikit-learn"], is_demo=True)
    practitioner = actions.do_define_achievement(
        actor=None, organization=kt, name="Enterprise AI practitioner (KT)",
        description="Applies AI and data analysis to business problems in a large company.",
        criteria_narrative="Completed KT's enterprise AI and data analysis course project.",
        achievement_type=AchievementType.CERTIFICATE, valid_days=730,
        skills=["Data analysis", "Generative AI", "Business analytics"], is_demo=True)
    actions.do_issue_credential(actor=instructor, achievement=python, recipient=learner)
    actions.do_issue_credential(actor=kt_admin, achievement=practitioner, recipient=learner)
