"""docs/ledger/P2P.md, re-implemented from the document alone (hashlib and libsodium, no
oneteam.ledger.p2p code), must reproduce the implementation's test vector byte for byte."""

from __future__ import annotations

import hashlib
import struct

import nacl.bindings
import nacl.signing

from .test_handshake import VECTOR

DOMAIN = b"oneteam/ledger/p2p/v1\x00"
SIG_R = b"oneteam/ledger/p2p/v1/responder\x00"
SIG_I = b"oneteam/ledger/p2p/v1/initiator\x00"
P_HASH, P_KDF, P_MAC = b"oneteam-p2p-hash", b"oneteam-p2p-kdf1", b"oneteam-p2p-mac1"
FRAME_VECTOR = "00000016f231d9f64b2448ba82222cfc875dc2d253cf35463450"


def h_(data: bytes) -> bytes:
    return hashlib.blake2b(data, digest_size=32, person=P_HASH).digest()


def mix(h: bytes, data: bytes) -> bytes:
    return h_(h + data)


def kdf(ck: bytes, label: bytes, ctx: bytes = b"", n: int = 32) -> bytes:
    return hashlib.blake2b(label + ctx, digest_size=n, key=ck, person=P_KDF).digest()


def mac(k: bytes, data: bytes) -> bytes:
    return hashlib.blake2b(data, digest_size=32, key=k, person=P_MAC).digest()


def header(kind: int) -> bytes:
    return b"OTLP" + struct.pack(">HB", 1, kind)


def test_document_reproduces_the_vector() -> None:
    chain = b"oneteam-test"
    node_i = nacl.signing.SigningKey(bytes([1]) * 32)
    node_r = nacl.signing.SigningKey(bytes([2]) * 32)
    s_i, s_r = bytes(node_i.verify_key), bytes(node_r.verify_key)
    x, y = bytes([3]) * 32, bytes([4]) * 32
    e_i, e_r = nacl.bindings.crypto_scalarmult_base(x), nacl.bindings.crypto_scalarmult_base(y)

    h0 = h_(DOMAIN)
    assert h0.hex() == "f74e7f5ba4152291fb42fcdba93d13999c65ef5445477029850f2bbf1d74525a"
    m1 = header(1) + bytes([len(chain)]) + chain + e_i + s_i
    h1 = mix(h0, m1)

    body2 = header(2) + e_r + s_r
    h2 = mix(h1, body2)
    dh = nacl.bindings.crypto_scalarmult(y, e_i)
    assert dh == nacl.bindings.crypto_scalarmult(x, e_r)
    ck = kdf(dh, b"master", h2, 64)
    sig_r = node_r.sign(SIG_R + h2).signature
    mac_r = mac(kdf(ck, b"confirm responder"), h2 + sig_r)
    m2 = body2 + sig_r + mac_r
    h2b = mix(h2, sig_r + mac_r)

    h3 = mix(h2b, header(3))
    sig_i = node_i.sign(SIG_I + h3).signature
    mac_i = mac(kdf(ck, b"confirm initiator"), h3 + sig_i)
    m3 = header(3) + sig_i + mac_i
    h_final = mix(h3, sig_i + mac_i)

    m4 = header(4) + mac(kdf(ck, b"accept"), h_final)
    k_i2r = kdf(ck, b"initiator to responder", h_final)
    k_r2i = kdf(ck, b"responder to initiator", h_final)

    assert {
        "m1": m1.hex(), "m2": m2.hex(), "m3": m3.hex(), "m4": m4.hex(),
        "session_id": h_final.hex(),
        "initiator_to_responder": k_i2r.hex(), "responder_to_initiator": k_r2i.hex(),
    } == VECTOR
    assert [len(m) for m in (m1, m2, m3, m4)] == [72 + len(chain), 167, 103, 39]

    # §5: the first frame, DATA "hello", counter 0.
    plaintext = b"\x00" + b"hello"
    prefix = struct.pack(">I", len(plaintext) + 16)
    nonce = bytes(4) + (0).to_bytes(8, "little")
    frame = prefix + nacl.bindings.crypto_aead_chacha20poly1305_ietf_encrypt(
        plaintext, prefix, nonce, k_i2r)
    assert frame.hex() == FRAME_VECTOR


def test_frame_vector_matches_the_implementation() -> None:
    from oneteam.ledger.p2p.framing import FrameKind, FrameSealer

    key = bytes.fromhex(VECTOR["initiator_to_responder"])
    assert FrameSealer(key).seal(FrameKind.DATA, b"hello").hex() == FRAME_VECTOR
