"""Errors the ledger reports to its callers, each with a stable code and a reason."""

from __future__ import annotations


class LedgerError(Exception):
    """Base class: ``code`` is stable and machine-readable, ``reason`` is for people."""

    code = "ledger_error"

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class MalformedTransaction(LedgerError):
    """The bytes are not a well-formed, canonical transaction of a known operation."""

    code = "malformed"


class BadSignature(LedgerError):
    """The signature does not verify against the sender key over the body."""

    code = "bad_signature"


class WrongChain(LedgerError):
    code = "wrong_chain"


class NonceRejected(LedgerError):
    """The nonce was used already, or lies too far ahead of the sender's next nonce."""

    code = "bad_nonce"


class Duplicate(LedgerError):
    code = "duplicate"


class MempoolFull(LedgerError):
    code = "mempool_full"


class Unauthorized(LedgerError):
    """The sender key is not an active key of the organization it claims."""

    code = "unauthorized"


class Expired(LedgerError):
    code = "expired"


class Busy(LedgerError):
    """A bounded resource (waiters, block streams) is full; the client should retry."""

    code = "busy"


class Unavailable(LedgerError):
    """The node cannot take work now (it is stopping after a failure)."""

    code = "unavailable"


class ContractError(LedgerError):
    """A contract refused the operation; the transaction fails and changes nothing."""

    code = "failed"


class NotFound(LedgerError):
    code = "not_found"


class StorageCorrupt(LedgerError):
    code = "storage_corrupt"
