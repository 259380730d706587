"""``ember.save`` and ``ember.load``: PyTorch's checkpoint files, both ways.

A checkpoint is the zip archive ``torch.save`` writes (PyTorch 1.6 and later): the pickle
of the object in ``<name>/data.pkl``, each tensor storage's bytes once in
``<name>/data/<key>`` (64-byte aligned), and the records ``.format_version``,
``.storage_alignment``, ``byteorder``, ``version`` and ``.data/serialization_id``. Files
``ember.save`` writes load with ``torch.load`` (weights-only included), and files
``torch.save`` writes load with ``ember.load`` as ember tensors. How ember writes torch's
globals without importing torch is in ``_pickler.py``; reading them is in
``_unpickler.py``; the zip container is in ``_zip.py``.
"""

from __future__ import annotations

import io
import os
import pickle
import secrets
import sys
import zipfile
from collections.abc import Callable
from typing import Any, BinaryIO

import numpy as np

from ..backend import cuda_available, device_count, to_device
from ..device import device
from ..dtype import dtype
from ..tensor import Tensor
from ._pickler import TorchPickler
from ._unpickler import USER_SAFE_GLOBALS, LoadedStorage, TorchUnpickler
from ._zip import ALIGNMENT, ZipWriter, data_offset

__all__ = ["save", "load", "add_safe_globals", "get_safe_globals", "clear_safe_globals",
           "safe_globals"]

FileLike = str | os.PathLike | BinaryIO | io.IOBase
MapLocation = None | str | device | dict | Callable

_LEGACY_MAGIC = b"\x80\x02\x8a\nl\xfc\x9cF\xf9 j\xa8P\x19."  # pickled 0x1950a86a20f9469cfc6c


def _is_path(f) -> bool:
    return isinstance(f, (str, os.PathLike))


# ---- save ---------------------------------------------------------------------------------
def save(obj: object, f: FileLike, pickle_module: Any = pickle, pickle_protocol: int = 2,
         _use_new_zipfile_serialization: bool = True,
         _disable_byteorder_record: bool = False) -> None:
    """Saves an object to a disk file, in PyTorch's checkpoint format.

    ``torch.load`` reads the file (with its default ``weights_only=True`` too, as long as
    ``obj`` holds only tensors, parameters, containers, numbers and strings), and so does
    :func:`ember.load`. Tensors that share memory (views of one tensor) are written as
    one storage, and load as views of one storage again.

    Args:
        obj: the object to save, typically a ``state_dict``.
        f: a file path (``str`` or ``os.PathLike``) or a binary file-like object with a
            ``write`` method.
        pickle_module: must be the standard :mod:`pickle` module.
        pickle_protocol: the pickle protocol (default 2, as PyTorch).
    """
    if pickle_module is not pickle:
        raise ValueError("ember.save writes checkpoints with the standard pickle module only")
    if not _use_new_zipfile_serialization:
        raise RuntimeError("ember.save writes only the zip file format "
                           "(_use_new_zipfile_serialization=True)")
    buf = io.BytesIO()
    pickler = TorchPickler(buf, pickle_protocol)
    pickler.dump(obj)
    if _is_path(f):
        path = os.fspath(f)
        if isinstance(path, bytes):
            path = os.fsdecode(path)
        parent = os.path.dirname(path)
        if parent and not os.path.isdir(parent):
            raise RuntimeError(f"Parent directory {parent} does not exist.")
        base = os.path.basename(path)
        name = base.rpartition(".")[0] if "." in base else base
        with open(path, "wb") as fh:
            _write_archive(fh, name or "archive", buf.getbuffer(), pickler,
                           _disable_byteorder_record)
    elif hasattr(f, "write"):
        _write_archive(f, "archive", buf.getbuffer(), pickler, _disable_byteorder_record)
    else:
        raise AttributeError("expected 'f' to be string, path, or a file-like object with a "
                             "'write' attribute")


