"""Transactions: the wire format round-trips, and every malformed or forged one is refused.

Refusals must be :class:`LedgerError` subclasses with the right code; nothing a
client can send may raise anything else out of ``decode_and_verify``.
"""

from __future__ import annotations

import hashlib
from typing import Any

import msgspec
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from oneteam.ledger.contracts.anchors import AnchorBatch
from oneteam.ledger.contracts.credits import Allocate, ApproveUsage, Charge, Transfer
from oneteam.ledger.contracts.membership import Approve, Propose
from oneteam.ledger.errors import BadSignature, LedgerError, MalformedTransaction, WrongChain
from oneteam.ledger.keys import KeyPair
from oneteam.ledger.tx import (
    HEIGHT_MAX,
    SIGNING_DOMAIN,
    TX_BYTES_MAX,
    SignedTx,
    TxBody,
    decode_and_verify,
    decode_unverified,
    encode_tx,
    txid_of,
)

from .conftest import CHAIN_ID, keypair_for, sign_body

enc = msgspec.msgpack.Encoder()
KEY = keypair_for("tx-tests")


def raw(value: Any) -> msgspec.Raw:
    return msgspec.Raw(enc.encode(value))


def transfer_wire(nonce: int = 3, *, chain_id: str = CHAIN_ID, amount: int = 25) -> bytes:
    return encode_tx(KEY, chain_id=chain_id, org="alpha", nonce=nonce, op="credits.transfer",
                     args=Transfer(to="beta", amount=amount, memo="lunch"), expiry_height=90)


def body_wire(
    *,
    op: str = "credits.transfer",
    args: msgspec.Raw | None = None,
    org: str = "alpha",
    nonce: int = 1,
    sender: bytes | None = None,
    keypair: KeyPair = KEY,
) -> bytes:
    """A correctly signed wire over a hand-built (canonically encoded) body."""
    body = TxBody(
        chain_id=CHAIN_ID, org=org, sender=keypair.public_key if sender is None else sender,
        nonce=nonce, expiry_height=HEIGHT_MAX, op=op,
        args=args if args is not None else raw(Transfer(to="beta", amount=1)),
    )
    return sign_body(keypair, enc.encode(body))


def split(wire: bytes) -> tuple[bytes, bytes]:
    signed = msgspec.msgpack.decode(wire, type=SignedTx)
    return signed.body, signed.signature


# -- round trip -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("op", "args"),
    [
        ("credits.transfer", Transfer(to="beta", amount=25, memo="lunch")),
        ("credits.allocate", Allocate(to="gamma", amount=2**62)),
        ("credits.approve_usage", ApproveUsage(provider="beta", limit=0)),
        ("credits.charge", Charge(consumer="gamma", amount=1, usage_ref="job:42/a")),
        ("anchors.anchor_batch", AnchorBatch(batch_id="b-1", root=bytes(32), count=7)),
        ("membership.propose", Propose(action="add", org="epsilon", name="E",
                                       roles=["issuer"], keys=[bytes(range(32))])),
        ("membership.approve", Approve(org="epsilon")),
    ],
)
def test_encode_decode_round_trip(op: str, args: msgspec.Struct) -> None:
    """Every field survives encode/decode, the id is sha256(body), and the signature verifies."""
    wire = encode_tx(KEY, chain_id=CHAIN_ID, org="alpha", nonce=17, op=op, args=args,
                     expiry_height=1234)
    tx = decode_and_verify(wire, CHAIN_ID)
    body, _ = split(wire)
    assert tx.txid == hashlib.sha256(body).digest() == txid_of(wire)
    assert tx.txid_hex == tx.txid.hex()
    assert (tx.chain_id, tx.org, tx.sender, tx.nonce, tx.expiry_height, tx.op) == (
        CHAIN_ID, "alpha", KEY.public_key, 17, 1234, op)
    assert tx.args == args
    assert tx.wire == wire
    assert decode_unverified(wire, CHAIN_ID) == tx


