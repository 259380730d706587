"""Writing ember objects as the pickle ``torch.save`` writes, without importing torch.

A checkpoint's ``data.pkl`` names PyTorch's own functions and classes:
``GLOBAL 'torch._utils _rebuild_tensor_v2'``, ``GLOBAL 'torch FloatStorage'``, ... and
``torch.load(weights_only=True)`` accepts nothing else. The C pickler cannot write such a
global for an object that is not importable under that name (it imports the module and
checks that the name resolves to the same object), and ember must not import torch.

So :class:`TorchPickler` subclasses the pure-Python ``pickle._Pickler`` and adds one entry
to its type dispatch table: a :class:`TorchGlobal` (a module and a name, nothing else) is
written as the ``GLOBAL`` opcode with that module and name, and memoized like any global.
Everything else goes through pickle's ordinary machinery: ``reducer_override`` turns an
ember tensor into ``(TorchGlobal('torch._utils', '_rebuild_tensor_v2'), (storage, offset,
size, stride, requires_grad, OrderedDict()))`` exactly as ``torch.Tensor.__reduce_ex__``
does, and a storage becomes the persistent id ``('storage', TorchGlobal('torch',
'FloatStorage'), key, location, numel)``. The pickle holds only the names; the data of each
storage is written once, to ``<archive>/data/<key>``, by the caller. The pure-Python
pickler is slower than the C one, but a checkpoint's pickle is small (the tensors' bytes
are not in it).
"""

from __future__ import annotations

import pickle
from collections import OrderedDict

import numpy as np

from ..backend import array_device, as_host, data_ptr, storage_root
from ..device import device
from ..dtype import ALL_DTYPES, FROM_NUMPY, dtype
from ..nn.parameter import Parameter
from ..size import Size
from ..tensor import Tensor

# ember dtype <-> the legacy storage class torch names in persistent ids.
STORAGE_NAMES = {
    "float32": "FloatStorage", "float64": "DoubleStorage", "float16": "HalfStorage",
    "int8": "CharStorage", "int16": "ShortStorage", "int32": "IntStorage",
    "int64": "LongStorage", "uint8": "ByteStorage", "bool": "BoolStorage",
}


class TorchGlobal:
    """A stand-in for the PyTorch global ``module.name``: :class:`TorchPickler` writes it
    as that ``GLOBAL`` opcode. Calling it is an error (pickle only requires that a reduce
    callable be callable)."""

    __slots__ = ("module", "name")

    def __init__(self, module: str, name: str) -> None:
        self.module, self.name = module, name

    def __call__(self, *args, **kwargs):
        raise RuntimeError(f"{self.module}.{self.name} is a stand-in used to write torch "
                           f"checkpoints; it cannot be called")

    def __repr__(self) -> str:
        return f"TorchGlobal({self.module}.{self.name})"


REBUILD_TENSOR = TorchGlobal("torch._utils", "_rebuild_tensor_v2")
REBUILD_PARAMETER = TorchGlobal("torch._utils", "_rebuild_parameter")
TORCH_SIZE = TorchGlobal("torch", "Size")
TORCH_DEVICE = TorchGlobal("torch", "device")
_DTYPE_GLOBALS = {d: TorchGlobal("torch", d.name) for d in ALL_DTYPES}
_STORAGE_GLOBALS = {d: TorchGlobal("torch", STORAGE_NAMES[d.name]) for d in ALL_DTYPES}


class _Storage:
    """One storage of the checkpoint: a flat array (on its device) and its key."""

    __slots__ = ("key", "flat", "ptr", "location")

    def __init__(self, key: str, flat) -> None:
        self.key, self.flat = key, flat
        self.ptr = data_ptr(flat) if flat.size else 0
        self.location = str(array_device(flat))

    def host_bytes(self) -> memoryview:
        """The storage's bytes on the host, as ``torch.save`` writes them."""
        return memoryview(np.ascontiguousarray(as_host(self.flat)).view(np.uint8))


