"""Settings for the in-process test suite: the same settings, with jobs on Dramatiq's stub
broker (end-to-end tests start real servers with the normal settings instead)."""

import os

os.environ["JOB_BROKER"] = "stub"
os.environ.setdefault("ENABLE_DIAGNOSTIC_JOBS", "1")
# The webhook tests' receiver listens on 127.0.0.1; tests of the refusal switch this off.
os.environ.setdefault("WEBHOOK_ALLOW_PRIVATE_ADDRESSES", "1")

from webapp.settings import *  # noqa: E402,F401,F403

PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]  # fast user creation in tests
