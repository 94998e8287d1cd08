"""Fixtures for the platform's tests (the ledger's tests need none of these)."""

from __future__ import annotations

import json
import os
import shutil
from collections.abc import Iterator
from typing import Any

import pytest
from django.test import Client

from tests.factories import PASSWORD, make_person

CHROMIUM = "/usr/bin/chromium"


class ApiClient:
    """JSON requests to /api/, as a program would send them: a token, or no credentials.

    ``api.get("/api/accounts/me", token=secret)``; every method returns the response, whose
    ``.json()`` is the decoded body.
    """

    def __init__(self, client: Client) -> None:
        self.client = client

    def _headers(self, token: str | None) -> dict[str, str]:
        return {"HTTP_AUTHORIZATION": f"Bearer {token}"} if token else {}

    def get(self, path: str, *, token: str | None = None, **query: Any) -> Any:
        return self.client.get(path, query, **self._headers(token))

    def post(self, path: str, body: object = None, *, token: str | None = None,
             raw: str | None = None) -> Any:
        data = raw if raw is not None else json.dumps(body if body is not None else {})
        return self.client.post(path, data, content_type="application/json",
                                **self._headers(token))

    def patch(self, path: str, body: object, *, token: str | None = None) -> Any:
        return self.client.patch(path, json.dumps(body), content_type="application/json",
                                 **self._headers(token))

    def delete(self, path: str, *, token: str | None = None) -> Any:
        return self.client.delete(path, **self._headers(token))


@pytest.fixture
def api(client: Client) -> ApiClient:
    return ApiClient(client)


@pytest.fixture
def person(db: None) -> Any:
    return make_person(display_name="Kim Learner", email="kim@example.org")


@pytest.fixture
def signed_in(client: Client, person: Any) -> Client:
    """The test client, signed in as ``person`` (through the sign-in page)."""
    response = client.post("/accounts/sign-in/", {"email": person.email, "password": PASSWORD})
    assert response.status_code == 302, response.content
    return client


def chromium_or_skip() -> str:
    """The Chromium to drive; skip when absent, unless ONETEAM_REQUIRE_BROWSER=1 (then fail)."""
    if os.path.exists(CHROMIUM):
        return CHROMIUM
    found = shutil.which("chromium")
    if found:
        return found
    reason = ("Debian's chromium is not installed (apt-get install chromium); "
              "browser tests need it")
    if os.environ.get("ONETEAM_REQUIRE_BROWSER") == "1":
        pytest.fail(reason + " and ONETEAM_REQUIRE_BROWSER=1")
    pytest.skip(reason)


@pytest.fixture
def browser_page(live_server: Any, monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    """A Playwright page in Debian's Chromium (never a downloaded browser), on a phone-sized
    window if the test asks for one with ``browser_page.set_viewport_size``."""
    executable = chromium_or_skip()
    from playwright.sync_api import sync_playwright

    # Playwright's sync API runs an event loop in this thread; the test's own ORM calls
    # are synchronous all the same.
    monkeypatch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=executable, headless=True)
        try:
            context = browser.new_context(base_url=live_server.url, locale="ko-KR")
            page = context.new_page()
            page.set_default_timeout(15_000)
            yield page
            context.close()
        finally:
            browser.close()
