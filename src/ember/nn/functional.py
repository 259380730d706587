"""``ember.nn.functional``: the stateless functions behind the layers."""

from __future__ import annotations

import warnings

import numpy as np

from .. import ops
from ..creation import rand_like, zeros
from ..dtype import SCALAR_TYPE_NAMES
from ..ops import loss as _loss
from ..ops._apply import apply, broadcast_error
from ..ops.conv import conv1d, conv2d
from ..ops.normalization import batch_norm
from ..ops.pool import adaptive_avg_pool2d, avg_pool2d, max_pool2d
from ..ops.registry import defop
from ..tensor import Tensor
from . import _reduction

__all__ = ["linear", "relu", "sigmoid", "tanh", "dropout", "conv1d", "conv2d", "max_pool2d",
           "avg_pool2d", "adaptive_avg_pool2d", "batch_norm", "softmax", "log_softmax",
           "cross_entropy", "nll_loss", "mse_loss"]

def _addmm_forward(bias, mat1, mat2):
    out = mat1 @ mat2
    out += bias
    return out


# ``bias + mat1 @ mat2`` as one node, as PyTorch records a 2-d linear layer. The engine sums
# the bias gradient back over the broadcast batch dim.
_ADDMM = defop("addmm", inputs=("self", "mat1", "mat2"), forward=_addmm_forward,
               derivatives={
                   "self": lambda grad: grad,
                   "mat1": lambda grad, mat2: grad.mm(mat2.t()),
                   "mat2": lambda grad, mat1: mat1.t().mm(grad),
               }, on_arrays={
                   "self": lambda grad: grad,
                   "mat1": lambda grad, mat2: grad @ mat2.T,
                   # mat2 is the weight's transpose (``linear``): computed transposed, the
                   # gradient is C-contiguous once TBackward0 turns it back, and becomes the
                   # weight's ``.grad`` without a copy
                   "mat2": lambda grad, mat1: (grad.T @ mat1).T,
               })


def _addmm(bias: Tensor, mat1: Tensor, mat2: Tensor) -> Tensor:
    """``bias + mat1 @ mat2`` for 2-d ``mat1``/``mat2`` with PyTorch's checks."""
    (n, k), (k2, m) = mat1.shape, mat2.shape
    if k != k2:
        raise RuntimeError(f"mat1 and mat2 shapes cannot be multiplied ({n}x{k} and {k2}x{m})")
    if mat1.dtype is not mat2.dtype:
        raise RuntimeError(f"mat1 and mat2 must have the same dtype, but got "
                           f"{SCALAR_TYPE_NAMES[mat1.dtype.name]} and "
                           f"{SCALAR_TYPE_NAMES[mat2.dtype.name]}")
    if bias.dtype is not mat2.dtype:
        raise RuntimeError(f"self and mat2 must have the same dtype, but got "
                           f"{SCALAR_TYPE_NAMES[bias.dtype.name]} and "
                           f"{SCALAR_TYPE_NAMES[mat2.dtype.name]}")
    if type(mat1._data) is not type(mat2._data) or type(bias._data) is not type(mat2._data):
        from ..ops._apply import device_error
        other = mat1 if type(mat1._data) is not type(mat2._data) else bias
        raise device_error(other, mat2)
    if bias.ndim > 2 or any(b not in (1, o) for b, o in zip(bias.shape[::-1], (m, n))):
        bias.detach().expand(n, m)  # raises PyTorch's expand error
    return apply(_ADDMM, (bias, mat1, mat2))


