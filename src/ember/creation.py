"""Making tensors: from data, filled, ranges, identity, and random."""

from __future__ import annotations

import builtins
import math

import numpy as np

from . import random as _random
from .backend import array_module, on_device, to_device
from .device import CPU, device
from .dtype import (
    CPP_TYPE_NAMES,
    OVERFLOW_TYPE_NAMES,
    SCALAR_TYPE_NAMES,
    _Default,
    bool_,
    dtype,
    from_numpy_dtype,
    int64,
    promote_types,
)
from .ops._apply import apply
from .ops.inplace import checked_fill_value
from .ops.registry import defop
from .tensor import Tensor

__all__ = ["tensor", "as_tensor", "from_numpy", "zeros", "ones", "empty", "full", "zeros_like",
           "ones_like", "empty_like", "full_like", "arange", "linspace", "eye", "rand", "randn",
           "randint", "randperm", "normal", "rand_like", "randn_like", "randint_like",
           "scalar_tensor", "hann_window", "hamming_window"]

_REQUIRES_GRAD_ERROR = "Only Tensors of floating point and complex dtype can require gradients"
_NEGATIVE_STRIDES = (
    "At least one stride in the given numpy array is negative, and tensors with negative "
    "strides are not currently supported. (You can probably work around this by making a copy "
    "of your array  with array.copy().) "
)


def _device(d) -> device:
    if d is None:
        return CPU
    return d if isinstance(d, device) else device(d)


def _finish(arr, dev: device, requires_grad: bool) -> Tensor:
    """Wrap ``arr`` (a NumPy array) on ``dev``, requiring grad if asked."""
    if dev.type != "cpu":
        arr = to_device(arr, dev)
    t = Tensor._make(arr)
    if requires_grad:
        if arr.dtype.kind != "f":
            raise RuntimeError(_REQUIRES_GRAD_ERROR)
        t._rg = True
    return t


def _check_strides(arr: np.ndarray) -> None:
    if builtins.any(s < 0 for s in arr.strides):
        raise ValueError(_NEGATIVE_STRIDES)


# ---- tensor(data): dtype inference and shape checks -------------------------------------
def _leaf_dtype(x):
    """The dtype a scalar inside ``data`` contributes (None for a non-scalar)."""
    tp = type(x)
    if tp is float:
        return _Default.dtype
    if tp is int:
        return int64
    if tp is bool:
        return bool_
    if isinstance(x, np.generic):
        return from_numpy_dtype(x.dtype)
    if isinstance(x, Tensor):
        if x.numel() != 1:
            raise TypeError("only integer tensors of a single element can be converted to an "
                            "index")
        return x.dtype
    if isinstance(x, np.ndarray) and x.ndim == 0:
        return from_numpy_dtype(x.dtype)
    if isinstance(x, float):
        return _Default.dtype
    if isinstance(x, int):
        return _leaf_dtype(builtins.int(x)) if not isinstance(x, bool) else bool_
    return None


def _sizes(data) -> list:
    """The shape of nested sequences, read down the first element of each level."""
    sizes = []
    obj = data
    while True:
        if isinstance(obj, (list, tuple, range)):
            sizes.append(len(obj))
            if not obj:
                return sizes
            obj = obj[0]
        elif isinstance(obj, np.ndarray):
            if obj.ndim == 0 and sizes:  # PyTorch takes the length of each first element
                raise TypeError("len() of unsized object")
            sizes.extend(obj.shape)
            return sizes
        elif isinstance(obj, str):
            raise ValueError("too many dimensions 'str'")
        else:
            return sizes


class _Scan:
    """What a walk over nested data found: element dtypes, tensors, misplaced sequences."""

    __slots__ = ("dtypes", "has_tensors", "bad_leaf", "ints", "numpy_bool")

    def __init__(self) -> None:
        self.dtypes = set()
        self.has_tensors = False
        self.bad_leaf = None
        self.ints = []  # the extremes of the Python ints seen
        self.numpy_bool = False  # a NumPy bool scalar, which PyTorch cannot read as an int


