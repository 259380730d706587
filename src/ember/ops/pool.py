"""Pooling: ``max_pool2d``, ``avg_pool2d``, ``adaptive_avg_pool2d``.

Max pooling saves the flat index of each maximum; its gradient scatters to those indices
and the gradient of the scatter gathers from them, so each is the other's derivative.
Average pooling of every kind (padding, ``ceil_mode``, ``count_include_pad``, adaptive
windows) is separable: ``A @ x @ B`` over the two spatial dims with two small averaging
matrices, whose gradient is the same product with the matrices transposed.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from ..autograd.forward_grad import AfterOp
from ..autograd.grad_mode import GradMode
from ..backend import array_module
from ..backend import conv as kernels
from ..dtype import SCALAR_TYPE_NAMES
from ._apply import after_op, unary
from .registry import Bound, defop, record

if TYPE_CHECKING:
    from ..tensor import Tensor


def _scatter(grad, indices, input_size):
    return unary(MAX_POOL_SCATTER, grad, {"indices": indices, "input_size": input_size})


def _gather(grad, indices):
    return unary(MAX_POOL_GATHER, grad, {"indices": indices})


MAX_POOL2D = defop("max_pool2d_with_indices", node="MaxPool2DWithIndicesBackward0",
                   forward=None, derivatives={
                       "self": lambda grad, self_shape, indices:
                           _scatter(grad, indices, tuple(self_shape)),
                   })
MAX_POOL_SCATTER = defop(
    "max_pool2d_with_indices_backward",
    forward=lambda g, indices, input_size: kernels.max_pool_scatter(g, indices, input_size),
    derivatives={"self": lambda grad, indices: _gather(grad, indices)})
MAX_POOL_GATHER = defop(
    "max_pool2d_gather", node="MaxPool2DWithIndicesBackwardBackward0",
    forward=lambda x, indices: kernels.max_pool_gather(x, indices),
    derivatives={"self": lambda grad, self_shape, indices:
                 _scatter(grad, indices, tuple(self_shape))})


def _separable_grad(grad, a, b):
    return unary(AVG_POOL_BACKWARD, grad, {"a": a.T, "b": b.T})


AVG_POOL2D = defop("avg_pool2d", node="AvgPool2DBackward0", forward=kernels.separable_pool,
                   derivatives={"self": _separable_grad})
ADAPTIVE_AVG_POOL2D = defop("adaptive_avg_pool2d", node="AdaptiveAvgPool2DBackward0",
                            forward=kernels.separable_pool,
                            derivatives={"self": _separable_grad})
AVG_POOL_BACKWARD = defop("avg_pool2d_backward", forward=kernels.separable_pool,
                          derivatives={"self": _separable_grad})


# ---- arguments ------------------------------------------------------------------------------
def _is_int(v) -> bool:
    return isinstance(v, (int, np.integer)) and not isinstance(v, (bool, np.bool_))


def _int_list(value, name: str, fn: str, position: int | None) -> tuple:
    """An int-list argument as PyTorch's argument parser reads it (an int stands for a
    list of one), or its TypeError. ``position``: where the argument sits in PyTorch's
    call, when it is positional there."""
    at = f" (position {position})" if position else ""
    if _is_int(value):
        return (int(value),)
    if not isinstance(value, (tuple, list)):
        raise TypeError(f"{fn}(): argument '{name}'{at} must be tuple of ints, not "
                        f"{type(value).__name__}")
    for i, v in enumerate(value):
        if not _is_int(v):
            raise TypeError(f"{fn}(): argument '{name}'{at} must be tuple of ints, but found "
                            f"element of type {type(v).__name__} at pos {i}")
    return tuple(int(v) for v in value)


def _check_bool(value, name: str, fn: str, position: int | None) -> None:
    if not isinstance(value, (bool, np.bool_)):
        at = f" (position {position})" if position else ""
        raise TypeError(f"{fn}(): argument '{name}'{at} must be bool, not "
                        f"{type(value).__name__}")


def _pair(value: tuple, name: str, fn: str, omit: bool = False) -> tuple:
    if len(value) == 2 or (len(value) == 0 and omit):
        return value
    if len(value) == 1:
        return value * 2
    if name == "dilation":  # (PyTorch words this one differently)
        raise RuntimeError(f"{fn}: dilation must be either a single int, or a tuple of two ints")
    raise RuntimeError(f"{fn}: {name} must either be {'omitted, ' if omit else ''}a single "
                       "int, or a tuple of two ints")


def _out_size(n, k, p, s, d, ceil_mode) -> int:
    """PyTorch's ``pooling_output_shape``: in ceil mode the last window must start inside
    the input or its left padding."""
    if s == 0:
        raise RuntimeError("stride should not be zero")
    if p < 0:
        raise RuntimeError(f"pad must be non-negative, but got pad: {p}")
    effective = (k - 1) * d + 1
    if p > int(effective / 2):  # C++ division, toward zero
        raise RuntimeError(f"pad should be at most half of effective kernel size, but got "
                           f"pad={p}, kernel_size={k} and dilation={d}")
    out = (n + 2 * p - d * (k - 1) - 1 + (s - 1 if ceil_mode else 0)) // s + 1
    if ceil_mode and (out - 1) * s >= n + p:
        out -= 1
    return out


def _pool_args(input, kernel_size, stride, padding, dilation, ceil_mode, fn,
               divisor_override=None):
    """Checked (kernel, stride, padding, dilation, out) for 2-d pooling, in the order of
    PyTorch's ``max_pool2d_with_indices`` and ``avg_pool2d`` (``dilation`` None)."""
    avg = dilation is None
    k = _pair(kernel_size, "kernel_size", fn)
    s = _pair(stride, "stride", fn, omit=True) or k
    p = _pair(padding, "padding", fn)
    d = (1, 1) if avg else _pair(dilation, "dilation", fn)
    if avg:
        if divisor_override == 0:
            raise RuntimeError("divisor must be not zero")
        if input.ndim < 3:  # PyTorch reads input.size(-3)
            raise IndexError("Dimension specified as -3 but tensor has no dimensions"
                             if input.ndim == 0 else "Dimension out of range (expected to be "
                             f"in range of [{-input.ndim}, {input.ndim - 1}], but got -3)")
    elif input.ndim not in (3, 4):
        raise RuntimeError("non-empty 3D or 4D (batch mode) tensor expected for input")
    c, *size = input.shape[-3:]
    out = tuple(_out_size(n, kv, pv, sv, dv, ceil_mode)
                for n, kv, pv, sv, dv in zip(size, k, p, s, d))
    # PyTorch's pool2d_shape_check
    if k[0] <= 0 or k[1] <= 0:
        raise RuntimeError(f"kernel size should be greater than zero, but got kH: {k[0]} "
                           f"kW: {k[1]}")
    if s[0] <= 0 or s[1] <= 0:
        raise RuntimeError(f"stride should be greater than zero, but got dH: {s[0]} dW: {s[1]}")
    if d[0] <= 0 or d[1] <= 0:
        raise RuntimeError(f"dilation should be greater than zero, but got dilationH: {d[0]} "
                           f"dilationW: {d[1]}")
    if input.ndim not in (3, 4) or 0 in input.shape[-3:]:
        raise RuntimeError("Expected 3D or 4D (batch mode) tensor with optional 0 dim batch "
                           f"size for input, but got:{list(input.shape)}")
    if k[1] // 2 < p[1] or k[0] // 2 < p[0]:
        raise RuntimeError(f"pad should be smaller than or equal to half of kernel size, but "
                           f"got padW = {p[1]}, padH = {p[0]}, kW = {k[1]}, kH = {k[0]}")
    if out[0] < 1 or out[1] < 1:
        raise RuntimeError(f"Given input size: ({c}x{size[0]}x{size[1]}). Calculated output "
                           f"size: ({c}x{out[0]}x{out[1]}). Output size is too small")
    return k, s, p, d, out


