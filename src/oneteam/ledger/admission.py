"""Admission: decode, check and verify transactions in batches on every core at once.

The work per transaction (msgpack decoding, canonical-form and range checks,
Ed25519 verification) is stateless, so a batch is cut into one chunk per
worker. Two pools do this, chosen by ``mode``:

- ``threads``: a thread pool in the node's process. libsodium releases the GIL
  while it verifies, so the threads verify in parallel; but every verification
  must take the GIL back afterwards, and while the event loop or the commit
  thread runs Python the verifier threads wait for it (the "convoy" effect).
- ``processes``: a pool of worker processes (started with ``spawn``, so the
  node's threads are never forked, and each worker dies with the node). Each
  verifies whole chunks with no GIL to share and sends back only a verdict per
  transaction; the node then decodes
  the valid ones once more, which costs a few microseconds and no signature
  check. docs/BENCHMARKS.md compares the two.
"""

from __future__ import annotations

import asyncio
import multiprocessing
import os
from concurrent.futures import Executor, ProcessPoolExecutor, ThreadPoolExecutor
from dataclasses import dataclass

from oneteam.ledger.errors import LedgerError
from oneteam.ledger.tx import Transaction, decode_and_verify, decode_unverified

CHUNK_MIN = 64
MODES = ("threads", "processes")


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


def _verify_chunk_verdicts(wires: list[bytes], chain_id: str) -> list[tuple[str, str] | None]:
    """In a worker process: None for a valid transaction, else (code, reason)."""
    out: list[tuple[str, str] | None] = []
    for wire in wires:
        try:
            decode_and_verify(wire, chain_id)
        except LedgerError as error:
            out.append((error.code, error.reason))
        else:
            out.append(None)
    return out


def _warm_up(_: int) -> int:
    """A no-op task that makes the pool start its workers."""
    return os.getpid()


PR_SET_PDEATHSIG = 1


def _worker_init(node_pid: int) -> None:
    """In each verification process: die with the node, and hold none of its output.

    Workers are the node's own children (started with ``spawn``), so
    PR_SET_PDEATHSIG kills them when the node dies, even on kill -9. Standard
    output and error go to /dev/null so no worker keeps the node's pipes open.
    """
    import ctypes
    import signal

    try:
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(PR_SET_PDEATHSIG, int(signal.SIGKILL), 0, 0, 0)
    except (OSError, AttributeError):
        pass  # not Linux: the workers still exit when their call queue breaks
    if os.getppid() != node_pid:
        # The node died while this worker was starting, before the signal was armed.
        os._exit(0)
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, 1)
    os.dup2(devnull, 2)
    os.close(devnull)


class Verifier:
    """A pool of verification workers; ``workers=1`` is the serial baseline."""

    def __init__(self, chain_id: str, workers: int | None = None, mode: str = "threads") -> None:
        if mode not in MODES:
            raise ValueError(f"verification mode must be one of {MODES}, not {mode!r}")
        self.chain_id = chain_id
        self.workers = workers or os.cpu_count() or 1
        self.mode = mode if self.workers > 1 else "threads"
        self._pool: Executor
        if self.mode == "processes":
            context = multiprocessing.get_context("spawn")
            self._pool = ProcessPoolExecutor(self.workers, mp_context=context,
                                             initializer=_worker_init,
                                             initargs=(os.getpid(),))
            # Start every worker now, not on the first request.
            list(self._pool.map(_warm_up, range(self.workers)))
        else:
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
        if self.mode == "threads":
            results = await asyncio.gather(
                *(loop.run_in_executor(self._pool, _verify_chunk, part, self.chain_id)
                  for part in parts)
            )
            return [verdict for part in results for verdict in part]
        verdict_parts = await asyncio.gather(
            *(loop.run_in_executor(self._pool, _verify_chunk_verdicts, part, self.chain_id)
              for part in parts)
        )
        out: list[Verdict] = []
        for part, verdicts in zip(parts, verdict_parts, strict=True):
            for wire, verdict in zip(part, verdicts, strict=True):
                if verdict is None:
                    out.append(decode_unverified(wire, self.chain_id))
                else:
                    out.append(Rejection(*verdict))
        return out
