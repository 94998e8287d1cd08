"""The sans-I/O handshake: completion, the test vector, tampering, replays, refusals."""

from __future__ import annotations

import hashlib
import struct
from collections.abc import Callable
from dataclasses import dataclass

import pytest

from oneteam.ledger.keys import KeyPair
from oneteam.ledger.p2p.errors import HandshakeError, PeerRefused, Refusal
from oneteam.ledger.p2p.handshake import (
    DOMAIN,
    HANDSHAKE_MESSAGE_MAX,
    HEADER_BYTES,
    KEY_BYTES,
    PERSON_HASH,
    PERSON_KDF,
    PERSON_MAC,
    PROTOCOL_VERSION,
    SIG_DOMAIN_INITIATOR,
    SIG_DOMAIN_RESPONDER,
    Handshake,
    Role,
    blake2b,
    initial_hash,
    mix_hash,
    refusal_message,
)
from oneteam.ledger.tx import SIGNING_DOMAIN

from .conftest import CHAIN, ValidatorSet, node_key

ALICE = node_key("alice")
BOB = node_key("bob")
CAROL = node_key("carol")
MALLORY = node_key("mallory")  # a well-formed key outside the validator set

Tamper = Callable[[int, bytes], bytes]


def untouched(index: int, message: bytes) -> bytes:
    return message


@dataclass(slots=True)
class Run:
    initiator: Handshake
    responder: Handshake
    messages: list[bytes]
    error: HandshakeError | None = None
    failed_side: Role | None = None


def make_pair(
    initiator: KeyPair = ALICE,
    responder: KeyPair = BOB,
    *,
    validators: ValidatorSet | None = None,
    responder_validators: ValidatorSet | None = None,
    initiator_chain: str = CHAIN,
    responder_chain: str = CHAIN,
    expected_peer: bytes | None = None,
    seeds: tuple[bytes, bytes] | None = None,
) -> tuple[Handshake, Handshake]:
    validators = validators or ValidatorSet.of(ALICE, BOB, CAROL)
    responder_validators = responder_validators or validators
    i_secret, r_secret = seeds or (None, None)
    return (
        Handshake(Role.INITIATOR, initiator, initiator_chain, validators.is_authorized,
                  expected_peer=expected_peer, ephemeral_secret=i_secret),
        Handshake(Role.RESPONDER, responder, responder_chain,
                  responder_validators.is_authorized, ephemeral_secret=r_secret),
    )


def drive(initiator: Handshake, responder: Handshake, tamper: Tamper = untouched) -> Run:
    """Run the exchange in memory; ``tamper(i, message)`` may rewrite the i-th message
    (0-based) on its way. Stops at the first error, recording who raised it."""
    run = Run(initiator, responder, [])
    message: bytes | None = initiator.start()
    sides = [responder, initiator]
    turn = 0
    while message is not None:
        message = tamper(len(run.messages), message)
        run.messages.append(message)
        receiver = sides[turn % 2]
        try:
            message = receiver.receive(message)
        except HandshakeError as error:
            run.error, run.failed_side = error, receiver.role
            return run
        turn += 1
    return run


def test_both_roles_complete_with_matching_keys() -> None:
    run = drive(*make_pair())
    assert run.error is None
    assert run.initiator.complete and run.responder.complete
    i, r = run.initiator.session(), run.responder.session()
    assert i.peer_key == BOB.public_key and r.peer_key == ALICE.public_key
    assert i.session_id == r.session_id
    assert i.send_key == r.recv_key and i.recv_key == r.send_key
    assert i.send_key != i.recv_key
    assert [len(m) for m in run.messages] == [8 + len(CHAIN) + 64, 167, 103, 39]
    assert "send_key" not in repr(i) and i.send_key.hex() not in repr(i)


def test_fresh_ephemerals_give_fresh_sessions() -> None:
    first, second = drive(*make_pair()), drive(*make_pair())
    assert first.initiator.session().session_id != second.initiator.session().session_id
    assert first.initiator.session().send_key != second.initiator.session().send_key


