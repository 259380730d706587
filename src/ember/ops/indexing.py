"""``tensor[index]`` and ``tensor[index] = value``, by PyTorch's rules.

An index is read left to right as PyTorch does. Basic items (ints, slices, ``None``,
``...``, 0-d integer tensors) become view ops (``select``, ``slice``, ``unsqueeze``) so the
result shares storage. Advanced items (integer or boolean tensors, arrays, lists, Python
bools) are collected with the dim they apply to, and gathered from that view in one
``index`` op (``IndexBackward0``); assignment through them is ``index_put_``
(``IndexPutBackward0``). Because integers are applied as ``select`` first, they never take
part in advanced indexing: ``x[0, :, [1, 2]]`` has shape ``(3, 2)`` for ``x`` of shape
``(2, 3, 4)``, as in PyTorch (NumPy would give ``(2, 3)``).
"""

from __future__ import annotations

import numpy as np

from ..autograd.forward_grad import AfterOp
from ..autograd.grad_mode import GradMode
from ..backend import add_at, to_device
from ..dtype import SCALAR_TYPE_NAMES, int64
from ._apply import apply, unary
from .forward_ad import has_tangent
from .inplace import (
    bump_version,
    check_inplace_allowed,
    check_overlap,
    checked_fill_value,
    has_internal_overlap,
    inplace,
    real_fill_value,
    shares_memory,
)
from .registry import Bound, defop, record_unary
from .shape import SELECT, _alias, alias, expand, select, slice_dim, unsqueeze

_INT64_MIN, _INT64_MAX = -(1 << 63), (1 << 63) - 1
_ZERO_DIM_INT = ("invalid index of a 0-dim tensor. Use `tensor.item()` in Python or "
                 "`tensor.item<T>()` in C++ to convert a 0-dim tensor to a number")
_BAD_INDEX_DTYPE = "tensors used as indices must be long, int, byte or bool tensors"


# ---- reading an index ---------------------------------------------------------------------
def _as_tuple(index) -> tuple:
    """The index as a tuple of items; a short list holding sequences, slices, ``None``,
    ``...`` or tensors counts as a tuple (NumPy's old rule, which PyTorch keeps)."""
    if type(index) is tuple:
        return index
    if (type(index) is list or type(index) is str) and len(index) < 32:
        Tensor = Bound.Tensor
        for item in index:
            if item is None or item is Ellipsis or isinstance(item, _SEQUENCE_ITEMS + (Tensor,)):
                return tuple(index)
    return (index,)


# What PyTorch counts as a sequence (or slice) in a list index that makes it a tuple.
_SEQUENCE_ITEMS = (slice, list, tuple, range, str, bytes, np.ndarray)


def _checked_int(value: int) -> int:
    if not _INT64_MIN <= value <= _INT64_MAX:
        raise ValueError("Overflow when unpacking long long")
    return value


def _index_array(arr):
    """An integer or boolean index array; uint8 arrays are masks, as in PyTorch."""
    kind = arr.dtype.kind
    if kind == "b":
        return arr
    if arr.dtype == np.uint8:
        return arr.astype(bool)
    if arr.dtype in (np.int64, np.int32):
        return arr.astype(np.int64, copy=False)
    raise IndexError(_BAD_INDEX_DTYPE)


def _item(item):
    """One index item in a canonical form: None, Ellipsis, int, slice, bool, or an array."""
    if item is None or item is Ellipsis:
        return item
    tp = type(item)
    if tp is int:
        return _checked_int(item)
    if tp is slice or tp is bool:
        return item
    Tensor = Bound.Tensor
    if isinstance(item, Tensor):
        data = item._data
        if data.ndim == 0 and data.dtype.kind in "iub":
            if data.dtype.kind == "b" or data.dtype == np.uint8:
                return bool(item.item())
            return int(item.item())
        return _index_array(data)
    if isinstance(item, np.bool_):
        raise IndexError("only integers, slices (`:`), ellipsis (`...`), None and long or byte "
                         "Variables are valid indices (got numpy.bool)")
    if isinstance(item, np.integer):
        return int(item)
    if isinstance(item, np.ndarray):
        # As PyTorch does: bool and uint8 arrays are masks, any other number becomes int64
        # (floats truncated, as a cast does).
        kind = item.dtype.kind
        if kind not in "iubf":
            raise IndexError(_BAD_INDEX_DTYPE)
        if kind == "b" or item.dtype == np.uint8:
            return _index_array(item)
        with np.errstate(invalid="ignore"):
            return item.astype(np.int64, copy=False)
    if isinstance(item, (list, tuple, range)):
        # A sequence becomes a tensor first: a mask if it holds bools (or uint8 tensors),
        # else int64, floats truncated (PyTorch's ``indexing_tensor_from_data``).
        from ..creation import tensor
        arr = tensor(item)._data
        if arr.dtype.kind != "b" and arr.dtype != np.uint8 and arr.dtype != np.int64:
            arr = tensor(item, dtype=int64)._data
        return _index_array(arr)
    if isinstance(item, (str, bytes)):
        raise TypeError(f"new(): invalid data type '{tp.__name__}'")
    if hasattr(item, "__index__") and not isinstance(item, float):
        return _checked_int(int(item.__index__()))
    raise IndexError("only integers, slices (`:`), ellipsis (`...`), None and long or byte "
                     f"Variables are valid indices (got {tp.__name__})")