def _write_archive(fh, name: str, data_pkl, pickler: TorchPickler, no_byteorder: bool) -> None:
    writer = ZipWriter(fh)
    writer.write_record(f"{name}/data.pkl", data_pkl)
    writer.write_record(f"{name}/.format_version", b"1")
    writer.write_record(f"{name}/.storage_alignment", str(ALIGNMENT).encode())
    if not no_byteorder:
        writer.write_record(f"{name}/byteorder", sys.byteorder.encode())
    for key, storage in pickler.storages.items():
        writer.write_record(f"{name}/data/{key}", storage.host_bytes())
    writer.write_record(f"{name}/version", b"3\n")
    writer.write_record(f"{name}/.data/serialization_id",
                        f"{secrets.randbelow(10 ** 40):040d}".encode())
    writer.close()


# ---- load ---------------------------------------------------------------------------------
def _cuda_device(location: str) -> device:
    dev = device(location)
    if not cuda_available():
        raise RuntimeError(
            "Attempting to deserialize object on a CUDA device but ember.cuda.is_available() "
            "is False. If you are running on a CPU-only machine, please use ember.load with "
            "map_location=ember.device('cpu') to map your storages to the CPU.")
    count = device_count()
    if dev.index is not None and dev.index >= count:
        raise RuntimeError(
            f"Attempting to deserialize object on CUDA device {dev.index} but "
            f"ember.cuda.device_count() is {count}. Please use ember.load with map_location "
            "to map your storages to an existing device.")
    return dev


def _default_restore(array, location):
    """The storage ``array`` (on the CPU) moved to the device tagged ``location``."""
    location = str(location)
    if location == "cpu":
        return array
    if location.startswith("cuda"):
        return to_device(array, _cuda_device(location))
    raise RuntimeError(f"don't know how to restore data location of a storage (tagged with "
                       f"{location})")


def _restorer(map_location: MapLocation) -> Callable:
    if map_location is None:
        return _default_restore
    if isinstance(map_location, dict):
        return lambda array, location: _default_restore(
            array, map_location.get(location, location))
    if isinstance(map_location, (str, device)):
        target = str(device(map_location))
        return lambda array, location: _default_restore(array, target)
    if callable(map_location):
        def restore(array, location):
            result = map_location(Tensor._make(array), location)
            if result is None:
                return _default_restore(array, location)
            if not isinstance(result, Tensor) or result.dtype.np != array.dtype \
                    or result.shape != array.shape:
                raise RuntimeError(
                    f"map_location must return None or the storage it was given (a 1-D tensor "
                    f"of {array.size} elements), possibly moved to another device, but it "
                    f"returned {type(result).__name__}")
            return result._data
        return restore
    raise TypeError(f"map_location should be None, a str, an ember.device, a dict or a "
                    f"callable, but got {type(map_location).__name__}")


def _read_into(fp, offset: int, out: np.ndarray) -> None:
    fp.seek(offset)
    view, got = memoryview(out).cast("B"), 0
    while got < len(view):
        n = fp.readinto(view[got:])
        if not n:
            raise RuntimeError("PytorchStreamReader failed reading file: unexpected end of "
                               "file")
        got += n


