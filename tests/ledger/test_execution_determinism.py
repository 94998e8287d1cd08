"""Parallel execution is exactly sequential execution, whatever the number of workers.

The definition of a block's outcome is executing its transactions one by one, in
order. ``execute_block`` with a thread pool groups them into waves by declared
keys; these tests check, on random mixes of transactions (a hot organization,
failures of every kind, anchors, usage charges, membership changes), that the
receipts and the write set never depend on the worker count, and that the wave
schedule is exactly the one its documentation defines.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from oneteam.ledger import execution
from oneteam.ledger.client import Account
from oneteam.ledger.contracts.anchors import AnchorBatch, SetStatusList
from oneteam.ledger.contracts.credits import Allocate, ApproveUsage, Charge, Transfer
from oneteam.ledger.contracts.membership import AddKey, Approve, Propose
from oneteam.ledger.contracts.schema import balance_key
from oneteam.ledger.execution import (
    Receipt,
    declared_keys,
    encode_write_set,
    execute_block,
    next_state_root,
    schedule_waves,
)
from oneteam.ledger.tx import Transaction

from .conftest import Chain, DictState, decode, genesis_state, keypair_for, make_chain

MEMBERS: dict[str, tuple[list[str], int]] = {
    "hot": (["operator", "provider"], 10_000),
    "o1": (["provider"], 300),
    "o2": ([], 200),
    "o3": (["provider"], 100),
    "o4": ([], 50),
    "o5": ([], 0),
}
ORGS = list(MEMBERS)
WORKER_COUNTS = (1, 2, 3, 4, 8)
KINDS = ("transfer", "transfer", "transfer", "allocate", "approve_usage", "charge", "anchor",
         "status", "propose_add", "propose_roles", "propose_remove", "approve", "approve_all",
         "add_key", "extra_key", "replay", "gap", "expired", "outsider")
ROLE_SETS: tuple[list[str], ...] = (["provider"], ["operator"], [], ["issuer", "validator"])

CHAIN = make_chain(MEMBERS, chain_id="determinism")

# The hot org (index 0) is drawn about a third of the time, so many transactions conflict
# on it while the rest spread over the other orgs and run side by side.
org_index = st.one_of(st.just(0), st.integers(0, len(ORGS) - 1))
action = st.tuples(st.sampled_from(KINDS), org_index, org_index,
                   st.integers(0, 400), st.integers(0, 3))
Action = tuple[str, int, int, int, int]


@pytest.fixture(scope="module")
def pools() -> Iterator[dict[int, ThreadPoolExecutor]]:
    """One pool per worker count, shared by all examples."""
    made = {workers: ThreadPoolExecutor(workers) for workers in WORKER_COUNTS if workers > 1}
    yield made
    for pool in made.values():
        pool.shutdown(wait=True)


def build_wires(chain: Chain, actions: list[Action]) -> list[bytes]:
    """Turn drawn actions into signed wires, tracking each org's nonce like a client would."""
    accounts = chain.accounts()
    outsider = Account(keypair_for("outsider"), "outsider", chain.chain_id)
    extra: dict[tuple[str, int], Account] = {}
    proposed: list[str] = []  # targets of proposals so far, so approvals mostly find one
    added: list[tuple[str, int]] = []  # (org, label) of keys added so far
    wires: list[bytes] = []
    for kind, a, drawn_b, n, label in actions:
        # Mostly another org; sometimes the sender itself (which must fail).
        b = (drawn_b + 1) % len(ORGS) if drawn_b == a and n % 8 else drawn_b
        sender, other = accounts[ORGS[a]], ORGS[b]
        wire: bytes | None
        if kind == "transfer":
            wire = sender.sign("credits.transfer", Transfer(to=other, amount=max(1, n)))
        elif kind == "allocate":
            wire = sender.sign("credits.allocate", Allocate(to=other, amount=max(1, n)))
        elif kind == "approve_usage":
            wire = sender.sign("credits.approve_usage", ApproveUsage(provider=other, limit=n))
        elif kind == "charge":
            wire = sender.sign("credits.charge",
                               Charge(consumer=other, amount=max(1, n), usage_ref=f"u{label}"))
        elif kind == "anchor":
            wire = sender.sign("anchors.anchor_batch",
                               AnchorBatch(batch_id=f"b{label}", root=bytes(32), count=1 + n % 3))
        elif kind == "status":
            wire = sender.sign("anchors.set_status_list",
                               SetStatusList(list_id=f"s{label}", digest=bytes([n % 256]) * 32))
        elif kind == "propose_add":
            proposed.append(f"new{label}")
            wire = sender.sign("membership.propose", Propose(
                action="add", org=f"new{label}", name=f"New {label}",
                keys=[keypair_for(f"new-key-{n % 3}").public_key]))
        elif kind == "propose_roles":
            proposed.append(other)
            wire = sender.sign("membership.propose", Propose(
                action="set_roles", org=other, roles=ROLE_SETS[label]))
        elif kind == "propose_remove":
            proposed.append(other)
            wire = sender.sign("membership.propose", Propose(action="remove", org=other))
        elif kind == "approve":
            target = proposed[-1] if proposed and n % 3 else other
            wire = sender.sign("membership.approve", Approve(org=target))
        elif kind == "approve_all":
            # Every other org approves at once, so proposals often reach quorum mid-block.
            if not proposed or n % 4 == 0:
                proposed.append(other)
                wires.append(sender.sign("membership.propose", Propose(
                    action="set_roles", org=other, roles=ROLE_SETS[label])))
            target = proposed[-1]
            for org in ORGS:
                if org != sender.org:
                    wires.append(accounts[org].sign("membership.approve", Approve(org=target)))
            wire = None
        elif kind == "add_key":
            added.append((sender.org, label))
            wire = sender.sign("membership.add_key",
                               AddKey(key=keypair_for(f"extra-{sender.org}-{label}").public_key))
        elif kind == "extra_key":
            # Signs with a key the org may have added earlier (else: unauthorized); mostly
            # the latest one added, which the schedule must order after its add_key.
            org, number = added[-1] if added and n % 4 else (sender.org, label)
            signer = extra.setdefault((org, number), Account(
                keypair_for(f"extra-{org}-{number}"), org, chain.chain_id))
            wire = signer.sign("credits.allocate", Allocate(to=other, amount=max(1, n)))
        elif kind == "replay":
            wire = wires[n % len(wires)] if wires else None
        elif kind == "gap":
            saved = sender.nonce
            sender.nonce += 1 + n % 3
            wire = sender.sign("credits.transfer", Transfer(to=other, amount=1))
            sender.nonce = saved
        elif kind == "expired":
            wire = sender.sign("credits.transfer", Transfer(to=other, amount=1), expiry_height=0)
        else:
            wire = outsider.sign("anchors.anchor_batch",
                                 AnchorBatch(batch_id="x", root=bytes(32), count=1))
        if wire is not None:
            wires.append(wire)
    return wires


