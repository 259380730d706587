"""Running a declared op: dtype promotion, device checks, the forward, and recording.

These are the hot paths: a forward op on a small tensor reads a few attributes, calls one
array function, wraps the result and (when a graph is being built) makes one node.
"""

from __future__ import annotations

import warnings

import numpy as np

from ..autograd.anomaly_mode import AnomalyMode, user_frame
from ..autograd.forward_grad import AfterOp, ForwardAD
from ..autograd.grad_mode import GradMode
from ..backend.threads import MEMORY_THRESHOLD as _PARALLEL_MIN_MEMORY
from ..backend.threads import THRESHOLD as _PARALLEL_MIN
from ..backend.threads import elementwise as _parallel
from ..dtype import _Default, result_type
from .registry import Bound, record, record_binary, record_unary
from .scalars import FAST_FLOATS
from .scalars import SCALAR_ARRAYS as _SCALAR_ARRAYS
from .scalars import scalar_array as _scalar_array


def check_forward(op, inputs, outputs) -> None:
    """``detect_anomaly(check_forward=True)``: raise at the first op that makes a NaN/Inf."""
    for out in outputs:
        d = out._data
        if d.dtype.kind == "f" and not np.isfinite(d).all():
            shapes = ", ".join(str(list(x.shape)) if isinstance(x, Bound.Tensor) else repr(x)
                               for x in inputs)
            bad = "nan" if np.isnan(d).any() else "inf"
            raise RuntimeError(
                f"Function '{op.node_cls.__name__}' produced {bad} values in its forward "
                f"output (op '{op.name}', inputs: {shapes}).\nCalled from:\n  {user_frame()}"
            )


def after_op(op, inputs, outputs, attrs) -> None:
    """What runs after a forward op while ``AfterOp.on``: the NaN check of
    ``detect_anomaly(check_forward=True)``, and the outputs' tangents in forward-mode AD."""
    if AnomalyMode.check_forward:
        check_forward(op, inputs, outputs)
    if ForwardAD.level >= 0:
        from .forward_ad import propagate
        propagate(op, inputs, outputs, attrs)


def broadcast_error(a_shape, b_shape) -> RuntimeError | None:
    """PyTorch's text for shapes that do not broadcast (None if they do)."""
    n = max(len(a_shape), len(b_shape))
    a = (1,) * (n - len(a_shape)) + tuple(a_shape)
    b = (1,) * (n - len(b_shape)) + tuple(b_shape)
    for i in range(n - 1, -1, -1):
        if a[i] != b[i] and a[i] != 1 and b[i] != 1:
            return RuntimeError(
                f"The size of tensor a ({a[i]}) must match the size of tensor b ({b[i]}) at "
                f"non-singleton dimension {i}"
            )
    return None


def device_error(a, b) -> RuntimeError:
    return RuntimeError(
        "Expected all tensors to be on the same device, but found at least two devices, "
        f"{a.device} and {b.device}!"
    )


def _scalar_operand(ad, b, promote):
    """Cast the tensor operand for a Python scalar partner, by PyTorch's rules."""
    kind = ad.dtype.kind
    if kind != "f" and (type(b) is float or promote == "float"):
        return ad.astype(_Default.dtype.np)
    if kind == "b" and type(b) is int:
        return ad.astype(np.int64)
    return ad


_ndarray = np.ndarray
_HALF = np.dtype(np.float16)
# Ops whose float16 kernel in PyTorch takes a Python number at float precision (multiply
# and the divisions); the others round the number to float16 first, as NumPy does.
HALF_NUMBER_IN_FLOAT: set = set()


def _wrap_int_scalar(ad, b):
    # NumPy refuses Python ints out of range for the array's dtype; PyTorch wraps them. A
    # NumPy scalar, not a 0-d array: CuPy's ufuncs take scalars but refuse host arrays.
    return np.array(b).astype(ad.dtype)[()]


def numpy_scalar(b):
    """NumPy scalar ``b`` as the Python number PyTorch reads it as in arithmetic: its value,
    except that a NumPy bool reads as a float (``int8_tensor + np.True_`` is float32) and a
    complex one as its real part, with NumPy's ComplexWarning."""
    if isinstance(b, np.bool_):
        return float(b)
    if isinstance(b, np.complexfloating):
        warnings.warn("Casting complex values to real discards the imaginary part",
                      np.exceptions.ComplexWarning, stacklevel=4)
        return float(b.real)
    return b.item()