class _Archive:
    """An open checkpoint: its zip directory, record prefix and storages read so far."""

    def __init__(self, fp, path: str | None, map_location: MapLocation, mmap: bool) -> None:
        try:
            self.zip = zipfile.ZipFile(fp)
        except zipfile.BadZipFile:
            raise RuntimeError("PytorchStreamReader failed reading zip archive: failed "
                               "finding central directory") from None
        names = self.zip.namelist()
        if not names:
            raise RuntimeError("PytorchStreamReader failed reading zip archive: not a "
                               "checkpoint (the archive is empty)")
        self.prefix = names[0].partition("/")[0] + "/"
        self.fp, self.path, self.mmap = fp, path, mmap
        self.restore = _restorer(map_location)
        self.storages: dict[str, LoadedStorage] = {}
        order = self.zip.read(self.prefix + "byteorder") \
            if self.prefix + "byteorder" in names else b"little"
        self.swap = order.decode() != sys.byteorder

    def record(self, name: str) -> zipfile.ZipInfo:
        try:
            return self.zip.getinfo(self.prefix + name)
        except KeyError:
            raise RuntimeError(f"PytorchStreamReader failed locating file {name}: file not "
                               "found") from None

    def load_storage(self, dt: dtype, key: str, location: str, numel: int) -> LoadedStorage:
        storage = self.storages.get(key)
        if storage is not None:
            return storage
        info = self.record(f"data/{key}")
        nbytes = numel * dt.itemsize
        if info.file_size < nbytes:
            raise RuntimeError(f"ember.load: record data/{key} holds {info.file_size} bytes, "
                               f"but its storage needs {nbytes} ({numel} x {dt.name})")
        if info.compress_type != zipfile.ZIP_STORED:
            raw = np.frombuffer(bytearray(self.zip.read(info)), np.uint8, nbytes)
        elif self.mmap and nbytes:
            raw = np.asarray(np.memmap(self.path, np.uint8, "c", data_offset(self.fp, info),
                                        (nbytes,)))
        else:
            raw = np.empty(nbytes, np.uint8)
            _read_into(self.fp, data_offset(self.fp, info), raw)
        array = raw.view(dt.np)
        if self.swap and dt.itemsize > 1:
            array = array.view(dt.np.newbyteorder()).astype(dt.np)
        storage = self.storages[key] = LoadedStorage(self.restore(array, location), dt)
        return storage


def load(f: FileLike, map_location: MapLocation = None, pickle_module: Any = None, *,
         weights_only: bool | None = None, mmap: bool | None = None,
         **pickle_load_args: Any) -> Any:
    """Loads an object saved with :func:`torch.save` or :func:`ember.save` from a file.

    Tensors load as ember tensors with the dtypes, shapes, strides and values they were
    saved with; ``nn.Parameter`` loads as :class:`ember.nn.Parameter`. Each storage is read
    once, so tensors that were views of one storage share memory again.

    Args:
        f: a file path (``str`` or ``os.PathLike``) or a binary file-like object with
            ``read``, ``seek`` and ``tell`` (e.g. ``io.BytesIO``).
        map_location: where to put the storages. ``None`` restores each storage to the
            device it was saved from ('cuda:0' storages need CUDA); a ``str`` or
            :class:`ember.device` puts all of them there; a ``dict`` maps saved locations to
            new ones (``{'cuda:1': 'cuda:0'}``); a callable ``fn(storage, location)`` gets
            each storage (a 1-D CPU tensor) and its saved location, and returns it moved, or
            None for the default.
        pickle_module: only None (or :mod:`pickle` with ``weights_only=False``).
        weights_only: if True (the default, as in PyTorch 2.6 and later), the unpickler
            accepts only tensors, parameters, storages, dtypes, devices, sizes, containers
            and primitive types, plus globals allowed with :func:`add_safe_globals`; any
            other global raises ``pickle.UnpicklingError``. False allows arbitrary pickles,
            which can run arbitrary code: only for files from a trusted source.
        mmap: map the storages from the file (copy-on-write) instead of reading them; ``f``
            must be a path.
        pickle_load_args: passed to the unpickler (e.g. ``encoding``).

    Returns:
        The saved object.
    """
    if weights_only is None:
        weights_only = True
    if pickle_module is not None:
        if weights_only:
            raise RuntimeError("Can not safely load weights when explicit pickle_module is "
                               "specified")
        if pickle_module is not pickle:
            raise ValueError("ember.load reads checkpoints with the standard pickle module "
                             "only")
    if mmap and not _is_path(f):
        raise ValueError("f must be a file path in order to use the mmap argument")
    if _is_path(f):
        with open(f, "rb") as fh:
            return _load(fh, os.fspath(f), map_location, weights_only, bool(mmap),
                         pickle_load_args)
    _check_seekable(f)
    if not (hasattr(f, "seekable") and hasattr(f, "readinto")):
        f = _Reader(f)
    return _load(f, None, map_location, weights_only, False, pickle_load_args)


