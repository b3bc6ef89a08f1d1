"""Small test images made on the fly (no binary fixtures in the repo)."""

import io

import numpy as np
from PIL import Image

from materials.capture.synthetic import dng_photo as dng_bytes  # noqa: F401  (a phone's RAW file)


def png_bytes(width=64, height=48, channels=3, dtype=np.uint8, seed=0) -> bytes:
    """A random PNG image of the given size, channels (1, 3, 4) and dtype (uint8 or uint16)."""
    import cv2

    rng = np.random.default_rng(seed)
    top = 255 if dtype == np.uint8 else 65535
    pixels = rng.integers(0, top + 1, size=(height, width, channels)).astype(dtype)
    if channels >= 3:
        pixels[..., :3] = pixels[..., 2::-1]  # cv2 writes BGR
    ok, encoded = cv2.imencode(".png", pixels if channels > 1 else pixels[..., 0])
    assert ok
    return encoded.tobytes()


def jpeg_bytes(width=64, height=48, seed=0, quality=90) -> bytes:
    rng = np.random.default_rng(seed)
    pixels = rng.integers(0, 256, size=(height, width, 3), dtype=np.uint8)
    out = io.BytesIO()
    Image.fromarray(pixels).save(out, format="JPEG", quality=quality)
    return out.getvalue()


def smooth_png_bytes(width=640, height=320) -> bytes:
    """An 8-bit RGB PNG of slow colour waves: any good down-scaling keeps its local colours."""
    y, x = np.mgrid[0:height, 0:width].astype(np.float32)
    pixels = np.stack([128 + 100 * np.sin(x / 50), 128 + 100 * np.cos(y / 40), 128 + 60 * np.sin((x + y) / 70)], -1)
    out = io.BytesIO()
    Image.fromarray(pixels.round().astype(np.uint8)).save(out, format="PNG")
    return out.getvalue()


def heic_bytes(pixels: np.ndarray, *, exif: Image.Exif | None = None, nclx: dict | None = None,
               quality: int = 95) -> bytes:
    """An iPhone-style HEIC of (H,W,3) uint8 pixels, with optional EXIF (an Orientation other
    than 1 is written as the file's rotation, as phones do) and nclx colour description."""
    import pillow_heif

    heif = pillow_heif.from_pillow(Image.fromarray(pixels))
    out = io.BytesIO()
    options = {"quality": quality}
    if exif is not None:
        options["exif"] = exif.tobytes()
    if nclx is not None:
        options["nclx_profile"] = nclx
    heif.save(out, **options)
    return out.getvalue()

