"""Texture synthesis core: seamless variations, make-tileable, material sets, fast mode.

Pure package (torch + numpy); the Django app in `textures/` calls `run_texture_job`.
"""
from .errors import TextureInputError
from .job import TextureJobResult, run_texture_job
from .optimise import SynthesisSettings, synthesize
from .tileable import make_tileable

__all__ = ["TextureInputError", "TextureJobResult", "run_texture_job", "SynthesisSettings",
           "synthesize", "make_tileable"]
