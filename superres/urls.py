"""Super-resolution endpoints (job kinds `superres.upscale`, `superres.finetune`)."""

from django.urls import path

from webapp.api.views_tools import tool_status

app_name = "superres"
urlpatterns = [
    path("", tool_status, {"tool": "superres", "kinds": ["superres.upscale", "superres.finetune"]}, name="status"),
]
