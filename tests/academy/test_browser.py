"""In a real browser (Debian's Chromium, driven by Playwright): a learner's first lesson,
and the instructor seeing it; in Korean and in English. And the demo learner's dashboard,
photographed for the README."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pytest

from oneteam.academy.models import EnrollmentMode, LessonProgress
from tests.factories import PASSWORD, make_organization
from tests.factories.academy import make_cohort, make_instructor, make_program

pytestmark = [pytest.mark.browser, pytest.mark.slow, pytest.mark.django_db(transaction=True)]

ROOT = Path(__file__).resolve().parents[2]
SCREENSHOT = ROOT / "docs" / "images" / "learner-dashboard.png"

TEXT = {
    "ko": {"sign_up": "가입하기", "email": "이메일 주소", "name": "다른 사람에게 보일 이름",
           "password": "비밀번호", "create": "계정 만들기", "language": "한국어",
           "academy": "아카데미", "join": "코호트 참여하기",
           "joined": "이 코호트에서 학습하고 있습니다.", "to_program": "프로그램으로 가기",
           "first_lesson": "첫 강의부터 시작하기", "complete": "완료로 표시",
           "completed": "완료", "sign_out": "로그아웃", "sign_in": "로그인",
           "taught": "가르치는 코호트", "progress": "진도", "table": "학습자 진도",
           "learner": "김민지"},
    "en": {"sign_up": "Sign up", "email": "E-mail address", "name": "Name shown to others",
           "password": "Password", "create": "Create my account", "language": "English",
           "academy": "Academy", "join": "Join the cohort",
           "joined": "You are a learner in this cohort.", "to_program": "Go to the program",
           "first_lesson": "Start with the first lesson", "complete": "Mark complete",
           "completed": "Completed", "sign_out": "Sign out", "sign_in": "Sign in",
           "taught": "Cohorts I teach", "progress": "Progress", "table": "Learners' progress",
           "learner": "Minji Kim"},
}


def sign_in(page: Any, email: str, password: str, text: dict[str, str]) -> None:
    page.goto("/accounts/sign-in/")
    page.get_by_label(text["email"]).fill(email)
    page.get_by_label(text["password"]).fill(password)
    page.locator("main").get_by_role("button", name=text["sign_in"]).click()
    page.wait_for_url("**/dashboard/")


@pytest.mark.parametrize("language", ["ko", "en"])
def test_sign_up_join_read_complete_and_the_instructor_sees_it(browser_page: Any,
                                                               language: str) -> None:
    text = TEXT[language]
    page = browser_page
    kaist = make_organization(slug="kaist", name_ko="한국과학기술원", name_en="KAIST")
    program = make_program(owner=kaist, slug="ai-basics")
    instructor = make_instructor(kaist, email="prof@example.org", language=language)
    cohort = make_cohort(program, mode=EnrollmentMode.OPEN, instructors=[instructor],
                         name="Spring cohort")

    page.goto("/accounts/sign-up/")
    page.get_by_role("button", name=text["language"]).click()  # the interface's language
    page.wait_for_selector(f"html[lang={language}]")
    page.get_by_label(text["email"]).fill("minji@example.org")
    page.get_by_label(text["name"]).fill(text["learner"])
    page.get_by_label(text["password"], exact=True).fill("Browser-pass-2026")
    page.locator("select[name=preferred_language]").select_option(language)
    page.get_by_role("button", name=text["create"]).click()
    page.wait_for_url("**/dashboard/")
    page.wait_for_selector(f"html[lang={language}]")

    page.get_by_role("link", name=text["academy"], exact=True).click()
    page.get_by_role("link", name=program.title_en if language == "en"
                     else program.title_ko).click()
    page.get_by_role("link", name="Spring cohort").click()
    page.get_by_role("button", name=text["join"]).click()  # htmx swaps the box
    page.get_by_text(text["joined"]).wait_for()
    assert cohort.enrollments.get().status == "active"

    page.get_by_role("link", name=text["to_program"]).click()
    page.get_by_role("link", name=text["first_lesson"]).click()
    page.wait_for_url("**/lessons/lesson-1-1-1/")
    assert page.locator("article.lesson-body pre.highlight span.nb").first.is_visible()
    page.get_by_role("button", name=text["complete"]).click()
    page.locator('#lesson-progress [data-state="completed"]').wait_for()
    progress = LessonProgress.objects.get()
    assert progress.completed is not None and progress.cohort == cohort

    page.get_by_role("button", name=text["sign_out"]).click()
    sign_in(page, instructor.email, PASSWORD, text)
    panel = page.locator("article.panel", has_text=text["taught"])
    assert panel.get_by_text("12%").first.is_visible()  # 1 of 8 lessons, on average
    panel.get_by_role("link", name=text["progress"], exact=True).click()
    page.get_by_role("heading", name=text["table"]).wait_for()
    row = page.locator("table.progress-table tbody tr", has_text=text["learner"])
    assert row.locator("td").last.inner_text() == "12%"


def test_the_academy_fits_a_phone(browser_page: Any) -> None:
    page = browser_page
    program = make_program(slug="phone")
    make_cohort(program)
    page.set_viewport_size({"width": 375, "height": 740})
    for path in ("/academy/", "/academy/programs/phone/",
                 "/academy/programs/phone/courses/course-1/",
                 "/academy/programs/phone/lessons/lesson-1-1-1/"):
        page.goto(path)
        overflow = page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
        assert overflow <= 0, f"{path} scrolls sideways by {overflow} px on a phone"


def test_the_demo_learners_dashboard(browser_page: Any, tmp_path: Path) -> None:
    """The README's picture: the demo learner's dashboard, with progress, in Korean.

    Saved under docs/images/ when ONETEAM_SAVE_SCREENSHOTS=1, else in a temporary folder.
    """
    from oneteam.platform import datadir, demo

    demo.load_demo()
    page = browser_page
    page.set_viewport_size({"width": 1100, "height": 680})
    sign_in(page, "learner@demo.oneteam.example", datadir.demo_password(), TEXT["ko"])
    page.get_by_role("heading", name="내 프로그램").wait_for()
    links = page.locator("[data-next-lesson]")
    assert links.count() == 2
    assert page.get_by_text("AI 개발자 트랙").first.is_visible()
    target = SCREENSHOT if os.environ.get("ONETEAM_SAVE_SCREENSHOTS") == "1" else (
        tmp_path / "learner-dashboard.png")
    target.parent.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(target), full_page=True)
    assert target.stat().st_size > 10_000
    links.first.click()
    page.wait_for_url("**/academy/programs/*/lessons/*/")
    assert page.locator("article.lesson-body").is_visible()
