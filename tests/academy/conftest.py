"""Fixtures of the academy's tests."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from django.core.cache import cache


@pytest.fixture(autouse=True)
def fresh_cache() -> Iterator[None]:
    """Rendered lessons are cached by content digest; tests with equal lessons must not
    see each other's HTML (the database under it is rolled back, the cache is not)."""
    cache.clear()
    yield
    cache.clear()
