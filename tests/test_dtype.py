"""dtypes and PyTorch's type promotion, compared with torch."""

from __future__ import annotations

import itertools
import operator
import pickle
from functools import partial

import numpy as np
import pytest
import torch

import ember
from tests._surface_helpers import (
    DTYPE_NAMES,
    assert_same,
    assert_same_error,
    edt,
    outcome,
    tdt,
)

PAIRS = list(itertools.product(DTYPE_NAMES, DTYPE_NAMES))
SHAPES = [((2,), (2,)), ((), (2,)), ((2,), ()), ((), ())]
BINARY = {
    "add": operator.add, "mul": operator.mul, "truediv": operator.truediv,
    "eq": operator.eq, "lt": operator.lt, "ge": operator.ge, "ne": operator.ne,
}


def _values(name, shape, seed):
    rng = np.random.default_rng(seed)
    if name == "bool":
        return rng.random(shape) > 0.5
    if name == "uint8":
        return rng.integers(1, 5, shape).astype(np.uint8)
    if name.startswith("int"):
        return rng.integers(1, 5, shape).astype(name)
    return (rng.random(shape) + 0.5).astype(name)


def _pair(name, shape, seed):
    arr = np.asarray(_values(name, shape, seed))
    return ember.tensor(arr), torch.tensor(arr)


# ---- dtype objects ------------------------------------------------------------------------
@pytest.mark.parametrize("name", DTYPE_NAMES)
def test_dtype_attributes_match_torch(name):
    e, t = edt(name), tdt(name)
    assert repr(e) == repr(t).replace("torch.", "ember.")
    assert str(e) == str(t).replace("torch.", "ember.")
    assert e.is_floating_point == t.is_floating_point
    assert e.is_signed == t.is_signed
    assert e.is_complex == t.is_complex
    assert e.itemsize == t.itemsize
    assert e.to_real() is e


def test_dtype_aliases_are_the_same_objects():
    assert ember.float is ember.float32 and torch.float is torch.float32
    assert ember.double is ember.float64
    assert ember.half is ember.float16
    assert ember.long is ember.int64
    assert ember.int is ember.int32
    assert ember.short is ember.int16
    assert ember.float32 == ember.float32 and ember.float32 != ember.float64
    assert isinstance(ember.float32, ember.dtype)
    assert len({ember.float32, ember.float, ember.int64}) == 2


@pytest.mark.parametrize("name", DTYPE_NAMES)
def test_dtype_pickles_to_the_same_object(name):
    assert pickle.loads(pickle.dumps(edt(name))) is edt(name)


# ---- promote_types / result_type -----------------------------------------------------------
def test_promote_types_every_pair():
    for a, b in PAIRS:
        expect = torch.promote_types(tdt(a), tdt(b))
        got = ember.promote_types(edt(a), edt(b))
        assert got.name == str(expect).split(".")[1], (a, b)


@pytest.mark.parametrize("a", DTYPE_NAMES)
def test_result_type_tensors_and_scalars(a):
    for b in DTYPE_NAMES:
        for sa, sb in SHAPES:
            ea, ta = _pair(a, sa, 0)
            eb, tb = _pair(b, sb, 1)
            assert ember.result_type(ea, eb).name == str(torch.result_type(ta, tb))[6:]
    for s in (1, -2, 2.5, True):
        ea, ta = _pair(a, (3,), 0)
        assert ember.result_type(ea, s).name == str(torch.result_type(ta, s))[6:], s
        e0, t0 = _pair(a, (), 0)
        assert ember.result_type(s, e0).name == str(torch.result_type(s, t0))[6:], s


def test_result_type_of_two_scalars():
    for a, b in itertools.product((1, 2.0, True), repeat=2):
        assert ember.result_type(a, b).name == str(torch.result_type(a, b))[6:], (a, b)


# ---- tensor-tensor promotion in ops ---------------------------------------------------------
@pytest.mark.parametrize("a,b", PAIRS)
def test_binary_ops_promote_like_torch(a, b):
    for sa, sb in SHAPES:
        ea, ta = _pair(a, sa, 0)
        eb, tb = _pair(b, sb, 1)
        for fn in BINARY.values():
            assert_same(fn(ea, eb), fn(ta, tb), rtol=2e-3, atol=1e-3)
        if "bool" not in (a, b):
            assert_same(ea - eb, ta - tb, rtol=2e-3, atol=1e-3)


def test_comparisons_return_bool():
    e, t = _pair("float32", (3,), 0)
    for fn in (operator.eq, operator.ne, operator.lt, operator.le, operator.gt, operator.ge):
        assert fn(e, 0.7).dtype is ember.bool
        assert_same(fn(e, 0.7), fn(t, 0.7))


def test_integer_true_division_gives_default_float():
    e = ember.tensor([1, 2, 3])
    t = torch.tensor([1, 2, 3])
    assert_same(e / 2, t / 2)
    assert_same(e / e, t / t)
    assert_same(7 / e, 7 / t)
    ember.set_default_dtype(ember.float64)
    torch.set_default_dtype(torch.float64)
    try:
        assert_same(e / 2, t / 2)
        assert_same(e + 0.5, t + 0.5)
    finally:
        torch.set_default_dtype(torch.float32)


