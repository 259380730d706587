"""``ember.return_types``: the named tuples ops return (``max``'s ``values, indices``)."""

from __future__ import annotations

from collections import namedtuple


def _return_type(name: str, fields: list[str]) -> type:
    """A named tuple printed as PyTorch prints its ``torch.return_types`` structs."""
    base = namedtuple(name, fields)

    def __repr__(self) -> str:
        body = ",\n".join(f"{f}={v!r}" for f, v in zip(self._fields, self))
        return f"ember.return_types.{name}(\n{body})"

    cls = type(name, (base,), {"__slots__": (), "__repr__": __repr__, "__str__": __repr__})
    cls.__module__ = "ember.return_types"
    return cls


max = _return_type("max", ["values", "indices"])
min = _return_type("min", ["values", "indices"])

__all__ = ["max", "min"]