def _walk(obj, sizes, dim: int, scan: _Scan) -> None:
    """Check ``obj`` against ``sizes[dim:]`` (PyTorch's errors) and note its element dtypes."""
    if isinstance(obj, np.ndarray):
        want = tuple(sizes[dim:])
        if obj.shape != want:
            for k, (got, exp) in enumerate(zip(obj.shape, want)):
                if got != exp:
                    raise ValueError(f"expected sequence of length {exp} at dim {dim + k} "
                                     f"(got {got})")
            raise ValueError(f"expected sequence of length {want[0]} at dim {dim} (got 0)")
        scan.dtypes.add(from_numpy_dtype(obj.dtype))
        return
    if not isinstance(obj, (list, tuple, range)):
        raise TypeError("not a sequence")
    n = sizes[dim]
    if len(obj) != n:
        raise ValueError(f"expected sequence of length {n} at dim {dim} (got {len(obj)})")
    if dim + 1 < len(sizes):
        for x in obj:
            _walk(x, sizes, dim + 1, scan)
        return
    kinds = set(map(type, obj))
    if kinds <= {float, int, bool}:  # the common case: a row of Python numbers
        if float in kinds:
            scan.dtypes.add(_Default.dtype)
        if int in kinds:
            scan.dtypes.add(int64)
            scan.ints += (builtins.max(obj), builtins.min(obj))
        if bool in kinds:
            scan.dtypes.add(bool_)
        return
    for x in obj:
        d = _leaf_dtype(x)
        if d is None:
            if isinstance(x, (list, tuple, np.ndarray)):
                scan.bad_leaf = scan.bad_leaf or type(x).__name__
                continue
            if isinstance(x, str):
                raise ValueError("too many dimensions 'str'")
            raise RuntimeError(f"Could not infer dtype of {type(x).__name__}")
        if isinstance(x, Tensor):
            scan.has_tensors = True
        elif isinstance(x, np.bool_):
            scan.numpy_bool = True
        elif type(x) is int:
            scan.ints.append(x)
        scan.dtypes.add(d)


def _inferred(dtypes) -> dtype:
    out = None
    for d in dtypes:
        out = d if out is None else promote_types(out, d)
    return out or _Default.dtype


def _plain(obj):
    """Nested data with tensors replaced by their values (for NumPy's conversion)."""
    if isinstance(obj, Tensor):
        return obj.detach().numpy(force=True).reshape(())
    if isinstance(obj, (list, tuple)):
        return [_plain(x) for x in obj]
    return obj


def _integer_bounds(dt: dtype):
    info = np.iinfo(dt.np)
    # PyTorch lets negative values wrap into unsigned types, down to -max.
    return (info.min if dt.is_signed else -builtins.int(info.max), builtins.int(info.max))


def _overflow(dt: dtype) -> RuntimeError:
    return RuntimeError(f"value cannot be converted to type {dt.name} without overflow")


def _from_sequence(data, dt: dtype | None) -> np.ndarray:
    sizes = _sizes(data)
    scan = _Scan()
    if sizes:
        _walk(data, sizes, 0, scan)
    else:  # a scalar
        scan.dtypes.add(_leaf_dtype(data))
        scan.has_tensors = isinstance(data, Tensor)
        if type(data) is int:
            scan.ints.append(data)
    inferred = _inferred(scan.dtypes)
    target = dt or inferred
    if not target.is_floating_point and scan.ints and \
            (builtins.max(scan.ints) >= (1 << 63) or builtins.min(scan.ints) < -(1 << 63)):
        raise ValueError("Overflow when unpacking long long")
    if scan.numpy_bool and target is not bool_ and not target.is_floating_point:
        raise TypeError("'numpy.bool' object cannot be interpreted as an integer")
    if scan.bad_leaf is not None:
        if target.is_floating_point:
            raise TypeError(f"must be real number, not {scan.bad_leaf}")
        raise TypeError(f"'{scan.bad_leaf}' object cannot be interpreted as an integer")
    if scan.has_tensors:
        data = _plain(data)
    if target is bool_ or target.is_floating_point:
        # Through float64 so that a float64 target gets Python floats exactly.
        src = np.float64 if inferred.is_floating_point else inferred.np
        return np.array(data, dtype=src).reshape(sizes).astype(target.np)
    values = np.array(data, dtype=np.float64 if inferred.is_floating_point else np.int64)
    values = values.reshape(sizes)
    if values.size:
        lo, hi = _integer_bounds(target)
        if values.dtype.kind == "f" and not np.isfinite(values).all() or \
                values.min() < lo or values.max() > hi:
            raise _overflow(target)
    return values.astype(target.np)


