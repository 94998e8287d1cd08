"""JSON-LD processing for credentials: pinned contexts only, and no silent data loss.

Every context a credential may name is shipped in ``contexts/`` and pinned by SHA-256
in ``contexts/MANIFEST.json``; :class:`PinnedDocumentLoader` serves exactly those files
and refuses every other URL, so canonicalization never touches the network and a
context cannot change under a signature.

JSON-LD silently drops what a context does not define: a property with no mapping,
a ``type`` or ``id`` that stays a relative IRI. A signature over the RDF form would
then not cover that data, and a verifier would accept a document whose visible JSON
says more than was signed. The VC data model asks verifiers to detect this, so
:func:`expand_strict` turns each such case into an :class:`UndefinedTermError` naming
the term and the JSON paths where it appears.

The JSON-LD algorithms themselves come from PyLD; :func:`to_rdf_quads` hands its
RDF dataset to :mod:`oneteam.credentials.rdfc` as typed quads.
"""

from __future__ import annotations

import copy
import hashlib
import json
import math
import threading
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from importlib import resources
from typing import Any

from c14n.Canonicalize import canonicalize as c14n_canonicalize  # type: ignore[import-untyped]
from frozendict import frozendict
from pyld import jsonld as pyld_jsonld
from pyld.context_resolver import ContextResolver

from oneteam.credentials.rdfc import BlankNode, Iri, Literal, Quad, Term

CONTEXTS_PACKAGE = "oneteam.credentials"
CONTEXTS_DIRECTORY = "contexts"
MANIFEST_FILE = "MANIFEST.json"

SCOPE_PRODUCTION = "production"
SCOPE_TEST_VECTORS = "test-vectors"

VC_V2_CONTEXT = "https://www.w3.org/ns/credentials/v2"
VC_V1_CONTEXT = "https://www.w3.org/2018/credentials/v1"
OB_V3_CONTEXT = "https://purl.imsglobal.org/spec/ob/v3p0/context-3.0.3.json"
OB_V3_CONTEXT_PREFIX = "https://purl.imsglobal.org/spec/ob/v3p0/context"
CLR_V2_CONTEXT = "https://purl.imsglobal.org/spec/clr/v2p0/context-2.0.1.json"
DATA_INTEGRITY_V2_CONTEXT = "https://w3id.org/security/data-integrity/v2"
MULTIKEY_V1_CONTEXT = "https://w3id.org/security/multikey/v1"
DID_V1_CONTEXT = "https://www.w3.org/ns/did/v1"
EXAMPLES_V2_CONTEXT = "https://www.w3.org/ns/credentials/examples/v2"

# Vocabularies that exist only to catch terms no context defines; an IRI in them is
# as undefined as a dropped one.
UNDEFINED_TERM_NAMESPACES = (
    "https://www.w3.org/ns/credentials/issuer-dependent#",
    "https://www.w3.org/ns/credentials/undefined-term#",
)

# JSON-LD context loading recurses; a credential's context chain is short.
CONTEXT_URLS_MAX = 16
RESOLVED_CONTEXTS_MAX = 256
PROCESSED_CONTEXTS_MAX = 1024
DOCUMENT_DEPTH_MAX = 64


class JsonLdError(ValueError):
    """A credential could not be processed as JSON-LD."""


class ContextIntegrityError(JsonLdError):
    """A shipped context file does not match the hash pinned in the manifest."""


class UnknownContextError(JsonLdError):
    """A document names a context URL that is not pinned; nothing is fetched."""

    def __init__(self, url: str) -> None:
        super().__init__(
            f"context {url!r} is not one of the pinned contexts; "
            "contexts are never fetched from the network"
        )
        self.url = url


@dataclass(frozen=True)
class UndefinedTerm:
    """One piece of the document that JSON-LD processing would drop or leave undefined."""

    kind: str  # "property", "type", "id" or "vocabulary"
    term: str
    paths: tuple[str, ...]

    def describe(self) -> str:
        where = ", ".join(self.paths) if self.paths else "(location not found)"
        if self.kind == "property":
            return f"property {self.term!r} is not defined by any context (at {where})"
        if self.kind == "type":
            return f"type {self.term!r} is not defined by any context (at {where})"
        if self.kind == "vocabulary":
            return f"term {self.term!r} only maps to an undefined-term vocabulary (at {where})"
        return f"identifier {self.term!r} is not an absolute IRI (at {where})"


