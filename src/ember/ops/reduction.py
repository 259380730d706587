"""Reductions: sum, mean, prod, max, min, amax, amin, argmax, argmin, all, any, and
``sum_to_size``."""

from __future__ import annotations

import builtins
import math

import numpy as np

from ..autograd.forward_grad import AfterOp
from ..autograd.grad_mode import GradMode
from ..backend import array_module
from ..dtype import SCALAR_TYPE_NAMES, get_default_dtype
from ..dtype import dtype as DType
from . import return_types
from ._apply import after_op, apply, unary
from .dims import normalize_dim, normalize_dims
from .pointwise import invalid_arguments, not_tensor, type_name, where
from .registry import Bound, defop

return_types_max = return_types.max
return_types_min = return_types.min


def restore_reduced(t, ndim, dims, keepdim):
    """``t`` with its reduced dims back as size 1 (PyTorch's ``restore_reduced_dims``)."""
    if not keepdim and ndim:
        for d in sorted(dims):
            t = t.unsqueeze(d)
    return t


def expand_reduced(grad, self_shape, dims, keepdim):
    """Broadcast the gradient of a reduction back over the reduced dims."""
    return restore_reduced(grad, len(self_shape), dims, keepdim).expand(self_shape)


def _sum_forward(x, dims, keepdim, dtype):
    if x.__class__ is np.ndarray:  # np.sum's Python wrapper costs more than a small sum
        return np.add.reduce(x, axis=dims, keepdims=keepdim, dtype=dtype)
    return np.sum(x, axis=dims, keepdims=keepdim, dtype=dtype)


def _expand_reduced_array(grad, self_shape, dims, keepdim):
    if not keepdim and len(self_shape):  # a reshape: np.expand_dims is slow Python
        grad = grad.reshape([1 if i in dims else n for i, n in enumerate(self_shape)])
    if grad.__class__ is np.ndarray and grad.size == 1 and math.prod(self_shape) < _DENSE_MAX:
        # a small dense array costs less than np.broadcast_to's Python
        out = np.empty(self_shape, dtype=grad.dtype)
        out[...] = grad
        return out
    return np.broadcast_to(grad, self_shape)


_DENSE_MAX = 1 << 16  # elements


def _mean_grad_array(grad, self_shape, dims, keepdim):
    n = math.prod(self_shape[d] for d in dims) if self_shape else 1
    return np.true_divide(_expand_reduced_array(grad, self_shape, dims, keepdim), n)


_SUM_GRAD = {"self": lambda grad, self_shape, dims, keepdim:
             expand_reduced(grad, self_shape, dims, keepdim)}
_SUM_GRAD_ARRAY = {"self": _expand_reduced_array}
SUM = defop("sum", forward=_sum_forward, derivatives=_SUM_GRAD, on_arrays=_SUM_GRAD_ARRAY)
SUM_DIM = defop("sum", node="SumBackward1", forward=_sum_forward, derivatives=_SUM_GRAD,
                on_arrays=_SUM_GRAD_ARRAY)


def _sum_dtype(x, dtype):
    if dtype is not None:
        return dtype.np
    return np.int64 if x.dtype.kind in "biu" else None


def _reduce_dims(dim, ndim):
    """The dims a reduction runs over: all of them for None or an empty list, as in
    PyTorch."""
    if isinstance(dim, (tuple, list)) and len(dim) == 0:
        return tuple(range(ndim))
    return normalize_dims(dim, ndim)


class _Unset:
    """The default of a reduction's ``dim`` and ``keepdim``: PyTorch tells an argument that
    was not given from one given as None (``keepdim`` alone, or ``dim=None`` where the op
    takes one int, match no signature)."""

    __slots__ = ()

    def __repr__(self) -> str:
        return "<not given>"


UNSET = _Unset()
_SUM_SIGNATURES = (
    "Tensor input, *, ember.dtype dtype = None",
    "Tensor input, tuple of ints dim, bool keepdim = False, *, ember.dtype dtype = None, "
    "Tensor out = None")
_MEAN_SIGNATURES = (
    "Tensor input, *, ember.dtype dtype = None, Tensor out = None",) + _SUM_SIGNATURES[1:]


