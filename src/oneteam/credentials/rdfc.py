"""RDF Dataset Canonicalization, RDFC-1.0 (W3C Recommendation, 21 May 2024).

The algorithm labels every blank node deterministically and serializes the dataset in
canonical N-Quads form (appendix A of the specification): one quad a line, single
spaces, ``xsd:string`` literals without a datatype, ``\\b \\t \\n \\f \\r \\" \\\\``
escaped as ECHAR, the other control characters and non-characters as ``\\uXXXX``
with upper-case hex, everything else written as is. Lines are sorted by code point.

RDFC-1.0 is URDNA2015 under a new name with one difference that matters for bytes:
the escaping above (URDNA2015 implementations such as PyLD's escape only ``\\t \\n \\r
\\" \\\\``). That is why the algorithm is implemented here rather than taken from PyLD.

A dataset built to make the N-degree hashing explode (the specification's "dataset
poisoning") is cut off by ``work_max``: every call of Hash N-Degree Quads and every
permutation it tries counts one unit, and passing the budget raises
:class:`PoisonedDatasetError` instead of running for hours.
"""

from __future__ import annotations

import hashlib
import itertools
import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass

XSD_STRING = "http://www.w3.org/2001/XMLSchema#string"
RDF_LANGSTRING = "http://www.w3.org/1999/02/22-rdf-syntax-ns#langString"

WORK_MAX_DEFAULT = 200_000
CANONICAL_PREFIX = "c14n"
TEMPORARY_PREFIX = "b"


class CanonicalizationError(ValueError):
    """The dataset cannot be canonicalized."""


class PoisonedDatasetError(CanonicalizationError):
    """Canonicalization exceeded its work budget (RDFC-1.0 section 7.1, dataset poisoning)."""


@dataclass(frozen=True, slots=True)
class Iri:
    value: str


@dataclass(frozen=True, slots=True)
class BlankNode:
    label: str  # without the "_:" prefix


@dataclass(frozen=True, slots=True)
class Literal:
    value: str
    datatype: str = XSD_STRING
    language: str | None = None


Term = Iri | BlankNode | Literal


@dataclass(frozen=True, slots=True)
class Quad:
    subject: Iri | BlankNode
    predicate: Iri
    object: Term
    graph: Iri | BlankNode | None = None

    def blank_nodes(self) -> Iterable[tuple[str, BlankNode]]:
        """(position, node) for each blank node component; positions are s, o, g."""
        if isinstance(self.subject, BlankNode):
            yield "s", self.subject
        if isinstance(self.object, BlankNode):
            yield "o", self.object
        if isinstance(self.graph, BlankNode):
            yield "g", self.graph


_ECHAR = {
    0x08: "\\b",
    0x09: "\\t",
    0x0A: "\\n",
    0x0C: "\\f",
    0x0D: "\\r",
    0x22: '\\"',
    0x5C: "\\\\",
}


def _needs_uchar(code_point: int) -> bool:
    return (
        code_point <= 0x07
        or code_point == 0x0B
        or 0x0E <= code_point <= 0x1F
        or code_point == 0x7F
        or 0xD800 <= code_point <= 0xDFFF
        or code_point in (0xFFFE, 0xFFFF)
    )


# Characters that escape_literal or escape_iri change; most values have none of them.
_LITERAL_ESCAPED = re.compile(r'[\x00-\x1f"\\\x7f\ud800-\udfff\ufffe\uffff]')
_IRI_NEEDS_ESCAPE = re.compile(r'[\x00-\x20<>"{}|^`\\]')


def escape_literal(value: str) -> str:
    """A literal's lexical form as canonical N-Quads writes it between quotes."""
    if _LITERAL_ESCAPED.search(value) is None:
        return value
    out: list[str] = []
    for character in value:
        code_point = ord(character)
        echar = _ECHAR.get(code_point)
        if echar is not None:
            out.append(echar)
        elif _needs_uchar(code_point):
            out.append(f"\\u{code_point:04X}")
        else:
            out.append(character)
    return "".join(out)


