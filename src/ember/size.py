"""``ember.Size``: the shape of a tensor, a tuple subclass that prints like PyTorch's."""

from __future__ import annotations

import math


class Size(tuple):
    """A tuple of ints describing a tensor's shape, printed as ``ember.Size([2, 3])``."""

    __slots__ = ()

    def __repr__(self) -> str:
        return f"ember.Size({list(self)!r})"

    __str__ = __repr__

    def __getitem__(self, key):
        out = tuple.__getitem__(self, key)
        return Size(out) if isinstance(key, slice) else out

    def __add__(self, other):
        return Size(tuple.__add__(self, tuple(other)))

    def __radd__(self, other):
        return Size(tuple(other) + tuple(self))

    def numel(self) -> int:
        """The number of elements a tensor of this shape holds."""
        return math.prod(self)

    def __reduce__(self):
        return (Size, (tuple(self),))
