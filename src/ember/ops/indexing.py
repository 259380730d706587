"""``tensor[index]`` and ``tensor[index] = value``.

Basic indices (ints, slices, ``None``, ``...``) become a chain of view ops (``select``,
``slice``, ``unsqueeze``) so the result shares storage, as in PyTorch. Advanced indices
(integer or boolean tensors, arrays, lists) gather a copy (``IndexBackward0``); assignment
through them is ``index_put_`` (``IndexPutBackward0``).
"""

from __future__ import annotations

import numpy as np

from ..autograd.grad_mode import GradMode
from ._apply import apply, unary
from .inplace import bump_version, check_inplace_allowed, inplace
from .registry import Bound, defop
from .shape import select, slice_dim, unsqueeze

_FULL = slice(None)


def _is_basic(item) -> bool:
    return item is None or item is Ellipsis or isinstance(item, (int, slice)) and \
        not isinstance(item, bool)


def _as_index_tuple(index):
    Tensor = Bound.Tensor
    if not isinstance(index, tuple):
        index = (index,)
    out = []
    for item in index:
        if isinstance(item, Tensor):
            if item.ndim == 0 and item._data.dtype.kind in "iu":
                item = int(item.item())
            elif item._data.dtype.kind not in "iub":
                raise IndexError("tensors used as indices must be long, int, byte or bool "
                                 "tensors")
            else:
                item = item._data
        elif isinstance(item, np.integer):
            item = int(item)
        elif isinstance(item, (list, np.ndarray)):
            item = np.asarray(item)
            if item.dtype.kind not in "iub":
                raise IndexError("tensors used as indices must be long, int, byte or bool "
                                 "tensors")
        elif not (_is_basic(item) or isinstance(item, bool) or hasattr(item, "__cuda_array_interface__")):
            raise IndexError(
                "only integers, slices (`:`), ellipsis (`...`), None and long or byte Variables "
                "are valid indices (got " + type(item).__name__ + ")")
        out.append(item)
    return tuple(out)


def _expand_ellipsis(index, ndim):
    consumed = sum(1 for i in index if i is not None and i is not Ellipsis
                   and not (isinstance(i, np.ndarray) and i.dtype == bool) and
                   not isinstance(i, bool)) + sum(
        i.ndim for i in index if isinstance(i, np.ndarray) and i.dtype == bool)
    if consumed > ndim:
        raise IndexError(f"too many indices for tensor of dimension {ndim}")
    if sum(1 for i in index if i is Ellipsis) > 1:
        raise IndexError("an index can only have a single ellipsis ('...')")
    if Ellipsis in [i for i in index if not isinstance(i, np.ndarray)]:
        pos = next(k for k, i in enumerate(index) if i is Ellipsis and not isinstance(i, np.ndarray))
        return index[:pos] + (_FULL,) * (ndim - consumed) + index[pos + 1:]
    return index


def _basic_getitem(t, index):
    index = _expand_ellipsis(index, t.ndim)
    if all(isinstance(i, slice) and i == _FULL for i in index) and index:
        return slice_dim(t, 0, None, None, 1) if t.ndim else t
    out = t
    d = 0
    for item in index:
        if item is None:
            out = unsqueeze(out, d)
            d += 1
        elif isinstance(item, slice):
            if item != _FULL:
                out = slice_dim(out, d, item.start, item.stop,
                                1 if item.step is None else item.step)
            d += 1
        else:
            size = out.shape[d]
            if not -size <= item < size:
                raise IndexError(f"index {item} is out of bounds for dimension {d} with size "
                                 f"{size}")
            out = select(out, d, item)
    if out is t:
        out = slice_dim(t, 0, None, None, 1) if t.ndim else t
    return out


def _index_backward_forward(g, shape, index):
    out = np.zeros_like(g, shape=shape)
    np.add.at(out, index, g)
    return out


INDEX_BACKWARD = defop("index_backward", node="IndexPutBackward0",
                       forward=_index_backward_forward,
                       derivatives={"self": lambda grad, index: _gather(grad, index)})
