from django.contrib import admin

from oneteam.academy.models import (
    Cohort,
    Course,
    Enrollment,
    Lesson,
    LessonImage,
    LessonProgress,
    Module,
    Program,
    SchoolClass,
)


@admin.register(Program)
class ProgramAdmin(admin.ModelAdmin[Program]):
    list_display = ("slug", "title_ko", "title_en", "track", "owner", "visibility", "hours")
    list_filter = ("track", "visibility", "owner")
    search_fields = ("slug", "title_ko", "title_en")


@admin.register(Course)
class CourseAdmin(admin.ModelAdmin[Course]):
    list_display = ("slug", "program", "position", "title_ko", "title_en")
    list_filter = ("program",)
    # the skills come from the content files (program.toml), checked against the taxonomy
    readonly_fields = ("skills",)


@admin.register(Module)
class ModuleAdmin(admin.ModelAdmin[Module]):
    list_display = ("slug", "course", "position", "title_ko", "title_en")


@admin.register(Lesson)
class LessonAdmin(admin.ModelAdmin[Lesson]):
    list_display = ("slug", "program", "module", "ordinal", "title_ko", "minutes")
    list_filter = ("program",)
    search_fields = ("slug", "title_ko", "title_en")
    # The digest is the actions' to keep: edit lessons through the API so it stays current.
    readonly_fields = ("content_digest",)


@admin.register(LessonImage)
class LessonImageAdmin(admin.ModelAdmin[LessonImage]):
    list_display = ("name", "lesson", "content_type", "size_bytes", "width", "height")
    readonly_fields = ("digest", "content_type", "size_bytes", "width", "height")


@admin.register(Cohort)
class CohortAdmin(admin.ModelAdmin[Cohort]):
    list_display = ("name", "program", "organization", "starts_on", "ends_on",
                    "enrollment_mode", "capacity")
    list_filter = ("program", "organization", "enrollment_mode")
    filter_horizontal = ("instructors", "partners")


@admin.register(Enrollment)
class EnrollmentAdmin(admin.ModelAdmin[Enrollment]):
    list_display = ("email", "cohort", "status", "changed")
    list_filter = ("status", "cohort")
    search_fields = ("email",)
    raw_id_fields = ("person", "invited_by", "decided_by")


@admin.register(LessonProgress)
class LessonProgressAdmin(admin.ModelAdmin[LessonProgress]):
    list_display = ("person", "lesson", "cohort", "started", "completed")
    raw_id_fields = ("person", "lesson", "cohort")


@admin.register(SchoolClass)
class SchoolClassAdmin(admin.ModelAdmin[SchoolClass]):
    list_display = ("name", "school", "teacher", "join_code")
    filter_horizontal = ("students", "courses")
    raw_id_fields = ("teacher",)
