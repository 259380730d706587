"""The only layer that knows NumPy from CuPy.

Everything above calls functions that NumPy and CuPy share, on the array module this
layer picks for a device; moving arrays between devices happens here too.
"""

from __future__ import annotations

import contextlib
import warnings

import numpy as np

from ..device import CPU, device

# PyTorch returns inf/nan silently; NumPy warns about them. Ignore the warnings NumPy raises
# from ember's own calls (the filter matches the calling module), not the user's NumPy code.
warnings.filterwarnings("ignore", category=RuntimeWarning, module=r"ember(\.|$)")

__all__ = ["np", "cupy", "add_at", "cuda_available", "array_module", "array_device", "to_device",
           "device_count", "cuda_version", "cudnn_version", "as_host", "data_ptr",
           "storage_root", "storage_offset", "cuda_index", "on_device", "as_strided",
           "reshape_view"]


class _Cupy:
    """Imports CuPy on first use: importing it costs time and fails without a GPU."""

    module = None
    tried = False


def cupy():
    """The CuPy module, or None where it is not installed or no GPU can be used."""
    if not _Cupy.tried:
        _Cupy.tried = True
        try:
            import cupy as cp

            if cp.cuda.runtime.getDeviceCount() > 0:
                _Cupy.module = cp
        except Exception:  # no CuPy, or CuPy without a usable driver
            _Cupy.module = None
    return _Cupy.module


def cuda_available() -> bool:
    return cupy() is not None


def device_count() -> int:
    cp = cupy()
    return cp.cuda.runtime.getDeviceCount() if cp is not None else 0


def cuda_version() -> str | None:
    cp = cupy()
    if cp is None:
        return None
    v = cp.cuda.runtime.runtimeGetVersion()
    return f"{v // 1000}.{(v % 1000) // 10}"


def cudnn_version() -> int | None:
    cp = cupy()
    if cp is None:
        return None
    try:
        from cupy.cuda import cudnn

        return cudnn.getVersion()
    except Exception:
        return None


def array_module(dev: device):
    """The array module (numpy or cupy) that holds arrays on ``dev``."""
    if dev.type == "cpu":
        return np
    if dev.type == "cuda":
        cp = cupy()
        if cp is None:
            raise RuntimeError(
                "Found no NVIDIA driver on your system. Please check that you have an "
                "NVIDIA GPU and installed a driver and CuPy (pip install 'ember[cuda]')."
            )
        return cp
    raise RuntimeError(f"ember has no backend for device type '{dev.type}'")


def add_at(out, index, values) -> None:
    """``out[index] += values`` with repeated indices accumulating (unbuffered)."""
    if type(out) is np.ndarray:
        np.add.at(out, index, values)
    else:
        cupy().add.at(out, index, values)


def array_device(arr) -> device:
    """The device an array lives on."""
    if isinstance(arr, (np.ndarray, np.generic)):
        return CPU
    return device("cuda", arr.device.id)


def data_ptr(arr) -> int:
    """The address of an array's first element."""
    if type(arr) is np.ndarray:
        return arr.__array_interface__["data"][0]
    return arr.data.ptr


def storage_root(arr):
    """The array at the bottom of ``arr``'s chain of views (it owns, or wraps, the memory)."""
    while True:
        base = arr.base
        if base is not None and not hasattr(base, "strides"):
            base = getattr(base, "base", None)  # NumPy's as_strided wraps it in a DummyArray
        if base is None or not hasattr(base, "strides") or not hasattr(base, "dtype"):
            return arr
        arr = base


def storage_offset(arr) -> int:
    """Where ``arr`` starts in the memory it views, in bytes (PyTorch's storage offset)."""
    if type(arr) is np.ndarray:
        return data_ptr(arr) - data_ptr(storage_root(arr))
    return arr.data.ptr - arr.data.mem.ptr


def as_strided(arr, shape, strides):
    """A view of ``arr``'s memory with ``shape`` and ``strides`` (in bytes)."""
    if type(arr) is np.ndarray:
        return np.lib.stride_tricks.as_strided(arr, shape, strides)
    # CuPy's as_strided makes a new array on ``arr``'s memory with no ``base``, which would
    # pass for the owner of its memory (the engine adopts such a gradient as ``.grad``
    # without a copy): a view of it has one.
    return cupy().lib.stride_tricks.as_strided(arr, shape, strides).view()


def reshape_view(arr, shape):
    """``arr`` with ``shape`` as a view of its memory; ValueError where no view has it.

    NumPy's ``reshape(copy=False)``. CuPy's ``reshape`` copies where it must (and not every
    CuPy version takes ``copy``); a copy shows as a new data pointer."""
    if type(arr) is np.ndarray:
        return arr.reshape(shape, copy=False)
    out = arr.reshape(shape)
    if arr.size and out.data.ptr != arr.data.ptr:
        raise ValueError("cannot reshape the array without copying it")
    return out


def as_host(arr) -> np.ndarray:
    """A NumPy array with the values of ``arr`` (a copy only if it lives on a GPU)."""
    if isinstance(arr, (np.ndarray, np.generic)):
        return np.asarray(arr)
    return arr.get()


def cuda_index(dev: device) -> int:
    """The index of CUDA device ``dev``; ``cuda`` without one is the current device."""
    if dev.index is not None:
        return dev.index
    return array_module(dev).cuda.runtime.getDevice()


def on_device(dev: device):
    """A context in which new arrays are made on ``dev`` (CuPy's current device)."""
    if dev.type == "cpu":
        return contextlib.nullcontext()
    return array_module(dev).cuda.Device(cuda_index(dev))


def to_device(arr, dev: device):
    """``arr`` on ``dev``: the same array if it is already there, else a copy."""
    if dev.type == "cpu":
        return as_host(arr)
    cp = array_module(dev)
    index = cuda_index(dev)
    if isinstance(arr, cp.ndarray) and arr.device.id == index:
        return arr
    with cp.cuda.Device(index):
        return cp.asarray(arr)
