"""Exceptions raised by imaging.io (re-exported there)."""


class ImageFormatError(ValueError):
    """The data is not a supported image, or it is truncated or corrupt."""


class ImageTooLargeError(ValueError):
    """The image header declares more pixels than the caller allows."""