def test_ids_differ_when_any_field_differs() -> None:
    """Nonce, amount and chain all enter the id, so no two distinct transactions share one."""
    ids = {txid_of(transfer_wire(1)), txid_of(transfer_wire(2)),
           txid_of(transfer_wire(1, amount=26)), txid_of(transfer_wire(1, chain_id="other"))}
    assert len(ids) == 4


def test_encode_refuses_arguments_of_another_operation() -> None:
    """encode_tx checks the argument type names the operation, so a caller cannot mix them up."""
    with pytest.raises(TypeError, match=r"credits\.transfer takes Transfer"):
        encode_tx(KEY, chain_id=CHAIN_ID, org="alpha", nonce=0, op="credits.transfer",
                  args=Allocate(to="beta", amount=1))
    with pytest.raises(KeyError, match="unknown operation"):
        encode_tx(KEY, chain_id=CHAIN_ID, org="alpha", nonce=0, op="credits.mint",
                  args=Transfer(to="beta", amount=1))


# -- chain and signature --------------------------------------------------------------------------


def test_wrong_chain_id_is_refused() -> None:
    """A transaction signed for another chain cannot be replayed here."""
    wire = transfer_wire(chain_id="other-chain")
    with pytest.raises(WrongChain, match="other-chain") as info:
        decode_and_verify(wire, CHAIN_ID)
    assert info.value.code == "wrong_chain"
    assert decode_and_verify(wire, "other-chain").chain_id == "other-chain"


@pytest.mark.parametrize("position", [0, 31, 32, 63])
def test_flipped_signature_byte_is_refused(position: int) -> None:
    """Changing any part of the signature (R or S half) makes it fail to verify."""
    body, signature = split(transfer_wire())
    forged = bytearray(signature)
    forged[position] ^= 0x01
    wire = enc.encode(SignedTx(body=body, signature=bytes(forged)))
    with pytest.raises(BadSignature) as info:
        decode_and_verify(wire, CHAIN_ID)
    assert info.value.code == "bad_signature"


def test_changed_body_under_old_signature_is_refused() -> None:
    """Re-encoding a body with a different amount keeps the old signature, which no longer fits."""
    body, signature = split(transfer_wire())
    decoded = msgspec.msgpack.decode(body, type=TxBody)
    altered = msgspec.structs.replace(decoded, args=raw(Transfer(to="beta", amount=9_999,
                                                                 memo="lunch")))
    with pytest.raises(BadSignature):
        decode_and_verify(enc.encode(SignedTx(enc.encode(altered), signature)), CHAIN_ID)


def test_signature_by_another_key_is_refused() -> None:
    """The body names its sender key; a signature by any other key does not verify."""
    body, _ = split(transfer_wire())
    other = keypair_for("mallory")
    wire = enc.encode(SignedTx(body, other.sign(SIGNING_DOMAIN + body)))
    with pytest.raises(BadSignature):
        decode_and_verify(wire, CHAIN_ID)


def test_signature_without_domain_is_refused() -> None:
    """The signing domain separates transaction signatures from signatures over the same bytes."""
    body, _ = split(transfer_wire())
    wire = enc.encode(SignedTx(body, KEY.sign(body)))
    with pytest.raises(BadSignature):
        decode_and_verify(wire, CHAIN_ID)


def test_every_single_byte_change_is_refused() -> None:
    """Flipping any one bit anywhere in a valid wire yields a refusal, never another valid tx."""
    wire = transfer_wire()
    for position in range(len(wire)):
        for mask in (0x01, 0x80):
            mutated = bytearray(wire)
            mutated[position] ^= mask
            with pytest.raises(LedgerError):
                decode_and_verify(bytes(mutated), CHAIN_ID)


# -- canonical form -------------------------------------------------------------------------------


