"""The system contracts (membership, credits, anchors), executed block by block with checked
contexts on a dict-backed state, and the ledger's own checks (keys, nonces, expiry)."""

from __future__ import annotations

from typing import Any

import pytest

from oneteam.ledger.client import Account
from oneteam.ledger.contracts.anchors import AnchorBatch, SetStatusList
from oneteam.ledger.contracts.base import CheckedContext, KeySet
from oneteam.ledger.contracts.credits import (
    BALANCE_MAX,
    Allocate,
    ApproveUsage,
    Charge,
    Transfer,
)
from oneteam.ledger.contracts.membership import (
    KEYS_PER_ORG_MAX,
    AddKey,
    Approve,
    Propose,
    RevokeKey,
    quorum,
)
from oneteam.ledger.contracts.schema import (
    MEMBER_COUNT_KEY,
    AnchorRecord,
    Organization,
    StatusRecord,
    UsageRecord,
    allowance_key,
    balance_key,
    batch_key,
    key_owner_key,
    nonce_key,
    org_key,
    proposal_key,
    status_list_key,
    usage_key,
)
from oneteam.ledger.execution import Receipt
from oneteam.ledger.invariants import InvariantViolation
from oneteam.ledger.tx import decode_and_verify

from .conftest import Chain, Sim, keypair_for, make_chain

ROOT = bytes(range(32))
DIGEST = bytes(range(32, 64))


@pytest.fixture
def sim(chain: Chain) -> Sim:
    return Sim.start(chain)


def ok(receipt: Receipt) -> Receipt:
    assert receipt.code == "ok", receipt
    return receipt


def failed(receipt: Receipt, match: str) -> Receipt:
    assert receipt.code == "failed", receipt
    assert match in receipt.reason, receipt.reason
    assert receipt.events == []
    return receipt


def changed_keys(before: dict[str, Any], after: dict[str, Any]) -> set[str]:
    return {key for key in before.keys() | after.keys() if before.get(key) != after.get(key)}


def propose(account: Account, **fields: Any) -> bytes:
    return account.sign("membership.propose", Propose(**fields))


def approve(account: Account, org: str) -> bytes:
    return account.sign("membership.approve", Approve(org=org))


# -- membership: quorum ---------------------------------------------------------------------------


@pytest.mark.parametrize(("members", "needed"),
                         [(1, 1), (2, 2), (3, 3), (4, 3), (5, 4), (6, 5), (7, 5), (10, 7)])
def test_quorum_is_more_than_two_thirds(members: int, needed: int) -> None:
    """quorum(n) is the least number of approvals strictly above two thirds of n."""
    assert quorum(members) == needed
    assert 3 * needed > 2 * members >= 3 * (needed - 1)


def test_add_applies_exactly_at_quorum(sim: Sim, accounts: dict[str, Account]) -> None:
    """With 4 members a proposal needs 3 approvals (the proposer's counts); the third applies."""
    newcomer = keypair_for("epsilon")
    assert quorum(sim.get(MEMBER_COUNT_KEY)) == 3
    receipt = ok(sim.one(propose(accounts["alpha"], action="add", org="epsilon", name="Epsilon",
                                 roles=["provider", "issuer"], keys=[newcomer.public_key])))
    assert ("proposed", {"org": "epsilon", "action": "add"}) in receipt.events
    proposal = sim.get(proposal_key("epsilon"))
    assert proposal.approvals == ["alpha"]
    assert proposal.roles == ["issuer", "provider"]
    assert sim.get(key_owner_key(newcomer.public_key)) == "epsilon"  # reserved at once
    ok(sim.one(approve(accounts["delta"], "epsilon")))
    assert sim.get(org_key("epsilon")) is None
    assert sim.get(proposal_key("epsilon")).approvals == ["alpha", "delta"]
    receipt = ok(sim.one(approve(accounts["beta"], "epsilon")))
    assert ("applied", {"org": "epsilon", "action": "add"}) in receipt.events
    assert sim.get(org_key("epsilon")) == Organization(
        "Epsilon", ["issuer", "provider"], [newcomer.public_key], sim.height)
    assert sim.get(MEMBER_COUNT_KEY) == 5
    assert sim.get(proposal_key("epsilon")) is None
    # The new member transacts with its key; a late approval finds no proposal.
    epsilon = Account(newcomer, "epsilon", sim.chain.chain_id)
    ok(sim.one(epsilon.sign("anchors.anchor_batch",
                            AnchorBatch(batch_id="first", root=ROOT, count=1))))
    failed(sim.one(approve(accounts["gamma"], "epsilon")), "no open proposal")