def linear(input: Tensor, weight: Tensor, bias: Tensor | None = None) -> Tensor:
    """Apply the affine map ``y = x A^T + b``.

    Args:
        input: ``(*, in_features)``.
        weight: ``(out_features, in_features)`` (or ``(in_features,)``).
        bias: ``(out_features,)`` or None.

    Returns:
        ``(*, out_features)``.
    """
    if input.ndim == 0 or weight.ndim == 0:
        raise RuntimeError(f"both arguments to linear need to be at least 1D, but they are "
                           f"{input.ndim}D and {weight.ndim}D")
    weight_t = weight.t()
    if bias is None:
        return input.matmul(weight_t)
    if weight.ndim != 2:
        raise RuntimeError(f"mat2 must be a matrix, got {weight.ndim}-D tensor")
    if input.ndim == 2:
        return _addmm(bias, input, weight_t)
    if bias.ndim <= 1:
        # Fold the leading dims into one batch dim, as PyTorch does.
        out = _addmm(bias, input.reshape(-1, input.shape[-1]), weight_t)
        return out.view(*input.shape[:-1], out.shape[-1])
    return input.matmul(weight_t) + bias


def relu(input: Tensor, inplace: bool = False) -> Tensor:
    """Apply ``max(0, x)`` elementwise (in place with ``inplace=True``)."""
    return input.relu_() if inplace else ops.relu(input)


def sigmoid(input: Tensor) -> Tensor:
    """Apply ``1 / (1 + exp(-x))`` elementwise."""
    return ops.sigmoid(input)


def tanh(input: Tensor) -> Tensor:
    """Apply the hyperbolic tangent elementwise."""
    return ops.tanh(input)


def _check_dropout_p(p: float) -> None:
    if p < 0 or p > 1:
        raise ValueError(f"dropout probability has to be between 0 and 1, but got {p}")


def dropout(input: Tensor, p: float = 0.5, training: bool = True,
            inplace: bool = False) -> Tensor:
    """During training, zero each element with probability ``p`` and scale the others by
    ``1 / (1 - p)``; otherwise return ``input``. The mask multiplies the input, so the
    gradient node is ``MulBackward0``, as in PyTorch."""
    _check_dropout_p(p)
    if not training or p == 0:
        return input
    if p == 1:
        zero = zeros((), dtype=input.dtype, device=input.device)
        return input.mul_(zero) if inplace else input * zero
    if not input.is_floating_point():
        raise RuntimeError("result type Float can't be cast to the desired output type "
                           f"{SCALAR_TYPE_NAMES[input.dtype.name]}")
    # Keep an element where a U(0, 1) draw falls below 1 - p: a Bernoulli(1 - p) mask.
    mask = (rand_like(input) < 1 - p).to(input.dtype).div_(1 - p)
    return input.mul_(mask) if inplace else input * mask


# ---- softmax and the losses ------------------------------------------------------------------
def _get_softmax_dim(name: str, ndim: int, stacklevel: int) -> int:
    warnings.warn(f"Implicit dimension choice for {name} has been deprecated. Change the call "
                  "to include dim=X as an argument.", stacklevel=stacklevel)
    return 0 if ndim in (0, 1, 3) else 1


def softmax(input: Tensor, dim: int | None = None, _stacklevel: int = 3,
            dtype=None) -> Tensor:
    """Rescale the slices of ``input`` along ``dim`` to be positive and sum to 1:
    ``exp(x_i) / sum_j exp(x_j)``.

    Args:
        input: the tensor.
        dim: the dim to normalise over. Left out, it is chosen as PyTorch's deprecated
            implicit choice does (0 for 0-, 1- and 3-d inputs, else 1), with a warning.
        dtype: cast ``input`` to this dtype first. Default: None.
    """
    if dim is None:
        dim = _get_softmax_dim("softmax", input.dim(), _stacklevel)
    return ops.softmax(input, dim, dtype=dtype)


def log_softmax(input: Tensor, dim: int | None = None, _stacklevel: int = 3,
                dtype=None) -> Tensor:
    """``log(softmax(input, dim))``, computed stably. Arguments as for ``softmax``."""
    if dim is None:
        dim = _get_softmax_dim("log_softmax", input.dim(), _stacklevel)
    return ops.log_softmax(input, dim, dtype=dtype)