class _Reader:
    """A file object that has only ``read``, ``seek`` and ``tell`` (all ``torch.load``
    needs), with the ``seekable`` and ``readinto`` that :mod:`zipfile` and the storage
    reader use."""

    def __init__(self, f) -> None:
        self.f = f

    def read(self, n: int = -1) -> bytes:
        return self.f.read(n)

    def seek(self, *args) -> int:
        return self.f.seek(*args)

    def tell(self) -> int:
        return self.f.tell()

    def seekable(self) -> bool:
        return True

    def readinto(self, buffer) -> int:
        data = self.f.read(len(buffer))
        buffer[:len(data)] = data
        return len(data)


def _check_seekable(f) -> None:
    """Raise PyTorch's error for a file object that cannot ``tell`` and ``seek``."""
    try:
        f.seek(f.tell())
    except (io.UnsupportedOperation, AttributeError) as e:
        if "seek" in str(e) or "tell" in str(e):
            raise type(e)(f"{e}. You can only ember.load from a file that is seekable. Please "
                          "pre-load the data into a buffer like io.BytesIO and try to load "
                          "from it instead.") from None
        raise


def _load(fh, path, map_location, weights_only: bool, mmap: bool, pickle_load_args) -> Any:
    start = fh.tell()
    head = fh.read(512)
    fh.seek(start)
    if not head:
        raise EOFError("Ran out of input")
    if not head.startswith(b"PK\x03\x04"):
        if head.startswith(_LEGACY_MAGIC) or head[257:262] == b"ustar":
            raise RuntimeError(
                "ember.load cannot read this file: it was written in PyTorch's legacy format "
                "(torch.save before PyTorch 1.6, or _use_new_zipfile_serialization=False). "
                "Load it with torch and save it again with torch.save's default format.")
        raise pickle.UnpicklingError(
            f"Invalid magic number; corrupt file? ember.load reads the zip archives written "
            f"by torch.save and ember.save, but this file starts with {head[:8]!r}")
    archive = _Archive(fh, path, map_location, mmap)
    data = archive.zip.read(archive.record("data.pkl"))
    unpickler = TorchUnpickler(io.BytesIO(data), archive.load_storage, weights_only,
                               **pickle_load_args)
    return unpickler.load()


# ---- safe globals -------------------------------------------------------------------------
def _global_name(entry) -> tuple[str, object]:
    if isinstance(entry, tuple) and len(entry) == 2 and isinstance(entry[1], str):
        return entry[1], entry[0]
    module, qualname = getattr(entry, "__module__", None), getattr(entry, "__qualname__", None)
    if not isinstance(module, str) or not isinstance(qualname, str):
        raise TypeError(f"safe global {entry!r} must be a class or function, or a tuple "
                        "(object, 'module.name')")
    return f"{module}.{qualname}", entry


def add_safe_globals(safe_globals: list) -> None:
    """Marks the given globals (classes, functions, or ``(obj, "module.name")`` tuples) as
    safe for ``ember.load(weights_only=True)``."""
    for entry in safe_globals:
        name, obj = _global_name(entry)
        USER_SAFE_GLOBALS[name] = obj


def get_safe_globals() -> list:
    """The globals added with :func:`add_safe_globals`."""
    return list(USER_SAFE_GLOBALS.values())


def clear_safe_globals() -> None:
    """Removes every global added with :func:`add_safe_globals`."""
    USER_SAFE_GLOBALS.clear()


class safe_globals:
    """Context manager that allows ``safe_globals`` for weights-only loads within it."""

    def __init__(self, safe_globals: list) -> None:
        self.safe_globals = safe_globals

    def __enter__(self) -> None:
        self._saved = dict(USER_SAFE_GLOBALS)
        add_safe_globals(self.safe_globals)

    def __exit__(self, *exc) -> None:
        USER_SAFE_GLOBALS.clear()
        USER_SAFE_GLOBALS.update(self._saved)
