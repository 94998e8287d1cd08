"""The Merkle tree matches RFC 6962's recursive definition, and its proofs bind position."""

from __future__ import annotations

import hashlib

import pytest

from oneteam.ledger import merkle


def rfc6962_root(items: list[bytes]) -> bytes:
    """RFC 6962 section 2.1, written recursively as the RFC states it."""
    if not items:
        return hashlib.sha256(b"").digest()
    if len(items) == 1:
        return hashlib.sha256(b"\x00" + items[0]).digest()
    k = 1 << ((len(items) - 1).bit_length() - 1)
    return hashlib.sha256(b"\x01" + rfc6962_root(items[:k]) + rfc6962_root(items[k:])).digest()


@pytest.mark.parametrize("size", [0, 1, 2, 3, 4, 5, 7, 8, 9, 16, 17, 31, 33, 100])
def test_root_matches_rfc6962(size: int) -> None:
    items = [f"tx-{i}".encode() for i in range(size)]
    assert merkle.merkle_root(items) == rfc6962_root(items)


@pytest.mark.parametrize("size", [1, 2, 3, 5, 8, 13, 64, 65])
def test_every_leaf_proves_and_only_at_its_index(size: int) -> None:
    items = [f"tx-{i}".encode() for i in range(size)]
    leaves = [merkle.leaf_hash(item) for item in items]
    root = merkle.merkle_root(items)
    for index in range(size):
        path = merkle.inclusion_path(leaves, index)
        assert merkle.verify_inclusion(leaves[index], index, size, path, root)
        if size > 1:
            other = (index + 1) % size
            assert not merkle.verify_inclusion(leaves[index], other, size, path, root)
        assert not merkle.verify_inclusion(merkle.leaf_hash(b"forged"), index, size, path, root)


def test_truncated_or_padded_paths_are_refused() -> None:
    items = [bytes([i]) for i in range(10)]
    leaves = [merkle.leaf_hash(item) for item in items]
    root = merkle.merkle_root(items)
    path = merkle.inclusion_path(leaves, 3)
    assert not merkle.verify_inclusion(leaves[3], 3, 10, path[:-1], root)
    assert not merkle.verify_inclusion(leaves[3], 3, 10, [*path, path[0]], root)
    assert not merkle.verify_inclusion(leaves[3], 10, 10, path, root)
