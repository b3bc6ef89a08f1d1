"""Python client and command-line tool for the materials & textures service."""

from .client import Client
from .errors import ApiError, ConfigError, JobFailed, JobTimeout, JobUnreachable, MatsvcError

__all__ = ["Client", "ApiError", "ConfigError", "JobFailed", "JobTimeout", "JobUnreachable", "MatsvcError"]
__version__ = "0.1.0"
