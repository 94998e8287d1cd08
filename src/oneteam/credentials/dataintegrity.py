"""Data Integrity proofs with the EdDSA cryptosuites (W3C Recommendation, 15 May 2025).

Two cryptosuites, one ``DataIntegrityProof`` type:

``eddsa-rdfc-2022``
    The document and the proof configuration (the proof options with the document's
    ``@context``) are each canonicalized with RDFC-1.0 and hashed with SHA-256; the
    signature is Ed25519 over ``sha256(proof config) || sha256(document)``.
``eddsa-jcs-2022``
    The same, with the JSON Canonicalization Scheme (RFC 8785) instead of RDFC-1.0; the
    proof carries the document's ``@context`` so a verifier can check it is unchanged.

``proofValue`` is the 64-byte signature, multibase base58-btc (``z...``).

Proof sets and proof chains (Data Integrity 1.0, sections 4.2-4.5) are supported: a
proof with ``previousProof`` signs the document together with the proofs it names.

Issuance canonicalizes strictly (an undefined term stops signing, see
:func:`oneteam.credentials.jsonld.expand_strict`); verification canonicalizes the way
any conforming verifier does, so the signature check reports exactly whether the
signature matches, and data loss is reported by its own check.
"""

from __future__ import annotations

import copy
import datetime as dt
import hashlib
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from oneteam.credentials.encoding import (
    MULTIBASE_BASE58BTC,
    EncodingError,
    multibase_decode,
    multibase_encode,
)
from oneteam.credentials.jcs import JcsError, canonicalize_json
from oneteam.credentials.jsonld import (
    JsonLdError,
    PinnedDocumentLoader,
    default_loader,
    to_rdf_quads,
)
from oneteam.credentials.multikey import Ed25519KeyPair, Ed25519PublicKey
from oneteam.credentials.rdfc import CanonicalizationError, canonicalize

PROOF_TYPE = "DataIntegrityProof"
EDDSA_RDFC_2022 = "eddsa-rdfc-2022"
EDDSA_JCS_2022 = "eddsa-jcs-2022"
SUPPORTED_CRYPTOSUITES = (EDDSA_RDFC_2022, EDDSA_JCS_2022)
ASSERTION_METHOD = "assertionMethod"

# XML Schema 1.1 dateTimeStamp: a dateTime that must carry a time zone.
DATE_TIME_STAMP = re.compile(
    r"^-?[0-9]{4,}-(0[1-9]|1[0-2])-(0[1-9]|[12][0-9]|3[01])T"
    r"([01][0-9]|2[0-3]):[0-5][0-9]:([0-5][0-9])(\.[0-9]+)?"
    r"(Z|[+-]((0[0-9]|1[0-3]):[0-5][0-9]|14:00))$"
)
PROOFS_PER_DOCUMENT_MAX = 16


class DataIntegrityError(ValueError):
    """A proof cannot be created or checked; ``code`` is the specification's error name."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code


def parse_date_time_stamp(value: Any) -> dt.datetime:
    """A timezone-aware datetime from an XML Schema dateTimeStamp, or DataIntegrityError."""
    if not isinstance(value, str) or not DATE_TIME_STAMP.match(value):
        raise DataIntegrityError(
            "MALFORMED_PROOF_ERROR", f"{value!r} is not an XML Schema dateTimeStamp"
        )
    text = value.replace("Z", "+00:00")
    try:
        parsed = dt.datetime.fromisoformat(text)
    except ValueError as error:
        raise DataIntegrityError(
            "MALFORMED_PROOF_ERROR", f"{value!r} is not a valid date and time"
        ) from error
    if parsed.tzinfo is None:
        raise DataIntegrityError("MALFORMED_PROOF_ERROR", f"{value!r} has no time zone")
    return parsed


def format_date_time(moment: dt.datetime) -> str:
    """UTC, whole seconds, ``Z``: the form OneTeam writes for ``created`` and validity dates."""
    if moment.tzinfo is None:
        raise ValueError("datetime must be timezone-aware")
    return moment.astimezone(dt.UTC).replace(microsecond=0).strftime("%Y-%m-%dT%H:%M:%SZ")


@dataclass(frozen=True)
class ProofComputation:
    """Every intermediate value of the suite's algorithms, for tests and diagnostics."""

    cryptosuite: str
    canonical_document: bytes
    canonical_proof_config: bytes
    document_hash: bytes
    proof_config_hash: bytes

    @property
    def hash_data(self) -> bytes:
        return self.proof_config_hash + self.document_hash


def _check_suite(options: Mapping[str, Any]) -> str:
    if options.get("type") != PROOF_TYPE:
        raise DataIntegrityError(
            "PROOF_TRANSFORMATION_ERROR",
            f"proof type is {options.get('type')!r}, expected {PROOF_TYPE}",
        )
    suite = options.get("cryptosuite")
    if suite not in SUPPORTED_CRYPTOSUITES:
        raise DataIntegrityError(
            "PROOF_TRANSFORMATION_ERROR", f"cryptosuite {suite!r} is not supported"
        )
    return str(suite)


