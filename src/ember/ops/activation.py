"""Normalising activations over a dim: ``softmax``, ``log_softmax`` and ``logsumexp``.

Each is one op whose derivative is a dedicated backward op (PyTorch's
``_softmax_backward_data`` and ``_log_softmax_backward_data``), itself declared with its
derivatives, so gradients of every order need no extra code.
"""

from __future__ import annotations

import numpy as np

from ..dtype import dtype as DType
from ..dtype import get_default_dtype
from ._apply import apply, unary
from .dims import normalize_dim, normalize_dims
from .pointwise import not_tensor, type_name
from .reduction import _is_int, _type_name
from .registry import Bound, defop

__all__ = ["softmax", "log_softmax", "logsumexp"]


def _sum_keep(a, dim: int):
    """``a.sum(dim, keepdims=True)``; a 0-d array is its own sum."""
    return a if a.ndim == 0 else np.sum(a, axis=dim, keepdims=True)


def _log_softmax_forward(x, dim: int):
    if x.ndim == 0:
        return np.zeros_like(x)
    if x.size == 0:
        return x.copy()
    half = x.dtype == np.float16
    if half:  # computed in float, as PyTorch's CPU kernels compute half precision
        # (its last-dim kernels bit for bit; its others round at points that depend on
        # the size of the dims after ``dim``, within an ulp of this)
        x = x.astype(np.float32)
    shifted = x - np.max(x, axis=dim, keepdims=True)
    total = np.sum(np.exp(shifted), axis=dim, keepdims=True)
    if not half:
        return shifted - np.log(total)
    if dim == x.ndim - 1:  # PyTorch's last-dim kernel keeps the sum and its log in half
        total = total.astype(np.float16).astype(np.float32)
        return (shifted - np.log(total).astype(np.float16)).astype(np.float16)
    return (shifted - np.log(total)).astype(np.float16)


def _softmax_forward(x, dim: int):
    if x.ndim == 0:
        return np.ones_like(x)
    if x.size == 0:
        return x.copy()
    half = x.dtype == np.float16
    if half:  # computed in float, as PyTorch's CPU kernels compute half precision
        x = x.astype(np.float32)
    e = np.exp(x - np.max(x, axis=dim, keepdims=True))
    e /= np.sum(e, axis=dim, keepdims=True)
    return e.astype(np.float16) if half else e


def _log_softmax_backward_array(grad, output, dim: int):
    """``grad - exp(output) * grad.sum(dim)``: the derivative of log_softmax at its output."""
    return grad - np.exp(output) * _sum_keep(grad, dim)


def _softmax_backward_array(grad, output, dim: int):
    """``output * (grad - (grad * output).sum(dim))``: the derivative of softmax."""
    return output * (grad - _sum_keep(grad * output, dim))


LOG_SOFTMAX_BACKWARD = defop(
    "_log_softmax_backward_data", inputs=("grad_output", "output"),
    forward=_log_softmax_backward_array, derivatives={
        "grad_output": lambda grad, output, dim:
            grad - (grad * output.exp()).sum(dim, keepdim=True),
        "output": lambda grad, grad_output, output, dim:
            -grad_output.sum(dim, keepdim=True) * output.exp() * grad,
    })
SOFTMAX_BACKWARD = defop(
    "_softmax_backward_data", inputs=("grad_output", "output"),
    forward=_softmax_backward_array, derivatives={
        "grad_output": lambda grad, output, dim: softmax_backward(grad, output, dim),
        "output": lambda grad, grad_output, output, dim:
            grad * grad_output - grad * (grad_output * output).sum(dim, keepdim=True)
            - (grad * output).sum(dim, keepdim=True) * grad_output,
    })


def log_softmax_backward(grad, output, dim: int):
    """The gradient of ``log_softmax`` for the output gradient ``grad``, in one op."""
    return apply(LOG_SOFTMAX_BACKWARD, (grad, output), {"dim": dim})


def softmax_backward(grad, output, dim: int):
    """The gradient of ``softmax`` for the output gradient ``grad``, in one op."""
    return apply(SOFTMAX_BACKWARD, (grad, output), {"dim": dim})


LOG_SOFTMAX = defop("log_softmax", forward=_log_softmax_forward, derivatives={
    "self": lambda grad, result, dim: log_softmax_backward(grad, result, dim)},
    on_arrays={"self": lambda grad, result, dim: _log_softmax_backward_array(grad, result, dim)})
SOFTMAX = defop("softmax", forward=_softmax_forward, derivatives={
    "self": lambda grad, result, dim: softmax_backward(grad, result, dim)},
    on_arrays={"self": lambda grad, result, dim: _softmax_backward_array(grad, result, dim)})