def max_pool2d(input: Tensor, kernel_size, stride=None, padding=0, dilation=1,
               ceil_mode: bool = False, return_indices: bool = False):
    """2-d max pooling over ``input`` (N, C, H, W) or (C, H, W).

    Windows of ``kernel_size`` every ``stride`` (default: ``kernel_size``) over the input
    padded by ``padding`` (at most half the kernel) with -inf; ``ceil_mode`` keeps a last
    partial window. With ``return_indices``, also the int64 flat index (``h * W + w``) of
    each maximum within its plane."""
    fn = "max_pool2d_with_indices" if return_indices else "max_pool2d"
    args = [_int_list(v, name, fn, i + 2) for i, (v, name) in enumerate(
        ((kernel_size, "kernel_size"), (() if stride is None else stride, "stride"),
         (padding, "padding"), (dilation, "dilation")))]
    _check_bool(ceil_mode, "ceil_mode", fn, 6)
    k, s, p, d, out = _pool_args(input, *args, ceil_mode, "max_pool2d")
    if input.dtype.name == "bool":
        raise NotImplementedError("\"max_pool2d\" not implemented for 'Bool'")
    # the high side is padded as far as the last (ceil mode) window reaches
    pads = tuple((pv, max(pv, (o - 1) * sv + dv * (kv - 1) + 1 - n - pv))
                 for n, kv, sv, pv, dv, o in zip(input.shape[-2:], k, s, p, d, out))
    values, idx = kernels.max_pool(input._data, k, s, pads, d, out)
    result = Bound.new(values)
    indices = Bound.new(idx)
    if input._rg and GradMode.enabled and input.dtype.is_floating_point:
        record(MAX_POOL2D, (input,), (result,), {"indices": idx})
    if AfterOp.on:
        after_op(MAX_POOL2D, (input,), (result,), {"indices": idx})
    return (result, indices) if return_indices else result


