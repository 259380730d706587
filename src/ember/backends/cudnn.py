"""``ember.backends.cudnn``."""

from __future__ import annotations

from .. import backend

enabled = True
benchmark = False
deterministic = False


def is_available() -> bool:
    return backend.cudnn_version() is not None


def version() -> int | None:
    """cuDNN's version number, or None where there is no CUDA."""
    return backend.cudnn_version()
