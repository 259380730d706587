"""``ember.Size``: the shape of a tensor, a tuple subclass that prints like PyTorch's."""

from __future__ import annotations

import math
import operator

_new_tuple = tuple.__new__


class Size(tuple):
    """A tuple of ints describing a tensor's shape, printed as ``ember.Size([2, 3])``.

    Slicing, adding and repeating a Size give a Size; ``numel()`` is the number of elements
    a tensor of this shape holds.
    """

    __slots__ = ()

    def __new__(cls, sizes=()):
        if type(sizes) is tuple and all(type(s) is int for s in sizes):
            return _new_tuple(cls, sizes)
        out = []
        for i, s in enumerate(sizes):
            if type(s) is not int:
                if not hasattr(type(s), "__index__"):
                    raise TypeError(f"ember.Size() takes an iterable of 'int' (item {i} is "
                                    f"'{type(s).__name__}')")
                s = operator.index(s)
            out.append(s)
        return _new_tuple(cls, out)

    @classmethod
    def _of(cls, shape: tuple) -> Size:
        """A Size from a tuple of Python ints (an array's shape), without checks."""
        return _new_tuple(cls, shape)

    def __repr__(self) -> str:
        return f"ember.Size({list(self)!r})"

    __str__ = __repr__

    def __getitem__(self, key):
        out = tuple.__getitem__(self, key)
        return _new_tuple(Size, out) if isinstance(key, slice) else out

    def __add__(self, other):
        if not isinstance(other, tuple):
            raise TypeError(f"can only concatenate tuple (not {type(other).__name__}) to "
                            "ember.Size")
        return _new_tuple(Size, tuple.__add__(self, other))

    def __radd__(self, other):
        if not isinstance(other, tuple):
            return NotImplemented
        return _new_tuple(Size, tuple.__add__(other, self))

    def __mul__(self, n):
        out = tuple.__mul__(self, n)
        return out if out is NotImplemented else _new_tuple(Size, out)

    __rmul__ = __mul__

    def numel(self) -> int:
        """The number of elements a tensor of this shape holds."""
        return math.prod(self)

    def __reduce__(self):
        return (Size, (tuple(self),))
