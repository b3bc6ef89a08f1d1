"""Texture multiplier endpoints (job kinds `texture.variations`, `texture.make_tileable`)."""

from django.urls import path

from webapp.api.views_tools import tool_status

app_name = "textures"
urlpatterns = [
    path("", tool_status, {"tool": "textures", "kinds": ["texture.variations", "texture.make_tileable"]},
         name="status"),
]
