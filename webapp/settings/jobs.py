"""Job queue: Dramatiq on Redis (embedded under var/ unless REDIS_URL is set)."""

from webapp.env import env

from .base import VAR_DIR

REDIS_URL = env("REDIS_URL", str, "")
EMBEDDED_REDIS_DIR = VAR_DIR / "redis"
EMBEDDED_REDIS_SOCKET = EMBEDDED_REDIS_DIR / "redis.sock"
BROKER_URL = REDIS_URL or f"unix://{EMBEDDED_REDIS_SOCKET}"

# "redis" in service and end-to-end use; "stub" keeps in-process unit tests off any server.
JOB_BROKER = env("JOB_BROKER", str, "redis")
# How long a silent worker counts as alive, and how often (per broker call, of 1e6) dead
# workers' messages are looked for: together they bound how soon a killed worker's job is retried.
JOB_HEARTBEAT_TIMEOUT_MS = env("JOB_HEARTBEAT_TIMEOUT_MS", int, 30_000)
JOB_MAINTENANCE_CHANCE = env("JOB_MAINTENANCE_CHANCE", int, 100_000)

_middleware = [
    "dramatiq.middleware.AgeLimit",
    "dramatiq.middleware.TimeLimit",
    "dramatiq.middleware.Callbacks",
    "dramatiq.middleware.Pipelines",
    "dramatiq.middleware.Retries",
    "django_dramatiq.middleware.DbConnectionsMiddleware",
]

if JOB_BROKER == "stub":
    DRAMATIQ_BROKER = {"BROKER": "dramatiq.brokers.stub.StubBroker", "OPTIONS": {}, "MIDDLEWARE": _middleware}
else:
    DRAMATIQ_BROKER = {
        "BROKER": "dramatiq.brokers.redis.RedisBroker",
        "OPTIONS": {
            "url": BROKER_URL,
            "namespace": env("JOB_NAMESPACE", str, "assets"),
            "heartbeat_timeout": JOB_HEARTBEAT_TIMEOUT_MS,
            "maintenance_chance": JOB_MAINTENANCE_CHANCE,
        },
        "MIDDLEWARE": _middleware,
    }
DRAMATIQ_TASKS_DATABASE = "default"
DRAMATIQ_AUTODISCOVER_MODULES = ["tasks"]

# Worker processes started by `manage.py runservice`.
WORKER_DEFAULT_PROCESSES = env("WORKER_DEFAULT_PROCESSES", int, 1)
WORKER_DEFAULT_THREADS = env("WORKER_DEFAULT_THREADS", int, 4)
# Extra, test-only job kinds (a slow job for worker-death tests). Never on in production.
ENABLE_DIAGNOSTIC_JOBS = env("ENABLE_DIAGNOSTIC_JOBS", bool, False)