def _specified_dims(items) -> int:
    n = 0
    for item in items:
        if item is None or item is Ellipsis or type(item) is bool:
            continue
        n += item.ndim if (hasattr(item, "dtype") and item.dtype.kind == "b") else 1
    return n


def _select_at(t, dim: int, index: int, position: int):
    if t.ndim == 0:
        raise IndexError(_ZERO_DIM_INT)
    size = t.shape[dim] if dim < t.ndim else 0  # a repeated ``...`` can run past the end
    if not -size <= index < size:
        raise IndexError(f"index {index} is out of bounds for dimension {position} with size "
                         f"{size}")
    return select(t, dim, index)


def _slice_at(t, dim: int, item: slice, always: bool):
    if t.ndim == 0:
        raise IndexError("slice() cannot be applied to a 0-dim tensor.")
    start, stop, step = (None if v is None else int(v.__index__())
                         for v in (item.start, item.stop, item.step))
    if step == 0:
        raise ValueError("slice step cannot be zero")
    if step is not None and step < 0:
        raise ValueError("step must be greater than zero")
    if not always:
        # Inside a tuple PyTorch skips slices that keep the whole dim.
        s, e, st = slice(start, stop, step).indices(t.shape[dim])
        if s == 0 and e == t.shape[dim] and st == 1:
            return t
    return slice_dim(t, dim, start, stop, 1 if step is None else step)


def _basic(t, items, *, alias_whole: bool = True):
    """Apply the basic items as views; returns (view, advanced) where advanced lists
    ``(dim, array)`` for the advanced items, in the view's dims. An index that selects all
    of ``t`` gives an alias of it (``AliasBackward0``) unless ``alias_whole`` is off."""
    ndim = t.ndim
    specified = _specified_dims(items)
    if specified > ndim:
        raise IndexError(f"too many indices for tensor of dimension {ndim}")
    out = t
    dim = 0
    advanced = []
    for position, item in enumerate(items):
        if item is None:
            out = unsqueeze(out, dim)
            dim += 1
        elif item is Ellipsis:
            dim += ndim - specified
        elif type(item) is int:
            out = _select_at(out, dim, item, position)
        elif type(item) is slice:
            out = _slice_at(out, dim, item, always=False)
            dim += 1
        elif type(item) is bool:
            out = unsqueeze(out, dim)
            advanced.append((dim, np.zeros(1 if item else 0, dtype=np.int64)))
            dim += 1
        else:
            advanced.append((dim, item))
            dim += item.ndim if item.dtype.kind == "b" else 1
    if out is t and not advanced and alias_whole:
        out = alias(t)
    return out, advanced


def _mask_error(mask_shape, tensor_shape, j: int, d: int) -> IndexError:
    return IndexError(f"The shape of the mask {list(mask_shape)} at index {j} does not match "
                      f"the shape of the indexed tensor {list(tensor_shape)} at index {d + j}")


def _advanced_index(view, advanced) -> tuple:
    """The array index for the advanced items (masks become their ``nonzero`` positions),
    with PyTorch's errors for masks of the wrong shape and arrays that do not broadcast.
    ``check_bounds`` checks the values; positions from masks are skipped there."""
    shape = view._data.shape
    slots = [slice(None)] * len(shape)
    arrays = []  # (dim, int array), in the order PyTorch numbers them
    for d, arr in advanced:
        if arr.dtype.kind == "b":
            k = arr.ndim
            for j in range(k):
                if d + j >= len(shape) or arr.shape[j] != shape[d + j]:
                    raise _mask_error(arr.shape, shape, j, d)
            positions = np.nonzero(arr if type(arr) is np.ndarray else arr.get()) \
                if k else ()
            if k == 0:  # a 0-d mask was turned into an unsqueeze and a bool earlier
                continue
            for j, p in enumerate(positions):
                arrays.append((d + j, _as_in_range(p)))
        else:
            if d >= len(shape):
                raise IndexError(f"too many indices for tensor of dimension {len(shape)}")
            arrays.append((d, arr))
    try:
        if len(arrays) > 1:
            np.broadcast_shapes(*(a.shape for _, a in arrays))
    except ValueError:
        raise IndexError("shape mismatch: indexing tensors could not be broadcast together "
                         "with shapes " + ", ".join(str(list(a.shape)) for _, a in arrays)
                         ) from None
    for d, a in arrays:
        slots[d] = a
    return tuple(slots)


