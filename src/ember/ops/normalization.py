"""Batch normalization: ``batch_norm``, recorded as PyTorch's ``NativeBatchNormBackward0``.

The forward is one scale and shift per channel. The derivative formulas recompute the
normalized input from ``input`` with ember ops when a graph of the gradient is being built
(in training the batch statistics depend on the input, so second derivatives must see
that); otherwise they reuse the statistics saved by the forward.
"""

from __future__ import annotations

import numbers
import weakref
from typing import TYPE_CHECKING

import numpy as np

from ..autograd.grad_mode import GradMode
from ..backend import cupy
from ..dtype import SCALAR_TYPE_NAMES
from ._apply import apply
from .registry import Bound, defop

if TYPE_CHECKING:
    from ..tensor import Tensor


def _channel_shape(ndim: int, c: int) -> tuple:
    return (1, c) + (1,) * (ndim - 2)


def _bn_forward(x, w, b, mean, invstd, training, eps, dims):
    shape = _channel_shape(x.ndim, x.shape[1])
    scale = invstd if w is None else invstd * w.reshape(-1)
    shift = -mean * scale if b is None else b.reshape(-1) - mean * scale
    if x.dtype == np.float16:  # in float, rounded once, as PyTorch
        return (x * scale.reshape(shape) + shift.reshape(shape)).astype(x.dtype)
    out = x * scale.reshape(shape).astype(x.dtype, copy=False)
    out += shift.reshape(shape).astype(x.dtype, copy=False)
    return out


def _normalized(input, mean, invstd, training, eps, dims):
    """``(x - mean) * invstd`` and ``invstd``, broadcastable against ``input``."""
    if training and GradMode.enabled:
        centered = input - input.mean(dims, keepdim=True)
        inv = ((centered * centered).mean(dims, keepdim=True) + eps) ** -0.5
        return centered * inv, inv
    shape = _channel_shape(input.ndim, input.shape[1])
    inv = Bound.new(invstd.reshape(shape))
    return (input - Bound.new(mean.reshape(shape))) * inv, inv


def _input_grad(grad, input, weight, mean, invstd, training, eps, dims):
    xhat, inv = _normalized(input, mean, invstd, training, eps, dims)
    scale = inv if weight is None else inv * weight.reshape(_channel_shape(input.ndim, -1))
    if not training:
        return grad * scale
    g = grad - grad.mean(dims, keepdim=True) - xhat * (grad * xhat).mean(dims, keepdim=True)
    return g * scale


def _weight_grad(grad, input, mean, invstd, training, eps, dims):
    xhat, _ = _normalized(input, mean, invstd, training, eps, dims)
    return (grad * xhat).sum(dims)


def _channel_sum(a, b=None):
    """The per-channel (dim 1) sum of ``a``, or of ``a * b``, over every other dim: one
    pass with no temporary, where NumPy's sum over dims (0, 2, ...) is 2-4x slower. Half
    precision as ``sum`` does it (einsum would accumulate in half)."""
    if a.dtype.itemsize < 4:
        return (a if b is None else a * b).sum((0,) + tuple(range(2, a.ndim)))
    xp = np if a.__class__ is np.ndarray else cupy()
    n, c = a.shape[:2]
    if b is None:
        return xp.einsum("ncp->c", a.reshape(n, c, -1))
    return xp.einsum("ncp,ncp->c", a.reshape(n, c, -1), b.reshape(n, c, -1))


# The per-channel sums ``sum(g)`` and ``sum(g * (x - mean))`` of a batch_norm backward on
# arrays: the input's formula needs both, and they are the bias's gradient and (times
# invstd) the weight's. A node runs its three array formulas one after another on the same
# arrays (``registry.compile_array_backward``), so the input's leaves them here and the
# weight's and the bias's take them (once each) if they are of the very same gradient,
# input and statistics. Weak references to the arrays: nothing is kept alive by this.
_SUMS: list = [None]  # [ref(grad), ref(input), mean, sum(g), sum(g * (x - mean))]