_IRI_ESCAPED = frozenset('<>"{}|^`\\')


def escape_iri(value: str) -> str:
    """An IRI as written between angle brackets; characters no IRIREF allows become UCHAR."""
    if _IRI_NEEDS_ESCAPE.search(value) is None:
        return value
    return "".join(f"\\u{ord(c):04X}" if ord(c) <= 0x20 or c in _IRI_ESCAPED else c for c in value)


def _term_nquads(term: Term, label: Callable[[str], str]) -> str:
    if isinstance(term, Iri):
        return f"<{escape_iri(term.value)}>"
    if isinstance(term, BlankNode):
        return f"_:{label(term.label)}"
    text = f'"{escape_literal(term.value)}"'
    if term.datatype == RDF_LANGSTRING:
        if not term.language:
            raise CanonicalizationError("a language-tagged string has no language tag")
        return f"{text}@{term.language}"
    if term.language:
        raise CanonicalizationError("a literal has a language tag but is not rdf:langString")
    if term.datatype == XSD_STRING:
        return text
    return f"{text}^^<{escape_iri(term.datatype)}>"


def serialize_quad(quad: Quad, label: Callable[[str], str] = lambda name: name) -> str:
    """One quad in canonical N-Quads form, ending in a line feed."""
    parts = [
        _term_nquads(quad.subject, label),
        _term_nquads(quad.predicate, label),
        _term_nquads(quad.object, label),
    ]
    if quad.graph is not None:
        parts.append(_term_nquads(quad.graph, label))
    return " ".join(parts) + " .\n"


class IdentifierIssuer:
    """Issues ``prefix0``, ``prefix1``, ... and remembers the order it issued them in."""

    __slots__ = ("counter", "issued", "prefix")

    def __init__(self, prefix: str) -> None:
        self.prefix = prefix
        self.counter = 0
        self.issued: dict[str, str] = {}

    def issue(self, existing: str) -> str:
        issued = self.issued.get(existing)
        if issued is None:
            issued = f"{self.prefix}{self.counter}"
            self.issued[existing] = issued
            self.counter += 1
        return issued

    def copy(self) -> IdentifierIssuer:
        clone = IdentifierIssuer(self.prefix)
        clone.counter = self.counter
        clone.issued = dict(self.issued)
        return clone


