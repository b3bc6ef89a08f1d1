"""Material capture pages and endpoints (job kind `material.two_shot` lands with the capture tool)."""

from django.urls import path

from webapp.api.views_tools import tool_status

app_name = "materials"
urlpatterns = [path("", tool_status, {"tool": "materials", "kinds": ["material.two_shot"]}, name="status")]
