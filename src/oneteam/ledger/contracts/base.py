"""What a system contract operation is, and the context it executes in.

Every operation declares, from its arguments and the transaction's sender and
organization alone, the state keys it reads and writes. Execution uses those
declarations to schedule transactions that do not conflict side by side; a
checked context (on in tests) refuses any access outside them.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Generic, Protocol, TypeVar

import msgspec

from oneteam.ledger.errors import ContractError
from oneteam.ledger.invariants import check

if TYPE_CHECKING:
    from oneteam.ledger.tx import Transaction

ArgsT = TypeVar("ArgsT", bound=msgspec.Struct)

# A state value is an int, a str, a bytes or a msgspec Struct; None means absent.
Value = Any


class StateReader(Protocol):
    def get(self, key: str) -> Value: ...


@dataclass(frozen=True, slots=True)
class KeySet:
    reads: frozenset[str]
    writes: frozenset[str]

    @property
    def all(self) -> frozenset[str]:
        return self.reads | self.writes


class Context:
    """One transaction's view of state: reads fall through to ``base``, writes stay here.

    Writes become visible to later transactions only when the executor merges
    them after the transaction succeeds, so a failed transaction changes nothing.
    """

    __slots__ = ("base", "events", "height", "tx", "writes")

    def __init__(self, base: StateReader, height: int, tx: Transaction) -> None:
        self.base = base
        self.height = height
        self.tx = tx
        self.writes: dict[str, Value] = {}
        self.events: list[tuple[str, Any]] = []

    def get(self, key: str) -> Value:
        if key in self.writes:
            return self.writes[key]
        return self.base.get(key)

    def put(self, key: str, value: Value) -> None:
        self.writes[key] = value

    def delete(self, key: str) -> None:
        self.writes[key] = None

    def emit(self, name: str, data: Any) -> None:
        self.events.append((name, data))


class CheckedContext(Context):
    """A context that refuses any read or write outside the declared key set."""

    __slots__ = ("declared",)

    def __init__(self, base: StateReader, height: int, tx: Transaction, declared: KeySet
                 ) -> None:
        super().__init__(base, height, tx)
        self.declared = declared

    def get(self, key: str) -> Value:
        check(key in self.declared.reads or key in self.declared.writes,
              f"{self.tx.op} read undeclared key {key!r}")
        return Context.get(self, key)

    def put(self, key: str, value: Value) -> None:
        check(key in self.declared.writes, f"{self.tx.op} wrote undeclared key {key!r}")
        Context.put(self, key, value)

    def delete(self, key: str) -> None:
        check(key in self.declared.writes, f"{self.tx.op} deleted undeclared key {key!r}")
        Context.delete(self, key)


@dataclass(frozen=True, slots=True)
class Operation(Generic[ArgsT]):
    """One operation of a system contract."""

    name: str
    args_type: type[ArgsT]
    keys: Callable[[Transaction, ArgsT], KeySet]
    execute: Callable[[Context, ArgsT], None]
    doc: str = ""
    decoder: msgspec.msgpack.Decoder[ArgsT] = field(init=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "decoder", msgspec.msgpack.Decoder(self.args_type))


def fail(reason: str) -> ContractError:
    """The error a contract raises to refuse an operation (``raise fail(...)``)."""
    return ContractError(reason)


def registry(*operations: Operation[Any]) -> Mapping[str, Operation[Any]]:
    table: dict[str, Operation[Any]] = {}
    for op in operations:
        check(op.name not in table, f"operation {op.name} registered twice")
        table[op.name] = op
    return table
