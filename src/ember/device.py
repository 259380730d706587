"""``ember.device``: where a tensor's memory lives."""

from __future__ import annotations

_TYPES = ("cpu", "cuda", "mps", "meta")


class device:
    """A device type (``'cpu'`` or ``'cuda'``) and an optional index, as in PyTorch."""

    __slots__ = ("type", "index")

    def __init__(self, type_or_str, index: int | None = None) -> None:
        if isinstance(type_or_str, device):
            if index is not None:
                raise TypeError("device(): cannot give an index together with a device object")
            self.type, self.index = type_or_str.type, type_or_str.index
            return
        if isinstance(type_or_str, int) and not isinstance(type_or_str, bool):
            if type_or_str < 0:
                raise RuntimeError(f"Device index must not be negative, got {type_or_str}")
            self.type, self.index = "cuda", type_or_str
            return
        if not isinstance(type_or_str, str):
            raise TypeError(
                f"device() received an invalid combination of arguments - got "
                f"({type(type_or_str).__name__})"
            )
        kind, sep, rest = type_or_str.partition(":")
        if kind not in _TYPES:
            raise RuntimeError(
                "Expected one of cpu, cuda, mps, meta device type at start of device string: "
                f"{type_or_str}"
            )
        if sep:
            if index is not None:
                raise RuntimeError(
                    f"type (string) must not include an index because index was passed "
                    f"explicitly: {type_or_str}"
                )
            if not rest.isdigit():
                raise RuntimeError(f"Invalid device string: '{type_or_str}'")
            index = int(rest)
        if index is not None and index < 0:
            raise RuntimeError(f"Device index must not be negative, got {index}")
        self.type, self.index = kind, index

    def __repr__(self) -> str:
        if self.index is None:
            return f"device(type='{self.type}')"
        return f"device(type='{self.type}', index={self.index})"

    def __str__(self) -> str:
        return self.type if self.index is None else f"{self.type}:{self.index}"

    def __eq__(self, other) -> bool:
        if isinstance(other, str):
            other = device(other)
        if not isinstance(other, device):
            return NotImplemented
        return self.type == other.type and self.index == other.index

    def __hash__(self) -> int:
        return hash((self.type, self.index))

    def __reduce__(self):
        return (device, (self.type, self.index))


CPU = device("cpu")