def tensor(data, *, dtype: dtype | None = None, device=None, requires_grad: bool = False,
           pin_memory: bool = False) -> Tensor:
    """Construct a tensor with no autograd history by copying ``data``.

    ``data`` may be a Python scalar, a (nested) list or tuple, a NumPy array or scalar, or a
    tensor. Without ``dtype`` the type is inferred as PyTorch does: Python floats give the
    default dtype, ints ``int64``, bools ``bool``, NumPy values keep their dtype, and mixed
    data promotes.
    """
    dev = _device(device)
    if isinstance(data, Tensor):
        arr = data.detach().numpy(force=True).copy()
        if dtype is not None:
            arr = arr.astype(dtype.np)
        return _finish(arr, dev if device is not None else data.device, requires_grad)
    if isinstance(data, np.ndarray):
        from_numpy_dtype(data.dtype)
        _check_strides(data)
        arr = np.array(data, dtype=dtype.np if dtype is not None else None, copy=True)
        return _finish(arr, dev, requires_grad)
    if isinstance(data, np.generic):
        from_numpy_dtype(data.dtype)
        arr = np.array(data, dtype=dtype.np if dtype is not None else None)
        return _finish(arr, dev, requires_grad)
    if isinstance(data, str):
        raise TypeError("new(): invalid data type 'str'")
    if not isinstance(data, (list, tuple, range)) and _leaf_dtype(data) is None:
        raise RuntimeError(f"Could not infer dtype of {type(data).__name__}")
    return _finish(_from_sequence(data, dtype), dev, requires_grad)


def as_tensor(data, dtype: dtype | None = None, device=None) -> Tensor:
    """``data`` as a tensor, sharing memory with a tensor or NumPy array when its dtype and
    device already fit, else a copy (like ``tensor``)."""
    if isinstance(data, Tensor):
        out = data
        if device is not None:
            out = out.to(device)
        if dtype is not None:
            out = out.to(dtype)
        return out
    if isinstance(data, np.ndarray) and _device(device).type == "cpu":
        from_numpy_dtype(data.dtype)
        _check_strides(data)
        if dtype is None or dtype.np == data.dtype:
            return Tensor._make(data)
    return tensor(data, dtype=dtype, device=device)


def from_numpy(ndarray: np.ndarray) -> Tensor:
    """A tensor sharing memory with ``ndarray``: writes to either show in both."""
    if not isinstance(ndarray, np.ndarray):
        raise TypeError(f"expected np.ndarray (got {type(ndarray).__name__})")
    from_numpy_dtype(ndarray.dtype)
    _check_strides(ndarray)
    return Tensor._make(ndarray)


def scalar_tensor(value, *, dtype: dtype | None = None, device=None,
                  requires_grad: bool = False) -> Tensor:
    """A 0-d tensor holding ``value`` (in the default dtype unless ``dtype`` is given)."""
    return tensor(value, dtype=dtype or _Default.dtype, device=device,
                  requires_grad=requires_grad)


# ---- sizes ------------------------------------------------------------------------------
def _as_int(x):
    if isinstance(x, (builtins.int, np.integer)) and not isinstance(x, (bool, np.bool_)):
        return builtins.int(x)
    if isinstance(x, Tensor) and x.ndim == 0 and x.dtype.np.kind in "iu":
        return builtins.int(x.item())
    return None


def _size(name: str, size, *, what: str = "size") -> tuple:
    """Sizes given as ``f(2, 3)``, ``f((2, 3))``, ``f([2, 3])`` or ``f(Size)``, with
    PyTorch's errors for anything else."""
    if len(size) > 1 and isinstance(size[0], (tuple, list)):
        raise TypeError(f"{name}() takes 1 positional argument but {len(size)} were given")
    if len(size) == 1 and _as_int(size[0]) is None:
        seq = size[0]
        if not isinstance(seq, (tuple, list)):
            raise TypeError(f"{name}(): argument '{what}' (position 1) must be tuple of ints, "
                            f"not {type(seq).__name__}")
        size = seq
    shape = []
    for k, s in enumerate(size):
        v = _as_int(s)
        if v is None:
            raise TypeError(f"{name}(): argument '{what}' failed to unpack the object at pos "
                            f"{k + 1} with error \"type must be tuple of ints,but got "
                            f"{type(s).__name__}\"")
        shape.append(v)
    for v in shape:
        if v < 0:
            if name == "zeros":
                raise RuntimeError("zeros: Dimension size must be non-negative.")
            raise RuntimeError(f"Trying to create tensor with negative dimension {v}: {shape}")
    return tuple(shape)


def _fill_dtype(value) -> dtype:
    if isinstance(value, Tensor):
        return value.dtype
    if isinstance(value, (bool, np.bool_)):
        return bool_
    if isinstance(value, (builtins.int, np.integer)):
        return int64
    return _Default.dtype


def _filled(fill, shape: tuple, dt: dtype, dev: device, requires_grad: bool) -> Tensor:
    xp = array_module(dev)
    with on_device(dev):
        if fill is None:
            arr = xp.empty(shape, dtype=dt.np)
        elif type(fill) in (builtins.int, bool) and fill == 0:
            arr = xp.zeros(shape, dtype=dt.np)
        else:
            arr = xp.full(shape, checked_fill_value(fill, dt), dtype=dt.np)
    t = Tensor._make(arr)
    if requires_grad:
        if not dt.is_floating_point:
            raise RuntimeError(_REQUIRES_GRAD_ERROR)
        t._rg = True
    return t


