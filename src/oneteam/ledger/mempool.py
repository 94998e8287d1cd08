"""The bounded mempool: per-sender nonce order, deduplication, refusal when full.

A transaction whose nonce is the sender's next becomes *ready* (a FIFO the
block builder drains); one a little ahead (within ``nonce_window``) is held
until the gap fills, and dropped if it does not within ``held_blocks_max``
blocks. The pool never grows past ``capacity``: a full pool refuses.
"""

from __future__ import annotations

from collections import OrderedDict, deque
from collections.abc import Callable
from dataclasses import dataclass

from oneteam.ledger.errors import Duplicate, MempoolFull, NonceRejected
from oneteam.ledger.invariants import check
from oneteam.ledger.tx import Transaction

DROPPED_REMEMBERED_MAX = 100_000


@dataclass(slots=True)
class _Held:
    tx: Transaction
    height_added: int


class Mempool:
    def __init__(
        self,
        capacity: int,
        committed_nonce: Callable[[bytes], int],
        *,
        nonce_window: int = 1024,
        held_blocks_max: int = 50,
    ) -> None:
        check(capacity > 0, "mempool capacity must be positive")
        self.capacity = capacity
        self.nonce_window = nonce_window
        self.held_blocks_max = held_blocks_max
        self._committed_nonce = committed_nonce
        self._ids: set[bytes] = set()
        self._ready: deque[Transaction] = deque()
        self._held: dict[bytes, dict[int, _Held]] = {}
        self._next: dict[bytes, int] = {}
        self._inflight: dict[bytes, Transaction] = {}
        self.dropped: OrderedDict[bytes, str] = OrderedDict()
        self.height = 0

    def __len__(self) -> int:
        return len(self._ids)

    @property
    def ready_count(self) -> int:
        return len(self._ready)

    def contains(self, txid: bytes) -> bool:
        return txid in self._ids

    def add(self, tx: Transaction) -> None:
        """Admit ``tx`` or raise an error that names why not."""
        if tx.txid in self._ids:
            raise Duplicate("transaction is already pending")
        if len(self._ids) >= self.capacity:
            raise MempoolFull(f"mempool holds {self.capacity} transactions; retry later")
        sender = tx.sender
        next_nonce = self._next.get(sender)
        if next_nonce is None:
            next_nonce = self._committed_nonce(sender)
        if tx.nonce < next_nonce:
            raise NonceRejected(
                f"nonce {tx.nonce} is already used or pending; the sender's next is {next_nonce}"
            )
        if tx.nonce > next_nonce + self.nonce_window:
            raise NonceRejected(
                f"nonce {tx.nonce} is more than {self.nonce_window} ahead of the "
                f"sender's next nonce {next_nonce}"
            )
        held = self._held.get(sender)
        if tx.nonce == next_nonce:
            self._ready.append(tx)
            next_nonce += 1
            while held and next_nonce in held:
                self._ready.append(held.pop(next_nonce).tx)
                next_nonce += 1
            if held is not None and not held:
                del self._held[sender]
        else:
            if held is None:
                held = self._held[sender] = {}
            if tx.nonce in held:
                raise Duplicate(f"another transaction with nonce {tx.nonce} is pending")
            held[tx.nonce] = _Held(tx, self.height)
        self._next[sender] = next_nonce
        self._ids.add(tx.txid)

    def take(self, count_max: int) -> list[Transaction]:
        """Up to ``count_max`` ready transactions, in admission order, now in flight."""
        taken: list[Transaction] = []
        ready = self._ready
        while ready and len(taken) < count_max:
            tx = ready.popleft()
            taken.append(tx)
            self._inflight[tx.txid] = tx
        return taken

    def is_inflight(self, txid: bytes) -> bool:
        return txid in self._inflight

    def committed(self, txs: list[Transaction], nonce_unconsumed: set[bytes], height: int) -> None:
        """Forget transactions committed in a block at ``height``.

        ``nonce_unconsumed`` names senders one of whose transactions failed
        without using its nonce; their expected nonce is re-read from state.
        """
        self.height = height
        for tx in txs:
            self._inflight.pop(tx.txid, None)
            self._ids.discard(tx.txid)
        for sender in nonce_unconsumed:
            self._next.pop(sender, None)
        # Under consensus a block may carry a sender's transactions that reached
        # another validator: held ones that now follow the committed nonce are ready.
        for sender in {tx.sender for tx in txs} & self._held.keys():
            self._promote(sender)
        # A sender with nothing left pending is forgotten (re-read from state when
        # next seen), so the table is bounded by the senders with pending work.
        for sender in {tx.sender for tx in txs}:
            expected = self._next.get(sender)
            if (expected is not None and sender not in self._held
                    and expected == self._committed_nonce(sender)):
                del self._next[sender]
        self._evict_stale_held(height)

    def _promote(self, sender: bytes) -> None:
        held = self._held[sender]
        committed = self._committed_nonce(sender)
        for nonce in [n for n in held if n < committed]:
            entry = held.pop(nonce)
            self._ids.discard(entry.tx.txid)
            self._remember_drop(entry.tx.txid, f"nonce {nonce} was used by another transaction")
        next_nonce = max(self._next.get(sender, committed), committed)
        while next_nonce in held:
            self._ready.append(held.pop(next_nonce).tx)
            next_nonce += 1
        self._next[sender] = next_nonce
        if not held:
            del self._held[sender]

    def _evict_stale_held(self, height: int) -> None:
        stale_before = height - self.held_blocks_max
        for sender in list(self._held):
            held = self._held[sender]
            for nonce in [n for n, h in held.items() if h.height_added < stale_before]:
                entry = held.pop(nonce)
                self._ids.discard(entry.tx.txid)
                self._remember_drop(entry.tx.txid, f"nonce gap before {nonce} never filled")
            if not held:
                del self._held[sender]

    def _remember_drop(self, txid: bytes, reason: str) -> None:
        self.dropped[txid] = reason
        while len(self.dropped) > DROPPED_REMEMBERED_MAX:
            self.dropped.popitem(last=False)

    def statistics(self) -> dict[str, int]:
        return {
            "pending": len(self._ids),
            "ready": len(self._ready),
            "held": sum(len(h) for h in self._held.values()),
            "inflight": len(self._inflight),
            "capacity": self.capacity,
        }
