"""What consensus orders: a block value naming batches by digest, and how a
decided value becomes the list of transactions to execute.

A value for height ``h`` is the canonical encoding of :class:`BlockValue`. Its
``tx_root`` and ``tx_count`` describe the transaction list that
:func:`assemble` derives from the named batches: their transactions in batch
order, leaving out any transaction already committed or already listed
earlier in the value (a client may have sent one transaction to several
validators). Every honest validator derives the same list from the same
committed chain, so it checks a proposal by deriving it too.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import msgspec

from oneteam.ledger import merkle
from oneteam.ledger.batches import BatchStore
from oneteam.ledger.invariants import check
from oneteam.ledger.tx import Transaction

VALUE_BATCHES_MAX = 256
VALUE_TXS_MAX = 20_000


class BlockValue(msgspec.Struct, array_like=True, frozen=True, forbid_unknown_fields=True):
    chain_id: str
    height: int
    time_ms: int
    prev_hash: bytes
    batches: list[bytes]
    tx_root: bytes
    tx_count: int
    proposer: bytes


_encoder = msgspec.msgpack.Encoder()
_value_decoder = msgspec.msgpack.Decoder(BlockValue)


def encode_value(value: BlockValue) -> bytes:
    return _encoder.encode(value)


def decode_value(data: bytes) -> BlockValue:
    return _value_decoder.decode(data)


def assemble(digests: list[bytes], batches: BatchStore,
             is_committed: Callable[[bytes], bool]) -> list[Transaction] | None:
    """The transactions a value's batches stand for; None if a batch is missing here."""
    seen: set[bytes] = set()
    out: list[Transaction] = []
    for digest in digests:
        txs = batches.transactions(digest)
        if txs is None:
            return None
        for tx in txs:
            if tx.txid in seen or is_committed(tx.txid):
                continue
            seen.add(tx.txid)
            out.append(tx)
    return out


def build_value(*, chain_id: str, height: int, time_ms: int, prev_hash: bytes,
                proposer: bytes, batches: BatchStore,
                is_committed: Callable[[bytes], bool]) -> BlockValue:
    """The value a proposer offers: its pending batches, oldest first, within the limits."""
    digests = batches.pending(VALUE_TXS_MAX)[:VALUE_BATCHES_MAX]
    txs = assemble(digests, batches, is_committed)
    check(txs is not None, "pending() named a batch this store does not hold")
    assert txs is not None
    return BlockValue(chain_id, height, time_ms, prev_hash, digests,
                      merkle.merkle_root([tx.wire for tx in txs]), len(txs), proposer)


@dataclass(frozen=True, slots=True)
class Verdict:
    valid: bool
    reason: str = ""
    missing: tuple[bytes, ...] = ()


def check_value(data: bytes, *, chain_id: str, height: int, prev_hash: bytes,
                proposer: bytes, batches: BatchStore,
                is_committed: Callable[[bytes], bool]) -> Verdict:
    """Is ``data`` a valid value for ``height`` on top of ``prev_hash``?

    A value naming batches this validator lacks is neither valid nor invalid
    yet: the verdict lists them, so the caller fetches them and asks again.
    """
    try:
        value = decode_value(data)
    except (msgspec.DecodeError, UnicodeDecodeError) as error:
        return Verdict(False, f"malformed value: {error}")
    if encode_value(value) != data:
        return Verdict(False, "value is not in canonical encoding")
    if value.chain_id != chain_id or value.height != height:
        return Verdict(False, f"value is for {value.chain_id}/{value.height}")
    if value.prev_hash != prev_hash:
        return Verdict(False, "value does not extend this validator's last block")
    if value.proposer != proposer:
        return Verdict(False, "value names another proposer")
    if len(value.batches) > VALUE_BATCHES_MAX or len(set(value.batches)) != len(value.batches):
        return Verdict(False, "value names too many batches, or one twice")
    missing = tuple(batches.missing(value.batches))
    if missing:
        return Verdict(False, "batches missing", missing)
    txs = assemble(value.batches, batches, is_committed)
    assert txs is not None
    if len(txs) != value.tx_count or len(txs) > VALUE_TXS_MAX:
        return Verdict(False, f"value claims {value.tx_count} transactions, its batches hold "
                              f"{len(txs)}")
    if merkle.merkle_root([tx.wire for tx in txs]) != value.tx_root:
        return Verdict(False, "value's tx_root does not match its batches")
    return Verdict(True)
