"""Collation (``torch.utils.data._utils.collate``): how a ``DataLoader`` turns a list of
samples into a batch.

``default_collate`` stacks tensors along a new first dim, turns NumPy arrays and numbers
into tensors, and recurses into dicts, namedtuples, tuples and lists; strings stay lists.
Tensors are stacked with the array module's own ``stack`` (NumPy or CuPy, on the tensors'
device) unless one of them requires grad, in which case ``ember.stack`` records the graph.
"""

from __future__ import annotations

import collections.abc
import copy
import re
from collections.abc import Callable
from typing import Any

import numpy as np

from ... import backend
from ...autograd.grad_mode import is_grad_enabled
from ...creation import as_tensor, tensor
from ...dtype import float64, promote_types
from ...tensor import Tensor

__all__ = ["collate", "default_collate", "default_convert", "default_collate_fn_map",
           "collate_tensor_fn", "collate_numpy_array_fn", "collate_numpy_scalar_fn",
           "collate_float_fn", "collate_int_fn", "collate_str_fn"]

np_str_obj_array_pattern = re.compile(r"[SaUO]")

default_collate_err_msg_format = (
    "default_collate: batch must contain tensors, numpy arrays, numbers, "
    "dicts or lists; found {}"
)

CollateFnMap = dict[type | tuple[type, ...], Callable]


def default_convert(data: Any) -> Any:
    """Convert each NumPy array or scalar in ``data`` to a tensor, recursing into mappings,
    namedtuples and sequences (tuples become lists); anything else is returned unchanged.

    This is the ``collate_fn`` of a ``DataLoader`` without automatic batching
    (``batch_size=None``).
    """
    elem_type = type(data)
    if isinstance(data, Tensor):
        return data
    if elem_type.__module__ == "numpy" and elem_type.__name__ not in ("str_", "string_"):
        if elem_type.__name__ == "ndarray" and \
                np_str_obj_array_pattern.search(data.dtype.str) is not None:
            return data
        return as_tensor(data)
    if isinstance(data, collections.abc.Mapping):
        try:
            if isinstance(data, collections.abc.MutableMapping):
                clone = copy.copy(data)
                clone.update({key: default_convert(data[key]) for key in data})
                return clone
            return elem_type({key: default_convert(data[key]) for key in data})
        except TypeError:
            return {key: default_convert(data[key]) for key in data}
    if isinstance(data, tuple) and hasattr(data, "_fields"):  # namedtuple
        return elem_type(*(default_convert(d) for d in data))
    if isinstance(data, tuple):
        return [default_convert(d) for d in data]
    if isinstance(data, collections.abc.Sequence) and not isinstance(data, (str, bytes)):
        try:
            if isinstance(data, collections.abc.MutableSequence):
                clone = copy.copy(data)
                for i, d in enumerate(data):
                    clone[i] = default_convert(d)
                return clone
            return elem_type([default_convert(d) for d in data])
        except TypeError:
            return [default_convert(d) for d in data]
    return data


