"""Joining tensors: ``cat`` (``concat``, ``concatenate``) and ``stack``.

Both take a list of tensors, so their ops are declared per number of inputs (once each, on
first use): input ``k`` gets back the slice of the gradient it filled (``narrow`` for
``cat``, ``select`` for ``stack``), and the engine casts it to that input's dtype.
"""

from __future__ import annotations

import numpy as np

from ..dtype import result_type
from ._apply import apply, device_error
from .dims import normalize_dim
from .registry import Bound, defop

__all__ = ["cat", "concat", "concatenate", "stack"]


def _cat_forward(*arrays, dim: int, sizes, dtype):
    kept = [a.astype(dtype, copy=False) for a, n in zip(arrays, sizes) if n is not None]
    if not kept:  # every input was a legacy empty 1-d tensor
        return arrays[0].astype(dtype, copy=True)
    return np.concatenate(kept, axis=dim)


def _cat_slice(k: int):
    def formula(grad, dim, sizes):
        if sizes[k] is None:  # a legacy empty 1-d input took no part
            return grad.new_zeros((0,))
        start = sum(n for n in sizes[:k] if n is not None)
        return grad.narrow(dim, start, sizes[k])
    return formula


def _stack_select(k: int):
    return lambda grad, dim: grad.select(dim, k)


_CAT_OPS: dict[int, object] = {}
_STACK_OPS: dict[int, object] = {}


def _op_for(cache: dict, n: int, name: str, forward, formula):
    op = cache.get(n)
    if op is None:
        names = tuple(f"tensors{k}" for k in range(n))
        op = cache[n] = defop(name, inputs=names, forward=forward,
                              derivatives={nm: formula(k) for k, nm in enumerate(names)})
    return op


def _tensor_list(name: str, tensors) -> list:
    Tensor = Bound.Tensor
    if not isinstance(tensors, (list, tuple)):
        raise TypeError(f"{name}(): argument 'tensors' (position 1) must be tuple of Tensors, "
                        f"not {type(tensors).__name__}")
    for k, t in enumerate(tensors):
        if not isinstance(t, Tensor):
            raise TypeError(f"expected Tensor as element {k} in argument 0, but got "
                            f"{type(t).__name__}")
    tensors = list(tensors)
    for t in tensors[1:]:
        if type(t._data) is not type(tensors[0]._data):
            raise device_error(tensors[0], t)
    return tensors


def cat(tensors, dim: int = 0, *, out=None):
    """Concatenate ``tensors`` along ``dim``; all must have the same shape except in ``dim``.

    Dtypes are promoted as for a binary op. As in PyTorch, 1-d empty tensors (shape
    ``(0,)``) are skipped whatever the other shapes.

    Args:
        tensors: a list or tuple of tensors.
        dim: the dim to join along. Default: 0.
    """
    tensors = _tensor_list("cat", tensors)
    if not tensors:
        raise ValueError("ember.cat(): expected a non-empty list of Tensors")
    for k, t in enumerate(tensors):
        if t.ndim == 0:
            raise RuntimeError(f"zero-dimensional tensor (at position {k}) cannot be "
                               "concatenated")
    skipped = [t.ndim == 1 and t.shape[0] == 0 for t in tensors]
    first = skipped.index(False) if False in skipped else 0
    ref = tensors[first]
    d = normalize_dim(dim, ref.ndim)
    for k, t in enumerate(tensors):
        if skipped[k] or k == first:
            continue
        if t.ndim != ref.ndim:
            raise RuntimeError(f"Tensors must have same number of dimensions: got "
                               f"{ref.ndim} and {t.ndim}")
        for i in range(ref.ndim):
            if i != d and t.shape[i] != ref.shape[i]:
                raise RuntimeError(
                    f"Sizes of tensors must match except in dimension {d}. Expected size "
                    f"{ref.shape[i]} but got size {t.shape[i]} for tensor number {k} in the "
                    "list.")
    sizes = tuple(None if skip else t.shape[d] for t, skip in zip(tensors, skipped))
    dtype = result_type(*tensors) if len(tensors) > 1 else tensors[0].dtype
    op = _op_for(_CAT_OPS, len(tensors), "cat", _cat_forward, _cat_slice)
    return apply(op, tensors, {"dim": d, "sizes": sizes, "dtype": dtype.np})


def concat(tensors, dim: int = 0, *, out=None):
    """Alias of ``cat``."""
    return cat(tensors, dim)


def concatenate(tensors, axis: int = 0, out=None):
    """Alias of ``cat`` with NumPy's argument name ``axis``."""
    return cat(tensors, axis)


def _stack_forward(*arrays, dim: int, dtype):
    return np.stack([a.astype(dtype, copy=False) for a in arrays], axis=dim)


def stack(tensors, dim: int = 0, *, out=None):
    """Join tensors of the same shape along a new dim ``dim``.

    Args:
        tensors: a list or tuple of tensors of equal shape.
        dim: where the new dim goes, in ``[-(ndim + 1), ndim]``. Default: 0.
    """
    tensors = _tensor_list("stack", tensors)
    if not tensors:
        raise RuntimeError("stack expects a non-empty TensorList")
    ref = tensors[0]
    d = normalize_dim(dim, ref.ndim + 1)
    for k, t in enumerate(tensors[1:], 1):
        if t.shape != ref.shape:
            raise RuntimeError(f"stack expects each tensor to be equal size, but got "
                               f"{list(ref.shape)} at entry 0 and {list(t.shape)} at entry {k}")
    dtype = result_type(*tensors) if len(tensors) > 1 else ref.dtype
    op = _op_for(_STACK_OPS, len(tensors), "stack", _stack_forward, _stack_select)
    return apply(op, tensors, {"dim": d, "dtype": dtype.np})
