"""Merkle trees over transaction and receipt hashes, with inclusion proofs.

The construction is RFC 6962's (Certificate Transparency): leaves are hashed
with a 0x00 prefix and inner nodes with 0x01, and a tree of n leaves splits at
the largest power of two below n, so any n is allowed and no second-preimage
trick can pass an inner node off as a leaf. The root of an empty tree is
sha256 of the empty string.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence

from oneteam.ledger.invariants import check

_sha256 = hashlib.sha256
EMPTY_ROOT = _sha256(b"").digest()


def leaf_hash(data: bytes) -> bytes:
    return _sha256(b"\x00" + data).digest()


def node_hash(left: bytes, right: bytes) -> bytes:
    return _sha256(b"\x01" + left + right).digest()


def _split(n: int) -> int:
    """The largest power of two strictly below ``n`` (n >= 2)."""
    return 1 << ((n - 1).bit_length() - 1)


def root_of_leaves(leaves: Sequence[bytes]) -> bytes:
    """The root over already-hashed leaves; iterative, O(n)."""
    if not leaves:
        return EMPTY_ROOT
    # Building level by level, carrying an odd last node up unchanged, gives
    # exactly RFC 6962's split-at-largest-power-of-two tree.
    level = list(leaves)
    while len(level) > 1:
        paired = [node_hash(level[i], level[i + 1]) for i in range(0, len(level) - 1, 2)]
        if len(level) % 2:
            paired.append(level[-1])
        level = paired
    return level[0]


def merkle_root(items: Sequence[bytes]) -> bytes:
    return root_of_leaves([leaf_hash(item) for item in items])


def inclusion_path(leaves: Sequence[bytes], index: int) -> list[bytes]:
    """The audit path (sibling hashes, bottom up) for ``leaves[index]``."""
    check(0 <= index < len(leaves), f"leaf index {index} outside tree of {len(leaves)}")
    path: list[bytes] = []
    level = list(leaves)
    position = index
    while len(level) > 1:
        sibling = position ^ 1
        if sibling < len(level):
            path.append(level[sibling])
        paired = [node_hash(level[i], level[i + 1]) for i in range(0, len(level) - 1, 2)]
        if len(level) % 2:
            paired.append(level[-1])
        level = paired
        position //= 2
    return path


def root_from_path(leaf: bytes, index: int, size: int, path: Sequence[bytes]) -> bytes | None:
    """Recompute the root from a leaf hash and its audit path; None if the path is malformed."""
    if not 0 <= index < size or len(path) > 64:
        return None
    node = leaf
    position = index
    width = size
    used = 0
    while width > 1:
        sibling = position ^ 1
        if sibling < width:
            if used >= len(path):
                return None
            sibling_hash = path[used]
            node = node_hash(sibling_hash, node) if position % 2 else node_hash(node, sibling_hash)
            used += 1
        position //= 2
        width = (width + 1) // 2
    if used != len(path):
        return None
    return node


def verify_inclusion(
    leaf: bytes, index: int, size: int, path: Sequence[bytes], root: bytes
) -> bool:
    """True when ``leaf`` (already hashed) sits at ``index`` of a tree of ``size`` with ``root``."""
    return root_from_path(leaf, index, size, path) == root