def _canonical(
    document: Mapping[str, Any], suite: str, loader: PinnedDocumentLoader, strict: bool
) -> bytes:
    if suite == EDDSA_JCS_2022:
        try:
            return canonicalize_json(document)
        except JcsError as error:
            raise DataIntegrityError("PROOF_TRANSFORMATION_ERROR", str(error)) from error
    try:
        return canonicalize(to_rdf_quads(document, loader, strict=strict)).encode("utf-8")
    except (JsonLdError, CanonicalizationError) as error:
        raise DataIntegrityError("PROOF_TRANSFORMATION_ERROR", str(error)) from error


def compute(
    unsecured_document: Mapping[str, Any],
    proof_options: Mapping[str, Any],
    *,
    loader: PinnedDocumentLoader | None = None,
    strict: bool = True,
) -> ProofComputation:
    """Transformation, Proof Configuration and Hashing of the suite named in ``proof_options``."""
    loader = loader or default_loader()
    suite = _check_suite(proof_options)
    if "proof" in unsecured_document and not isinstance(unsecured_document["proof"], list):
        raise DataIntegrityError(
            "PROOF_TRANSFORMATION_ERROR", "an unsecured document's proof must be a list"
        )
    proof_config = {key: value for key, value in proof_options.items() if key != "proofValue"}
    if "created" in proof_config:
        parse_date_time_stamp(proof_config["created"])
    if "@context" in unsecured_document:
        proof_config["@context"] = copy.deepcopy(unsecured_document["@context"])
    elif suite == EDDSA_RDFC_2022:
        raise DataIntegrityError(
            "PROOF_TRANSFORMATION_ERROR", "an eddsa-rdfc-2022 document needs an @context"
        )
    canonical_document = _canonical(unsecured_document, suite, loader, strict)
    canonical_proof_config = _canonical(proof_config, suite, loader, strict)
    return ProofComputation(
        cryptosuite=suite,
        canonical_document=canonical_document,
        canonical_proof_config=canonical_proof_config,
        document_hash=hashlib.sha256(canonical_document).digest(),
        proof_config_hash=hashlib.sha256(canonical_proof_config).digest(),
    )


def proofs_of(document: Mapping[str, Any]) -> list[dict[str, Any]]:
    """The document's proofs as a list (a single proof object becomes a list of one)."""
    proof = document.get("proof")
    if proof is None:
        return []
    proofs = proof if isinstance(proof, list) else [proof]
    if len(proofs) > PROOFS_PER_DOCUMENT_MAX:
        raise DataIntegrityError(
            "MALFORMED_PROOF_ERROR", f"more than {PROOFS_PER_DOCUMENT_MAX} proofs"
        )
    if not all(isinstance(item, dict) for item in proofs):
        raise DataIntegrityError("MALFORMED_PROOF_ERROR", "every proof must be a JSON object")
    return [dict(item) for item in proofs]


def _previous_proofs(
    all_proofs: Sequence[Mapping[str, Any]], previous: Any
) -> list[dict[str, Any]]:
    wanted = [previous] if isinstance(previous, str) else previous
    if not isinstance(wanted, list) or not all(isinstance(item, str) for item in wanted):
        raise DataIntegrityError(
            "MALFORMED_PROOF_ERROR", "previousProof must be a string or a list of strings"
        )
    matching = []
    for proof_id in wanted:
        found = [dict(proof) for proof in all_proofs if proof.get("id") == proof_id]
        if not found:
            raise DataIntegrityError(
                "PROOF_VERIFICATION_ERROR", f"previousProof {proof_id!r} is not in the document"
            )
        matching.append(found[0])
    return matching


def _unsecured_for(
    document: Mapping[str, Any], proof: Mapping[str, Any], all_proofs: Sequence[Mapping[str, Any]]
) -> dict[str, Any]:
    unsecured = {key: copy.deepcopy(value) for key, value in document.items() if key != "proof"}
    if "previousProof" in proof:
        unsecured["proof"] = _previous_proofs(all_proofs, proof["previousProof"])
    return unsecured


