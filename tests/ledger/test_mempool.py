"""The mempool: deduplication, per-sender nonce order, a hard capacity, stale-entry eviction."""

from __future__ import annotations

import pytest

from oneteam.ledger.client import Account
from oneteam.ledger.contracts.anchors import SetStatusList
from oneteam.ledger.errors import Duplicate, MempoolFull, NonceRejected
from oneteam.ledger.invariants import InvariantViolation
from oneteam.ledger.mempool import Mempool
from oneteam.ledger.tx import Transaction, decode_and_verify

from .conftest import Chain


class Nonces:
    """Committed nonces by sender key, standing in for the node's state."""

    def __init__(self) -> None:
        self.by_sender: dict[bytes, int] = {}
        self.calls = 0

    def __call__(self, sender: bytes) -> int:
        self.calls += 1
        return self.by_sender.get(sender, 0)


def tx(account: Account, nonce: int, digest: int = 0) -> Transaction:
    """A transaction of ``account`` with ``nonce``; ``digest`` varies its content (and id)."""
    account.nonce = nonce
    wire = account.sign("anchors.set_status_list",
                        SetStatusList(list_id="l", digest=bytes([digest]) * 32))
    return decode_and_verify(wire, account.chain_id)


@pytest.fixture
def nonces() -> Nonces:
    return Nonces()


@pytest.fixture
def alpha(chain: Chain) -> Account:
    return chain.account("alpha")


@pytest.fixture
def beta(chain: Chain) -> Account:
    return chain.account("beta")


def test_duplicate_is_refused(nonces: Nonces, alpha: Account) -> None:
    """The same transaction (ready or held) is admitted once."""
    pool = Mempool(10, nonces)
    ready, held = tx(alpha, 0), tx(alpha, 2)
    pool.add(ready)
    pool.add(held)
    for again in (ready, held):
        with pytest.raises(Duplicate, match="already pending") as info:
            pool.add(again)
        assert info.value.code == "duplicate"
    assert len(pool) == 2
    assert pool.statistics() == {"pending": 2, "ready": 1, "held": 1, "inflight": 0,
                                 "capacity": 10}


def test_nonce_below_committed_is_already_used(nonces: Nonces, alpha: Account) -> None:
    """A nonce below the sender's committed next nonce is refused as already used."""
    nonces.by_sender[alpha.keypair.public_key] = 5
    pool = Mempool(10, nonces)
    with pytest.raises(NonceRejected, match="nonce 4 is already used or pending; the sender's "
                                            "next is 5") as info:
        pool.add(tx(alpha, 4))
    assert info.value.code == "bad_nonce"
    assert len(pool) == 0
    pool.add(tx(alpha, 5))
    assert pool.ready_count == 1


def test_second_transaction_with_a_pending_nonce_is_refused(nonces: Nonces, alpha: Account
                                                            ) -> None:
    """Another transaction reusing a pending nonce (ready or held) is refused; the first stays."""
    pool = Mempool(10, nonces)
    first = tx(alpha, 0, digest=1)
    pool.add(first)
    with pytest.raises(NonceRejected, match="already used or pending"):
        pool.add(tx(alpha, 0, digest=2))
    pool.add(tx(alpha, 3, digest=1))
    with pytest.raises(Duplicate, match="another transaction with nonce 3 is pending"):
        pool.add(tx(alpha, 3, digest=2))
    assert len(pool) == 2
    assert pool.take(10) == [first]


def test_nonce_window_bounds_held_transactions(nonces: Nonces, alpha: Account) -> None:
    """A nonce up to ``nonce_window`` ahead is held; one further ahead is refused."""
    pool = Mempool(10, nonces, nonce_window=4)
    pool.add(tx(alpha, 4))
    with pytest.raises(NonceRejected, match="nonce 5 is more than 4 ahead of the sender's next "
                                            "nonce 0"):
        pool.add(tx(alpha, 5))
    assert len(pool) == 1
    assert pool.ready_count == 0
    assert pool.take(10) == []


