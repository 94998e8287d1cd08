"""The API root: every error is JSON {"message", "field"}; the docs are served locally."""

from __future__ import annotations

import pytest
from django.test import Client

from tests.conftest import ApiClient
from tests.factories import make_api_token, make_person

pytestmark = pytest.mark.django_db


def assert_json_error(response: object, status: int) -> dict[str, object]:
    assert response.status_code == status, response.content  # type: ignore[attr-defined]
    body = response.json()  # type: ignore[attr-defined]
    assert set(body) == {"message", "field"}
    assert body["message"]
    return body  # type: ignore[no-any-return]


def test_unknown_paths_and_methods_answer_json(client: Client) -> None:
    assert_json_error(client.get("/api/no/such/thing"), 404)
    response = client.put("/api/accounts/people")
    body = assert_json_error(response, 405)
    assert "POST" in str(body["message"])


def test_a_server_error_is_json_and_logged(api: ApiClient, monkeypatch: pytest.MonkeyPatch
                                           ) -> None:
    _, secret = make_api_token(make_person())

    def broken(viewer: object) -> None:
        raise RuntimeError("boom")

    monkeypatch.setattr("oneteam.accounts.queries.access_api_tokens_by_person", broken)
    body = assert_json_error(api.get("/api/accounts/tokens", token=secret), 500)
    assert "boom" not in str(body["message"])


def test_docs_are_served_from_the_package_with_no_cdn(client: Client) -> None:
    page = client.get("/api/docs").content.decode()
    assert "/static/ninja/swagger-ui-bundle.js" in page
    assert "cdn" not in page.lower()
    spec = client.get("/api/openapi.json").json()
    paths = set(spec["paths"])
    assert {"/api/accounts/people", "/api/accounts/tokens", "/api/accounts/me",
            "/api/consortium/organizations", "/api/status"} <= paths
    schemes = spec["components"]["securitySchemes"]
    assert {"TokenAuth", "SessionAuth"} <= set(schemes)


def test_status_reports_an_unreachable_ledger_without_failing(client: Client,
                                                               settings: object) -> None:
    settings.ONETEAM_LEDGER_URL = "http://127.0.0.1:9"  # type: ignore[attr-defined]
    from django.core.cache import cache

    cache.clear()
    response = client.get("/api/status")
    assert response.status_code == 200
    assert response.json()["ledger_ok"] is False


def test_health(client: Client) -> None:
    assert client.get("/healthz").json() == {"ok": True}


def test_api_messages_follow_the_language(api: ApiClient) -> None:
    korean = api.client.get("/api/accounts/me").json()["message"]
    english = api.client.get("/api/accounts/me", HTTP_ACCEPT_LANGUAGE="en").json()["message"]
    assert korean != english
    assert english.startswith("Sign in")
