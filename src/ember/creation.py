"""Making tensors: from data, filled, ranges, identity, and random."""

from __future__ import annotations

import math
import numbers

import numpy as np

from . import random as _random
from .backend import array_module, to_device
from .device import CPU, device
from .dtype import FROM_NUMPY, _Default, bool_, dtype, float32, from_numpy_dtype, int64
from .ops.shape import shape_arg
from .tensor import Tensor

__all__ = ["tensor", "as_tensor", "from_numpy", "zeros", "ones", "empty", "full", "zeros_like",
           "ones_like", "empty_like", "full_like", "arange", "linspace", "eye", "rand", "randn",
           "randint", "randperm", "normal", "rand_like", "randn_like", "randint_like",
           "scalar_tensor"]


def _device(d) -> device:
    if d is None:
        return CPU
    return d if isinstance(d, device) else device(d)


def _finish(arr, dev, requires_grad: bool) -> Tensor:
    if dev.type != "cpu":
        arr = to_device(arr, dev)
    t = Tensor._make(arr)
    if requires_grad:
        t.requires_grad_(True)
    return t


def _infer_dtype(data) -> dtype:
    """PyTorch's dtype for nested Python data: bool < int64 < default float."""
    kind = _scan(data)
    return {0: bool_, 1: int64, 2: _Default.dtype}.get(kind, _Default.dtype)


def _scan(data) -> int:
    if isinstance(data, Tensor):
        d = data.dtype
        return 2 if d.is_floating_point else (0 if d is bool_ else 1)
    if isinstance(data, (bool, np.bool_)):
        return 0
    if isinstance(data, (numbers.Integral,)):
        return 1
    if isinstance(data, numbers.Real):
        return 2
    if isinstance(data, (list, tuple)):
        return max((_scan(x) for x in data), default=2)
    raise TypeError(f"new(): invalid data type '{type(data).__name__}'")


def _check_ragged(data, depth=0):
    if isinstance(data, (list, tuple)) and data and isinstance(data[0], (list, tuple)):
        n = len(data[0])
        for x in data:
            if not isinstance(x, (list, tuple)):
                raise TypeError(f"expected sequence of length {n} at dim {depth + 1} (got "
                                f"{type(x).__name__})" if False else "not a sequence")
            if len(x) != n:
                raise ValueError(f"expected sequence of length {n} at dim {depth + 1} (got "
                                 f"{len(x)})")
        for x in data:
            _check_ragged(x, depth + 1)


def _to_host_value(x):
    if isinstance(x, Tensor):
        return x.detach()._data if x.ndim else x.item()
    if isinstance(x, (list, tuple)):
        return [_to_host_value(v) for v in x]
    return x


def tensor(data, *, dtype: dtype | None = None, device=None, requires_grad: bool = False,
           pin_memory: bool = False) -> Tensor:
    """A new tensor holding a copy of ``data`` (nested lists, scalars, arrays, tensors)."""
    dev = _device(device)
    if isinstance(data, Tensor):
        arr = data._data.copy() if type(data._data) is np.ndarray else data._data.copy()
        arr = to_device(arr, dev) if dev.type != "cpu" or data.is_cuda else arr
        out = Tensor._make(arr if dtype is None else arr.astype(dtype.np))
        if requires_grad:
            out.requires_grad_(True)
        return out
    if isinstance(data, np.ndarray):
        arr = np.array(data, dtype=dtype.np if dtype else None, copy=True)
        from_numpy_dtype(arr.dtype)
    else:
        if isinstance(data, (list, tuple)):
            _check_ragged(data)
            data = _to_host_value(data)
        inferred = dtype or _infer_dtype(data)
        if isinstance(data, np.generic):
            inferred = dtype or from_numpy_dtype(data.dtype)
        try:
            arr = np.array(data, dtype=inferred.np)
        except (ValueError, OverflowError) as e:
            raise RuntimeError(str(e)) from None
        if arr.dtype == object:
            raise TypeError(f"Could not infer dtype of {type(data).__name__}")
    return _finish(arr, dev, requires_grad)


def as_tensor(data, dtype: dtype | None = None, device=None) -> Tensor:
    """``data`` as a tensor, sharing memory with a tensor or array when dtype and device fit."""
    if isinstance(data, Tensor):
        out = data
        if device is not None:
            out = out.to(device)
        if dtype is not None:
            out = out.to(dtype)
        return out
    if isinstance(data, np.ndarray) and (dtype is None or dtype.np == data.dtype) and \
            _device(device).type == "cpu":
        from_numpy_dtype(data.dtype)
        return Tensor._make(data)
    return tensor(data, dtype=dtype, device=device)


def from_numpy(ndarray: np.ndarray) -> Tensor:
    """A tensor sharing memory with ``ndarray``: writes to either show in both."""
    if not isinstance(ndarray, np.ndarray):
        raise TypeError(f"expected np.ndarray (got {type(ndarray).__name__})")
    from_numpy_dtype(ndarray.dtype)
    return Tensor._make(ndarray)