def binary(op, a, b, promote: str = "default", attrs=None):
    """Apply a two-input op; ``b`` may be a Python scalar. ``promote``: 'default' (PyTorch's
    result type), 'float' (integer results become the default float dtype); ``attrs``: the
    op's keyword attributes."""
    ad = a._data
    cls = b.__class__
    if cls is float or cls is int:
        # A Python number with a float array: a cached 0-d array of the array's dtype.
        # (``scalar_operator`` repeats this fast path for the Tensor operators.)
        dt = ad.dtype
        if dt in FAST_FLOATS and ad.__class__ is _ndarray:
            cache = _SCALAR_ARRAYS.get(dt)
            bd = cache.get(b) if cache is not None else None
            if bd is None:
                bd = _scalar_array(b, dt)
            if ad.size < _PARALLEL_MIN:  # the common case: small, no thread pool
                out = op.forward(ad, bd) if attrs is None else op.forward(ad, bd, **attrs)
                result = Bound.new(out)
                if a._rg and GradMode.enabled:
                    op.record_scalar(a, b, result, attrs)
                if AfterOp.on:
                    after_op(op, (a, b), (result,), attrs)
                return result
        else:
            ad = _scalar_operand(ad, b, promote)
            if ad.dtype == _HALF and op in HALF_NUMBER_IN_FLOAT:
                return _half_with_number(op, a, ad, b, attrs)
            bd = b
        rg = a._rg
    elif cls is Bound.Tensor or isinstance(b, Bound.Tensor):
        bd = b._data
        if ad.dtype is not bd.dtype:
            dt = result_type(a, b).np
            if promote == "float" and dt.kind != "f":
                dt = _Default.dtype.np
            if ad.dtype is not dt:
                ad = ad.astype(dt)
            if bd.dtype is not dt:
                bd = bd.astype(dt)
        elif promote == "float" and ad.dtype.kind != "f":
            ad = ad.astype(_Default.dtype.np)
            bd = bd.astype(_Default.dtype.np)
        if ad.__class__ is not bd.__class__:
            if bd.ndim == 0 and bd.__class__ is _ndarray:
                bd = bd.item()
            elif ad.ndim == 0 and ad.__class__ is _ndarray:
                ad = ad.item()
            else:
                raise device_error(a, b)
        rg = a._rg or b._rg
    else:
        if cls is not bool:
            if not isinstance(b, np.generic):
                return NotImplemented
            b = numpy_scalar(b)  # NumPy scalars take part as Python scalars, as in PyTorch
            return binary(op, a, b, promote, attrs)
        ad = _scalar_operand(ad, b, promote)
        bd = b
        rg = a._rg
    try:
        if ad.__class__ is _ndarray and ad.size >= _PARALLEL_MIN and _parallel_pays(op, ad):
            out = _parallel(op.forward, (ad, bd), attrs)  # large: in chunks on all cores
        else:
            out = op.forward(ad, bd) if attrs is None else op.forward(ad, bd, **attrs)
    except ValueError:
        err = broadcast_error(a.shape, np.shape(bd))
        if err is None:
            raise
        raise err from None
    except OverflowError:
        bd = _wrap_int_scalar(ad, b)
        out = op.forward(ad, bd) if attrs is None else op.forward(ad, bd, **attrs)
    result = Bound.new(out)
    if rg and GradMode.enabled:
        record_binary(op, a, b, result, attrs)
    if AfterOp.on:
        after_op(op, (a, b), (result,), attrs)
    return result


def scalar_operator(op, promote: str = "default", fallback=None):
    """A Tensor operator for the two-input ``op`` (``Tensor.__mul__``, ...).

    The common case, a small float tensor and a Python number, runs right here: the same
    fast path as ``binary``'s, one Python call shorter. Everything else goes to
    ``fallback(a, b)`` (by default ``binary(op, a, b, promote)``).
    """
    def operator(a, b):
        cls = b.__class__
        if cls is float or cls is int:
            ad = a._data
            dt = ad.dtype
            if dt in FAST_FLOATS and ad.__class__ is _ndarray and ad.size < _PARALLEL_MIN:
                cache = _SCALAR_ARRAYS.get(dt)
                bd = cache.get(b) if cache is not None else None
                if bd is None:
                    bd = _scalar_array(b, dt)
                result = Bound.new(op.forward(ad, bd))
                if a._rg and GradMode.enabled:
                    op.record_scalar(a, b, result, None)
                if AfterOp.on:
                    after_op(op, (a, b), (result,), None)
                return result
        if fallback is not None:
            return fallback(a, b)
        return binary(op, a, b, promote)
    return operator


