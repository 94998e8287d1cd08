"""Fixtures of the talent app's tests: a DID host for issuing credentials, and a fresh
search index per test (the index is process-wide; each test's database is new)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from oneteam.talent import searching


@pytest.fixture(autouse=True)
def fresh_index(settings: Any) -> Iterator[None]:
    settings.ONETEAM_DID_HOST = "oneteam.example:8443"
    searching.forget()
    yield
    searching.forget()
