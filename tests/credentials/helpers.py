"""Paths to the copied test vectors, and the keys and documents the vectors imply."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import Any

from oneteam.credentials.did import controller_document
from oneteam.credentials.jsonld import PinnedDocumentLoader
from oneteam.credentials.multikey import Ed25519KeyPair, Ed25519PublicKey, KeyFormatError

FIXTURES = Path(__file__).parent / "fixtures"
EDDSA = FIXTURES / "w3c__vc-di-eddsa" / "TestVectors"
VALIDATOR = FIXTURES / "1EdTech__digital-credentials-public-validator"
OB30 = VALIDATOR / "inspector-vc" / "src" / "test" / "resources" / "ob30"
CLR20 = VALIDATOR / "inspector-clr" / "src" / "test" / "resources" / "clr20"
OB_SPEC = FIXTURES / "1EdTech__openbadges-specification"

# The key of the Open Badges 3.0 / CLR 2.0 implementation guide's proof examples,
# "Private key (hex)" in ob_v3p0/impl/linked-data-proof-ob.html (seed, then public key).
OB_GUIDE_SECRET_HEX = (
    "6241a409e6707bb640a0140a8a32bc3d193c33a661747284d6adfa4ed4180be4"
    "4bdeafde2ea8beefadd8c699b5c7e0704cf51154d52e17b20b71337ca04cc5a5"
)
OB_GUIDE_KEY = Ed25519KeyPair(bytes.fromhex(OB_GUIDE_SECRET_HEX)[:32])

# A fixed clock after every fixture's validFrom (2024-03) and before the valid ones' validUntil.
NOW = dt.datetime(2025, 6, 1, tzinfo=dt.UTC)

VECTOR_LOADER = PinnedDocumentLoader(include_test_vectors=True)


def load_json(path: Path) -> Any:
    return json.loads(path.read_text(encoding="utf-8"))


def read_text(path: Path) -> str:
    return path.read_text(encoding="utf-8")


def fragment_controller_documents(credential: Any) -> dict[str, dict[str, Any]]:
    """The controller documents the 1EdTech validator's fixtures imply.

    Their verification methods read ``https://issuer.example/path#z6Mk...``: the issuer
    profile at the URL lists the key named by the fragment. The validator fetches those
    profiles; here they are built from the fragment, so no network is needed.
    """
    documents: dict[str, dict[str, Any]] = {}
    proofs = credential.get("proof") if isinstance(credential, dict) else None
    for proof in proofs if isinstance(proofs, list) else [proofs] if proofs else []:
        method = proof.get("verificationMethod") if isinstance(proof, dict) else None
        if not isinstance(method, str) or not method.startswith("https://") or "#" not in method:
            continue
        base, fragment = method.split("#", 1)
        try:
            key = Ed25519PublicKey.from_multibase(fragment)
        except KeyFormatError:
            continue
        documents[base] = controller_document(base, [key])
    return documents
