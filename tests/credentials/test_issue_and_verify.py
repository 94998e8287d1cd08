"""Issuing an Open Badge as an alliance member would, verifying it, and tampering with it."""

from __future__ import annotations

import copy
import datetime as dt
from typing import Any

import pytest

from oneteam.credentials.dataintegrity import EDDSA_JCS_2022, DataIntegrityError, add_proof
from oneteam.credentials.did import DidKeySpec, KeyResolver, did_web, did_web_document
from oneteam.credentials.jsonld import UndefinedTermError
from oneteam.credentials.merkle import CredentialBatch, anchor_proof, embed_anchor_proof
from oneteam.credentials.multikey import Ed25519KeyPair
from oneteam.credentials.openbadges import (
    AchievementSpec,
    Alignment,
    build_open_badge_credential,
    issuer_profile,
    validate_credential,
)
from oneteam.credentials.statuslist import (
    StatusList,
    build_status_list_credential,
    status_list_entry,
)
from oneteam.credentials.verify import (
    FAILED,
    MESSAGES,
    PASSED,
    CheckResult,
    Message,
    StaticStatusLists,
    VerificationContext,
    VerificationReport,
    verify_credential,
)

NOW = dt.datetime(2025, 6, 1, tzinfo=dt.UTC)
ISSUER_KEY = Ed25519KeyPair(bytes.fromhex("11" * 32))
ISSUER = did_web("members.example.kr", ["orgs", "kaist"])
METHOD = f"{ISSUER}#key-2025"
DID_DOCUMENT = did_web_document(ISSUER, [DidKeySpec("key-2025", ISSUER_KEY.public_key)])
LIST_URL = "https://members.example.kr/orgs/kaist/status/revocation/1"


def achievement() -> AchievementSpec:
    return AchievementSpec(
        id="https://academy.example.kr/achievements/llm-engineering",
        name="LLM 엔지니어링 기초",
        description="대규모 언어 모델을 미세조정하고 평가하는 실습 과정을 마쳤습니다.",
        criteria_narrative="모든 실습 과제를 숨겨진 테스트 기준 80점 이상으로 통과.",
        achievement_type="Certificate",
        alignments=[
            Alignment(
                target_name="Fine-tuning language models",
                target_url="https://skills.example.kr/ai/fine-tuning",
                target_type="ceasn:Competency",
                target_code="AI-FT-01",
                target_framework="OneTeam AI Skills",
            ),
        ],
        tags=["LLM", "PyTorch"],
    )


def issue(index: int = 94567, **overrides: Any) -> dict[str, Any]:
    credential = build_open_badge_credential(
        credential_id="urn:uuid:2f1b6c1e-0e4e-4a59-9a1e-1b0a7f0c2d11",
        issuer=issuer_profile(ISSUER, "KAIST AI 대학원"),
        subject_id="did:key:z6MkhWqdDBPojHA7cprTGTt5yHv5yUi1B8cnXn8ReLumkw6E",
        achievement=achievement(),
        valid_from="2025-03-01T00:00:00Z",
        valid_until="2030-03-01T00:00:00Z",
        credential_status=status_list_entry(LIST_URL, index),
        **overrides,
    )
    return add_proof(
        credential, ISSUER_KEY, verification_method=METHOD, created="2025-03-01T00:00:00Z"
    )


def status_lists(revoked: tuple[int, ...] = ()) -> StaticStatusLists:
    status_list = StatusList()
    for index in revoked:
        status_list.set(index, 1)
    unsigned = build_status_list_credential(
        list_credential_url=LIST_URL,
        issuer=ISSUER,
        purpose="revocation",
        status_list=status_list,
        valid_from="2025-01-01T00:00:00Z",
    )
    signed = add_proof(
        unsigned, ISSUER_KEY, verification_method=METHOD, created="2025-01-01T00:00:00Z"
    )
    return StaticStatusLists({LIST_URL: signed})


def verify(credential: Any, **options: Any) -> VerificationReport:
    options.setdefault("status_lists", status_lists())
    return verify_credential(
        credential, resolver=KeyResolver({ISSUER: DID_DOCUMENT}), now=NOW, **options
    )


def failed(report: VerificationReport) -> dict[str, set[str]]:
    return {
        check.code: {p.code for p in check.problems}
        for check in report.checks
        if check.status == FAILED
    }


