"""Webhook deliveries and idempotency keys."""

from webapp.env import env

# Seconds to wait for a webhook endpoint to answer; deliveries share the light `default` workers.
WEBHOOK_TIMEOUT_S = env("WEBHOOK_TIMEOUT_S", float, 5.0)
# Attempts per delivery, and the back-off before attempt n+1: first × 4ⁿ⁻¹, capped
# (30 s, 2 min, 8 min, 32 min by default: an endpoint may be down for most of an hour).
WEBHOOK_MAX_ATTEMPTS = env("WEBHOOK_MAX_ATTEMPTS", int, 5)
WEBHOOK_FIRST_RETRY_S = env("WEBHOOK_FIRST_RETRY_S", float, 30.0)
WEBHOOK_MAX_RETRY_S = env("WEBHOOK_MAX_RETRY_S", float, 3600.0)
# Receivers on private, loopback or reserved addresses are refused unless this is set (see
# integrations/addresses.py): on-premises set-ups whose build farm is on the local network.
WEBHOOK_ALLOW_PRIVATE_ADDRESSES = env("WEBHOOK_ALLOW_PRIVATE_ADDRESSES", bool, False)
# How long an Idempotency-Key is remembered.
IDEMPOTENCY_KEY_HOURS = env("IDEMPOTENCY_KEY_HOURS", float, 24.0)
