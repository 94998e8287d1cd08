"""In a real browser (Debian's Chromium, driven by Playwright): a learner submits to a lab
and sees the result appear without reloading the page, while a compute worker runs in
the background on the live server's database; then the same on a phone-sized screen."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from typing import Any

import pytest

from oneteam.compute.worker import ComputeWorker
from tests.compute.conftest import sandbox_or_skip
from tests.factories import PASSWORD
from tests.labs.app.conftest import Classroom

pytestmark = [pytest.mark.browser, pytest.mark.slow, pytest.mark.django_db(transaction=True)]

ANSWER = "open('/work/answer.txt', 'w').write('42')\n"


@pytest.fixture
def background_worker() -> Iterator[None]:
    sandbox_or_skip()
    stop = threading.Event()
    worker = ComputeWorker(poll_interval_s=0.2)
    thread = threading.Thread(target=worker.run, args=(stop,), daemon=True)
    thread.start()
    yield
    stop.set()
    thread.join(timeout=30)


def test_a_learner_sees_the_result_appear_without_reloading(
        classroom: Classroom, background_worker: None, browser_page: Any,
        tmp_path: Any) -> None:
    import io

    from oneteam.labs.actions import do_upload_lab
    from tests.factories.probe_bundle import probe_bundle_zip

    lab = do_upload_lab(actor=None, archive=io.BytesIO(probe_bundle_zip()),
                        owner=classroom.university, cohort=classroom.cohort)
    page = browser_page
    page.set_viewport_size({"width": 375, "height": 800})
    page.goto("/accounts/sign-in/")
    page.fill("input[name=email]", classroom.learner.email)
    page.fill("input[name=password]", PASSWORD)
    page.locator("main form button[type=submit]").click()
    page.wait_for_url(lambda url: "/sign-in/" not in url)
    page.goto(f"/labs/{lab.slug}/")
    assert page.locator("h1").first.inner_text() == "탐침 실습"
    solution = tmp_path / "solution.py"
    solution.write_text(ANSWER)
    page.set_input_files("#submit-form input[type=file]", str(solution))
    page.click("#submit-form button[type=submit]")
    page.wait_for_url(f"**/labs/{lab.slug}/submissions/*/")
    # the page was loaded while the job waited or ran; the result arrives by polling
    marker = page.evaluate("() => { window.notReloaded = true; return true; }")
    assert marker
    page.locator("#status[data-state=graded]").wait_for(timeout=60_000)
    assert page.evaluate("() => window.notReloaded === true")
    assert page.locator("[data-testid=score]").inner_text() == "10"
    assert "An answer was written" in page.locator("#status").inner_text()
    assert "the secret check" not in page.content()           # a hidden test: score only
    assert page.evaluate("() => document.documentElement.scrollWidth <= 375 + 1")