def test_issued_badge_has_the_open_badges_shape() -> None:
    credential = issue()
    assert credential["@context"] == [
        "https://www.w3.org/ns/credentials/v2",
        "https://purl.imsglobal.org/spec/ob/v3p0/context-3.0.3.json",
    ]
    assert credential["type"] == ["VerifiableCredential", "OpenBadgeCredential"]
    assert credential["issuer"] == {"id": ISSUER, "type": ["Profile"], "name": "KAIST AI 대학원"}
    subject = credential["credentialSubject"]
    assert subject["type"] == ["AchievementSubject"]
    assert subject["achievement"]["alignment"][0]["type"] == ["Alignment"]
    assert subject["achievement"]["tag"] == ["LLM", "PyTorch"]
    assert credential["proof"]["cryptosuite"] == "eddsa-rdfc-2022"
    assert credential["proof"]["proofValue"].startswith("z")
    assert validate_credential(credential) == []


def test_issued_badge_verifies_with_every_check() -> None:
    report = verify(issue())
    assert report.verified
    assert {check.code: check.status for check in report.checks} == {
        "format": PASSED,
        "structure": PASSED,
        "jsonld": PASSED,
        "issuer_key": PASSED,
        "proof": PASSED,
        "status": PASSED,
        "validity": PASSED,
    }
    as_json = report.to_json()
    assert as_json["checks"][0]["message"]["ko"] and as_json["checks"][0]["message"]["en"]


def test_jcs_badge_verifies_too() -> None:
    unsigned = copy.deepcopy(issue())
    del unsigned["proof"]
    signed = add_proof(unsigned, ISSUER_KEY, verification_method=METHOD, cryptosuite=EDDSA_JCS_2022)
    assert verify(signed).verified


def test_a_changed_field_fails_the_proof_check_only() -> None:
    credential = issue()
    credential["credentialSubject"]["achievement"]["name"] = "LLM 엔지니어링 심화"
    assert failed(verify(credential)) == {"proof": {"PROOF_VERIFICATION_ERROR"}}


def test_a_changed_proof_fails_the_proof_check() -> None:
    credential = issue()
    credential["proof"]["created"] = "2025-03-02T00:00:00Z"
    assert failed(verify(credential)) == {"proof": {"PROOF_VERIFICATION_ERROR"}}
    credential = issue()
    credential["proof"]["proofValue"] = credential["proof"]["proofValue"][:-2] + "11"
    assert "proof" in failed(verify(credential))
    credential = issue()
    credential["proof"]["proofValue"] = "not-multibase"
    assert failed(verify(credential)) == {"proof": {"MALFORMED_PROOF_ERROR"}}


def test_a_signature_by_another_key_fails() -> None:
    credential = issue()
    del credential["proof"]
    forged = add_proof(credential, Ed25519KeyPair.generate(), verification_method=METHOD)
    assert failed(verify(forged)) == {"proof": {"PROOF_VERIFICATION_ERROR"}}


def test_a_key_of_someone_else_fails_the_issuer_key_check() -> None:
    other_key = Ed25519KeyPair.generate()
    other = did_web("attacker.example")
    credential = issue()
    del credential["proof"]
    signed = add_proof(credential, other_key, verification_method=f"{other}#k")
    documents = {
        ISSUER: DID_DOCUMENT,
        other: did_web_document(other, [DidKeySpec("k", other_key.public_key)]),
    }
    report = verify_credential(
        signed, resolver=KeyResolver(documents), now=NOW, status_lists=status_lists()
    )
    assert failed(report) == {"issuer_key": {"KEY_NOT_ISSUER"}}
    assert report["proof"].status == PASSED  # the signature is fine; whose key it is is not


def test_an_undefined_term_fails_the_jsonld_check_and_cannot_be_signed() -> None:
    credential = issue()
    credential["credentialSubject"]["grade"] = "A+"
    report = verify(credential)
    # The RDF form drops "grade", so the signature still matches: only this check sees
    # that the JSON a reader is shown says more than was signed.
    assert report["proof"].status == PASSED
    assert failed(report) == {"jsonld": {"JSONLD_UNDEFINED_TERM"}}
    assert not report.verified
    assert report["jsonld"].problems[0].path == "$.credentialSubject.grade"
    unsigned = copy.deepcopy(credential)
    del unsigned["proof"]
    with pytest.raises(DataIntegrityError) as raised:
        add_proof(unsigned, ISSUER_KEY, verification_method=METHOD)
    assert isinstance(raised.value.__cause__, UndefinedTermError)


