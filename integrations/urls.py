"""Included into the API's URLs (namespace "api")."""

from django.urls import path

from integrations import views as v

P = "projects/<uuid:project_id>/webhooks"
urlpatterns = [
    path(P, v.WebhookList.as_view(), name="webhook-list"),
    path(f"{P}/<uuid:webhook_id>", v.WebhookDetail.as_view(), name="webhook-detail"),
    path(f"{P}/<uuid:webhook_id>/rotate-secret", v.WebhookRotateSecret.as_view(), name="webhook-rotate-secret"),
    path(f"{P}/<uuid:webhook_id>/deliveries", v.WebhookDeliveryList.as_view(), name="webhook-deliveries"),
]
