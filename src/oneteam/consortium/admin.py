from typing import Any

from django.contrib import admin
from django.http import HttpRequest

from oneteam.consortium.models import (
    Invitation,
    LedgerSubmission,
    Membership,
    Organization,
    OrganizationKey,
)


@admin.register(Organization)
class OrganizationAdmin(admin.ModelAdmin[Organization]):
    list_display = ("slug", "name_ko", "name_en", "kind", "ledger_state", "is_demo", "created")
    list_filter = ("kind", "ledger_state", "is_demo")
    search_fields = ("slug", "name_ko", "name_en")
    # The ledger fields mirror the chain; the outbox writes them.
    readonly_fields = ("ledger_state", "ledger_reason_code", "ledger_reason", "ledger_roles",
                       "ledger_keys", "ledger_approvals", "ledger_quorum", "ledger_height",
                       "ledger_txid", "ledger_proof_verified", "ledger_checked")


@admin.register(Membership)
class MembershipAdmin(admin.ModelAdmin[Membership]):
    list_display = ("person", "organization", "role", "created")
    list_filter = ("role", "organization")
    search_fields = ("person__email", "person__display_name", "organization__slug")
    autocomplete_fields = ("organization",)
    raw_id_fields = ("person",)


@admin.register(OrganizationKey)
class OrganizationKeyAdmin(admin.ModelAdmin[OrganizationKey]):
    """Public halves only: the sealed seed is not a field of any form."""

    list_display = ("organization", "number", "state", "public_key", "created")
    list_filter = ("state",)
    search_fields = ("organization__slug", "public_key")
    readonly_fields = ("organization", "number", "public_key", "state", "created", "retired",
                       "revoked")

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False  # keys are made by the consortium's actions (rotate), never by hand

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(Invitation)
class InvitationAdmin(admin.ModelAdmin[Invitation]):
    list_display = ("email", "organization", "role", "created", "expires", "accepted",
                    "withdrawn")
    list_filter = ("role",)
    search_fields = ("email", "organization__slug")
    raw_id_fields = ("invited_by", "accepted_by")


@admin.register(LedgerSubmission)
class LedgerSubmissionAdmin(admin.ModelAdmin[LedgerSubmission]):
    list_display = ("id", "op", "purpose", "signer", "subject", "state", "height",
                    "proof_verified", "attempts", "error_code", "created")
    list_filter = ("state", "purpose", "error_code")
    search_fields = ("txid", "op", "signer__slug", "subject__slug")
    readonly_fields = ("signer", "subject", "purpose", "op", "args_shown", "after", "state",
                       "attempts", "next_attempt", "txid", "signer_key", "nonce", "height",
                       "receipt_code", "receipt_reason", "events", "proof_verified",
                       "error_code", "last_error", "created_by", "created", "updated")

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False