def _given(input, dim, keepdim, dtype=None) -> str:
    """The call's arguments as PyTorch's argument errors list them."""
    got = [type_name(input)]
    if dim is not UNSET:
        got.append(type_name(dim))
    if keepdim is not UNSET:
        got.append(f"keepdim={type_name(keepdim)}")
    if dtype is not None:
        got.append(f"dtype={type_name(dtype)}")
    return ", ".join(got)


def _dims_arg(name, input, dim, keepdim, dtype, signatures):
    """The ``dim`` of a reduction over a tuple of dims (``sum``, ``mean``), checked as
    PyTorch's argument parser checks it, with ``keepdim`` and ``dtype``: (dim, keepdim)."""
    if dim.__class__ is int and dtype is None and input.__class__ is Bound.Tensor and \
            (keepdim is UNSET or keepdim.__class__ is bool):
        return dim, keepdim is True  # the common call, ``x.sum(1)``
    if not isinstance(input, Bound.Tensor):
        raise not_tensor(name, "input", 1, input)
    if dim is UNSET:
        if keepdim is not UNSET or (dtype is not None and not isinstance(dtype, DType)):
            raise invalid_arguments(name, _given(input, dim, keepdim, dtype), *signatures)
        return None, False
    if dim is not None and dim.__class__ is not int:
        if _is_int(dim):
            dim = int(dim)
        elif isinstance(dim, (tuple, list)) and builtins.all(_is_int(d) for d in dim):
            dim = tuple(int(d) for d in dim)
        elif hasattr(dim, "__index__") and not isinstance(dim, (bool, float)):
            dim = dim.__index__()  # a 0-d integer tensor
        else:
            raise invalid_arguments(name, _given(input, dim, UNSET), *signatures)
    _check_keepdim_dtype(name, keepdim, dtype)
    return dim, keepdim is True


def _check_keepdim_dtype(name, keepdim, dtype=None) -> None:
    if keepdim is not UNSET and keepdim.__class__ is not bool:
        raise TypeError(f"{name}(): argument 'keepdim' must be bool, not {type_name(keepdim)}")
    if dtype is not None and not isinstance(dtype, DType):
        raise TypeError(f"{name}(): argument 'dtype' must be ember.dtype, not "
                        f"{type_name(dtype)}")


def sum(input, dim=UNSET, keepdim=UNSET, *, dtype=None):
    """Sum over all elements, or over ``dim`` (an int or a tuple of ints)."""
    dim, keepdim = _dims_arg("sum", input, dim, keepdim, dtype, _SUM_SIGNATURES)
    dims = _reduce_dims(dim, input.ndim)
    op = SUM if dim is None else SUM_DIM
    return unary(op, input, {"dims": dims, "keepdim": keepdim,
                             "dtype": _sum_dtype(input._data, dtype)})


def _mean_check(input, dtype, name="mean"):
    dt = dtype or input.dtype
    if not dt.is_floating_point:
        which = "Input" if dtype is None else "Optional"
        raise RuntimeError(
            f"{name}(): could not infer output dtype. {which} dtype must be either a floating "
            f"point or complex dtype. Got: {_type_name(dt)}"
        )


def _type_name(dt) -> str:
    return SCALAR_TYPE_NAMES[dt.name]


def _mean_forward(x, dims, keepdim, dtype):
    # The sum's ufunc and one division, not np.mean: its warnings (overflow, inf - inf) come
    # from NumPy's own module, past ember's filter.
    out = np.dtype(dtype or x.dtype)
    acc = np.float32 if out == np.float16 else out  # half is summed in float, as in PyTorch
    total = _sum_forward(x, dims, keepdim, acc)
    n = math.prod(x.shape[d] for d in dims)
    if n:
        mean = np.true_divide(total, n)
    else:
        with np.errstate(invalid="ignore"):  # the mean of nothing is nan, silently
            mean = np.true_divide(total, n)
    return mean if acc is out else mean.astype(out)


def _mean_grad(grad, self_shape, dims, keepdim):
    n = math.prod(self_shape[d] for d in dims) if self_shape else 1
    return expand_reduced(grad, self_shape, dims, keepdim) / n