def zeros(*args, size=None, out=None, dtype: dtype | None = None, layout=None, device=None,
          requires_grad: bool = False, pin_memory: bool = False) -> Tensor:
    """A tensor filled with the scalar value 0, of the shape given by ``size``."""
    return _filled(0, _size("zeros", args if size is None else (size,)),
                   dtype or _Default.dtype, _device(device), requires_grad)


def ones(*args, size=None, out=None, dtype: dtype | None = None, layout=None, device=None,
         requires_grad: bool = False, pin_memory: bool = False) -> Tensor:
    """A tensor filled with the scalar value 1, of the shape given by ``size``."""
    return _filled(1, _size("ones", args if size is None else (size,)),
                   dtype or _Default.dtype, _device(device), requires_grad)


def empty(*args, size=None, out=None, dtype: dtype | None = None, layout=None, device=None,
          requires_grad: bool = False, pin_memory: bool = False,
          memory_format=None) -> Tensor:
    """A tensor with uninitialized data, of the shape given by ``size``."""
    return _filled(None, _size("empty", args if size is None else (size,)),
                   dtype or _Default.dtype, _device(device), requires_grad)


def full(size, fill_value, *, out=None, dtype: dtype | None = None, layout=None, device=None,
         requires_grad: bool = False, pin_memory: bool = False) -> Tensor:
    """A tensor of shape ``size`` filled with ``fill_value``; its dtype is inferred from
    ``fill_value`` (bool, int64 or the default float dtype) unless given."""
    if _as_int(size) is not None or not isinstance(size, (tuple, list)):
        raise TypeError(f"full(): argument 'size' (position 1) must be tuple of ints, not "
                        f"{type(size).__name__}")
    return _filled(fill_value, _size("full", (size,)), dtype or _fill_dtype(fill_value),
                   _device(device), requires_grad)


def _like_device(input: Tensor, device):
    return _device(device) if device is not None else input.device


def zeros_like(input: Tensor, *, dtype: dtype | None = None, layout=None, device=None,
               requires_grad: bool = False, memory_format=None) -> Tensor:
    """A tensor of zeros with the shape (and by default dtype and device) of ``input``."""
    return _filled(0, tuple(input.shape), dtype or input.dtype, _like_device(input, device),
                   requires_grad)


def ones_like(input: Tensor, *, dtype: dtype | None = None, layout=None, device=None,
              requires_grad: bool = False, memory_format=None) -> Tensor:
    """A tensor of ones with the shape (and by default dtype and device) of ``input``."""
    return _filled(1, tuple(input.shape), dtype or input.dtype, _like_device(input, device),
                   requires_grad)


def empty_like(input: Tensor, *, dtype: dtype | None = None, layout=None, device=None,
               requires_grad: bool = False, memory_format=None) -> Tensor:
    """An uninitialized tensor with the shape (and by default dtype and device) of ``input``."""
    return _filled(None, tuple(input.shape), dtype or input.dtype,
                   _like_device(input, device), requires_grad)


def full_like(input: Tensor, fill_value, *, dtype: dtype | None = None, layout=None,
              device=None, requires_grad: bool = False, memory_format=None) -> Tensor:
    """A tensor filled with ``fill_value`` with the shape (and by default dtype and device)
    of ``input``."""
    return _filled(fill_value, tuple(input.shape), dtype or input.dtype,
                   _like_device(input, device), requires_grad)


# ---- ranges -----------------------------------------------------------------------------
def _number(x):
    if isinstance(x, Tensor):
        return x.item()
    if isinstance(x, np.generic):
        return x.item()
    return x


def _fmt(x) -> str:
    """A number the way PyTorch's messages print it (``5``, ``nan``, ``0.5``)."""
    return format(x, "g") if isinstance(x, builtins.float) else str(x)


