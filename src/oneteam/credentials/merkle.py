"""Merkle trees over credential batches, for anchoring a batch's root on the ledger.

Leaf: ``oneteam.ledger.merkle.leaf_hash(LEAF_DOMAIN + canonical bytes)``, that is
``sha256(0x00 || "oneteam/credential-batch/v1" 0x00 || JCS(credential))``. The
credential is taken as issued, with its signature, and with any anchor proofs removed
(they are added after the batch is built); if one proof remains it is written as an
object, several as an array, so the leaf does not depend on how the proof set is
spelled. Inner nodes and inclusion paths are RFC 6962's, from the ledger's own
:mod:`oneteam.ledger.merkle`.

An :class:`InclusionProof` serializes to JSON (hex hashes) and to a compact multibase
string; :func:`anchor_proof` wraps it in a ``DataIntegrityProof`` with the cryptosuite
``oneteam-merkle-anchor-2025`` so it can ride in the credential's proof set without
any term the shipped contexts do not define. Verifiers that do not know the suite skip
it, as Data Integrity asks; OneTeam's anchor check recomputes the root from it and
compares it with the ledger's record.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import oneteam.ledger.merkle as ledger_merkle
from oneteam.credentials.dataintegrity import PROOF_TYPE, proofs_of
from oneteam.credentials.encoding import (
    MULTIBASE_BASE64URL,
    EncodingError,
    multibase_decode,
    multibase_encode,
)
from oneteam.credentials.jcs import canonicalize_json

LEAF_DOMAIN = b"oneteam/credential-batch/v1\x00"
ANCHOR_CRYPTOSUITE = "oneteam-merkle-anchor-2025"
INCLUSION_TYPE = "OneTeamMerkleInclusion"
HASH_BYTES = 32
PATH_LENGTH_MAX = 64
BATCH_SIZE_MAX = 1 << 20


class MerkleError(ValueError):
    """A batch or inclusion proof is malformed."""


def is_anchor_proof(proof: Mapping[str, Any]) -> bool:
    return proof.get("type") == PROOF_TYPE and proof.get("cryptosuite") == ANCHOR_CRYPTOSUITE


def _without_anchors(credential: Mapping[str, Any]) -> dict[str, Any]:
    """The credential as it was when batched: anchor proofs removed, the rest normalized
    (a new top level sharing the values of ``credential``)."""
    stripped = {key: value for key, value in credential.items() if key != "proof"}
    remaining = [proof for proof in proofs_of(credential) if not is_anchor_proof(proof)]
    if len(remaining) == 1:
        stripped["proof"] = remaining[0]
    elif remaining:
        stripped["proof"] = remaining
    return stripped


def credential_leaf_input(credential: Mapping[str, Any]) -> bytes:
    return LEAF_DOMAIN + canonicalize_json(_without_anchors(credential))


def credential_leaf_hash(credential: Mapping[str, Any]) -> bytes:
    return ledger_merkle.leaf_hash(credential_leaf_input(credential))


@dataclass(frozen=True)
class InclusionProof:
    leaf_index: int
    tree_size: int
    path: tuple[bytes, ...]
    root: bytes

    def __post_init__(self) -> None:
        if not 0 <= self.leaf_index < self.tree_size <= BATCH_SIZE_MAX:
            raise MerkleError(
                f"leaf {self.leaf_index} of a tree of {self.tree_size} is out of range"
            )
        if len(self.path) > PATH_LENGTH_MAX or any(len(node) != HASH_BYTES for node in self.path):
            raise MerkleError("inclusion path entries must be 32-byte hashes, at most 64 of them")
        if len(self.root) != HASH_BYTES:
            raise MerkleError("root must be a 32-byte hash")

    def verify_leaf(self, leaf_hash: bytes) -> bool:
        return ledger_merkle.verify_inclusion(
            leaf_hash, self.leaf_index, self.tree_size, self.path, self.root
        )

    def verify_credential(self, credential: Mapping[str, Any]) -> bool:
        return self.verify_leaf(credential_leaf_hash(credential))

    def to_json(self) -> dict[str, Any]:
        return {
            "type": INCLUSION_TYPE,
            "leafIndex": self.leaf_index,
            "treeSize": self.tree_size,
            "path": [node.hex() for node in self.path],
            "root": self.root.hex(),
        }

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> InclusionProof:
        try:
            if data["type"] != INCLUSION_TYPE:
                raise MerkleError(f"inclusion proof type is {data['type']!r}")
            index, size = data["leafIndex"], data["treeSize"]
            if (
                isinstance(index, bool)
                or isinstance(size, bool)
                or not isinstance(index, int)
                or not isinstance(size, int)
            ):
                raise MerkleError("leafIndex and treeSize must be integers")
            path = tuple(bytes.fromhex(node) for node in data["path"])
            root = bytes.fromhex(data["root"])
        except (KeyError, TypeError, ValueError) as error:
            if isinstance(error, MerkleError):
                raise
            raise MerkleError(f"malformed inclusion proof: {error}") from error
        return cls(index, size, path, root)

    def encode(self) -> str:
        """Multibase base64url of the JCS bytes of :meth:`to_json` (``u...``)."""
        return multibase_encode(canonicalize_json(self.to_json()), MULTIBASE_BASE64URL)

    @classmethod
    def decode(cls, value: str) -> InclusionProof:
        try:
            data = json.loads(multibase_decode(value, expected_base=MULTIBASE_BASE64URL))
        except (EncodingError, ValueError) as error:
            raise MerkleError(f"malformed encoded inclusion proof: {error}") from error
        if not isinstance(data, dict):
            raise MerkleError("encoded inclusion proof is not a JSON object")
        return cls.from_json(data)


class CredentialBatch:
    """The credentials of one anchoring batch, in issue order."""

    def __init__(self, credentials: Sequence[Mapping[str, Any]]) -> None:
        if not credentials:
            raise MerkleError("a batch needs at least one credential")
        if len(credentials) > BATCH_SIZE_MAX:
            raise MerkleError(f"a batch holds at most {BATCH_SIZE_MAX} credentials")
        self.leaves = [credential_leaf_hash(credential) for credential in credentials]
        # Every level of the tree, kept: each credential's path is then read off them
        # (the ledger's inclusion_path rebuilds the tree for each leaf).
        self._levels = [self.leaves]
        level = self.leaves
        while len(level) > 1:
            paired = [ledger_merkle.node_hash(level[i], level[i + 1])
                      for i in range(0, len(level) - 1, 2)]
            if len(level) % 2:
                paired.append(level[-1])  # RFC 6962: an odd last node goes up unchanged
            self._levels.append(paired)
            level = paired
        self.root = level[0]

    def __len__(self) -> int:
        return len(self.leaves)

    def inclusion(self, index: int) -> InclusionProof:
        if not 0 <= index < len(self.leaves):
            raise MerkleError(f"no credential {index} in a batch of {len(self.leaves)}")
        path = []
        position = index
        for level in self._levels[:-1]:
            if position ^ 1 < len(level):
                path.append(level[position ^ 1])
            position //= 2
        return InclusionProof(index, len(self.leaves), tuple(path), self.root)


def anchor_proof(
    inclusion: InclusionProof, *, anchor_reference: str, created: str
) -> dict[str, Any]:
    """A proof-set entry carrying the inclusion path.

    ``anchor_reference`` is a URI naming the ledger's anchor record of the batch root.
    """
    if ":" not in anchor_reference:
        raise MerkleError("anchor_reference must be a URI naming the ledger's anchor record")
    return {
        "type": PROOF_TYPE,
        "cryptosuite": ANCHOR_CRYPTOSUITE,
        "created": created,
        "verificationMethod": anchor_reference,
        "proofPurpose": "assertionMethod",
        "proofValue": inclusion.encode(),
    }


def embed_anchor_proof(credential: Mapping[str, Any], proof: Mapping[str, Any]) -> dict[str, Any]:
    """The credential with ``proof`` added to its proof set (existing anchor proofs replaced).

    The result is a new object at the top level whose values are ``credential``'s own:
    copy it before changing anything inside."""
    if not is_anchor_proof(proof):
        raise MerkleError("not an anchor proof")
    base = _without_anchors(credential)  # a new top level; the values are shared
    proofs = proofs_of(base)
    base["proof"] = [*proofs, dict(proof)]
    return base


def anchor_inclusions(credential: Mapping[str, Any]) -> list[tuple[str, InclusionProof]]:
    """(anchor reference, inclusion proof) for each anchor proof the credential carries."""
    found = []
    for proof in proofs_of(credential):
        if is_anchor_proof(proof):
            found.append(
                (
                    str(proof.get("verificationMethod")),
                    InclusionProof.decode(str(proof.get("proofValue"))),
                )
            )
    return found