class _InRange(np.ndarray):
    """Index positions taken from a mask: in range by construction."""


def _as_in_range(positions):
    return positions.astype(np.int64, copy=False).view(_InRange)


def check_bounds(view, index: tuple) -> None:
    """PyTorch's error for the first index value (in element order) out of its dim."""
    shape = view._data.shape
    for d, a in enumerate(index):  # the common case first: every value in range
        if type(a) is slice or type(a) is _InRange:
            continue
        size = shape[d]
        if a.size and (size == 0 or a.min() < -size or a.max() >= size):
            break
    else:
        return
    host = [(d, a if isinstance(a, np.ndarray) else a.get()) for d, a in enumerate(index)
            if type(a) is not slice]
    common = np.broadcast_shapes(*(a.shape for _, a in host))
    if 0 not in common and any(shape[d] == 0 for d, _ in host):
        raise IndexError("index is out of bounds for dimension with size 0")
    if 0 in _result_shape(shape, index):
        return  # PyTorch reads no index value when the result is empty
    bad = None
    for k, (d, a) in enumerate(host):
        size = shape[d]
        wrong = (a < -size) | (a >= size)
        if wrong.any():
            first = int(np.flatnonzero(np.broadcast_to(wrong, common))[0])
            if bad is None or first < bad[0]:
                bad = (first, k, int(np.broadcast_to(a, common).flat[first]), size)
    if bad is not None:
        _, k, value, size = bad
        if size == 0:
            raise IndexError("index is out of bounds for dimension with size 0")
        raise IndexError(f"index {value} is out of bounds for dimension {k} with size {size}")


def _on_device(view, index: tuple) -> tuple:
    """Index arrays moved to the indexed tensor's device."""
    if type(view._data) is np.ndarray:
        return index
    dev = view.device
    return tuple(to_device(i, dev) if isinstance(i, np.ndarray) else i for i in index)


def _parse(t, index, *, alias_whole: bool = True):
    """(view, array index or None) for ``t[index]``; the array index is not yet
    bounds-checked."""
    items = tuple(_item(i) for i in _as_tuple(index))
    view, advanced = _basic(t, items, alias_whole=alias_whole)
    if not advanced:
        return view, None
    return view, _advanced_index(view, advanced)


# ---- reading ------------------------------------------------------------------------------
def _index_backward_forward(g, shape, index):
    out = np.zeros_like(g, shape=shape)
    if g.size:
        add_at(out, index, g)
    return out


def _index_forward(x, index):
    try:
        return x[index]
    except IndexError:
        # An empty result whose unread index values are out of range, which PyTorch allows.
        return np.zeros_like(x, shape=_result_shape(x.shape, index))


INDEX_BACKWARD = defop("index_backward", node="IndexPutBackward0",
                       forward=_index_backward_forward,
                       derivatives={"self": lambda grad, index: _gather(grad, index)})
INDEX = defop("index", forward=_index_forward, derivatives={
    "self": lambda grad, self_shape, index: unary(
        INDEX_BACKWARD, grad, {"shape": self_shape, "index": index}),
})


def _gather(t, index):
    return unary(INDEX, t, {"index": index})


def getitem_int(t, index: int):
    """``t[index]`` for a Python int: ``select(t, 0, index)``, a view.

    The hot path of per-sample indexing (``TensorDataset``): an index in range goes straight
    to the view (``view_apply(SELECT, ...)`` without its argument handling); anything else (a
    0-d tensor, an index out of range or past int64) takes ``getitem`` for its error."""
    data = t._data
    shape = data.shape
    if shape and -shape[0] <= index < shape[0]:
        if index < 0:
            index += shape[0]
        attrs = {"dim": 0, "index": index}
        out = _alias(t, data[index, ...], select, attrs)  # ``...``: a 0-d view, not a scalar
        if t._rg and GradMode.enabled:
            record_unary(SELECT, t, out, attrs)
        return out
    return getitem(t, index)


