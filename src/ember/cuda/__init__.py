"""``ember.cuda``: whether a CUDA device can be used, and how many."""

from __future__ import annotations

from .. import backend


def is_available() -> bool:
    """Whether CuPy is installed and sees at least one CUDA device."""
    return backend.cuda_available()


def device_count() -> int:
    return backend.device_count()


def current_device() -> int:
    cp = backend.cupy()
    if cp is None:
        raise RuntimeError("Found no NVIDIA driver on your system.")
    return cp.cuda.runtime.getDevice()


def manual_seed(seed: int) -> None:
    """Seed the CUDA generators (ember draws CUDA random numbers from the CPU generator)."""


def manual_seed_all(seed: int) -> None:
    """Seed the CUDA generators on every device."""


def synchronize(device=None) -> None:
    cp = backend.cupy()
    if cp is not None:
        cp.cuda.runtime.deviceSynchronize()
