"""Loss ops: ``nll_loss`` and ``mse_loss`` (one node each, ``NllLossBackward0`` and
``MseLossBackward0`` as in PyTorch), and ``cross_entropy`` composed from ``log_softmax`` and
``nll_loss`` (or, for probability targets and label smoothing, from ember ops, as PyTorch
composes it).

``nll_loss`` is linear in its input: its derivative multiplies the output gradient by a
constant array that holds ``-weight[target]`` (divided by the total weight for
``reduction='mean'``) at each target position, so it is differentiable again with no extra
rule.
"""

from __future__ import annotations

import math
import numbers

import numpy as np

from ..backend import array_device, array_module
from ..dtype import int64, result_type, uint8
from ._apply import apply, binary, unary
from .activation import log_softmax
from .pointwise import _mul_scalar, where
from .reduction import _type_name
from .registry import Bound, defop

__all__ = ["nll_loss", "mse_loss", "cross_entropy", "check_reduction"]

_REDUCTIONS = ("none", "mean", "sum")


def check_reduction(reduction: str) -> None:
    """PyTorch's ValueError for a ``reduction`` other than 'none', 'mean' and 'sum'."""
    if reduction not in _REDUCTIONS:
        raise ValueError(f"{reduction} is not a valid value for reduction")


# ---- nll_loss ------------------------------------------------------------------------------
def _rows(x):
    """The input as ``(samples, classes)``: the class dim is dim 1 (dim 0 of a 1-d input)."""
    if x.ndim == 1:
        return x.reshape(1, -1)
    if x.ndim == 2:
        return x
    # (the row count spelled out: -1 cannot be inferred when there are no classes)
    return np.moveaxis(x, 1, -1).reshape(math.prod(x.shape[:1] + x.shape[2:]), x.shape[1])


def _nll_forward(x, target, weights, valid, total, reduction, out_shape):
    xp = array_module(array_device(x))
    rows = _rows(x)
    picked = rows[xp.arange(rows.shape[0]), target] if rows.shape[1] else \
        xp.zeros(target.shape, dtype=x.dtype)  # no classes: every target is ignored
    losses = xp.where(valid, -(picked * weights), xp.zeros((), dtype=x.dtype))
    if reduction == "none":
        return losses.reshape(out_shape)
    out = xp.sum(losses)
    if reduction == "mean":
        with np.errstate(divide="ignore", invalid="ignore"):  # no weight at all: nan
            out = out / total
    return xp.asarray(out, dtype=x.dtype)


def _nll_coefficients(shape, dtype, target, weights, valid, total, reduction):
    """d loss / d input for a unit output gradient (per sample for 'none'): an array of the
    input's shape, ``-weight[target]`` at each target position and zero elsewhere."""
    xp = array_module(array_device(target))
    classes = shape[0] if len(shape) == 1 else shape[1]
    coef = xp.zeros((target.shape[0], classes), dtype=dtype)
    scale = -weights
    if reduction == "mean":
        with np.errstate(divide="ignore", invalid="ignore"):
            scale = scale / total
    rows = xp.arange(target.shape[0])[valid]
    coef[rows, target[valid]] = scale[valid]
    if len(shape) == 1:
        return coef.reshape(classes)
    if len(shape) == 2:
        return coef
    return xp.moveaxis(coef.reshape(shape[0], *shape[2:], classes), -1, 1)


def _nll_grad(grad, self_shape, target, weights, valid, total, reduction):
    coef = Bound.new(_nll_coefficients(self_shape, grad._data.dtype, target, weights, valid,
                                       total, reduction))
    if reduction == "none" and len(self_shape) > 1:
        grad = grad.unsqueeze(1)
    return grad * coef


def _nll_grad_array(grad, self_shape, target, weights, valid, total, reduction):
    coef = _nll_coefficients(self_shape, grad.dtype, target, weights, valid, total, reduction)
    if reduction == "none" and len(self_shape) > 1:
        grad = np.expand_dims(grad, 1)
    return grad * coef


NLL_LOSS = defop("nll_loss", forward=_nll_forward, derivatives={"self": _nll_grad},
                 on_arrays={"self": _nll_grad_array}, jvp="linear")
# PyTorch's kernel for 4-d inputs (and, through views, for 3-d and 5-d and more)
NLL_LOSS2D = defop("nll_loss2d", node="NllLoss2DBackward0", forward=_nll_forward,
                   derivatives={"self": _nll_grad}, on_arrays={"self": _nll_grad_array},
                   jvp="linear")