def test_double_approval_is_refused(sim: Sim, accounts: dict[str, Account]) -> None:
    """Neither the proposer nor an approver can approve twice; a refusal changes no approvals."""
    ok(sim.one(propose(accounts["alpha"], action="set_roles", org="delta", roles=["issuer"])))
    failed(sim.one(approve(accounts["alpha"], "delta")), "alpha has already approved")
    ok(sim.one(approve(accounts["beta"], "delta")))
    failed(sim.one(approve(accounts["beta"], "delta")), "beta has already approved")
    assert sim.get(proposal_key("delta")).approvals == ["alpha", "beta"]
    assert sim.get(org_key("delta")).roles == []


def test_non_member_cannot_propose_or_approve(sim: Sim, accounts: dict[str, Account]) -> None:
    """An org not in state, or a key not among the named org's keys, is 'unauthorized'."""
    mallory = Account(keypair_for("mallory"), "mallory", sim.chain.chain_id)
    receipt = sim.one(propose(mallory, action="add", org="mallory2", name="M",
                              keys=[keypair_for("m2").public_key]))
    assert receipt.code == "unauthorized"
    assert "not an active key of mallory" in receipt.reason
    impostor = Account(keypair_for("mallory"), "alpha", sim.chain.chain_id)
    assert sim.one(propose(impostor, action="remove", org="beta")).code == "unauthorized"
    ok(sim.one(propose(accounts["alpha"], action="remove", org="delta")))
    assert sim.one(approve(impostor, "delta")).code == "unauthorized"
    # Unauthorized transactions change nothing at all, not even a nonce.
    assert sim.get(nonce_key(keypair_for("mallory").public_key)) is None
    assert sim.get(proposal_key("delta")).approvals == ["alpha"]
    assert sim.get(proposal_key("mallory2")) is None


def test_remove_member(sim: Sim, accounts: dict[str, Account]) -> None:
    """A removal applies at quorum; the removed org's keys are then unauthorized."""
    ok(sim.one(propose(accounts["alpha"], action="remove", org="delta")))
    ok(sim.one(approve(accounts["beta"], "delta")))
    assert sim.get(org_key("delta")) is not None
    receipt = ok(sim.one(approve(accounts["delta"], "delta")))  # may approve its own removal
    assert ("applied", {"org": "delta", "action": "remove"}) in receipt.events
    assert sim.get(org_key("delta")) is None
    assert sim.get(MEMBER_COUNT_KEY) == 3
    receipt = sim.one(accounts["delta"].sign("anchors.anchor_batch",
                                             AnchorBatch(batch_id="x", root=ROOT, count=1)))
    assert receipt.code == "unauthorized"
    # Removing again, or a non-member, is refused at proposal time.
    failed(sim.one(propose(accounts["alpha"], action="remove", org="delta")), "not a member")


def test_set_roles_grants_operator(sim: Sim, accounts: dict[str, Account]) -> None:
    """set_roles replaces the roles at quorum; the new operator may then allocate."""
    allocate = Allocate(to="gamma", amount=5)
    failed(sim.one(accounts["delta"].sign("credits.allocate", allocate)), "operator role")
    ok(sim.one(propose(accounts["beta"], action="set_roles", org="delta",
                       roles=["validator", "operator"])))
    ok(sim.one(approve(accounts["gamma"], "delta")))
    ok(sim.one(approve(accounts["alpha"], "delta")))
    org = sim.get(org_key("delta"))
    assert org.roles == ["operator", "validator"]
    assert org.keys == [sim.chain.keys["delta"].public_key]
    ok(sim.one(accounts["delta"].sign("credits.allocate", allocate)))
    assert sim.get(balance_key("gamma")) == 505