def sequential(state: DictState, height: int, txs: list[Transaction]
               ) -> tuple[list[Receipt], dict[str, Any]]:
    """The definition: each transaction executed alone, on the state its predecessors left."""
    state = state.copy()
    receipts: list[Receipt] = []
    writes: dict[str, Any] = {}
    for tx in txs:
        receipt, tx_writes = execution.execute_transaction(state, height, tx, checked=True)
        receipts.append(receipt)
        writes.update(tx_writes)
        state.apply(tx_writes)
    return receipts, writes


def conflicts(first: Transaction, second: Transaction) -> bool:
    a, b = declared_keys(first), declared_keys(second)
    return bool(a.writes & b.all or b.writes & a.all)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(actions=st.lists(action, min_size=4, max_size=48), split=st.integers(0, 48))
def test_any_worker_count_matches_sequential_execution(
    pools: dict[int, ThreadPoolExecutor], actions: list[Action], split: int
) -> None:
    """Two consecutive blocks: receipts, writes and state roots agree for every worker count."""
    txs = decode(CHAIN, build_wires(CHAIN, actions))
    blocks = [txs[:split], txs[split:]]
    state = genesis_state(CHAIN)
    root = bytes(32)
    for height, block in enumerate(blocks, start=1):
        expected_receipts, expected_writes = sequential(state, height, block)
        expected_root = next_state_root(root, encode_write_set(expected_writes))
        for workers in WORKER_COUNTS:
            result = execute_block(state, height, block, pool=pools.get(workers),
                                   workers=workers, checked=True)
            assert result.receipts == expected_receipts, f"workers={workers}"
            assert result.writes == expected_writes, f"workers={workers}"
            assert next_state_root(root, encode_write_set(result.writes)) == expected_root
        state.apply(expected_writes)
        root = expected_root


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(actions=st.lists(action, min_size=1, max_size=48))
def test_schedule_waves_is_the_documented_schedule(actions: list[Action]) -> None:
    """Every index once, in order within waves; each tx one wave after its latest conflict."""
    txs = decode(CHAIN, build_wires(CHAIN, actions))
    waves = schedule_waves(txs)
    assert sorted(i for wave in waves for i in wave) == list(range(len(txs)))
    assert all(wave == sorted(wave) and wave for wave in waves)
    wave_of = {index: number for number, wave in enumerate(waves) for index in wave}
    for j, tx in enumerate(txs):
        earlier = [wave_of[i] for i in range(j) if conflicts(txs[i], tx)]
        assert wave_of[j] == (max(earlier) + 1 if earlier else 0), (j, earlier)
    for wave in waves:
        for position, i in enumerate(wave):
            for j in wave[position + 1:]:
                assert not conflicts(txs[i], txs[j]), (i, j)


