"""DIDs and controller documents: ``did:key`` and ``did:web``, and resolving a proof's key.

``did:key`` resolves locally: the identifier is the key. ``did:web`` names a DID document
served over HTTPS at a URL derived from the identifier (:func:`did_web_to_url`); the
platform serves each member's at ``/.well-known/did.json`` or ``/<path>/did.json`` and
builds it with :func:`did_web_document`.

Verifiers resolve a proof's ``verificationMethod`` through :class:`KeyResolver`. It
never opens a connection: ``did:web`` and ``https`` controller documents come from a
caller-supplied :class:`ControllerDocumentSource` (a fixed map, or a fetcher the caller
writes and bounds). The resolved method must belong to its controller document, be an
Ed25519 Multikey, and be listed under the proof's purpose (``assertionMethod``).
"""

from __future__ import annotations

import re
import urllib.parse
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

from oneteam.credentials.jsonld import DID_V1_CONTEXT, MULTIKEY_V1_CONTEXT
from oneteam.credentials.multikey import (
    LEGACY_ED25519_KEY_TYPE,
    MULTIKEY_TYPE,
    Ed25519PublicKey,
    KeyFormatError,
    verification_method,
)

VERIFICATION_RELATIONSHIPS = (
    "assertionMethod",
    "authentication",
    "capabilityInvocation",
    "capabilityDelegation",
    "keyAgreement",
)
DID_DOCUMENT_CONTEXT = [DID_V1_CONTEXT, MULTIKEY_V1_CONTEXT]
WELL_KNOWN_PATH = ".well-known"

_DOMAIN_LABEL = re.compile(r"^[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?$")
# Unreserved characters only: no percent-encoding, so a segment can never smuggle in "/".
_PATH_SEGMENT = re.compile(r"^(?!\.{1,2}$)[A-Za-z0-9._~-]+$")


class ResolutionError(ValueError):
    """A verification method could not be resolved to a usable key."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code


# --- did:key -----------------------------------------------------------------------


def did_key(public_key: Ed25519PublicKey) -> str:
    return f"did:key:{public_key.multibase()}"


def did_key_verification_method_id(public_key: Ed25519PublicKey) -> str:
    multibase = public_key.multibase()
    return f"did:key:{multibase}#{multibase}"


def did_key_document(did: str) -> dict[str, Any]:
    """The DID document of an Ed25519 ``did:key`` (one Multikey, every relationship)."""
    if not did.startswith("did:key:"):
        raise ResolutionError("DID_INVALID", f"{did!r} is not a did:key")
    multibase = did.removeprefix("did:key:")
    try:
        public_key = Ed25519PublicKey.from_multibase(multibase)
    except KeyFormatError as error:
        raise ResolutionError(
            "KEY_INVALID", f"{did!r} is not an Ed25519 did:key: {error}"
        ) from error
    method_id = f"{did}#{multibase}"
    return {
        "@context": list(DID_DOCUMENT_CONTEXT),
        "id": did,
        "verificationMethod": [verification_method(method_id, did, public_key)],
        "authentication": [method_id],
        "assertionMethod": [method_id],
        "capabilityInvocation": [method_id],
        "capabilityDelegation": [method_id],
    }


# --- did:web -----------------------------------------------------------------------


def did_web(domain: str, path: Sequence[str] = (), *, port: int | None = None) -> str:
    """The did:web for a host (and optional path) the member controls."""
    labels = domain.lower().split(".")
    if len(labels) < 2 or not all(_DOMAIN_LABEL.match(label) for label in labels):
        raise ResolutionError("DID_INVALID", f"{domain!r} is not a domain name")
    identifier = ".".join(labels)
    if port is not None:
        if not 0 < port < 65536:
            raise ResolutionError("DID_INVALID", f"port {port} is out of range")
        identifier += f"%3A{port}"
    for segment in path:
        if not _PATH_SEGMENT.match(segment):
            raise ResolutionError(
                "DID_INVALID", f"path segment {segment!r} is not allowed in a did:web"
            )
        identifier += f":{segment}"
    return f"did:web:{identifier}"


def did_web_to_url(did: str) -> str:
    """Where a did:web's DID document is served (did:web method, Read step 1-5)."""
    if not did.startswith("did:web:"):
        raise ResolutionError("DID_INVALID", f"{did!r} is not a did:web")
    identifier = did.removeprefix("did:web:")
    if "#" in identifier or "?" in identifier or "/" in identifier:
        raise ResolutionError(
            "DID_INVALID", f"{did!r} must be a bare DID (no path, query or fragment)"
        )
    host, *path = identifier.split(":")
    host = host.replace("%3A", ":").replace("%3a", ":")
    hostname, _, port = host.partition(":")
    labels = hostname.split(".")
    if len(labels) < 2 or not all(_DOMAIN_LABEL.match(label) for label in labels):
        raise ResolutionError("DID_INVALID", f"{did!r} does not name a valid domain")
    if port and not (port.isdigit() and 0 < int(port) < 65536):
        raise ResolutionError("DID_INVALID", f"{did!r} has an invalid port")
    for segment in path:
        if not _PATH_SEGMENT.match(segment):
            raise ResolutionError("DID_INVALID", f"{did!r} has an invalid path segment {segment!r}")
    segments = path or [WELL_KNOWN_PATH]
    return f"https://{host.lower()}/{'/'.join(segments)}/did.json"


