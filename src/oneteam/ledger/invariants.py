"""Invariant checks that stay on in production (``assert`` vanishes under ``python -O``)."""

from __future__ import annotations


class InvariantViolation(RuntimeError):
    """A condition the design guarantees did not hold: a bug, never bad input."""


def check(condition: object, message: str) -> None:
    """Raise :class:`InvariantViolation` with ``message`` unless ``condition`` holds."""
    if not condition:
        raise InvariantViolation(message)