# The test vector of docs/ledger/P2P.md §8: fixed node seeds and ephemeral secrets.
VECTOR_INITIATOR = KeyPair.from_seed(bytes([1]) * 32)
VECTOR_RESPONDER = KeyPair.from_seed(bytes([2]) * 32)
VECTOR_EPHEMERALS = (bytes([3]) * 32, bytes([4]) * 32)
VECTOR = {
    "m1": "4f544c500001010c6f6e657465616d2d746573745dfedd3b6bd47f6fa28ee15d969d5bb0ea5377"
          "4d488bdaf9df1c6e0124b3ef228a88e3dd7409f195fd52db2d3cba5d72ca6709bf1d94121bf374"
          "8801b40f6f5c",
    "m2": "4f544c50000102ac01b2209e86354fb853237b5de0f4fab13c7fcbf433a61c019369617fecf10b"
          "8139770ea87d175f56a35466c34c7ecccb8d8a91b4ee37a25df60f5b8fc9b394cbdaa10469bead"
          "3fe3fb4dffcecb051e47d71e7b933f16a0af925608d28b312dde19c6c8b7404c0df212a42fbe8d"
          "aaa3c79604ea10ad66f68ffc63986628590ae83a0a2810e7d7554aa4895a7305f86aebb90bf9a9"
          "26360ebdb0269032b13046",
    "m3": "4f544c5000010325882028764323ea0392ee0649160aa690f51593f9a776f265fa131941ecdd75"
          "ec49d91affb5c66ab6598f9c71c2d885fb8d76012348a53d18b46500a04fc701cd5dc14ed0a66e"
          "d5a874b7d5c1def54d9bb9102f4ad6d04b9df2dffdb46de17d",
    "m4": "4f544c50000104c23bc879a836e87d632a820e4719720101e3e61dd7ea2cd1d6d268a9cf56b8fb",
    "session_id": "9f92f15e414dcb5cf80a49a5d2cad38d232513f265292dfb36eba6bb4a051884",
    "initiator_to_responder": "12018d4ae7f9f57430caca83ab6dbf5fe21d33388730b968c541ded00b0c91d6",
    "responder_to_initiator": "0aa5a959914c2fc01bf46123db7c5640b1eba5904065757f6ce97f599ffdc334",
}


def vector_run() -> Run:
    validators = ValidatorSet.of(VECTOR_INITIATOR, VECTOR_RESPONDER)
    return drive(*make_pair(VECTOR_INITIATOR, VECTOR_RESPONDER, validators=validators,
                            seeds=VECTOR_EPHEMERALS))


def test_known_answer_vector() -> None:
    """Fixed inputs give fixed bytes (Ed25519 signatures are deterministic): another
    implementation checks itself against these values."""
    run = vector_run()
    session = run.initiator.session()
    got = {
        "m1": run.messages[0].hex(),
        "m2": run.messages[1].hex(),
        "m3": run.messages[2].hex(),
        "m4": run.messages[3].hex(),
        "session_id": session.session_id.hex(),
        "initiator_to_responder": session.send_key.hex(),
        "responder_to_initiator": session.recv_key.hex(),
    }
    assert got == VECTOR


def test_blake2b_is_rfc7693_with_key_and_personalisation() -> None:
    data, key = b"transcript", bytes(range(64))
    for person in (PERSON_HASH, PERSON_KDF, PERSON_MAC):
        assert blake2b(data, person=person) == hashlib.blake2b(
            data, digest_size=32, person=person).digest()
        assert blake2b(data, size=64, key=key, person=person) == hashlib.blake2b(
            data, digest_size=64, key=key, person=person).digest()


# -- tampering ------------------------------------------------------------------------------------


def flip(index: int, position: int) -> Tamper:
    def tamper(i: int, message: bytes) -> bytes:
        if i != index:
            return message
        data = bytearray(message)
        data[position] ^= 0x01
        return bytes(data)

    return tamper


