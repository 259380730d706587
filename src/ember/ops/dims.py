"""Dim arguments: negative dims, tuples of dims, and PyTorch's range errors."""

from __future__ import annotations


def normalize_dim(dim: int, ndim: int) -> int:
    """``dim`` as a non-negative index, with PyTorch's IndexError when out of range."""
    n = max(ndim, 1)
    if not -n <= dim < n:
        raise IndexError(
            f"Dimension out of range (expected to be in range of [{-n}, {n - 1}], but got {dim})"
        )
    return dim % n


def normalize_dims(dim, ndim: int):
    """A tuple of non-negative dims (all dims for None or an empty list)."""
    if dim is None:
        return tuple(range(ndim))
    if isinstance(dim, int):
        dims = (normalize_dim(dim, ndim),)
    else:
        dims = tuple(normalize_dim(d, ndim) for d in dim)
        if len(set(dims)) != len(dims):
            again = next(d for k, d in enumerate(dims) if d in dims[:k])
            raise RuntimeError(f"dim {again} appears multiple times in the list of dims")
    return tuple(d for d in dims if d < ndim) if ndim == 0 else dims
