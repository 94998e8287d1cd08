from django.urls import path

from oneteam.credentials import views

app_name = "credentials"

urlpatterns = [
    path("verify/", views.verify_page, name="verify"),
    path("verify/<str:public_id>/", views.verify_stored, name="verify-stored"),
    path("status/<str:public_id>", views.status_list, name="status-list"),
    path("achievements/<str:public_id>", views.achievement_page, name="achievement"),
    path("anchors/<str:label>", views.anchor_record, name="anchor"),
    path("shared/<str:token>/", views.shared, name="shared"),
    path("mine/", views.mine, name="mine"),
    path("c/<str:public_id>/", views.detail, name="detail"),
    path("c/<str:public_id>/download.json", views.download, name="download"),
    path("c/<str:public_id>/certificate.pdf", views.certificate, name="certificate"),
    path("c/<str:public_id>/share/", views.create_share_link, name="share"),
    path("c/<str:public_id>/<str:action>/", views.change_status, name="change-status"),
    path("issuing/", views.issuing, name="issuing"),
    path("issuing/orgs/<slug:slug>/achievements/", views.define_achievement,
         name="define-achievement"),
    path("issuing/achievements/<str:public_id>/", views.issuer_achievement,
         name="issuing-achievement"),
    path("issuing/achievements/<str:public_id>/issue/", views.issue_one, name="issue-one"),
    path("issuing/achievements/<str:public_id>/issue-cohort/", views.issue_cohort,
         name="issue-cohort"),
    path("issuing/achievements/<str:public_id>/<slug:verb>/", views.achievement_activity,
         name="achievement-activity"),
    path("share-links/<int:link_id>/withdraw/", views.withdraw_share_link,
         name="share-withdraw"),
]
