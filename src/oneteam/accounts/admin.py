from typing import ClassVar

from django.contrib import admin

from oneteam.accounts.models import ApiToken, Person


@admin.register(Person)
class PersonAdmin(admin.ModelAdmin[Person]):
    list_display = ("email", "display_name", "preferred_language", "is_operator", "is_staff",
                    "is_active", "is_demo", "created")
    list_filter = ("is_operator", "is_staff", "is_active", "is_demo", "preferred_language")
    search_fields = ("email", "display_name")
    # The password hash is never shown or edited here; people reset their own.
    exclude = ("password",)
    readonly_fields = ("last_login", "created")


@admin.register(ApiToken)
class ApiTokenAdmin(admin.ModelAdmin[ApiToken]):
    list_display = ("name", "person", "prefix", "created", "last_used", "revoked")
    search_fields = ("name", "person__email", "prefix")
    exclude = ("digest",)
    readonly_fields: ClassVar[tuple[str, ...]] = ("person", "name", "prefix", "created",
                                                  "last_used")
