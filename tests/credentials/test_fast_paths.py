"""The shortcuts taken for speed give the same answers as the long way round.

JCS through the standard library, N-Quads escaping without a per-character loop, the
loader's caches of contexts, and the verifier's memory of status list checks.
"""

from __future__ import annotations

import copy
from typing import Any

import rfc8785
from hypothesis import given, settings
from hypothesis import strategies as st

from oneteam.credentials.dataintegrity import add_proof
from oneteam.credentials.jcs import canonicalize_json
from oneteam.credentials.jsonld import PinnedDocumentLoader, UndefinedTermError, to_rdf_quads
from oneteam.credentials.rdfc import (
    _ECHAR,
    _IRI_ESCAPED,
    _needs_uchar,
    canonicalize,
    escape_iri,
    escape_literal,
)
from oneteam.credentials.statuslist import StatusList, build_status_list_credential
from oneteam.credentials.verify import StaticStatusLists
from tests.credentials.test_issue_and_verify import (
    ISSUER,
    ISSUER_KEY,
    LIST_URL,
    METHOD,
    failed,
    issue,
    status_lists,
    verify,
)

json_scalars = (st.none() | st.booleans() | st.integers(-(2**53) + 1, 2**53 - 1)
                | st.floats(allow_nan=False, allow_infinity=False) | st.text())
json_values = st.recursive(
    json_scalars,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(), inner, max_size=4),
    max_leaves=20)


@given(json_values)
@settings(max_examples=400, deadline=None)
def test_jcs_matches_the_rfc_8785_library(value: Any) -> None:
    try:
        expected = rfc8785.dumps(value)
    except (rfc8785.CanonicalizationError, UnicodeEncodeError):
        return  # refused by both (a lone surrogate): the error path is the library's
    assert canonicalize_json(value) == expected


def test_jcs_orders_keys_beyond_the_basic_plane_by_utf16() -> None:
    # U+10000 is D800 DC00 in UTF-16, before U+FF61; by code point it comes after.
    value = {"\U00010000": 1, "\uff61": 2, "a": [1.5, 10**20 // 10**5]}
    assert canonicalize_json(value) == rfc8785.dumps(value)
    assert canonicalize_json(value).index("\U00010000".encode()) < \
        canonicalize_json(value).index("\uff61".encode())


def _literal_by_character(value: str) -> str:
    out = []
    for character in value:
        code_point = ord(character)
        echar = _ECHAR.get(code_point)
        out.append(echar if echar is not None else
                   f"\\u{code_point:04X}" if _needs_uchar(code_point) else character)
    return "".join(out)


def _iri_by_character(value: str) -> str:
    return "".join(f"\\u{ord(c):04X}" if ord(c) <= 0x20 or c in _IRI_ESCAPED else c
                   for c in value)


def test_nquads_escaping_matches_its_definition_for_every_basic_plane_character() -> None:
    for code_point in range(0x10000):
        character = chr(code_point)
        for value in (character, f"a{character}b"):
            assert escape_literal(value) == _literal_by_character(value), hex(code_point)
            assert escape_iri(value) == _iri_by_character(value), hex(code_point)


def test_a_warm_loader_gives_what_a_fresh_one_gives() -> None:
    warm = PinnedDocumentLoader()
    credentials = [issue(index=n) for n in (1, 2, 3)]
    for credential in credentials:  # the caches of contexts fill here
        to_rdf_quads(credential, warm)
    for credential in credentials:
        fresh = PinnedDocumentLoader()
        assert canonicalize(to_rdf_quads(credential, warm)) == \
            canonicalize(to_rdf_quads(credential, fresh))


def test_a_warm_loader_still_finds_an_undefined_term() -> None:
    loader = PinnedDocumentLoader()
    credential = issue()
    to_rdf_quads(credential, loader)
    changed = copy.deepcopy(credential)
    changed["credentialSubject"]["achievement"]["notInAnyContext"] = "lost"
    try:
        to_rdf_quads(changed, loader)
    except UndefinedTermError as error:
        assert "notInAnyContext" in str(error)
    else:
        raise AssertionError("an undefined term passed a warm loader")


def test_a_changed_status_list_is_checked_again_not_recalled() -> None:
    good = status_lists()
    assert verify(issue(index=7), status_lists=good).verified  # remembered from here
    # The same list URL, its bits changed after signing: the old signature no longer holds.
    listed = dict(good.status_list_credential(LIST_URL))
    tampered = copy.deepcopy(listed)
    bits = StatusList()
    bits.set(7, 1)
    tampered["credentialSubject"]["encodedList"] = bits.encode()
    report = verify(issue(index=7), status_lists=StaticStatusLists({LIST_URL: tampered}))
    assert failed(report) == {"status": {"STATUS_VERIFICATION_ERROR"}}
    # A list signed again by the issuer with the bit set: revoked.
    resigned = add_proof(build_status_list_credential(
        list_credential_url=LIST_URL, issuer=ISSUER, purpose="revocation", status_list=bits,
        valid_from="2025-01-01T00:00:00Z"), ISSUER_KEY, verification_method=METHOD,
        created="2025-01-01T00:00:00Z")
    report = verify(issue(index=7), status_lists=StaticStatusLists({LIST_URL: resigned}))
    assert failed(report) == {"status": {"STATUS_REVOKED"}}


def test_batch_paths_read_off_the_kept_levels_are_the_ledgers() -> None:
    from oneteam.credentials.merkle import CredentialBatch
    from oneteam.ledger import merkle as ledger_merkle

    for size in range(1, 40):
        batch = CredentialBatch([{"id": f"urn:uuid:{n}", "n": n} for n in range(size)])
        assert batch.root == ledger_merkle.root_of_leaves(batch.leaves)
        for index in range(size):
            proof = batch.inclusion(index)
            assert list(proof.path) == ledger_merkle.inclusion_path(batch.leaves, index)
            assert ledger_merkle.root_from_path(batch.leaves[index], index, size,
                                                proof.path) == batch.root