MEAN = defop("mean", forward=_mean_forward, derivatives={"self": _mean_grad},
             on_arrays={"self": _mean_grad_array}, jvp="linear")
MEAN_DIM = defop("mean", node="MeanBackward1", forward=_mean_forward,
                 derivatives={"self": _mean_grad}, on_arrays={"self": _mean_grad_array},
                 jvp="linear")


def mean(input, dim=UNSET, keepdim=UNSET, *, dtype=None):
    """Mean over all elements or over ``dim``; floating dtypes only, as in PyTorch."""
    dim, keepdim = _dims_arg("mean", input, dim, keepdim, dtype, _MEAN_SIGNATURES)
    _mean_check(input, dtype)
    dims = _reduce_dims(dim, input.ndim)
    op = MEAN if dim is None else MEAN_DIM
    return unary(op, input, {"dims": dims, "keepdim": keepdim,
                             "dtype": dtype.np if dtype is not None else None})


def _prod_forward(x, dims, keepdim, dtype):
    if x.__class__ is np.ndarray:  # the ufunc itself: its overflow warnings are ember's, muted
        return np.multiply.reduce(x, axis=dims, keepdims=keepdim, dtype=dtype)
    return np.prod(x, axis=dims, keepdims=keepdim, dtype=dtype)


def _prod_others(self, dims):
    """For each element, the product of the other elements over ``dims``, from
    differentiable ops, so that it has exact derivatives of every order even where elements
    are zero. Costs n times the memory for n reduced elements: it runs only when a graph of
    the gradient is built and the input has zeros."""
    ndim = self.ndim
    keep = [d for d in range(ndim) if d not in dims]
    perm = keep + list(dims)
    x = self.permute(perm)
    lead = tuple(x.shape[:len(keep)])
    reduced = tuple(x.shape[len(keep):])
    n = math.prod(reduced)
    x = x.reshape(*lead, n)
    diagonal = Bound.new(array_module(self.device).eye(n, dtype=bool))
    rows = where(diagonal, 1.0, x.unsqueeze(-2).expand(*lead, n, n))
    others = prod_dims(rows, (rows.ndim - 1,)).reshape(*lead, *reduced)
    inverse = [0] * ndim
    for i, p in enumerate(perm):
        inverse[p] = i
    return others.permute(inverse)


def _prod_grad(grad, self, result, dims, keepdim):
    shape = self.shape
    if not shape:
        return grad
    if not (self._data == 0).any():
        return expand_reduced(grad, shape, dims, keepdim) * (
            expand_reduced(result, shape, dims, keepdim) / self)
    if GradMode.enabled:  # the gradient is being differentiated: keep it exact
        return expand_reduced(grad, shape, dims, keepdim) * _prod_others(self, dims)
    # Product of all other elements, exact where some elements are zero.
    is_zero = self == 0
    safe = where(is_zero, 1.0, self)
    result_k = expand_reduced(result, shape, dims, keepdim)
    grad_k = expand_reduced(grad, shape, dims, keepdim)
    zeros = expand_reduced(is_zero.sum(dims, keepdim=True), shape, dims, True)
    nonzero_prod = expand_reduced(safe.prod_dims(dims, keepdim=True), shape, dims, True)
    others = where(is_zero, where(zeros == 1, nonzero_prod, 0.0), result_k / safe)
    return grad_k * others


PROD = defop("prod", forward=_prod_forward, derivatives={"self": _prod_grad})
PROD_DIM = defop("prod", node="ProdBackward1", forward=_prod_forward,
                 derivatives={"self": _prod_grad})


def _is_int(dim) -> bool:
    return isinstance(dim, (int, np.integer)) and dim.__class__ is not bool


def _check_one_dim(name, input, dim, keepdim, signatures, dtype=None):
    """The ``dim`` of an op that reduces one dim (or all, without ``dim``), checked as
    PyTorch checks it: not None, nor a tuple of dims, nor ``keepdim`` without ``dim``.
    Returns (dim, keepdim), None for all dims."""
    if dim is UNSET:
        if keepdim is not UNSET or (dtype is not None and not isinstance(dtype, DType)):
            raise invalid_arguments(name, _given(input, dim, keepdim, dtype), *signatures)
        return None, False
    if dim.__class__ is not int:
        if not hasattr(dim, "__index__") or isinstance(dim, (bool, float)) or dim is None:
            raise invalid_arguments(name, _given(input, dim, UNSET), *signatures)
        dim = dim.__index__()  # a NumPy integer, or a 0-d integer tensor
    _check_keepdim_dtype(name, keepdim, dtype)
    return dim, keepdim is True