def test_held_transactions_become_ready_in_nonce_order(
    nonces: Nonces, alpha: Account, beta: Account
) -> None:
    """Held future nonces are released, in nonce order, right after the gap-filling one."""
    pool = Mempool(10, nonces)
    a3, a1, a2 = tx(alpha, 3), tx(alpha, 1), tx(alpha, 2)
    for held in (a3, a1, a2):
        pool.add(held)
    assert (pool.ready_count, len(pool)) == (0, 3)
    b0 = tx(beta, 0)
    pool.add(b0)
    a0 = tx(alpha, 0)
    pool.add(a0)
    assert pool.statistics()["held"] == 0
    b1 = tx(beta, 1)
    pool.add(b1)
    taken = pool.take(100)
    assert [(t.org, t.nonce) for t in taken] == [
        ("beta", 0), ("alpha", 0), ("alpha", 1), ("alpha", 2), ("alpha", 3), ("beta", 1)]
    assert taken == [b0, a0, a1, a2, a3, b1]


def test_partial_gap_fill_releases_only_the_contiguous_run(nonces: Nonces, alpha: Account
                                                           ) -> None:
    """Filling nonce 0 releases 1 but not 3 while 2 is missing."""
    pool = Mempool(10, nonces)
    pool.add(tx(alpha, 1))
    pool.add(tx(alpha, 3))
    pool.add(tx(alpha, 0))
    assert [t.nonce for t in pool.take(10)] == [0, 1]
    assert pool.statistics()["held"] == 1
    pool.add(tx(alpha, 2))
    assert [t.nonce for t in pool.take(10)] == [2, 3]


def test_take_is_fifo_and_bounded(nonces: Nonces, alpha: Account) -> None:
    """take(n) hands out at most n ready transactions, oldest first, and marks them in flight."""
    pool = Mempool(10, nonces)
    txs = [tx(alpha, n) for n in range(5)]
    for item in txs:
        pool.add(item)
    first = pool.take(2)
    assert first == txs[:2]
    assert all(pool.is_inflight(t.txid) for t in first)
    assert not pool.is_inflight(txs[2].txid)
    assert pool.take(10) == txs[2:]
    assert pool.take(10) == []
    assert len(pool) == 5  # in flight still counts until committed


def test_full_pool_refuses_and_does_not_grow(nonces: Nonces, alpha: Account, beta: Account
                                             ) -> None:
    """At capacity (ready, held and in flight all count) a new tx raises MempoolFull."""
    pool = Mempool(3, nonces)
    pool.add(tx(alpha, 0))
    pool.add(tx(alpha, 5))  # held
    pool.take(1)  # in flight
    pool.add(tx(beta, 0))
    extra = tx(beta, 1)
    for _ in range(3):
        with pytest.raises(MempoolFull, match="holds 3 transactions") as info:
            pool.add(extra)
        assert info.value.code == "mempool_full"
    assert len(pool) == 3
    assert not pool.contains(extra.txid)
    # The refusal did not advance beta's expected nonce: beta 1 is admitted once room frees.
    pool.committed(pool.take(10), set(), 1)
    pool.add(extra)
    assert pool.contains(extra.txid)


def test_capacity_must_be_positive(nonces: Nonces) -> None:
    """A pool that could hold nothing is a configuration error."""
    with pytest.raises(InvariantViolation, match="capacity must be positive"):
        Mempool(0, nonces)


