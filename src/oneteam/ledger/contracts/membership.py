"""The ``membership`` contract: organizations, their keys and roles.

Genesis sets the first members. Adding or removing a member, or changing its
roles, is a proposal that takes effect once a quorum of the current members
(``2n // 3 + 1`` of ``n``) has approved it. Approvals count only within one
member set: once a member joins or leaves, open proposals must be made again.
A proposal reserves the keys it names at once, and they stay reserved even if
it never applies, so a key can never be claimed by two organizations. An
organization manages its own keys.
"""

from __future__ import annotations

import msgspec

from oneteam.ledger.contracts.base import Context, KeySet, Operation, fail
from oneteam.ledger.contracts.schema import (
    MEMBER_COUNT_KEY,
    MEMBER_EPOCH_KEY,
    NEXT_VALIDATORS_KEY,
    VALIDATOR_SET_KEY,
    NextValidators,
    Organization,
    OrgId,
    Proposal,
    PublicKey,
    Role,
    key_owner_key,
    org_key,
    proposal_key,
    validators_at,
)
from oneteam.ledger.tx import Transaction

PROPOSAL_LIFETIME_BLOCKS = 100_000
KEYS_PER_ORG_MAX = 16
ACTIONS = ("add", "remove", "set_roles", "add_validator", "remove_validator")
VALIDATOR_ACTIONS = ("add_validator", "remove_validator")
# A validator-set change approved in block h governs blocks from h + this on, so
# every validator knows the set of a height before that height starts.
VALIDATOR_CHANGE_DELAY_BLOCKS = 2
VALIDATORS_MAX = 100


def quorum(member_count: int) -> int:
    """Approvals needed among ``member_count`` members: more than two thirds."""
    return (2 * member_count) // 3 + 1


