"""Errors of the talent modules, and the invariant check that stays on under ``python -O``.

`TalentInputError` names the input at fault (``field``), so the Django layer can turn it
into the platform's ``InputError(field, message)`` without parsing the message.
"""

from __future__ import annotations


class TalentInputError(ValueError):
    """Bad input: ``field`` names what is wrong (a dotted path such as ``skills[3].code``)."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(f"{field}: {message}")
        self.field = field
        self.message = message


class UnknownSkill(TalentInputError):
    """A skill named by id or alias that the taxonomy does not have."""


class InvariantViolation(AssertionError):
    """A condition the code guarantees did not hold: a bug, never bad input."""


def check(condition: bool, message: str) -> None:
    """Raise `InvariantViolation` unless ``condition``; unlike ``assert``, never compiled out."""
    if not condition:
        raise InvariantViolation(message)