def _avg_matrix(n, k, s, p, out, count_include_pad, divisor, dtype, xp):
    """The (out, n) matrix that averages each window of one spatial dim."""
    m = np.zeros((out, n), dtype=dtype)
    for i in range(out):
        start = i * s - p
        end = min(start + k, n + p)
        size = end - start
        lo, hi = max(start, 0), min(end, n)
        if lo >= hi:
            continue
        if divisor is None:
            m[i, lo:hi] = 1.0 / (size if count_include_pad else hi - lo)
        else:
            m[i, lo:hi] = 1.0
    return xp.asarray(m)


def avg_pool2d(input: Tensor, kernel_size, stride=None, padding=0, ceil_mode: bool = False,
               count_include_pad: bool = True, divisor_override: int | None = None) -> Tensor:
    """2-d average pooling over ``input`` (N, C, H, W) or (C, H, W).

    ``count_include_pad``: padded zeros count in the average; ``divisor_override``: divide
    every window's sum by this number instead."""
    fn = "avg_pool2d"
    kernel_size = _int_list(kernel_size, "kernel_size", fn, 2)
    stride = () if stride is None else _int_list(stride, "stride", fn, None)
    padding = _int_list(padding, "padding", fn, None)
    _check_bool(ceil_mode, "ceil_mode", fn, None)
    _check_bool(count_include_pad, "count_include_pad", fn, None)
    if divisor_override is not None and not _is_int(divisor_override):
        raise TypeError(f"avg_pool2d(): argument 'divisor_override' must be int, not "
                        f"{type(divisor_override).__name__}")
    k, s, p, _, out = _pool_args(input, kernel_size, stride, padding, None, ceil_mode, fn,
                                 divisor_override)
    if not input.dtype.is_floating_point:
        return _avg_pool2d_integer(input, k, s, p, out, count_include_pad, divisor_override)
    xp = array_module(input.device)
    dt = _acc_dtype(input)
    a = _avg_matrix(input.shape[-2], k[0], s[0], p[0], out[0], count_include_pad, None,
                    dt, xp)
    b = _avg_matrix(input.shape[-1], k[1], s[1], p[1], out[1], count_include_pad, None,
                    dt, xp).T
    if divisor_override is not None:
        # the window sums, scaled once: separable whatever the divisor
        a = _avg_matrix(input.shape[-2], k[0], s[0], p[0], out[0], True, 1, dt, xp) \
            / dt.type(divisor_override)
        b = _avg_matrix(input.shape[-1], k[1], s[1], p[1], out[1], True, 1, dt, xp).T
    return unary(AVG_POOL2D, input, {"a": a, "b": b})