def arange(start, end=None, step=1, *, out=None, dtype: dtype | None = None, layout=None,
           device=None, requires_grad: bool = False) -> Tensor:
    """A 1-d tensor of values from ``start`` (default 0) up to, not including, ``end``, in
    steps of ``step``. Its length is ``ceil((end - start) / step)``; the dtype is int64 when
    every argument is an integer, else the default float dtype."""
    if end is None:
        start, end = 0, start
    start, end, step = _number(start), _number(end), _number(step)
    if dtype is None:
        ints = builtins.all(isinstance(v, builtins.int) for v in (start, end, step))
        dtype = int64 if ints else _Default.dtype
    if dtype is bool_:
        raise NotImplementedError("\"arange_cpu\" not implemented for 'Bool'")
    for v in (start, end):
        if not math.isfinite(v):
            raise RuntimeError(f"unsupported range: {_fmt(start)} -> {_fmt(end)}")
    if step == 0:
        raise RuntimeError("step must be nonzero")
    if dtype is int64:
        # PyTorch converts every bound to int64 first (truncating) for int64 results.
        start, end, step = builtins.int(start), builtins.int(end), builtins.int(step)
        if step == 0:
            raise ValueError("step must be nonzero")
    if not (step > 0 and end >= start or step < 0 and end <= start):
        raise RuntimeError("upper bound and lower bound inconsistent with step sign")
    if dtype is int64:
        sign = 1 if step > 0 else -1
        n = (end - start + step - sign) // step
        arr = start + step * np.arange(n, dtype=np.int64)
    elif not dtype.is_floating_point:
        n = math.ceil((builtins.float(end) - builtins.float(start)) / builtins.float(step))
        arr = (builtins.int(start) + builtins.int(step) * np.arange(n, dtype=np.int64))
        arr = arr.astype(dtype.np)
    else:
        n = math.ceil((end - start) / step)
        # PyTorch accumulates in double (float for half) and rounds once.
        acc = np.float32 if dtype.np == np.float16 else np.float64
        arr = (acc(start) + acc(step) * np.arange(n, dtype=acc)).astype(dtype.np)
    return _finish(arr, _device(device), requires_grad)


_WIDER = {np.float16: np.float16, np.float32: np.float64, np.float64: np.longdouble}


def linspace(start, end, steps: int, *, out=None, dtype: dtype | None = None, layout=None,
             device=None, requires_grad: bool = False) -> Tensor:
    """``steps`` evenly spaced values from ``start`` to ``end``, both included."""
    if not isinstance(steps, (builtins.int, np.integer)) or isinstance(steps, bool):
        raise TypeError(
            "linspace() received an invalid combination of arguments - got "
            f"({type(start).__name__}, {type(end).__name__}, {type(steps).__name__}), but "
            "expected one of:\n" + "".join(
                f" * ({a} start, {b} end, int steps, *, Tensor out = None, ember.dtype dtype = "
                "None, ember.layout layout = None, ember.device device = None, bool pin_memory "
                "= False, bool requires_grad = False)\n"
                for a, b in (("Tensor", "Tensor"), ("Number", "Tensor"), ("Tensor", "Number"),
                             ("Number", "Number"))))
    if steps < 0:
        raise RuntimeError("number of steps must be non-negative")
    dt = dtype or _Default.dtype
    if dt is bool_:
        raise NotImplementedError("\"linspace_cpu\" not implemented for 'Bool'")
    start, end = _number(start), _number(end)
    steps = builtins.int(steps)
    half = steps // 2
    if steps == 1:
        arr = np.array([_number(start)]).astype(dt.np)
    elif dt.is_floating_point:
        # As PyTorch does: the step in the result's precision, the first half counted up
        # from ``start`` and the second half down from ``end``, each value one fused
        # multiply-add (emulated in a wider type) rounded once; half precision rounds at
        # every operation.
        f = dt.np.type
        s, e = f(start), f(end)
        step = (e - s) / f(steps - 1)
        wide = _WIDER[dt.np.type]
        idx = np.arange(half, dtype=wide)
        rev = np.arange(steps - half - 1, -1, -1, dtype=wide)
        if wide is f:
            up, down = s + step * idx, e - step * rev
        else:
            ws, we, wstep = wide(s), wide(e), wide(step)
            up, down = ws + wstep * idx, we - wstep * rev
        arr = np.concatenate([up, down]).astype(dt.np)
    else:
        s = builtins.float(builtins.int(start))
        e = builtins.float(builtins.int(end))
        step = np.longdouble((e - s) / (steps - 1))
        up = np.longdouble(s) + step * np.arange(half, dtype=np.longdouble)
        down = np.longdouble(e) - step * np.arange(steps - half - 1, -1, -1,
                                                   dtype=np.longdouble)
        arr = np.trunc(np.concatenate([up, down]).astype(np.float64)).astype(dt.np)
    return _finish(arr, _device(device), requires_grad)


def eye(n: int, m: int | None = None, *, out=None, dtype: dtype | None = None, layout=None,
        device=None, requires_grad: bool = False) -> Tensor:
    """A 2-d tensor with ones on the diagonal and zeros elsewhere (``n`` rows, ``m`` columns,
    ``m`` defaulting to ``n``)."""
    for name, v in (("n", n), ("m", m)):
        if v is not None and _as_int(v) is None:
            raise TypeError(f"eye(): argument '{name}' (position {1 if name == 'n' else 2}) "
                            f"must be int, not {type(v).__name__}")
    if n < 0:
        raise RuntimeError(f"n must be greater or equal to 0, got {n}")
    if m is None:
        m = n
    if m < 0:
        raise RuntimeError(f"m must be greater or equal to 0, got {m}")
    arr = np.eye(builtins.int(n), builtins.int(m), dtype=(dtype or _Default.dtype).np)
    return _finish(arr, _device(device), requires_grad)


