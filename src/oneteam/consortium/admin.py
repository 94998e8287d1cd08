from django.contrib import admin

from oneteam.consortium.models import Membership, Organization


@admin.register(Organization)
class OrganizationAdmin(admin.ModelAdmin[Organization]):
    list_display = ("slug", "name_ko", "name_en", "kind", "is_demo", "created")
    list_filter = ("kind", "is_demo")
    search_fields = ("slug", "name_ko", "name_en")


@admin.register(Membership)
class MembershipAdmin(admin.ModelAdmin[Membership]):
    list_display = ("person", "organization", "role", "created")
    list_filter = ("role", "organization")
    search_fields = ("person__email", "person__display_name", "organization__slug")
    autocomplete_fields = ("organization",)
    raw_id_fields = ("person",)