def test_args_map_in_another_key_order_is_refused() -> None:
    """Arguments are canonical only in declared field order; any reordering is malformed."""
    reordered = raw({"amount": 1, "to": "beta", "memo": ""})
    with pytest.raises(MalformedTransaction, match="canonical"):
        decode_and_verify(body_wire(args=reordered), CHAIN_ID)
    # The same arguments in field order are accepted: only the order was at fault.
    canonical = raw({"to": "beta", "amount": 1, "memo": ""})
    assert decode_and_verify(body_wire(args=canonical), CHAIN_ID).args == Transfer("beta", 1)


def test_args_omitting_a_default_field_are_refused() -> None:
    """Omitting ``memo`` decodes to the same value but is not the canonical encoding."""
    with pytest.raises(MalformedTransaction, match="canonical"):
        decode_and_verify(body_wire(args=raw({"to": "beta", "amount": 1})), CHAIN_ID)


def test_non_minimal_int_in_args_is_refused() -> None:
    """An amount encoded as uint16 (0xcd 0x0001) instead of a fixint is not canonical."""
    args = enc.encode({"to": msgspec.Raw(enc.encode("beta")),
                       "amount": msgspec.Raw(b"\xcd\x00\x01"),
                       "memo": msgspec.Raw(enc.encode(""))})
    assert msgspec.msgpack.decode(args) == {"to": "beta", "amount": 1, "memo": ""}
    with pytest.raises(MalformedTransaction, match="canonical"):
        decode_and_verify(body_wire(args=msgspec.Raw(args)), CHAIN_ID)


def test_non_minimal_nonce_in_body_is_refused() -> None:
    """A body whose nonce is encoded as uint64 is refused even though it is correctly signed."""
    parts = [CHAIN_ID, "alpha", KEY.public_key]
    body = enc.encode([
        *(msgspec.Raw(enc.encode(p)) for p in parts),
        msgspec.Raw(b"\xcf" + (5).to_bytes(8, "big")),
        msgspec.Raw(enc.encode(HEIGHT_MAX)),
        msgspec.Raw(enc.encode("credits.transfer")),
        raw(Transfer(to="beta", amount=1)),
    ])
    assert msgspec.msgpack.decode(body, type=TxBody).nonce == 5
    with pytest.raises(MalformedTransaction, match="canonical"):
        decode_and_verify(sign_body(KEY, body), CHAIN_ID)


def test_non_canonical_outer_wire_is_refused() -> None:
    """The wire itself must be canonical: a bin32 header around the same body is malleated.

    Otherwise two different wires share one txid, and blocks (whose tx root is over
    wires) could commit bytes other than those the client signed and submitted.
    """
    wire = transfer_wire()
    body, signature = split(wire)
    malleated = b"\x92\xc6" + len(body).to_bytes(4, "big") + body + enc.encode(signature)
    assert txid_of(malleated) == txid_of(wire)
    with pytest.raises(MalformedTransaction, match="canonical"):
        decode_and_verify(malleated, CHAIN_ID)


def test_trailing_bytes_are_refused() -> None:
    """Bytes after the signed transaction are not silently ignored."""
    with pytest.raises(MalformedTransaction):
        decode_and_verify(transfer_wire() + b"\x00", CHAIN_ID)


def test_invalid_utf8_in_body_is_malformed() -> None:
    """A body string that is not UTF-8 is a MalformedTransaction, not a UnicodeDecodeError.

    (msgspec raises UnicodeDecodeError for it, which once escaped admission and
    turned a whole batch into an HTTP 500.)
    """
    body = enc.encode([
        msgspec.Raw(enc.encode(CHAIN_ID)),
        msgspec.Raw(b"\xa2\xff\xfe"),  # fixstr of two bytes that are not UTF-8
        msgspec.Raw(enc.encode(KEY.public_key)),
        msgspec.Raw(enc.encode(0)),
        msgspec.Raw(enc.encode(HEIGHT_MAX)),
        msgspec.Raw(enc.encode("credits.transfer")),
        raw(Transfer(to="beta", amount=1)),
    ])
    with pytest.raises(MalformedTransaction, match="malformed body"):
        decode_and_verify(sign_body(KEY, body), CHAIN_ID)
    bad_args = msgspec.Raw(b"\x83\xa2to\xa2\xff\xfe\xa6amount\x01\xa4memo\xa0")
    with pytest.raises(MalformedTransaction, match="bad arguments"):
        decode_and_verify(body_wire(args=bad_args), CHAIN_ID)