def _check_nll(input, target, weight, reduction) -> None:
    """PyTorch's checks in ``nll_loss_nd`` and then its 1-d/2-d kernel (``nll_loss``) or its
    spatial one (``nll_loss2d``, for inputs of 3 or more dims), in their order."""
    nd = input.ndim
    if nd < 1:
        raise ValueError(f"Expected 1 or more dimensions (got {nd})")
    batch = target.shape[0] if target.ndim else 0  # (PyTorch reads a 0-d target's as 0)
    if nd != 1 and input.shape[0] != batch:
        raise ValueError(f"Expected input batch_size ({input.shape[0]}) to match target "
                         f"batch_size ({batch}).")
    if nd != 1 and target.ndim == 0:  # an empty batch and a 0-d target
        if nd == 2:
            raise IndexError("Dimension specified as 0 but tensor has no dimensions")
        if nd != 4:
            raise RuntimeError("ArrayRef: invalid slice, N = 1; size = 0")
    if nd == 3 or nd > 4:
        if target.shape[1:] != input.shape[2:]:
            expected = [input.shape[0], *input.shape[2:]]
            raise RuntimeError(f"Expected target size {expected}, got {list(target.shape)}")
    elif nd == 4 and target.ndim != 3:
        raise RuntimeError("only batches of spatial targets supported (3D tensors) but got "
                           f"targets of dimension: {target.ndim}")
    elif nd <= 2 and target.ndim > 1:
        raise RuntimeError("0D or 1D target tensor expected, multi-target not supported")
    if target.dtype is not int64 and target.dtype is not uint8:
        raise RuntimeError("expected target dtype to be Long or Byte, but got "
                           f"{_type_name(target.dtype)}")
    classes = input.shape[0] if nd == 1 else input.shape[1]
    if nd <= 2:
        if nd == 1 and target.ndim == 1 and target.shape[0] != 1:
            raise ValueError("For 1D input, 1D target must have size 1, but got target size: "
                             f"{target.shape[0]}")
        if weight is not None and (weight.ndim != 1 or weight.numel() != classes):
            raise RuntimeError(f"weight tensor should be defined either for all {classes} "
                               "classes or no classes but got weight tensor of shape: "
                               f"{list(weight.shape)}")
    else:
        if weight is not None and weight.numel() != classes:
            raise RuntimeError("weight tensor should be defined either for all or no classes")
        shape, target_shape = _spatial_shapes(input, target)
        if target_shape[1:] != shape[2:]:
            raise RuntimeError(f"size mismatch (got input: {list(shape)} , target: "
                               f"{list(target_shape)}")
    if not input.dtype.is_floating_point:
        kernel = "nll_loss_out_frame" if nd <= 2 else "nll_loss2d_forward_out_frame"
        raise NotImplementedError(f'"{kernel}" not implemented for '
                                  f"'{_type_name(input.dtype)}'")
    if weight is not None and weight.dtype is not input.dtype:
        raise RuntimeError(f"expected scalar type {_type_name(input.dtype)} but found "
                           f"{_type_name(weight.dtype)}")
    if nd > 2 and target.dtype is not int64 and (target.numel() or reduction == "none"):
        raise RuntimeError(f"expected scalar type Long but found {_type_name(target.dtype)}")


