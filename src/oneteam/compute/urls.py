from django.urls import path

from oneteam.compute import views

app_name = "compute"

urlpatterns = [
    path("", views.pool_list, name="pools"),
    path("pools/new/", views.pool_new, name="pool-new"),
    path("pools/<slug:slug>/", views.pool_page, name="pool"),
    path("usage/<slug:organization>/", views.usage_page, name="usage"),
    path("jobs/<int:job_id>/", views.job_page, name="job"),
]
