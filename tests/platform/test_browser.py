"""In a real browser (Debian's Chromium, driven by Playwright): the first steps of a learner."""

from __future__ import annotations

from typing import Any

import pytest

pytestmark = [pytest.mark.browser, pytest.mark.slow, pytest.mark.django_db(transaction=True)]

PASSWORD = "Browser-pass-2026"


def test_sign_up_sign_in_switch_language_and_see_the_learner_dashboard(
        browser_page: Any) -> None:
    page = browser_page
    page.goto("/")
    assert page.locator("html").get_attribute("lang") == "ko"
    page.get_by_role("link", name="가입하기").first.click()
    page.get_by_label("이메일 주소").fill("minji@example.org")
    page.get_by_label("다른 사람에게 보일 이름").fill("김민지")
    page.get_by_label("비밀번호").fill("short")
    page.get_by_role("button", name="계정 만들기").click()
    # The form says which field is wrong, and keeps what was typed.
    assert page.locator(".field.has-error input[name=password]").count() == 1
    assert page.get_by_label("이메일 주소").input_value() == "minji@example.org"
    page.get_by_label("비밀번호").fill(PASSWORD)
    page.get_by_role("button", name="계정 만들기").click()
    page.wait_for_url("**/dashboard/")
    page.get_by_role("button", name="로그아웃").click()
    page.wait_for_url(lambda url: not url.endswith("/dashboard/"))

    page.get_by_role("link", name="로그인").first.click()
    page.get_by_label("이메일 주소").fill("minji@example.org")
    page.get_by_label("비밀번호").fill(PASSWORD)
    page.locator("main").get_by_role("button", name="로그인").click()
    page.wait_for_url("**/dashboard/")
    assert page.get_by_role("heading", name="내 학습").is_visible()

    page.get_by_role("button", name="English").click()
    page.wait_for_selector("html[lang=en]")
    assert page.get_by_role("heading", name="My learning").is_visible()
    assert page.get_by_role("heading", name="Hello, 김민지").is_visible()

    page.get_by_role("button", name="한국어").click()
    page.wait_for_selector("html[lang=ko]")
    assert page.get_by_role("heading", name="내 학습").is_visible()
    assert page.get_by_text("아직 등록한 과정이 없습니다").is_visible()


def test_the_layout_fits_a_phone(browser_page: Any) -> None:
    page = browser_page
    page.set_viewport_size({"width": 375, "height": 740})
    for path in ("/", "/accounts/sign-up/", "/accounts/sign-in/"):
        page.goto(path)
        overflow = page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
        assert overflow <= 0, f"{path} scrolls sideways by {overflow} px on a phone"
        assert page.get_by_role("button", name="English").is_visible()