_PROD_SIGNATURES = (
    "Tensor input, *, ember.dtype dtype = None",
    "Tensor input, int dim, bool keepdim = False, *, ember.dtype dtype = None, Tensor out = None")
_MAX_SIGNATURES = (
    "Tensor input, *, Tensor out = None", "Tensor input, Tensor other, *, Tensor out = None",
    "Tensor input, int dim, bool keepdim = False, *, tuple of Tensors out = None")


def prod(input, dim=UNSET, keepdim=UNSET, *, dtype=None):
    """Product of all elements, or along ``dim`` (one dim, as in PyTorch)."""
    if not isinstance(input, Bound.Tensor):
        raise not_tensor("prod", "input", 1, input)
    dim, keepdim = _check_one_dim("prod", input, dim, keepdim, _PROD_SIGNATURES, dtype)
    dims = normalize_dims(dim, input.ndim)
    op = PROD if dim is None else PROD_DIM
    return unary(op, input, {"dims": dims, "keepdim": keepdim,
                             "dtype": _sum_dtype(input._data, dtype)})


def prod_dims(input, dims, keepdim=False):
    """Product over several dims (used by derivative formulas)."""
    return unary(PROD_DIM, input, {"dims": tuple(dims), "keepdim": keepdim, "dtype": None})


def _evenly_distribute(grad, self, result):
    """PyTorch's ``evenly_distribute_backward`` (``max()``/``min()`` without ``dim``): the
    gradient is shared equally between the elements equal to the result, or between the
    nans where the result is nan."""
    value = result._data
    mask = self.isnan() if value.dtype.kind == "f" and value != value else self == result
    return where(mask, grad / mask.sum(), 0.0)


def _scale_grad_by_count(grad, self, result, dims, keepdim):
    """PyTorch's ``amax``/``amin`` derivative: ``grad / count * mask`` over the elements equal
    to the result (so a slice whose result is nan gets nan everywhere, as in PyTorch)."""
    mask = self == restore_reduced(result, self.ndim, dims, keepdim)
    count = mask.sum(dims, keepdim=True)
    return restore_reduced(grad, self.ndim, dims, keepdim) / count * mask


def _empty_check(input, name, dims):
    """``max``/``min``/``argmax``/``argmin`` of nothing: PyTorch's errors (``dims`` are
    normalized, None for all)."""
    if input.numel() == 0:
        if dims is None:
            raise RuntimeError(
                f"{name}(): Expected reduction dim to be specified for input.numel() == 0. "
                "Specify the reduction dim with the 'dim' argument."
            )
        for d in dims:
            if input.ndim and input.shape[d] == 0:
                raise IndexError(
                    f"{name}(): Expected reduction dim {d} to have non-zero size."
                )


def _zero_numel_check_dims(input, name, dim):
    """``amax``/``amin`` of nothing: PyTorch's ``zero_numel_check_dims``, which names each
    dim as it was given."""
    if input.numel() != 0:
        return
    dims = (dim,) if _is_int(dim) else tuple(dim or ())
    if not dims:
        raise RuntimeError(
            f"{name}(): Expected reduction dim to be specified for input.numel() == 0. "
            "Specify the reduction dim with the 'dim' argument.")
    for d in dims:
        if input.shape[normalize_dim(d, input.ndim)] == 0:
            raise IndexError(f"{name}(): Expected reduction dim {d} to have non-zero size.")


def _amax_forward(x, dims, keepdim):
    return np.amax(x, axis=dims, keepdims=keepdim)


def _amin_forward(x, dims, keepdim):
    return np.amin(x, axis=dims, keepdims=keepdim)


AMAX = defop("amax", forward=_amax_forward, derivatives={"self": _scale_grad_by_count})
AMIN = defop("amin", forward=_amin_forward, derivatives={"self": _scale_grad_by_count})
MAX_ALL = defop("max", node="MaxBackward1", forward=_amax_forward,
                derivatives={"self": _evenly_distribute})