def collate(batch: Any, *, collate_fn_map: CollateFnMap | None = None) -> Any:
    """Collate a batch, dispatching on the type of its first element.

    ``collate_fn_map`` maps element types to functions ``fn(batch, *, collate_fn_map)``:
    the exact type is looked up first, then each key in insertion order with
    ``isinstance``. Mappings, namedtuples and sequences are collated field by field.

    Raises:
        RuntimeError: ``each element in list of batch should be of equal size``.
        TypeError: an element type nothing in the map handles.
    """
    elem = batch[0]
    elem_type = type(elem)
    if collate_fn_map is not None:
        if elem_type in collate_fn_map:
            return collate_fn_map[elem_type](batch, collate_fn_map=collate_fn_map)
        for collate_type in collate_fn_map:
            if isinstance(elem, collate_type):
                return collate_fn_map[collate_type](batch, collate_fn_map=collate_fn_map)
    if isinstance(elem, collections.abc.Mapping):
        try:
            if isinstance(elem, collections.abc.MutableMapping):
                clone = copy.copy(elem)
                clone.update({key: collate([d[key] for d in batch],
                                           collate_fn_map=collate_fn_map) for key in elem})
                return clone
            return elem_type({key: collate([d[key] for d in batch],
                                           collate_fn_map=collate_fn_map) for key in elem})
        except TypeError:
            return {key: collate([d[key] for d in batch], collate_fn_map=collate_fn_map)
                    for key in elem}
    if isinstance(elem, tuple) and hasattr(elem, "_fields"):  # namedtuple
        return elem_type(*(collate(samples, collate_fn_map=collate_fn_map)
                           for samples in zip(*batch)))
    if isinstance(elem, collections.abc.Sequence):
        it = iter(batch)
        elem_size = len(next(it))
        if not all(len(e) == elem_size for e in it):
            raise RuntimeError("each element in list of batch should be of equal size")
        transposed = list(zip(*batch))
        if isinstance(elem, tuple):
            return [collate(samples, collate_fn_map=collate_fn_map) for samples in transposed]
        try:
            if isinstance(elem, collections.abc.MutableSequence):
                clone = copy.copy(elem)
                for i, samples in enumerate(transposed):
                    clone[i] = collate(samples, collate_fn_map=collate_fn_map)
                return clone
            return elem_type([collate(samples, collate_fn_map=collate_fn_map)
                              for samples in transposed])
        except TypeError:
            return [collate(samples, collate_fn_map=collate_fn_map) for samples in transposed]
    raise TypeError(default_collate_err_msg_format.format(elem_type))


def _stack(batch: list[Tensor] | tuple[Tensor, ...]) -> Tensor:
    """``ember.stack(batch, 0)`` without autograd: one ``stack`` of the arrays."""
    arrays = [t._data for t in batch]
    first = arrays[0]
    shape, dt = first.shape, first.dtype
    if type(first) is np.ndarray:
        for a in arrays:
            if type(a) is not np.ndarray or a.shape != shape or a.dtype != dt:
                break
        else:
            # NumPy arrays of one shape and dtype (the usual batch): np.array copies them into
            # one new array, at a third of np.stack's cost for small samples.
            return Tensor._make(np.array(arrays))
    elem = batch[0]
    shape, dt, dev = elem.shape, elem.dtype, elem.device
    for i, t in enumerate(batch):
        if t.shape != shape:
            raise RuntimeError(f"stack expects each tensor to be equal size, but got "
                               f"{list(shape)} at entry 0 and {list(t.shape)} at entry {i}")
        if t.device != dev:
            raise RuntimeError("Expected all tensors to be on the same device, but found at "
                               f"least two devices, {dev} and {t.device}!")
        if t.dtype is not dt:
            dt = promote_types(dt, t.dtype)
    xp = backend.array_module(dev)
    with backend.on_device(dev):
        out = xp.stack([t._data for t in batch])
    if out.dtype != dt.np:
        out = out.astype(dt.np)
    return Tensor._make(out)


def collate_tensor_fn(batch: Any, *, collate_fn_map: CollateFnMap | None = None) -> Tensor:
    """Stack a batch of tensors along a new first dim (``ember.stack(batch, 0)``)."""
    if is_grad_enabled():
        for t in batch:
            if t._rg:
                from ...functions import stack
                return stack(list(batch), 0)
    return _stack(batch)


def collate_numpy_array_fn(batch: Any, *, collate_fn_map: CollateFnMap | None = None) -> Any:
    """NumPy arrays become tensors, then are stacked; string or object arrays are refused."""
    elem = batch[0]
    if np_str_obj_array_pattern.search(elem.dtype.str) is not None:
        raise TypeError(default_collate_err_msg_format.format(elem.dtype))
    return collate([as_tensor(b) for b in batch], collate_fn_map=collate_fn_map)


