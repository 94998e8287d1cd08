from django.contrib import admin

from oneteam.talent.models import (
    Application,
    ApplicationEvent,
    FairParticipant,
    FairPosition,
    JobFair,
    Placement,
    Posting,
    ProfileView,
    Project,
    TalentProfile,
)


@admin.register(TalentProfile)
class TalentProfileAdmin(admin.ModelAdmin[TalentProfile]):
    list_display = ("person", "headline", "audience", "show_skills", "show_projects",
                    "show_preferences", "updated")
    list_filter = ("audience",)
    search_fields = ("person__email", "person__display_name", "headline")
    raw_id_fields = ("person",)


@admin.register(Project)
class ProjectAdmin(admin.ModelAdmin[Project]):
    list_display = ("title", "profile", "created")
    raw_id_fields = ("profile",)


@admin.register(ProfileView)
class ProfileViewAdmin(admin.ModelAdmin[ProfileView]):
    """The log is evidence for the learner: read only."""

    list_display = ("created", "viewer_name", "organization", "profile", "posting", "channel")
    list_filter = ("channel", "organization")
    readonly_fields = ("profile", "viewer", "viewer_name", "organization", "posting",
                       "channel", "created")

    def has_add_permission(self, request: object) -> bool:
        return False

    def has_change_permission(self, request: object, obj: object = None) -> bool:
        return False


@admin.register(Posting)
class PostingAdmin(admin.ModelAdmin[Posting]):
    list_display = ("title", "organization", "kind", "industry", "language", "status",
                    "deadline")
    list_filter = ("kind", "industry", "language", "status", "organization")
    search_fields = ("title", "description")


class ApplicationEventInline(admin.TabularInline[ApplicationEvent, Application]):
    model = ApplicationEvent
    extra = 0
    readonly_fields = ("from_status", "to_status", "actor", "note", "created")
    can_delete = False


@admin.register(Application)
class ApplicationAdmin(admin.ModelAdmin[Application]):
    """Statuses move through the pipeline's actions (history kept): read only here."""

    list_display = ("person", "posting", "status", "changed")
    list_filter = ("status",)
    readonly_fields = ("posting", "person", "status", "message", "created", "changed")
    inlines = (ApplicationEventInline,)


class FairPositionInline(admin.TabularInline[FairPosition, JobFair]):
    model = FairPosition
    extra = 0
    raw_id_fields = ("posting",)


@admin.register(JobFair)
class JobFairAdmin(admin.ModelAdmin[JobFair]):
    list_display = ("name", "organization", "status", "rank_by", "matched")
    list_filter = ("status",)
    inlines = (FairPositionInline,)


@admin.register(FairParticipant)
class FairParticipantAdmin(admin.ModelAdmin[FairParticipant]):
    list_display = ("person", "fair", "matched_position", "ranked")
    raw_id_fields = ("person",)


@admin.register(Placement)
class PlacementAdmin(admin.ModelAdmin[Placement]):
    list_display = ("person", "employer", "role", "kind", "started_on", "source")
    list_filter = ("source", "kind")
    raw_id_fields = ("person", "application")