# -- operations and arguments ---------------------------------------------------------------------


def test_unknown_operation_is_refused() -> None:
    """A correctly signed transaction naming no registered operation is malformed."""
    with pytest.raises(MalformedTransaction, match=r"unknown operation 'credits\.mint'"):
        decode_and_verify(body_wire(op="credits.mint"), CHAIN_ID)


@pytest.mark.parametrize(
    ("op", "args", "match"),
    [
        ("credits.transfer", Transfer(to="beta", amount=0), "amount"),
        ("credits.transfer", Transfer(to="beta", amount=-5), "amount"),
        ("credits.transfer", Transfer(to="beta", amount=2**62 + 1), "amount"),
        ("credits.transfer", Transfer(to="Beta Corp", amount=1), "to"),
        ("credits.transfer", Transfer(to="", amount=1), "to"),
        ("credits.transfer", Transfer(to="-beta", amount=1), "to"),
        ("credits.transfer", Transfer(to="a" * 65, amount=1), "to"),
        ("credits.transfer", Transfer(to=5, amount=1), "to"),  # type: ignore[arg-type]
        ("credits.transfer", Transfer(to="beta", amount="1"), "amount"),  # type: ignore[arg-type]
        ("credits.transfer", Transfer(to="beta", amount=1, memo="m" * 257), "memo"),
        ("credits.allocate", Allocate(to="beta", amount=0), "amount"),
        ("credits.approve_usage", ApproveUsage(provider="BETA", limit=1), "provider"),
        ("credits.approve_usage", ApproveUsage(provider="beta", limit=-1), "limit"),
        ("credits.approve_usage", ApproveUsage(provider="beta", limit=2**62 + 1), "limit"),
        ("credits.charge", Charge(consumer="beta", amount=1, usage_ref="has space"),
         "usage_ref"),
        ("anchors.anchor_batch", AnchorBatch(batch_id="b", root=bytes(31), count=1), "root"),
        ("anchors.anchor_batch", AnchorBatch(batch_id="b", root=bytes(32), count=0), "count"),
        ("anchors.anchor_batch", AnchorBatch(batch_id="b", root=bytes(32), count=1_000_001),
         "count"),
        ("anchors.anchor_batch", AnchorBatch(batch_id="b\n", root=bytes(32), count=1),
         "batch_id"),
        ("credits.transfer", Transfer(to="beta\n", amount=1), "to"),
        ("membership.propose", Propose(action="add", org="x", keys=[bytes(31)]), "keys"),
        ("membership.propose", Propose(action="add", org="x", roles=["king"]), "roles"),
        ("membership.approve", Approve(org="UPPER"), "org"),
    ],
)
def test_bad_arguments_are_refused(op: str, args: msgspec.Struct, match: str) -> None:
    """Argument types and constraints (org id pattern, amount > 0, sizes) hold at admission."""
    wire = encode_tx(KEY, chain_id=CHAIN_ID, org="alpha", nonce=0, op=op, args=args)
    with pytest.raises(MalformedTransaction, match="bad arguments") as info:
        decode_and_verify(wire, CHAIN_ID)
    assert match in info.value.reason
    assert info.value.code == "malformed"


def test_unknown_argument_field_is_refused() -> None:
    """An extra field in the arguments is not ignored (forbid_unknown_fields)."""
    args = raw({"to": "beta", "amount": 1, "memo": "", "bonus": 1})
    with pytest.raises(MalformedTransaction, match="bad arguments"):
        decode_and_verify(body_wire(args=args), CHAIN_ID)