def getitem(t, index):
    """``t[index]``: a view for basic indices, a gathered copy for advanced ones."""
    tp = type(index)
    if tp is int:  # the common cases first: t[i] and t[a:b]
        return _select_at(t, 0, _checked_int(index), 0)
    if tp is slice:
        return _slice_at(t, 0, index, always=True)
    view, array_index = _parse(t, index)
    if array_index is None:
        return view
    check_bounds(view, array_index)
    return _gather(view, _on_device(view, array_index))


# ---- writing ------------------------------------------------------------------------------
def _index_put_forward(x, values, index, accumulate):
    out = x.copy()
    if accumulate:
        add_at(out, index, values)
    else:
        out[index] = values
    return out


def _index_put_self_grad(grad, index, accumulate):
    if accumulate:
        return grad
    return unary(INDEX_FILL_ZERO, grad, {"index": index})


def _zero_at(g, index):
    out = g.copy()
    out[index] = 0
    return out


INDEX_FILL_ZERO = defop("index_fill_zero", node="IndexPutBackward0",
                        forward=lambda g, index: _zero_at(g, index),
                        derivatives={"self": lambda grad, index: unary(
                            INDEX_FILL_ZERO, grad, {"index": index})})
INDEX_PUT = defop("index_put", inputs=("self", "values"), forward=_index_put_forward,
                  derivatives={
                      "self": _index_put_self_grad,
                      "values": lambda grad, index: _gather(grad, index),
                  })


def _strip_leading_ones(value, always: bool = False):
    # PyTorch views the value without its leading size-1 dims before broadcasting it (so
    # that ``x[0] = t.unsqueeze(0)`` works): for ``index_put_`` where there are any, and
    # always before expanding it for ``copy_``.
    shape = value.shape
    k = 0
    while k < len(shape) and shape[k] == 1:
        k += 1
    return value.view(shape[k:]) if k or always else value


def _value_tensor(t, value):
    """``value`` for writing into ``t``: a Tensor, or a number (a complex one as PyTorch
    converts it)."""
    if isinstance(value, Bound.Tensor):
        return value
    # PyTorch takes Python numbers and NumPy integers (and float64, a float), nothing else.
    if isinstance(value, (int, float, np.integer)):
        return value
    if type(value) is complex:
        return real_fill_value(value, t.dtype, half="double")
    raise TypeError(f"can't assign a {_type_path(value)} to a "
                    f"ember.{SCALAR_TYPE_NAMES[t.dtype.name]}Tensor")


def _type_path(value) -> str:
    tp = type(value)
    return tp.__name__ if tp.__module__ == "builtins" else f"{tp.__module__}.{tp.__name__}"


def _check_put_dtypes(t, values) -> None:
    if values.dtype is not t.dtype:
        raise RuntimeError(
            "Index put requires the source and destination dtypes match, got "
            f"{SCALAR_TYPE_NAMES[t.dtype.name]} for the destination and "
            f"{SCALAR_TYPE_NAMES[values.dtype.name]} for the source.")


def _check_put_shape(target: tuple, values) -> None:
    vshape = values._data.shape
    try:
        ok = vshape == target or np.broadcast_shapes(vshape, target) == target
    except ValueError:
        ok = False
    if not ok:
        raise RuntimeError(f"shape mismatch: value tensor of shape {list(values.shape)} cannot "
                           f"be broadcast to indexing result of shape {list(target)}")


def _result_shape(shape, index) -> tuple:
    """The shape of ``x[index]`` for an index of full slices and index arrays (NumPy's and
    PyTorch's rule: the broadcast index shape goes where the arrays are if they are next
    to each other, else first)."""
    dims = [d for d, i in enumerate(index) if type(i) is not slice]
    if len(dims) == 1:
        d = dims[0]
        return tuple(shape[:d]) + index[d].shape + tuple(shape[d + 1:])
    common = np.broadcast_shapes(*(index[d].shape for d in dims))
    rest = [shape[d] for d in range(len(shape)) if d not in dims]
    if dims == list(range(dims[0], dims[-1] + 1)):
        return tuple(shape[:dims[0]]) + common + tuple(shape[dims[-1] + 1:])
    return common + tuple(rest)