class UndefinedTermError(JsonLdError):
    """JSON-LD processing would silently drop part of the document."""

    def __init__(self, problems: list[UndefinedTerm]) -> None:
        self.problems = problems
        super().__init__("; ".join(problem.describe() for problem in problems))


class BoundedCache(dict[str, Any]):
    """A dict that forgets its oldest entry past ``size_max`` (PyLD also caches inline contexts)."""

    def __init__(self, size_max: int) -> None:
        super().__init__()
        self.size_max = size_max
        self._lock = threading.Lock()

    def __setitem__(self, key: str, value: Any) -> None:
        with self._lock:
            super().__setitem__(key, value)
            while len(self) > self.size_max:
                del self[next(iter(self))]


@dataclass(frozen=True)
class PinnedContext:
    url: str
    file: str
    sha256: str
    scope: str
    source: Mapping[str, str]


def load_manifest() -> dict[str, PinnedContext]:
    """The pinned contexts, keyed by URL, as recorded in ``contexts/MANIFEST.json``."""
    root = resources.files(CONTEXTS_PACKAGE).joinpath(CONTEXTS_DIRECTORY)
    raw = json.loads(root.joinpath(MANIFEST_FILE).read_text(encoding="utf-8"))
    pinned: dict[str, PinnedContext] = {}
    for url, entry in raw["contexts"].items():
        if entry["scope"] not in (SCOPE_PRODUCTION, SCOPE_TEST_VECTORS):
            raise ContextIntegrityError(
                f"manifest entry {url!r} has unknown scope {entry['scope']!r}"
            )
        pinned[url] = PinnedContext(
            url=url,
            file=entry["file"],
            sha256=entry["sha256"],
            scope=entry["scope"],
            source=entry["source"],
        )
    return pinned


def read_pinned_context(pinned: PinnedContext) -> Any:
    """The parsed context file, after checking its bytes against the pinned hash."""
    root = resources.files(CONTEXTS_PACKAGE).joinpath(CONTEXTS_DIRECTORY)
    data = root.joinpath(pinned.file).read_bytes()
    digest = hashlib.sha256(data).hexdigest()
    if digest != pinned.sha256:
        raise ContextIntegrityError(
            f"context file {pinned.file} for {pinned.url} has sha256 {digest}, "
            f"but the manifest pins {pinned.sha256}"
        )
    return json.loads(data)


class PinnedDocumentLoader:
    """A JSON-LD document loader that serves only pinned contexts.

    ``include_test_vectors`` also serves the contexts the published test vectors need
    (the VC examples context, whose ``@vocab`` defines every term, and the citizenship
    vocabulary); production verification never needs them. ``extra_documents`` adds
    caller-held documents, for tests and for callers that pin more contexts themselves.
    """

    def __init__(
        self,
        *,
        include_test_vectors: bool = False,
        extra_documents: Mapping[str, Any] | None = None,
    ) -> None:
        manifest = load_manifest()
        self._pinned = {
            url: entry
            for url, entry in manifest.items()
            if entry.scope == SCOPE_PRODUCTION or include_test_vectors
        }
        self._extra = {url: copy.deepcopy(doc) for url, doc in (extra_documents or {}).items()}
        self._documents: dict[str, Any] = {}
        self._lock = threading.Lock()
        # PyLD caches resolved contexts by URL; a cache owned by this loader means a
        # context resolved by any other loader in the process is never reused here.
        self.resolved_context_cache = BoundedCache(RESOLVED_CONTEXTS_MAX)
        # Inline and scoped contexts are keyed by their canonical JSON; computing it is
        # half the cost of resolving one, so the key is kept per context object.
        self.inline_context_keys = BoundedCache(RESOLVED_CONTEXTS_MAX)
        self.processed_contexts = BoundedCache(PROCESSED_CONTEXTS_MAX)

    @property
    def urls(self) -> frozenset[str]:
        return frozenset(self._pinned) | frozenset(self._extra)

    def document(self, url: str) -> Any:
        """A deep copy of the document served for ``url``."""
        with self._lock:
            if url not in self._documents:
                if url in self._extra:
                    self._documents[url] = self._extra[url]
                elif url in self._pinned:
                    self._documents[url] = read_pinned_context(self._pinned[url])
                else:
                    raise UnknownContextError(url)
            return copy.deepcopy(self._documents[url])

    def __call__(self, url: str, options: Any = None) -> dict[str, Any]:
        """The PyLD loader protocol: a remote-document dict, or an exception."""
        return {
            "contentType": "application/ld+json",
            "contextUrl": None,
            "documentUrl": url,
            "document": self.document(url),
            # Served documents never change (pinned by hash): PyLD may keep what it resolved
            # from them in the loader's cache and skip loading and resolving them again.
            "tag": "static",
        }


