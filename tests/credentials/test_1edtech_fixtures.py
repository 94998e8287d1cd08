"""Open Badges 3.0 and CLR 2.0: the specification's signed examples, and the 1EdTech
validator's valid and invalid fixtures, each failing the check it was written for."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from oneteam.credentials.dataintegrity import add_proof, compute
from oneteam.credentials.did import KeyResolver
from oneteam.credentials.statuslist import StatusList
from oneteam.credentials.verify import (
    FAILED,
    PASSED,
    SKIPPED,
    UNSUPPORTED,
    StaticStatusLists,
    VerificationReport,
    verify_credential,
)
from tests.credentials.helpers import (
    CLR20,
    NOW,
    OB30,
    OB_GUIDE_KEY,
    OB_SPEC,
    fragment_controller_documents,
    load_json,
    read_text,
)

EXTRACTED = OB_SPEC / "extracted_json"
GUIDE_VECTORS = OB_SPEC / "ob_v3p0" / "impl" / "test-vectors"


def verify_fixture(credential: Any, **options: Any) -> VerificationReport:
    documents = fragment_controller_documents(credential)
    return verify_credential(credential, resolver=KeyResolver(documents), now=NOW, **options)


def statuses(report: VerificationReport) -> dict[str, str]:
    return {check.code: check.status for check in report.checks}


def problem_codes(report: VerificationReport, check: str) -> set[str]:
    return {problem.code for problem in report[check].problems}


def problem_paths(report: VerificationReport, check: str) -> set[str | None]:
    return {problem.path for problem in report[check].problems}


def test_guide_key_is_the_one_the_fixtures_name() -> None:
    assert OB_GUIDE_KEY.public_key.multibase() == "z6MkjZRZv3aez3r18pB1RBFJR1kwUVJ5jHt92JmQwXbd5hwi"
    assert OB_GUIDE_KEY.public_key.raw.hex() == (
        "4bdeafde2ea8beefadd8c699b5c7e0704cf51154d52e17b20b71337ca04cc5a5"
    )


@pytest.mark.parametrize(
    ("unsigned", "signed", "vectors"),
    [
        (
            "linked-data-proof-ob__unsigned_credential.json",
            "linked-data-proof-ob__signed_credential.json",
            "obv3p0",
        ),
        (
            "linked-data-proof-clr__document_before_signing.json",
            "linked-data-proof-clr__signed_credential.json",
            "clrv2p0",
        ),
    ],
    ids=["open-badge", "clr"],
)
def test_implementation_guide_examples_are_reproduced(
    unsigned: str, signed: str, vectors: str
) -> None:
    document = load_json(EXTRACTED / unsigned)
    expected = load_json(EXTRACTED / signed)
    proof = expected["proof"] if isinstance(expected["proof"], dict) else expected["proof"][0]
    options = {key: value for key, value in proof.items() if key != "proofValue"}
    computation = compute(document, options)
    assert computation.canonical_document.decode() == read_text(
        GUIDE_VECTORS / vectors / "document-canon.txt"
    )
    assert computation.canonical_proof_config.decode() == read_text(
        GUIDE_VECTORS / vectors / "proof-canon.txt"
    )

    secured = add_proof(
        document,
        OB_GUIDE_KEY,
        verification_method=proof["verificationMethod"],
        created=proof["created"],
    )
    assert secured["proof"]["proofValue"] == proof["proofValue"]
    report = verify_fixture(expected)
    assert report.verified, report.to_json()


VALID = [
    "simple.json",
    "simple-context-alias.json",
    "simple-context-version.json",  # OB context 3.0.2
    "simple-did-web-method.json",
    "simple-multiple-proofs.json",  # an unknown proof type beside an eddsa-rdfc-2022 one
    "endorsement-valid.json",
]


@pytest.mark.parametrize("name", VALID)
def test_valid_fixture_verifies(name: str) -> None:
    report = verify_fixture(load_json(OB30 / name))
    assert report.verified, json.dumps(report.to_json(), ensure_ascii=False, indent=1)
    assert statuses(report)["status"] == SKIPPED  # none of them has a credentialStatus


def test_the_1ob_file_is_the_simple_credential() -> None:
    assert verify_fixture(json.loads((OB30 / "simple.1ob").read_text())).verified


def test_multiple_proofs_reports_the_unknown_one() -> None:
    report = verify_fixture(load_json(OB30 / "simple-multiple-proofs.json"))
    assert report["proof"].status == PASSED
    assert "PROOF_UNSUPPORTED" in problem_codes(report, "proof")


def test_complete_fixture_verifies_except_its_1edtech_revocation_list() -> None:
    report = verify_fixture(load_json(OB30 / "complete.json"))
    checks = statuses(report)
    assert checks | {"status": PASSED} == dict.fromkeys(checks, PASSED)
    assert checks["status"] == UNSUPPORTED  # credentialStatus type 1EdTechRevocationList
    assert problem_codes(report, "status") == {"STATUS_UNSUPPORTED"}


def test_did_key_fixture_signature_is_valid_but_the_key_is_not_the_issuers() -> None:
    credential = load_json(OB30 / "simple-did-key-method.json")
    report = verify_fixture(credential)
    # Deliberate deviation: the issuer is urn:uuid:..., the key a did:key nobody ties to it.
    assert report["proof"].status == PASSED
    assert report["issuer_key"].status == FAILED
    assert problem_codes(report, "issuer_key") == {"KEY_NOT_ISSUER"}
    lenient = verify_fixture(credential, require_issuer_controls_key=False)
    assert lenient.verified


# (fixture, the check that must fail, a problem code it must report, a JSON path it must name)
INVALID = [
    ("simple-err-context.json", "structure", "STRUCTURE_CONTEXT", "$.@context[0]"),
    ("simple-err-context.json", "jsonld", "JSONLD_UNDEFINED_TERM", "$.credentialSubject"),
    ("simple-err-type.json", "structure", "STRUCTURE_TYPE", "$.type"),
    ("simple-err-issuer.json", "structure", "STRUCTURE_REQUIRED", "$.issuer"),
    ("simple-err-issuer-type.json", "structure", "STRUCTURE_TYPE", "$.issuer.type"),
    (
        "simple-err-issuer-otheridentifier-type.json",
        "structure",
        "STRUCTURE_TYPE",
        "$.issuer.otherIdentifier[1].type",
    ),
    (
        "simple-err-issuer-parentorg-type.json",
        "structure",
        "STRUCTURE_TYPE",
        "$.issuer.parentOrg.type",
    ),
    (
        "simple-err-credential-subject-type.json",
        "structure",
        "STRUCTURE_TYPE",
        "$.credentialSubject.type",
    ),
    (
        "simple-err-credential-subject-identifier-type.json",
        "structure",
        "STRUCTURE_TYPE",
        "$.credentialSubject.identifier[0].type",
    ),
    (
        "simple-err-credential-subject-profile-type.json",
        "structure",
        "STRUCTURE_TYPE",
        "$.credentialSubject.source.type",
    ),
    (
        "simple-err-credential-subject-result-type.json",
        "structure",
        "STRUCTURE_TYPE",
        "$.credentialSubject.result[1].type",
    ),
    (
        "simple-err-credential-subject-achievement-result-description-type.json",
        "structure",
        "STRUCTURE_TYPE",
        "$.credentialSubject.achievement.resultDescription[2].type",
    ),
    ("simple-err-evidence-type.json", "structure", "STRUCTURE_TYPE", "$.evidence[1].type"),
    ("simple-err-expired.json", "validity", "VALIDITY_EXPIRED", "$.validUntil"),
    ("simple-err-issued.json", "validity", "VALIDITY_NOT_YET_VALID", "$.validFrom"),
    ("simple-err-proof-value.json", "proof", "PROOF_VERIFICATION_ERROR", "$.proof[0]"),
    (
        "simple-err-proof-method.json",
        "issuer_key",
        "KEY_CONTROLLER_DOCUMENT_UNAVAILABLE",
        "$.proof.verificationMethod",
    ),
    (
        "simple-err-proof-method-no-scheme.json",
        "issuer_key",
        "KEY_METHOD_NO_SCHEME",
        "$.proof[0].verificationMethod",
    ),
    (
        "simple-err-proof-method-unknown-did-method.json",
        "issuer_key",
        "KEY_DID_METHOD_UNSUPPORTED",
        "$.proof[0].verificationMethod",
    ),
    (
        "simple-err-proof-method-unknown-scheme.json",
        "issuer_key",
        "KEY_METHOD_SCHEME_UNSUPPORTED",
        "$.proof[0].verificationMethod",
    ),
]


@pytest.mark.parametrize(
    ("name", "check", "code", "path"), INVALID, ids=[f"{n}-{c}" for n, c, _, _ in INVALID]
)
def test_invalid_fixture_fails_the_right_check(name: str, check: str, code: str, path: str) -> None:
    report = verify_fixture(load_json(OB30 / name))
    assert not report.verified
    assert report[check].status == FAILED
    assert code in problem_codes(report, check)
    assert path in problem_paths(report, check)


def test_a_bad_key_reference_leaves_the_signature_unchecked() -> None:
    report = verify_fixture(load_json(OB30 / "simple-err-proof-method-no-scheme.json"))
    assert problem_codes(report, "proof") == {"PROOF_KEY_UNRESOLVED"}


UNSUPPORTED_FIXTURES = [
    (OB30 / "simple_v1.json", "Ed25519Signature2020"),
    (OB30 / "complete_v1.json", "Ed25519Signature2020"),
    (OB30 / "simple-eddsa-2022.json", "eddsa-2022"),
    (OB30 / "credential-status-revoked.json", "Ed25519Signature2020"),
    (OB30 / "endorsement-err-schema-status-refresh.json", "Ed25519Signature2020"),
    (OB30 / "sd" / "derivedcredential.json", "ecdsa-sd-2023"),
    (CLR20 / "simple_v1.json", "Ed25519Signature2020"),
    (CLR20 / "complex.json", "Ed25519Signature2020"),
    (CLR20 / "simple_old_safesigned.json", "Ed25519Signature2020"),
]


@pytest.mark.parametrize(
    ("path", "suite"), UNSUPPORTED_FIXTURES, ids=[p.name for p, _ in UNSUPPORTED_FIXTURES]
)
def test_old_and_other_suites_are_reported_unsupported(path: Path, suite: str) -> None:
    report = verify_fixture(load_json(path))
    assert not report.verified
    assert report["proof"].status == UNSUPPORTED
    assert suite in report["proof"].summary.text("en")
    assert "지원하지 않는" in report["proof"].summary.text("ko")


@pytest.mark.parametrize(
    "path", [OB30 / "simple_v1.json", CLR20 / "simple_v1.json"], ids=["ob", "clr"]
)
def test_vc_1_1_is_reported_unsupported_not_invalid(path: Path) -> None:
    report = verify_fixture(load_json(path))
    assert report["structure"].status == UNSUPPORTED
    assert report["jsonld"].status == FAILED
    assert "JSONLD_UNKNOWN_CONTEXT" in problem_codes(report, "jsonld")


@pytest.mark.parametrize(
    "path",
    [OB30 / "simple.jwt", OB30 / "velocity.jwt", CLR20 / "simple.jwt"],
    ids=["ob", "velocity", "clr"],
)
def test_jwt_credentials_are_unsupported(path: Path) -> None:
    report = verify_credential(path.read_text(), now=NOW)
    assert [(check.code, check.status) for check in report.checks] == [("format", UNSUPPORTED)]
    assert not report.verified


@pytest.mark.parametrize(
    "path", [OB30 / "simple-noproof.json", CLR20 / "simple-noproof.json"], ids=["ob", "clr"]
)
def test_no_proof_fails(path: Path) -> None:
    report = verify_fixture(load_json(path))
    assert report["proof"].status == FAILED
    assert "PROOF_MISSING" in problem_codes(report, "proof")


def test_clr_fixture_verifies() -> None:
    report = verify_fixture(load_json(CLR20 / "simple.json"))
    assert report.verified, json.dumps(report.to_json(), ensure_ascii=False, indent=1)


STATUS_LIST_URL = (
    "https://raw.githubusercontent.com/1EdTech/digital-credentials-public-validator/refs/heads/main/"
    "inspector-vc/src/test/resources/ob30/bit-string-list/testlist"
)


@pytest.mark.parametrize(
    "name", ["credential-status-revoked.json", "credential-status-revoked-blank-nodes.json"]
)
def test_revoked_fixture_fails_the_status_check(name: str) -> None:
    credential = load_json(OB30 / "bit-string-list" / name)
    status_list = load_json(OB30 / "bit-string-list" / "testlist")
    documents = fragment_controller_documents(credential) | fragment_controller_documents(
        status_list
    )
    report = verify_credential(
        credential,
        resolver=KeyResolver(documents),
        now=NOW,
        status_lists=StaticStatusLists({STATUS_LIST_URL: status_list}),
    )
    assert report["proof"].status == PASSED
    assert report["status"].status == FAILED
    # The list names itself https://example.com/credentials/status/3 but is served from the
    # URL the entry gives. OneTeam refuses a list whose id is not the URL it was asked for
    # (another list of the same issuer could be substituted); the bit itself is set:
    assert problem_codes(report, "status") == {"STATUS_VERIFICATION_ERROR"}
    assert "https://example.com/credentials/status/3" in report["status"].summary.text("en")
    encoded = status_list["credentialSubject"]["encodedList"]
    assert (
        StatusList.decode(encoded).get(int(credential["credentialStatus"]["statusListIndex"])) == 1
    )

    relabelled = dict(status_list, id=STATUS_LIST_URL)
    report = verify_credential(
        credential,
        resolver=KeyResolver(documents),
        now=NOW,
        status_lists=StaticStatusLists({STATUS_LIST_URL: relabelled}),
    )
    # The relabelled list no longer matches its signature, so it is refused as well.
    assert problem_codes(report, "status") == {"STATUS_VERIFICATION_ERROR"}
    assert "proof" in report["status"].summary.text("en")


def test_status_list_that_cannot_be_had_fails_the_status_check() -> None:
    credential = load_json(OB30 / "bit-string-list" / "credential-status-revoked.json")
    report = verify_fixture(credential)
    assert report["status"].status == FAILED
    assert problem_codes(report, "status") == {"STATUS_RETRIEVAL_ERROR"}
