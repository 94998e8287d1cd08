"""The ``anchors`` contract: Merkle roots of credential batches, status-list digests."""

from __future__ import annotations

from typing import Annotated

import msgspec

from oneteam.ledger.contracts.base import Context, KeySet, Operation, fail
from oneteam.ledger.contracts.schema import (
    AnchorRecord,
    Digest,
    Label,
    StatusRecord,
    batch_key,
    status_list_key,
)
from oneteam.ledger.invariants import check
from oneteam.ledger.tx import Transaction

BATCH_COUNT_MAX = 1_000_000


class AnchorBatch(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    batch_id: Label
    root: Digest
    count: Annotated[int, msgspec.Meta(ge=1, le=BATCH_COUNT_MAX)]


class SetStatusList(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    list_id: Label
    digest: Digest


def _anchor_keys(tx: Transaction, args: AnchorBatch) -> KeySet:
    return KeySet(frozenset(), frozenset({batch_key(tx.org, args.batch_id)}))


def _execute_anchor(ctx: Context, args: AnchorBatch) -> None:
    # Decoding already refused counts outside 1..BATCH_COUNT_MAX.
    check(1 <= args.count <= BATCH_COUNT_MAX, "anchor count out of range after decoding")
    key = batch_key(ctx.tx.org, args.batch_id)
    if ctx.get(key) is not None:
        raise fail(f"batch {args.batch_id} of {ctx.tx.org} is already anchored")
    ctx.put(key, AnchorRecord(args.root, args.count, ctx.height, ctx.tx.txid))


def _status_keys(tx: Transaction, args: SetStatusList) -> KeySet:
    return KeySet(frozenset(), frozenset({status_list_key(tx.org, args.list_id)}))


def _execute_status(ctx: Context, args: SetStatusList) -> None:
    key = status_list_key(ctx.tx.org, args.list_id)
    previous: StatusRecord | None = ctx.get(key)
    version = 1 if previous is None else previous.version + 1
    ctx.put(key, StatusRecord(args.digest, ctx.height, version, ctx.tx.txid))


OPERATIONS = (
    Operation("anchors.anchor_batch", AnchorBatch, _anchor_keys, _execute_anchor,
              "Record the Merkle root of a batch of credential hashes."),
    Operation("anchors.set_status_list", SetStatusList, _status_keys, _execute_status,
              "Record the digest of the latest version of a status list."),
)
