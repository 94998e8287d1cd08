"""Read-mostly admin views; signing and status changes go through the actions only."""

from django.contrib import admin

from oneteam.credentials.models import (
    Achievement,
    AnchorBatch,
    IssuedCredential,
    StatusChange,
    StatusList,
)


@admin.register(Achievement)
class AchievementAdmin(admin.ModelAdmin[Achievement]):
    list_display = ("name", "organization", "criteria_kind", "is_active")
    list_filter = ("criteria_kind", "is_active")


@admin.register(IssuedCredential)
class IssuedCredentialAdmin(admin.ModelAdmin[IssuedCredential]):
    list_display = ("public_id", "achievement", "recipient", "state", "issued", "batch")
    list_filter = ("state",)
    readonly_fields = ("document",)


@admin.register(AnchorBatch)
class AnchorBatchAdmin(admin.ModelAdmin[AnchorBatch]):
    list_display = ("label", "organization", "count", "state", "height")


@admin.register(StatusList)
class StatusListAdmin(admin.ModelAdmin[StatusList]):
    list_display = ("public_id", "organization", "purpose", "version", "is_open")
    exclude = ("bits",)


@admin.register(StatusChange)
class StatusChangeAdmin(admin.ModelAdmin[StatusChange]):
    list_display = ("credential", "action", "reason", "actor", "created")
