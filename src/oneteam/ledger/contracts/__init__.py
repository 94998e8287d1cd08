"""The system contracts, in Python, with no VM: membership, credits, anchors."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from oneteam.ledger.contracts import anchors, credits, membership
from oneteam.ledger.contracts.base import Operation, registry

OPERATIONS: Mapping[str, Operation[Any]] = registry(
    *membership.OPERATIONS, *credits.OPERATIONS, *anchors.OPERATIONS
)


def operation(name: str) -> Operation[Any]:
    try:
        return OPERATIONS[name]
    except KeyError:
        raise KeyError(f"unknown operation {name!r}") from None


__all__ = ["OPERATIONS", "Operation", "operation"]