def float_unary(op, fallback):
    """A Tensor method for the one-input ``op`` (``Tensor.tanh``, ...): a small float tensor
    runs ``unary``'s path right here, one Python call shorter; anything else (integer
    inputs, which the op's function promotes, and large arrays) goes to ``fallback(x)``."""
    def method(x):
        xd = x._data
        if xd.dtype.kind == "f" and xd.size < _PARALLEL_MIN:
            result = Bound.new(op.forward(xd))
            if x._rg and GradMode.enabled:
                record_unary(op, x, result, None)
            if AfterOp.on:
                after_op(op, (x,), (result,), None)
            return result
        return fallback(x)
    return method


def rbinary(op, a, b):
    """``b <op> a`` for a Python scalar ``b`` (``2 - t``, ``2 / t``, ``2 ** t``)."""
    if type(b) not in (int, float, bool):
        if not isinstance(b, np.generic):
            return NotImplemented
        b = numpy_scalar(b)
    ad = _scalar_operand(a._data, b, "default")
    try:
        out = op.forward(ad, b)
    except OverflowError:
        out = op.forward(ad, _wrap_int_scalar(ad, b))
    result = Bound.new(out)
    if a._rg and GradMode.enabled:
        record_binary(op, a, b, result, None)
    if AfterOp.on:
        after_op(op, (a, b), (result,), None)
    return result


def _half_with_number(op, a, ad, b, attrs):
    """A float16 array ``ad`` (of ``a``) with a Python number, for the ops in
    ``HALF_NUMBER_IN_FLOAT``: computed in float32 and rounded once, as PyTorch's kernels do
    (so ``x * 2 ** 20`` is not ``x * inf``)."""
    wide = np.float32(b)
    out = op.forward(ad.astype(np.float32), wide) if attrs is None else \
        op.forward(ad.astype(np.float32), wide, **attrs)
    if out.dtype == np.float32:
        out = out.astype(_HALF)
    result = Bound.new(out)
    if a._rg and GradMode.enabled:
        record_binary(op, a, b, result, attrs)
    if AfterOp.on:
        after_op(op, (a, b), (result,), attrs)
    return result


def _parallel_pays(op, array) -> bool:
    """Whether a large ``array`` is worth splitting across the thread pool for ``op``."""
    return op.elementwise and (op.compute_bound or array.size >= _PARALLEL_MIN_MEMORY)


def unary(op, x, attrs=None):
    """Apply a one-input op; ``attrs`` are its keyword attributes."""
    try:
        xd = x._data
    except AttributeError:
        from .pointwise import not_tensor
        raise not_tensor(op.name, "input", 1, x) from None
    if xd.size >= _PARALLEL_MIN and _parallel_pays(op, xd):
        out = _parallel(op.forward, (xd,), attrs)  # large: in chunks on all cores
    else:
        out = op.forward(xd) if attrs is None else op.forward(xd, **attrs)
    result = Bound.new(out)
    if x._rg and GradMode.enabled:
        record_unary(op, x, result, attrs)
    if AfterOp.on:
        after_op(op, (x,), (result,), attrs)
    return result


def apply(op, inputs, attrs=None, *, nondiff_outputs=0):
    """Apply an op over several inputs (Tensors or scalars) with keyword attributes.

    The forward returns one array or a tuple; the last ``nondiff_outputs`` outputs (e.g. the
    indices of ``max``) never require grad.
    """
    Tensor = Bound.Tensor
    arrays = [x._data if isinstance(x, Tensor) else x for x in inputs]
    if arrays[0].__class__ is _ndarray and arrays[0].size >= _PARALLEL_MIN and \
            _parallel_pays(op, arrays[0]):
        out = _parallel(op.forward, arrays, attrs)  # large: in chunks on all cores
    else:
        out = op.forward(*arrays) if attrs is None else op.forward(*arrays, **attrs)
    if isinstance(out, tuple):
        results = tuple(Bound.new(o) for o in out)
    else:
        results = (Bound.new(out),)
    if GradMode.enabled and any(isinstance(x, Tensor) and x._rg for x in inputs):
        diff = results[:len(results) - nondiff_outputs]
        record(op, inputs, diff, attrs)
    if AfterOp.on:
        after_op(op, inputs, results[:len(results) - nondiff_outputs], attrs)
    return results if isinstance(out, tuple) else results[0]


__all__ = ["binary", "rbinary", "unary", "apply", "scalar_operator", "float_unary",
           "broadcast_error", "device_error"]
