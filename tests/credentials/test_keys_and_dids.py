"""Multikey encodings, did:key and did:web documents, and resolving a proof's key."""

from __future__ import annotations

import pytest

from oneteam.credentials.did import (
    DidKeySpec,
    FetchedDocuments,
    KeyResolver,
    ResolutionError,
    did_key,
    did_key_document,
    did_key_verification_method_id,
    did_web,
    did_web_document,
    did_web_to_url,
)
from oneteam.credentials.encoding import (
    EncodingError,
    base58btc_decode,
    base58btc_encode,
    base64url_decode,
    multibase_decode,
    varint_decode,
    varint_encode,
)
from oneteam.credentials.multikey import Ed25519KeyPair, Ed25519PublicKey, KeyFormatError

SEED = bytes(range(32))


def test_base58_and_varint_round_trip() -> None:
    for data in (b"", b"\x00", b"\x00\x00\x01", bytes(range(256))):
        assert base58btc_decode(base58btc_encode(data)) == data
    assert varint_encode(0xED) == b"\xed\x01"
    assert varint_encode(0x1300) == b"\x80\x26"
    assert varint_decode(b"\x80\x26rest") == (0x1300, 2)
    with pytest.raises(EncodingError):
        varint_decode(b"\x80\x00")  # not minimal
    with pytest.raises(EncodingError):
        base58btc_decode("0OIl")
    with pytest.raises(EncodingError):
        base64url_decode("ab+/")
    with pytest.raises(EncodingError):
        multibase_decode("mAAAA")  # base64 with padding alphabet, unsupported prefix


def test_multikey_prefixes() -> None:
    key = Ed25519KeyPair(SEED)
    assert key.public_key.multibase().startswith("z6Mk")
    assert key.secret_multibase().startswith("z3u2")
    assert Ed25519KeyPair.from_secret_multibase(key.secret_multibase()).public_key == key.public_key
    with pytest.raises(KeyFormatError, match="multicodec"):
        Ed25519PublicKey.from_multibase(key.secret_multibase())
    with pytest.raises(KeyFormatError):
        Ed25519PublicKey.from_multibase("z6MkjZRsdasZv3aez3r18pB1RBFJR1kwUVJ5jHt92JmQwXbd5hwi")


def test_sign_and_verify() -> None:
    key = Ed25519KeyPair(SEED)
    signature = key.sign(b"message")
    assert key.public_key.verify(b"message", signature)
    assert not key.public_key.verify(b"messagE", signature)
    assert not key.public_key.verify(b"message", signature[:-1])
    assert not Ed25519KeyPair.generate().public_key.verify(b"message", signature)


def test_did_key_document() -> None:
    key = Ed25519KeyPair(SEED).public_key
    did = did_key(key)
    document = did_key_document(did)
    method_id = did_key_verification_method_id(key)
    assert document["verificationMethod"][0] == {
        "id": method_id,
        "type": "Multikey",
        "controller": did,
        "publicKeyMultibase": key.multibase(),
    }
    assert document["assertionMethod"] == [method_id]
    resolved = KeyResolver().resolve(method_id)
    assert resolved.public_key == key and resolved.controller == did


@pytest.mark.parametrize(
    ("did", "url"),
    [
        ("did:web:w3c-ccg.github.io", "https://w3c-ccg.github.io/.well-known/did.json"),
        ("did:web:w3c-ccg.github.io:user:alice", "https://w3c-ccg.github.io/user/alice/did.json"),
        ("did:web:example.com%3A3000:user:alice", "https://example.com:3000/user/alice/did.json"),
        ("did:web:kaist.ac.kr", "https://kaist.ac.kr/.well-known/did.json"),
    ],
)
def test_did_web_to_url(did: str, url: str) -> None:
    assert did_web_to_url(did) == url


@pytest.mark.parametrize(
    "bad",
    [
        "did:web:localhost",
        "did:web:exa mple.com",
        "did:web:example.com/x",
        "did:web:example.com:..%2F",
        "did:key:z6Mk",
        "did:web:example.com%3A99999",
    ],
)
def test_bad_did_web_is_refused(bad: str) -> None:
    with pytest.raises(ResolutionError):
        did_web_to_url(bad)


def test_did_web_document_and_resolution_from_a_caller_map() -> None:
    key = Ed25519KeyPair(SEED).public_key
    did = did_web("members.example.kr", ["orgs", "kaist"])
    assert did == "did:web:members.example.kr:orgs:kaist"
    assert did_web("example.kr", port=8443) == "did:web:example.kr%3A8443"
    document = did_web_document(
        did,
        [
            DidKeySpec("key-2025", key),
            DidKeySpec("auth", Ed25519KeyPair.generate().public_key, ("authentication",)),
        ],
    )
    assert document["@context"] == [
        "https://www.w3.org/ns/did/v1",
        "https://w3id.org/security/multikey/v1",
    ]
    assert document["assertionMethod"] == [f"{did}#key-2025"]
    assert document["authentication"] == [f"{did}#key-2025", f"{did}#auth"]

    resolver = KeyResolver({did: document})
    assert resolver.resolve(f"{did}#key-2025").public_key == key
    with pytest.raises(ResolutionError) as raised:
        resolver.resolve(f"{did}#auth")  # not an assertion key
    assert raised.value.code == "METHOD_NOT_AUTHORIZED"
    with pytest.raises(ResolutionError) as raised:
        resolver.resolve(f"{did}#missing")
    assert raised.value.code == "METHOD_NOT_FOUND"
    with pytest.raises(ResolutionError) as raised:
        KeyResolver().resolve(f"{did}#key-2025")  # nothing supplied, nothing fetched
    assert raised.value.code == "CONTROLLER_DOCUMENT_UNAVAILABLE"


def test_fetcher_gets_the_did_web_url() -> None:
    key = Ed25519KeyPair(SEED).public_key
    did = did_web("example.kr")
    asked: list[str] = []

    def fetch(url: str) -> dict[str, object]:
        asked.append(url)
        return did_web_document(did, [DidKeySpec("k", key)])

    assert KeyResolver(FetchedDocuments(fetch)).resolve(f"{did}#k").public_key == key
    assert asked == ["https://example.kr/.well-known/did.json"]


def test_a_document_claiming_someone_elses_key_is_refused() -> None:
    key = Ed25519KeyPair(SEED).public_key
    did = did_web("example.kr")
    document = did_web_document(did, [DidKeySpec("k", key)])
    document["verificationMethod"][0]["controller"] = "did:web:attacker.example"
    with pytest.raises(ResolutionError) as raised:
        KeyResolver({did: document}).resolve(f"{did}#k")
    assert raised.value.code == "METHOD_CONTROLLER_MISMATCH"


def test_fragment_multikey_convention_is_opt_in() -> None:
    key = Ed25519KeyPair(SEED).public_key
    method = f"https://issuer.example/profile#{key.multibase()}"
    with pytest.raises(ResolutionError):
        KeyResolver().resolve(method)
    assert KeyResolver(accept_fragment_multikey=True).resolve(method).public_key == key
