"""Bitstring Status List v1.0 and the credential-batch Merkle tree."""

from __future__ import annotations

import gzip

import pytest

from oneteam.credentials import merkle
from oneteam.credentials.encoding import base64url_decode
from oneteam.credentials.statuslist import (
    MINIMUM_LIST_BITS,
    IndexAllocator,
    StatusList,
    StatusListError,
    build_status_list_credential,
    check_status,
    status_list_entry,
)
from oneteam.ledger import merkle as ledger_merkle
from tests.credentials.helpers import OB30, load_json

LIST_URL = "https://members.example.kr/kaist/status/1"


def test_bit_order_is_most_significant_first() -> None:
    status_list = StatusList()
    status_list.set(0, 1)
    status_list.set(9, 1)
    data = status_list.to_bytes()
    assert data[0] == 0b1000_0000 and data[1] == 0b0100_0000
    assert status_list.get(0) == 1 and status_list.get(1) == 0 and status_list.get(9) == 1
    status_list.set(0, 0)
    assert status_list.get(0) == 0


def test_encoding_round_trip_and_format() -> None:
    status_list = StatusList()
    for index in (0, 7, 8, 94567, MINIMUM_LIST_BITS - 1):
        status_list.set(index, 1)
    encoded = status_list.encode()
    assert encoded.startswith("u") and "=" not in encoded
    raw = gzip.decompress(base64url_decode(encoded[1:]))
    assert len(raw) * 8 == MINIMUM_LIST_BITS
    decoded = StatusList.decode(encoded)
    assert decoded.to_bytes() == status_list.to_bytes()
    assert encoded == status_list.encode()  # reproducible bytes


def test_multi_bit_statuses() -> None:
    status_list = StatusList(MINIMUM_LIST_BITS // 2, status_size=2)
    status_list.set(3, 0b10)
    assert status_list.get(3) == 2 and status_list.get(2) == 0 and status_list.get(4) == 0
    with pytest.raises(StatusListError):
        status_list.set(3, 4)


def test_short_lists_and_zip_bombs_are_refused() -> None:
    short = StatusList(1024)
    with pytest.raises(StatusListError) as raised:
        StatusList.decode(short.encode())
    assert raised.value.code == "STATUS_LIST_LENGTH_ERROR"
    bomb = "u" + __import__("base64").urlsafe_b64encode(
        gzip.compress(bytes(64 << 20))
    ).decode().rstrip("=")
    with pytest.raises(StatusListError):
        StatusList.decode(bomb)


def test_1edtech_test_list_decodes_with_index_23_set() -> None:
    testlist = load_json(OB30 / "bit-string-list" / "testlist")
    status_list = StatusList.decode(testlist["credentialSubject"]["encodedList"])
    assert status_list.bit_length == MINIMUM_LIST_BITS
    assert status_list.get(23) == 1
    assert [index for index in range(64) if status_list.get(index)] == [23]


def test_random_indexes_never_collide_and_the_list_refuses_past_half() -> None:
    allocator = IndexAllocator(used=[5, 6])
    seen = {allocator.allocate() for _ in range(2000)}
    assert len(seen) == 2000 and not seen & {5, 6}
    assert all(0 <= index < MINIMUM_LIST_BITS for index in seen)
    with pytest.raises(StatusListError):
        IndexAllocator(length=1000)
    nearly_full = IndexAllocator(used=range(MINIMUM_LIST_BITS // 2 - 1))
    nearly_full.allocate()
    with pytest.raises(StatusListError) as raised:
        nearly_full.allocate()
    assert raised.value.code == "STATUS_LIST_FULL"


def test_entry_and_list_credential_and_status_check() -> None:
    status_list = StatusList()
    status_list.set(4242, 1)
    credential = build_status_list_credential(
        list_credential_url=LIST_URL,
        issuer="did:web:members.example.kr:kaist",
        purpose="revocation",
        status_list=status_list,
        valid_from="2025-01-01T00:00:00Z",
    )
    assert credential["type"] == ["VerifiableCredential", "BitstringStatusListCredential"]
    assert credential["credentialSubject"]["type"] == "BitstringStatusList"
    revoked = status_list_entry(LIST_URL, 4242)
    assert revoked == {
        "id": f"{LIST_URL}#4242",
        "type": "BitstringStatusListEntry",
        "statusPurpose": "revocation",
        "statusListIndex": "4242",
        "statusListCredential": LIST_URL,
    }
    assert check_status(revoked, credential).is_set
    assert not check_status(status_list_entry(LIST_URL, 4243), credential).is_set
    with pytest.raises(StatusListError):
        check_status(status_list_entry(LIST_URL, 4242, "suspension"), credential)
    with pytest.raises(StatusListError):
        check_status(status_list_entry(LIST_URL, MINIMUM_LIST_BITS), credential)
    bad = dict(revoked, statusListIndex="04242")
    with pytest.raises(StatusListError):
        check_status(bad, credential)


CREDENTIALS = [
    {"id": f"urn:uuid:{i}", "name": f"badge {i}", "proof": {"proofValue": f"z{i}"}}
    for i in range(7)
]


def test_batch_root_and_every_inclusion_path() -> None:
    batch = merkle.CredentialBatch(CREDENTIALS)
    leaves = [
        ledger_merkle.leaf_hash(merkle.LEAF_DOMAIN + merkle.canonicalize_json(c))
        for c in CREDENTIALS
    ]
    assert batch.root == ledger_merkle.root_of_leaves(leaves)
    for index, credential in enumerate(CREDENTIALS):
        inclusion = batch.inclusion(index)
        assert inclusion.verify_credential(credential)
        assert merkle.InclusionProof.decode(inclusion.encode()) == inclusion
        assert merkle.InclusionProof.from_json(inclusion.to_json()) == inclusion
        assert not inclusion.verify_credential(CREDENTIALS[(index + 1) % len(CREDENTIALS)])


def test_anchor_proof_rides_in_the_proof_set_without_changing_the_leaf() -> None:
    batch = merkle.CredentialBatch(CREDENTIALS)
    proof = merkle.anchor_proof(
        batch.inclusion(3),
        anchor_reference="urn:oneteam:anchor:chain-1:42",
        created="2025-06-01T00:00:00Z",
    )
    anchored = merkle.embed_anchor_proof(CREDENTIALS[3], proof)
    assert isinstance(anchored["proof"], list) and len(anchored["proof"]) == 2
    assert merkle.credential_leaf_hash(anchored) == batch.leaves[3]
    [(reference, inclusion)] = merkle.anchor_inclusions(anchored)
    assert reference == "urn:oneteam:anchor:chain-1:42"
    assert inclusion.verify_credential(anchored) and inclusion.root == batch.root
    tampered = dict(anchored, name="forged")
    assert not inclusion.verify_credential(tampered)


def test_malformed_inclusion_proofs_are_refused() -> None:
    good = merkle.CredentialBatch(CREDENTIALS).inclusion(0).to_json()
    for broken in (
        dict(good, leafIndex=7),
        dict(good, path=["00"]),
        dict(good, root="zz"),
        dict(good, type="x"),
        dict(good, leafIndex=True),
    ):
        with pytest.raises(merkle.MerkleError):
            merkle.InclusionProof.from_json(broken)
    with pytest.raises(merkle.MerkleError):
        merkle.InclusionProof.decode("u" + "A" * 10)
