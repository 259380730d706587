"""``ember.cuda``: whether a CUDA device can be used, how many, and which is current."""

from __future__ import annotations

from .. import backend


def is_available() -> bool:
    """Whether CuPy is installed and sees at least one CUDA device."""
    return backend.cuda_available()


def device_count() -> int:
    return backend.device_count()


def _runtime():
    cp = backend.cupy()
    if cp is None:
        raise RuntimeError(
            "Found no NVIDIA driver on your system. Please check that you have an NVIDIA GPU "
            "and installed a driver and CuPy (pip install 'ember[cuda]').")
    return cp.cuda.runtime


def current_device() -> int:
    """The index of the current CUDA device (where ``device='cuda'`` puts tensors)."""
    return _runtime().getDevice()


def _index(device) -> int:
    """A device argument as an index: an int, ``'cuda:1'``, an ``ember.device``; -1 for
    None."""
    if device is None:
        return -1
    if isinstance(device, int) and not isinstance(device, bool):
        return device
    from ..device import device as device_cls
    dev = device if isinstance(device, device_cls) else device_cls(device)
    if dev.type != "cuda":
        raise ValueError(f"Expected a cuda device, but got: {dev}")
    return -1 if dev.index is None else dev.index


def set_device(device) -> None:
    """Make ``device`` the current CUDA device; a negative index does nothing."""
    index = _index(device)
    if index >= 0:
        _runtime().setDevice(index)


class device:
    """Context manager that makes ``device`` the current CUDA device while it is entered,
    as ``torch.cuda.device`` does (None or a negative index: no change)."""

    def __init__(self, device) -> None:
        self.idx = _index(device)
        self.prev_idx = -1

    def __enter__(self):
        if self.idx >= 0:
            runtime = _runtime()
            self.prev_idx = runtime.getDevice()
            if self.prev_idx != self.idx:
                runtime.setDevice(self.idx)
        return self

    def __exit__(self, *exc) -> bool:
        if self.idx >= 0 and self.prev_idx != self.idx:
            _runtime().setDevice(self.prev_idx)
        return False


def manual_seed(seed: int) -> None:
    """Seed the CUDA generators (ember draws CUDA random numbers from the CPU generator)."""


def manual_seed_all(seed: int) -> None:
    """Seed the CUDA generators on every device."""


def synchronize(device=None) -> None:
    cp = backend.cupy()
    if cp is not None:
        cp.cuda.runtime.deviceSynchronize()
