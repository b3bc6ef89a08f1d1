import json

from django.core.validators import URLValidator
from rest_framework import serializers

from integrations.addresses import refusal
from integrations.models import WebhookDelivery, WebhookEndpoint, WebhookEvent, all_events


class WebhookEndpointSerializer(serializers.ModelSerializer):
    url = serializers.URLField(
        max_length=2000, help_text="Where events are POSTed (http or https).",
        validators=[URLValidator(schemes=["http", "https"], message="Enter an http or https URL.")],
    )
    events = serializers.MultipleChoiceField(choices=WebhookEvent.choices, required=False, default=all_events,
                                             help_text="Events to send; all of them unless given.")

    class Meta:
        model = WebhookEndpoint
        fields = ["id", "url", "description", "events", "active", "created_at", "updated_at"]
        read_only_fields = ["id", "created_at", "updated_at"]

    def validate_url(self, value):
        reason = refusal(value)
        if reason:
            raise serializers.ValidationError(reason)
        return value

    def validate_events(self, value):
        if not value:
            raise serializers.ValidationError("Choose at least one event.")
        return sorted(value)

    def to_representation(self, endpoint):
        body = super().to_representation(endpoint)
        body["events"] = sorted(body["events"])  # a set, from MultipleChoiceField
        return body


class NewSecretWebhookEndpointSerializer(WebhookEndpointSerializer):
    """Answer of creation and of rotate-secret: the only times the secret is shown."""

    secret = serializers.CharField(read_only=True, help_text="Signing secret (whsec_…); shown only now.")

    class Meta(WebhookEndpointSerializer.Meta):
        fields = WebhookEndpointSerializer.Meta.fields + ["secret"]


class WebhookDeliverySerializer(serializers.ModelSerializer):
    message_id = serializers.CharField(read_only=True, help_text="The webhook-id header; the same on every retry.")
    job = serializers.UUIDField(source="job_id", read_only=True, allow_null=True)
    payload = serializers.SerializerMethodField(help_text="The event as sent.")

    class Meta:
        model = WebhookDelivery
        fields = ["id", "message_id", "event_type", "job", "status", "attempts", "response_status", "error",
                  "created_at", "last_attempt_at", "next_attempt_at", "delivered_at", "payload"]
        read_only_fields = fields

    def get_payload(self, delivery) -> dict:
        return json.loads(delivery.body)
