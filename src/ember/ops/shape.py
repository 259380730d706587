"""Shape and view ops. Views share storage and the version counter with their base.

A view remembers how it was made from its base (a chain of ``(function, args)`` steps) so
that after an in-place change its ``grad_fn`` can be regenerated from the base, as
PyTorch's view replay does.
"""

from __future__ import annotations

import math
import re

import numpy as np

from ..autograd.forward_grad import AfterOp
from ..autograd.grad_mode import GradMode
from ..autograd.node import Node
from ..backend import add_at, as_strided, reshape_view, storage_offset
from ..dtype import SCALAR_TYPE_NAMES
from ._apply import unary
from .dims import normalize_dim, normalize_dims
from .forward_ad import view_tangent
from .registry import (
    INFERENCE_VIEW,
    NO_GRAD_VIEW,
    Bound,
    defop,
    edge_of,
    record,
    record_unary,
)


def view_apply(op, x, attrs, replay):
    """Run view op ``op`` on ``x``: the result aliases ``x``'s storage."""
    out = _alias(x, op.forward(x._data, **attrs), replay, attrs)
    if x._rg and GradMode.enabled:
        record_unary(op, x, out, attrs)
    return out


def _alias(x, array, replay, attrs):
    """A Tensor of ``array``, a view of ``x``'s memory that ``replay(x, **attrs)`` remakes:
    it shares ``x``'s base and version counter."""
    out = Bound.new(array)
    base = x._base
    if base is None:
        base = x
        chain = ((replay, attrs),)
    else:
        chain = x._view[0] + ((replay, attrs),)
    vc = base._vc
    if vc is None:
        vc = base._vc = [0]
    out._base = base
    out._vc = vc
    out._view = (chain, vc[0])
    if x._rg and not GradMode.enabled and array.dtype == x._data.dtype:
        out._rg = True  # requires grad with its base, but takes no gradient (NoGradView)
        out._accumulator = INFERENCE_VIEW if GradMode.inference else NO_GRAD_VIEW
    if AfterOp.on:
        view_tangent(x, out, replay, attrs)
    return out


def replay_view(t, chain):
    """Apply a view chain (as stored on a view) to ``t``."""
    for fn, attrs in chain:
        t = fn(t, **attrs)
    return t


# ---- regenerating a view's grad_fn after an in-place change ---------------------------------
def _replay_array(x, chain):
    """The view of array ``x`` that ``chain`` describes (no graph is recorded)."""
    return replay_view(Bound.new(x), chain)._data


def _has_expand(chain) -> bool:
    return any(fn is _expand_to for fn, _ in chain)


def _as_strided_backward_forward(g, shape, chain):
    out = np.zeros_like(g, shape=shape)
    if not _has_expand(chain):
        _replay_array(out, chain)[...] = g
        return out
    # An expanded view reads some elements more than once: their gradients add up.
    flat = np.zeros_like(g, shape=(math.prod(shape),))
    index = _replay_array(np.arange(flat.size).reshape(shape), chain)
    add_at(flat, np.broadcast_to(index, g.shape).ravel(), g.ravel())
    return flat.reshape(shape)


AS_STRIDED_BACKWARD = defop(
    "as_strided_backward", node="AsStridedBackward1", forward=_as_strided_backward_forward,
    derivatives={"self": lambda grad, chain: unary(AS_STRIDED, grad, {"chain": chain})})
AS_STRIDED = defop(
    "as_strided", forward=lambda x, chain: _replay_array(x, chain),
    derivatives={"self": lambda grad, self_shape, chain: unary(
        AS_STRIDED_BACKWARD, grad, {"shape": self_shape, "chain": chain})})


def regenerate_grad_fn(base, chain):
    """A fresh ``grad_fn`` for the view ``chain`` of ``base`` after ``base`` (or the view)
    changed in place: PyTorch's ``AsStridedBackward0`` from the base's current node."""
    out = Bound.new(_replay_array(base._data, chain))
    return record(AS_STRIDED, (base,), (out,), {"chain": chain})


