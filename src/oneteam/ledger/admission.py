"""Admission: decode, check and verify transactions in batches on every core at once.

The work per transaction (msgpack decoding, canonical-form and range checks,
Ed25519 verification) is stateless, so a batch is cut into one chunk per
worker thread. libsodium releases the GIL while it verifies, which is where
almost all the time goes, so the threads really run in parallel.
"""

from __future__ import annotations

import asyncio
import os
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

from oneteam.ledger.errors import LedgerError
from oneteam.ledger.tx import Transaction, decode_and_verify

CHUNK_MIN = 64


@dataclass(frozen=True, slots=True)
class Rejection:
    code: str
    reason: str


Verdict = Transaction | Rejection


def _verify_chunk(wires: list[bytes], chain_id: str) -> list[Verdict]:
    out: list[Verdict] = []
    for wire in wires:
        try:
            out.append(decode_and_verify(wire, chain_id))
        except LedgerError as error:
            out.append(Rejection(error.code, error.reason))
    return out


class Verifier:
    """A pool of verification threads; ``workers=1`` is the serial baseline."""

    def __init__(self, chain_id: str, workers: int | None = None) -> None:
        self.chain_id = chain_id
        self.workers = workers or os.cpu_count() or 1
        self._pool = ThreadPoolExecutor(self.workers, thread_name_prefix="verify")

    def close(self) -> None:
        self._pool.shutdown(wait=True, cancel_futures=True)

    def verify_now(self, wires: list[bytes]) -> list[Verdict]:
        """Verify in the calling thread (tests, replay)."""
        return _verify_chunk(wires, self.chain_id)

    async def verify(self, wires: list[bytes]) -> list[Verdict]:
        """Verify a batch on all workers; verdicts come back in input order."""
        if not wires:
            return []
        loop = asyncio.get_running_loop()
        chunk = max(CHUNK_MIN, -(-len(wires) // self.workers))
        parts = [wires[i:i + chunk] for i in range(0, len(wires), chunk)]
        results = await asyncio.gather(
            *(loop.run_in_executor(self._pool, _verify_chunk, part, self.chain_id)
              for part in parts)
        )
        return [verdict for part in results for verdict in part]