def _input_grad_array(grad, input, weight, mean, invstd, training, eps, dims):
    """``_input_grad`` on arrays, from two per-channel sums:
    ``(g - sum(g) / n - xhat * sum(g * xhat) / n) * invstd * weight`` with
    ``xhat = (x - mean) * invstd``, as ``g * k - (x - mean) * a - b`` per channel."""
    shape = _channel_shape(input.ndim, input.shape[1])
    k = invstd if weight is None else invstd * weight
    if not training:
        return grad * k.reshape(shape)
    n = grad.size // grad.shape[1]
    centered = input - mean.reshape(shape)
    dot = _channel_sum(centered, grad)
    total = _channel_sum(grad)
    if grad.__class__ is np.ndarray and input.__class__ is np.ndarray:
        _SUMS[0] = [weakref.ref(grad), weakref.ref(input), mean, total, dot]
    out = grad * k.reshape(shape)
    out -= (total * (k / n)).reshape(shape)
    centered *= (dot * (invstd * invstd * k / n)).reshape(shape)
    out -= centered
    return out


def _weight_grad_array(grad, input, mean, invstd, training, eps, dims):
    sums = _SUMS[0]
    if sums is not None and sums[4] is not None and sums[0]() is grad and \
            sums[1]() is input and sums[2] is mean:
        dot, sums[4] = sums[4], None
    else:
        dot = _channel_sum(input - mean.reshape(_channel_shape(input.ndim, input.shape[1])),
                           grad)
    return dot * invstd


def _bias_grad_array(grad):
    sums = _SUMS[0]
    if sums is not None and sums[3] is not None and sums[0]() is grad:
        total, sums[3] = sums[3], None
        return total
    return _channel_sum(grad)


NATIVE_BATCH_NORM = defop(
    "native_batch_norm", inputs=("input", "weight", "bias"), forward=_bn_forward,
    derivatives={
        "input": _input_grad,
        "weight": _weight_grad,
        "bias": lambda grad, dims: grad.sum(dims),
    },
    # a plain backward() (no graph of the gradient): the saved batch statistics, on arrays
    on_arrays={
        "input": _input_grad_array,
        "weight": _weight_grad_array,
        "bias": _bias_grad_array,
    })


def _check_args(input, training, momentum, eps) -> None:
    """torch.nn.functional.batch_norm's checks, then its argument parser's."""
    if training:
        if input.ndim == 0:
            raise IndexError("tuple index out of range")
        n = input.shape[0]
        for s in input.shape[2:]:
            n *= s
        if n == 1:
            raise ValueError(f"Expected more than 1 value per channel when training, got "
                             f"input size {input.shape}")
    if training and eps <= 0.0:
        raise ValueError(f"batch_norm eps must be positive during training, but got {eps}")
    if eps < 0.0:
        raise ValueError(f"batch_norm eps must be non-negative, but got {eps}")
    for name, value, position, kind in (("training", training, 6, "bool"),
                                        ("momentum", momentum, 7, "float"),
                                        ("eps", eps, 8, "float")):
        ok = isinstance(value, (bool, np.bool_)) if kind == "bool" else \
            isinstance(value, (numbers.Real, Bound.Tensor))
        if not ok:
            raise TypeError(f"batch_norm(): argument '{name}' (position {position}) must be "
                            f"{kind}, not {type(value).__name__}")


