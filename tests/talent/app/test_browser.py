"""In a real browser (Debian's Chromium, driven by Playwright): a learner shares their
profile and applies; the recruiter finds them among the best candidates, opens the
profile and shortlists them with htmx; the learner sees who looked. On a phone-sized
window, no talent page scrolls sideways."""

from __future__ import annotations

from typing import Any

import pytest

from oneteam.talent.models import Application, ProfileView
from tests.factories import PASSWORD, make_person
from tests.factories.talent import issue_credential, make_company, make_posting, make_recruiter

pytestmark = [pytest.mark.browser, pytest.mark.slow, pytest.mark.django_db(transaction=True)]


def sign_in(page: Any, email: str) -> None:
    page.goto("/accounts/sign-in/")
    page.get_by_label("이메일 주소").fill(email)
    page.get_by_label("비밀번호").fill(PASSWORD)
    page.locator("main").get_by_role("button", name="로그인").click()
    page.wait_for_url("**/dashboard/")


def sign_out(page: Any) -> None:
    page.get_by_role("button", name="로그아웃").click()


def test_consent_apply_and_shortlist(browser_page: Any, settings: Any) -> None:
    settings.ONETEAM_DID_HOST = "oneteam.example:8443"
    page = browser_page
    page.set_viewport_size({"width": 375, "height": 800})
    company = make_company(slug="lg-electronics", name_ko="LG전자", name_en="LG Electronics")
    recruiter = make_recruiter(company, email="recruiter@example.org",
                               display_name="채용담당 최민준")
    posting = make_posting(company, title="Computer vision engineer")
    learner = make_person(email="jiwoo@example.org", display_name="정지우")
    issue_credential(learner, skills=["PyTorch", "딥러닝"])

    # the learner chooses who sees the profile, then applies
    sign_in(page, learner.email)
    page.goto("/talent/profile/")
    page.get_by_label("내가 고른 회원 기업의 채용 담당자").check()
    page.get_by_label("LG전자").check()
    page.locator("[data-save-visibility]").click()
    page.wait_for_selector('[data-audience="chosen"]')
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
    page.goto(f"/talent/postings/{posting.pk}/")
    page.locator("[data-apply]").click()
    page.wait_for_selector('[data-application-status="applied"]')
    sign_out(page)

    # the recruiter finds the learner, reads why, opens the profile, shortlists
    sign_in(page, recruiter.email)
    page.goto(f"/talent/postings/{posting.pk}/candidates/")
    candidate = page.locator("[data-candidate]").first
    assert "정지우" in candidate.inner_text()
    candidate.locator("summary").click()
    assert candidate.locator('[data-skill="pytorch"] [data-evidence]').is_visible()
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
    page.goto(f"/talent/postings/{posting.pk}/applications/")
    page.locator('[data-move="shortlist"]').click()
    page.wait_for_selector('[data-status="shortlisted"]')
    assert Application.objects.get(posting=posting).status == "shortlisted"
    sign_out(page)

    # the learner sees the look in the log, and the new status
    sign_in(page, learner.email)
    page.goto("/talent/profile/views/")
    rows = page.locator("[data-view]")
    assert rows.count() == ProfileView.objects.filter(profile__person=learner).count() >= 1
    assert "LG전자" in rows.first.inner_text()
    page.goto("/talent/applications/")
    assert page.locator('[data-status="shortlisted"]').is_visible()
