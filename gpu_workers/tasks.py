"""Dramatiq actors: take a job id, run one attempt through the job service, record the outcome.

Two queues: `gpu` for model work (one worker process per GPU, one thread), `default` for light
work. Per-kind time limits and retries travel as message options (see `services.jobs.enqueue`).
Webhook deliveries also run on `default`.
"""

import dramatiq
from dramatiq.middleware.time_limit import TimeLimitExceeded

from integrations.services import deliver
from webapp.services.jobs import execute_job


@dramatiq.actor(queue_name="gpu", max_retries=2, min_backoff=2_000, max_backoff=60_000, time_limit=3_600_000)
def run_gpu_job(job_id: str) -> None:
    execute_job(job_id, time_limit_error=TimeLimitExceeded)


@dramatiq.actor(queue_name="default", max_retries=2, min_backoff=1_000, max_backoff=30_000, time_limit=600_000)
def run_default_job(job_id: str) -> None:
    execute_job(job_id, time_limit_error=TimeLimitExceeded)


# No broker retries: a failed attempt schedules the next one itself (see integrations.services.deliver),
# so that the delivery log knows when it is due.
@dramatiq.actor(queue_name="default", max_retries=0, time_limit=120_000)
def deliver_webhook(delivery_id: str) -> None:
    deliver(delivery_id)


def actor_for_queue(queue: str):
    return {"gpu": run_gpu_job, "default": run_default_job}[queue]
