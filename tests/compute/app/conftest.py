"""Fixtures of the compute app's tests."""

from __future__ import annotations

from collections.abc import Iterator

import pytest


@pytest.fixture(autouse=True)
def english_messages() -> Iterator[None]:
    """Messages in English, so assertions read them."""
    from django.utils import translation

    with translation.override("en"):
        yield