def test_single_member_proposal_applies_at_once() -> None:
    """With one member the proposer alone is a quorum: the proposal applies in its own tx."""
    chain = make_chain({"solo": (["operator"], 10)})
    sim = Sim.start(chain)
    key = keypair_for("second").public_key
    receipt = ok(sim.one(propose(chain.account("solo"), action="add", org="second", name="Two",
                                 keys=[key])))
    assert [name for name, _ in receipt.events] == ["proposed", "applied"]
    assert sim.get(org_key("second")).keys == [key]
    assert sim.get(MEMBER_COUNT_KEY) == 2
    assert sim.get(proposal_key("second")) is None


def test_last_member_cannot_be_removed() -> None:
    """A removal that would leave no members fails and leaves the member in place."""
    chain = make_chain({"solo": (["operator"], 10)})
    sim = Sim.start(chain)
    failed(sim.one(propose(chain.account("solo"), action="remove", org="solo")),
           "last member cannot be removed")
    assert sim.get(org_key("solo")) is not None
    assert sim.get(MEMBER_COUNT_KEY) == 1


@pytest.mark.parametrize(
    ("fields", "match"),
    [
        ({"action": "promote", "org": "delta"}, "unknown proposal action"),
        ({"action": "add", "org": "beta", "name": "B", "keys": ["new"]}, "already a member"),
        ({"action": "add", "org": "zeta", "name": "", "keys": ["new"]}, "needs a name"),
        ({"action": "add", "org": "zeta", "name": "Z", "keys": []}, "1 to 16 keys"),
        ({"action": "add", "org": "zeta", "name": "Z", "keys": ["new", "new"]}, "listed twice"),
        ({"action": "add", "org": "zeta", "name": "Z", "keys": ["beta"]}, "already belongs"),
        ({"action": "remove", "org": "zeta"}, "not a member"),
        ({"action": "remove", "org": "delta", "keys": ["new"]}, "takes no keys"),
        ({"action": "set_roles", "org": "delta", "roles": ["issuer", "issuer"]}, "role is listed"),
    ],
)
def test_invalid_proposals_fail(
    sim: Sim, accounts: dict[str, Account], fields: dict[str, Any], match: str
) -> None:
    """Each invalid proposal fails with its reason and leaves no proposal or reservation."""
    names = {"new": keypair_for("new").public_key, "beta": sim.chain.keys["beta"].public_key}
    fields = {**fields, "keys": [names[k] for k in fields.get("keys", [])]}
    before = dict(sim.state.data)
    failed(sim.one(propose(accounts["alpha"], **fields)), match)
    assert changed_keys(before, sim.state.data) == {nonce_key(sim.chain.keys["alpha"].public_key)}


def test_second_open_proposal_about_same_org_fails(sim: Sim, accounts: dict[str, Account]) -> None:
    """Only one proposal about an organization may be open at a time."""
    ok(sim.one(propose(accounts["alpha"], action="set_roles", org="delta", roles=["issuer"])))
    failed(sim.one(propose(accounts["beta"], action="remove", org="delta")), "already open")
    assert sim.get(proposal_key("delta")).action == "set_roles"


def test_proposal_keys_are_reserved(sim: Sim, accounts: dict[str, Account]) -> None:
    """A key named by an open add proposal cannot be claimed by another proposal or add_key."""
    key = keypair_for("contested").public_key
    ok(sim.one(propose(accounts["alpha"], action="add", org="zeta", name="Z", keys=[key])))
    failed(sim.one(propose(accounts["beta"], action="add", org="eta", name="E", keys=[key])),
           "already belongs")
    failed(sim.one(accounts["gamma"].sign("membership.add_key", AddKey(key=key))),
           "already belongs")