_default_loader: PinnedDocumentLoader | None = None
_default_loader_lock = threading.Lock()


def default_loader() -> PinnedDocumentLoader:
    """The process-wide production loader (pinned production contexts only)."""
    global _default_loader  # noqa: PLW0603 - one lazily built loader per process
    with _default_loader_lock:
        if _default_loader is None:
            _default_loader = PinnedDocumentLoader()
        return _default_loader


class _Resolver(ContextResolver):  # type: ignore[misc]
    """PyLD's context resolver, computing each inline context's cache key once.

    PyLD keys an inline or scoped context by its canonical JSON, and computing that is
    half the cost of resolving one. The loader keeps the key by the object's identity,
    holding the object so that the identity stays its own; the scoped contexts of the
    pinned documents are the same objects every time.
    """

    def __init__(self, loader: PinnedDocumentLoader) -> None:
        super().__init__(loader.resolved_context_cache, loader, max_context_urls=CONTEXT_URLS_MAX)
        self._keys = loader.inline_context_keys

    def resolve(self, active_ctx: Any, context: Any, base: Any, cycles: Any = None) -> Any:
        if isinstance(context, (dict, frozendict)) and "@context" not in context:
            entry = self._keys.get(str(id(context)))
            if entry is None or entry[0] is not context:
                entry = (context, c14n_canonicalize(dict(context)).decode("utf-8"))
                self._keys[str(id(context))] = entry
            resolved = self._get(entry[1])
            if resolved:
                return [resolved]
        return super().resolve(active_ctx, context, base, cycles)


class _Processor(pyld_jsonld.JsonLdProcessor):  # type: ignore[misc]
    """PyLD's processor, remembering the contexts it processed against frozen ones.

    PyLD caches a processed context by the active context it was processed against,
    except for type-scoped contexts, which it processes against a fresh copy every time
    (half the cost of expanding a credential). Processed contexts are frozen and carry
    their own identifier, so the result for (active context, local context, flags) is
    the same every time and the loader keeps it; the local context's object is held
    with the entry so that the identity the key names stays its own.
    """

    def __init__(self, loader: PinnedDocumentLoader, **options: Any) -> None:
        super().__init__(**options)
        self._processed = loader.processed_contexts

    def _process_context(  # noqa: PLR0917 - PyLD's own signature
            self, active_ctx: Any, local_ctx: Any, options: Any, override_protected: bool = False,
            propagate: bool = True, validate_scoped: bool = True, cycles: Any = None) -> Any:
        if cycles or not isinstance(active_ctx, frozendict) or "_uuid" not in active_ctx:
            return super()._process_context(active_ctx, local_ctx, options, override_protected,
                                            propagate, validate_scoped, cycles)
        if isinstance(local_ctx, str) or (isinstance(local_ctx, list)
                                          and all(isinstance(c, str) for c in local_ctx)):
            named = json.dumps(local_ctx)
        else:
            named = f"#{id(local_ctx)}"
        key = f"{active_ctx['_uuid']} {named} {override_protected:d}{propagate:d}" \
              f"{validate_scoped:d}"
        entry = self._processed.get(key)
        if entry is not None and (named[0] != "#" or entry[0] is local_ctx):
            return entry[1]
        processed = super()._process_context(active_ctx, local_ctx, options,
                                             override_protected, propagate, validate_scoped,
                                             cycles)
        if isinstance(processed, frozendict):
            self._processed[key] = (local_ctx, processed)
        return processed

    def dataset(self, expanded: Any, options: Mapping[str, Any]) -> dict[str, Any]:
        """PyLD's ``to_rdf`` of a document this processor has already expanded.

        ``to_rdf`` expands its input first, even when it is expanded already (a third of
        the cost of canonicalizing a credential); these are its steps after that: the
        node map, then each graph's triples.
        """
        issuer = pyld_jsonld.IdentifierIssuer("_:b")
        options = {**options, "identifierIssuer": issuer, "produceGeneralizedRdf": False}
        node_map: dict[str, Any] = {"@default": {}}
        self._create_node_map(expanded, node_map, "@default", issuer)
        dataset = {}
        for graph_name, graph in sorted(node_map.items()):
            if graph_name == "@default" or pyld_jsonld._is_absolute_iri(graph_name):
                dataset[graph_name] = self._graph_to_rdf(graph, issuer, options)
        return dataset


