"""An organization's keys and ``did:web`` identity: generating, sealing, encoding, serving.

An organization's DID is ``did:web:<host>[%3A<port>]:orgs:<slug>``; by the did:web
method its DID document is at ``https://<host>[:<port>]/orgs/<slug>/did.json``, which
the platform serves (``views.did_document``). The host is ``ONETEAM_DID_HOST``, else the
host of ``ONETEAM_BASE_URL``, else (pages only) the host the request came to. The DIDs,
documents and Multikey encodings come from ``oneteam.credentials.did`` and
``oneteam.credentials.multikey``; this module only chooses what goes in them.

Seeds are sealed (``oneteam.platform.sealing``) for a purpose naming the public key, so
a sealed seed moved to another key's row does not open.
"""

from __future__ import annotations

import urllib.parse
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

import nacl.signing
from django.conf import settings
from django.http import HttpRequest
from django.utils.translation import gettext as _

from oneteam.consortium.models import KeyState, Organization, OrganizationKey
from oneteam.credentials.did import DidKeySpec, ResolutionError, did_web, did_web_document
from oneteam.credentials.multikey import Ed25519KeyPair, Ed25519PublicKey
from oneteam.platform.sealing import seal, unseal

DID_PATH = "orgs"
DID_CONTENT_TYPE = "application/did+json"
SEAL_PURPOSE_PREFIX = "consortium.organization-key:"


class DidUnavailable(Exception):
    """The platform's host cannot name a did:web (no setting, and not a domain name)."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


# --- keys -------------------------------------------------------------------------------------


def seal_purpose(public_key_hex: str) -> str:
    return SEAL_PURPOSE_PREFIX + public_key_hex


@dataclass(frozen=True, slots=True)
class NewKey:
    """A freshly generated key: its public half in hex and its sealed seed."""

    public_key: str
    sealed_seed: bytes


def generate_key() -> NewKey:
    """A new Ed25519 key; its seed leaves this function only sealed."""
    signing_key = nacl.signing.SigningKey.generate()
    public_key = bytes(signing_key.verify_key).hex()
    return NewKey(public_key, seal(bytes(signing_key), purpose=seal_purpose(public_key)))


def unseal_seed(key: OrganizationKey) -> bytes:
    """The key's 32-byte seed, at the moment it signs; checked against its public key."""
    seed = unseal(bytes(key.sealed_seed), purpose=seal_purpose(key.public_key))
    if bytes(nacl.signing.SigningKey(seed).verify_key).hex() != key.public_key:
        raise ValueError(f"the sealed seed of key {key.pk} does not match its public key")
    return seed


def multikey(public_key_hex: str) -> str:
    """The public key as a Multikey (``z6Mk…``, multibase base58-btc of ed25519-pub)."""
    return Ed25519PublicKey(bytes.fromhex(public_key_hex)).multibase()


def key_pair(key: OrganizationKey) -> Ed25519KeyPair:
    """The key as the credentials code signs with it (its ``repr`` hides the seed)."""
    return Ed25519KeyPair(unseal_seed(key))


# --- did:web ----------------------------------------------------------------------------------


def _configured_host() -> str:
    host: str = settings.ONETEAM_DID_HOST
    if host:
        return host
    base: str = settings.ONETEAM_BASE_URL
    if base:
        return urllib.parse.urlsplit(base).netloc
    return ""


def did_host(request: HttpRequest | None = None) -> str:
    """``host[:port]`` of the organizations' DIDs; raises DidUnavailable if there is none."""
    host = _configured_host() or (request.get_host() if request is not None else "")
    if not host:
        raise DidUnavailable(_("The platform has no DID host: set ONETEAM_DID_HOST."))
    return host


def split_host(host: str) -> tuple[str, int | None]:
    """``example.org:8000`` → (``example.org``, 8000); a domain name, not an IPv6 address."""
    name, colon, port = host.rpartition(":")
    if not colon:
        return host.lower(), None
    if not port.isdigit():
        raise DidUnavailable(_("The DID host %(host)s has an invalid port.") % {"host": host})
    return name.lower(), int(port)


def organization_did(organization: Organization, host: str) -> str:
    """``did:web:<host>[%3A<port>]:orgs:<slug>``; DidUnavailable if ``host`` cannot name one."""
    domain, port = split_host(host)
    try:
        return did_web(domain, [DID_PATH, organization.slug], port=port)
    except ResolutionError as error:
        raise DidUnavailable(
            _("The host %(host)s cannot name a did:web (%(reason)s); set ONETEAM_DID_HOST to "
              "the platform's domain name.") % {"host": host, "reason": error}) from None


def check_did_host_setting() -> None:
    """At start: a configured DID host must be able to name a did:web."""
    from django.core.exceptions import ImproperlyConfigured

    host = _configured_host()
    if not host:
        return
    probe = Organization(slug="probe")
    try:
        organization_did(probe, host)
    except DidUnavailable as error:
        raise ImproperlyConfigured(f"ONETEAM_DID_HOST (or ONETEAM_BASE_URL): {error.message}"
                                   ) from None


def document_keys(keys: Iterable[OrganizationKey]) -> list[OrganizationKey]:
    """The keys a DID document lists: current and retired, newest first; never revoked."""
    return sorted((key for key in keys if key.state != KeyState.REVOKED),
                  key=lambda key: -key.number)


@dataclass(frozen=True, slots=True)
class DidDocument:
    did: str
    document: dict[str, Any] = field(default_factory=dict)


def did_document(organization: Organization, keys: Iterable[OrganizationKey],
                 host: str) -> DidDocument:
    """The organization's DID document: each listed key a Multikey verification method.

    The current key serves assertions and authentication; a retired key assertions only,
    so credentials it signed before the rotation still verify.
    """
    did = organization_did(organization, host)
    specs = [
        DidKeySpec(key.fragment, Ed25519PublicKey(key.public_key_bytes),
                   ("assertionMethod", "authentication") if key.state == KeyState.CURRENT
                   else ("assertionMethod",))
        for key in document_keys(keys)
    ]
    if not specs:
        raise DidUnavailable(_("%(organization)s has no signing key yet.")
                             % {"organization": organization.name})
    return DidDocument(did, did_web_document(did, specs))