def scalar_tensor(value, dtype: dtype | None = None, device=None,
                  requires_grad: bool = False) -> Tensor:
    return tensor(value, dtype=dtype or _Default.dtype, device=device,
                  requires_grad=requires_grad)


def _shape(size) -> tuple:
    shape = shape_arg(size)
    for s in shape:
        if not isinstance(s, (int, np.integer)):
            raise TypeError(f"zeros(): argument 'size' must be tuple of ints, but found element "
                            f"of type {type(s).__name__} at pos 0")
        if s < 0:
            raise RuntimeError(f"Trying to create tensor with negative dimension {s}: "
                               f"{list(shape)}")
    return tuple(int(s) for s in shape)


def _filled(fill, size, dtype, device, requires_grad, default=None):
    dev = _device(device)
    dt = dtype or default or _Default.dtype
    xp = array_module(dev)
    shape = _shape(size)
    if fill is None:
        arr = xp.empty(shape, dtype=dt.np)
    elif fill == 0:
        arr = xp.zeros(shape, dtype=dt.np)
    else:
        arr = xp.full(shape, fill, dtype=dt.np)
    t = Tensor._make(arr)
    if requires_grad:
        t.requires_grad_(True)
    return t


def zeros(*size, out=None, dtype=None, layout=None, device=None, requires_grad=False):
    """A tensor of zeros of shape ``size``."""
    return _filled(0, size, dtype, device, requires_grad)


def ones(*size, out=None, dtype=None, layout=None, device=None, requires_grad=False):
    """A tensor of ones of shape ``size``."""
    return _filled(1, size, dtype, device, requires_grad)


def empty(*size, out=None, dtype=None, layout=None, device=None, requires_grad=False,
          pin_memory=False, memory_format=None):
    """An uninitialised tensor of shape ``size``."""
    return _filled(None, size, dtype, device, requires_grad)


def full(size, fill_value, *, out=None, dtype=None, layout=None, device=None,
         requires_grad=False):
    """A tensor of shape ``size`` filled with ``fill_value`` (its dtype inferred from it)."""
    if dtype is None:
        dtype = bool_ if isinstance(fill_value, bool) else int64 if isinstance(
            fill_value, int) else _Default.dtype
    return _filled(fill_value, (tuple(size),), dtype, device, requires_grad)


def _like(fn, input, dtype, device, requires_grad, *args):
    return fn(*args, tuple(input.shape), dtype=dtype or input.dtype,
              device=device if device is not None else input.device,
              requires_grad=requires_grad) if args else fn(
        tuple(input.shape), dtype=dtype or input.dtype,
        device=device if device is not None else input.device, requires_grad=requires_grad)


def zeros_like(input, *, dtype=None, layout=None, device=None, requires_grad=False,
               memory_format=None):
    return _like(zeros, input, dtype, device, requires_grad)


def ones_like(input, *, dtype=None, layout=None, device=None, requires_grad=False,
              memory_format=None):
    return _like(ones, input, dtype, device, requires_grad)


def empty_like(input, *, dtype=None, layout=None, device=None, requires_grad=False,
               memory_format=None):
    return _like(empty, input, dtype, device, requires_grad)


def full_like(input, fill_value, *, dtype=None, layout=None, device=None,
              requires_grad=False, memory_format=None):
    return full(tuple(input.shape), fill_value, dtype=dtype or input.dtype,
                device=device if device is not None else input.device,
                requires_grad=requires_grad)


def arange(start, end=None, step=1, *, out=None, dtype=None, layout=None, device=None,
           requires_grad=False):
    """Values from ``start`` to ``end`` (exclusive) in steps of ``step``."""
    if end is None:
        start, end = 0, start
    vals = [v.item() if isinstance(v, Tensor) else v for v in (start, end, step)]
    start, end, step = vals
    if step == 0:
        raise RuntimeError("step must be nonzero")
    if (end - start) * step < 0:
        raise RuntimeError("upper bound and larger bound inconsistent with step sign")
    if dtype is None:
        dtype = int64 if all(isinstance(v, (int, np.integer)) for v in vals) else _Default.dtype
    n = max(0, math.ceil((end - start) / step))
    if dtype.is_floating_point:
        arr = (start + np.arange(n, dtype=np.float64) * step).astype(dtype.np)
    else:
        arr = np.arange(start, start + n * step, step, dtype=dtype.np)[:n]
    return _finish(arr, _device(device), requires_grad)


def linspace(start, end, steps, *, out=None, dtype=None, layout=None, device=None,
             requires_grad=False):
    """``steps`` evenly spaced values from ``start`` to ``end`` inclusive."""
    if steps < 0:
        raise RuntimeError("number of steps must be non-negative")
    dt = dtype or _Default.dtype
    # PyTorch fills the first half from start and the second half from end.
    step = (end - start) / (steps - 1) if steps > 1 else 0.0
    idx = np.arange(steps, dtype=np.float64)
    half = steps // 2
    vals = np.where(idx < half, start + step * idx, end - step * (steps - 1 - idx))
    if steps == 1:
        vals = np.array([start], dtype=np.float64)
    arr = vals.astype(dt.np) if dt.is_floating_point else np.trunc(vals).astype(dt.np)
    return _finish(arr, _device(device), requires_grad)