def test_membership_change_voids_open_proposals(sim: Sim, accounts: dict[str, Account]) -> None:
    """A quorum is of *current* members: approvals from before a join or leave no longer count.

    delta proposes adding zeta, then delta is removed (3 members, quorum 3). The
    old proposal (approved by a member that left) can no longer be approved; it
    must be proposed again, and that new proposal needs all 3 current members.
    """
    zeta = keypair_for("zeta").public_key
    ok(sim.one(propose(accounts["delta"], action="add", org="zeta", name="Z", keys=[zeta])))
    ok(sim.one(propose(accounts["alpha"], action="remove", org="delta")))
    ok(sim.one(approve(accounts["beta"], "delta")))
    ok(sim.one(approve(accounts["gamma"], "delta")))
    assert sim.get(MEMBER_COUNT_KEY) == 3
    failed(sim.one(approve(accounts["alpha"], "zeta")), "member set changed")
    assert sim.get(org_key("zeta")) is None
    # As the refusal says, it can be proposed again: the stale proposal does not block it
    # (the first proposal's key stays reserved for good, so the new one names a new key).
    fresh = keypair_for("zeta-2").public_key
    ok(sim.one(propose(accounts["alpha"], action="add", org="zeta", name="Z", keys=[fresh])))
    assert sim.get(proposal_key("zeta")).approvals == ["alpha"]
    ok(sim.one(approve(accounts["beta"], "zeta")))
    assert sim.get(org_key("zeta")) is None
    ok(sim.one(approve(accounts["gamma"], "zeta")))
    assert sim.get(org_key("zeta")).keys == [fresh]
    assert sim.get(MEMBER_COUNT_KEY) == 4


def test_open_proposal_of_the_current_member_set_still_blocks(
    sim: Sim, accounts: dict[str, Account]
) -> None:
    """Only a stale proposal (older member set) may be replaced; a current one blocks."""
    ok(sim.one(propose(accounts["alpha"], action="set_roles", org="gamma", roles=["issuer"])))
    ok(sim.one(propose(accounts["alpha"], action="remove", org="delta")))
    ok(sim.one(approve(accounts["beta"], "delta")))
    ok(sim.one(approve(accounts["gamma"], "delta")))  # removal applied: member set changed
    ok(sim.one(propose(accounts["beta"], action="set_roles", org="gamma", roles=["provider"])))
    failed(sim.one(propose(accounts["alpha"], action="set_roles", org="gamma", roles=[])),
           "already open")
    assert sim.get(proposal_key("gamma")).roles == ["provider"]


def test_reserved_keys_stay_with_their_org(sim: Sim, accounts: dict[str, Account]) -> None:
    """Keys reserved by a proposal that never applied can no longer be proposed by anyone."""
    zeta = keypair_for("zeta").public_key
    ok(sim.one(propose(accounts["delta"], action="add", org="zeta", name="Z", keys=[zeta])))
    ok(sim.one(propose(accounts["alpha"], action="remove", org="delta")))
    ok(sim.one(approve(accounts["beta"], "delta")))
    ok(sim.one(approve(accounts["gamma"], "delta")))
    for org in ("eta", "zeta"):
        failed(sim.one(propose(accounts["alpha"], action="add", org=org, name="E", keys=[zeta])),
               "already belongs")
    assert sim.get(key_owner_key(zeta)) == "zeta"


# -- membership: keys -----------------------------------------------------------------------------


def test_add_key_then_sign_with_it(sim: Sim, accounts: dict[str, Account]) -> None:
    """An org adds a key; transactions signed with it (own nonce sequence) are then accepted."""
    second = keypair_for("alpha-2")
    ok(sim.one(accounts["alpha"].sign("membership.add_key", AddKey(key=second.public_key))))
    assert sim.get(org_key("alpha")).keys == [sim.chain.keys["alpha"].public_key,
                                              second.public_key]
    assert sim.get(key_owner_key(second.public_key)) == "alpha"
    alpha2 = Account(second, "alpha", sim.chain.chain_id)
    ok(sim.one(alpha2.sign("credits.transfer", Transfer(to="beta", amount=10))))
    assert sim.get(balance_key("beta")) == 1_010
    assert sim.get(nonce_key(second.public_key)) == 1