def _avg_pool2d_integer(input, k, s, p, out, count_include_pad, divisor_override):
    """Integer average pooling as PyTorch computes it: each window's sum divided by its
    divisor, truncated toward zero. Sums and divisors are exact in float64."""
    if input.dtype.name != "int64":  # PyTorch's CPU kernel takes Long alone among integers
        raise NotImplementedError(f'"avg_pool2d" not implemented for '
                                  f"'{SCALAR_TYPE_NAMES[input.dtype.name]}'")
    xp = array_module(input.device)
    f64 = np.dtype(np.float64)
    avg = [_avg_matrix(n, k[d], s[d], p[d], out[d], count_include_pad, None, f64, xp)
           for d, n in enumerate(input.shape[-2:])]
    ones = [(m != 0).astype(f64) for m in avg]
    sums = ones[0] @ input._data.astype(f64) @ ones[1].T
    if divisor_override is not None:
        divisors = float(divisor_override)
    else:
        counts = [xp.where(m.max(axis=1) > 0, 1.0 / xp.maximum(m.max(axis=1), 1e-300), 0.0)
                  for m in avg]
        divisors = xp.maximum(counts[0][:, None] * counts[1][None, :], 1.0)
    return Bound.new(xp.trunc(sums / divisors).astype(input.dtype.np))


def _adaptive_matrix(n, out, dtype, xp):
    m = np.zeros((out, n), dtype=dtype)
    for i in range(out):
        lo, hi = (i * n) // out, -((-(i + 1) * n) // out)
        m[i, lo:hi] = 1.0 / (hi - lo)
    return xp.asarray(m)


def adaptive_avg_pool2d(input: Tensor, output_size) -> Tensor:
    """2-d average pooling to ``output_size`` (an int or a pair; None in a pair keeps that
    dim): window ``i`` of a dim of size ``n`` covers ``floor(i*n/out)`` to
    ``ceil((i+1)*n/out)``."""
    if _is_int(output_size):
        size = (int(output_size),) * 2
    else:  # torch.nn.functional's _list_with_default
        if input.ndim <= len(output_size):
            raise ValueError(f"Input dimension should be at least {len(output_size) + 1}")
        size = tuple(n if o is None else o
                     for o, n in zip(output_size, input.shape[-len(output_size):]))
        size = _int_list(size, "output_size", "adaptive_avg_pool2d", 2)
    if len(size) != 2:
        raise RuntimeError("adaptive_avg_pool2d: output_size must be 2")
    if any(o < 0 for o in size):
        raise RuntimeError(f"adaptive_avg_pool2d: elements of output_size must be greater than "
                           f"or equal to 0 but received {{{size[0]}, {size[1]}}}")
    if size == (1, 1):
        return input.mean((-1, -2), keepdim=True)  # as PyTorch: MeanBackward1
    if input.ndim not in (3, 4):
        raise RuntimeError(f"adaptive_avg_pool2d(): Expected 3D or 4D tensor, but got "
                           f"{list(input.shape)}")
    for dim in (input.ndim - 2, input.ndim - 1):
        if input.shape[dim] == 0:
            raise RuntimeError("adaptive_avg_pool2d(): Expected input to have non-zero size "
                               f"for non-batch dimensions, but input has sizes "
                               f"{list(input.shape)} with dimension {dim} being empty")
    if not input.dtype.is_floating_point:
        raise NotImplementedError(f'"adaptive_avg_pool2d" not implemented for '
                                  f"'{SCALAR_TYPE_NAMES[input.dtype.name]}'")
    xp = array_module(input.device)
    dt = _acc_dtype(input)
    a = _adaptive_matrix(input.shape[-2], size[0], dt, xp)
    b = _adaptive_matrix(input.shape[-1], size[1], dt, xp).T
    return unary(ADAPTIVE_AVG_POOL2D, input, {"a": a, "b": b})


def _acc_dtype(input):
    """The dtype of the averaging matrices: float for half inputs, which PyTorch averages in
    float and rounds once."""
    dt = input.dtype.np
    return np.dtype(np.float32) if dt == np.float16 else dt


__all__ = ["max_pool2d", "avg_pool2d", "adaptive_avg_pool2d"]
