"""The pinned context set, the offline loader, undefined-term detection and RDFC-1.0."""

from __future__ import annotations

import hashlib
import json
from importlib import resources

import pytest

from oneteam.credentials import jsonld
from oneteam.credentials.jsonld import (
    ContextIntegrityError,
    PinnedDocumentLoader,
    UndefinedTermError,
    UnknownContextError,
    expand_strict,
    load_manifest,
    read_pinned_context,
    to_rdf_quads,
)
from oneteam.credentials.rdfc import (
    BlankNode,
    Iri,
    Literal,
    PoisonedDatasetError,
    Quad,
    canonicalize,
    escape_literal,
)
from tests.credentials.helpers import OB30, load_json

NEEDED = {
    "https://www.w3.org/ns/credentials/v2",
    "https://w3id.org/security/data-integrity/v2",
    "https://w3id.org/security/multikey/v1",
    "https://www.w3.org/ns/credentials/status/v1",
    "https://www.w3.org/ns/did/v1",
    "https://purl.imsglobal.org/spec/ob/v3p0/context-3.0.3.json",
    "https://purl.imsglobal.org/spec/ob/v3p0/context-3.0.2.json",
    "https://purl.imsglobal.org/spec/ob/v3p0/extensions.json",
    "https://purl.imsglobal.org/spec/clr/v2p0/context-2.0.1.json",
}


def test_manifest_pins_every_needed_context_and_every_hash_holds() -> None:
    manifest = load_manifest()
    assert manifest.keys() >= NEEDED
    root = resources.files("oneteam.credentials").joinpath("contexts")
    shipped = {entry.name for entry in root.iterdir() if entry.name != "MANIFEST.json"}
    assert shipped == {entry.file for entry in manifest.values()}  # no unpinned file ships
    for entry in manifest.values():
        data = root.joinpath(entry.file).read_bytes()
        assert hashlib.sha256(data).hexdigest() == entry.sha256, entry.file
        assert read_pinned_context(entry)["@context"]
        assert entry.source  # where the file came from


def test_a_changed_context_file_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    entry = load_manifest()["https://www.w3.org/ns/credentials/v2"]
    forged = jsonld.PinnedContext(entry.url, entry.file, "0" * 64, entry.scope, entry.source)
    with pytest.raises(ContextIntegrityError, match="sha256"):
        read_pinned_context(forged)


def test_loader_refuses_unpinned_urls_and_test_only_contexts_by_default() -> None:
    loader = PinnedDocumentLoader()
    with pytest.raises(UnknownContextError, match="never fetched"):
        loader("https://example.org/context.json")
    with pytest.raises(UnknownContextError):
        loader("https://www.w3.org/ns/credentials/examples/v2")
    assert (
        "https://www.w3.org/ns/credentials/examples/v2"
        in PinnedDocumentLoader(include_test_vectors=True).urls
    )
    served = loader("https://www.w3.org/ns/credentials/v2")
    served["document"]["@context"]["tampered"] = "x"
    assert "tampered" not in loader("https://www.w3.org/ns/credentials/v2")["document"]["@context"]


def test_unknown_context_in_a_document_is_a_clear_error() -> None:
    document = load_json(OB30 / "simple.json")
    document["@context"].append("https://attacker.example/context.jsonld")
    with pytest.raises(UnknownContextError) as raised:
        to_rdf_quads(document)
    assert raised.value.url == "https://attacker.example/context.jsonld"


def test_undefined_property_type_and_relative_id_are_errors_with_paths() -> None:
    document = load_json(OB30 / "simple.json")
    del document["proof"]
    document["credentialSubject"]["favouriteColour"] = "green"
    document["credentialSubject"]["achievement"]["type"] = ["Achievement", "SecretAchievement"]
    document["credentialSubject"]["achievement"]["id"] = "achievements/42"
    with pytest.raises(UndefinedTermError) as raised:
        expand_strict(document)
    found = {(problem.kind, problem.term): problem.paths for problem in raised.value.problems}
    assert found[("property", "favouriteColour")] == ("$.credentialSubject.favouriteColour",)
    assert found[("type", "SecretAchievement")] == ("$.credentialSubject.achievement.type[1]",)
    assert found[("id", "achievements/42")] == ("$.credentialSubject.achievement.id",)


def test_non_strict_conversion_drops_what_strict_refuses() -> None:
    document = {
        "@context": ["https://www.w3.org/ns/credentials/v2"],
        "type": "VerifiableCredential",
        "undefinedThing": 1,
    }
    assert len(to_rdf_quads(document, strict=False)) == 1
    with pytest.raises(UndefinedTermError):
        to_rdf_quads(document)