def test_add_key_refusals(sim: Sim, accounts: dict[str, Account]) -> None:
    """A key of another org, or one past KEYS_PER_ORG_MAX, is refused."""
    failed(sim.one(accounts["alpha"].sign(
        "membership.add_key", AddKey(key=sim.chain.keys["beta"].public_key))), "already belongs")
    wires = [accounts["gamma"].sign("membership.add_key",
                                    AddKey(key=keypair_for(f"g{i}").public_key))
             for i in range(KEYS_PER_ORG_MAX)]
    receipts = sim.block(*wires)
    assert [r.code for r in receipts] == ["ok"] * (KEYS_PER_ORG_MAX - 1) + ["failed"]
    assert "at most 16 keys" in receipts[-1].reason
    assert len(sim.get(org_key("gamma")).keys) == KEYS_PER_ORG_MAX


def test_revoke_key(sim: Sim, accounts: dict[str, Account]) -> None:
    """A revoked key's transactions become unauthorized; the key stays reserved to its org."""
    second = keypair_for("beta-2")
    beta2 = Account(second, "beta", sim.chain.chain_id)
    ok(sim.one(accounts["beta"].sign("membership.add_key", AddKey(key=second.public_key))))
    ok(sim.one(beta2.sign("credits.transfer", Transfer(to="gamma", amount=1))))
    ok(sim.one(accounts["beta"].sign("membership.revoke_key", RevokeKey(key=second.public_key))))
    assert sim.get(org_key("beta")).keys == [sim.chain.keys["beta"].public_key]
    receipt = sim.one(beta2.sign("credits.transfer", Transfer(to="gamma", amount=1)))
    assert receipt.code == "unauthorized"
    assert sim.get(balance_key("gamma")) == 501
    assert sim.get(key_owner_key(second.public_key)) == "beta"
    failed(sim.one(accounts["alpha"].sign("membership.add_key", AddKey(key=second.public_key))),
           "already belongs")


def test_revoke_key_refusals(sim: Sim, accounts: dict[str, Account]) -> None:
    """The last key cannot be revoked, nor a key the org does not hold."""
    own = sim.chain.keys["gamma"].public_key
    failed(sim.one(accounts["gamma"].sign("membership.revoke_key", RevokeKey(key=own))),
           "last key cannot be revoked")
    failed(sim.one(accounts["gamma"].sign(
        "membership.revoke_key", RevokeKey(key=sim.chain.keys["beta"].public_key))),
        "is not a key of gamma")
    assert sim.get(org_key("gamma")).keys == [own]
    assert sim.get(org_key("beta")).keys == [sim.chain.keys["beta"].public_key]


def test_revoking_the_signing_key_itself(sim: Sim, accounts: dict[str, Account]) -> None:
    """An org may revoke the very key that signs the revocation if another remains."""
    first = sim.chain.keys["delta"]
    second = keypair_for("delta-2")
    ok(sim.one(accounts["delta"].sign("membership.add_key", AddKey(key=second.public_key))))
    ok(sim.one(accounts["delta"].sign("membership.revoke_key", RevokeKey(key=first.public_key))))
    assert sim.get(org_key("delta")).keys == [second.public_key]
    assert sim.one(accounts["delta"].sign("membership.approve", Approve(org="x"))).code == (
        "unauthorized")


# -- credits --------------------------------------------------------------------------------------


def test_allocate_needs_operator(sim: Sim, accounts: dict[str, Account]) -> None:
    """Only an operator allocates, only to a member, and never past BALANCE_MAX."""
    receipt = ok(sim.one(accounts["alpha"].sign("credits.allocate",
                                                Allocate(to="delta", amount=70, memo="grant"))))
    assert receipt.events == [("allocated", {"to": "delta", "amount": 70})]
    assert sim.get(balance_key("delta")) == 70
    failed(sim.one(accounts["beta"].sign("credits.allocate", Allocate(to="beta", amount=1))),
           "beta does not hold the operator role")
    failed(sim.one(accounts["alpha"].sign("credits.allocate", Allocate(to="nobody", amount=1))),
           "nobody is not a member")
    failed(sim.one(accounts["alpha"].sign("credits.allocate",
                                          Allocate(to="alpha", amount=BALANCE_MAX))),
           "would exceed")
    assert sim.get(balance_key("beta")) == 1_000
    assert sim.get(balance_key("alpha")) == 1_000_000


