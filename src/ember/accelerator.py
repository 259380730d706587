"""``ember.accelerator``: the accelerator in use, if any (CUDA for ember)."""

from __future__ import annotations

from . import backend
from .device import device


def is_available() -> bool:
    """Whether an accelerator (a CUDA device) can be used."""
    return backend.cuda_available()


def current_accelerator(check_available: bool = False) -> device | None:
    """``device(type='cuda')`` where a CUDA device can be used, else None."""
    if backend.cuda_available():
        return device("cuda")
    return None


def device_count() -> int:
    return backend.device_count()
