"""``ember.utils``: utilities beside the core library (``torch.utils``): ``data``."""

from . import data

__all__ = ["data"]