def test_transfer_moves_credits(sim: Sim, accounts: dict[str, Account]) -> None:
    """A transfer debits the sender's org and credits the recipient, conserving the total."""
    ok(sim.one(accounts["gamma"].sign("credits.transfer", Transfer(to="delta", amount=500))))
    assert sim.get(balance_key("gamma")) == 0
    assert sim.get(balance_key("delta")) == 500


def test_insufficient_balance_changes_only_the_nonce(
    sim: Sim, accounts: dict[str, Account]
) -> None:
    """A failing transfer reports why, and its only effect is to consume the sender's nonce."""
    before = dict(sim.state.data)
    receipt = sim.one(accounts["gamma"].sign("credits.transfer", Transfer(to="beta", amount=501)))
    failed(receipt, "gamma has 500 credits, 501 needed")
    gamma_nonce = nonce_key(sim.chain.keys["gamma"].public_key)
    assert changed_keys(before, sim.state.data) == {gamma_nonce}
    assert sim.get(gamma_nonce) == 1


@pytest.mark.parametrize(("to", "match"), [("gamma", "same organization"),
                                           ("nobody", "nobody is not a member")])
def test_transfer_refusals(sim: Sim, accounts: dict[str, Account], to: str, match: str) -> None:
    """Transfers to oneself or to a non-member fail and move nothing."""
    failed(sim.one(accounts["gamma"].sign("credits.transfer", Transfer(to=to, amount=1))), match)
    assert sim.get(balance_key("gamma")) == 500


def test_cannot_spend_another_orgs_credits(sim: Sim, chain: Chain) -> None:
    """beta signing with its own key but naming alpha as the org is unauthorized."""
    forger = Account(chain.keys["beta"], "alpha", chain.chain_id)
    receipt = sim.one(forger.sign("credits.transfer", Transfer(to="beta", amount=999)))
    assert receipt.code == "unauthorized"
    assert receipt.reason == (
        f"key {chain.keys['beta'].public_key.hex()} is not an active key of alpha")
    assert sim.get(balance_key("alpha")) == 1_000_000
    assert sim.get(balance_key("beta")) == 1_000
    assert sim.get(nonce_key(chain.keys["beta"].public_key)) is None


def test_usage_allowance_and_charges(sim: Sim, accounts: dict[str, Account]) -> None:
    """A provider charges within the consumer's allowance, each usage once, never beyond."""
    ok(sim.one(accounts["gamma"].sign("credits.approve_usage",
                                      ApproveUsage(provider="beta", limit=300))))
    assert sim.get(allowance_key("gamma", "beta")) == 300
    charge = accounts["beta"].sign("credits.charge",
                                   Charge(consumer="gamma", amount=100, usage_ref="job-1"))
    ok(sim.one(charge))
    assert sim.get(balance_key("gamma")) == 400
    assert sim.get(balance_key("beta")) == 1_100
    assert sim.get(allowance_key("gamma", "beta")) == 200
    record = sim.get(usage_key("beta", "job-1"))
    assert record == UsageRecord("gamma", 100, sim.height, decode_and_verify(
        charge, sim.chain.chain_id).txid)
    before = dict(sim.state.data)
    failed(sim.one(accounts["beta"].sign("credits.charge",
                                         Charge(consumer="gamma", amount=201, usage_ref="job-2"))),
           "gamma authorized beta for 200 credits, 201 charged")
    failed(sim.one(accounts["beta"].sign("credits.charge",
                                         Charge(consumer="gamma", amount=1, usage_ref="job-1"))),
           "usage job-1 was already charged")
    assert changed_keys(before, sim.state.data) == {
        nonce_key(sim.chain.keys["beta"].public_key)}
    ok(sim.one(accounts["beta"].sign("credits.charge",
                                     Charge(consumer="gamma", amount=200, usage_ref="job-2"))))
    assert sim.get(allowance_key("gamma", "beta")) == 0
    assert sim.get(balance_key("gamma")) == 200


