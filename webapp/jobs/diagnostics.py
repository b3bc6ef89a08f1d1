"""`diagnostics.sleep`: a slow job that reports progress and writes one small image.

Registered only with ENABLE_DIAGNOSTIC_JOBS=1 (tests and operators checking a deployment):
it exercises progress, cancellation and worker-death recovery without a heavy model.
"""

import time

from django.conf import settings
from rest_framework import serializers

from webapp.jobs.registry import JobKind, register


class SleepParams(serializers.Serializer):
    seconds = serializers.FloatField(default=2.0, min_value=0.0, max_value=120.0)
    steps = serializers.IntegerField(default=10, min_value=1, max_value=1000)
    size = serializers.IntegerField(default=32, min_value=1, max_value=512)


def run_sleep(ctx) -> None:
    import numpy as np

    steps = ctx.params["steps"]
    for step in range(steps):
        ctx.progress(step / steps, f"step {step + 1} of {steps}")
        time.sleep(ctx.params["seconds"] / steps)
    size = ctx.params["size"]
    ramp = np.linspace(0, 255, size, dtype=np.float32)
    pixels = np.stack([np.tile(ramp, (size, 1)), np.tile(ramp[:, None], (1, size)),
                       np.full((size, size), 128.0, np.float32)], axis=-1).astype(np.uint8)
    ctx.outputs.name = "Diagnostics"
    ctx.add_output("ramp.png", "texture", pixels=pixels, bit_depth="8")
    ctx.result = {"steps": steps, "attempt": ctx.job.attempts}


if settings.ENABLE_DIAGNOSTIC_JOBS:
    register(JobKind(
        name="diagnostics.sleep", title="Diagnostics: sleep", params=SleepParams,
        runner="webapp.jobs.diagnostics:run_sleep", queue="default", time_limit_s=180, max_attempts=3,
        output_kind="upload",
    ))
