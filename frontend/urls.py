from django.urls import path

from frontend import views

app_name = "frontend"
P = "projects/<uuid:project_id>"
urlpatterns = [
    path("", views.projects, name="index"),
    path("tokens/", views.tokens, name="tokens"),
    path(f"{P}/", views.project, name="project"),
    path(f"{P}/members/", views.members, name="members"),
    path(f"{P}/sets/<uuid:set_id>/", views.asset_set, name="set"),
    path(f"{P}/jobs/", views.jobs, name="jobs"),
    path(f"{P}/tools/<slug:tool>/", views.tool, name="tool"),
]