def test_an_unknown_context_url_fails_without_a_fetch() -> None:
    credential = issue()
    credential["@context"].append("https://contexts.example.org/extra.jsonld")
    report = verify(credential)
    assert failed(report) == {
        "jsonld": {"JSONLD_UNKNOWN_CONTEXT"},
        "proof": {"PROOF_TRANSFORMATION_ERROR"},
    }
    assert "https://contexts.example.org/extra.jsonld" in report["jsonld"].summary.text("en")


def test_a_revoked_badge_fails_the_status_check() -> None:
    report = verify(issue(index=7), status_lists=status_lists(revoked=(7,)))
    assert failed(report) == {"status": {"STATUS_REVOKED"}}
    assert report["status"].summary.text("ko") == MESSAGES["status.revoked"]["ko"]


def test_a_status_list_signed_by_someone_else_is_refused() -> None:
    status_list = StatusList()
    forged_list = build_status_list_credential(
        list_credential_url=LIST_URL,
        issuer=ISSUER,
        purpose="revocation",
        status_list=status_list,
        valid_from="2025-01-01T00:00:00Z",
    )
    forged_list = add_proof(forged_list, Ed25519KeyPair.generate(), verification_method=METHOD)
    report = verify(issue(index=7), status_lists=StaticStatusLists({LIST_URL: forged_list}))
    assert failed(report) == {"status": {"STATUS_VERIFICATION_ERROR"}}


def test_validity_dates_are_checked_against_the_given_clock() -> None:
    credential = issue()
    early = verify_credential(
        credential,
        resolver=KeyResolver({ISSUER: DID_DOCUMENT}),
        now=dt.datetime(2025, 1, 1, tzinfo=dt.UTC),
        status_lists=status_lists(),
    )
    assert failed(early) == {"validity": {"VALIDITY_NOT_YET_VALID"}}
    late = verify_credential(
        credential,
        resolver=KeyResolver({ISSUER: DID_DOCUMENT}),
        now=dt.datetime(2031, 1, 1, tzinfo=dt.UTC),
        status_lists=status_lists(),
    )
    assert "VALIDITY_EXPIRED" in failed(late)["validity"]


def test_extra_checks_run_after_the_built_in_ones() -> None:
    seen: list[str] = []

    def anchor_check(context: VerificationContext) -> CheckResult:
        seen.extend(result.code for result in context.results)
        return CheckResult("anchor", FAILED, Message("proof.anchor"))

    report = verify(issue(), extra_checks=[anchor_check])
    assert seen == ["format", "structure", "jsonld", "issuer_key", "proof", "status", "validity"]
    assert report["anchor"].status == FAILED and not report.verified


def test_an_anchored_badge_still_verifies_and_its_path_is_reported_to_the_anchor_check() -> None:
    credentials = [issue(index=i) for i in (1, 2, 3)]
    batch = CredentialBatch(credentials)
    anchored = embed_anchor_proof(
        credentials[1],
        anchor_proof(
            batch.inclusion(1),
            anchor_reference="urn:oneteam:anchor:x:1",
            created="2025-03-02T00:00:00Z",
        ),
    )
    report = verify(anchored)
    assert report.verified
    assert "PROOF_ANCHOR_DELEGATED" in {problem.code for problem in report["proof"].problems}


def test_builder_refuses_an_invalid_badge() -> None:
    bad = AchievementSpec(
        id="not a uri",
        name="x",
        description="y",
        criteria_narrative="z",
        alignments=[Alignment(target_name="t", target_url="u", target_type="Competency")],
    )
    with pytest.raises(ValueError, match="targetType"):
        build_open_badge_credential(
            credential_id="urn:uuid:1",
            issuer=issuer_profile(ISSUER, "n"),
            subject_id="did:example:1",
            achievement=bad,
            valid_from="2025-01-01T00:00:00Z",
        )


def test_structure_problems_name_their_paths() -> None:
    credential = issue()
    credential["validFrom"] = "2025-03-01"
    del credential["credentialSubject"]["achievement"]["criteria"]
    credential["credentialSubject"]["achievement"]["alignment"][0]["targetUrl"] = "skills/ft"
    paths = {problem.path: problem.code for problem in validate_credential(credential)}
    assert paths == {
        "$.validFrom": "FORMAT",
        "$.credentialSubject.achievement.criteria": "REQUIRED",
        "$.credentialSubject.achievement.alignment[0].targetUrl": "FORMAT",
    }


def test_every_message_has_korean_and_english() -> None:
    for key, texts in MESSAGES.items():
        assert set(texts) == {"ko", "en"}, key
        assert all(text.strip() for text in texts.values()), key
