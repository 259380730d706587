"""The backend's array helpers on both kinds of array, checked on the CPU.

``_DeviceArray`` stands in for a CuPy array where ``reshape_view`` relies on CuPy's
behaviour: ``reshape`` returns a view where one exists and otherwise a copy (CuPy does not
refuse), and ``data.ptr`` is the address of the first element. The same checks on real CuPy
arrays are in ``tests/test_cuda.py``."""

from __future__ import annotations

import numpy as np
import pytest

import ember
from ember import backend
from ember.ops._apply import _wrap_int_scalar
from ember.tensor import _rebuild


class _Pointer:
    def __init__(self, ptr: int) -> None:
        self.ptr = ptr


class _DeviceArray:
    def __init__(self, arr: np.ndarray) -> None:
        self.arr = arr
        self.size = arr.size

    @property
    def data(self) -> _Pointer:
        return _Pointer(self.arr.__array_interface__["data"][0])

    def reshape(self, shape):
        try:
            return _DeviceArray(self.arr.reshape(shape, copy=False))
        except ValueError:
            return _DeviceArray(self.arr.copy().reshape(shape))  # silently, as CuPy


@pytest.mark.parametrize("kind", ["numpy", "device"])
def test_reshape_view_is_a_view_or_refuses(kind):
    base = np.arange(6.0).reshape(2, 3)
    wrap = (lambda a: a) if kind == "numpy" else _DeviceArray
    unwrap = (lambda a: a) if kind == "numpy" else (lambda a: a.arr)
    view = unwrap(backend.reshape_view(wrap(base), (3, 2)))
    assert np.shares_memory(view, base) and view.shape == (3, 2)
    with pytest.raises(ValueError):
        backend.reshape_view(wrap(base.T), (6,))  # no view of a transpose is flat
    empty = unwrap(backend.reshape_view(wrap(np.zeros((0, 3))), (3, 0)))
    assert empty.shape == (3, 0)


def test_wrapped_int_operand_is_a_scalar():
    # A host 0-d array would not mix with a CuPy array in a ufunc; a NumPy scalar does.
    b = _wrap_int_scalar(np.zeros(2, np.int8), 1000)
    assert isinstance(b, np.generic) and b.dtype == np.int8 and b == -24
    out = ember.tensor([1, -3], dtype=ember.int8) + 1000
    assert out.dtype is ember.int8 and out.tolist() == [-23, -27]
    assert (ember.tensor([-24, 0], dtype=ember.int8) == 1000).tolist() == [True, False]


def test_rebuild_keeps_values_and_device():
    import copy
    import pickle

    t = ember.tensor([1.0, 2.0], requires_grad=True)
    for u in (pickle.loads(pickle.dumps(t)), copy.copy(t), _rebuild(np.ones(2), True, "cpu")):
        assert u.device == ember.device("cpu") and u.requires_grad
        assert u.shape == (2,)
    assert pickle.loads(pickle.dumps(t)).tolist() == [1.0, 2.0]


def test_numpy_conversion_is_numpy():
    t = ember.tensor([1.0, 2.0])
    assert np.asarray(t) is t.numpy()
    with pytest.raises(RuntimeError, match="Can't call numpy"):
        np.asarray(ember.ones(2, requires_grad=True))