class TorchPickler(pickle._Pickler):
    """Pickles ember objects as ``torch.save`` pickles torch's (see the module docstring).

    After ``dump``, ``storages`` maps each storage key to its :class:`_Storage`, in order.
    """

    dispatch = pickle._Pickler.dispatch.copy()

    def __init__(self, file, protocol: int = 2) -> None:
        super().__init__(file, protocol)
        self.storages: dict[str, _Storage] = {}
        self._by_root: dict[tuple[int, object], tuple[object, _Storage]] = {}

    # ---- globals, dtypes, devices, sizes -------------------------------------------------
    def save_torch_global(self, obj: TorchGlobal) -> None:
        self.write(pickle.GLOBAL + f"{obj.module}\n{obj.name}\n".encode())
        self.memoize(obj)

    dispatch[TorchGlobal] = save_torch_global

    def save_dtype(self, obj: dtype) -> None:
        self.save(_DTYPE_GLOBALS[obj])

    dispatch[dtype] = save_dtype

    def reducer_override(self, obj):
        cls = type(obj)
        if cls is Tensor or cls is Parameter or isinstance(obj, Tensor):
            return self._reduce_tensor(obj)
        if cls is device:
            args = (obj.type,) if obj.index is None else (obj.type, obj.index)
            return TORCH_DEVICE, args
        if cls is Size:
            return TORCH_SIZE, (tuple(obj),)
        return NotImplemented

    # ---- tensors and storages ------------------------------------------------------------
    def _reduce_tensor(self, t: Tensor):
        if isinstance(t, Parameter):
            return REBUILD_PARAMETER, (Tensor._make(t._data), t._rg, OrderedDict())
        storage, offset, strides = self._storage_of(t._data)
        return REBUILD_TENSOR, (storage, offset, tuple(t._data.shape), strides, t._rg,
                                OrderedDict())

    def _new_storage(self, flat) -> _Storage:
        s = _Storage(str(len(self.storages)), flat)
        self.storages[s.key] = s
        return s

    def _storage_of(self, arr) -> tuple[_Storage, int, tuple[int, ...]]:
        """The storage ``arr`` lies in, its offset and strides in elements. Arrays of one
        dtype that view one contiguous array share its storage (all of it, as in PyTorch);
        anything else gets a contiguous copy of its own."""
        item = arr.itemsize
        root = storage_root(arr)
        if arr.size and (root.flags.c_contiguous or root.flags.f_contiguous) \
                and root.nbytes % item == 0:
            entry = self._by_root.get((id(root), arr.dtype))
            if entry is None:
                flat = root.reshape(-1) if root.flags.c_contiguous else root.T.reshape(-1)
                if flat.dtype != arr.dtype:
                    flat = flat.view(arr.dtype)
                entry = self._by_root[id(root), arr.dtype] = (root, self._new_storage(flat))
            storage = entry[1]
            delta = data_ptr(arr) - storage.ptr
            # A size-1 dim's stride is never stepped over: keep the tensor's own (as its
            # stride() reports it) unless NumPy left one no tensor could have.
            strides = tuple(s // item if s >= 0 and s % item == 0 else 1 for s in arr.strides)
            if (delta % item == 0 and all(s % item == 0 and s >= 0 for s, n in
                                          zip(arr.strides, arr.shape) if n > 1)):
                return storage, delta // item, strides
        flat = arr.reshape(-1).copy() if arr.size else arr.reshape(-1)
        contiguous, step = [], 1
        for n in reversed(arr.shape):
            contiguous.append(step)
            step *= max(n, 1)
        return self._new_storage(flat), 0, tuple(reversed(contiguous))

    def save_storage(self, obj: _Storage) -> None:
        self.save_pers(("storage", _STORAGE_GLOBALS[FROM_NUMPY[obj.flat.dtype]],
                        obj.key, obj.location, int(obj.flat.size)))

    dispatch[_Storage] = save_storage