def _normalising(op, kernel: str, input, dim, dtype):
    if not isinstance(input, Bound.Tensor):
        raise not_tensor(kernel, "input", 1, input)
    if not _is_int(dim):
        raise TypeError(f"{kernel}(): argument 'dim' (position 2) must be int, not "
                        f"{type_name(dim)}")
    if dtype is not None:
        if not isinstance(dtype, DType):
            raise TypeError(f"{kernel}(): argument 'dtype' (position 3) must be ember.dtype, "
                            f"not {type_name(dtype)}")
        input = input.to(dtype)
    d = normalize_dim(dim, input.ndim)
    if not input.dtype.is_floating_point:
        last = "lastdim_" if d == input.ndim - 1 else ""
        raise NotImplementedError(f'"{kernel}_{last}kernel_impl" not implemented for '
                                  f"'{_type_name(input.dtype)}'")
    return unary(op, input, {"dim": d})


_MISSING = object()


def _dim_required(name: str, dim):
    if dim is _MISSING:
        raise TypeError(f'{name}() missing 1 required positional arguments: "dim"')


def softmax(input, dim=_MISSING, dtype=None):
    """``exp(x) / exp(x).sum(dim)``: rescale the slices along ``dim`` to sum to 1.

    Args:
        input: a floating tensor (or any tensor with ``dtype``).
        dim: the dim along which the values sum to 1.
        dtype: cast ``input`` to this dtype first. Default: None.
    """
    _dim_required("softmax", dim)
    return _normalising(SOFTMAX, "softmax", input, dim, dtype)


def log_softmax(input, dim=_MISSING, dtype=None):
    """``log(softmax(x, dim))``, computed as ``x - logsumexp(x, dim)`` for stability.

    Args:
        input: a floating tensor (or any tensor with ``dtype``).
        dim: the dim to normalise over.
        dtype: cast ``input`` to this dtype first. Default: None.
    """
    _dim_required("log_softmax", dim)
    return _normalising(LOG_SOFTMAX, "log_softmax", input, dim, dtype)


def _logsumexp_forward(x, dims, keepdim: bool):
    with np.errstate(divide="ignore", invalid="ignore"):  # log(0) = -inf, silently as torch
        if any(x.shape[d] == 0 for d in dims):  # the sum of nothing
            return np.log(np.sum(np.exp(x), axis=dims, keepdims=keepdim))
        # Subtract the maximum (0 where it is infinite, as PyTorch does) so exp cannot
        # overflow.
        m = np.amax(x, axis=dims, keepdims=True)
        # 0-d inputs give a NumPy scalar; ``zeros_like`` makes NumPy or CuPy zeros alike
        m = np.where(np.isinf(m), np.zeros_like(m, shape=()), m)
        out = np.log(np.sum(np.exp(x - m), axis=dims, keepdims=True)) + m
    return out if keepdim else np.squeeze(out, axis=dims)


def _logsumexp_grad(grad, self, result, dims, keepdim):
    # PyTorch's logsumexp_backward: grad * exp(self - result), with the reduced dims back.
    if not keepdim and self.ndim:
        for d in sorted(dims):
            grad = grad.unsqueeze(d)
            result = result.unsqueeze(d)
    return grad * (self - result).exp()


def _logsumexp_jvp(tangents, inputs, attrs):
    # PyTorch's logsumexp_jvp: sum(exp(self - max) * self_t) / sum(exp(self - max)), which
    # is 0/0 = nan over an empty dim
    (self,), (self_t,), dims = inputs, tangents, attrs["dims"]
    shifted = self - self.amax(dims, keepdim=True) if self.numel() else self
    weights = shifted.exp()
    with np.errstate(divide="ignore", invalid="ignore"):
        return (weights * self_t).sum(dims, keepdim=attrs["keepdim"]) / \
            weights.sum(dims, keepdim=attrs["keepdim"])


LOGSUMEXP = defop("logsumexp", forward=_logsumexp_forward,
                  derivatives={"self": _logsumexp_grad}, jvp=_logsumexp_jvp)


def logsumexp(input, dim=_MISSING, keepdim: bool = False):
    """``log(exp(input).sum(dim))``, computed without overflow.

    Args:
        input: the tensor (integer and bool inputs are computed in the default float dtype).
        dim: a dim or a tuple of dims to reduce.
        keepdim: keep the reduced dims with size 1. Default: False.
    """
    _dim_required("logsumexp", dim)
    if dim is None:
        raise TypeError("logsumexp(): argument 'dim' must be tuple of ints, not NoneType")
    if not input.dtype.is_floating_point:
        input = input.to(get_default_dtype())
    if isinstance(dim, (tuple, list)) and len(dim) == 0:
        dims = tuple(range(input.ndim))
    else:
        dims = normalize_dims(dim, input.ndim)
    return unary(LOGSUMEXP, input, {"dims": dims, "keepdim": keepdim})