@dataclass(frozen=True)
class DidKeySpec:
    """One key of a did:web document: its fragment and the relationships it serves."""

    fragment: str
    public_key: Ed25519PublicKey
    relationships: tuple[str, ...] = ("assertionMethod", "authentication")


def did_web_document(
    did: str,
    keys: Sequence[DidKeySpec],
    *,
    also_known_as: Sequence[str] = (),
    services: Sequence[Mapping[str, Any]] = (),
) -> dict[str, Any]:
    """A member's did:web DID document with Multikey verification methods."""
    did_web_to_url(did)  # validates the identifier
    if not keys:
        raise ResolutionError("DID_INVALID", "a DID document needs at least one key")
    document: dict[str, Any] = {"@context": list(DID_DOCUMENT_CONTEXT), "id": did}
    if also_known_as:
        document["alsoKnownAs"] = list(also_known_as)
    methods = []
    relationships: dict[str, list[str]] = {}
    seen: set[str] = set()
    for key in keys:
        if not key.fragment or "#" in key.fragment or key.fragment in seen:
            raise ResolutionError(
                "DID_INVALID", f"key fragment {key.fragment!r} is empty, invalid or repeated"
            )
        seen.add(key.fragment)
        method_id = f"{did}#{key.fragment}"
        methods.append(verification_method(method_id, did, key.public_key))
        for relationship in key.relationships:
            if relationship not in VERIFICATION_RELATIONSHIPS:
                raise ResolutionError(
                    "DID_INVALID", f"unknown verification relationship {relationship!r}"
                )
            relationships.setdefault(relationship, []).append(method_id)
    document["verificationMethod"] = methods
    for relationship in VERIFICATION_RELATIONSHIPS:
        if relationship in relationships:
            document[relationship] = relationships[relationship]
    if services:
        document["service"] = [dict(service) for service in services]
    return document


# --- resolution ----------------------------------------------------------------------


class ControllerDocumentSource(Protocol):
    """Supplies controller documents (DID documents, issuer profiles) by URL or DID."""

    def controller_document(self, identifier: str) -> Mapping[str, Any]:
        """The document for ``identifier``; raise :class:`ResolutionError` if unavailable."""
        ...


class StaticDocuments:
    """Controller documents held in memory, keyed by DID, document id or URL."""

    def __init__(
        self, documents: Mapping[str, Mapping[str, Any]] | Iterable[Mapping[str, Any]] = ()
    ) -> None:
        self._documents: dict[str, Mapping[str, Any]] = {}
        if isinstance(documents, Mapping):
            self._documents.update(documents)
        else:
            for document in documents:
                self._documents[str(document["id"])] = document

    def add(self, document: Mapping[str, Any], *, identifier: str | None = None) -> None:
        self._documents[identifier or str(document["id"])] = document

    def controller_document(self, identifier: str) -> Mapping[str, Any]:
        document = self._documents.get(identifier)
        if document is None:
            raise ResolutionError(
                "CONTROLLER_DOCUMENT_UNAVAILABLE",
                f"no controller document for {identifier!r} is available "
                "(documents are never fetched unless the caller supplies a fetcher)",
            )
        return document


