"""Keys sealed at rest, public keys as hex and Multikey, did:web identities and documents."""

from __future__ import annotations

from typing import Any

import nacl.signing
import pytest
from django.db import connection
from django.test import Client

from oneteam.consortium import identity, queries
from oneteam.consortium.models import KeyState, OrganizationKey
from oneteam.credentials.did import KeyResolver, StaticDocuments, did_web_to_url
from oneteam.credentials.multikey import Ed25519PublicKey
from oneteam.platform.sealing import SealBroken, unseal
from tests.factories import make_organization

pytestmark = pytest.mark.django_db


def test_an_organization_gets_a_sealed_signing_key() -> None:
    kaist = make_organization(slug="kaist")
    key = OrganizationKey.objects.get(organization=kaist)
    assert (key.number, key.state) == (1, KeyState.CURRENT)
    seed = identity.unseal_seed(key)
    assert bytes(nacl.signing.SigningKey(seed).verify_key).hex() == key.public_key
    # What the database holds is not the seed, in any column of any row.
    with connection.cursor() as cursor:
        cursor.execute("SELECT * FROM consortium_organizationkey")
        rows = cursor.fetchall()
    stored = b"".join(bytes(v) if isinstance(v, bytes | memoryview) else str(v).encode()
                      for row in rows for v in row)
    assert seed not in stored and seed.hex().encode() not in stored
    # Sealed for this key: it opens for no other purpose.
    with pytest.raises(SealBroken):
        unseal(bytes(key.sealed_seed), purpose=identity.seal_purpose("00" * 32))


def test_a_sealed_seed_moved_to_another_key_does_not_open() -> None:
    first = OrganizationKey.objects.get(organization=make_organization())
    second = OrganizationKey.objects.get(organization=make_organization())
    second.sealed_seed = first.sealed_seed
    with pytest.raises(SealBroken):
        identity.unseal_seed(second)


def test_public_keys_as_hex_and_multikey() -> None:
    key = OrganizationKey.objects.get(organization=make_organization())
    multikey = identity.multikey(key.public_key)
    assert multikey.startswith("z6Mk")
    assert Ed25519PublicKey.from_multibase(multikey).raw.hex() == key.public_key


def test_the_did_names_the_host_port_and_organization(settings: Any) -> None:
    kaist = make_organization(slug="kaist")
    settings.ONETEAM_DID_HOST = "oneteam.example.org"
    assert queries.organization_did(kaist) == "did:web:oneteam.example.org:orgs:kaist"
    settings.ONETEAM_DID_HOST = "oneteam.example.org:8443"
    did = queries.organization_did(kaist)
    assert did == "did:web:oneteam.example.org%3A8443:orgs:kaist"
    assert did_web_to_url(did) == "https://oneteam.example.org:8443/orgs/kaist/did.json"
    settings.ONETEAM_DID_HOST = ""
    settings.ONETEAM_BASE_URL = "https://alliance.example.kr/"
    assert queries.organization_did(kaist) == "did:web:alliance.example.kr:orgs:kaist"
    settings.ONETEAM_BASE_URL = ""
    with pytest.raises(identity.DidUnavailable):
        queries.organization_did(kaist)  # no setting, no request
    settings.ONETEAM_DID_HOST = "localhost:8000"
    with pytest.raises(identity.DidUnavailable):
        queries.organization_did(kaist)  # not a domain name


def test_the_did_document_is_served_where_did_web_says(client: Client, did_host: str) -> None:
    kaist = make_organization(slug="kaist")
    key = OrganizationKey.objects.get(organization=kaist)
    response = client.get("/orgs/kaist/did.json")
    assert response.status_code == 200
    assert response["Content-Type"] == "application/did+json"
    document = response.json()
    did = "did:web:oneteam.example%3A8443:orgs:kaist"
    assert document["id"] == did
    assert document["@context"][0] == "https://www.w3.org/ns/did/v1"
    assert document["verificationMethod"] == [{
        "id": f"{did}#key-1", "type": "Multikey", "controller": did,
        "publicKeyMultibase": identity.multikey(key.public_key)}]
    assert document["assertionMethod"] == [f"{did}#key-1"]
    assert document["authentication"] == [f"{did}#key-1"]
    # A verifier resolves the key for an assertion from this document.
    resolver = KeyResolver(StaticDocuments([document]))
    resolved = resolver.resolve(f"{did}#key-1")
    assert resolved.public_key.raw.hex() == key.public_key
    assert client.get("/orgs/nobody/did.json").status_code == 404


def test_revoked_keys_leave_the_did_document(client: Client, did_host: str) -> None:
    from oneteam.consortium import actions

    kaist = make_organization(slug="kaist")
    actions.do_rotate_organization_key(actor=None, organization=kaist)
    actions.do_rotate_organization_key(actor=None, organization=kaist)
    document = client.get("/orgs/kaist/did.json").json()
    assert [m["id"].rsplit("#", 1)[1] for m in document["verificationMethod"]] == [
        "key-3", "key-2", "key-1"]
    actions.do_revoke_organization_key(
        actor=None, key=OrganizationKey.objects.get(organization=kaist, number=1))
    document = client.get("/orgs/kaist/did.json").json()
    assert [m["id"].rsplit("#", 1)[1] for m in document["verificationMethod"]] == [
        "key-3", "key-2"]
    assert document["authentication"] == [document["id"] + "#key-3"]


def test_without_a_did_host_the_document_is_not_found(client: Client, settings: Any) -> None:
    make_organization(slug="kaist")
    settings.ONETEAM_DID_HOST = ""
    settings.ONETEAM_BASE_URL = ""
    # The test client's host, "testserver", is not a domain name.
    response = client.get("/orgs/kaist/did.json")
    assert response.status_code == 404
    # A request to a real host name serves the DID of that host.
    settings.ALLOWED_HOSTS = [*settings.ALLOWED_HOSTS, "members.example.org"]
    response = client.get("/orgs/kaist/did.json", HTTP_HOST="members.example.org")
    assert response.json()["id"] == "did:web:members.example.org:orgs:kaist"


def test_the_credentials_code_signs_for_an_organization(did_host: str) -> None:
    kaist = make_organization(slug="kaist")
    signer = queries.organization_signer(kaist)
    assert signer.did == "did:web:oneteam.example%3A8443:orgs:kaist"
    assert signer.verification_method == signer.did + "#key-1"
    assert signer.key_pair.seed.hex() not in repr(signer)  # never in a log line
    signature = signer.key_pair.sign(b"a credential")
    assert Ed25519PublicKey(bytes.fromhex(signer.public_key)).verify(b"a credential", signature)


def test_a_bad_did_host_setting_stops_the_start(settings: Any) -> None:
    from django.core.exceptions import ImproperlyConfigured

    settings.ONETEAM_DID_HOST = "not a host"
    with pytest.raises(ImproperlyConfigured, match="ONETEAM_DID_HOST"):
        identity.check_did_host_setting()
    settings.ONETEAM_DID_HOST = "members.example.org:99999"
    with pytest.raises(ImproperlyConfigured):
        identity.check_did_host_setting()
    settings.ONETEAM_DID_HOST = "members.example.org:8000"
    identity.check_did_host_setting()
