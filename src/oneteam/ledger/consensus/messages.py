"""Consensus messages: proposals, votes, certificates, evidence, WAL entries; signing, checks.

Every message is a frozen msgspec Struct encoded as a MessagePack array whose first
element is a tag (``"proposal"``, ``"vote"``, ``"certificate"``, ``"commit"``,
``"equivocation"``), so one decoder reads any of them. A signature covers a
domain string followed by the canonical MessagePack encoding of the message's fields
other than the signature; a proposal signs its value's id (sha256 of the value)
rather than the value, so signing cost does not grow with the value. See
docs/ledger/CONSENSUS.md.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from typing import Final, Literal

import msgspec

from oneteam.ledger import keys
from oneteam.ledger.errors import LedgerError
from oneteam.ledger.keys import KeyPair

PROPOSAL_DOMAIN: Final = b"oneteam/proposal/v1\x00"
PREVOTE_DOMAIN: Final = b"oneteam/prevote/v1\x00"
PRECOMMIT_DOMAIN: Final = b"oneteam/precommit/v1\x00"

VALUE_ID_BYTES: Final = 32
NIL: Final = b""  # the value id of a vote for nil
NIL_ROUND: Final = -1  # a valid round (or locked round) that is nil
VALUE_BYTES_MAX: Final = 1 << 20
HEIGHT_MAX: Final = 2**63 - 1
ROUND_MAX: Final = 2**31 - 1
MESSAGE_BYTES_MAX: Final = VALUE_BYTES_MAX + 64 * 1024
CHAIN_ID_CHARS_MAX: Final = 64

VoteKind = Literal["prevote", "precommit"]
PREVOTE: Final = "prevote"
PRECOMMIT: Final = "precommit"


class InvalidCertificate(LedgerError):
    """A commit certificate that does not prove a decision of the named validator set."""

    code = "invalid_certificate"


class InvalidEvidence(LedgerError):
    """Evidence that does not prove a validator signed two conflicting messages."""

    code = "invalid_evidence"


class Proposal(msgspec.Struct, array_like=True, frozen=True, forbid_unknown_fields=True,
               tag="proposal"):
    """``⟨PROPOSAL, height, round, value, valid_round⟩`` signed by proposer(height, round)."""

    chain_id: str
    height: int
    round: int
    value: bytes
    valid_round: int  # -1 for nil
    proposer: bytes
    signature: bytes


class Vote(msgspec.Struct, array_like=True, frozen=True, forbid_unknown_fields=True, tag="vote"):
    """``⟨PREVOTE|PRECOMMIT, height, round, id(v)⟩``; ``value_id`` is b"" for nil."""

    chain_id: str
    kind: VoteKind
    height: int
    round: int
    value_id: bytes
    validator: bytes
    signature: bytes


class CommitCertificate(msgspec.Struct, array_like=True, frozen=True,
                        forbid_unknown_fields=True, tag="certificate"):
    """Precommits of a quorum of validators for ``value_id`` at ``height``/``round``."""

    chain_id: str
    height: int
    round: int
    value_id: bytes
    votes: tuple[Vote, ...]


class Commit(msgspec.Struct, array_like=True, frozen=True, forbid_unknown_fields=True,
             tag="commit"):
    """A decision, as handed to a validator that lags: the value and its certificate.

    Line 49 of Algorithm 1 waits for a proposal of v and 2f+1 precommits for id(v); the
    proposal serves there only to learn v behind id(v). Since id is sha256, the value
    whose hash is the certificate's value id is that knowledge, so a commit carries
    the value rather than the proposer's signed proposal.
    """

    value: bytes
    certificate: CommitCertificate


class Equivocation(msgspec.Struct, array_like=True, frozen=True, forbid_unknown_fields=True,
                   tag="equivocation"):
    """Two different messages one validator signed for the same height, round and kind."""

    first: Proposal | Vote
    second: Proposal | Vote


Message = Proposal | Vote | Commit
Step = Literal["propose", "prevote", "precommit"]


class WalEntry(msgspec.Struct, array_like=True, frozen=True, forbid_unknown_fields=True):
    """The state of a validator at one height just after it signed ``proposal`` or ``vote``.

    ``proposal`` and ``vote`` are both None in an entry that records a change of the
    valid value alone (line 42 of Algorithm 1 in the precommit step). ``valid_votes``
    are the 2f+1 prevotes that justify the valid value: after a restart the validator
    can show them again when it re-proposes that value (line 28 needs them), even if the
    Byzantine validators among their signers never send them again.
    """

    height: int
    round: int
    step: Step
    locked_round: int
    locked_value: bytes | None
    valid_round: int
    valid_value: bytes | None
    valid_votes: tuple[Vote, ...]
    proposal: Proposal | None
    vote: Vote | None



_encoder = msgspec.msgpack.Encoder()
_message_decoder = msgspec.msgpack.Decoder(Proposal | Vote | Commit)
_evidence_decoder = msgspec.msgpack.Decoder(Equivocation)


def value_id(value: bytes) -> bytes:
    """``id(v)`` of the paper: the sha256 of the value bytes."""
    return hashlib.sha256(value).digest()


def faulty_max(validator_count: int) -> int:
    """f, the most faulty validators ``validator_count`` tolerate: n = 3f+1 at best."""
    return (validator_count - 1) // 3


def quorum_size(validator_count: int) -> int:
    """More than two thirds of the validators: 2f+1 when n = 3f+1."""
    return 2 * validator_count // 3 + 1


def round_skip_size(validator_count: int) -> int:
    """More than one third of the validators: f+1 when n = 3f+1 (at least one is correct)."""
    return validator_count // 3 + 1


def proposer_of(validators: Sequence[bytes], height: int, round_: int) -> bytes:
    """proposer(h, r): validators rotate, one step per height and per round."""
    return validators[(height + round_) % len(validators)]


def check_validator_set(validators: Sequence[bytes]) -> None:
    """Raise ValueError unless ``validators`` is a non-empty list of distinct 32-byte keys."""
    if not validators:
        raise ValueError("the validator set is empty")
    for key in validators:
        if not isinstance(key, bytes) or len(key) != keys.PUBLIC_KEY_BYTES:
            raise ValueError("a validator key is not 32 bytes")
    if len(set(validators)) != len(validators):
        raise ValueError("the validator set names a key twice")


def proposal_signing_bytes(proposal: Proposal) -> bytes:
    return PROPOSAL_DOMAIN + _encoder.encode((
        proposal.chain_id, proposal.height, proposal.round, value_id(proposal.value),
        proposal.valid_round, proposal.proposer,
    ))


def vote_signing_bytes(vote: Vote) -> bytes:
    domain = PREVOTE_DOMAIN if vote.kind == PREVOTE else PRECOMMIT_DOMAIN
    return domain + _encoder.encode((
        vote.chain_id, vote.kind, vote.height, vote.round, vote.value_id, vote.validator,
    ))


def sign_proposal(keypair: KeyPair, *, chain_id: str, height: int, round_: int, value: bytes,
                  valid_round: int) -> Proposal:
    unsigned = Proposal(chain_id=chain_id, height=height, round=round_, value=value,
                        valid_round=valid_round, proposer=keypair.public_key, signature=b"")
    signed = msgspec.structs.replace(
        unsigned, signature=keypair.sign(proposal_signing_bytes(unsigned)))
    return signed


def sign_vote(keypair: KeyPair, *, chain_id: str, kind: VoteKind, height: int, round_: int,
              value_id: bytes) -> Vote:
    unsigned = Vote(chain_id=chain_id, kind=kind, height=height, round=round_,
                    value_id=value_id, validator=keypair.public_key, signature=b"")
    return msgspec.structs.replace(unsigned, signature=keypair.sign(vote_signing_bytes(unsigned)))


def verify_proposal_signature(proposal: Proposal) -> bool:
    return keys.verify(proposal.proposer, proposal_signing_bytes(proposal), proposal.signature)


def verify_vote_signature(vote: Vote) -> bool:
    return keys.verify(vote.validator, vote_signing_bytes(vote), vote.signature)


def _position_problem(chain_id: object, height: object, round_: object) -> str | None:
    if not isinstance(chain_id, str) or not 0 < len(chain_id) <= CHAIN_ID_CHARS_MAX:
        return "chain id must have 1 to 64 characters"
    if type(height) is not int or not 0 <= height <= HEIGHT_MAX:
        return f"height {height!r} out of range"
    if type(round_) is not int or not 0 <= round_ <= ROUND_MAX:
        return f"round {round_!r} out of range"
    return None


def proposal_problem(proposal: Proposal) -> str | None:
    """What makes ``proposal`` malformed (lengths, ranges), or None; no signature check."""
    problem = _position_problem(proposal.chain_id, proposal.height, proposal.round)
    if problem:
        return problem
    if not isinstance(proposal.value, bytes) or len(proposal.value) > VALUE_BYTES_MAX:
        return f"value must be bytes of at most {VALUE_BYTES_MAX}"
    if type(proposal.valid_round) is not int or not (
            NIL_ROUND <= proposal.valid_round < proposal.round):
        return f"valid round {proposal.valid_round!r} is not -1 or below round {proposal.round}"
    if not isinstance(proposal.proposer, bytes) or len(proposal.proposer) != 32:
        return "proposer key is not 32 bytes"
    if not isinstance(proposal.signature, bytes) or len(proposal.signature) != 64:
        return "signature is not 64 bytes"
    return None


def vote_problem(vote: Vote) -> str | None:
    """What makes ``vote`` malformed, or None; the signature is not checked."""
    problem = _position_problem(vote.chain_id, vote.height, vote.round)
    if problem:
        return problem
    if vote.kind not in (PREVOTE, PRECOMMIT):
        return f"unknown vote kind {vote.kind!r}"
    if not isinstance(vote.value_id, bytes) or len(vote.value_id) not in (0, VALUE_ID_BYTES):
        return "value id is neither 32 bytes nor empty (nil)"
    if not isinstance(vote.validator, bytes) or len(vote.validator) != 32:
        return "validator key is not 32 bytes"
    if not isinstance(vote.signature, bytes) or len(vote.signature) != 64:
        return "signature is not 64 bytes"
    return None


def verify_certificate(certificate: CommitCertificate, validators: Sequence[bytes], *,
                       chain_id: str | None = None) -> None:
    """Raise :class:`InvalidCertificate` unless a quorum of ``validators`` signed it.

    Holds when more than two thirds of the set (2f+1 of 3f+1), each counted once, signed
    precommits for the certificate's value id, height and round, on its chain (and on
    ``chain_id``, when given). Every vote it carries must be such a precommit: a
    certificate padded with anything else is refused, not filtered.
    """
    try:
        check_validator_set(validators)
    except ValueError as error:
        raise InvalidCertificate(f"bad validator set: {error}") from None
    problem = _position_problem(certificate.chain_id, certificate.height, certificate.round)
    if problem:
        raise InvalidCertificate(problem)
    if chain_id is not None and certificate.chain_id != chain_id:
        raise InvalidCertificate(
            f"certificate is for chain {certificate.chain_id!r}, not {chain_id!r}")
    if len(certificate.value_id) != VALUE_ID_BYTES:
        raise InvalidCertificate("certificate value id is not 32 bytes (nil is never decided)")
    if len(certificate.votes) > len(validators):
        raise InvalidCertificate(
            f"certificate carries {len(certificate.votes)} votes for {len(validators)} validators")
    members = set(validators)
    signers: set[bytes] = set()
    for vote in certificate.votes:
        if vote_problem(vote) is not None:
            raise InvalidCertificate(f"malformed vote: {vote_problem(vote)}")
        if (vote.kind != PRECOMMIT or vote.chain_id != certificate.chain_id
                or vote.height != certificate.height or vote.round != certificate.round
                or vote.value_id != certificate.value_id):
            raise InvalidCertificate(
                f"vote of {vote.validator.hex()[:16]} is not a precommit for the "
                "certificate's chain, height, round and value")
        if vote.validator not in members:
            raise InvalidCertificate(
                f"vote of {vote.validator.hex()[:16]} is not from a validator of the set")
        if vote.validator in signers:
            raise InvalidCertificate(f"validator {vote.validator.hex()[:16]} is counted twice")
        if not verify_vote_signature(vote):
            raise InvalidCertificate(
                f"signature of {vote.validator.hex()[:16]} does not verify")
        signers.add(vote.validator)
    needed = quorum_size(len(validators))
    if len(signers) < needed:
        raise InvalidCertificate(
            f"{len(signers)} validators signed, a quorum of {len(validators)} is {needed}")


def commit_problem(commit: Commit, validators: Sequence[bytes], chain_id: str) -> str | None:
    """Why ``commit`` does not prove its value was decided, or None when it does."""
    try:
        verify_certificate(commit.certificate, validators, chain_id=chain_id)
    except InvalidCertificate as error:
        return error.reason
    if not isinstance(commit.value, bytes) or len(commit.value) > VALUE_BYTES_MAX:
        return f"value must be bytes of at most {VALUE_BYTES_MAX}"
    if value_id(commit.value) != commit.certificate.value_id:
        return "the certificate is for another value"
    return None


def _conflict_key(message: Proposal | Vote) -> tuple[str, bytes, str, int, int]:
    if isinstance(message, Proposal):
        return ("proposal", message.proposer, message.chain_id, message.height, message.round)
    return (message.kind, message.validator, message.chain_id, message.height, message.round)


def verify_evidence(evidence: Equivocation, validators: Sequence[bytes]) -> bytes:
    """Return the key of the validator ``evidence`` convicts; raise InvalidEvidence if none."""
    first, second = evidence.first, evidence.second
    if type(first) is not type(second):
        raise InvalidEvidence("the two messages are of different kinds")
    if _conflict_key(first) != _conflict_key(second):
        raise InvalidEvidence("the messages differ in signer, chain, height, round or kind")
    signer = _conflict_key(first)[1]
    if signer not in validators:
        raise InvalidEvidence("the signer is not in the validator set")
    if isinstance(first, Proposal) and isinstance(second, Proposal):
        same = (value_id(first.value), first.valid_round) == (
            value_id(second.value), second.valid_round)
        valid = verify_proposal_signature(first) and verify_proposal_signature(second)
    elif isinstance(first, Vote) and isinstance(second, Vote):
        same = first.value_id == second.value_id
        valid = verify_vote_signature(first) and verify_vote_signature(second)
    else:  # pragma: no cover - excluded by the type check above
        raise InvalidEvidence("mixed message kinds")
    if same:
        raise InvalidEvidence("the two messages sign the same content")
    if not valid:
        raise InvalidEvidence("a signature does not verify")
    return signer


def encode_message(message: Message | CommitCertificate | Equivocation) -> bytes:
    return _encoder.encode(message)


def decode_message(data: bytes) -> Message:
    """Decode a proposal, vote or commit; raise msgspec.DecodeError (or ValidationError)."""
    if len(data) > MESSAGE_BYTES_MAX:
        raise msgspec.DecodeError(f"message of {len(data)} bytes, limit {MESSAGE_BYTES_MAX}")
    message: Message = _message_decoder.decode(data)
    return message


def decode_evidence(data: bytes) -> Equivocation:
    evidence: Equivocation = _evidence_decoder.decode(data)
    return evidence