def _sha256_hex(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


class _Canonicalizer:
    def __init__(self, quads: Sequence[Quad], work_max: int) -> None:
        self.quads = quads
        self.work_max = work_max
        self.work = 0
        self.blank_node_to_quads: dict[str, list[Quad]] = {}
        self.canonical_issuer = IdentifierIssuer(CANONICAL_PREFIX)
        self._first_degree: dict[str, str] = {}

    def _spend(self) -> None:
        self.work += 1
        if self.work > self.work_max:
            raise PoisonedDatasetError(
                f"canonicalization needed more than {self.work_max} steps; "
                "the dataset looks built to exhaust the algorithm"
            )

    # 4.6 Hash First Degree Quads
    def hash_first_degree(self, reference: str) -> str:
        cached = self._first_degree.get(reference)
        if cached is not None:
            return cached

        def label(name: str) -> str:
            return "a" if name == reference else "z"

        nquads = sorted(serialize_quad(quad, label) for quad in self.blank_node_to_quads[reference])
        result = _sha256_hex("".join(nquads))
        self._first_degree[reference] = result
        return result

    # 4.7 Hash Related Blank Node
    def hash_related(
        self, related: str, quad: Quad, issuer: IdentifierIssuer, position: str
    ) -> str:
        if related in self.canonical_issuer.issued:
            identifier = "_:" + self.canonical_issuer.issued[related]
        elif related in issuer.issued:
            identifier = "_:" + issuer.issued[related]
        else:
            identifier = self.hash_first_degree(related)
        text = position
        if position != "g":
            text += f"<{quad.predicate.value}>"
        return _sha256_hex(text + identifier)

    # 4.8 Hash N-Degree Quads
    def hash_n_degree(
        self, identifier: str, issuer: IdentifierIssuer
    ) -> tuple[str, IdentifierIssuer]:
        self._spend()
        related_by_hash: dict[str, list[str]] = {}
        for quad in self.blank_node_to_quads[identifier]:
            for position, node in quad.blank_nodes():
                if node.label == identifier:
                    continue
                related_hash = self.hash_related(node.label, quad, issuer, position)
                related_by_hash.setdefault(related_hash, []).append(node.label)

        data_to_hash = ""
        for related_hash in sorted(related_by_hash):
            data_to_hash += related_hash
            chosen_path = ""
            chosen_issuer: IdentifierIssuer | None = None
            for permutation in itertools.permutations(related_by_hash[related_hash]):
                self._spend()
                issuer_copy = issuer.copy()
                path = ""
                recursion: list[str] = []
                skip = False
                for related in permutation:
                    if related in self.canonical_issuer.issued:
                        path += "_:" + self.canonical_issuer.issued[related]
                    else:
                        if related not in issuer_copy.issued:
                            recursion.append(related)
                        path += "_:" + issuer_copy.issue(related)
                    if chosen_path and len(path) >= len(chosen_path) and path > chosen_path:
                        skip = True
                        break
                if skip:
                    continue
                for related in recursion:
                    result_hash, result_issuer = self.hash_n_degree(related, issuer_copy)
                    path += "_:" + issuer_copy.issue(related)
                    path += f"<{result_hash}>"
                    issuer_copy = result_issuer
                    if chosen_path and len(path) >= len(chosen_path) and path > chosen_path:
                        skip = True
                        break
                if skip:
                    continue
                if not chosen_path or path < chosen_path:
                    chosen_path = path
                    chosen_issuer = issuer_copy
            if chosen_issuer is None:
                raise CanonicalizationError("no permutation produced a path")
            data_to_hash += chosen_path
            issuer = chosen_issuer
        return _sha256_hex(data_to_hash), issuer

    # 4.4 Canonicalization Algorithm
    def run(self) -> dict[str, str]:
        for quad in self.quads:
            for _position, node in quad.blank_nodes():
                quads_of_node = self.blank_node_to_quads.setdefault(node.label, [])
                if not quads_of_node or quads_of_node[-1] is not quad:
                    quads_of_node.append(quad)

        hash_to_blank_nodes: dict[str, list[str]] = {}
        for label in self.blank_node_to_quads:
            hash_to_blank_nodes.setdefault(self.hash_first_degree(label), []).append(label)

        for first_hash in sorted(hash_to_blank_nodes):
            nodes = hash_to_blank_nodes[first_hash]
            if len(nodes) > 1:
                continue
            self.canonical_issuer.issue(nodes[0])
            del hash_to_blank_nodes[first_hash]

        for first_hash in sorted(hash_to_blank_nodes):
            hash_path_list: list[tuple[str, IdentifierIssuer]] = []
            for label in hash_to_blank_nodes[first_hash]:
                if label in self.canonical_issuer.issued:
                    continue
                temporary = IdentifierIssuer(TEMPORARY_PREFIX)
                temporary.issue(label)
                hash_path_list.append(self.hash_n_degree(label, temporary))
            for _result_hash, result_issuer in sorted(hash_path_list, key=lambda item: item[0]):
                for existing in result_issuer.issued:
                    self.canonical_issuer.issue(existing)
        return dict(self.canonical_issuer.issued)


def canonical_labels(quads: Sequence[Quad], *, work_max: int = WORK_MAX_DEFAULT) -> dict[str, str]:
    """The canonical identifier (``c14nN``) issued for each input blank node label."""
    return _Canonicalizer(quads, work_max).run()


def canonicalize(quads: Sequence[Quad], *, work_max: int = WORK_MAX_DEFAULT) -> str:
    """The canonical N-Quads document of a dataset (duplicate quads count once)."""
    unique = list(dict.fromkeys(quads))
    labels = canonical_labels(unique, work_max=work_max)
    lines = {serialize_quad(quad, labels.__getitem__) for quad in unique}
    return "".join(sorted(lines))
