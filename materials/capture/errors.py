"""The one exception the capture core raises for bad input."""


class CaptureInputError(ValueError):
    """The photos cannot be turned into a material; the message is for the user."""