class Propose(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    action: str
    org: OrgId
    name: str = ""
    roles: list[Role] = []
    keys: list[PublicKey] = []


class Approve(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    org: OrgId


class AddKey(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    key: PublicKey


class RevokeKey(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    key: PublicKey


def _propose_keys(tx: Transaction, args: Propose) -> KeySet:
    # With a single member the proposal applies at once, so it may write the
    # organization and the member count as well.
    writes = {proposal_key(args.org), org_key(args.org), MEMBER_COUNT_KEY, MEMBER_EPOCH_KEY,
              VALIDATOR_SET_KEY, NEXT_VALIDATORS_KEY}
    writes |= {key_owner_key(k) for k in args.keys}
    return KeySet(frozenset(), frozenset(writes))


def _validate_proposal(ctx: Context, args: Propose) -> None:
    if args.action not in ACTIONS:
        raise fail(f"unknown proposal action {args.action!r}; expected one of {ACTIONS}")
    existing = ctx.get(org_key(args.org))
    if args.action in VALIDATOR_ACTIONS:
        if existing is None:
            raise fail(f"organization {args.org} is not a member")
        if len(args.keys) != 1:
            raise fail(f"a {args.action} proposal names exactly one validator node key")
        if args.roles:
            raise fail(f"a {args.action} proposal takes no roles")
        return
    if args.action == "add":
        if existing is not None:
            raise fail(f"organization {args.org} is already a member")
        if not 1 <= len(args.name) <= 200:
            raise fail("a new member needs a name of 1 to 200 characters")
        if not 1 <= len(args.keys) <= KEYS_PER_ORG_MAX:
            raise fail(f"a new member needs 1 to {KEYS_PER_ORG_MAX} keys")
        if len(set(args.keys)) != len(args.keys):
            raise fail("the same key is listed twice")
        for key in args.keys:
            if ctx.get(key_owner_key(key)) is not None:
                raise fail(f"key {key.hex()} already belongs to an organization")
    else:
        if existing is None:
            raise fail(f"organization {args.org} is not a member")
        if args.keys:
            raise fail(f"a {args.action} proposal takes no keys")
    if len(set(args.roles)) != len(args.roles):
        raise fail("the same role is listed twice")


def _execute_propose(ctx: Context, args: Propose) -> None:
    _validate_proposal(ctx, args)
    current = ctx.get(proposal_key(args.org))
    epoch = ctx.get(MEMBER_EPOCH_KEY) or 0
    # A proposal made under another member set can no longer be approved, so it
    # must not block the new proposal its refusal asks for.
    if current is not None and current.expiry_height >= ctx.height and current.epoch == epoch:
        raise fail(f"a proposal about {args.org} is already open")
    proposal = Proposal(
        action=args.action,
        org=args.org,
        name=args.name,
        roles=sorted(args.roles),
        keys=list(args.keys),
        proposer=ctx.tx.org,
        approvals=[ctx.tx.org],
        expiry_height=ctx.height + PROPOSAL_LIFETIME_BLOCKS,
        epoch=epoch,
    )
    # The keys are reserved now so that no other proposal can claim them (node keys
    # of validator changes are not organization keys and are not reserved).
    if args.action not in VALIDATOR_ACTIONS:
        for key in args.keys:
            ctx.put(key_owner_key(key), args.org)
    ctx.emit("proposed", {"org": args.org, "action": args.action})
    _apply_if_quorum(ctx, proposal)


def _approve_keys(tx: Transaction, args: Approve) -> KeySet:
    return KeySet(
        frozenset(),
        frozenset({proposal_key(args.org), org_key(args.org), MEMBER_COUNT_KEY,
                   MEMBER_EPOCH_KEY, VALIDATOR_SET_KEY, NEXT_VALIDATORS_KEY}),
    )


def _execute_approve(ctx: Context, args: Approve) -> None:
    proposal = ctx.get(proposal_key(args.org))
    if proposal is None:
        raise fail(f"no open proposal about {args.org}")
    if proposal.expiry_height < ctx.height:
        raise fail(f"the proposal about {args.org} expired at height {proposal.expiry_height}")
    if proposal.epoch != (ctx.get(MEMBER_EPOCH_KEY) or 0):
        # A member joined or left since the proposal was made: its approvals
        # were counted against another member set, so they no longer hold.
        raise fail(f"the member set changed since the proposal about {args.org} was made; "
                   "propose it again")
    if ctx.tx.org in proposal.approvals:
        raise fail(f"{ctx.tx.org} has already approved the proposal about {args.org}")
    approvals = sorted([*proposal.approvals, ctx.tx.org])
    proposal = msgspec.structs.replace(proposal, approvals=approvals)
    ctx.emit("approved", {"org": args.org, "by": ctx.tx.org})
    _apply_if_quorum(ctx, proposal)


def _apply_if_quorum(ctx: Context, proposal: Proposal) -> None:
    count: int = ctx.get(MEMBER_COUNT_KEY) or 0
    if len(proposal.approvals) < quorum(count):
        ctx.put(proposal_key(proposal.org), proposal)
        return
    ctx.delete(proposal_key(proposal.org))
    existing = ctx.get(org_key(proposal.org))
    if proposal.action == "add":
        if existing is not None:
            raise fail(f"organization {proposal.org} is already a member")
        ctx.put(
            org_key(proposal.org),
            Organization(proposal.name, proposal.roles, proposal.keys, ctx.height),
        )
        ctx.put(MEMBER_COUNT_KEY, count + 1)
        ctx.put(MEMBER_EPOCH_KEY, (ctx.get(MEMBER_EPOCH_KEY) or 0) + 1)
    elif proposal.action == "remove":
        if existing is None:
            raise fail(f"organization {proposal.org} is not a member")
        if count <= 1:
            raise fail("the last member cannot be removed")
        ctx.delete(org_key(proposal.org))
        ctx.put(MEMBER_COUNT_KEY, count - 1)
        ctx.put(MEMBER_EPOCH_KEY, (ctx.get(MEMBER_EPOCH_KEY) or 0) + 1)
    elif proposal.action in VALIDATOR_ACTIONS:
        _change_validators(ctx, proposal)
    else:
        if existing is None:
            raise fail(f"organization {proposal.org} is not a member")
        ctx.put(org_key(proposal.org), msgspec.structs.replace(existing, roles=proposal.roles))
    ctx.emit("applied", {"org": proposal.org, "action": proposal.action})


def _change_validators(ctx: Context, proposal: Proposal) -> None:
    pending: NextValidators | None = ctx.get(NEXT_VALIDATORS_KEY)
    if pending is not None and pending.height > ctx.height:
        raise fail(f"a validator-set change is already pending until height {pending.height}")
    current = validators_at(ctx.get, ctx.height)
    [key] = proposal.keys
    if proposal.action == "add_validator":
        if key in current:
            raise fail(f"{key.hex()} is already a validator")
        if len(current) >= VALIDATORS_MAX:
            raise fail(f"the validator set holds at most {VALIDATORS_MAX} validators")
        new = [*current, key]
    else:
        if key not in current:
            raise fail(f"{key.hex()} is not a validator")
        if len(current) == 1:
            raise fail("the last validator cannot be removed")
        new = [v for v in current if v != key]
    ctx.put(VALIDATOR_SET_KEY, current)
    ctx.put(NEXT_VALIDATORS_KEY,
            NextValidators(ctx.height + VALIDATOR_CHANGE_DELAY_BLOCKS, new))
    ctx.emit("validators", {"from_height": ctx.height + VALIDATOR_CHANGE_DELAY_BLOCKS,
                            "count": len(new)})


def _add_key_keys(tx: Transaction, args: AddKey) -> KeySet:
    return KeySet(frozenset(), frozenset({org_key(tx.org), key_owner_key(args.key)}))


def _execute_add_key(ctx: Context, args: AddKey) -> None:
    org: Organization = ctx.get(org_key(ctx.tx.org))
    if ctx.get(key_owner_key(args.key)) is not None:
        raise fail(f"key {args.key.hex()} already belongs to an organization")
    if len(org.keys) >= KEYS_PER_ORG_MAX:
        raise fail(f"an organization has at most {KEYS_PER_ORG_MAX} keys")
    ctx.put(key_owner_key(args.key), ctx.tx.org)
    ctx.put(org_key(ctx.tx.org), msgspec.structs.replace(org, keys=[*org.keys, args.key]))


def _revoke_key_keys(tx: Transaction, args: RevokeKey) -> KeySet:
    return KeySet(frozenset(), frozenset({org_key(tx.org)}))


def _execute_revoke_key(ctx: Context, args: RevokeKey) -> None:
    org: Organization = ctx.get(org_key(ctx.tx.org))
    if args.key not in org.keys:
        raise fail(f"key {args.key.hex()} is not a key of {ctx.tx.org}")
    if len(org.keys) == 1:
        raise fail("an organization's last key cannot be revoked")
    # The key stays registered to its owner in m/key/ so no one else can reuse it.
    remaining = [key for key in org.keys if key != args.key]
    ctx.put(org_key(ctx.tx.org), msgspec.structs.replace(org, keys=remaining))


OPERATIONS = (
    Operation("membership.propose", Propose, _propose_keys, _execute_propose,
              "Propose adding, removing or changing the roles of a member."),
    Operation("membership.approve", Approve, _approve_keys, _execute_approve,
              "Approve the open proposal about an organization."),
    Operation("membership.add_key", AddKey, _add_key_keys, _execute_add_key,
              "Add a signing key to the sender's organization."),
    Operation("membership.revoke_key", RevokeKey, _revoke_key_keys, _execute_revoke_key,
              "Revoke one of the sender organization's keys."),
)