# ---- shape arithmetic --------------------------------------------------------------------
def infer_shape(shape, numel: int) -> tuple[int, ...]:
    """Resolve one ``-1`` in ``shape`` against ``numel``, with PyTorch's errors."""
    shape = tuple(int(s) for s in shape)
    neg = [i for i, s in enumerate(shape) if s == -1]
    if len(neg) > 1:
        raise RuntimeError("only one dimension can be inferred")
    for i, s in enumerate(shape):
        if s < -1:
            raise RuntimeError(f"invalid shape dimension {s} at index {i} of shape "
                               f"{list(shape)}")
    known = math.prod(s for s in shape if s != -1)
    if neg:
        if known == 0 or numel % known:
            raise RuntimeError(f"shape '{list(shape)}' is invalid for input of size {numel}")
        shape = shape[:neg[0]] + (numel // known,) + shape[neg[0] + 1:]
    elif known != numel:
        raise RuntimeError(f"shape '{list(shape)}' is invalid for input of size {numel}")
    return shape


def shape_arg(args, fn: str = "view", arg: str = "size") -> tuple:
    """Sizes given as ``f(2, 3)`` or ``f((2, 3))`` or ``f(Size)``, as ints; anything but an
    integer (a float, None) raises PyTorch's TypeError naming ``fn`` and its argument."""
    if len(args) == 1 and not isinstance(args[0], int):
        args = args[0]
    out = tuple(args)
    for i, s in enumerate(out):
        if type(s) is not int:
            if isinstance(s, float) or not hasattr(s, "__index__"):
                raise TypeError(f"{fn}(): argument '{arg}' failed to unpack the object at pos "
                                f"{i + 1} with error \"type must be tuple of ints,but got "
                                f"{type(s).__name__}\"")
            out = out[:i] + (int(s.__index__()),) + out[i + 1:]
    return out


def _view_forward(x, shape):
    try:
        # (CuPy's reshape copies where it must: ``reshape_view`` refuses that)
        out = x.reshape(shape, copy=False) if x.__class__ is np.ndarray else \
            reshape_view(x, shape)
    except (ValueError, AttributeError, TypeError):
        raise RuntimeError(
            "view size is not compatible with input tensor's size and stride (at least one "
            "dimension spans across two contiguous subspaces). Use .reshape(...) instead."
        ) from None
    if 1 in shape and out.size:  # the strides of size-1 dims are PyTorch's, not NumPy's
        strides = _view_strides(x.shape, x.strides, shape, x.itemsize)
        if strides != out.strides:
            out = as_strided(x, shape, strides)
    return out


VIEW = defop("view", forward=_view_forward, derivatives={
    "self": lambda grad, self_shape: grad.reshape(self_shape)})
UNSAFE_VIEW = defop("_unsafe_view", forward=lambda x, shape: x.reshape(shape),
                    derivatives={"self": lambda grad, self_shape: grad.reshape(self_shape)})


def view(input, *shape):
    """A view of ``input`` with a new shape (no copy; fails where strides do not allow)."""
    if not shape:
        raise TypeError("view() received an invalid combination of arguments - got (), but "
                        "expected one of:\n * (ember.dtype dtype)\n * (tuple of ints size)\n")
    shape = infer_shape(shape_arg(shape), input.numel())
    return view_apply(VIEW, input, {"shape": shape}, _view_to)


def view_dtype(input, dtype):
    """A view of ``input``'s memory read as ``dtype`` (PyTorch's ``view(dtype)``).

    With a different element size the last dimension shrinks or grows by the ratio, which
    needs it to be contiguous. The result shares storage and the version counter with
    ``input`` and never requires grad (reinterpreting bits is not differentiable)."""
    x = input._data
    new = dtype.np
    if new.itemsize != x.itemsize:
        what = (f"to view {SCALAR_TYPE_NAMES[x.dtype.name]} as "
                f"{SCALAR_TYPE_NAMES[new.name]} (different element sizes)")
        if x.ndim == 0:
            raise RuntimeError(f"self.dim() cannot be 0 {what}")
        ratio = max(new.itemsize, x.itemsize) // min(new.itemsize, x.itemsize)
        stride = input.stride()
        if stride[-1] != 1:
            raise RuntimeError(f"self.stride(-1) must be 1 {what}, but got {stride[-1]}")
        if new.itemsize > x.itemsize:
            if x.shape[-1] % ratio:
                raise RuntimeError(f"self.size(-1) must be divisible by {ratio} {what}, but "
                                   f"got {x.shape[-1]}")
            offset = input.storage_offset()
            if offset % ratio:
                raise RuntimeError(f"self.storage_offset() must be divisible by {ratio} {what}, "
                                   f"but got {offset}")
            for d, st in enumerate(stride[:-1]):
                if st % ratio:
                    raise RuntimeError(f"self.stride({d}) must be divisible by {ratio} {what}, "
                                       f"but got {st}")
    # The last axis is contiguous here, as NumPy's and CuPy's view(dtype) need.
    return _alias(input, x.view(new), _view_dtype_to, {"dtype": dtype})


def _view_dtype_to(input, dtype):
    return view_dtype(input, dtype)


def _view_to(input, shape):
    return view_apply(VIEW, input, {"shape": shape}, _view_to)


def _viewable(x, shape) -> bool:
    try:
        if x.__class__ is np.ndarray:
            x.reshape(shape, copy=False)
        else:
            reshape_view(x, shape)
        return True
    except (ValueError, AttributeError, TypeError):
        return False


def reshape(input, *shape):
    """``input`` with a new shape: a view where possible, else a copy."""
    if not shape:
        raise TypeError('reshape() missing 1 required positional arguments: "shape"')
    shape = infer_shape(shape_arg(shape, "reshape", "shape"), input.numel())
    if _viewable(input._data, shape):
        return view_apply(VIEW, input, {"shape": shape}, _view_to)
    return unary(UNSAFE_VIEW, input, {"shape": shape})


TRANSPOSE = defop("transpose",
                  forward=lambda x, dim0, dim1: x.swapaxes(dim0, dim1) if x.ndim else x.view(),
                  derivatives={"self": lambda grad, dim0, dim1: grad.transpose(dim0, dim1)})


def transpose(input, dim0: int, dim1: int):
    """Swap dims ``dim0`` and ``dim1`` (a view)."""
    n = input.ndim
    d0, d1 = normalize_dim(dim0, n), normalize_dim(dim1, n)
    return view_apply(TRANSPOSE, input, {"dim0": d0, "dim1": d1}, transpose)


def _inverse(perm):
    inv = [0] * len(perm)
    for i, p in enumerate(perm):
        inv[p] = i
    return tuple(inv)


PERMUTE = defop("permute", forward=lambda x, dims: x.transpose(dims),
                derivatives={"self": lambda grad, dims: grad.permute(_inverse(dims))})


def permute(input, *dims):
    """Reorder the dims of ``input`` (a view)."""
    if not dims:
        raise TypeError('permute() missing 1 required positional arguments: "dims"')
    dims = shape_arg(dims, "permute", "dims")
    if len(dims) != input.ndim:
        raise RuntimeError(
            "permute(sparse_coo): number of dimensions in the tensor input does not match the "
            f"length of the desired ordering of dimensions i.e. input.dim() = {input.ndim} is "
            f"not equal to len(dims) = {len(dims)}"
        )
    norm = tuple(normalize_dim(d, input.ndim) for d in dims)
    if len(set(norm)) != len(norm):
        raise RuntimeError("permute(): duplicate dims are not allowed.")
    return view_apply(PERMUTE, input, {"dims": norm}, _permute_to)


def _permute_to(input, dims):
    return view_apply(PERMUTE, input, {"dims": dims}, _permute_to)


T_OP = defop("t", forward=lambda x: x.T, derivatives={"self": lambda grad: grad.t()})


def t(input):
    """Transpose a tensor of at most 2 dims."""
    if input.ndim > 2:
        raise RuntimeError(f"t() expects a tensor with <= 2 dimensions, but self is "
                           f"{input.ndim}D")
    return view_apply(T_OP, input, {}, t)


def _squeeze_forward(x, dims):
    return x.squeeze(axis=dims) if dims else x.reshape(x.shape)


SQUEEZE = defop("squeeze", forward=_squeeze_forward, derivatives={
    "self": lambda grad, self_shape: grad.reshape(self_shape)})
SQUEEZE_DIM = defop("squeeze", node="SqueezeBackward1", forward=_squeeze_forward, derivatives={
    "self": lambda grad, self_shape: grad.reshape(self_shape)})
SQUEEZE_DIMS = defop("squeeze", node="SqueezeBackward2", forward=_squeeze_forward, derivatives={
    "self": lambda grad, self_shape: grad.reshape(self_shape)})


def squeeze(input, dim=None):
    """Remove size-1 dims (all, or the given one(s))."""
    shape = input.shape
    if dim is None:
        dims = tuple(i for i, s in enumerate(shape) if s == 1)
        return view_apply(SQUEEZE, input, {"dims": dims}, _squeeze_all)
    dims = normalize_dims(dim if isinstance(dim, int) else tuple(dim), input.ndim)
    dims = tuple(d for d in dims if input.ndim and shape[d] == 1)
    if not isinstance(dim, int):
        return view_apply(SQUEEZE_DIMS, input, {"dims": dims}, _squeeze_dim_tuple)
    return view_apply(SQUEEZE_DIM, input, {"dims": dims}, _squeeze_dims)


def _squeeze_dim_tuple(input, dims):
    return view_apply(SQUEEZE_DIMS, input, {"dims": dims}, _squeeze_dim_tuple)


def _squeeze_all(input, dims):
    return view_apply(SQUEEZE, input, {"dims": dims}, _squeeze_all)


def _squeeze_dims(input, dims):
    return view_apply(SQUEEZE_DIM, input, {"dims": dims}, _squeeze_dims)


def _unsqueeze_forward(x, dim):
    shape = x.shape
    # (a reshape that only inserts a size-1 dim never copies, on NumPy or CuPy)
    out = x.reshape(shape[:dim] + (1,) + shape[dim:])
    strides = x.strides
    # PyTorch's strides: the others unchanged (NumPy may change those of size-1 dims)
    strides = strides[:dim] + (
        x.itemsize if dim == x.ndim else x.shape[dim] * strides[dim],) + strides[dim:]
    if out.strides != strides and out.size:
        out = as_strided(x, out.shape, strides)
    return out


UNSQUEEZE = defop("unsqueeze", forward=_unsqueeze_forward,
                  derivatives={"self": lambda grad, dim: grad.squeeze(dim)})


def unsqueeze(input, dim: int):
    """Insert a size-1 dim at ``dim`` (a view)."""
    n = input.ndim + 1
    if not -n <= dim < n:
        raise IndexError(f"Dimension out of range (expected to be in range of [{-n}, {n - 1}], "
                         f"but got {dim})")
    return view_apply(UNSQUEEZE, input, {"dim": dim % n}, unsqueeze)


def expand_strides(sizes, strides, shape) -> tuple[int, ...]:
    """PyTorch's strides of ``expand(shape)`` of a tensor of ``sizes`` and ``strides``: 0 where
    a dim grows (or the input is 0-d); a kept dim keeps its stride, even of size 1 (NumPy's
    ``broadcast_to`` zeroes those); a new leading dim of size 1 steps over the dims after it."""
    out = [0] * len(shape)
    if not sizes:
        return tuple(out)
    lead = len(shape) - len(sizes)
    for i in range(len(shape) - 1, -1, -1):
        if i >= lead:
            size, stride = sizes[i - lead], strides[i - lead]
        else:
            size, stride = 1, shape[i + 1] * out[i + 1]
        out[i] = stride if size == shape[i] else 0
    return tuple(out)


def _expand_forward(x, shape):
    if 1 in shape and x.size:  # NumPy's strides differ from PyTorch's only for size-1 dims
        return as_strided(x, shape, expand_strides(x.shape, x.strides, shape))
    out = np.broadcast_to(x, shape)
    if out.__class__ is np.ndarray and x.flags.writeable:
        # PyTorch writes into expanded views where no two elements meet (a row of one, or
        # ``fill_``); the in-place ops check for a zero stride themselves.
        out.flags.writeable = True
    return out


EXPAND = defop("expand", forward=_expand_forward,
               derivatives={"self": lambda grad, self_shape: grad.sum_to_size(self_shape)})


def expand(input, *sizes):
    """Broadcast size-1 dims to ``sizes`` without copying (-1 keeps a dim)."""
    if not sizes:
        raise TypeError('expand() missing 1 required positional arguments: "size"')
    sizes = shape_arg(sizes, "expand")
    shape = input.shape
    if len(sizes) < len(shape):
        raise RuntimeError(
            f"expand({input.type()}{{{list(shape)}}}, size={list(sizes)}): the number of "
            "sizes provided (" + str(len(sizes)) + ") must be greater or equal to the number "
            "of dimensions in the tensor (" + str(len(shape)) + ")"
        )
    lead = len(sizes) - len(shape)
    target = [0] * len(sizes)
    for i in range(len(sizes) - 1, -1, -1):  # PyTorch checks from the last dim
        s = sizes[i]
        if i < lead:
            if s < 0:
                raise RuntimeError(
                    f"The expanded size of the tensor ({s}) isn't allowed in a leading, "
                    "non-existing dimension " + str(i))
            target[i] = s
            continue
        cur = shape[i - lead]
        if s == -1:
            target[i] = cur
        elif cur == s or cur == 1:
            target[i] = s
        else:
            raise RuntimeError(
                f"The expanded size of the tensor ({s}) must match the existing size ({cur}) "
                f"at non-singleton dimension {i}.  Target sizes: {list(sizes)}.  Tensor sizes: "
                f"{list(shape)}"
            )
    return view_apply(EXPAND, input, {"shape": tuple(target)}, _expand_to)


def _expand_to(input, shape):
    return view_apply(EXPAND, input, {"shape": shape}, _expand_to)


def _zeros_with(grad, shape):
    return np.zeros_like(grad, shape=shape)


def _select_backward_forward(g, shape, dim, index):
    out = _zeros_with(g, shape)
    out[(slice(None),) * dim + (index,)] = g
    return out


SELECT_BACKWARD = defop("select_backward", forward=_select_backward_forward, derivatives={
    "self": lambda grad, dim, index: grad.select(dim, index)})
SELECT = defop("select", forward=lambda x, dim, index: x[(slice(None),) * dim + (index, ...)],
               derivatives={
                   "self": lambda grad, self_shape, dim, index: unary(
                       SELECT_BACKWARD, grad, {"shape": self_shape, "dim": dim, "index": index}),
               })


def select(input, dim: int, index: int):
    """The slice of ``input`` at ``index`` along ``dim`` (a view, one dim fewer)."""
    if input.ndim == 0:
        raise IndexError("select() cannot be applied to a 0-dim tensor.")
    d = normalize_dim(dim, input.ndim)
    size = input.shape[d]
    if not -size <= index < size:
        raise IndexError(f"select(): index {index} out of range for tensor of size "
                         f"{list(input.shape)} at dimension {d}")
    return view_apply(SELECT, input, {"dim": d, "index": index % size}, select)


def _slice_backward_forward(g, shape, dim, start, stop, step):
    out = _zeros_with(g, shape)
    out[(slice(None),) * dim + (slice(start, stop, step),)] = g
    return out


SLICE_BACKWARD = defop("slice_backward", forward=_slice_backward_forward, derivatives={
    "self": lambda grad, dim, start, stop, step: slice_dim(grad, dim, start, stop, step)})
SLICE = defop("slice",
              forward=lambda x, dim, start, stop, step:
              x[(slice(None),) * dim + (slice(start, stop, step),)],
              derivatives={
                  "self": lambda grad, self_shape, dim, start, stop, step: unary(
                      SLICE_BACKWARD, grad, {"shape": self_shape, "dim": dim, "start": start,
                                             "stop": stop, "step": step}),
              })


def slice_dim(input, dim: int, start, stop, step=1):
    """``input[..., start:stop:step, ...]`` along ``dim`` (a view)."""
    if step is not None and step <= 0:
        raise ValueError("step must be greater than zero")
    d = normalize_dim(dim, input.ndim)
    start, stop, step = slice(start, stop, step).indices(input.shape[d])
    stop = max(stop, start)
    return view_apply(SLICE, input, {"dim": d, "start": start, "stop": stop, "step": step},
                      slice_dim)


def narrow(input, dim: int, start: int, length: int):
    """``length`` elements of ``input`` from ``start`` along ``dim`` (a view)."""
    if input.ndim == 0:
        raise RuntimeError("narrow() cannot be applied to a 0-dim tensor.")
    if length < 0:
        raise RuntimeError("narrow(): length must be non-negative.")
    d = normalize_dim(dim, input.ndim)
    size = input.shape[d]
    start = int(start)  # PyTorch also takes a 0-d integer tensor
    if not -size <= start <= size:
        raise IndexError(f"start out of range (expected to be in range of [{-size}, {size}], "
                         f"but got {start})")
    if start < 0:
        start += size
    if start + length > size:
        raise RuntimeError(f"start ({start}) + length ({length}) exceeds dimension size "
                           f"({size}).")
    return slice_dim(input, d, start, start + length, 1)


ALIAS = defop("alias", forward=lambda x: x.view(), derivatives={"self": lambda grad: grad})


def alias(input):
    return view_apply(ALIAS, input, {}, alias)


def _layout_order(sizes, strides) -> list[int]:
    """The dims of a tensor from its innermost (smallest stride) to its outermost, as
    PyTorch's ``infer_dense_strides`` orders them: a stable insertion sort by stride (a tie
    puts the smaller dim first), in which a dim of stride 0 keeps its place."""
    perm = list(range(len(sizes) - 1, -1, -1))
    for i in range(1, len(perm)):
        d1 = i
        for d0 in range(i - 1, -1, -1):
            a, b = perm[d0], perm[d1]
            sa, sb = strides[a], strides[b]
            if sa == 0 or sb == 0:
                continue
            if sa > sb or (sa == sb and sizes[a] > sizes[b]):
                perm[d0], perm[d1] = b, a
                d1 = d0
            elif sa < sb:
                break
    return perm


def _clone_forward(x, memory_format=None):
    # PyTorch's preserve_format: the copy is dense, with its dims in the order of the
    # input's strides.
    if memory_format is not None or x.flags.c_contiguous:
        return x.copy()
    if x.flags.f_contiguous:  # a transposed matrix, say: its dims in reverse order
        return x.copy(order="F")
    order = _layout_order(x.shape, x.strides)[::-1]
    out = np.empty_like(x, shape=tuple(x.shape[d] for d in order), order="C")
    out = out.transpose(_inverse(order))
    out[...] = x
    return out


CLONE = defop("clone", forward=_clone_forward, derivatives={"self": lambda grad: grad})


def clone(input, *, memory_format=None):
    """A copy of ``input`` that is part of the graph (its gradient flows back), laid out in
    memory in the order of ``input``'s strides (PyTorch's ``preserve_format``)."""
    return unary(CLONE, input, {"memory_format": memory_format})


def contiguous(input, memory_format=None):
    """``input`` itself if it is contiguous in memory, else a contiguous copy."""
    if input._data.flags.c_contiguous:
        return input
    return unary(CLONE, input, {"memory_format": "contiguous_format"})


FLIP = defop("flip", forward=lambda x, dims: np.flip(x, dims).copy(),
             derivatives={"self": lambda grad, dims: flip(grad, dims)})


def flip(input, dims):
    """A copy of ``input`` with the order of its elements reversed along each of ``dims``
    (a tuple of ints)."""
    if not isinstance(dims, (tuple, list)) or \
            not all(isinstance(d, (int, np.integer)) and not isinstance(d, bool) for d in dims):
        raise TypeError(f"flip(): argument 'dims' (position 2) must be tuple of ints, not "
                        f"{type(dims).__name__}")
    return unary(FLIP, input, {"dims": normalize_dims(tuple(dims), input.ndim)})


TO_COPY = defop("_to_copy", forward=lambda x, dtype: x.astype(dtype),
                derivatives={"self": lambda grad: grad})


def to_dtype(input, dtype, copy: bool = False):
    """``input`` converted to ``dtype`` (itself when it already has it, unless ``copy``)."""
    if input.dtype is dtype and not copy:
        return input
    if not dtype.is_floating_point:
        return Bound.new(input._data.astype(dtype.np))
    return unary(TO_COPY, input, {"dtype": dtype.np})


def flatten(input, start_dim: int = 0, end_dim: int = -1):
    """Merge dims ``start_dim`` to ``end_dim`` into one."""
    if input.ndim == 0:
        normalize_dim(start_dim, 0)
        normalize_dim(end_dim, 0)
        return reshape(input, 1)
    s = normalize_dim(start_dim, input.ndim)
    e = normalize_dim(end_dim, input.ndim)
    if s > e:
        raise RuntimeError("flatten() has invalid args: start_dim cannot come after end_dim")
    if s == e:
        return input
    shape = input.shape
    return reshape(input, shape[:s] + (math.prod(shape[s:e + 1]),) + shape[e + 1:])


def unflatten(input, dim: int, sizes):
    """Split dim ``dim`` of ``input`` into ``sizes`` (one of them may be -1)."""
    if input.ndim == 0:
        raise RuntimeError("unflatten got an unexpected error:\nDimension specified as 0 but "
                           "tensor has no dimensions")
    d = normalize_dim(dim, input.ndim)
    if len(sizes) == 0:
        raise RuntimeError("unflatten: sizes must be non-empty")
    shape = input.shape
    try:
        sizes = infer_shape(sizes, shape[d])
    except RuntimeError:
        raise RuntimeError(f"unflatten: Provided sizes {list(sizes)} don't multiply up to the "
                           f"size of dim {dim} ({shape[d]}) in the input tensor") from None
    return view(input, shape[:d] + tuple(sizes) + shape[d + 1:])


# ---- ops returning several views: unbind, split, chunk -------------------------------------
class _MultiViewBackward(Node):
    """The one node of ``unbind``/``split``/``chunk``, whose outputs are all views of the
    input: the input's gradient is the outputs' gradients put back together (zeros for an
    output that got none), with ``stack`` or ``cat`` so that it is differentiable too. As
    in PyTorch, its outputs may not be changed in place."""

    __slots__ = ("_num_outputs", "_dim", "_shapes")

    def apply(self, grad_outputs, needs):
        from .join import cat, stack
        ref = next(g for g in grad_outputs if g is not None)
        pieces = [ref.new_zeros(shape) if g is None else g
                  for g, shape in zip(grad_outputs, self._shapes)]
        join = stack if self.__class__ is UnbindBackward0 else cat
        return [join(pieces, self._dim)]


class UnbindBackward0(_MultiViewBackward):
    __slots__ = ()


class SplitBackward0(_MultiViewBackward):
    __slots__ = ()


class SplitWithSizesBackward0(_MultiViewBackward):
    __slots__ = ()


def multi_view_error(t, base_changed: bool = False) -> RuntimeError:
    """PyTorch's error for changing in place an output of an op that returns several views
    (or, with ``base_changed``, for using one after its base was changed in place)."""
    what = ("its base or another view of its base has been modified inplace" if base_changed
            else "is being modified inplace")
    name = re.sub(r"Backward[0-9]*$", "", type(t._grad_fn).__name__)
    return RuntimeError(
        f"Output {t._output_nr} of {name} is a view and {what}. This view is the output of a "
        "function that returns multiple views. Such functions do not allow the output views "
        "to be modified inplace. You should replace the inplace operation by an out-of-place "
        "one.")


def _unbound(input, dim: int, index: int):
    return select(input, dim, index)


def _split_part(input, dim: int, start: int, stop: int, step: int):
    return slice_dim(input, dim, start, stop, step)


def from_multi_view(t) -> bool:
    """Whether view ``t`` is, or was made from, an output of ``unbind``/``split``/``chunk``
    (PyTorch's ``MULTI_OUTPUT_NODE`` views): its view chain has one of their steps."""
    view = t._view
    return view is not None and any(fn is _unbound or fn is _split_part for fn, _ in view[0])


def _multi_view(input, node_cls, d: int, outs):
    """Record ``node_cls`` for the views ``outs`` of ``input`` along dim ``d``."""
    if input._rg and GradMode.enabled and outs:
        node = node_cls()
        node._num_outputs = len(outs)
        node._dim = d
        node._shapes = [o.shape for o in outs]
        node.next_functions = (edge_of(input),)
        for nr, out in enumerate(outs):
            out._rg = True
            out._grad_fn = node
            out._output_nr = nr
    return tuple(outs)


def unbind(input, dim: int = 0):
    """The slices of ``input`` along ``dim``, as a tuple of views."""
    if input.ndim == 0:
        raise IndexError("Dimension specified as 0 but tensor has no dimensions")
    d = normalize_dim(dim, input.ndim)
    x = input._data
    lead = (slice(None),) * d
    outs = [_alias(input, x[lead + (i, ...)], _unbound, {"dim": d, "index": i})
            for i in range(x.shape[d])]
    return _multi_view(input, UnbindBackward0, d, outs)


def _split_views(input, d: int, sizes, node_cls):
    x = input._data
    lead = (slice(None),) * d
    outs = []
    start = 0
    for n in sizes:
        attrs = {"dim": d, "start": start, "stop": start + n, "step": 1}
        outs.append(_alias(input, x[lead + (slice(start, start + n),)], _split_part, attrs))
        start += n
    return _multi_view(input, node_cls, d, outs)


def split(tensor, split_size_or_sections, dim: int = 0):
    """``tensor`` cut along ``dim`` into views of ``split_size_or_sections`` elements each
    (the last may be shorter), or of the sizes in a list."""
    if tensor.ndim == 0:
        raise RuntimeError("split expects at least a 1-dimensional tensor")
    d = normalize_dim(dim, tensor.ndim)
    size = tensor.shape[d]
    if not isinstance(split_size_or_sections, int):
        sizes = [int(n) for n in split_size_or_sections]
        if any(n < 0 for n in sizes):
            raise RuntimeError(f"split_with_sizes expects split_sizes have only non-negative "
                               f"entries, but got split_sizes={sizes}")
        if sum(sizes) != size:
            raise RuntimeError(f"split_with_sizes expects split_sizes to sum exactly to {size} "
                               f"(input tensor's size at dimension {d}), but got "
                               f"split_sizes={sizes}")
        return _split_views(tensor, d, sizes, SplitWithSizesBackward0)
    n = split_size_or_sections
    if n < 0:
        raise RuntimeError(f"split expects split_size be non-negative, but got split_size={n}")
    if n == 0 and size != 0:
        raise RuntimeError(f"split_size can only be 0 if dimension size is 0, but got dimension "
                           f"size of {size}")
    count = max(-(-size // n), 1) if n else 1
    sizes = [n] * (count - 1) + [size - n * (count - 1)]
    return _split_views(tensor, d, sizes, SplitBackward0)


def chunk(input, chunks: int, dim: int = 0):
    """``input`` cut into at most ``chunks`` views of equal size along ``dim`` (the last
    may be smaller)."""
    if input.ndim == 0:
        raise RuntimeError("chunk expects at least a 1-dimensional tensor")
    if chunks <= 0:
        raise RuntimeError(f"chunk expects `chunks` to be greater than 0, got: {chunks}")
    d = normalize_dim(dim, input.ndim)
    size = input.shape[d]
    if size == 0:  # PyTorch gives ``chunks`` empty pieces, through ``split_with_sizes``
        return _split_views(input, d, [0] * chunks, SplitWithSizesBackward0)
    return split(input, -(-size // chunks), d)


def movedim(input, source, destination):
    """``input`` with its dims at ``source`` moved to ``destination`` (a view)."""
    src = [source] if isinstance(source, int) else list(source)
    dst = [destination] if isinstance(destination, int) else list(destination)
    if len(src) != len(dst):
        raise RuntimeError(f"movedim: Invalid source or destination dims: source ({src} dims) "
                           f"should contain the same number of dims as destination ({dst} "
                           "dims)")
    n = input.ndim
    ns = [normalize_dim(s, n) for s in src]
    nd = [normalize_dim(s, n) for s in dst]
    for name, given, dims in (("source", src, ns), ("destination", dst, nd)):
        if len(set(dims)) != len(dims):
            raise RuntimeError(f"movedim: repeated dim in `{name}` ({given})")
    order = [-1] * n
    for s, t in zip(ns, nd):
        order[t] = s
    rest = iter(d for d in range(n) if d not in ns)
    order = [next(rest) if o == -1 else o for o in order]
    return permute(input, order)


moveaxis = movedim


# ---- PyTorch's strides and storage offset of an empty tensor ----------------------------------
# NumPy gives an empty array zero strides and does not move its data pointer for an empty
# slice; PyTorch's numbers follow from the base's and each view step's arithmetic. They are
# worked out only when asked for, from the base and the view chain.
def contiguous_strides(shape) -> tuple[int, ...]:
    """PyTorch's strides of a contiguous tensor of ``shape`` (a size-0 dim counts as 1)."""
    strides = []
    step = 1
    for s in reversed(shape):
        strides.append(step)
        step *= max(s, 1)
    return tuple(reversed(strides))


def _view_strides(old_shape, old_strides, shape, unit: int = 1):
    """PyTorch's ``computeStride``: the strides of ``view(shape)`` (None where none exist),
    in elements, or in bytes for a ``unit`` of the item size."""
    if math.prod(old_shape) == 0:
        return old_strides if tuple(old_shape) == tuple(shape) else contiguous_strides(shape)
    if not old_shape:
        return (unit,) * len(shape)
    strides = [0] * len(shape)
    view_d = len(shape) - 1
    chunk = old_strides[-1]
    tensor_numel = view_numel = 1
    for d in range(len(old_shape) - 1, -1, -1):
        tensor_numel *= old_shape[d]
        if d == 0 or (old_shape[d - 1] != 1 and old_strides[d - 1] != tensor_numel * chunk):
            while view_d >= 0 and (view_numel < tensor_numel or shape[view_d] == 1):
                strides[view_d] = view_numel * chunk
                view_numel *= shape[view_d]
                view_d -= 1
            if view_numel != tensor_numel:
                return None
            if d > 0:
                chunk = old_strides[d - 1]
                tensor_numel = view_numel = 1
    return tuple(strides) if view_d == -1 else None


def _drop(seq, dims):
    return tuple(v for i, v in enumerate(seq) if i not in dims)


# Each rule takes a view's input layout (sizes, strides, offset) and the step's attributes.
def _layout_select(sizes, strides, offset, dim, index):
    return _drop(sizes, (dim,)), _drop(strides, (dim,)), offset + index * strides[dim]


def _layout_slice(sizes, strides, offset, dim, start, stop, step):
    size = len(range(start, stop, step))
    return (sizes[:dim] + (size,) + sizes[dim + 1:],
            strides[:dim] + (strides[dim] * step,) + strides[dim + 1:],
            offset + start * strides[dim])


def _layout_unsqueeze(sizes, strides, offset, dim):
    stride = 1 if dim >= len(sizes) else sizes[dim] * strides[dim]
    return sizes[:dim] + (1,) + sizes[dim:], strides[:dim] + (stride,) + strides[dim:], offset


def _layout_expand(sizes, strides, offset, shape):
    return shape, expand_strides(sizes, strides, shape), offset


def _layout_permute(sizes, strides, offset, dims):
    return tuple(sizes[d] for d in dims), tuple(strides[d] for d in dims), offset


def _layout_transpose(sizes, strides, offset, dim0, dim1):
    if not sizes:
        return sizes, strides, offset
    dims = list(range(len(sizes)))
    dims[dim0], dims[dim1] = dim1, dim0
    return _layout_permute(sizes, strides, offset, dims)


def _layout_squeeze(sizes, strides, offset, dims):
    return _drop(sizes, dims), _drop(strides, dims), offset


def _layout_view_dtype(sizes, strides, offset, itemsize, new_itemsize):
    if new_itemsize == itemsize:
        return sizes, strides, offset
    if new_itemsize > itemsize:
        r = new_itemsize // itemsize
        return (sizes[:-1] + (sizes[-1] // r,), tuple(s // r for s in strides[:-1]) + (1,),
                offset // r)
    r = itemsize // new_itemsize
    return sizes[:-1] + (sizes[-1] * r,), tuple(s * r for s in strides[:-1]) + (1,), offset * r


def empty_layout(tensor):
    """PyTorch's ``(strides, storage_offset)`` of empty ``tensor``: contiguous ones for a
    tensor that is not a view, else its base's put through each step of its view chain."""
    base = tensor._base
    if base is None:
        return contiguous_strides(tensor._data.shape), 0
    x = base._data
    if x.size:
        layout = (x.shape, tuple(s // x.itemsize for s in x.strides),
                  storage_offset(x) // x.itemsize)
    else:
        layout = (x.shape, contiguous_strides(x.shape), 0)
    itemsize = x.itemsize
    for fn, attrs in tensor._view[0]:
        if fn is _view_dtype_to:
            new = attrs["dtype"].itemsize
            layout = _layout_view_dtype(*layout, itemsize, new)
            itemsize = new
        elif fn in _LAYOUT:
            layout = _LAYOUT[fn](*layout, **attrs)
        else:  # a view op without a rule here: PyTorch's strides of a fresh tensor
            return contiguous_strides(tensor._data.shape), layout[2]
    return layout[1], layout[2]


_LAYOUT = {
    select: _layout_select, _unbound: _layout_select, slice_dim: _layout_slice,
    _split_part: _layout_slice, unsqueeze: _layout_unsqueeze, _expand_to: _layout_expand,
    transpose: _layout_transpose, _permute_to: _layout_permute,
    t: lambda sizes, strides, offset: (sizes[::-1], strides[::-1], offset),
    alias: lambda sizes, strides, offset: (sizes, strides, offset),
    _view_to: lambda sizes, strides, offset, shape: (
        shape, _view_strides(sizes, strides, shape), offset),
    _squeeze_all: _layout_squeeze, _squeeze_dims: _layout_squeeze,
    _squeeze_dim_tuple: _layout_squeeze,
}
