"""W3C Data Integrity EdDSA Cryptosuites v1.0 test vectors, reproduced byte for byte."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import pytest

from oneteam.credentials.dataintegrity import (
    EDDSA_JCS_2022,
    EDDSA_RDFC_2022,
    add_proof,
    compute,
    verify_proof,
)
from oneteam.credentials.encoding import base58btc_encode
from oneteam.credentials.multikey import Ed25519KeyPair
from tests.credentials.helpers import EDDSA, VECTOR_LOADER, load_json, read_text

KEY_PAIR = load_json(EDDSA / "keyPair.json")
KEY = Ed25519KeyPair.from_secret_multibase(KEY_PAIR["privateKeyMultibase"])
METHOD = f"did:key:{KEY_PAIR['publicKeyMultibase']}#{KEY_PAIR['publicKeyMultibase']}"
CREATED = "2023-02-24T23:36:38Z"

# (suite, vector folder, unsigned document, file suffix)
CASES = [
    (EDDSA_RDFC_2022, EDDSA / "eddsa-rdfc-2022", EDDSA / "unsigned.json", "DataInt"),
    (
        EDDSA_RDFC_2022,
        EDDSA / "eddsa-rdfc-2022" / "employ",
        EDDSA / "employmentAuth.json",
        "DataInt",
    ),
    (EDDSA_JCS_2022, EDDSA / "eddsa-jcs-2022", EDDSA / "unsigned.json", "JCS"),
]
IDS = ["rdfc", "rdfc-employ", "jcs"]


def test_key_pair_round_trips_as_multikey() -> None:
    assert KEY.public_key.multibase() == KEY_PAIR["publicKeyMultibase"]
    assert KEY.secret_multibase() == KEY_PAIR["privateKeyMultibase"]
    assert KEY_PAIR["privateKeyMultibase"].startswith("z3u2")
    assert "seed" not in repr(KEY) and KEY.seed.hex() not in repr(KEY)


@pytest.mark.parametrize(("suite", "folder", "unsigned", "suffix"), CASES, ids=IDS)
def test_every_intermediate_value(suite: str, folder: Path, unsigned: Path, suffix: str) -> None:
    document = load_json(unsigned)
    proof_config = load_json(folder / f"proofConfig{suffix}.json")
    computation = compute(document, proof_config, loader=VECTOR_LOADER)

    assert computation.canonical_document.decode() == read_text(folder / f"canonDoc{suffix}.txt")
    assert computation.canonical_proof_config.decode() == read_text(
        folder / f"proofCanon{suffix}.txt"
    )
    assert computation.document_hash.hex() == read_text(folder / f"docHash{suffix}.txt").strip()
    assert (
        computation.proof_config_hash.hex() == read_text(folder / f"proofHash{suffix}.txt").strip()
    )
    assert computation.hash_data.hex() == read_text(folder / f"combinedHash{suffix}.txt").strip()
    assert hashlib.sha256(computation.canonical_document).digest() == computation.document_hash

    signature = KEY.sign(computation.hash_data)
    assert signature.hex() == read_text(folder / f"sigHex{suffix}.txt").strip()
    assert "z" + base58btc_encode(signature) == read_text(folder / f"sigBTC58{suffix}.txt").strip()


@pytest.mark.parametrize(("suite", "folder", "unsigned", "suffix"), CASES, ids=IDS)
def test_signed_document_matches_byte_for_byte(
    suite: str, folder: Path, unsigned: Path, suffix: str
) -> None:
    document = load_json(unsigned)
    secured = add_proof(
        document,
        KEY,
        verification_method=METHOD,
        cryptosuite=suite,
        created=CREATED,
        loader=VECTOR_LOADER,
    )
    expected_text = read_text(folder / f"signed{suffix}.json")
    assert secured == json.loads(expected_text)
    assert json.dumps(secured, indent=2, ensure_ascii=False) == expected_text.rstrip("\n")


@pytest.mark.parametrize(("suite", "folder", "unsigned", "suffix"), CASES, ids=IDS)
def test_signed_vector_verifies(suite: str, folder: Path, unsigned: Path, suffix: str) -> None:
    secured = load_json(folder / f"signed{suffix}.json")
    result = verify_proof(secured, secured["proof"], KEY.public_key, loader=VECTOR_LOADER)
    assert result.verified, result.message
    assert result.computation is not None
    assert (
        result.computation.hash_data.hex()
        == read_text(folder / f"combinedHash{suffix}.txt").strip()
    )


@pytest.mark.parametrize(("suite", "folder", "unsigned", "suffix"), CASES, ids=IDS)
def test_signed_vector_with_one_changed_value_fails(
    suite: str, folder: Path, unsigned: Path, suffix: str
) -> None:
    secured = load_json(folder / f"signed{suffix}.json")
    secured["validFrom"] = "2023-01-01T00:00:01Z"
    result = verify_proof(secured, secured["proof"], KEY.public_key, loader=VECTOR_LOADER)
    assert not result.verified
    assert result.code == "PROOF_VERIFICATION_ERROR"


def test_jcs_proof_context_must_prefix_the_document_context() -> None:
    secured = load_json(EDDSA / "eddsa-jcs-2022" / "signedJCS.json")
    secured["@context"] = list(reversed(secured["@context"]))
    result = verify_proof(secured, secured["proof"], KEY.public_key, loader=VECTOR_LOADER)
    assert not result.verified
    assert "@context" in result.message


CHAIN = EDDSA / "proof-set-chain"
CHAIN_KEYS = {
    name: Ed25519KeyPair.from_secret_multibase(pair["privateKeyMultibase"])
    for name, pair in load_json(CHAIN / "multiKeyPairs.json").items()
}


def _method(key: Ed25519KeyPair) -> str:
    multibase = key.public_key.multibase()
    return f"did:key:{multibase}#{multibase}"


def test_proof_set_is_reproduced() -> None:
    unsigned = load_json(CHAIN / "unsigned.json")
    first = add_proof(
        unsigned,
        CHAIN_KEYS["keyPair1"],
        verification_method=_method(CHAIN_KEYS["keyPair1"]),
        created="2023-02-24T23:36:38Z",
        proof_id="urn:uuid:26329423-bec9-4b2e-88cb-a7c7d9dc4544",
        loader=VECTOR_LOADER,
    )
    assert first["proof"] == load_json(CHAIN / "proofSetConfigSigned1.json")
    both = add_proof(
        first,
        CHAIN_KEYS["keyPair2"],
        verification_method=_method(CHAIN_KEYS["keyPair2"]),
        created="2023-02-24T23:36:38Z",
        proof_id="urn:uuid:8cc9022b-6b14-4cf3-8571-74972c5feb54",
        loader=VECTOR_LOADER,
    )
    assert both == load_json(CHAIN / "signedProofSet2.json")


def test_proof_chain_is_reproduced_and_verifies() -> None:
    chained = add_proof(
        load_json(CHAIN / "signedProofSet2.json"),
        CHAIN_KEYS["keyPair3"],
        verification_method=_method(CHAIN_KEYS["keyPair3"]),
        created="2023-02-26T22:06:38Z",
        proof_id="urn:uuid:d94f792a-c546-4d06-b38a-da070ab56c23",
        previous_proof=[
            "urn:uuid:26329423-bec9-4b2e-88cb-a7c7d9dc4544",
            "urn:uuid:8cc9022b-6b14-4cf3-8571-74972c5feb54",
        ],
        loader=VECTOR_LOADER,
    )
    assert chained == load_json(CHAIN / "signedProofChain1.json")
    last = add_proof(
        chained,
        CHAIN_KEYS["keyPair4"],
        verification_method=_method(CHAIN_KEYS["keyPair4"]),
        created="2023-02-26T22:16:38Z",
        previous_proof="urn:uuid:d94f792a-c546-4d06-b38a-da070ab56c23",
        loader=VECTOR_LOADER,
    )
    assert last == load_json(CHAIN / "signedProofChain2.json")

    keys = [CHAIN_KEYS[f"keyPair{number}"] for number in (1, 2, 3, 4)]
    for proof, key in zip(last["proof"], keys, strict=True):
        result = verify_proof(last, proof, key.public_key, loader=VECTOR_LOADER)
        assert result.verified, result.message


def test_proof_chain_breaks_when_an_earlier_proof_changes() -> None:
    chain = load_json(CHAIN / "signedProofChain2.json")
    chain["proof"][2]["created"] = (
        "2023-02-26T22:06:39Z"  # the third proof is the fourth's previous
    )
    result = verify_proof(
        chain, chain["proof"][3], CHAIN_KEYS["keyPair4"].public_key, loader=VECTOR_LOADER
    )
    assert not result.verified
