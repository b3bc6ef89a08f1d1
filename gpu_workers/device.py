"""Device choice, made inside a worker process only: CUDA must never be initialised in a
parent process that later forks workers."""

import os
import shutil
import subprocess


def pick_device() -> str:
    """"cuda" when this process can use a GPU, else "cpu". Imports torch on first use."""
    if os.environ.get("FORCE_CPU") == "1":
        return "cpu"
    import torch

    return "cuda" if torch.cuda.is_available() else "cpu"


def count_gpus() -> int:
    """Number of NVIDIA GPUs, asked of nvidia-smi so that the caller never touches CUDA."""
    visible = os.environ.get("CUDA_VISIBLE_DEVICES")
    if visible is not None:
        return len([d for d in visible.split(",") if d.strip() and d.strip() != "-1"])
    if shutil.which("nvidia-smi") is None:
        return 0
    try:
        listing = subprocess.run(["nvidia-smi", "-L"], capture_output=True, text=True, timeout=10).stdout
    except (OSError, subprocess.SubprocessError):
        return 0
    return sum(1 for line in listing.splitlines() if line.startswith("GPU "))
