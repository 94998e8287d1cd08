"""Executing a block's transactions: receipts, a write set, and the new state root.

Every transaction first passes the ledger's own checks (its key belongs to the
organization it names, its nonce is the next one); then its operation runs in
a :class:`Context`. The result is defined as the sequential execution of the
block in order. With more than one worker, transactions are grouped into
waves: a transaction joins the wave after the last earlier transaction it
conflicts with (by declared keys), and a wave's members run side by side. No
wave member reads what another writes, so the outcome is the sequential one,
whatever the number of workers.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

import msgspec

from oneteam.ledger.contracts import OPERATIONS
from oneteam.ledger.contracts.base import CheckedContext, Context, KeySet, StateReader
from oneteam.ledger.contracts.schema import nonce_key, org_key
from oneteam.ledger.errors import ContractError
from oneteam.ledger.invariants import check
from oneteam.ledger.tx import Transaction

OK = "ok"
FAILED = "failed"
UNAUTHORIZED = "unauthorized"
BAD_NONCE = "bad_nonce"
EXPIRED = "expired"

_MISSING = object()
_encoder = msgspec.msgpack.Encoder()


class Receipt(msgspec.Struct, array_like=True, frozen=True):
    """What became of one transaction: ``code`` is ``ok`` or why it failed."""

    code: str
    reason: str = ""
    events: list[tuple[str, Any]] = []


@dataclass(slots=True)
class BlockResult:
    receipts: list[Receipt]
    writes: dict[str, Any]


class Overlay:
    """Reads see ``writes`` first (None there means deleted), then ``base``."""

    __slots__ = ("base", "writes")

    def __init__(self, base: StateReader, writes: dict[str, Any]) -> None:
        self.base = base
        self.writes = writes

    def get(self, key: str) -> Any:
        value = self.writes.get(key, _MISSING)
        if value is _MISSING:
            return self.base.get(key)
        return value


def declared_keys(tx: Transaction) -> KeySet:
    """The keys ``tx`` may read and write: its operation's, plus sender checks and nonce."""
    spec = OPERATIONS[tx.op]
    keys = spec.keys(tx, tx.args)
    return KeySet(
        keys.reads | {org_key(tx.org)},
        keys.writes | {nonce_key(tx.sender)},
    )


def execute_transaction(
    state: StateReader, height: int, tx: Transaction, *, checked: bool = False
) -> tuple[Receipt, dict[str, Any]]:
    """Run one transaction against ``state``; return its receipt and its writes."""
    org = state.get(org_key(tx.org))
    if org is None or tx.sender not in org.keys:
        return Receipt(UNAUTHORIZED, f"key {tx.sender.hex()} is not an active key of {tx.org}"), {}
    nonce_state_key = nonce_key(tx.sender)
    expected: int = state.get(nonce_state_key) or 0
    if tx.nonce != expected:
        return Receipt(BAD_NONCE, f"nonce {tx.nonce}, expected {expected}"), {}
    # From here on the nonce is consumed, even if the operation fails, so a
    # signed transaction can never be replayed later when it might succeed.
    if tx.expiry_height < height:
        return (
            Receipt(EXPIRED, f"expired at height {tx.expiry_height}, included at {height}"),
            {nonce_state_key: expected + 1},
        )
    spec = OPERATIONS[tx.op]
    ctx: Context
    if checked:
        ctx = CheckedContext(state, height, tx, declared=declared_keys(tx))
    else:
        ctx = Context(state, height, tx)
    try:
        spec.execute(ctx, tx.args)
    except ContractError as error:
        return Receipt(FAILED, error.reason), {nonce_state_key: expected + 1}
    writes = ctx.writes
    writes[nonce_state_key] = expected + 1
    return Receipt(OK, "", ctx.events), writes


def schedule_waves(txs: Sequence[Transaction]) -> list[list[int]]:
    """Group transaction indexes into waves of mutually conflict-free transactions.

    A transaction goes one wave after the latest earlier transaction that
    writes a key it touches, or reads a key it writes. Deterministic: depends
    only on the order and the declared keys.
    """
    last_write: dict[str, int] = {}
    last_read: dict[str, int] = {}
    waves: list[list[int]] = []
    for index, tx in enumerate(txs):
        keys = declared_keys(tx)
        wave = 0
        for key in keys.reads:
            wave = max(wave, last_write.get(key, -1) + 1)
        for key in keys.writes:
            wave = max(wave, last_write.get(key, -1) + 1, last_read.get(key, -1) + 1)
        for key in keys.reads:
            last_read[key] = max(last_read.get(key, -1), wave)
        for key in keys.writes:
            last_write[key] = wave
        if wave == len(waves):
            waves.append([])
        waves[wave].append(index)
    return waves


def execute_block(
    state: StateReader,
    height: int,
    txs: Sequence[Transaction],
    *,
    pool: ThreadPoolExecutor | None = None,
    workers: int = 1,
    checked: bool = False,
) -> BlockResult:
    """Execute ``txs`` in order on top of ``state``; the result is independent of ``workers``."""
    writes: dict[str, Any] = {}
    overlay = Overlay(state, writes)
    receipts: list[Receipt | None] = [None] * len(txs)
    if workers <= 1 or pool is None or len(txs) < 2:
        for index, tx in enumerate(txs):
            receipt, tx_writes = execute_transaction(overlay, height, tx, checked=checked)
            receipts[index] = receipt
            writes.update(tx_writes)
    else:
        for wave in schedule_waves(txs):
            def run(index: int) -> tuple[Receipt, dict[str, Any]]:
                return execute_transaction(overlay, height, txs[index], checked=checked)

            chunk = max(1, len(wave) // workers)
            results = list(pool.map(run, wave, chunksize=chunk)) if len(wave) > 1 else [
                run(wave[0])
            ]
            for index, (receipt, tx_writes) in zip(wave, results, strict=True):
                receipts[index] = receipt
                writes.update(tx_writes)
    final = [receipt for receipt in receipts if receipt is not None]
    check(len(final) == len(txs), "a transaction was left without a receipt")
    return BlockResult(final, writes)


def encode_write_set(writes: dict[str, Any]) -> list[tuple[bytes, bytes | None]]:
    """The write set in canonical order: keys sorted bytewise, values encoded, None deletes."""
    encode = _encoder.encode
    return [
        (key.encode(), None if value is None else encode(value))
        for key, value in sorted(writes.items())
    ]


STATE_DOMAIN = b"oneteam/state/v1\x00"


def next_state_root(previous: bytes, encoded_writes: list[tuple[bytes, bytes | None]]) -> bytes:
    """Chain the state root over one block's write set (see PROTOCOL.md, state root)."""
    digest = hashlib.sha256(_encoder.encode(encoded_writes)).digest()
    return hashlib.sha256(STATE_DOMAIN + previous + digest).digest()


def receipt_bytes(receipt: Receipt) -> bytes:
    return _encoder.encode(receipt)


def receipt_leaf_hashes(receipts: Sequence[Receipt]) -> list[bytes]:
    """Merkle leaf hashes of ``receipts``; identical event-less receipts are hashed once."""
    from oneteam.ledger.merkle import leaf_hash

    memo: dict[tuple[str, str], bytes] = {}
    out: list[bytes] = []
    for receipt in receipts:
        if receipt.events:
            out.append(leaf_hash(receipt_bytes(receipt)))
            continue
        key = (receipt.code, receipt.reason)
        digest = memo.get(key)
        if digest is None:
            digest = memo[key] = leaf_hash(receipt_bytes(receipt))
        out.append(digest)
    return out