def eye(n, m=None, *, out=None, dtype=None, layout=None, device=None, requires_grad=False):
    """A 2-d tensor with ones on the diagonal."""
    if n < 0:
        raise RuntimeError(f"n must be greater or equal to 0, got {n}")
    if m is None:
        m = n
    arr = np.eye(n, m, dtype=(dtype or _Default.dtype).np)
    return _finish(arr, _device(device), requires_grad)


def _float_dtype(dtype, name):
    dt = dtype or _Default.dtype
    if not dt.is_floating_point:
        raise RuntimeError(f'"{name}" not implemented for \'{_cap(dt)}\'')
    return dt


def _cap(dt) -> str:
    return {"int64": "Long", "int32": "Int", "int16": "Short", "int8": "Char", "uint8": "Byte",
            "bool": "Bool"}.get(dt.name, dt.name)


def rand(*size, generator=None, out=None, dtype=None, layout=None, device=None,
         requires_grad=False, pin_memory=False):
    """Uniform random numbers in [0, 1)."""
    dt = _float_dtype(dtype, "check_uniform_bounds")
    arr = _random.rng_of(generator).random(_shape(size), dtype=np.float64).astype(dt.np)
    return _finish(arr, _device(device), requires_grad)


def randn(*size, generator=None, out=None, dtype=None, layout=None, device=None,
          requires_grad=False, pin_memory=False):
    """Standard normal random numbers."""
    dt = _float_dtype(dtype, "normal_kernel_cpu")
    arr = _random.rng_of(generator).standard_normal(_shape(size)).astype(dt.np)
    return _finish(arr, _device(device), requires_grad)


def randint(low, high=None, size=None, *, generator=None, out=None, dtype=None, layout=None,
            device=None, requires_grad=False):
    """Random integers in [low, high) (``randint(high, size)`` starts at 0)."""
    if size is None:
        low, high, size = 0, low, high
    if high is None or size is None:
        raise TypeError("randint() received an invalid combination of arguments")
    if low >= high:
        raise RuntimeError(f"random_ expects 'from' to be less than 'to', but got from={low} >= "
                           f"to={high}")
    dt = dtype or int64
    arr = _random.rng_of(generator).integers(low, high, _shape((tuple(size),)),
                                             dtype=np.int64).astype(dt.np)
    return _finish(arr, _device(device), requires_grad)


def randperm(n, *, generator=None, out=None, dtype=None, layout=None, device=None,
             requires_grad=False, pin_memory=False):
    """A random permutation of ``0 .. n-1``."""
    if n < 0:
        raise RuntimeError(f"n must be non-negative, got{n}")
    arr = _random.rng_of(generator).permutation(n).astype((dtype or int64).np)
    return _finish(arr, _device(device), requires_grad)


def normal(mean=0.0, std=1.0, size=None, *, generator=None, out=None, dtype=None,
           layout=None, device=None, requires_grad=False):
    """Normal random numbers with ``mean`` and ``std`` (each a number or a tensor)."""
    rng = _random.rng_of(generator)
    if isinstance(mean, Tensor) or isinstance(std, Tensor):
        m = mean._data if isinstance(mean, Tensor) else mean
        s = std._data if isinstance(std, Tensor) else std
        if (np.asarray(s) < 0).any():
            raise RuntimeError(f"normal expects all elements of std >= 0.0")
        shape = np.broadcast_shapes(np.shape(m), np.shape(s))
        ref = mean if isinstance(mean, Tensor) else std
        arr = (m + s * rng.standard_normal(shape)).astype(ref._data.dtype)
        return _finish(arr, ref.device, requires_grad)
    if std < 0:
        raise RuntimeError(f"normal expects std >= 0.0, but found std {std}")
    if size is None:
        raise TypeError("normal() missing required argument 'size'")
    dt = _float_dtype(dtype, "normal_kernel_cpu")
    arr = (mean + std * rng.standard_normal(_shape((tuple(size),)))).astype(dt.np)
    return _finish(arr, _device(device), requires_grad)


def rand_like(input, *, dtype=None, layout=None, device=None, requires_grad=False,
              memory_format=None):
    return rand(tuple(input.shape), dtype=dtype or input.dtype,
                device=device or input.device, requires_grad=requires_grad)


def randn_like(input, *, dtype=None, layout=None, device=None, requires_grad=False,
               memory_format=None):
    return randn(tuple(input.shape), dtype=dtype or input.dtype,
                 device=device or input.device, requires_grad=requires_grad)


def randint_like(input, low=0, high=None, *, dtype=None, layout=None, device=None,
                 requires_grad=False, memory_format=None):
    if high is None:
        low, high = 0, low
    return randint(low, high, tuple(input.shape), dtype=dtype or input.dtype,
                   device=device or input.device)


_ = (FROM_NUMPY, float32)