class FetchedDocuments:
    """Controller documents from a caller-written fetcher (URL to parsed JSON)."""

    def __init__(self, fetch: Callable[[str], Mapping[str, Any]]) -> None:
        self._fetch = fetch

    def controller_document(self, identifier: str) -> Mapping[str, Any]:
        url = did_web_to_url(identifier) if identifier.startswith("did:web:") else identifier
        try:
            return self._fetch(url)
        except ResolutionError:
            raise
        except Exception as error:
            raise ResolutionError(
                "CONTROLLER_DOCUMENT_UNAVAILABLE", f"fetching {url} failed: {error}"
            ) from error


@dataclass(frozen=True)
class ResolvedKey:
    method_id: str
    controller: str
    public_key: Ed25519PublicKey
    relationships: frozenset[str]


class VerificationMethodResolver(Protocol):
    def resolve(self, method_id: str, *, purpose: str = "assertionMethod") -> ResolvedKey: ...


def _absolute(reference: str, base: str) -> str:
    return base + reference if reference.startswith("#") else reference


def _key_from_method(method: Mapping[str, Any], method_id: str) -> Ed25519PublicKey:
    kind = method.get("type")
    if kind not in (MULTIKEY_TYPE, LEGACY_ED25519_KEY_TYPE):
        raise ResolutionError(
            "KEY_TYPE_UNSUPPORTED", f"{method_id} has type {kind!r}, not {MULTIKEY_TYPE}"
        )
    if "revoked" in method:
        raise ResolutionError("KEY_REVOKED", f"{method_id} is marked revoked ({method['revoked']})")
    multibase = method.get("publicKeyMultibase")
    if not isinstance(multibase, str):
        raise ResolutionError("KEY_INVALID", f"{method_id} has no publicKeyMultibase")
    try:
        return Ed25519PublicKey.from_multibase(multibase)
    except KeyFormatError as error:
        raise ResolutionError("KEY_INVALID", f"{method_id}: {error}") from error


def dereference_method(document: Mapping[str, Any], method_id: str) -> ResolvedKey:
    """Find ``method_id`` in a controller document and the relationships that list it."""
    document_id = document.get("id")
    if not isinstance(document_id, str):
        raise ResolutionError("CONTROLLER_DOCUMENT_INVALID", "controller document has no id")
    found: Mapping[str, Any] | None = None
    candidates: list[Any] = list(document.get("verificationMethod") or [])
    for relationship in VERIFICATION_RELATIONSHIPS:
        candidates.extend(
            item for item in document.get(relationship) or [] if isinstance(item, Mapping)
        )
    for candidate in candidates:
        if (
            isinstance(candidate, Mapping)
            and _absolute(str(candidate.get("id", "")), document_id) == method_id
        ):
            found = candidate
            break
    if found is None:
        raise ResolutionError(
            "METHOD_NOT_FOUND", f"{method_id} is not in the controller document {document_id}"
        )
    controller = found.get("controller")
    if controller != document_id:
        raise ResolutionError(
            "METHOD_CONTROLLER_MISMATCH",
            f"{method_id} names controller {controller!r}, but it is listed by {document_id}",
        )
    relationships = set()
    for relationship in VERIFICATION_RELATIONSHIPS:
        for item in document.get(relationship) or []:
            reference = item.get("id") if isinstance(item, Mapping) else item
            if isinstance(reference, str) and _absolute(reference, document_id) == method_id:
                relationships.add(relationship)
    return ResolvedKey(
        method_id, document_id, _key_from_method(found, method_id), frozenset(relationships)
    )