def _processing_options(loader: PinnedDocumentLoader) -> dict[str, Any]:
    return {
        "documentLoader": loader,
        "contextResolver": _Resolver(loader),
        "base": None,
        "processingMode": "json-ld-1.1",
        "produceGeneralizedRdf": False,
    }


def _unknown_context_in(error: BaseException) -> UnknownContextError | None:
    seen = 0
    current: BaseException | None = error
    while current is not None and seen < 32:
        if isinstance(current, UnknownContextError):
            return current
        cause = getattr(current, "cause", None)
        current = cause if isinstance(cause, BaseException) else current.__cause__
        seen += 1
    return None


def normalize_json_numbers(value: Any, depth: int = 0) -> Any:
    """A copy where floats without a fractional part (below 1e21) are ints.

    JSON does not distinguish ``5`` from ``5.0`` and the JSON-LD to-RDF algorithm maps
    both to ``"5"^^xsd:integer``; Python's parser keeps ``5.0`` a float, so it is
    normalized here before any processing.
    """
    if depth > DOCUMENT_DEPTH_MAX:
        raise JsonLdError(f"document nests deeper than {DOCUMENT_DEPTH_MAX} levels")
    if isinstance(value, bool):
        return value
    if isinstance(value, float):
        if not math.isfinite(value):
            raise JsonLdError("document contains a number that is not finite")
        if value == int(value) and abs(value) < 1e21:
            return int(value)
        return value
    if isinstance(value, dict):
        return {key: normalize_json_numbers(item, depth + 1) for key, item in value.items()}
    if isinstance(value, list):
        return [normalize_json_numbers(item, depth + 1) for item in value]
    return value


@dataclass
class _DropRecorder:
    dropped: list[str | None] = field(default_factory=list)

    def __call__(self, expanded_property: str | None) -> None:
        self.dropped.append(expanded_property)


def _json_paths(document: Any, predicate: Any, path: str = "$", depth: int = 0) -> Iterator[str]:
    """Paths of positions where predicate(key, value) holds; key is None for values."""
    if depth > DOCUMENT_DEPTH_MAX:
        return
    if isinstance(document, dict):
        for key, value in document.items():
            child = f"{path}.{key}" if key.isidentifier() else f"{path}[{json.dumps(key)}]"
            if predicate(key, value):
                yield child
            yield from _json_paths(value, predicate, child, depth + 1)
    elif isinstance(document, list):
        for index, value in enumerate(document):
            child = f"{path}[{index}]"
            if predicate(None, value):
                yield child
            yield from _json_paths(value, predicate, child, depth + 1)


def _is_absolute_iri(value: str) -> bool:
    return ":" in value and not value.startswith(":")


def _relative_iris(expanded: Any, depth: int = 0) -> Iterator[tuple[str, str]]:
    """(kind, value) for each @type or @id in the expanded form that is not absolute."""
    if depth > DOCUMENT_DEPTH_MAX * 2:
        return
    if isinstance(expanded, list):
        for item in expanded:
            yield from _relative_iris(item, depth + 1)
        return
    if not isinstance(expanded, dict):
        return
    is_value = "@value" in expanded
    for key, value in expanded.items():
        if key == "@id" and isinstance(value, str):
            if not value.startswith("_:") and not _is_absolute_iri(value):
                yield "id", value
        elif key == "@type":
            for type_value in value if isinstance(value, list) else [value]:
                if not isinstance(type_value, str):
                    continue
                if is_value and type_value == "@json":
                    continue
                if not type_value.startswith("_:") and not _is_absolute_iri(type_value):
                    yield "type", type_value
                elif type_value.startswith(UNDEFINED_TERM_NAMESPACES):
                    yield "vocabulary", type_value
        elif key == "@value":
            continue
        else:
            if key.startswith(UNDEFINED_TERM_NAMESPACES):
                yield "vocabulary", key
            yield from _relative_iris(value, depth + 1)