def _spatial_shapes(input, target) -> tuple:
    """The input and target shapes that PyTorch's spatial kernel sees: 4-d and 3-d, other
    shapes viewed as (N, C, 1, -1) and (N, 1, -1) (or all-zero trailing dims if empty)."""
    if input.ndim == 4:
        return tuple(input.shape), tuple(target.shape)
    n, c = input.shape[:2]
    shape = (n, c, 1, input.numel() // (n * c)) if input.numel() else (n, c, 0, 0)
    target_shape = (n, 1, target.numel() // n) if target.numel() else (n, 0, 0)
    return shape, target_shape


def _check_int(value, name: str, fn: str, position: int) -> None:
    """PyTorch's argument parser's TypeError for an int argument."""
    if not isinstance(value, (int, np.integer)) or isinstance(value, bool):
        raise TypeError(f"{fn}(): argument '{name}' (position {position}) must be int, not "
                        f"{type(value).__name__}")


def nll_loss(input, target, weight=None, ignore_index: int = -100, reduction: str = "mean"):
    """The negative log likelihood loss: ``-weight[t] * input[n, t]`` for each sample's
    class index ``t = target[n]``, averaged (by the total weight), summed, or per sample.

    Args:
        input: log-probabilities, ``(C)``, ``(N, C)`` or ``(N, C, d1, ...)``.
        target: class indices (int64, or uint8 for inputs of at most 2 dims), ``()``,
            ``(N)`` or ``(N, d1, ...)``.
        weight: a rescaling weight for each class, ``(C)``. Default: None.
        ignore_index: a target value that contributes neither loss nor weight.
        reduction: 'none' | 'mean' | 'sum'. Default: 'mean'.
    """
    check_reduction(reduction)
    _check_int(ignore_index, "ignore_index", "nll_loss_nd", 5)
    _check_nll(input, target, weight, reduction)
    classes = input.shape[0] if input.ndim == 1 else input.shape[1]
    xp = array_module(input.device)
    dtype = input._data.dtype
    t = target._data.reshape(-1).astype(np.int64)
    valid = t != ignore_index
    bad = valid & ((t < 0) | (t >= classes))
    if bad.any():
        raise IndexError(f"Target {int(t[bad][0])} is out of bounds.")
    t = xp.where(valid, t, 0)
    weights = weight._data.reshape(-1)[t] if weight is not None and classes else \
        xp.ones(t.shape, dtype=dtype)  # (no classes: every target is ignored)
    weights = xp.where(valid, weights, xp.zeros((), dtype=dtype))
    total = xp.sum(weights)
    args = {"target": t, "weights": weights, "valid": valid, "total": total,
            "reduction": reduction}
    if input.ndim <= 2:
        args["out_shape"] = () if input.ndim == 1 else tuple(target.shape)
        return unary(NLL_LOSS, input, args)
    if input.ndim == 4:
        args["out_shape"] = tuple(target.shape)
        return unary(NLL_LOSS2D, input, args)
    # As PyTorch's nll_loss_nd: other shapes go to the 2-d kernel as (N, C, 1, -1) views.
    shape, args["out_shape"] = _spatial_shapes(input, target)
    out = unary(NLL_LOSS2D, input.contiguous().view(shape), args)
    return out.view(input.shape[0], *input.shape[2:]) if reduction == "none" else out


# ---- mse_loss ------------------------------------------------------------------------------
def _mse_forward(x, t, reduction, dtype):
    d = x.astype(dtype, copy=False) - t.astype(dtype, copy=False)
    sq = d * d
    if reduction == "none":
        return sq
    xp = array_module(array_device(sq))
    with np.errstate(invalid="ignore", divide="ignore"):  # the mean of nothing is nan
        out = xp.sum(sq) if reduction == "sum" else xp.sum(sq) / sq.size
    return xp.asarray(out, dtype=dtype)


def _mse_backward(grad, a, b, reduction):
    """PyTorch's mse_loss_backward: ``norm * (a - b) * grad``, norm 2 (2 / numel for mean)."""
    numel = max(a.numel(), b.numel())
    norm = 2.0 if reduction != "mean" else 2.0 / numel if numel else math.inf
    return _mul_scalar(a - b, norm) * grad


def _mse_jvp(tangents, inputs, attrs):
    """PyTorch's mse_loss_jvp: the reduction of ``2 (self - target) (self_t - target_t)``
    (so the mean over no elements gives a nan tangent, as it gives a nan loss)."""
    (self, target), (self_t, target_t) = inputs, tangents
    diff = self_t if target_t is None else -target_t if self_t is None else self_t - target_t
    pointwise = _mul_scalar(self - target, 2.0) * diff
    reduction = attrs["reduction"]
    return pointwise if reduction == "none" else \
        pointwise.sum() if reduction == "sum" else pointwise.mean()


MSE_LOSS = defop("mse_loss", inputs=("self", "target"), forward=_mse_forward, derivatives={
    "self": lambda grad, self, target, reduction: _mse_backward(grad, self, target, reduction),
    "target": lambda grad, self, target, reduction:
        _mse_backward(grad, target, self, reduction),
}, jvp=_mse_jvp)


def mse_loss(input, target, reduction: str = "mean"):
    """The squared error ``(input - target) ** 2`` of tensors of the same shape, averaged,
    summed or elementwise (``reduction``: 'mean' | 'sum' | 'none')."""
    check_reduction(reduction)
    dt = result_type(input, target)
    if not dt.is_floating_point:
        raise NotImplementedError(f"\"mse_cpu\" not implemented for '{_type_name(dt)}'")
    return apply(MSE_LOSS, (input, target), {"reduction": reduction, "dtype": dt.np})


# ---- cross_entropy -------------------------------------------------------------------------
# ``t / n`` for a Python number ``n`` as PyTorch's C++ composite writes it (div.Scalar): one
# edge, node DivBackward1.
DIV_SCALAR = defop("div", inputs=("self", "other"), node="DivBackward1", no_edge=("other",),
                   forward=np.true_divide,
                   derivatives={"self": lambda grad, other: binary(DIV_SCALAR, grad, other)})


def _class_weight_view(weight, ndim: int, class_dim: int):
    shape = [1] * ndim
    shape[class_dim] = weight.shape[0]
    return weight.view(*shape)


def _per_class(label_smoothing: float, classes: int) -> float:
    """``label_smoothing / classes`` as C++ divides doubles (no classes: inf)."""
    return label_smoothing / classes if classes else math.inf


def _check_label_smoothing(label_smoothing: float) -> None:
    if label_smoothing > 1.0:  # (a C++ double, printed as C++ prints it)
        raise RuntimeError("label_smoothing must be between 0.0 and 1.0. Got: "
                           f"{label_smoothing:g}")


def _prob_target(input, target, weight, reduction, label_smoothing, class_dim, classes):
    if weight is not None and (weight.ndim != 1 or weight.numel() != classes):
        raise RuntimeError(f"cross_entropy: weight tensor should be defined either for all "
                           f"{classes} classes or no classes but got weight tensor of shape: "
                           f"{list(weight.shape)}")
    logp = log_softmax(input, class_dim)
    if label_smoothing > 0.0:
        _check_label_smoothing(label_smoothing)
        target = _mul_scalar(target, 1 - label_smoothing) + _per_class(label_smoothing,
                                                                        classes)
    terms = logp * target
    if weight is not None:
        terms = terms * _class_weight_view(weight, input.ndim, class_dim)
    if reduction == "none":
        return -terms.sum(class_dim)
    if reduction == "sum":
        return -terms.sum()
    if input.numel() == 0:  # as PyTorch: the mean of nothing is nan, filled in place
        return -terms.sum().fill_(math.nan)
    return binary(DIV_SCALAR, -terms.sum(), input.numel() // classes)


def _label_smoothing(input, target, weight, ignore_index, reduction, label_smoothing,
                     class_dim, classes):
    logp = log_softmax(input, class_dim)
    nll = nll_loss(logp, target, weight, ignore_index, reduction)
    ignored = target == ignore_index
    if weight is not None:
        smooth = -(logp * _class_weight_view(weight, input.ndim, class_dim)).sum(class_dim)
    else:
        smooth = -logp.sum(class_dim)
    smooth = where(ignored, 0.0, smooth)
    if reduction == "mean":
        if weight is not None:  # as PyTorch: weight.gather(0, the kept targets)
            kept = target[~ignored].flatten()
            if weight.ndim != 1 and kept.numel():
                raise RuntimeError("Index tensor must have the same number of dimensions as "
                                   "input tensor")
            if kept.dtype is not int64:
                raise RuntimeError("gather(): Expected dtype int32/int64 for index")
            ret = smooth.sum() / weight[kept].sum()
        else:
            ret = smooth.sum() / (~ignored).sum()
    elif reduction == "sum":
        ret = smooth.sum()
    else:
        ret = smooth
    return _mul_scalar(nll, 1 - label_smoothing) + _mul_scalar(ret, _per_class(label_smoothing,
                                                                               classes))


def cross_entropy(input, target, weight=None, ignore_index: int = -100,
                  reduction: str = "mean", label_smoothing: float = 0.0):
    """The cross entropy between the softmax of ``input`` (unnormalised logits) and
    ``target``: class indices (``nll_loss(log_softmax(input, 1), target)``) or, where
    ``target`` has the input's shape, class probabilities.

    Args:
        input: logits, ``(C)``, ``(N, C)`` or ``(N, C, d1, ...)``.
        target: class indices of shape ``()``, ``(N)`` or ``(N, d1, ...)``, or probabilities
            of the input's shape.
        weight: a rescaling weight for each class, ``(C)``. Default: None.
        ignore_index: a class index that is ignored (class-index targets only).
        reduction: 'none' | 'mean' | 'sum'. Default: 'mean'.
        label_smoothing: in [0, 1]: mix the target with the uniform distribution.
    """
    check_reduction(reduction)
    _check_int(ignore_index, "ignore_index", "cross_entropy_loss", 5)
    if not isinstance(label_smoothing, (numbers.Real, Bound.Tensor)):
        raise TypeError("cross_entropy_loss(): argument 'label_smoothing' (position 6) must be "
                        f"float, not {type(label_smoothing).__name__}")
    class_dim = 0 if input.ndim == 1 else 1
    if tuple(input.shape) == tuple(target.shape):
        if not target.dtype.is_floating_point:
            raise RuntimeError("Expected floating point type for target with class "
                               f"probabilities, got {_type_name(target.dtype)}")
        if ignore_index >= 0:
            raise RuntimeError("ignore_index is not supported for floating point target")
        if input.ndim == 0:  # PyTorch reads input.size(1)
            raise IndexError("Dimension specified as 1 but tensor has no dimensions")
        return _prob_target(input, target, weight, reduction, label_smoothing, class_dim,
                            input.shape[class_dim])
    if label_smoothing > 0.0:
        _check_label_smoothing(label_smoothing)
        return _label_smoothing(input, target, weight, ignore_index, reduction,
                                label_smoothing, class_dim, input.shape[class_dim])
    return nll_loss(log_softmax(input, class_dim), target, weight, ignore_index, reduction)