def test_independent_transactions_share_one_wave_and_run_on_several_threads(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Disjoint transactions form a single wave that really runs in parallel (not vacuous)."""
    accounts = CHAIN.accounts()
    wires = [accounts[org].sign("anchors.anchor_batch",
                                AnchorBatch(batch_id=f"b{i}", root=bytes(32), count=1))
             for i in range(6) for org in ORGS]
    # Each org's own nonce chains its transactions: six waves of six.
    txs = decode(CHAIN, wires)
    assert schedule_waves(txs) == [list(range(k * 6, k * 6 + 6)) for k in range(6)]
    threads: set[int] = set()
    original = execution.execute_transaction

    def traced(*args: Any, **kwargs: Any) -> tuple[Receipt, dict[str, Any]]:
        threads.add(threading.get_ident())
        time.sleep(0.002)
        return original(*args, **kwargs)

    monkeypatch.setattr(execution, "execute_transaction", traced)
    state = genesis_state(CHAIN)
    with ThreadPoolExecutor(4) as pool:
        result = execute_block(state, 1, txs, pool=pool, workers=4, checked=True)
    assert [r.code for r in result.receipts] == ["ok"] * len(txs)
    assert len(threads) > 1
    monkeypatch.setattr(execution, "execute_transaction", original)
    assert execute_block(state, 1, txs, checked=True).writes == result.writes


def test_hot_org_transactions_are_serialized() -> None:
    """Transfers all touching the hot org's balance land in distinct, consecutive waves."""
    accounts = CHAIN.accounts()
    wires = [accounts[org].sign("credits.transfer", Transfer(to="hot", amount=1))
             for org in ORGS[1:]]
    txs = decode(CHAIN, wires)
    assert schedule_waves(txs) == [[0], [1], [2], [3], [4]]
    receipts = execute_block(genesis_state(CHAIN), 1, txs, checked=True).receipts
    assert [r.code for r in receipts] == ["ok", "ok", "ok", "ok", "failed"]  # o5 has nothing


def test_reads_after_writes_in_one_block_match_for_every_worker_count(
    pools: dict[int, ThreadPoolExecutor],
) -> None:
    """Later transactions see a key added and roles granted earlier in the same block.

    Only read-after-write ordering makes these succeed: the new key's allocation
    reads o2's organization record that add_key and the final approval write.
    """
    accounts = CHAIN.accounts()
    new_key = keypair_for("determinism-new-key")
    wires = [
        accounts["o2"].sign("membership.add_key", AddKey(key=new_key.public_key)),
        accounts["hot"].sign("membership.propose",
                             Propose(action="set_roles", org="o2", roles=["operator"])),
        *(accounts[org].sign("membership.approve", Approve(org="o2"))
          for org in ("o1", "o3", "o4", "o5")),
        Account(new_key, "o2", CHAIN.chain_id).sign("credits.allocate",
                                                    Allocate(to="o5", amount=7)),
        accounts["o1"].sign("credits.transfer", Transfer(to="o5", amount=1)),
    ]
    txs = decode(CHAIN, wires)
    expected, _ = sequential(genesis_state(CHAIN), 1, txs)
    assert [r.code for r in expected] == ["ok"] * len(txs)
    assert ("applied", {"org": "o2", "action": "set_roles"}) in expected[5].events
    for workers in WORKER_COUNTS:
        result = execute_block(genesis_state(CHAIN), 1, txs, pool=pools.get(workers),
                               workers=workers, checked=True)
        assert result.receipts == expected, f"workers={workers}"
        assert result.writes[balance_key("o5")] == 8