def collate_numpy_scalar_fn(batch: Any, *, collate_fn_map: CollateFnMap | None = None) -> Tensor:
    """NumPy scalars become a 1-d tensor of their dtype."""
    return as_tensor(batch)


def collate_float_fn(batch: Any, *, collate_fn_map: CollateFnMap | None = None) -> Tensor:
    """Python floats become a ``float64`` tensor."""
    return tensor(batch, dtype=float64)


def collate_int_fn(batch: Any, *, collate_fn_map: CollateFnMap | None = None) -> Tensor:
    """Python ints become an ``int64`` tensor (bools a ``bool`` tensor)."""
    return tensor(batch)


def collate_str_fn(batch: Any, *, collate_fn_map: CollateFnMap | None = None) -> Any:
    """Strings and bytes are kept as they are: the batch stays a list."""
    return batch


default_collate_fn_map: CollateFnMap = {Tensor: collate_tensor_fn}
default_collate_fn_map[np.ndarray] = collate_numpy_array_fn
default_collate_fn_map[(np.bool_, np.number, np.object_)] = collate_numpy_scalar_fn
default_collate_fn_map[float] = collate_float_fn
default_collate_fn_map[int] = collate_int_fn
default_collate_fn_map[str] = collate_str_fn
default_collate_fn_map[bytes] = collate_str_fn


_DEFAULT_COLLATE_FN_MAP = dict(default_collate_fn_map)


def _gather_tensor_rows(tensors: Any, indices: Any) -> list[Tensor] | None:
    """``default_collate([tuple(t[i] for t in tensors) for i in indices])``, the batch of a
    ``TensorDataset``, with each tensor's rows gathered in one call; None where the result
    could differ from that (indices not a list or tuple of ints in range, a tensor that is not a
    plain CPU tensor, one that would record a graph, a changed ``default_collate_fn_map``),
    so that the caller takes the per-sample path and its errors."""
    if type(indices) not in (list, tuple) or not indices or type(tensors) is not tuple or \
            not tensors or \
            default_collate_fn_map != _DEFAULT_COLLATE_FN_MAP:
        return None
    for i in indices:
        if type(i) is not int:
            return None
    low, high = min(indices), max(indices)
    grad = is_grad_enabled()
    for t in tensors:
        if type(t) is not Tensor or type(t._data) is not np.ndarray or (grad and t._rg):
            return None
        shape = t._data.shape
        if not shape or low < -shape[0] or high >= shape[0]:
            return None
    rows = np.array(indices, dtype=np.int64)
    out = []
    for t in tensors:
        batch = t._data[rows]
        if not batch.flags.c_contiguous:  # stack's result is contiguous whatever the input
            batch = np.ascontiguousarray(batch)
        out.append(Tensor._make(batch))
    return out


def default_collate(batch: Any) -> Any:
    """Put each element of a batch into a tensor with an extra outer dimension, the batch.

    The default ``collate_fn`` of a ``DataLoader`` with ``batch_size`` or ``batch_sampler``:

    * ``Tensor`` -> ``Tensor`` (stacked along a new first dim)
    * NumPy arrays -> ``Tensor``; NumPy scalars -> a tensor of their dtype
    * ``float`` -> ``float64`` tensor; ``int`` -> ``int64`` tensor
    * ``str``, ``bytes`` -> unchanged (a list)
    * ``Mapping[K, V_i]`` -> ``Mapping[K, default_collate([V_1, V_2, ...])]``
    * ``NamedTuple[V1_i, V2_i, ...]`` -> ``NamedTuple[default_collate([V1_1, V1_2, ...]), ...]``
    * ``Sequence[V1_i, V2_i, ...]`` -> ``Sequence[default_collate([V1_1, V1_2, ...]), ...]``
      (tuples give lists)

    Example::

        >>> default_collate([(0, 1), (2, 3)])
        [tensor([0, 2]), tensor([1, 3])]
    """
    return collate(batch, collate_fn_map=default_collate_fn_map)