@pytest.mark.parametrize("index", [0, 1, 2, 3])
def test_every_flipped_bit_of_every_message_fails(index: int) -> None:
    """One flipped bit anywhere in M1..M4 stops the handshake before the flipped
    message's receiver (or any later step) completes."""
    size = len(drive(*make_pair()).messages[index])
    for position in range(size):
        run = drive(*make_pair(), flip(index, position))
        assert run.error is not None, f"M{index + 1} byte {position}: handshake completed"
        assert not run.initiator.complete
        if index < 3:  # the responder completes on M3; only M4 comes after
            assert not run.responder.complete, f"M{index + 1} byte {position}"
        assert run.error.refusal in {Refusal.MALFORMED, Refusal.VERSION, Refusal.WRONG_CHAIN,
                                     Refusal.UNAUTHORIZED, Refusal.BAD_SIGNATURE}


def replace(index: int, offset: int, new: bytes) -> Tamper:
    def tamper(i: int, message: bytes) -> bytes:
        if i != index:
            return message
        return message[:offset] + new + message[offset + len(new):]

    return tamper


M1_KEY_OFFSET = HEADER_BYTES + 1 + len(CHAIN) + KEY_BYTES  # s_i in M1
M2_KEY_OFFSET = HEADER_BYTES + KEY_BYTES  # s_r in M2


@dataclass(frozen=True, slots=True)
class Impostor(KeyPair):
    """Claims ``claimed`` as its public key but signs with its own signing key."""

    claimed: bytes = b""

    @property
    def public_key(self) -> bytes:
        return self.claimed


def test_initiator_claiming_another_validators_identity_is_refused() -> None:
    impostor = Impostor(MALLORY.signing_key, CAROL.public_key)
    run = drive(*make_pair(impostor))
    assert run.failed_side is Role.RESPONDER and len(run.messages) == 3
    assert run.error is not None and run.error.refusal is Refusal.BAD_SIGNATURE
    assert "initiator's signature" in run.error.reason and not run.responder.complete


def test_responder_claiming_another_validators_identity_is_refused() -> None:
    impostor = Impostor(MALLORY.signing_key, CAROL.public_key)
    run = drive(*make_pair(ALICE, impostor))
    assert run.failed_side is Role.INITIATOR and len(run.messages) == 2
    assert run.error is not None and run.error.refusal is Refusal.BAD_SIGNATURE
    assert "responder's signature" in run.error.reason


def test_swapped_identity_fields_are_refused() -> None:
    run = drive(*make_pair(), replace(0, M1_KEY_OFFSET, CAROL.public_key))
    assert run.error is not None and run.error.refusal is Refusal.BAD_SIGNATURE
    run = drive(*make_pair(), replace(1, M2_KEY_OFFSET, CAROL.public_key))
    assert run.error is not None and run.error.refusal is Refusal.BAD_SIGNATURE
    assert not run.initiator.complete and not run.responder.complete


def test_relaying_validator_cannot_bind_a_session_to_its_own_identity() -> None:
    """Unknown-key-share: Carol (a validator) relays Alice's ephemeral key to Bob under her
    own identity. Bob's reply is signed over Carol's name, so Alice rejects it; and Carol
    cannot finish with Bob because she lacks the ephemeral secret behind the MAC."""
    alice, bob = make_pair()
    m1 = alice.start()
    forged_m1 = m1[:M1_KEY_OFFSET] + CAROL.public_key
    m2 = bob.receive(forged_m1)
    assert m2 is not None
    with pytest.raises(HandshakeError) as to_alice:
        alice.receive(m2)
    assert to_alice.value.refusal is Refusal.BAD_SIGNATURE
    # Carol computes the transcript from what she saw, signs it, but must guess the MAC.
    h = mix_hash(mix_hash(initial_hash(), forged_m1), m2[:HEADER_BYTES + 2 * KEY_BYTES])
    h = mix_hash(h, m2[HEADER_BYTES + 2 * KEY_BYTES:])
    header = struct.pack(">4sHB", b"OTLP", PROTOCOL_VERSION, 3)
    h3 = mix_hash(h, header)
    m3 = header + CAROL.sign(SIG_DOMAIN_INITIATOR + h3) + bytes(32)
    with pytest.raises(HandshakeError) as to_bob:
        bob.receive(m3)
    assert "MAC" in to_bob.value.reason and not bob.complete