def test_json_integers_written_as_floats_canonicalize_as_integers() -> None:
    base = {"@context": {"@vocab": "https://example.org/#"}, "@id": "https://example.org/a"}
    loader = PinnedDocumentLoader()
    assert canonicalize(to_rdf_quads({**base, "n": 5.0}, loader)) == canonicalize(
        to_rdf_quads({**base, "n": 5}, loader)
    )
    assert '"5"^^<http://www.w3.org/2001/XMLSchema#integer>' in canonicalize(
        to_rdf_quads({**base, "n": 5.0}, loader)
    )
    assert '"5.5E0"^^<http://www.w3.org/2001/XMLSchema#double>' in canonicalize(
        to_rdf_quads({**base, "n": 5.5}, loader)
    )


def test_canonical_literal_escaping_follows_rdfc_1_0() -> None:
    assert escape_literal('a"b\\c') == 'a\\"b\\\\c'
    assert escape_literal("\b\t\n\f\r") == "\\b\\t\\n\\f\\r"
    assert (
        escape_literal("\x00\x07\x0b\x0e\x1f\x7f") == "\\u0000\\u0007\\u000B\\u000E\\u001F\\u007F"
    )
    assert escape_literal("한국어 é \u2028 😀") == "한국어 é \u2028 😀"
    assert escape_literal("\ufffe") == "\\uFFFE"


def _cycle(labels: list[str]) -> list[Quad]:
    predicate = Iri("http://example.org/vocab#p")
    return [
        Quad(BlankNode(labels[i]), predicate, BlankNode(labels[(i + 1) % len(labels)]))
        for i in range(len(labels))
    ]


def test_blank_node_labels_do_not_change_the_canonical_form() -> None:
    first = [
        *_cycle(["a", "b", "c", "d"]),
        Quad(BlankNode("a"), Iri("http://example.org/vocab#name"), Literal("x")),
    ]
    second = [
        *_cycle(["q", "r", "s", "t"]),
        Quad(BlankNode("q"), Iri("http://example.org/vocab#name"), Literal("x")),
    ]
    second.reverse()
    assert canonicalize(first) == canonicalize(second)
    assert "_:c14n0" in canonicalize(first)


def test_symmetric_graphs_need_n_degree_hashing_and_stay_deterministic() -> None:
    # Two disjoint 3-cycles: every node has the same first-degree hash.
    quads = _cycle(["a", "b", "c"]) + _cycle(["d", "e", "f"])
    expected = canonicalize(quads)
    assert canonicalize(list(reversed(quads))) == expected
    assert expected.count("\n") == 6
    assert {line.split()[0] for line in expected.splitlines()} == {f"_:c14n{i}" for i in range(6)}


def test_a_poisoned_dataset_is_cut_off() -> None:
    # A clique of blank nodes makes the N-degree algorithm try every permutation.
    predicate = Iri("http://example.org/vocab#p")
    nodes = [BlankNode(f"n{i}") for i in range(8)]
    quads = [Quad(a, predicate, b) for a in nodes for b in nodes if a != b]
    with pytest.raises(PoisonedDatasetError):
        canonicalize(quads, work_max=2_000)


def test_language_strings_and_named_graphs_serialize() -> None:
    quads = [
        Quad(
            Iri("https://example.org/s"),
            Iri("https://example.org/p"),
            Literal("안녕", "http://www.w3.org/1999/02/22-rdf-syntax-ns#langString", "ko"),
            BlankNode("g"),
        ),
    ]
    assert (
        canonicalize(quads)
        == '<https://example.org/s> <https://example.org/p> "안녕"@ko _:c14n0 .\n'
    )


def test_manifest_is_well_formed_json_with_sources() -> None:
    text = resources.files("oneteam.credentials").joinpath("contexts/MANIFEST.json").read_text()
    manifest = json.loads(text)
    for url, entry in manifest["contexts"].items():
        assert url.startswith("https://")
        source = entry["source"]
        assert ("repository" in source and "commit" in source) or (
            "package" in source and "version" in source
        )


def test_the_credentials_core_imports_no_django_and_only_the_ledgers_merkle_and_client() -> None:
    import subprocess
    import sys

    code = (
        "import sys, oneteam.credentials.verify, oneteam.credentials.merkle;"
        "bad = [m for m in sys.modules if m == 'django' or m.startswith('django.')];"
        "ledger = sorted(m for m in sys.modules if m.startswith('oneteam.ledger.'));"
        "print(bad, ledger)"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=60
    )
    bad, _, ledger = result.stdout.strip().partition("] ")
    assert bad == "["
    # oneteam.ledger.merkle brings its own invariants helper; nothing else of the ledger.
    assert ledger == "['oneteam.ledger.invariants', 'oneteam.ledger.merkle']"