def setitem(t, index, value) -> None:
    """``t[index] = value`` in place: a copy into a view for basic indices, ``index_put_``
    for advanced ones.

    As in PyTorch, a number becomes a 0-d tensor of ``t``'s dtype, which a region of one or
    more dims takes through ``fill_`` (``FillBackward3``), and a tensor of another shape is
    viewed without its leading size-1 dims and expanded before ``copy_``."""
    value = _value_tensor(t, value)
    if index is False:  # PyTorch does nothing at all for ``t[False] = value``
        return
    if index is True:  # and copies into ``t.unsqueeze(0)`` for ``t[True] = value``
        index = None
    if type(index) is int:
        view, array_index = _select_at(t, 0, _checked_int(index), 0), None
    else:
        view, array_index = _parse(t, index, alias_whole=False)
    is_number = not isinstance(value, Bound.Tensor)
    if array_index is not None:
        _index_put_(view, array_index, value if is_number else _strip_leading_ones(value),
                    accumulate=False, value_is_number=is_number)
        return
    if is_number:
        if not (GradMode.enabled and view._rg) and not has_internal_overlap(view._data):
            view.fill_(value)  # nothing to record: the short path
            return
        value = Bound.new(np.asarray(checked_fill_value(value, view.dtype),
                                     dtype=view._data.dtype))
    if value.shape == view.shape:
        view.copy_(value)
    elif value.ndim == 0 and type(value._data) is np.ndarray:
        view.fill_(value)
    else:
        value = _strip_leading_ones(value, always=True)
        view.copy_(expand(value, view.shape) if value.shape != view.shape else value)


def _index_put_(t, index: tuple, values, *, accumulate: bool, value_is_number: bool):
    """Write (or add) ``values`` at the array ``index`` of ``t``, in place."""
    Tensor = Bound.Tensor
    if value_is_number:
        values = Bound.new(np.asarray(checked_fill_value(values, t.dtype), dtype=t._data.dtype))
        if type(t._data) is not np.ndarray:
            values = Bound.new(to_device(values._data, t.device))
    target = _result_shape(t._data.shape, index)
    if not value_is_number:
        _check_put_shape(target, values)
        _check_put_dtypes(t, values)
        if shares_memory(t, values):
            check_overlap(t, values, full_too=True)
    check_bounds(t, index)
    if 0 in target:
        check_inplace_allowed(t)
        bump_version(t)
        return t  # nothing to write (and the unread index values may be out of range)
    index = _on_device(t, index)
    recording = GradMode.enabled and (t._rg or isinstance(values, Tensor) and values._rg)
    if not recording and not (AfterOp.on and has_tangent(t, values)):
        check_inplace_allowed(t)
        if accumulate:
            add_at(t._data, index, values._data)
        else:
            t._data[index] = values._data
        bump_version(t)
        return t
    return inplace(t, lambda x, v: apply(INDEX_PUT, (x, v), {"index": index,
                                                             "accumulate": accumulate}), values)


def _put_index(t, indices) -> tuple:
    """The array index for ``index_put``'s tuple of index tensors."""
    Tensor = Bound.Tensor
    if not isinstance(indices, (tuple, list)):
        raise TypeError(f"index_put(): argument 'indices' must be tuple of Tensors, not "
                        f"{type(indices).__name__}")
    items = []
    for i in indices:
        if i is None:
            items.append(slice(None))
        elif isinstance(i, Tensor):
            items.append(_index_array(i._data))
        else:
            raise TypeError(f"index_put(): argument 'indices' must be tuple of Tensors, not "
                            f"{type(i).__name__}")
    advanced = []
    d = 0
    for item in items:
        if type(item) is slice:
            d += 1
            continue
        advanced.append((d, item))
        d += item.ndim if item.dtype.kind == "b" else 1
    if not advanced:
        return None
    return _advanced_index(t, advanced)


def _check_values_arg(name: str, values) -> None:
    if not isinstance(values, Bound.Tensor):
        raise TypeError(f"{name}(): argument 'values' (position 2) must be Tensor, not "
                        f"{type(values).__name__}")


def index_put_(t, indices, values, accumulate: bool = False):
    """Write ``values`` into ``t`` at ``indices`` (a tuple of index tensors, one per leading
    dim) in place; with ``accumulate`` they are added, repeated indices adding up."""
    _check_values_arg("index_put_", values)
    index = _put_index(t, indices)
    if index is None:
        return t.add_(values) if accumulate else t.copy_(values)
    return _index_put_(t, index, values, accumulate=accumulate, value_is_number=False)


def index_put(t, indices, values, accumulate: bool = False):
    """Out-of-place ``index_put_``: a copy of ``t`` with ``values`` written (or added) at
    ``indices``."""
    _check_values_arg("index_put", values)
    index = _put_index(t, indices)
    if index is None:
        return t + values if accumulate else values.expand(t.shape).clone()
    _check_put_shape(_result_shape(t._data.shape, index), values)
    _check_put_dtypes(t, values)
    check_bounds(t, index)
    index = _on_device(t, index)
    return apply(INDEX_PUT, (t, values), {"index": index, "accumulate": accumulate})