def test_expected_peer_mismatch_is_refused() -> None:
    run = drive(*make_pair(expected_peer=CAROL.public_key))
    assert run.failed_side is Role.INITIATOR
    assert run.error is not None and run.error.refusal is Refusal.UNEXPECTED_PEER
    assert run.error.reply is not None  # a refusal for the responder


def test_wrong_chain_is_refused_with_a_reason_the_initiator_sees() -> None:
    run = drive(*make_pair(initiator_chain="other-chain"))
    assert run.failed_side is Role.RESPONDER
    assert run.error is not None and run.error.refusal is Refusal.WRONG_CHAIN
    assert "'other-chain'" in run.error.reason
    assert run.error.reply is not None
    with pytest.raises(PeerRefused) as refused:
        run.initiator.receive(run.error.reply)
    assert refused.value.refusal is Refusal.WRONG_CHAIN
    assert run.initiator.failed


def test_wrong_version_is_refused() -> None:
    run = drive(*make_pair(), replace(0, 4, struct.pack(">H", PROTOCOL_VERSION + 1)))
    assert run.error is not None and run.error.refusal is Refusal.VERSION
    assert f"version {PROTOCOL_VERSION + 1}" in run.error.reason


def test_unauthorized_initiator_is_refused_at_hello() -> None:
    run = drive(*make_pair(MALLORY))
    assert run.failed_side is Role.RESPONDER and len(run.messages) == 1
    assert run.error is not None and run.error.refusal is Refusal.UNAUTHORIZED
    assert MALLORY.public_key.hex() in run.error.reason
    assert run.error.reply is not None
    with pytest.raises(PeerRefused) as refused:
        run.initiator.receive(run.error.reply)
    assert refused.value.refusal is Refusal.UNAUTHORIZED
    assert not run.initiator.complete and not run.responder.complete


def test_initiator_removed_from_the_set_during_the_handshake_is_refused() -> None:
    validators = ValidatorSet.of(ALICE, BOB)
    alice, bob = make_pair(validators=validators)
    m2 = bob.receive(alice.start())
    assert m2 is not None
    m3 = alice.receive(m2)
    assert m3 is not None
    validators.remove(ALICE)
    with pytest.raises(HandshakeError) as error:
        bob.receive(m3)
    assert error.value.refusal is Refusal.UNAUTHORIZED and not bob.complete


def test_unauthorized_responder_is_refused_by_the_initiator() -> None:
    """A node outside the set that accepts a validator's dial never gets M3, so it
    never holds session keys: nothing it sends can be acted on."""
    validators = ValidatorSet.of(ALICE, BOB)
    run = drive(*make_pair(ALICE, MALLORY, validators=validators,
                           responder_validators=ValidatorSet.of(ALICE)))
    assert run.failed_side is Role.INITIATOR and len(run.messages) == 2
    assert run.error is not None and run.error.refusal is Refusal.UNAUTHORIZED
    assert not run.responder.complete and not run.initiator.complete
    with pytest.raises(HandshakeError):
        run.initiator.receive(run.messages[1])  # failed for good


def test_self_connection_is_refused() -> None:
    run = drive(*make_pair(ALICE, ALICE))
    assert run.error is not None and run.error.refusal is Refusal.SELF_CONNECTION


def test_low_order_and_reflected_ephemeral_keys_are_refused() -> None:
    zero_key = replace(0, HEADER_BYTES + 1 + len(CHAIN), bytes(32))
    run = drive(*make_pair(), zero_key)
    assert run.error is not None and "low order" in run.error.reason
    same = bytes([7]) * 32  # both sides draw the same ephemeral: a reflection
    run = drive(*make_pair(seeds=(same, same)))
    assert run.failed_side is Role.RESPONDER and run.error is not None
    assert "echoed" in run.error.reason


# -- replays --------------------------------------------------------------------------------------