class KeyResolver:
    """Resolves ``did:key`` locally and ``did:web`` / ``https`` through a document source.

    ``accept_fragment_multikey`` reproduces a convention some Open Badges issuers use,
    where ``https://issuer.example/profile#z6Mk...`` is taken to mean that very key
    without fetching the profile. It proves nothing about the issuer controlling the
    key and is off by default; it exists for comparing results with tools that do it.
    """

    def __init__(
        self,
        documents: ControllerDocumentSource | Mapping[str, Mapping[str, Any]] | None = None,
        *,
        accept_fragment_multikey: bool = False,
    ) -> None:
        if documents is None:
            documents = StaticDocuments()
        elif isinstance(documents, Mapping):
            documents = StaticDocuments(documents)
        self.documents: ControllerDocumentSource = documents
        self.accept_fragment_multikey = accept_fragment_multikey

    def resolve(self, method_id: str, *, purpose: str = "assertionMethod") -> ResolvedKey:
        if not isinstance(method_id, str) or not method_id:
            raise ResolutionError("METHOD_INVALID", "verificationMethod must be a non-empty string")
        scheme, colon, _rest = method_id.partition(":")
        if not colon or not re.fullmatch(r"[A-Za-z][A-Za-z0-9+.-]*", scheme):
            raise ResolutionError(
                "METHOD_NO_SCHEME", f"verificationMethod {method_id!r} is not a URL (no scheme)"
            )
        base, _hash, fragment = method_id.partition("#")
        if scheme == "did":
            resolved = self._resolve_did(method_id, base, fragment)
        elif scheme in ("https", "http"):
            resolved = self._resolve_url(method_id, base, fragment)
        else:
            raise ResolutionError(
                "METHOD_SCHEME_UNSUPPORTED",
                f"verificationMethod scheme {scheme!r} is not supported",
            )
        if purpose not in resolved.relationships:
            raise ResolutionError(
                "METHOD_NOT_AUTHORIZED",
                f"{resolved.method_id} is not listed under {purpose} by {resolved.controller}",
            )
        return resolved

    def _resolve_did(self, method_id: str, did: str, fragment: str) -> ResolvedKey:
        method = did.split(":")[1] if did.count(":") >= 2 else ""
        if method == "key":
            document = did_key_document(did)
            if not fragment:
                # A bare did:key names a document with exactly one key; take that key.
                method_id = document["verificationMethod"][0]["id"]
            return dereference_method(document, method_id)
        if method == "web":
            did_web_to_url(did)
            if not fragment:
                raise ResolutionError(
                    "METHOD_INVALID", f"{method_id!r} names a DID, not one of its keys"
                )
            web_document = self.documents.controller_document(did)
            if web_document.get("id") != did:
                raise ResolutionError(
                    "CONTROLLER_DOCUMENT_INVALID",
                    f"the DID document for {did} has id {web_document.get('id')!r}",
                )
            return dereference_method(web_document, method_id)
        raise ResolutionError(
            "DID_METHOD_UNSUPPORTED", f"DID method {method or '?'!r} of {did!r} is not supported"
        )

    def _resolve_url(self, method_id: str, base: str, fragment: str) -> ResolvedKey:
        parsed = urllib.parse.urlsplit(base)
        if not parsed.netloc:
            raise ResolutionError("METHOD_INVALID", f"{method_id!r} has no host")
        try:
            document = self.documents.controller_document(base)
        except ResolutionError:
            if self.accept_fragment_multikey and fragment:
                try:
                    key = Ed25519PublicKey.from_multibase(fragment)
                except KeyFormatError as error:
                    raise ResolutionError("KEY_INVALID", f"{method_id}: {error}") from error
                return ResolvedKey(method_id, base, key, frozenset({"assertionMethod"}))
            raise
        if document.get("id") == base:
            return dereference_method(document, method_id)
        # The URL may name a verification method document itself (Multikey with controller).
        if document.get("id") == method_id:
            controller = document.get("controller")
            if not isinstance(controller, str):
                raise ResolutionError(
                    "CONTROLLER_DOCUMENT_INVALID", f"{method_id} has no controller"
                )
            return dereference_method(self.documents.controller_document(controller), method_id)
        raise ResolutionError(
            "CONTROLLER_DOCUMENT_INVALID",
            f"the document served for {base} has id {document.get('id')!r}",
        )


def controller_document(
    controller: str, keys: Sequence[Ed25519PublicKey], *, fragments: Sequence[str] | None = None
) -> dict[str, Any]:
    """A minimal controller document (an ``https`` issuer profile) listing assertion keys."""
    fragments = list(fragments) if fragments is not None else [key.multibase() for key in keys]
    if len(fragments) != len(keys):
        raise ResolutionError("DID_INVALID", "one fragment is needed per key")
    methods = [
        verification_method(f"{controller}#{fragment}", controller, key)
        for key, fragment in zip(keys, fragments, strict=True)
    ]
    return {
        "@context": list(DID_DOCUMENT_CONTEXT),
        "id": controller,
        "verificationMethod": methods,
        "assertionMethod": [method["id"] for method in methods],
        "authentication": [method["id"] for method in methods],
    }