def test_charge_refusals(sim: Sim, accounts: dict[str, Account]) -> None:
    """No allowance, a balance below the charge, or charging oneself all fail."""
    failed(sim.one(accounts["beta"].sign("credits.charge",
                                         Charge(consumer="delta", amount=1, usage_ref="u"))),
           "delta authorized beta for 0 credits")
    ok(sim.one(accounts["delta"].sign("credits.approve_usage",
                                      ApproveUsage(provider="beta", limit=50))))
    failed(sim.one(accounts["beta"].sign("credits.charge",
                                         Charge(consumer="delta", amount=5, usage_ref="u"))),
           "delta has 0 credits, 5 needed")
    failed(sim.one(accounts["beta"].sign("credits.charge",
                                         Charge(consumer="beta", amount=5, usage_ref="u"))),
           "does not charge itself")
    assert sim.get(usage_key("beta", "u")) is None
    assert sim.get(allowance_key("delta", "beta")) == 50


@pytest.mark.parametrize(
    ("provider", "limit", "match"),
    [("gamma", 5, "does not authorize itself"), ("nobody", 5, "nobody is not a member")],
)
def test_approve_usage_refusals(
    sim: Sim, accounts: dict[str, Account], provider: str, limit: int, match: str
) -> None:
    """An allowance must name another member (its range is checked at decoding, see test_tx)."""
    failed(sim.one(accounts["gamma"].sign("credits.approve_usage",
                                          ApproveUsage(provider=provider, limit=limit))), match)
    assert sim.get(allowance_key("gamma", provider)) is None


# -- anchors --------------------------------------------------------------------------------------


def test_anchor_batch(sim: Sim, accounts: dict[str, Account]) -> None:
    """A member anchors a batch once; the id is per org, so another org may reuse it."""
    wire = accounts["gamma"].sign("anchors.anchor_batch",
                                  AnchorBatch(batch_id="2024/q1", root=ROOT, count=12))
    ok(sim.one(wire))
    txid = decode_and_verify(wire, sim.chain.chain_id).txid
    assert sim.get(batch_key("gamma", "2024/q1")) == AnchorRecord(ROOT, 12, sim.height, txid)
    failed(sim.one(accounts["gamma"].sign("anchors.anchor_batch",
                                          AnchorBatch(batch_id="2024/q1", root=DIGEST, count=1))),
           "batch 2024/q1 of gamma is already anchored")
    assert sim.get(batch_key("gamma", "2024/q1")).root == ROOT
    ok(sim.one(accounts["beta"].sign("anchors.anchor_batch",
                                     AnchorBatch(batch_id="2024/q1", root=DIGEST, count=1))))
    assert sim.get(batch_key("beta", "2024/q1")).root == DIGEST


def test_non_member_cannot_anchor(sim: Sim) -> None:
    """Anchoring is for members: an unknown org's transaction is unauthorized."""
    outsider = Account(keypair_for("outsider"), "outsider", sim.chain.chain_id)
    receipt = sim.one(outsider.sign("anchors.anchor_batch",
                                    AnchorBatch(batch_id="b", root=ROOT, count=1)))
    assert receipt.code == "unauthorized"
    assert sim.get(batch_key("outsider", "b")) is None


def test_status_list_version_increments(sim: Sim, accounts: dict[str, Account]) -> None:
    """Each update bumps the version, also twice in one block (sequential semantics)."""
    gamma = accounts["gamma"]
    ok(sim.one(gamma.sign("anchors.set_status_list", SetStatusList(list_id="revoked",
                                                                   digest=ROOT))))
    assert sim.get(status_list_key("gamma", "revoked")).version == 1
    receipts = sim.block(
        gamma.sign("anchors.set_status_list", SetStatusList(list_id="revoked", digest=DIGEST)),
        gamma.sign("anchors.set_status_list", SetStatusList(list_id="revoked", digest=ROOT)),
    )
    assert [r.code for r in receipts] == ["ok", "ok"]
    record = sim.get(status_list_key("gamma", "revoked"))
    assert isinstance(record, StatusRecord)
    assert (record.version, record.digest, record.height) == (3, ROOT, 2)
    ok(sim.one(accounts["beta"].sign("anchors.set_status_list",
                                     SetStatusList(list_id="revoked", digest=DIGEST))))
    assert sim.get(status_list_key("beta", "revoked")).version == 1


# -- the ledger's own checks ----------------------------------------------------------------------