def create_proof(
    document: Mapping[str, Any],
    key_pair: Ed25519KeyPair,
    *,
    verification_method: str,
    cryptosuite: str = EDDSA_RDFC_2022,
    created: dt.datetime | str | None = None,
    proof_purpose: str = ASSERTION_METHOD,
    proof_id: str | None = None,
    previous_proof: str | Sequence[str] | None = None,
    domain: str | None = None,
    challenge: str | None = None,
    expires: dt.datetime | str | None = None,
    loader: PinnedDocumentLoader | None = None,
) -> dict[str, Any]:
    """Create a proof for ``document`` (its existing proofs are handled as a set or chain).

    Returns the proof object; :func:`add_proof` returns the secured document.
    """
    if cryptosuite not in SUPPORTED_CRYPTOSUITES:
        raise DataIntegrityError(
            "PROOF_GENERATION_ERROR", f"cryptosuite {cryptosuite!r} is not supported"
        )
    if not isinstance(verification_method, str) or ":" not in verification_method:
        raise DataIntegrityError("PROOF_GENERATION_ERROR", "verificationMethod must be a URL")
    options: dict[str, Any] = {"type": PROOF_TYPE}
    if proof_id is not None:
        options["id"] = proof_id
    options["cryptosuite"] = cryptosuite
    moment = created if created is not None else dt.datetime.now(dt.UTC)
    options["created"] = format_date_time(moment) if isinstance(moment, dt.datetime) else moment
    options["verificationMethod"] = verification_method
    options["proofPurpose"] = proof_purpose
    if expires is not None:
        options["expires"] = (
            format_date_time(expires) if isinstance(expires, dt.datetime) else expires
        )
    if domain is not None:
        options["domain"] = domain
    if challenge is not None:
        options["challenge"] = challenge
    if previous_proof is not None:
        options["previousProof"] = (
            previous_proof if isinstance(previous_proof, str) else list(previous_proof)
        )
    for field_name in ("created", "expires"):
        if field_name in options:
            parse_date_time_stamp(options[field_name])

    unsecured = _unsecured_for(document, options, proofs_of(document))
    if cryptosuite == EDDSA_JCS_2022 and "@context" in document:
        options["@context"] = copy.deepcopy(document["@context"])
    computation = compute(unsecured, options, loader=loader, strict=True)
    signature = key_pair.sign(computation.hash_data)
    proof = dict(options)
    proof["proofValue"] = multibase_encode(signature, MULTIBASE_BASE58BTC)
    return proof


def add_proof(
    document: Mapping[str, Any], key_pair: Ed25519KeyPair, **options: Any
) -> dict[str, Any]:
    """The secured document: ``document`` with a new proof added to its proofs."""
    proof = create_proof(document, key_pair, **options)
    secured = copy.deepcopy(dict(document))
    existing = proofs_of(document)
    secured["proof"] = [*existing, proof] if existing else proof
    return secured


@dataclass(frozen=True)
class ProofCheck:
    verified: bool
    code: str | None
    message: str
    computation: ProofComputation | None = None


def verify_proof(
    document: Mapping[str, Any],
    proof: Mapping[str, Any],
    public_key: Ed25519PublicKey,
    *,
    expected_purpose: str = ASSERTION_METHOD,
    expected_domain: str | None = None,
    expected_challenge: str | None = None,
    now: dt.datetime | None = None,
    loader: PinnedDocumentLoader | None = None,
    strict: bool = False,
) -> ProofCheck:
    """Verify one proof of ``document`` (which may hold others: a set or a chain)."""
    try:
        all_proofs = proofs_of(document)
        suite = _check_suite(proof)
        if proof.get("proofPurpose") != expected_purpose:
            return ProofCheck(
                False,
                "PROOF_VERIFICATION_ERROR",
                f"proofPurpose is {proof.get('proofPurpose')!r}, expected {expected_purpose!r}",
            )
        if expected_domain is not None and proof.get("domain") != expected_domain:
            return ProofCheck(False, "INVALID_DOMAIN_ERROR", "proof domain does not match")
        if expected_challenge is not None and proof.get("challenge") != expected_challenge:
            return ProofCheck(False, "INVALID_CHALLENGE_ERROR", "proof challenge does not match")
        if "expires" in proof:
            expires = parse_date_time_stamp(proof["expires"])
            if (now or dt.datetime.now(dt.UTC)) > expires:
                return ProofCheck(False, "PROOF_EXPIRED", f"proof expired at {proof['expires']}")
        proof_value = proof.get("proofValue")
        if not isinstance(proof_value, str):
            return ProofCheck(
                False, "MALFORMED_PROOF_ERROR", "proofValue is missing or not a string"
            )
        try:
            signature = multibase_decode(proof_value, expected_base=MULTIBASE_BASE58BTC)
        except EncodingError as error:
            return ProofCheck(False, "MALFORMED_PROOF_ERROR", f"proofValue: {error}")
        proof_options = {
            key: copy.deepcopy(value) for key, value in proof.items() if key != "proofValue"
        }
        unsecured = _unsecured_for(document, proof, all_proofs)
        if "@context" in proof_options:
            proof_context = proof_options["@context"]
            document_context = document.get("@context")
            wanted = proof_context if isinstance(proof_context, list) else [proof_context]
            have = document_context if isinstance(document_context, list) else [document_context]
            if have[: len(wanted)] != wanted:
                return ProofCheck(
                    False,
                    "PROOF_VERIFICATION_ERROR",
                    "the document's @context does not start with the proof's @context",
                )
            unsecured["@context"] = proof_context
        computation = compute(unsecured, proof_options, loader=loader, strict=strict)
    except DataIntegrityError as error:
        return ProofCheck(False, error.code, str(error))
    if suite not in SUPPORTED_CRYPTOSUITES:  # pragma: no cover - _check_suite guards it
        return ProofCheck(False, "PROOF_VERIFICATION_ERROR", "unsupported cryptosuite")
    if not public_key.verify(computation.hash_data, signature):
        return ProofCheck(
            False, "PROOF_VERIFICATION_ERROR", "the signature does not match", computation
        )
    return ProofCheck(True, None, "the signature matches", computation)
