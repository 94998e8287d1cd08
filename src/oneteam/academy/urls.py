from django.urls import path

from oneteam.academy import views

app_name = "academy"

urlpatterns = [
    path("", views.catalogue, name="catalogue"),
    path("programs/<slug:program>/", views.program_page, name="program"),
    path("programs/<slug:program>/courses/<slug:course>/", views.course_page, name="course"),
    path("programs/<slug:program>/lessons/<slug:lesson>/", views.lesson_page, name="lesson"),
    path("programs/<slug:program>/lessons/<slug:lesson>/progress/", views.lesson_progress,
         name="lesson-progress"),
    path("content/<path:path>", views.content_asset, name="asset"),
    path("images/<str:name>", views.uploaded_image, name="image"),
    path("highlight.css", views.highlight_css, name="highlight-css"),
    path("cohorts/new/", views.cohort_new, name="cohort-new"),
    path("cohorts/<int:cohort_id>/", views.cohort_page, name="cohort"),
    path("cohorts/<int:cohort_id>/enrollment/<slug:verb>/", views.cohort_enrollment,
         name="cohort-enrollment"),
    path("cohorts/<int:cohort_id>/manage/", views.cohort_manage, name="cohort-manage"),
    path("cohorts/<int:cohort_id>/progress/", views.cohort_progress, name="cohort-progress"),
    path("cohorts/<int:cohort_id>/progress.csv", views.cohort_progress_csv,
         name="cohort-progress-csv"),
    path("cohorts/<int:cohort_id>/enrollments/<int:enrollment_id>/<slug:verb>/",
         views.enrollment_decision, name="enrollment-decision"),
    path("classes/new/", views.class_new, name="class-new"),
    path("classes/join/", views.class_join, name="class-join"),
    path("classes/<int:class_id>/", views.class_page, name="class"),
    path("classes/<int:class_id>/students/", views.class_students, name="class-students"),
    path("classes/<int:class_id>/students/<int:person_id>/remove/",
         views.class_remove_student, name="class-remove-student"),
]
