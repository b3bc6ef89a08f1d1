"""Two-shot SVBRDF capture of stationary materials (pure package, no Django).

Entry point: `capture_material(flash, guide, ...) -> CaptureResult`;
bad input raises `CaptureInputError` (a ValueError with a user-facing message).
"""

from .errors import CaptureInputError
from .pipeline import CaptureResult, capture_material

__all__ = ["CaptureInputError", "CaptureResult", "capture_material"]
