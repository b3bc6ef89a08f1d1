"""Webhook endpoints and their deliveries; idempotency keys of job-creating requests."""

import uuid

from django.conf import settings
from django.db import models
from django.utils import timezone

from integrations.signing import new_secret


class WebhookEvent(models.TextChoices):
    JOB_SUCCEEDED = "job.succeeded"
    JOB_FAILED = "job.failed"
    JOB_CANCELLED = "job.cancelled"


def all_events() -> list[str]:
    return [e.value for e in WebhookEvent]


class WebhookEndpoint(models.Model):
    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    project = models.ForeignKey("webapp.Project", on_delete=models.CASCADE, related_name="webhooks")
    url = models.URLField(max_length=2000)
    description = models.CharField(max_length=500, blank=True, default="")
    events = models.JSONField(default=all_events)
    active = models.BooleanField(default=True)
    # Kept as is (not hashed like API tokens): every delivery is signed with it.
    secret = models.CharField(max_length=100, default=new_secret)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["created_at", "id"]

    def wants(self, event_type: str) -> bool:
        return self.active and event_type in self.events


class DeliveryStatus(models.TextChoices):
    PENDING = "pending"      # not attempted yet, or waiting for its next attempt
    DELIVERED = "delivered"  # the endpoint answered 2xx
    FAILED = "failed"        # every attempt failed


class WebhookDelivery(models.Model):
    """One event for one endpoint, updated by each attempt to deliver it."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    endpoint = models.ForeignKey(WebhookEndpoint, on_delete=models.CASCADE, related_name="deliveries")
    event_type = models.CharField(max_length=40, choices=WebhookEvent.choices)
    job = models.ForeignKey("webapp.Job", null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    # The exact JSON that is signed and sent: the same bytes on every attempt.
    body = models.TextField()
    status = models.CharField(max_length=10, choices=DeliveryStatus.choices, default=DeliveryStatus.PENDING)
    attempts = models.PositiveSmallIntegerField(default=0)
    response_status = models.PositiveSmallIntegerField(null=True, blank=True)
    error = models.TextField(blank=True, default="")
    last_attempt_at = models.DateTimeField(null=True, blank=True)
    next_attempt_at = models.DateTimeField(null=True, blank=True)
    delivered_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-created_at", "id"]
        indexes = [models.Index(fields=["endpoint", "-created_at"])]

    @property
    def message_id(self) -> str:
        """The `webhook-id` header: unique per event and endpoint, the same on every retry."""
        return f"msg_{self.id.hex}"


class IdempotencyKey(models.Model):
    """An `Idempotency-Key` a user sent with a job-creating request or an upload in a project, and
    the job it made (or the set, assets and previews job the upload stored).

    The row is written before the job is created (job still empty), and the unique constraint
    lets only one of two concurrent requests with the same key write it.
    """

    project = models.ForeignKey("webapp.Project", on_delete=models.CASCADE, related_name="+")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    key = models.CharField(max_length=255)
    # SHA-256 of the request body in canonical JSON: the same key with another body is an error.
    fingerprint = models.CharField(max_length=64)
    job = models.ForeignKey("webapp.Job", null=True, blank=True, on_delete=models.CASCADE, related_name="+")
    # An upload's result: {"set": id, "assets": [ids], "previews_job": id or null}.
    upload = models.JSONField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now, db_index=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["project", "user", "key"], name="unique_idempotency_key")]