# ---- Python scalars --------------------------------------------------------------------------
SCALARS = (1, -1, 3, 1.5, -0.25, True, False)
SCALAR_OPS = {
    "add": operator.add, "radd": lambda x, s: s + x, "mul": operator.mul,
    "rmul": lambda x, s: s * x, "truediv": operator.truediv,
    "rtruediv": lambda x, s: s / x, "eq": operator.eq, "gt": operator.gt,
}


@pytest.mark.parametrize("name", DTYPE_NAMES)
def test_python_scalars_with_every_dtype(name):
    for shape in ((3,), ()):
        e, t = _pair(name, shape, 2)
        for s in SCALARS:
            for fn in SCALAR_OPS.values():
                te = outcome(partial(fn, t, s))
                if te[0] == "err":
                    assert_same_error(partial(fn, e, s), partial(fn, t, s))
                    continue
                assert_same(fn(e, s), te[1], rtol=2e-3, atol=1e-3)
            if name != "bool" and not isinstance(s, bool):
                assert_same(e - s, t - s, rtol=2e-3, atol=1e-3)
                assert_same(s - e, s - t, rtol=2e-3, atol=1e-3)


@pytest.mark.parametrize("name", ["int8", "int16", "int32", "uint8"])
@pytest.mark.parametrize("scalar", [1000, -1000, 100000, 2**40])
def test_integer_overflow_with_python_scalars_wraps_like_torch(name, scalar):
    e, t = _pair(name, (3,), 3)
    assert_same(e + scalar, t + scalar)
    assert_same(e * scalar, t * scalar)
    assert_same(scalar + e, scalar + t)
    assert_same(e - scalar, t - scalar)
    assert_same(scalar - e, scalar - t)


def test_zero_dim_tensor_does_not_promote_dimensioned_tensor():
    for a, b in PAIRS:
        ea, ta = _pair(a, (3,), 0)
        eb, tb = _pair(b, (), 1)
        assert (ea + eb).dtype.name == str((ta + tb).dtype)[6:], (a, b)


def test_numpy_scalar_on_the_left():
    e, t = _pair("float32", (3,), 0)
    for s in (np.float32(2), np.float64(2), np.int64(3)):
        r = s * e
        assert isinstance(r, ember.Tensor)
        assert_same(r, s * t)
        assert_same(s + e, s + t)
        assert_same(s - e, s - t)


# ---- in-place casting -----------------------------------------------------------------------
@pytest.mark.parametrize("a", DTYPE_NAMES)
def test_inplace_ops_refuse_casts_like_torch(a):
    for b in DTYPE_NAMES:
        for opname in ("add_", "mul_", "div_"):
            ea, ta = _pair(a, (2,), 0)
            eb, tb = _pair(b, (2,), 1)
            t_out = outcome(partial(getattr(ta, opname), tb))
            if t_out[0] == "err":
                assert_same_error(partial(getattr(ea, opname), eb),
                                  partial(getattr(ta, opname), tb))
            else:
                r = getattr(ea, opname)(eb)
                assert r is ea
                assert_same(ea, ta, rtol=2e-3, atol=1e-3)


def test_inplace_with_python_float_on_integer_tensor_raises():
    e, t = ember.ones(2, dtype=ember.long), torch.ones(2, dtype=torch.long)

    def eadd():
        e.__iadd__(1.5)

    def tadd():
        t.__iadd__(1.5)

    msg = assert_same_error(eadd, tadd)
    assert msg == "result type Float can't be cast to the desired output type Long"
    eb, tb = ember.ones(2, dtype=ember.bool), torch.ones(2, dtype=torch.bool)
    assert_same_error(lambda: eb.add_(1), lambda: tb.add_(1))
    ei, ti = ember.ones(2, dtype=ember.int32), torch.ones(2, dtype=torch.int32)
    assert_same_error(lambda: ei.div_(2), lambda: ti.div_(2))
    ei.mul_(3)
    ti.mul_(3)
    assert_same(ei, ti)


# ---- default dtype --------------------------------------------------------------------------
def test_set_default_dtype_affects_inference_and_factories():
    assert ember.get_default_dtype() is ember.float32
    ember.set_default_dtype(ember.float64)
    assert ember.get_default_dtype() is ember.float64
    assert ember.tensor([1.5]).dtype is ember.float64
    assert ember.tensor(2.5).dtype is ember.float64
    assert ember.zeros(2).dtype is ember.float64
    assert ember.ones(2).dtype is ember.float64
    assert ember.rand(2).dtype is ember.float64
    assert ember.arange(0, 1, 0.5).dtype is ember.float64
    assert ember.linspace(0, 1, 3).dtype is ember.float64
    assert ember.full((2,), 1.5).dtype is ember.float64
    assert ember.tensor([1, 2]).dtype is ember.int64
    assert (ember.tensor([1, 2]) * 0.5).dtype is ember.float64
    ember.set_default_dtype(ember.float16)
    assert ember.tensor([1.5]).dtype is ember.float16


def test_set_default_dtype_rejects_non_float():
    assert_same_error(lambda: ember.set_default_dtype(ember.int64),
                      lambda: torch.set_default_dtype(torch.int64))
    assert ember.get_default_dtype() is ember.float32