MIN_ALL = defop("min", node="MinBackward1", forward=_amin_forward,
                derivatives={"self": _evenly_distribute})


def _select_grad(grad, self_shape, dim, keepdim, indices):
    # Route the gradient to the selected position along ``dim``.
    if not self_shape:
        return grad
    if not keepdim and len(self_shape):
        grad = grad.unsqueeze(dim)
        indices = indices.unsqueeze(dim)
    iota_shape = [1] * len(self_shape)
    if self_shape:
        iota_shape[dim] = self_shape[dim]
    xp = np if type(grad._data) is np.ndarray else None
    iota = np.arange(self_shape[dim] if self_shape else 1).reshape(iota_shape or ())
    if xp is None:
        from ..backend import to_device
        iota = to_device(iota, grad.device)
    onehot = Bound.new(iota == indices._data)
    return where(onehot, grad.expand(self_shape), 0.0)


def _max_dim_forward(x, dim, keepdim, indices=None, largest=True):
    if x.ndim == 0:
        return x.copy(), np.zeros_like(x, dtype=np.int64)
    idx = np.argmax(x, axis=dim, keepdims=True) if largest else np.argmin(x, axis=dim,
                                                                            keepdims=True)
    values = np.take_along_axis(x, idx, axis=dim)
    if not keepdim:
        values = values.squeeze(dim)
        idx = idx.squeeze(dim)
    return values, idx.astype(np.int64, copy=False)


MAX_DIM = defop("max", node="MaxBackward0", forward=_max_dim_forward,
                derivatives={"self": _select_grad})
MIN_DIM = defop("min", node="MinBackward0",
                forward=lambda x, dim, keepdim, indices=None:
                _max_dim_forward(x, dim, keepdim, largest=False),
                derivatives={"self": _select_grad})


def _reduce_extreme(input, dim, keepdim, other, name, all_op, dim_op, pairwise, result_cls):
    Tensor = Bound.Tensor
    if not isinstance(input, Tensor):
        raise not_tensor(name, "input", 1, input)
    if other is not None or isinstance(dim, Tensor):
        if other is None:
            dim, other = UNSET, dim
        if dim is not UNSET or keepdim is not UNSET:
            got = ", ".join(["Tensor", "Tensor"] + ([type_name(dim)] if dim is not UNSET
                                                     else [])
                            + ([type_name(keepdim)] if keepdim is not UNSET else []))
            raise invalid_arguments(name, got, *_MAX_SIGNATURES)
        return pairwise(input, other)
    dim, keepdim = _check_one_dim(name, input, dim, keepdim, _MAX_SIGNATURES)
    if dim is None:
        _empty_check(input, name, None)
        return unary(all_op, input, {"dims": tuple(range(input.ndim)), "keepdim": False})
    d = normalize_dim(dim, input.ndim)
    _empty_check(input, name, (d,))
    x = input._data
    values, idx = dim_op.forward(x, d, keepdim)
    indices = Bound.new(idx)
    out = Bound.new(values)
    from .registry import record
    attrs = {"dim": d, "keepdim": keepdim, "indices": indices}
    if input._rg and GradMode.enabled:
        record(dim_op, (input,), (out,), attrs)
    if AfterOp.on:
        after_op(dim_op, (input,), (out,), attrs)
    return result_cls(out, indices)


def max(input, dim=UNSET, keepdim=UNSET, *, other=None):
    """The largest element; with ``dim``, ``(values, indices)`` (the first of tied
    elements); with a Tensor ``other``, ``maximum``."""
    from .pointwise import maximum
    return _reduce_extreme(input, dim, keepdim, other, "max", MAX_ALL, MAX_DIM, maximum,
                           return_types_max)


def min(input, dim=UNSET, keepdim=UNSET, *, other=None):
    """The smallest element; with ``dim``, ``(values, indices)`` (the first of tied
    elements); with a Tensor ``other``, ``minimum``."""
    from .pointwise import minimum
    return _reduce_extreme(input, dim, keepdim, other, "min", MIN_ALL, MIN_DIM, minimum,
                           return_types_min)