def test_nonce_replay_is_bad_nonce(sim: Sim, accounts: dict[str, Account]) -> None:
    """The same signed tx twice (in one block or a later one) executes once only."""
    wire = accounts["alpha"].sign("credits.transfer", Transfer(to="beta", amount=10))
    receipts = sim.block(wire, wire)
    assert receipts[0].code == "ok"
    assert receipts[1].code == "bad_nonce"
    assert receipts[1].reason == "nonce 0, expected 1"
    replay = sim.one(wire)
    assert replay.code == "bad_nonce"
    assert sim.get(balance_key("beta")) == 1_010
    assert sim.get(nonce_key(sim.chain.keys["alpha"].public_key)) == 1


def test_nonce_gap_is_bad_nonce_and_consumes_nothing(
    sim: Sim, accounts: dict[str, Account]
) -> None:
    """A nonce ahead of the expected one is refused without consuming anything."""
    alpha = accounts["alpha"]
    alpha.nonce = 2
    receipt = sim.one(alpha.sign("credits.transfer", Transfer(to="beta", amount=10)))
    assert (receipt.code, receipt.reason) == ("bad_nonce", "nonce 2, expected 0")
    assert sim.get(nonce_key(sim.chain.keys["alpha"].public_key)) is None


def test_expired_transaction_consumes_nonce_only(sim: Sim, accounts: dict[str, Account]) -> None:
    """A tx included after its expiry height is 'expired', uses its nonce, and does nothing else."""
    alpha = accounts["alpha"]
    ok(sim.one(alpha.sign("anchors.anchor_batch", AnchorBatch(batch_id="a", root=ROOT, count=1),
                          expiry_height=1)))  # included at height 1 == expiry: still valid
    late = alpha.sign("anchors.anchor_batch", AnchorBatch(batch_id="b", root=ROOT, count=1),
                      expiry_height=1)
    before = dict(sim.state.data)
    receipt = sim.one(late)
    assert (receipt.code, receipt.reason) == ("expired", "expired at height 1, included at 2")
    assert changed_keys(before, sim.state.data) == {nonce_key(sim.chain.keys["alpha"].public_key)}
    assert sim.get(nonce_key(sim.chain.keys["alpha"].public_key)) == 2


def test_failed_receipts_in_a_mixed_block(sim: Sim, accounts: dict[str, Account]) -> None:
    """In one block a failure does not disturb its neighbours, and later txs see earlier writes."""
    receipts = sim.block(
        accounts["delta"].sign("credits.transfer", Transfer(to="beta", amount=1)),
        accounts["gamma"].sign("credits.transfer", Transfer(to="delta", amount=300)),
        accounts["delta"].sign("credits.transfer", Transfer(to="beta", amount=250)),
        accounts["delta"].sign("credits.transfer", Transfer(to="beta", amount=51)),
    )
    assert [r.code for r in receipts] == ["failed", "ok", "ok", "failed"]
    assert receipts[0].reason == "delta has 0 credits, 1 needed"
    assert receipts[3].reason == "delta has 50 credits, 51 needed"
    assert sim.get(balance_key("delta")) == 50
    assert sim.get(balance_key("beta")) == 1_250


# -- the checked context itself -------------------------------------------------------------------


def test_checked_context_refuses_undeclared_access(chain: Chain) -> None:
    """A checked context raises on a read, write or delete outside the declared keys."""
    wire = chain.account("alpha").sign("credits.transfer", Transfer(to="beta", amount=1))
    tx = decode_and_verify(wire, chain.chain_id)
    declared = KeySet(frozenset({"r"}), frozenset({"w"}))
    ctx = CheckedContext(Sim.start(chain).state, 1, tx, declared=declared)
    assert ctx.get("r") is None
    ctx.put("w", 1)
    assert ctx.get("w") == 1
    ctx.delete("w")
    assert ctx.writes == {"w": None}
    with pytest.raises(InvariantViolation, match="read undeclared key 'x'"):
        ctx.get("x")
    with pytest.raises(InvariantViolation, match="wrote undeclared key 'r'"):
        ctx.put("r", 1)
    with pytest.raises(InvariantViolation, match="undeclared key 'x'"):
        ctx.delete("x")
    assert ctx.writes == {"w": None}
