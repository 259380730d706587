"""``ember.device``: where a tensor's memory lives."""

from __future__ import annotations

# Every device type PyTorch's parser knows, in the order its error message lists them.
_TYPES = ("cpu", "cuda", "ipu", "xpu", "mkldnn", "opengl", "opencl", "ideep", "hip", "ve",
          "fpga", "maia", "xla", "lazy", "vulkan", "mps", "meta", "hpu", "mtia",
          "privateuseone")
_INVALID_ARGS = (
    "device() received an invalid combination of arguments - got ({got}), but expected one "
    "of:\n * (ember.device device)\n      didn't match because some of the arguments have "
    "invalid types: (!{got}!)\n * (str type, int index = -1)\n"
)


def _parse_index(text: str, whole: str) -> int:
    # PyTorch accepts only plain decimal indices without leading zeros or signs.
    if not text.isdigit() or not text.isascii() or (len(text) > 1 and text[0] == "0"):
        raise RuntimeError(f"Invalid device string: '{whole}'")
    return int(text)


class device:
    """A device type (``'cpu'``, ``'cuda'``, ...) and an optional index, as in PyTorch.

    ``device('cuda:1')``, ``device('cuda', 1)`` and ``device(type='cuda', index=1)`` are the
    same device; a bare integer means that index of the current accelerator.
    """

    __slots__ = ("type", "index")

    def __init__(self, type=None, index: int | None = None) -> None:  # noqa: A002
        arg = type
        if isinstance(arg, device):
            if index is not None:
                raise TypeError("device(): argument 'type' (position 1) must be str, not "
                                "ember.device")
            self.type, self.index = arg.type, arg.index
            return
        if isinstance(arg, int) and not isinstance(arg, bool):
            if arg < 0:
                raise RuntimeError("Device index must not be negative")
            from .backend import cuda_available

            if not cuda_available():
                raise RuntimeError("Cannot access accelerator device when none is available.")
            self.type, self.index = "cuda", arg
            return
        if not isinstance(arg, str):
            raise TypeError(_INVALID_ARGS.format(got=builtin_type(arg).__name__))
        kind, sep, rest = arg.partition(":")
        if kind not in _TYPES:
            if kind.strip() in _TYPES:
                raise RuntimeError(f"Invalid device string: '{arg}'")
            raise RuntimeError(
                f"Expected one of {', '.join(_TYPES)} device type at start of device string: "
                f"{arg}"
            )
        if sep:
            if index is not None:
                raise RuntimeError(
                    f"type (string) must not include an index because index was passed "
                    f"explicitly: {arg}"
                )
            index = _parse_index(rest, arg)
        if index is not None and index < 0:
            raise RuntimeError("Device index must not be negative")
        self.type, self.index = kind, index

    def __repr__(self) -> str:
        if self.index is None:
            return f"device(type='{self.type}')"
        return f"device(type='{self.type}', index={self.index})"

    def __str__(self) -> str:
        return self.type if self.index is None else f"{self.type}:{self.index}"

    def __eq__(self, other) -> bool:
        # Like PyTorch: devices compare equal only to devices (never to strings).
        if not isinstance(other, device):
            return NotImplemented
        return self.type == other.type and self.index == other.index

    def __hash__(self) -> int:
        return hash((self.type, self.index))

    def __reduce__(self):
        return (device, (self.type, self.index))


builtin_type = type
CPU = device("cpu")
