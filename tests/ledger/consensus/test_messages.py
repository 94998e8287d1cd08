"""Signed messages, their domains and encodings; certificates as any client checks them."""

from __future__ import annotations

import msgspec
import pytest

from oneteam.ledger.consensus.messages import (
    PRECOMMIT_DOMAIN,
    PREVOTE_DOMAIN,
    PROPOSAL_DOMAIN,
    Commit,
    CommitCertificate,
    Equivocation,
    InvalidCertificate,
    InvalidEvidence,
    decode_evidence,
    decode_message,
    encode_message,
    faulty_max,
    proposal_signing_bytes,
    quorum_size,
    round_skip_size,
    sign_vote,
    value_id,
    verify_certificate,
    verify_evidence,
    verify_proposal_signature,
    verify_vote_signature,
    vote_signing_bytes,
)

from ..conftest import keypair_for
from .conftest import (
    CHAIN,
    KEYS,
    OUTSIDER,
    VALIDATORS,
    decisions,
    feed,
    make_core,
    precommit,
    prevote,
    proposal,
)

V = b"value-v"
W = b"value-w"


@pytest.mark.parametrize(("n", "f", "quorum", "skip"), [
    (1, 0, 1, 1), (4, 1, 3, 2), (7, 2, 5, 3), (10, 3, 7, 4), (100, 33, 67, 34),
    (5, 1, 4, 2), (6, 1, 5, 3),  # not 3f+1: still more than 2/3 and more than 1/3
])
def test_thresholds(n: int, f: int, quorum: int, skip: int) -> None:
    assert (faulty_max(n), quorum_size(n), round_skip_size(n)) == (f, quorum, skip)
    assert 3 * quorum > 2 * n and 3 * skip > n


def test_signatures_verify_and_bind_every_field() -> None:
    signed = prevote(1, 7, 2, V)
    assert verify_vote_signature(signed)
    for field, other in (("height", 8), ("round", 3), ("value_id", value_id(W)),
                         ("chain_id", "other"), ("validator", VALIDATORS[2])):
        assert not verify_vote_signature(msgspec.structs.replace(signed, **{field: other}))
    offered = proposal(1, 0, V)
    assert verify_proposal_signature(offered)
    assert not verify_proposal_signature(msgspec.structs.replace(offered, value=W))
    assert not verify_proposal_signature(msgspec.structs.replace(offered, valid_round=0))


def test_domains_keep_a_prevote_from_passing_for_a_precommit() -> None:
    assert len({PROPOSAL_DOMAIN, PREVOTE_DOMAIN, PRECOMMIT_DOMAIN}) == 3
    assert all(d.startswith(b"oneteam/") and d.endswith(b"/v1\x00")
               for d in (PROPOSAL_DOMAIN, PREVOTE_DOMAIN, PRECOMMIT_DOMAIN))
    signed = prevote(1, 1, 0, V)
    assert vote_signing_bytes(signed).startswith(PREVOTE_DOMAIN)
    assert not verify_vote_signature(msgspec.structs.replace(signed, kind="precommit"))
    assert proposal_signing_bytes(proposal(1, 0, V)).startswith(PROPOSAL_DOMAIN)


def test_messages_round_trip_through_their_encoding() -> None:
    for message in (proposal(1, 0, V), prevote(2, 1, 0, None), precommit(3, 1, 0, V)):
        data = encode_message(message)
        assert decode_message(data) == message
        assert msgspec.msgpack.decode(data)[0] in ("proposal", "vote")  # tagged arrays
    with pytest.raises(msgspec.ValidationError):
        decode_message(msgspec.msgpack.encode(["vote", CHAIN, "prevote", 1]))


def decided_certificate() -> tuple[bytes, CommitCertificate]:
    core = make_core(0)
    core.start_height(1)
    actions = feed(core, proposal(1, 0, V), precommit(1, 1, 0, V), precommit(2, 1, 0, V),
                   precommit(3, 1, 0, V))
    (decided,) = decisions(actions)
    return decided.value, decided.certificate


def test_a_real_certificate_verifies() -> None:
    value, certificate = decided_certificate()
    verify_certificate(certificate, VALIDATORS)
    verify_certificate(certificate, VALIDATORS, chain_id=CHAIN)
    assert certificate.value_id == value_id(value)
    assert decode_message(encode_message(Commit(value=value, certificate=certificate))) == (
        Commit(value=value, certificate=certificate))