def test_held_entries_are_evicted_after_held_blocks_max(nonces: Nonces, alpha: Account) -> None:
    """A gap unfilled for more than ``held_blocks_max`` blocks drops the held tx, with a reason."""
    pool = Mempool(10, nonces, held_blocks_max=3)
    stale = tx(alpha, 2)
    pool.add(stale)
    for height in (1, 2, 3):
        pool.committed([], set(), height)
        assert pool.contains(stale.txid), height
    pool.committed([], set(), 4)
    assert not pool.contains(stale.txid)
    assert len(pool) == 0
    assert pool.statistics()["held"] == 0
    assert pool.dropped[stale.txid] == "nonce gap before 2 never filled"
    # Dropped is not banned: the same transaction may be submitted again.
    pool.add(stale)
    assert pool.contains(stale.txid)


def test_held_age_counts_from_admission_height(nonces: Nonces, alpha: Account) -> None:
    """Eviction counts blocks since the entry was admitted, not since the pool started."""
    pool = Mempool(10, nonces, held_blocks_max=2)
    pool.committed([], set(), 10)
    late = tx(alpha, 1)
    pool.add(late)
    pool.committed([], set(), 12)
    assert pool.contains(late.txid)
    pool.committed([], set(), 13)
    assert not pool.contains(late.txid)


def test_committed_forgets_ids_and_rereads_nonces(nonces: Nonces, alpha: Account) -> None:
    """Committed txs leave the pool; the sender's next nonce then comes from state again."""
    pool = Mempool(10, nonces)
    txs = [tx(alpha, n) for n in range(2)]
    for item in txs:
        pool.add(item)
    taken = pool.take(10)
    nonces.by_sender[alpha.keypair.public_key] = 2
    pool.committed(taken, set(), 1)
    assert len(pool) == 0
    assert not any(pool.contains(t.txid) or pool.is_inflight(t.txid) for t in txs)
    assert pool.statistics() == {"pending": 0, "ready": 0, "held": 0, "inflight": 0,
                                 "capacity": 10}
    calls = nonces.calls
    with pytest.raises(NonceRejected, match="next is 2"):
        pool.add(tx(alpha, 1, digest=9))
    assert nonces.calls == calls + 1  # the expected nonce was read from state
    pool.add(tx(alpha, 2))
    assert pool.ready_count == 1


def test_unconsumed_nonce_can_be_used_again(nonces: Nonces, alpha: Account) -> None:
    """When a tx failed without using its nonce (bad_nonce/unauthorized), that nonce is free."""
    pool = Mempool(10, nonces)
    first = tx(alpha, 0, digest=1)
    pool.add(first)
    pool.committed(pool.take(10), {alpha.keypair.public_key}, 1)  # state nonce stays 0
    retry = tx(alpha, 0, digest=2)
    pool.add(retry)
    assert pool.take(10) == [retry]


def test_later_ready_transactions_keep_their_place_after_commit(
    nonces: Nonces, alpha: Account
) -> None:
    """Committing a block with some of a sender's txs keeps its remaining ones and next nonce."""
    pool = Mempool(10, nonces)
    for n in range(4):
        pool.add(tx(alpha, n))
    taken = pool.take(2)
    nonces.by_sender[alpha.keypair.public_key] = 2
    pool.committed(taken, set(), 1)
    with pytest.raises(NonceRejected, match="next is 4"):
        pool.add(tx(alpha, 3, digest=7))
    pool.add(tx(alpha, 4))
    assert [t.nonce for t in pool.take(10)] == [2, 3, 4]


def test_held_transactions_become_ready_when_a_block_commits_the_gap(
    nonces: Nonces, alpha: Account
) -> None:
    """Under consensus, a sender's earlier nonces may commit through another validator."""
    pool = Mempool(100, nonces)
    for nonce in (3, 4, 6):
        pool.add(tx(alpha, nonce))
    assert pool.ready_count == 0
    # Nonces 0..2 were committed from another validator's batch.
    nonces.by_sender[alpha.keypair.public_key] = 3
    pool.committed([tx(alpha, 2)], set(), height=1)
    assert [t.nonce for t in pool.take(10)] == [3, 4]
    assert pool.statistics()["held"] == 1  # nonce 6 still waits for 5
