from django.urls import path

from oneteam.talent import views

app_name = "talent"

urlpatterns = [
    path("", views.home, name="home"),
    path("panels/learner/", views.learner_panel, name="learner-panel"),
    path("profile/", views.my_profile, name="profile"),
    path("profile/visibility/", views.my_visibility, name="visibility"),
    path("profile/projects/", views.my_projects, name="projects"),
    path("profile/projects/<int:project_id>/delete/", views.delete_project,
         name="project-delete"),
    path("profile/views/", views.my_profile_views, name="profile-views"),
    path("postings/", views.postings, name="postings"),
    path("postings/new/", views.posting_new, name="posting-new"),
    path("postings/<int:posting_id>/", views.posting_page, name="posting"),
    path("postings/<int:posting_id>/edit/", views.posting_edit, name="posting-edit"),
    path("postings/<int:posting_id>/apply/", views.posting_apply, name="posting-apply"),
    path("postings/<int:posting_id>/candidates/", views.posting_candidates,
         name="posting-candidates"),
    path("postings/<int:posting_id>/applications/", views.posting_applications,
         name="posting-applications"),
    path("candidates/", views.candidate_search, name="candidate-search"),
    path("candidates/<int:profile_id>/", views.candidate_page, name="candidate"),
    path("applications/", views.my_applications, name="my-applications"),
    path("applications/<int:application_id>/<slug:verb>/", views.application_move,
         name="application-move"),
    path("fairs/", views.fairs, name="fairs"),
    path("fairs/new/", views.fair_new, name="fair-new"),
    path("fairs/<int:fair_id>/", views.fair_page, name="fair"),
    path("fairs/<int:fair_id>/join/", views.fair_join, name="fair-join"),
    path("fairs/<int:fair_id>/rank/", views.fair_rank, name="fair-rank"),
    path("fairs/<int:fair_id>/positions/", views.fair_add_position, name="fair-positions"),
    path("fairs/<int:fair_id>/run/", views.fair_run, name="fair-run"),
    path("placements/", views.my_placements, name="placements"),
    path("outcomes/", views.outcomes, name="outcomes"),
    path("outcomes/<slug:slug>/", views.program_outcomes, name="program-outcomes"),
    path("outcomes/<slug:slug>.csv", views.program_outcomes_csv, name="program-outcomes-csv"),
]
