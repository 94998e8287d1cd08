from django.urls import path

from oneteam.labs import views

app_name = "labs"

urlpatterns = [
    path("", views.lab_list, name="list"),
    path("new/", views.lab_new, name="new"),
    path("<slug:slug>/", views.lab_page, name="lab"),
    path("<slug:slug>/starter/<path:name>", views.starter_file, name="starter"),
    path("<slug:slug>/leaderboard/", views.leaderboard, name="leaderboard"),
    path("<slug:slug>/final/", views.choose_final, name="final"),
    path("<slug:slug>/manage/", views.lab_manage, name="manage"),
    path("<slug:slug>/submissions/<int:submission_id>/", views.submission_page,
         name="submission"),
    path("<slug:slug>/submissions/<int:submission_id>/status/", views.submission_status,
         name="submission-status"),
    path("<slug:slug>/submissions/<int:submission_id>/notebook/", views.executed_notebook,
         name="notebook"),
    path("<slug:slug>/submissions/<int:submission_id>/cancel/", views.submission_cancel,
         name="cancel"),
]