def expand_strict(document: Mapping[str, Any], loader: PinnedDocumentLoader | None = None) -> Any:
    """Expand ``document``; any data JSON-LD would drop raises :class:`UndefinedTermError`."""
    loader = loader or default_loader()
    prepared = normalize_json_numbers(dict(document))
    recorder = _DropRecorder()
    processor = _Processor(loader, on_property_dropped=recorder)
    try:
        expanded = processor.expand(prepared, _processing_options(loader))
    except pyld_jsonld.JsonLdError as error:
        unknown = _unknown_context_in(error)
        if unknown is not None:
            raise UnknownContextError(unknown.url) from error
        raise JsonLdError(f"JSON-LD expansion failed: {error}") from error
    except RecursionError as error:
        raise JsonLdError("JSON-LD expansion failed: document nests too deeply") from error

    problems: list[UndefinedTerm] = []
    reported: set[tuple[str, str]] = set()
    for dropped in recorder.dropped:
        term = dropped if dropped is not None else "(a term mapped to null)"
        if ("property", term) in reported:
            continue
        reported.add(("property", term))
        paths = tuple(_json_paths(prepared, lambda key, _value, t=term: key == t))
        problems.append(UndefinedTerm("property", term, paths))
    for kind, value in _relative_iris(expanded):
        if (kind, value) in reported:
            continue
        reported.add((kind, value))
        if kind == "vocabulary":
            local = value.split("#", 1)[-1]
            paths = tuple(_json_paths(prepared, lambda key, item, t=local: t in (key, item)))
        else:
            paths = tuple(
                _json_paths(
                    prepared,
                    lambda key, item, t=value: (
                        (key is None and item == t)
                        or (key in ("type", "@type", "id", "@id") and item == t)
                    ),
                )
            )
        problems.append(UndefinedTerm(kind, value, paths))
    if problems:
        raise UndefinedTermError(problems)
    return expanded


def _term(component: Mapping[str, Any]) -> Term:
    kind = component["type"]
    if kind == "IRI":
        return Iri(component["value"])
    if kind == "blank node":
        return BlankNode(component["value"][2:])
    if kind == "literal":
        return Literal(
            component["value"],
            component.get("datatype") or "http://www.w3.org/2001/XMLSchema#string",
            component.get("language"),
        )
    raise JsonLdError(f"unexpected RDF term type {kind!r}")


def to_rdf_quads(
    document: Mapping[str, Any],
    loader: PinnedDocumentLoader | None = None,
    *,
    strict: bool = True,
) -> list[Quad]:
    """The RDF dataset of ``document`` as quads (expanded strictly unless told otherwise)."""
    loader = loader or default_loader()
    processor = _Processor(loader)
    if strict:
        expanded = expand_strict(document, loader)
    else:
        try:
            expanded = processor.expand(
                normalize_json_numbers(dict(document)), _processing_options(loader)
            )
        except pyld_jsonld.JsonLdError as error:
            unknown = _unknown_context_in(error)
            if unknown is not None:
                raise UnknownContextError(unknown.url) from error
            raise JsonLdError(f"JSON-LD expansion failed: {error}") from error
    try:
        dataset = processor.dataset(expanded, _processing_options(loader))
    except pyld_jsonld.JsonLdError as error:
        raise JsonLdError(f"JSON-LD to RDF failed: {error}") from error
    quads: list[Quad] = []
    for graph_name, triples in dataset.items():
        graph: Iri | BlankNode | None = None
        if graph_name != "@default":
            graph = BlankNode(graph_name[2:]) if graph_name.startswith("_:") else Iri(graph_name)
        for triple in triples:
            subject = _term(triple["subject"])
            predicate = _term(triple["predicate"])
            obj = _term(triple["object"])
            if isinstance(subject, Literal) or not isinstance(predicate, Iri):
                raise JsonLdError("JSON-LD produced generalized RDF, which is not canonicalized")
            quads.append(Quad(subject, predicate, obj, graph))
    return quads
