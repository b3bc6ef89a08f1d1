"""Integrations with other systems: webhooks for finished jobs, and idempotency keys for job creation."""