# ---- windows ----------------------------------------------------------------------------
def _window(name: str, window_length, periodic, alpha: float, beta: float, dt, dev,
            requires_grad: bool) -> Tensor:
    """``alpha - beta * cos(2 pi n / (N - 1))`` for n in [0, N), computed in the window's
    dtype step by step as PyTorch does; a periodic window is the first ``window_length``
    values of the symmetric window one longer."""
    if _as_int(window_length) is None:
        raise TypeError(f"{name}(): argument 'window_length' (position 1) must be int, not "
                        f"{type(window_length).__name__}")
    if not isinstance(periodic, (bool, np.bool_)):
        raise TypeError(f"{name}(): argument 'periodic' (position 2) must be bool, not "
                        f"{type(periodic).__name__}")
    dt = dt or _Default.dtype
    dev = _device(dev)
    if not dt.is_floating_point:
        raise RuntimeError(
            f"{name} expects floating point dtypes, got: TensorOptions(dtype="
            f"{CPP_TYPE_NAMES[dt.name]}, device={dev}, layout=Strided (default), "
            f"requires_grad={str(builtins.bool(requires_grad)).lower()}"
            f"{'' if requires_grad else ' (default)'}, pinned_memory=false, "
            "memory_format=(nullopt))")
    n = builtins.int(window_length)
    if n < 0:
        raise RuntimeError(f"{name} requires non-negative window_length, got window_length={n}")
    f = dt.np.type
    if n <= 1:
        arr = np.ones(n, dtype=f)
    else:
        m = n + 1 if periodic else n
        arr = np.arange(m, dtype=f) * f(math.pi * 2.0 / (m - 1))
        arr = (np.cos(arr) * f(-beta) + f(alpha))[:n]
        arr = np.ascontiguousarray(arr)
    return _finish(arr, dev, requires_grad)


def hann_window(window_length: int, periodic: bool = True, *, dtype: dtype | None = None,
                layout=None, device=None, pin_memory: bool = False,
                requires_grad: bool = False) -> Tensor:
    """The Hann window, ``0.5 - 0.5 * cos(2 pi n / (N - 1))`` for n in [0, N).

    With ``periodic=True`` (the default, for spectral analysis) N is ``window_length + 1``
    and the last value is dropped, so the window repeats with period ``window_length``;
    otherwise N is ``window_length`` and the window is symmetric. A window of length 1 is
    ``[1.]``, of length 0 empty. The dtype must be floating (the default dtype if None).
    """
    return _window("hann_window", window_length, periodic, 0.5, 0.5, dtype, device,
                   requires_grad)


def hamming_window(window_length: int, periodic: bool = True, alpha: float = 0.54,
                   beta: float = 0.46, *, dtype: dtype | None = None, layout=None,
                   device=None, pin_memory: bool = False,
                   requires_grad: bool = False) -> Tensor:
    """The Hamming window, ``alpha - beta * cos(2 pi n / (N - 1))`` for n in [0, N).

    ``periodic`` as in ``hann_window``; ``alpha=0.5, beta=0.5`` gives the Hann window.
    """
    return _window("hamming_window", window_length, periodic, builtins.float(alpha),
                   builtins.float(beta), dtype, device, requires_grad)


# ---- random -----------------------------------------------------------------------------
def _float_dtype(dt: dtype, kernel: str) -> dtype:
    if not dt.is_floating_point:
        raise NotImplementedError(f'"{kernel}" not implemented for '
                                  f"'{SCALAR_TYPE_NAMES[dt.name]}'")
    return dt


def _got(*args, **kwargs) -> str:
    """The type names of the given arguments, as PyTorch's argument errors list them."""
    names = [type(a).__name__ for a in args]
    names += [f"{k}={type(v).__name__}" for k, v in kwargs.items() if v is not None]
    return ", ".join(names)


def _rng(generator, name: str, args: tuple, size=None) -> np.random.Generator:
    """``random.rng_of(generator)`` for op ``name`` called with ``args`` (and ``size=``), whose
    type names its error lists (worked out only for a bad ``generator``)."""
    if generator is None or isinstance(generator, _random.Generator):
        return _random.rng_of(generator)
    return _random.rng_of(generator, name, _got(*args, size=size))