INDEX = defop("index", forward=lambda x, index: x[index], derivatives={
    "self": lambda grad, self_shape, index: unary(
        INDEX_BACKWARD, grad, {"shape": self_shape, "index": index}),
})


def _gather(t, index):
    return unary(INDEX, t, {"index": index})


def _device_index(t, index):
    if type(t._data) is np.ndarray:
        for i in index:
            if hasattr(i, "__cuda_array_interface__"):
                raise RuntimeError("indices should be either on cpu or on the same device as "
                                   "the indexed tensor (cpu)")
        return index
    from ..backend import to_device
    return tuple(to_device(i, t.device) if isinstance(i, np.ndarray) else i for i in index)


def _bounds_error(e: IndexError) -> IndexError:
    msg = str(e).replace("axis", "dimension")
    return IndexError(msg)


def getitem(t, index):
    """``t[index]``: a view for basic indices, a copy for advanced ones."""
    idx = _as_index_tuple(index)
    if all(_is_basic(i) for i in idx):
        return _basic_getitem(t, idx)
    if t.ndim == 0 and not all(isinstance(i, (bool, np.ndarray)) or i is None for i in idx):
        raise IndexError("too many indices for tensor of dimension 0")
    idx = _device_index(t, idx)
    try:
        t._data[idx]
    except IndexError as e:
        raise _bounds_error(e) from None
    return _gather(t, idx)


def _index_put_forward(x, values, index, accumulate):
    out = x.copy()
    if accumulate:
        np.add.at(out, index, values)
    else:
        out[index] = values
    return out


def _index_put_self_grad(grad, index, accumulate):
    if accumulate:
        return grad
    return unary(INDEX_FILL_ZERO, grad, {"index": index})


INDEX_FILL_ZERO = defop("index_fill_zero", node="IndexPutBackward0",
                        forward=lambda g, index: _zero_at(g, index),
                        derivatives={"self": lambda grad, index: unary(
                            INDEX_FILL_ZERO, grad, {"index": index})})


def _zero_at(g, index):
    out = g.copy()
    out[index] = 0
    return out


INDEX_PUT = defop("index_put", inputs=("self", "values"), forward=_index_put_forward,
                  derivatives={
                      "self": _index_put_self_grad,
                      "values": lambda grad, index: _gather(grad, index),
                  })


def index_put(t, indices, values, accumulate: bool = False):
    """Out-of-place ``index_put``: ``t`` with ``values`` written (or added) at ``indices``."""
    idx = _device_index(t, _as_index_tuple(tuple(indices)))
    if not isinstance(values, Bound.Tensor):
        values = Bound.new(np.asarray(values, dtype=t._data.dtype))
    if values.dtype is not t.dtype:
        values = values.to(t.dtype)
    return apply(INDEX_PUT, (t, values), {"index": idx, "accumulate": accumulate})


def setitem(t, index, value) -> None:
    """``t[index] = value`` in place (through a view for basic indices)."""
    Tensor = Bound.Tensor
    idx = _as_index_tuple(index)
    if all(_is_basic(i) for i in idx):
        target = _basic_getitem(t, idx) if idx != () else t
        if isinstance(value, Tensor):
            target.copy_(value)
        else:
            target.fill_(value)
        return
    idx = _device_index(t, idx)
    recording = GradMode.enabled and (t._rg or isinstance(value, Tensor) and value._rg)
    if not recording:
        check_inplace_allowed(t)
        v = value._data if isinstance(value, Tensor) else value
        try:
            t._data[idx] = v
        except IndexError as e:
            raise _bounds_error(e) from None
        except ValueError:
            raise RuntimeError(
                f"shape mismatch: value tensor of shape {list(np.shape(v))} cannot be broadcast "
                f"to indexing result of shape {list(t._data[idx].shape)}") from None
        bump_version(t)
        return
    inplace(t, lambda x, v: index_put(x, idx, v), value)


def index_put_(t, indices, values, accumulate: bool = False):
    """In-place ``index_put``."""
    idx = tuple(indices)
    if not accumulate:
        setitem(t, idx, values)
        return t
    return inplace(t, lambda x, v: index_put(x, idx, v, accumulate=True), values)
