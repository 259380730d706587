"""Reading the pickle of a PyTorch checkpoint into ember objects.

:class:`TorchUnpickler` resolves the globals a torch checkpoint names (``torch._utils.
_rebuild_tensor_v2``, ``torch.FloatStorage``, ``torch.float32``, ``torch.Size``, ...) to
ember's own functions and values, never importing torch. With ``weights_only=True`` (the
default) it refuses every other global, as ``torch.load``'s weights-only unpickler does, so
a checkpoint can never run code; the few builtins torch allows (``OrderedDict``, ``set``,
``bytearray``, ``complex``, ``_codecs.encode`` for bytes, ...) are allowed too.
"""

from __future__ import annotations

import _compat_pickle
import codecs
import pickle
from collections import Counter, OrderedDict

from ..backend import as_strided
from ..device import device
from ..dtype import ALL_DTYPES, dtype
from ..nn.parameter import Parameter
from ..size import Size
from ..tensor import Tensor
from ._pickler import STORAGE_NAMES

UNSAFE_MESSAGE = (
    "In PyTorch 2.6, we changed the default value of the `weights_only` argument in "
    "`torch.load` from `False` to `True`; `ember.load` does the same. Re-running `ember.load` "
    "with `weights_only` set to `False` will likely succeed, but it can result in arbitrary "
    "code execution. Do it only if you got the file from a trusted source."
)


class StorageType:
    """What a torch storage class (``torch.FloatStorage``, ...) names in a checkpoint: the
    dtype of the storage's elements (None for dtypes ember does not have)."""

    __slots__ = ("name", "dtype")

    def __init__(self, name: str, dt: dtype | None) -> None:
        self.name, self.dtype = name, dt

    def __repr__(self) -> str:
        return f"StorageType(dtype={self.dtype})"


class LoadedStorage:
    """A storage read from a checkpoint: a flat array of ``dtype`` on its device."""

    __slots__ = ("array", "dtype")

    def __init__(self, array, dt: dtype) -> None:
        self.array, self.dtype = array, dt