def test_a_certificate_with_fewer_than_two_thirds_is_refused() -> None:
    _, certificate = decided_certificate()
    thin = msgspec.structs.replace(certificate, votes=certificate.votes[:2])
    with pytest.raises(InvalidCertificate, match="2 validators signed, a quorum of 4 is 3"):
        verify_certificate(thin, VALIDATORS)


def test_a_forged_signature_is_refused() -> None:
    _, certificate = decided_certificate()
    forged = (msgspec.structs.replace(certificate.votes[0], signature=bytes(64)),
              *certificate.votes[1:])
    with pytest.raises(InvalidCertificate, match="does not verify"):
        verify_certificate(msgspec.structs.replace(certificate, votes=forged), VALIDATORS)


def test_one_validator_counted_twice_is_refused() -> None:
    _, certificate = decided_certificate()
    padded = (*certificate.votes[:2], certificate.votes[0])
    with pytest.raises(InvalidCertificate, match="counted twice"):
        verify_certificate(msgspec.structs.replace(certificate, votes=padded), VALIDATORS)


def test_a_certificate_checked_against_another_validator_set_is_refused() -> None:
    _, certificate = decided_certificate()
    others = [keypair_for(f"consensus/other-{i}").public_key for i in range(4)]
    with pytest.raises(InvalidCertificate, match="not from a validator of the set"):
        verify_certificate(certificate, others)
    # Three of the four old validators are not a quorum of a set of seven.
    bigger = [*VALIDATORS, *others[:3]]
    with pytest.raises(InvalidCertificate, match="a quorum of 7 is 5"):
        verify_certificate(certificate, bigger)


def test_votes_of_outsiders_or_of_another_kind_height_round_value_chain_are_refused() -> None:
    _, certificate = decided_certificate()
    value = certificate.value_id
    wrong = [
        sign_vote(OUTSIDER, chain_id=CHAIN, kind="precommit", height=1, round_=0,
                  value_id=value),
        prevote(0, 1, 0, V),
        precommit(0, 2, 0, V),
        precommit(0, 1, 1, V),
        precommit(0, 1, 0, W),
        sign_vote(KEYS[0], chain_id="other", kind="precommit", height=1, round_=0,
                  value_id=value),
    ]
    for vote in wrong:
        tampered = msgspec.structs.replace(certificate, votes=(*certificate.votes[:2], vote))
        with pytest.raises(InvalidCertificate):
            verify_certificate(tampered, VALIDATORS)


def test_a_certificate_for_another_chain_or_for_nil_is_refused() -> None:
    _, certificate = decided_certificate()
    with pytest.raises(InvalidCertificate, match="is for chain"):
        verify_certificate(certificate, VALIDATORS, chain_id="another-chain")
    with pytest.raises(InvalidCertificate, match="nil is never decided"):
        verify_certificate(msgspec.structs.replace(certificate, value_id=b""), VALIDATORS)
    with pytest.raises(InvalidCertificate, match="bad validator set"):
        verify_certificate(certificate, [])


def test_a_certificate_is_refused_if_it_carries_more_votes_than_validators() -> None:
    _, certificate = decided_certificate()
    stuffed = msgspec.structs.replace(certificate, votes=certificate.votes * 2)
    with pytest.raises(InvalidCertificate, match="carries 6 votes for 4 validators"):
        verify_certificate(stuffed, VALIDATORS)


def test_evidence_convicts_an_equivocator_and_nothing_else() -> None:
    evidence = Equivocation(first=prevote(2, 1, 0, V), second=prevote(2, 1, 0, W))
    assert verify_evidence(evidence, VALIDATORS) == VALIDATORS[2]
    assert decode_evidence(encode_message(evidence)) == evidence
    twins = Equivocation(first=proposal(1, 0, V), second=proposal(1, 0, W))
    assert verify_evidence(twins, VALIDATORS) == VALIDATORS[1]
    innocent = [
        Equivocation(first=prevote(2, 1, 0, V), second=prevote(2, 1, 0, V)),
        Equivocation(first=prevote(2, 1, 0, V), second=prevote(2, 1, 1, W)),
        Equivocation(first=prevote(2, 1, 0, V), second=precommit(2, 1, 0, W)),
        Equivocation(first=prevote(2, 1, 0, V), second=prevote(3, 1, 0, W)),
        Equivocation(first=prevote(2, 1, 0, V), second=proposal(1, 0, W)),
        Equivocation(first=prevote(2, 1, 0, V), second=msgspec.structs.replace(
            prevote(2, 1, 0, W), signature=bytes(64))),
    ]
    for evidence in innocent:
        with pytest.raises(InvalidEvidence):
            verify_evidence(evidence, VALIDATORS)
