"""The platform's verifier: the core checks, with keys from the members' DID documents,
status lists from this platform, and the anchor and membership checks against the
ledger node the platform talks to.

Nothing is fetched from an address a credential names: a did:web or status list of
another host is simply not known here (the command line verifier, ``oneteam verify``,
takes keys from the ledger instead).
"""

from __future__ import annotations

import datetime as dt
import logging
import re
from collections.abc import Mapping
from typing import Any

from django.conf import settings
from django.contrib.auth.models import AnonymousUser

from oneteam.consortium import queries as consortium_queries
from oneteam.credentials.did import KeyResolver, StaticDocuments
from oneteam.credentials.ledgercheck import (
    LedgerView,
    OnlineLedger,
    anchor_check,
    membership_check,
    org_of_did,
    status_anchor_check,
)
from oneteam.credentials.models import StatusList
from oneteam.credentials.openbadges import issuer_id
from oneteam.credentials.verify import VerificationReport, verify_credential
from oneteam.ledger.client import LedgerClientError, SyncLedgerClient
from oneteam.platform.errors import NotFound

logger = logging.getLogger(__name__)
LEDGER_TIMEOUT_S = 5.0
CREDENTIAL_BYTES_MAX = 512 * 1024
STATUS_PATH = re.compile(r"/credentials/status/([0-9a-f-]{36})$")


class PlatformStatusLists:
    """Status list credentials this platform publishes, by their URL."""

    def status_list_credential(self, url: str) -> Mapping[str, Any]:
        from oneteam.credentials.actions import status_list_url

        match = STATUS_PATH.search(url)
        status_list = (StatusList.objects.select_related("organization")
                       .filter(public_id=match.group(1)).first() if match else None)
        if status_list is None or status_list_url(status_list) != url:
            raise LookupError(f"{url} is not a status list of this platform")
        document: Mapping[str, Any] = status_list.document
        return document


def _documents_for(credential: Mapping[str, Any]) -> StaticDocuments:
    documents = StaticDocuments()
    did = issuer_id(credential)
    slug = org_of_did(did)
    if did is None or slug is None:
        return documents
    try:
        organization = consortium_queries.access_organization_by_slug(AnonymousUser(), slug)
        if consortium_queries.organization_did(organization) != did:
            return documents  # a DID of another host: not ours to vouch for
        host = did.split(":")[2].replace("%3A", ":")
        documents.add(consortium_queries.access_did_document_by_slug(slug, host).document)
    except (NotFound, Exception) as error:  # noqa: BLE001 - an unknown issuer is just unresolved
        logger.debug("no DID document for %s: %s", did, type(error).__name__)
    return documents


def platform_ledger() -> LedgerView | None:
    try:
        return OnlineLedger(SyncLedgerClient(settings.ONETEAM_LEDGER_URL,
                                             timeout_s=LEDGER_TIMEOUT_S))
    except LedgerClientError as error:
        logger.warning("verification without the ledger: %s", error)
        return None


def verify_for_platform(credential: Mapping[str, Any] | str | bytes, *,
                        now: dt.datetime | None = None,
                        ledger: LedgerView | None = None) -> VerificationReport:
    """Every check, each reported separately (see ``verify.verify_credential``)."""
    parsed: Any = credential
    if isinstance(credential, (str, bytes)):
        import json

        try:
            parsed = json.loads(credential)
        except ValueError:
            parsed = None
    documents = _documents_for(parsed) if isinstance(parsed, Mapping) else StaticDocuments()
    view = ledger if ledger is not None else platform_ledger()
    return verify_credential(
        credential, resolver=KeyResolver(documents), status_lists=PlatformStatusLists(),
        now=now, extra_checks=(anchor_check(view), membership_check(view),
                               status_anchor_check(view)))
