from django.contrib import admin

from oneteam.labs.models import Lab, Submission


@admin.register(Lab)
class LabAdmin(admin.ModelAdmin[Lab]):
    list_display = ("slug", "kind", "title_ko", "title_en", "owner", "program", "cohort",
                    "deadline")
    list_filter = ("kind", "owner")
    search_fields = ("slug", "title_ko", "title_en")


@admin.register(Submission)
class SubmissionAdmin(admin.ModelAdmin[Submission]):
    list_display = ("id", "lab", "person", "organization", "state", "score", "metric",
                    "created")
    list_filter = ("state", "lab")
    readonly_fields = ("job", "results")
