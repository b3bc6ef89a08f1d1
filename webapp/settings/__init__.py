"""Settings, split by concern: base (Django, API, security), storage (database, files), jobs (broker, workers),
integrations (webhooks, idempotency keys)."""

from .base import *  # noqa: F401,F403
from .storage import *  # noqa: F401,F403
from .jobs import *  # noqa: F401,F403
from .integrations import *  # noqa: F401,F403
