"""Batches carry transaction data apart from ordering; values name them by digest."""

from __future__ import annotations

import msgspec
import pytest

from oneteam.ledger import merkle
from oneteam.ledger.batches import (
    BatchRejected,
    BatchStore,
    SignedBatch,
    make_batch,
    open_batch,
)
from oneteam.ledger.contracts.credits import Transfer
from oneteam.ledger.keys import KeyPair
from oneteam.ledger.ordering import (
    BlockValue,
    build_value,
    check_value,
    decode_value,
    encode_value,
)
from oneteam.ledger.tx import decode_and_verify, encode_tx

CHAIN = "oneteam-test"
AUTHOR = KeyPair.from_seed(bytes(range(32)))
OTHER = KeyPair.from_seed(bytes(range(1, 33)))
SENDER = KeyPair.from_seed(bytes(32))
PREV = bytes(32)


def transfers(first_nonce: int, count: int) -> list[bytes]:
    return [encode_tx(SENDER, chain_id=CHAIN, org="alpha", nonce=n, op="credits.transfer",
                      args=Transfer(to="beta", amount=1))
            for n in range(first_nonce, first_nonce + count)]


def stored_batch(store: BatchStore, seq: int, wires: list[bytes]) -> bytes:
    digest, wire = make_batch(AUTHOR, CHAIN, seq, wires)
    opened_digest, body = open_batch(wire, CHAIN, frozenset({AUTHOR.public_key}))
    assert opened_digest == digest
    store.add(digest, wire, [decode_and_verify(w, CHAIN) for w in body.txs])
    return digest


def test_a_batch_opens_only_for_its_chain_author_and_signature() -> None:
    digest, wire = make_batch(AUTHOR, CHAIN, 7, transfers(0, 3))
    authors = frozenset({AUTHOR.public_key})
    assert open_batch(wire, CHAIN, authors)[0] == digest
    with pytest.raises(BatchRejected, match="chain"):
        open_batch(wire, "other-chain", authors)
    with pytest.raises(BatchRejected, match="not a validator"):
        open_batch(wire, CHAIN, frozenset({OTHER.public_key}))
    signed = msgspec.msgpack.decode(wire, type=SignedBatch)
    forged = msgspec.msgpack.encode(SignedBatch(signed.body, bytes(64)))
    with pytest.raises(BatchRejected, match="signature"):
        open_batch(forged, CHAIN, authors)
    with pytest.raises(BatchRejected, match="malformed"):
        open_batch(b"\x93garbage", CHAIN, authors)


def test_a_value_lists_each_transaction_once_and_skips_committed_ones() -> None:
    store = BatchStore()
    wires = transfers(0, 4)
    first = stored_batch(store, 0, wires[:3])
    second = stored_batch(store, 1, wires[1:])  # overlaps: the same tx sent twice
    committed = {decode_and_verify(wires[0], CHAIN).txid}
    value = build_value(chain_id=CHAIN, height=5, time_ms=1, prev_hash=PREV,
                        proposer=AUTHOR.public_key, batches=store,
                        is_committed=committed.__contains__)
    assert value.batches == [first, second]
    assert value.tx_count == 3
    assert value.tx_root == merkle.merkle_root(wires[1:])
    verdict = check_value(encode_value(value), chain_id=CHAIN, height=5, prev_hash=PREV,
                          proposer=AUTHOR.public_key, batches=store,
                          is_committed=committed.__contains__)
    assert verdict.valid, verdict.reason


def test_a_value_with_unknown_batches_names_them_and_is_not_yet_valid() -> None:
    holder, lacking = BatchStore(), BatchStore()
    digest = stored_batch(holder, 0, transfers(0, 2))
    value = build_value(chain_id=CHAIN, height=1, time_ms=1, prev_hash=PREV,
                        proposer=AUTHOR.public_key, batches=holder, is_committed=lambda _: False)
    verdict = check_value(encode_value(value), chain_id=CHAIN, height=1, prev_hash=PREV,
                          proposer=AUTHOR.public_key, batches=lacking,
                          is_committed=lambda _: False)
    assert not verdict.valid and verdict.missing == (digest,)


@pytest.mark.parametrize("change", ["tx_root", "tx_count", "prev_hash", "height", "proposer",
                                    "repeat"])
def test_a_value_that_misstates_its_batches_is_invalid(change: str) -> None:
    store = BatchStore()
    stored_batch(store, 0, transfers(0, 2))
    good = build_value(chain_id=CHAIN, height=3, time_ms=1, prev_hash=PREV,
                       proposer=AUTHOR.public_key, batches=store, is_committed=lambda _: False)
    bad = {
        "tx_root": msgspec.structs.replace(good, tx_root=bytes(32)),
        "tx_count": msgspec.structs.replace(good, tx_count=good.tx_count + 1),
        "prev_hash": msgspec.structs.replace(good, prev_hash=b"\x01" * 32),
        "height": msgspec.structs.replace(good, height=4),
        "proposer": msgspec.structs.replace(good, proposer=OTHER.public_key),
        "repeat": msgspec.structs.replace(good, batches=good.batches * 2),
    }[change]
    verdict = check_value(encode_value(bad), chain_id=CHAIN, height=3, prev_hash=PREV,
                          proposer=AUTHOR.public_key, batches=store,
                          is_committed=lambda _: False)
    assert not verdict.valid and verdict.reason


def test_values_round_trip_and_garbage_is_refused() -> None:
    value = BlockValue(CHAIN, 1, 2, PREV, [b"\x02" * 32], PREV, 0, AUTHOR.public_key)
    assert decode_value(encode_value(value)) == value
    verdict = check_value(b"\xc1", chain_id=CHAIN, height=1, prev_hash=PREV,
                          proposer=AUTHOR.public_key, batches=BatchStore(),
                          is_committed=lambda _: False)
    assert not verdict.valid and "malformed" in verdict.reason


def test_the_batch_store_is_bounded_and_forgets_committed_batches() -> None:
    store = BatchStore(capacity=2)
    a = stored_batch(store, 0, transfers(0, 1))
    b = stored_batch(store, 1, transfers(1, 1))
    store.committed([a])
    assert store.pending(100) == [b]
    c = stored_batch(store, 2, transfers(2, 1))
    assert len(store) == 2 and a not in store and store.pending(100) == [b, c]
