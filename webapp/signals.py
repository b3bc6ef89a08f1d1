"""Signals that optional apps (webhooks in `integrations`) listen to, so the core never imports them."""

from django.dispatch import Signal

# Sent with `job_id` and `status` inside the transaction that records a job's final status
# (succeeded, failed or cancelled): what receivers write commits or rolls back with that status.
job_finished = Signal()
