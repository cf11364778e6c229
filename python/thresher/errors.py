"""thresher's exceptions."""

from __future__ import annotations

from thresher._core import ThresherError

__all__ = ["InvalidOptionError", "ThresherError"]


class InvalidOptionError(ThresherError, ValueError):
    """An option is out of range or inconsistent (also a ``ValueError``)."""
