"""In a real browser: the consortium's pages on a phone, and the ledger status that updates
itself (htmx) while a joining is pending."""

from __future__ import annotations

import datetime
from typing import Any

import pytest
from django.utils import timezone

from oneteam.consortium.models import LedgerSubmission
from oneteam.consortium.tasks import process_ledger_submissions
from tests.consortium.conftest import LedgerNode
from tests.factories import PASSWORD, make_admin, make_operator, make_organization

pytestmark = [pytest.mark.browser, pytest.mark.slow, pytest.mark.django_db(transaction=True)]


def sign_in(page: Any, email: str) -> None:
    page.goto("/accounts/sign-in/")
    page.get_by_label("이메일 주소").fill(email)
    page.get_by_label("비밀번호").fill(PASSWORD)
    page.locator("main").get_by_role("button", name="로그인").click()
    page.wait_for_url("**/dashboard/")


def test_an_operator_joins_an_organization_and_watches_it_register(
        browser_page: Any, ledger: LedgerNode, did_host: str) -> None:
    page = browser_page
    operator = make_operator(email="operator@example.org")
    make_organization(slug="kt", name_ko="KT", name_en="KT")
    sign_in(page, operator.email)
    page.goto("/consortium/orgs/kt/")
    page.get_by_role("button", name="원장 가입 시작").click()
    page.wait_for_url("**/consortium/orgs/kt/")
    assert page.locator("#ledger-status-kt .badge").first.inner_text() == "등록됨"
    assert page.get_by_text("검증됨").first.is_visible()

    # With the ledger down, the next joining waits, and its status box says so and polls.
    ledger.stop()
    make_organization(slug="kaist", name_ko="한국과학기술원", name_en="KAIST",
                      kind="university")
    page.goto("/consortium/orgs/kaist/")
    page.get_by_role("button", name="원장 가입 시작").click()
    page.wait_for_url("**/consortium/orgs/kaist/")
    box = page.locator("#ledger-status-kaist")
    assert "연결할 수 없습니다" in box.inner_text()
    assert box.get_attribute("hx-trigger") == "every 2s"
    # The ledger comes back; the next attempt goes through; the open page follows by itself.
    ledger.start()
    LedgerSubmission.objects.update(next_attempt=timezone.now() - datetime.timedelta(seconds=1))
    process_ledger_submissions.call()
    page.wait_for_function(
        "document.querySelector('#ledger-status-kaist .badge').innerText === '제안됨'",
        timeout=15_000)
    assert "1곳이 승인" in page.locator("#ledger-status-kaist").inner_text()


def test_the_consortium_pages_fit_a_phone(browser_page: Any, did_host: str) -> None:
    page = browser_page
    page.set_viewport_size({"width": 375, "height": 740})
    kt = make_organization(slug="kt", name_ko="KT", name_en="KT")
    make_organization(slug="korea-investment", name_ko="한국투자증권",
                      name_en="Korea Investment & Securities")
    admin = make_admin(kt, email="admin@example.org")
    make_operator(email="operator@example.org")
    pages = ["/consortium/", "/consortium/orgs/kt/", "/consortium/orgs/kt/members/",
             "/consortium/orgs/kt/keys/", "/consortium/orgs/kt/approvals/",
             "/consortium/orgs/kt/ledger/", "/dashboard/"]
    sign_in(page, admin.email)
    for path in pages:
        page.goto(path)
        overflow = page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
        assert overflow <= 0, f"{path} scrolls sideways by {overflow} px on a phone"
    page.get_by_role("button", name="로그아웃").click()
    sign_in(page, "operator@example.org")
    for path in ("/consortium/alliance/", "/consortium/alliance/new/", "/dashboard/"):
        page.goto(path)
        overflow = page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
        assert overflow <= 0, f"{path} scrolls sideways by {overflow} px on a phone"
