"""Exception raised for texture inputs the service should reject with a message."""


class TextureInputError(ValueError):
    """Bad texture input (size, count, mask, maps); the message is shown to the user."""
