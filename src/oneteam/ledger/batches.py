"""Transaction batches: how transaction data travels apart from ordering.

Each validator packs the transactions it admitted into batches and sends them
to every other validator directly; consensus then orders only batch digests
(the separation Narwhal, Danezis et al. 2022, argues for), so data spreads
in parallel and the proposal stays small. A batch is signed by its author,
so a withheld or invalid batch can be attributed.

The digest of a batch is ``sha256(BATCH_DOMAIN + body)`` where ``body`` is
the canonical encoding of ``[chain_id, author, seq, txs]``.
"""

from __future__ import annotations

import hashlib
from collections import OrderedDict

import msgspec

from oneteam.ledger import keys
from oneteam.ledger.errors import LedgerError
from oneteam.ledger.invariants import check
from oneteam.ledger.keys import KeyPair
from oneteam.ledger.tx import TX_BYTES_MAX, Transaction

BATCH_DOMAIN = b"oneteam/batch/v1\x00"
BATCH_TXS_MAX = 4096
BATCH_BYTES_MAX = BATCH_TXS_MAX * TX_BYTES_MAX


class BatchBody(msgspec.Struct, array_like=True, frozen=True, forbid_unknown_fields=True):
    chain_id: str
    author: bytes
    seq: int
    txs: list[bytes]


class SignedBatch(msgspec.Struct, array_like=True, frozen=True, forbid_unknown_fields=True):
    body: bytes
    signature: bytes


class BatchRejected(LedgerError):
    code = "bad_batch"


_encoder = msgspec.msgpack.Encoder()
_body_decoder = msgspec.msgpack.Decoder(BatchBody)
_signed_decoder = msgspec.msgpack.Decoder(SignedBatch)


def batch_digest(body: bytes) -> bytes:
    return hashlib.sha256(BATCH_DOMAIN + body).digest()


def make_batch(author: KeyPair, chain_id: str, seq: int, txs: list[bytes]) -> tuple[bytes, bytes]:
    """Sign a batch; returns (digest, wire bytes)."""
    check(0 < len(txs) <= BATCH_TXS_MAX, f"a batch holds 1 to {BATCH_TXS_MAX} transactions")
    body = _encoder.encode(BatchBody(chain_id, author.public_key, seq, txs))
    wire = _encoder.encode(SignedBatch(body, author.sign(BATCH_DOMAIN + body)))
    return batch_digest(body), wire


def open_batch(wire: bytes, chain_id: str, authors: frozenset[bytes]) -> tuple[bytes, BatchBody]:
    """Check a received batch's form, chain, author and signature; returns (digest, body).

    The transactions inside are verified separately, in parallel, by admission.
    """
    if len(wire) > BATCH_BYTES_MAX:
        raise BatchRejected(f"batch of {len(wire)} bytes exceeds {BATCH_BYTES_MAX}")
    try:
        signed = _signed_decoder.decode(wire)
        body = _body_decoder.decode(signed.body)
    except (msgspec.DecodeError, UnicodeDecodeError) as error:
        raise BatchRejected(f"malformed batch: {error}") from None
    if _encoder.encode(body) != signed.body:
        raise BatchRejected("batch body is not in canonical encoding")
    if body.chain_id != chain_id:
        raise BatchRejected(f"batch is for chain {body.chain_id!r}")
    if body.author not in authors:
        raise BatchRejected("batch author is not a validator")
    if not 0 < len(body.txs) <= BATCH_TXS_MAX:
        raise BatchRejected(f"a batch holds 1 to {BATCH_TXS_MAX} transactions")
    if not keys.verify(body.author, BATCH_DOMAIN + signed.body, signed.signature):
        raise BatchRejected("batch signature does not verify")
    return batch_digest(signed.body), body


class BatchStore:
    """Batches this validator holds, by digest, with their verified transactions.

    Bounded: the oldest batches are forgotten first once ``capacity`` is
    reached (a committed batch is no longer needed: its transactions are in
    a block; an uncommitted one can be fetched again from its author).
    """

    def __init__(self, capacity: int = 4096) -> None:
        check(capacity > 0, "batch store capacity must be positive")
        self.capacity = capacity
        self._batches: OrderedDict[bytes, tuple[bytes, list[Transaction]]] = OrderedDict()
        self._pending: OrderedDict[bytes, None] = OrderedDict()

    def __len__(self) -> int:
        return len(self._batches)

    def __contains__(self, digest: bytes) -> bool:
        return digest in self._batches

    def add(self, digest: bytes, wire: bytes, txs: list[Transaction]) -> None:
        if digest in self._batches:
            return
        while len(self._batches) >= self.capacity:
            old, _ = self._batches.popitem(last=False)
            self._pending.pop(old, None)
        self._batches[digest] = (wire, txs)
        self._pending[digest] = None

    def wire(self, digest: bytes) -> bytes | None:
        entry = self._batches.get(digest)
        return None if entry is None else entry[0]

    def transactions(self, digest: bytes) -> list[Transaction] | None:
        entry = self._batches.get(digest)
        return None if entry is None else entry[1]

    def pending(self, limit_txs: int) -> list[bytes]:
        """Digests of uncommitted batches, oldest first, up to about ``limit_txs`` transactions."""
        out: list[bytes] = []
        total = 0
        for digest in self._pending:
            count = len(self._batches[digest][1])
            if out and total + count > limit_txs:
                break
            out.append(digest)
            total += count
        return out

    def committed(self, digests: list[bytes]) -> None:
        for digest in digests:
            self._pending.pop(digest, None)

    def missing(self, digests: list[bytes]) -> list[bytes]:
        return [d for d in digests if d not in self._batches]