def rand(*args, size=None, generator=None, out=None, dtype: dtype | None = None, layout=None,
         device=None, requires_grad: bool = False, pin_memory: bool = False) -> Tensor:
    """Random numbers drawn uniformly from [0, 1), of the shape given by ``size``."""
    rng = _rng(generator, "rand", args, size)
    shape = _size("rand", args if size is None else (size,))
    dt = _float_dtype(dtype or _Default.dtype, "check_uniform_bounds")
    arr = rng.random(shape, dtype=np.float64).astype(dt.np)
    return _finish(arr, _device(device), requires_grad)


def randn(*args, size=None, generator=None, out=None, dtype: dtype | None = None, layout=None,
          device=None, requires_grad: bool = False, pin_memory: bool = False) -> Tensor:
    """Random numbers from the standard normal distribution, of the shape ``size``."""
    rng = _rng(generator, "randn", args, size)
    shape = _size("randn", args if size is None else (size,))
    dt = _float_dtype(dtype or _Default.dtype, "normal_kernel_cpu")
    arr = rng.standard_normal(shape).astype(dt.np)
    return _finish(arr, _device(device), requires_grad)


class _NoLow:
    """``randint``'s default ``low``: told apart from a ``low`` that was given."""

    __slots__ = ()

    def __repr__(self) -> str:
        return "0"


_NO_LOW = _NoLow()
_RANDINT_C_NAMES = {"uint8": "unsigned char", "int8": "signed char", "int16": "short",
                    "int32": "int", "int64": "long", "bool": "bool"}


def randint(low=_NO_LOW, high=None, size=None, *, generator=None, out=None,
            dtype: dtype | None = None, layout=None, device=None,
            requires_grad: bool = False, pin_memory: bool = False) -> Tensor:
    """Random integers drawn uniformly from [``low``, ``high``); ``randint(high, size)``
    starts at 0. The dtype defaults to int64."""
    given = [a for a in (low, high, size) if a is not None and a is not _NO_LOW]
    short_form = size is None or high is None  # randint(high, size)
    if size is None:
        low, high, size = 0, low, high
    elif high is None:
        low, high = 0, low
    elif low is _NO_LOW:  # randint(high=..., size=...)
        low = 0
    if high is None or size is None or high is _NO_LOW:
        raise TypeError(f"randint() received an invalid combination of arguments - got "
                        f"({_got(*given)})")
    rng = _rng(generator, "randint", given)
    if short_form:
        if _as_int(high) is None:
            raise TypeError(f"randint(): argument 'high' (position 1) must be int, not "
                            f"{type(high).__name__}")
    elif _as_int(low) is None or _as_int(high) is None or \
            not isinstance(size, (tuple, list)):
        got = ", ".join(type(a).__name__ for a in (low, high, size))
        raise TypeError(f"randint() received an invalid combination of arguments - got ({got})")
    if not isinstance(size, (tuple, list)):
        raise TypeError(f"randint(): argument 'size' (position 2) must be tuple of ints, not "
                        f"{type(size).__name__}")
    low, high = builtins.int(low), builtins.int(high)
    for v in (low, high):
        if not -(1 << 63) <= v < (1 << 63):
            raise ValueError("Overflow when unpacking long long")
    shape = _size("randint", (size,))
    dt = dtype or int64
    if low >= high:
        raise RuntimeError(f"random_ expects 'from' to be less than 'to', but got from={low} "
                           f">= to={high}")
    if not dt.is_floating_point:
        lo, hi = (0, 1) if dt is bool_ else (np.iinfo(dt.np).min, np.iinfo(dt.np).max)
        if not lo <= low <= hi:
            raise RuntimeError(f"from is out of bounds for {_RANDINT_C_NAMES[dt.name]}")
        if not lo <= high - 1 <= hi:
            raise RuntimeError(f"to - 1 is out of bounds for {_RANDINT_C_NAMES[dt.name]}")
    arr = rng.integers(low, high, shape, dtype=np.int64).astype(dt.np)
    return _finish(arr, _device(device), requires_grad)


def randperm(n: int, *, generator=None, out=None, dtype: dtype | None = None, layout=None,
             device=None, requires_grad: bool = False, pin_memory: bool = False) -> Tensor:
    """A random permutation of the integers ``0 .. n - 1`` (int64 unless ``dtype``)."""
    rng = _rng(generator, "randperm", (n,))
    if _as_int(n) is None:
        raise TypeError(f"randperm(): argument 'n' (position 1) must be int, not "
                        f"{type(n).__name__}")
    if n < 0:
        raise RuntimeError(f"Trying to create tensor with negative dimension {n}: [{n}]")
    dt = dtype or int64
    if dt is bool_:
        raise NotImplementedError("\"randperm\" not implemented for 'Bool'")
    if not dt.is_floating_point and n > 0 and \
            n - 1 > np.iinfo(dt.np).max:
        raise RuntimeError(f"value cannot be converted to type {OVERFLOW_TYPE_NAMES[dt.name]} "
                           "without overflow")
    arr = rng.permutation(builtins.int(n)).astype(dt.np)
    return _finish(arr, _device(device), requires_grad)


