"""Shared image plumbing for the texture/material tools and the web service.

    imaging.color    srgb_to_linear, linear_to_srgb, luminance, rgb_to_y_bt601
    imaging.io       read_image, probe_image, write_image, encode_png, encode_tga, encode_dds,
                     to_float32, from_float32, Image, ImageInfo,
                     ImageFormatError, ImageTooLargeError
    imaging.preview  make_preview, needs_tonemapped_preview, tonemap_to_srgb8
    imaging.padding  wrap_pad
    imaging.tiling   tiled_apply
    imaging.resize   resize
    imaging.mipmaps  mip_chain (the levels of a DDS file)
    imaging.exr      the OpenEXR codec behind imaging.io

Submodules are imported lazily (``imaging.color`` works after ``import imaging``);
color, io and preview never import torch, so the web service stays light.
"""

import importlib
import os

# OpenCV reads this when cv2 is first imported; set it here as well as in
# imaging.io so that any import order keeps EXR support enabled where built in.
os.environ.setdefault("OPENCV_IO_ENABLE_OPENEXR", "1")

__all__ = ["color", "errors", "exr", "io", "mipmaps", "padding", "preview", "resize", "tiling"]


def __getattr__(name):
    if name in __all__:
        return importlib.import_module(f"{__name__}.{name}")
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