def cross_entropy(input: Tensor, target: Tensor, weight: Tensor | None = None,
                  size_average: bool | None = None, ignore_index: int = -100,
                  reduce: bool | None = None, reduction: str = "mean",
                  label_smoothing: float = 0.0) -> Tensor:
    """The cross entropy between the logits ``input`` and ``target``: class indices, or class
    probabilities of the input's shape.

    Args:
        input: unnormalised logits, ``(C)``, ``(N, C)`` or ``(N, C, d1, ...)``.
        target: class indices ``()``, ``(N)`` or ``(N, d1, ...)`` (int64), or probabilities
            shaped as ``input``.
        weight: a rescaling weight for each class, ``(C)``. Default: None.
        ignore_index: a target value that is ignored (class indices only). Default: -100.
        reduction: 'none' | 'mean' | 'sum'. Default: 'mean'.
        label_smoothing: in [0.0, 1.0]: the share of the uniform distribution mixed into the
            target. Default: 0.0.
        size_average, reduce: deprecated (see ``reduction``).
    """
    reduction = _reduction.resolve(size_average, reduce, reduction)
    return _loss.cross_entropy(input, target, weight, ignore_index, reduction, label_smoothing)


def nll_loss(input: Tensor, target: Tensor, weight: Tensor | None = None,
             size_average: bool | None = None, ignore_index: int = -100,
             reduce: bool | None = None, reduction: str = "mean") -> Tensor:
    """The negative log likelihood loss of log-probabilities ``input`` for class indices
    ``target``: ``-weight[t] * input[n, t]``, averaged over the total weight by default.

    Args:
        input: log-probabilities, ``(C)``, ``(N, C)`` or ``(N, C, d1, ...)``.
        target: class indices, ``()``, ``(N)`` or ``(N, d1, ...)`` (int64 or uint8).
        weight: a rescaling weight for each class, ``(C)``. Default: None.
        ignore_index: a target value that is ignored. Default: -100.
        reduction: 'none' | 'mean' | 'sum'. Default: 'mean'.
        size_average, reduce: deprecated (see ``reduction``).
    """
    reduction = _reduction.resolve(size_average, reduce, reduction)
    return _loss.nll_loss(input, target, weight, ignore_index, reduction)


def mse_loss(input: Tensor, target: Tensor, size_average: bool | None = None,
             reduce: bool | None = None, reduction: str = "mean",
             weight: Tensor | None = None) -> Tensor:
    """The squared error ``(input - target) ** 2``, averaged, summed or elementwise.

    ``target`` is broadcast against ``input`` (with PyTorch's warning when their sizes
    differ). With ``weight`` (the input's size), each squared error is weighted, and the mean
    is over the total weight.
    """
    if not isinstance(target, Tensor):
        raise AttributeError(f"'{type(target).__name__}' object has no attribute 'size'")
    if target.size() != input.size():
        warnings.warn(f"Using a target size ({target.size()}) that is different to the input "
                      f"size ({input.size()}). This will likely lead to incorrect results due "
                      "to broadcasting. Please ensure they have the same size.", stacklevel=2)
    if size_average is not None or reduce is not None:
        reduction = _reduction.legacy_get_string(size_average, reduce)
    input, target = _broadcast_pair(input, target)
    if weight is not None:
        if weight.size() != input.size():
            raise ValueError("Weights and input must have the same size.")
        weighted = ops.pow(input - target, 2) * weight
        if reduction == "none":
            return weighted
        if reduction == "sum":
            return ops.sum(weighted)
        if reduction == "mean":
            return ops.sum(weighted) / ops.sum(weight)
        raise ValueError(f"Invalid reduction mode: {reduction}. Expected one of 'none', "
                         "'mean', 'sum'.")
    return _loss.mse_loss(input, target, "mean" if _reduction.get_enum(reduction) == 1
                          else reduction)


def _broadcast_pair(a: Tensor, b: Tensor) -> tuple[Tensor, Tensor]:
    """``broadcast_tensors(a, b)``: each expanded to the common shape (unchanged if it has
    it already)."""
    if a.shape == b.shape:
        return a, b
    err = broadcast_error(a.shape, b.shape)
    if err is not None:
        raise err
    shape = np.broadcast_shapes(tuple(a.shape), tuple(b.shape))
    return (a if a.shape == shape else a.expand(shape),
            b if b.shape == shape else b.expand(shape))