def normal(mean=0.0, std=1.0, size=None, *, generator=None, out=None,
           dtype: dtype | None = None, layout=None, device=None,
           requires_grad: bool = False) -> Tensor:
    """Random numbers from normal distributions with the given ``mean`` and ``std``.

    Either may be a tensor (the result takes their broadcast shape, and gradients flow to
    them); with two numbers, ``size`` gives the shape.
    """
    rng = _rng(generator, "normal", (mean, std) if size is None else (mean, std, size))
    if isinstance(mean, Tensor) or isinstance(std, Tensor):
        if size is not None:  # no overload takes a tensor and a size
            raise TypeError(f"normal() received an invalid combination of arguments - got "
                            f"({type(mean).__name__}, {type(std).__name__}, "
                            f"{type(size).__name__})")
        ref = mean if isinstance(mean, Tensor) else std
        for x in (mean, std):
            if isinstance(x, Tensor):
                _float_dtype(x.dtype, "normal_kernel_cpu")
        if isinstance(std, Tensor):
            if (std.detach().numpy(force=True) < 0).any():
                raise RuntimeError("normal expects all elements of std >= 0.0")
        elif std < 0:
            raise RuntimeError(f"normal expects std >= 0.0, but found std {_fmt(std)}")
        shapes = [tuple(x.shape) for x in (mean, std) if isinstance(x, Tensor)]
        try:
            shape = np.broadcast_shapes(*shapes)
        except ValueError:
            from .ops._apply import broadcast_error
            raise broadcast_error(*shapes) from None
        noise = rng.standard_normal(shape).astype(ref.dtype.np)
        if ref.device != CPU:
            noise = to_device(noise, ref.device)
        m = mean if isinstance(mean, Tensor) else builtins.float(mean)
        s = std if isinstance(std, Tensor) else builtins.float(std)
        op = _NORMAL[(isinstance(mean, Tensor), isinstance(std, Tensor))]
        return apply(op, (m, s), {"noise": noise})
    if size is None:
        raise TypeError(f"normal() received an invalid combination of arguments - got "
                        f"({type(mean).__name__}, {type(std).__name__})")
    if std < 0:
        raise RuntimeError(f"normal expects std >= 0.0, but found std {_fmt(std)}")
    shape = _size("normal", (size,))
    dt = _float_dtype(dtype or _Default.dtype, "normal_kernel_cpu")
    arr = (mean + std * rng.standard_normal(shape)).astype(dt.np)
    return _finish(arr, _device(device), requires_grad)


def _normal_forward(mean, std, noise):
    out = mean + std * noise
    return out if out.dtype == noise.dtype else out.astype(noise.dtype)


def _no_grad(grad):
    # PyTorch does not differentiate through the sampling: the gradient is zero.
    return zeros_like(grad)


_NORMAL = {
    (True, False): defop("normal", inputs=("mean", "std"), node="NormalBackward1",
                         forward=_normal_forward, derivatives={"mean": _no_grad}),
    (False, True): defop("normal", inputs=("mean", "std"), node="NormalBackward2",
                         forward=_normal_forward, derivatives={"std": _no_grad}),
    (True, True): defop("normal", inputs=("mean", "std"), node="NormalBackward3",
                        forward=_normal_forward, derivatives={"mean": _no_grad,
                                                              "std": _no_grad}),
}


def rand_like(input: Tensor, *, dtype: dtype | None = None, layout=None, device=None,
              requires_grad: bool = False, memory_format=None) -> Tensor:
    """``rand`` with the shape (and by default dtype and device) of ``input``."""
    return rand(tuple(input.shape), dtype=dtype or input.dtype,
                device=_like_device(input, device), requires_grad=requires_grad)


def randn_like(input: Tensor, *, dtype: dtype | None = None, layout=None, device=None,
               requires_grad: bool = False, memory_format=None) -> Tensor:
    """``randn`` with the shape (and by default dtype and device) of ``input``."""
    return randn(tuple(input.shape), dtype=dtype or input.dtype,
                 device=_like_device(input, device), requires_grad=requires_grad)


def randint_like(input: Tensor, low=0, high=None, *, dtype: dtype | None = None, layout=None,
                 device=None, requires_grad: bool = False, memory_format=None) -> Tensor:
    """``randint`` with the shape (and by default dtype and device) of ``input``;
    ``randint_like(input, high)`` starts at 0."""
    if high is None:
        low, high = 0, low
    return randint(low, high, tuple(input.shape), dtype=dtype or input.dtype,
                   device=_like_device(input, device), requires_grad=requires_grad)