def test_replayed_messages_fail_in_a_new_session() -> None:
    old = drive(*make_pair())
    assert old.error is None
    # An old M2 into a new initiator.
    alice, _ = make_pair()
    alice.start()
    with pytest.raises(HandshakeError) as error:
        alice.receive(old.messages[1])
    assert error.value.refusal is Refusal.BAD_SIGNATURE
    # An eavesdropper replays Alice's old M1 to Bob, then her old M3.
    _, bob = make_pair()
    assert bob.receive(old.messages[0]) is not None  # Bob answers with a fresh M2
    with pytest.raises(HandshakeError) as error:
        bob.receive(old.messages[2])
    assert error.value.refusal is Refusal.BAD_SIGNATURE and not bob.complete
    # An old M4 into a new initiator that got this far honestly.
    alice, bob = make_pair()
    m2 = bob.receive(alice.start())
    assert m2 is not None
    alice.receive(m2)
    with pytest.raises(HandshakeError) as error:
        alice.receive(old.messages[3])
    assert error.value.refusal is Refusal.BAD_SIGNATURE and not alice.complete


def test_messages_out_of_order_or_after_the_end_are_refused() -> None:
    run = drive(*make_pair())
    alice, bob = make_pair()
    with pytest.raises(HandshakeError) as error:
        bob.receive(run.messages[2])  # M3 while waiting for M1
    assert error.value.refusal is Refusal.MALFORMED and "expected message type 1" in (
        error.value.reason)
    with pytest.raises(HandshakeError) as error:
        run.responder.receive(run.messages[2])  # complete: nothing more is accepted
    assert error.value.refusal is Refusal.STATE
    with pytest.raises(HandshakeError):
        bob.receive(run.messages[0])  # failed: nothing more is accepted
    with pytest.raises(HandshakeError):
        alice.receive(run.messages[1])  # start() was never called
    with pytest.raises(HandshakeError):
        make_pair()[1].start()  # a responder does not start


# -- sizes and shapes ----------------------------------------------------------------------------


def test_oversized_short_and_foreign_messages_are_refused() -> None:
    alice, bob = make_pair()
    m1 = alice.start()
    for message, refusal in [
        (m1 + bytes(HANDSHAKE_MESSAGE_MAX), Refusal.TOO_LARGE),
        (m1[:5], Refusal.MALFORMED),
        (b"GET / HTTP/1.1\r\n\r\n", Refusal.MALFORMED),
        (m1 + b"\x00", Refusal.MALFORMED),
        (m1[:-1], Refusal.MALFORMED),
    ]:
        _, bob = make_pair()
        with pytest.raises(HandshakeError) as error:
            bob.receive(message)
        assert error.value.refusal is refusal, message[:16]
        assert error.value.reply is not None and error.value.reply.startswith(b"OTLP")


def test_refusal_messages_are_bounded_and_parsed() -> None:
    message = refusal_message(Refusal.BUSY, "x" * 1000)
    assert len(message) == HEADER_BYTES + 2 + 200
    alice, _ = make_pair()
    alice.start()
    with pytest.raises(PeerRefused) as refused:
        alice.receive(message)
    assert refused.value.refusal is Refusal.BUSY and refused.value.reply is None
    alice, _ = make_pair()
    alice.start()
    with pytest.raises(PeerRefused) as refused:
        alice.receive(message[:-3])  # length byte does not match
    assert refused.value.refusal is Refusal.MALFORMED


def test_signatures_are_domain_separated_from_transactions() -> None:
    """A handshake signature is made over a p2p domain, never over bytes a transaction
    signature (``oneteam/tx/v1``) could cover."""
    domains = [SIG_DOMAIN_INITIATOR, SIG_DOMAIN_RESPONDER, DOMAIN, SIGNING_DOMAIN]
    for domain in domains:
        assert domain.endswith(b"\x00") and domain.count(b"\x00") == 1
        # zero-terminated and distinct: no domain is a prefix of another
        assert all(other == domain or not other.startswith(domain) for other in domains)


def test_constructor_rejects_bad_arguments() -> None:
    checker = ValidatorSet.of(ALICE).is_authorized
    with pytest.raises(ValueError, match="chain id"):
        Handshake(Role.INITIATOR, ALICE, "Not A Chain!", checker)
    with pytest.raises(ValueError, match="expected_peer"):
        Handshake(Role.INITIATOR, ALICE, CHAIN, checker, expected_peer=b"short")
    with pytest.raises(ValueError, match="only an initiator"):
        Handshake(Role.RESPONDER, ALICE, CHAIN, checker, expected_peer=BOB.public_key)