def _check(input, running_mean, running_var, weight, bias, training):
    """PyTorch's checks in ``_batch_norm_impl_index`` and ``batch_norm_cpu``, in order."""
    c = input.shape[1] if input.ndim > 1 else 0
    for name, t in (("running_mean", running_mean), ("running_var", running_var)):
        if t is not None:
            if t.numel() != c:
                raise RuntimeError(f"{name} should contain {c} elements not {t.numel()}")
        elif not training:
            raise RuntimeError(f"{name} must be defined in evaluation mode")
    for name, t in (("weight", weight), ("bias", bias)):
        if t is not None and t.numel() != c:
            raise RuntimeError(f"{name} should contain {c} elements not {t.numel()}")
    if (running_mean is None) != (running_var is None):
        raise ValueError("running_mean and running_var must either both be None or neither "
                         "be None")
    if not input.dtype.is_floating_point:
        raise NotImplementedError("\"batch_norm\" not implemented for "
                                  f"'{SCALAR_TYPE_NAMES[input.dtype.name]}'")
    if input.ndim < 2:
        raise IndexError(f"Dimension out of range (expected to be in range of "
                         f"[{-max(input.ndim, 1)}, {max(input.ndim, 1) - 1}], but got 1)")
    for t in (running_mean, running_var):
        if t is not None and t.ndim != 1:
            raise RuntimeError(f"TensorAccessor expected 1 dims but tensor has {t.ndim}")
    params = [t for t in (weight, bias, running_mean, running_var) if t is not None]
    if params and params[0].dtype is not input.dtype:
        # PyTorch's mixed type: a half input with float parameters (all of them float)
        if any(t.dtype.name != "float32" for t in params):
            raise RuntimeError("mixed dtype (CPU): expect parameter to have scalar type of Float")
        if input.dtype.name != "float16":
            raise RuntimeError("mixed dtype (CPU): all inputs must share same datatype.")
        return
    order = (running_mean, running_var, weight, bias) if training else \
        (weight, bias, running_mean, running_var)
    for t in order:
        if t is not None and t.dtype is not input.dtype:
            raise RuntimeError(f"expected scalar type {SCALAR_TYPE_NAMES[input.dtype.name]} "
                               f"but found {SCALAR_TYPE_NAMES[t.dtype.name]}")


def batch_norm(input: Tensor, running_mean: Tensor | None, running_var: Tensor | None,
               weight: Tensor | None = None, bias: Tensor | None = None,
               training: bool = False, momentum: float = 0.1, eps: float = 1e-05) -> Tensor:
    """Normalize each channel (dim 1) of ``input`` (N, C, ...) to zero mean and unit
    variance, then scale by ``weight`` and shift by ``bias``.

    In training, the statistics are the batch's (biased variance), and ``running_mean`` /
    ``running_var`` (if given) are updated in place:
    ``running = (1 - momentum) * running + momentum * batch`` (with the unbiased variance).
    In evaluation, the running statistics are used. A half input may take float
    parameters and statistics (computed in float, as PyTorch does)."""
    _check_args(input, training, momentum, eps)
    if input.numel() == 0:
        # as PyTorch: no statistics, nothing updated, and a graph through the parameters
        out = input.clone()
        if weight is not None:
            out = out * weight.select(0, 0)
        if bias is not None:
            out = out + bias.select(0, 0)
        return out
    _check(input, running_mean, running_var, weight, bias, training)
    x = input._data
    if x.dtype == np.float16:  # statistics in float, as PyTorch's opmath
        x = x.astype(np.float32)
    dims = (0,) + tuple(range(2, input.ndim))
    if training:  # two passes for the variance, as NumPy's var, summed by _channel_sum
        n = x.size // max(x.shape[1], 1)
        mean = _channel_sum(x) / n
        centered = x - mean.reshape(_channel_shape(x.ndim, x.shape[1]))
        var = _channel_sum(centered, centered) / n
        del centered
        # in place on the arrays, as PyTorch's kernel updates them: no version bump
        momentum = float(momentum)
        if running_mean is not None:
            rm = running_mean._data
            rm[...] = rm * (1 - momentum) + mean * momentum
        if running_var is not None:
            rv = running_var._data
            rv[...] = rv * (1 - momentum) + (var * (n / (n - 1)) if n > 1 else var) * momentum
    else:
        mean = running_mean._data.astype(x.dtype, copy=False)
        var = running_var._data.astype(x.dtype, copy=False)
    invstd = 1 / (var + eps) ** 0.5
    return apply(NATIVE_BATCH_NORM, (input, weight, bias),
                 {"mean": mean, "invstd": invstd, "training": bool(training), "eps": eps,
                  "dims": dims})


__all__ = ["batch_norm"]
