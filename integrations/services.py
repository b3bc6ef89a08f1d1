"""Webhooks: turn a finished job into one delivery per interested endpoint, and deliver it.

A delivery row is written in the same transaction as the job's final status and its message is
queued only after that commits, so there is an event exactly when the job really finished.
Each attempt POSTs the same signed body; a failed attempt schedules the next one itself with a
growing delay, so the row always says when the next attempt is due.
"""

import json
import logging
import time
from datetime import timedelta

import requests
from django.conf import settings
from django.db import transaction
from django.utils import timezone
from rest_framework.fields import DateTimeField
from rest_framework.utils.encoders import JSONEncoder

from integrations.addresses import refusal
from integrations.models import DeliveryStatus, WebhookDelivery, WebhookEndpoint
from integrations.signing import new_secret, signature
from webapp.api.serializers import JobSerializer
from webapp.models import Job

log = logging.getLogger(__name__)


# -- endpoints ------------------------------------------------------------------------------

def rotate_secret(endpoint: WebhookEndpoint) -> WebhookEndpoint:
    endpoint.secret = new_secret()
    endpoint.save(update_fields=["secret", "updated_at"])
    return endpoint


# -- events ---------------------------------------------------------------------------------

def on_job_finished(sender, job_id, status, **kwargs) -> None:
    """Receiver of `webapp.signals.job_finished`. A webhook problem must never undo the job's
    final status, so its writes get a savepoint of their own and errors are only logged."""
    try:
        with transaction.atomic():
            queue_job_event(job_id, f"job.{status}")
    except Exception:
        log.exception("could not queue webhook deliveries for job %s", job_id)


def queue_job_event(job_id, event_type: str) -> list[WebhookDelivery]:
    job = Job.objects.get(pk=job_id)
    endpoints = [e for e in WebhookEndpoint.objects.filter(project_id=job.project_id) if e.wants(event_type)]
    if not endpoints:
        return []
    body = event_body(event_type, job)
    deliveries = WebhookDelivery.objects.bulk_create(
        WebhookDelivery(endpoint=e, event_type=event_type, job=job, body=body) for e in endpoints
    )
    ids = [str(d.pk) for d in deliveries]
    transaction.on_commit(lambda: _send_first_attempts(ids))
    return deliveries


def event_body(event_type: str, job: Job) -> str:
    event = {
        "type": event_type,
        "timestamp": DateTimeField().to_representation(job.finished_at or timezone.now()),
        "data": {**JobSerializer(job).data, "project": str(job.project_id)},
    }
    return json.dumps(event, cls=JSONEncoder, separators=(",", ":"))


def _send_first_attempts(delivery_ids: list[str]) -> None:
    for delivery_id in delivery_ids:
        _schedule(delivery_id, delay_ms=None)


def _schedule(delivery_id: str, delay_ms: int | None) -> None:
    from gpu_workers.tasks import deliver_webhook

    try:
        deliver_webhook.send_with_options(args=(delivery_id,), delay=delay_ms)
    except Exception:
        # The job itself is done and must not fail for this; the row stays pending and says so.
        log.exception("could not queue webhook delivery %s", delivery_id)
        WebhookDelivery.objects.filter(pk=delivery_id).update(error="The delivery queue is unavailable.")


# -- delivery (inside a worker) ---------------------------------------------------------------

def deliver(delivery_id: str) -> str:
    """Make one attempt to deliver; returns the delivery's status afterwards."""
    delivery = WebhookDelivery.objects.select_related("endpoint").filter(pk=delivery_id).first()
    if delivery is None or delivery.status != DeliveryStatus.PENDING:
        # Deleted with its endpoint, or a redelivered message of a finished delivery.
        return delivery.status if delivery else "missing"
    # Checked again at every attempt: the name may resolve to another address than at registration.
    refused = refusal(delivery.endpoint.url)
    response_status, error = (None, f"Not sent: {refused}") if refused else _post(delivery)
    now = timezone.now()
    delivery.attempts += 1
    delivery.last_attempt_at = now
    delivery.response_status, delivery.error = response_status, error
    delivery.next_attempt_at = None
    retry_in = None
    if not error:
        delivery.status, delivery.delivered_at = DeliveryStatus.DELIVERED, now
    elif refused or delivery.attempts >= settings.WEBHOOK_MAX_ATTEMPTS:
        delivery.status = DeliveryStatus.FAILED
    else:
        retry_in = retry_delay(delivery.attempts)
        delivery.next_attempt_at = now + retry_in
    delivery.save()
    if retry_in is not None:
        _schedule(str(delivery.pk), delay_ms=int(retry_in.total_seconds() * 1000))
    return delivery.status


def retry_delay(attempts_made: int) -> timedelta:
    seconds = settings.WEBHOOK_FIRST_RETRY_S * 4 ** (attempts_made - 1)
    return timedelta(seconds=min(seconds, settings.WEBHOOK_MAX_RETRY_S))


def _post(delivery: WebhookDelivery) -> tuple[int | None, str]:
    """POST the signed body; returns (HTTP status or None, error text or "" on a 2xx answer)."""
    timestamp = int(time.time())
    headers = {
        "content-type": "application/json",
        "user-agent": "materials-webhooks/1",
        "webhook-id": delivery.message_id,
        "webhook-timestamp": str(timestamp),
        "webhook-signature": signature(delivery.endpoint.secret, delivery.message_id, timestamp, delivery.body),
    }
    try:
        # No redirects: a signed event goes to the registered URL only.
        response = requests.post(delivery.endpoint.url, data=delivery.body.encode(), headers=headers,
                                 timeout=settings.WEBHOOK_TIMEOUT_S, allow_redirects=False)
    except requests.RequestException as exc:
        return None, f"{type(exc).__name__}: {exc}"[:2000]
    if 200 <= response.status_code < 300:
        return response.status_code, ""
    return response.status_code, f"HTTP {response.status_code}: {response.text[:500]}"