def _int(value, what: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise TypeError(f"_rebuild_tensor_v2(): {what} must be an int, not "
                        f"{type(value).__name__}")
    return value


def _ints(value, what: str) -> tuple[int, ...]:
    if not isinstance(value, (tuple, list)):
        raise TypeError(f"_rebuild_tensor_v2(): {what} must be a tuple of ints, not "
                        f"{type(value).__name__}")
    out = tuple(_int(v, what) for v in value)
    if any(v < 0 for v in out):
        raise RuntimeError(f"_rebuild_tensor_v2(): {what} must be non-negative, got {list(out)}")
    return out


def _rebuild_tensor(storage, storage_offset, size, stride) -> Tensor:
    """The tensor of shape ``size`` and ``stride`` at ``storage_offset`` in ``storage``, a
    view of the storage's memory (checked to lie inside it)."""
    if not isinstance(storage, LoadedStorage):
        raise TypeError(f"_rebuild_tensor_v2(): expected a storage, got "
                        f"{type(storage).__name__}")
    offset = _int(storage_offset, "storage_offset")
    size, stride = _ints(size, "size"), _ints(stride, "stride")
    if offset < 0:
        raise RuntimeError(f"Tensor: invalid storage offset {offset}")
    if len(size) != len(stride):
        raise RuntimeError(f"mismatch in length of strides and shape: size {list(size)}, "
                           f"stride {list(stride)}")
    arr = storage.array
    item = arr.itemsize
    numel = 1
    for n in size:
        numel *= n
    if numel:
        need = offset + 1 + sum((n - 1) * s for n, s in zip(size, stride))
        if need > arr.size:
            raise RuntimeError(
                f"setStorage: sizes {list(size)}, strides {list(stride)}, storage offset "
                f"{offset}, and itemsize {item} requiring a storage size of {need * item} are "
                f"out of bounds for storage of size {arr.size * item}")
    contiguous, step = True, 1
    for n, s in zip(reversed(size), reversed(stride)):
        if n != 1 and s != step:
            contiguous = False
            break
        step *= n
    if contiguous or not numel:
        out = arr[offset:offset + numel].reshape(size)
    else:
        out = as_strided(arr[offset:], size, tuple(s * item for s in stride))
    return Tensor._make(out)


def _rebuild_tensor_v2(storage, storage_offset, size, stride, requires_grad=False,
                       backward_hooks=None, metadata=None) -> Tensor:
    """torch._utils._rebuild_tensor_v2 (backward hooks, never saved by torch, are dropped)."""
    t = _rebuild_tensor(storage, storage_offset, size, stride)
    if requires_grad:
        t.requires_grad_(True)
    return t


def _rebuild_parameter(data, requires_grad, backward_hooks) -> Parameter:
    """torch._utils._rebuild_parameter: ``Parameter(data, requires_grad)``."""
    if not isinstance(data, Tensor):
        raise TypeError(f"_rebuild_parameter(): data must be a Tensor, not "
                        f"{type(data).__name__}")
    return Parameter(data, bool(requires_grad))


def _rebuild_parameter_with_state(data, requires_grad, backward_hooks, state) -> Parameter:
    """torch._utils._rebuild_parameter_with_state: a parameter and its Python attributes."""
    param = _rebuild_parameter(data, requires_grad, backward_hooks)
    parts = state if isinstance(state, tuple) else (state,)
    for part in parts:
        for key, value in (part or {}).items():
            if key in Tensor.__slots__:
                raise pickle.UnpicklingError(f"_rebuild_parameter_with_state(): the state may "
                                             f"not set the internal field {key!r}")
            setattr(param, key, value)
    return param


TORCH_GLOBALS: dict[tuple[str, str], object] = {
    ("torch._utils", "_rebuild_tensor"): _rebuild_tensor,
    ("torch._utils", "_rebuild_tensor_v2"): _rebuild_tensor_v2,
    ("torch._utils", "_rebuild_parameter"): _rebuild_parameter,
    ("torch._utils", "_rebuild_parameter_with_state"): _rebuild_parameter_with_state,
    ("torch", "Size"): Size,
    ("torch", "device"): device,
    ("torch", "Tensor"): Tensor,
    ("torch.nn.parameter", "Parameter"): Parameter,
}
for _d in ALL_DTYPES:
    TORCH_GLOBALS["torch", _d.name] = _d
    TORCH_GLOBALS["torch", STORAGE_NAMES[_d.name]] = StorageType(STORAGE_NAMES[_d.name], _d)
for _name in ("BFloat16Storage", "ComplexFloatStorage", "ComplexDoubleStorage"):
    TORCH_GLOBALS["torch", _name] = StorageType(_name, None)
TORCH_GLOBALS["torch", "UntypedStorage"] = StorageType("UntypedStorage",
                                                       TORCH_GLOBALS["torch", "uint8"])

SAFE_BUILTINS: dict[tuple[str, str], object] = {
    ("collections", "OrderedDict"): OrderedDict,
    ("collections", "Counter"): Counter,
    ("_codecs", "encode"): codecs.encode,  # how protocol 2 pickles bytes
    ("builtins", "bytearray"): bytearray,
    ("builtins", "set"): set,
    ("builtins", "complex"): complex,
}

# Globals the user allowed with add_safe_globals / safe_globals: "module.name" -> object.
USER_SAFE_GLOBALS: dict[str, object] = {}


DOCS_MESSAGE = ("\n\nCheck the documentation of ember.load to learn more about types accepted "
                "by default with weights_only.")


def weights_only_error(module: str, name: str) -> pickle.UnpicklingError:
    """``torch.load``'s error for a global the weights-only unpickler does not allow
    (builtins are named without their module, as PyTorch names them)."""
    path = name if module == "builtins" else f"{module}.{name}"
    return pickle.UnpicklingError(
        "Weights only load failed. This file can still be loaded, to do so you have two "
        "options, \033[1mdo those steps only if you trust the source of the checkpoint\033[0m. "
        f"\n\t(1) {UNSAFE_MESSAGE}\n\t(2) Alternatively, to load with `weights_only=True` "
        "please check the recommended steps in the following error message.\n\t"
        f"WeightsUnpickler error: Unsupported global: GLOBAL {path} was not an allowed global "
        f"by default. Please use `ember.serialization.add_safe_globals([{path}])` or the "
        f"`ember.serialization.safe_globals([{path}])` context manager to allowlist this "
        "global if you trust this class/function." + DOCS_MESSAGE)


class TorchUnpickler(pickle.Unpickler):
    """Unpickles a checkpoint's ``data.pkl``; ``load_storage(storage_type, key, location,
    numel)`` reads a storage the pickle refers to by persistent id."""

    def __init__(self, file, load_storage, weights_only: bool, **kwargs) -> None:
        super().__init__(file, **kwargs)
        self._load_storage = load_storage
        self._weights_only = weights_only

    def find_class(self, module: str, name: str):
        # Protocol 2 writes Python 2 names (__builtin__.set, ...), which no Python 3 module
        # has: map them as pickle's own find_class does.
        if (module, name) in _compat_pickle.NAME_MAPPING:
            module, name = _compat_pickle.NAME_MAPPING[(module, name)]
        elif module in _compat_pickle.IMPORT_MAPPING:
            module = _compat_pickle.IMPORT_MAPPING[module]
        key = (module, name)
        obj = TORCH_GLOBALS.get(key)
        if obj is None:
            obj = SAFE_BUILTINS.get(key)
        if obj is None:
            obj = USER_SAFE_GLOBALS.get(f"{module}.{name}")
        if obj is not None:
            return obj
        if module == "torch" or module.startswith("torch."):
            raise pickle.UnpicklingError(
                f"ember cannot load the global {module}.{name}: it is part of PyTorch, and "
                "ember reads only tensors, parameters, storages, dtypes, devices and sizes "
                "from torch checkpoints. Save the model's state_dict() rather than the model.")
        if self._weights_only:
            raise weights_only_error(module, name)
        return super().find_class(module, name)

    def persistent_load(self, pid):
        if not (isinstance(pid, tuple) and len(pid) == 5 and pid[0] == "storage"):
            raise pickle.UnpicklingError(
                f"Unsupported persistent id {pid!r}: expected ('storage', storage_type, key, "
                "location, numel)")
        _, storage_type, key, location, numel = pid
        if not isinstance(storage_type, StorageType):
            raise pickle.UnpicklingError(f"persistent id names {storage_type!r}, which is not "
                                         "a storage type")
        if storage_type.dtype is None:
            raise RuntimeError(f"ember.load: the checkpoint holds a torch.{storage_type.name}, "
                               "whose dtype ember does not support")
        if isinstance(numel, bool) or not isinstance(numel, int) or numel < 0:
            raise pickle.UnpicklingError(f"persistent id {pid!r} has an invalid numel")
        return self._load_storage(storage_type.dtype, str(key), str(location), numel)