def amax(input, dim=(), keepdim=False):
    """The largest values over ``dim`` (all dims by default); ties share the gradient."""
    _zero_numel_check_dims(input, "amax", dim)
    dims = _reduce_dims(dim, input.ndim)
    return unary(AMAX, input, {"dims": dims, "keepdim": keepdim})


def amin(input, dim=(), keepdim=False):
    """The smallest values over ``dim`` (all dims by default); ties share the gradient."""
    _zero_numel_check_dims(input, "amin", dim)
    dims = _reduce_dims(dim, input.ndim)
    return unary(AMIN, input, {"dims": dims, "keepdim": keepdim})


def _arg_extreme(name, fn, input, dim, keepdim):
    if dim is not None and not _is_int(dim):
        raise TypeError(f"{name}(): argument 'dim' must be int, not {type(dim).__name__}")
    if input.dtype.name == "bool":
        raise RuntimeError(f"{name}(): does not support bool input")
    x = input._data
    if dim is None:
        if x.size == 0:
            raise IndexError(f"{name}(): Expected reduction dim to be specified for "
                             "input.numel() == 0.")
        return Bound.new(fn(x, keepdims=keepdim).astype(np.int64))
    d = normalize_dim(dim, input.ndim)
    if x.size == 0 and x.shape[d] == 0:
        raise IndexError(f"{name}(): Expected reduction dim {d} to have non-zero size.")
    if x.ndim == 0:
        return Bound.new(np.zeros_like(x, dtype=np.int64))  # on the input's device
    return Bound.new(fn(x, axis=d, keepdims=keepdim).astype(np.int64))


def argmax(input, dim=None, keepdim=False):
    """The index of the largest element (of the flattened input, or along ``dim``); the
    first of tied elements, or of nans."""
    return _arg_extreme("argmax", np.argmax, input, dim, keepdim)


def argmin(input, dim=None, keepdim=False):
    """The index of the smallest element (of the flattened input, or along ``dim``); the
    first of tied elements, or of nans."""
    return _arg_extreme("argmin", np.argmin, input, dim, keepdim)


def _bool_reduce(fn, input, dim, keepdim):
    x = input._data
    if dim is not None:  # an empty tuple of dims reduces none (unlike sum's), as in PyTorch
        dim = () if dim in ((), []) else normalize_dims(dim, input.ndim)
    out = fn(x, axis=dim, keepdims=keepdim)
    if x.dtype == np.uint8:  # uint8 in, uint8 out, as in PyTorch
        out = out.astype(np.uint8)
    return Bound.new(out)


def all(input, dim=None, keepdim=False):
    """Whether every element (over ``dim``: an int or a tuple of ints) is non-zero."""
    return _bool_reduce(np.all, input, dim, keepdim)


def any(input, dim=None, keepdim=False):
    """Whether some element (over ``dim``: an int or a tuple of ints) is non-zero."""
    return _bool_reduce(np.any, input, dim, keepdim)


def sum_to_size(input, *size):
    """Sum ``input`` down to ``size`` (the shape it was broadcast from): a ``sum`` over the
    leading and the broadcast dims with ``keepdim=True``, then a view without the leading
    dims, as in PyTorch."""
    shape = tuple(size[0]) if len(size) == 1 and not isinstance(size[0], int) else tuple(size)
    if tuple(input.shape) == shape:
        return input
    n = len(shape)
    lead = input.ndim - n
    if lead < 0 or builtins.any(s != 1 and s != t for s, t in zip(shape, input.shape[lead:])):
        raise RuntimeError(f"size {{{list(shape)}}} is not expandable to size "
                           f"{{{list(input.shape)}}}.")
    dims = tuple(range(lead)) + tuple(
        lead + i for i, s in enumerate(shape) if s == 1 and input.shape[lead + i] != 1)
    out = input
    if dims:
        out = unary(SUM_DIM, input, {"dims": dims, "keepdim": True,
                                     "dtype": _sum_dtype(input._data, None)})
    return out.view(shape) if lead else out


def default_float():
    return get_default_dtype()


__all__ = ["UNSET", "sum", "mean", "prod", "max", "min", "amax", "amin", "argmax", "argmin", "all",
           "any", "sum_to_size", "apply"]