@pytest.mark.parametrize(
    ("field", "value", "match"),
    [
        ("org", "", "organization id"),
        ("org", "o" * 65, "organization id"),
        ("sender", bytes(31), "sender key"),
        ("nonce", -1, "nonce"),
    ],
)
def test_bad_body_fields_are_refused(field: str, value: Any, match: str) -> None:
    """Out-of-range body fields are malformed, checked before the signature."""
    kwargs: dict[str, Any] = {field: value}
    with pytest.raises(MalformedTransaction, match=match):
        decode_and_verify(body_wire(**kwargs), CHAIN_ID)


def test_short_signature_is_refused() -> None:
    """A signature of the wrong length is malformed rather than merely failing to verify."""
    body, signature = split(transfer_wire())
    with pytest.raises(MalformedTransaction, match="signature has 63 bytes"):
        decode_and_verify(enc.encode(SignedTx(body, signature[:63])), CHAIN_ID)


# -- size -----------------------------------------------------------------------------------------


def _propose_wire(name_length: int) -> bytes:
    args = Propose(action="add", org="big", name="n" * name_length, keys=[bytes(32)])
    return encode_tx(KEY, chain_id=CHAIN_ID, org="alpha", nonce=0, op="membership.propose",
                     args=args)


def test_transaction_size_limit_is_exact() -> None:
    """A validly signed transaction of exactly TX_BYTES_MAX bytes passes; one byte more does not."""
    overhead = len(_propose_wire(1000)) - 1000
    at_limit = _propose_wire(TX_BYTES_MAX - overhead)
    assert len(at_limit) == TX_BYTES_MAX
    assert decode_and_verify(at_limit, CHAIN_ID).op == "membership.propose"
    over = _propose_wire(TX_BYTES_MAX - overhead + 1)
    assert len(over) == TX_BYTES_MAX + 1
    with pytest.raises(MalformedTransaction, match=f"limit {TX_BYTES_MAX}"):
        decode_and_verify(over, CHAIN_ID)


# -- garbage --------------------------------------------------------------------------------------


def test_every_truncation_is_refused() -> None:
    """Each proper prefix of a valid wire (including empty) is refused as malformed."""
    wire = transfer_wire()
    for length in range(len(wire)):
        with pytest.raises(MalformedTransaction):
            decode_and_verify(wire[:length], CHAIN_ID)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.binary(max_size=512))
def test_random_bytes_raise_only_ledger_errors(data: bytes) -> None:
    """Arbitrary bytes never escape as anything but a LedgerError (and never verify)."""
    with pytest.raises(LedgerError):
        decode_and_verify(data, CHAIN_ID)


@settings(max_examples=300, deadline=None)
@given(st.data())
def test_mutated_wires_raise_only_ledger_errors(data: st.DataObject) -> None:
    """Random splices, insertions and deletions in a valid wire are refused with LedgerErrors."""
    wire = bytearray(transfer_wire())
    start = data.draw(st.integers(0, len(wire)))
    stop = data.draw(st.integers(start, min(len(wire), start + 16)))
    insert = data.draw(st.binary(max_size=16))
    mutated = bytes(wire[:start]) + insert + bytes(wire[stop:])
    if mutated == bytes(wire):
        assert decode_and_verify(mutated, CHAIN_ID).nonce == 3
        return
    with pytest.raises(LedgerError):
        decode_and_verify(mutated, CHAIN_ID)


@settings(max_examples=200, deadline=None)
@given(
    body=st.lists(
        st.one_of(st.none(), st.booleans(), st.integers(-(2**63), 2**64 - 1), st.text(max_size=8),
                  st.binary(max_size=40), st.lists(st.integers(0, 9), max_size=3)),
        max_size=9,
    ),
    signature=st.binary(min_size=60, max_size=66),
)
def test_structured_garbage_raises_only_ledger_errors(body: list[Any], signature: bytes) -> None:
    """Well-formed msgpack of the wrong shape inside a wire envelope is refused cleanly."""
    wire = enc.encode([enc.encode(body), signature])
    with pytest.raises(LedgerError):
        decode_and_verify(wire, CHAIN_ID)
