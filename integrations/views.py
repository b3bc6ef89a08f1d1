"""Webhook endpoints of a project, their secrets and their delivery logs.

Webhook URLs often carry credentials of their own, so even reading them needs the editor role.
"""

from django.shortcuts import get_object_or_404
from drf_spectacular.utils import extend_schema
from rest_framework import generics, status
from rest_framework.response import Response
from rest_framework.views import APIView

from integrations import serializers as s
from integrations import services
from webapp.api.views import ProjectScoped
from webapp.models import Role


class WebhookScoped(ProjectScoped):
    read_role = Role.EDITOR
    write_role = Role.EDITOR

    def get_endpoint(self):
        return get_object_or_404(self.project.webhooks.all(), pk=self.kwargs["webhook_id"])


class WebhookList(WebhookScoped, generics.ListAPIView):
    serializer_class = s.WebhookEndpointSerializer

    def get_queryset(self):
        return self.project.webhooks.all()

    @extend_schema(request=s.WebhookEndpointSerializer, responses={201: s.NewSecretWebhookEndpointSerializer})
    def post(self, request, project_id):
        form = s.WebhookEndpointSerializer(data=request.data)
        form.is_valid(raise_exception=True)
        endpoint = form.save(project=self.project, created_by=request.user)
        return Response(s.NewSecretWebhookEndpointSerializer(endpoint).data, status=status.HTTP_201_CREATED)


class WebhookDetail(WebhookScoped, generics.RetrieveUpdateDestroyAPIView):
    serializer_class = s.WebhookEndpointSerializer

    def get_object(self):
        return self.get_endpoint()


class WebhookRotateSecret(WebhookScoped, APIView):
    @extend_schema(request=None, responses={200: s.NewSecretWebhookEndpointSerializer})
    def post(self, request, project_id, webhook_id):
        endpoint = services.rotate_secret(self.get_endpoint())
        return Response(s.NewSecretWebhookEndpointSerializer(endpoint).data)


class WebhookDeliveryList(WebhookScoped, generics.ListAPIView):
    """Newest first: every event sent to this endpoint, with the outcome of its latest attempt."""

    serializer_class = s.WebhookDeliverySerializer

    def get_queryset(self):
        return self.get_endpoint().deliveries.all()
