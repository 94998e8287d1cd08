"""The ``credits`` contract: the alliance's compute credits.

Balances are integers (no floats anywhere in execution). The operator role
allocates credits; members transfer their own; a consumer authorizes a
provider up to a limit, and the provider charges each metered usage once.
"""

from __future__ import annotations

from typing import Annotated

import msgspec

from oneteam.ledger.contracts.base import Context, KeySet, Operation, fail
from oneteam.ledger.contracts.schema import (
    Amount,
    Label,
    Memo,
    Organization,
    OrgId,
    UsageRecord,
    allowance_key,
    balance_key,
    org_key,
    usage_key,
)
from oneteam.ledger.invariants import check
from oneteam.ledger.tx import Transaction

BALANCE_MAX = 2**62


class Allocate(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    to: OrgId
    amount: Amount
    memo: Memo = ""


class Transfer(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    to: OrgId
    amount: Amount
    memo: Memo = ""


class ApproveUsage(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    provider: OrgId
    limit: Annotated[int, msgspec.Meta(ge=0, le=BALANCE_MAX)]


class Charge(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    consumer: OrgId
    amount: Amount
    usage_ref: Label


def _credit(ctx: Context, org: str, amount: int) -> None:
    balance: int = ctx.get(balance_key(org)) or 0
    if balance + amount > BALANCE_MAX:
        raise fail(f"balance of {org} would exceed {BALANCE_MAX}")
    ctx.put(balance_key(org), balance + amount)


def _debit(ctx: Context, org: str, amount: int) -> None:
    balance: int = ctx.get(balance_key(org)) or 0
    if balance < amount:
        raise fail(f"{org} has {balance} credits, {amount} needed")
    ctx.put(balance_key(org), balance - amount)


def _require_member(ctx: Context, org: str) -> None:
    if ctx.get(org_key(org)) is None:
        raise fail(f"{org} is not a member organization")


def _allocate_keys(tx: Transaction, args: Allocate) -> KeySet:
    return KeySet(frozenset({org_key(args.to)}), frozenset({balance_key(args.to)}))


def _execute_allocate(ctx: Context, args: Allocate) -> None:
    sender: Organization = ctx.get(org_key(ctx.tx.org))
    if "operator" not in sender.roles:
        raise fail(f"{ctx.tx.org} does not hold the operator role")
    _require_member(ctx, args.to)
    _credit(ctx, args.to, args.amount)
    ctx.emit("allocated", {"to": args.to, "amount": args.amount})


def _transfer_keys(tx: Transaction, args: Transfer) -> KeySet:
    return KeySet(
        frozenset({org_key(args.to)}),
        frozenset({balance_key(tx.org), balance_key(args.to)}),
    )


def _execute_transfer(ctx: Context, args: Transfer) -> None:
    if args.to == ctx.tx.org:
        raise fail("cannot transfer credits to the same organization")
    _require_member(ctx, args.to)
    _debit(ctx, ctx.tx.org, args.amount)
    _credit(ctx, args.to, args.amount)


def _approve_usage_keys(tx: Transaction, args: ApproveUsage) -> KeySet:
    return KeySet(frozenset({org_key(args.provider)}),
                  frozenset({allowance_key(tx.org, args.provider)}))


def _execute_approve_usage(ctx: Context, args: ApproveUsage) -> None:
    # Decoding already refused limits outside 0..BALANCE_MAX.
    check(0 <= args.limit <= BALANCE_MAX, "approve_usage limit out of range after decoding")
    if args.provider == ctx.tx.org:
        raise fail("an organization does not authorize itself")
    _require_member(ctx, args.provider)
    ctx.put(allowance_key(ctx.tx.org, args.provider), args.limit)


def _charge_keys(tx: Transaction, args: Charge) -> KeySet:
    return KeySet(
        frozenset(),
        frozenset({
            allowance_key(args.consumer, tx.org),
            balance_key(args.consumer),
            balance_key(tx.org),
            usage_key(tx.org, args.usage_ref),
        }),
    )


def _execute_charge(ctx: Context, args: Charge) -> None:
    if args.consumer == ctx.tx.org:
        raise fail("a provider does not charge itself")
    if ctx.get(usage_key(ctx.tx.org, args.usage_ref)) is not None:
        raise fail(f"usage {args.usage_ref} was already charged")
    allowance: int = ctx.get(allowance_key(args.consumer, ctx.tx.org)) or 0
    if allowance < args.amount:
        raise fail(
            f"{args.consumer} authorized {ctx.tx.org} for {allowance} credits, "
            f"{args.amount} charged"
        )
    _debit(ctx, args.consumer, args.amount)
    _credit(ctx, ctx.tx.org, args.amount)
    ctx.put(allowance_key(args.consumer, ctx.tx.org), allowance - args.amount)
    ctx.put(
        usage_key(ctx.tx.org, args.usage_ref),
        UsageRecord(args.consumer, args.amount, ctx.height, ctx.tx.txid),
    )


OPERATIONS = (
    Operation("credits.allocate", Allocate, _allocate_keys, _execute_allocate,
              "Allocate new credits to a member (operator role)."),
    Operation("credits.transfer", Transfer, _transfer_keys, _execute_transfer,
              "Transfer credits from the sender's organization to another member."),
    Operation("credits.approve_usage", ApproveUsage, _approve_usage_keys,
              _execute_approve_usage,
              "Authorize a provider to charge the sender's organization up to a limit."),
    Operation("credits.charge", Charge, _charge_keys, _execute_charge,
              "Charge a consumer for one metered usage (consumer pays provider)."),
)
