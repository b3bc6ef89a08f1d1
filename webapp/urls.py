from django.contrib.auth import views as auth_views
from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularRedocView, SpectacularSwaggerView

from frontend.views import SignInView

urlpatterns = [
    path("api/v1/", include("webapp.api.urls")),
    path("api/schema/", SpectacularAPIView.as_view(), name="schema"),
    path("api/docs/", SpectacularSwaggerView.as_view(url_name="schema"), name="api-docs"),
    path("api/redoc/", SpectacularRedocView.as_view(url_name="schema"), name="api-redoc"),
    path("api/v1/tools/materials/", include("materials.urls")),
    path("api/v1/tools/textures/", include("textures.urls")),
    path("api/v1/tools/superres/", include("superres.urls")),
    path("accounts/login/", SignInView.as_view(), name="login"),
    path("accounts/logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("", include("frontend.urls")),
]

handler400 = "webapp.api.errors.json_400"
handler404 = "webapp.urls.not_found"
handler500 = "webapp.api.errors.json_500"


def not_found(request, exception=None):
    """JSON 404 under /api/, the plain page elsewhere."""
    if request.path.startswith("/api/"):
        from webapp.api.errors import json_404

        return json_404(request, exception)
    from django.views.defaults import page_not_found

    return page_not_found(request, exception)
