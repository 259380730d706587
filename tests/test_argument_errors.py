"""Arguments PyTorch's argument parser refuses (TypeError: "received an invalid combination
of arguments", "argument 'x' must be ..."), dims of 0-d tensors, and NumPy values mixed
with tensors: the same outcome as torch."""

from __future__ import annotations

import re
import warnings

import numpy as np
import pytest
import torch

import ember
from tests._surface_helpers import assert_same, ember_text, outcome


def _key(message: str) -> str:
    """The part of an argument error both libraries share: the function and the argument,
    without the argument's position (methods count from 1, functions from 2) and without
    the listing of what was given and what was expected."""
    message = ember_text(message).split(" - got", 1)[0]
    return re.sub(r" \(position \d+\)", "", message)


def _same(case):
    e = outcome(lambda: case(ember))
    t = outcome(lambda: case(torch))
    assert e[0] == t[0], (e, t)
    if t[0] == "err":
        assert e[1] == t[1], (e, t)
        assert _key(e[2]) == _key(t[2]), (e[2], t[2])
    elif isinstance(t[1], torch.Tensor):
        assert_same(e[1], t[1])
    else:
        assert e[1] == t[1], (e, t)


def _t(M):
    return M.arange(6.0).reshape(2, 3)


CASES = {
    # random: sizes and generators
    "randint(size=)": lambda M: M.randint(size=(3,)),
    "randint()": lambda M: M.randint(),
    "randint(high)": lambda M: M.randint(5),
    "randint(high=, size=)": lambda M: M.randint(high=5, size=(3,)).shape,
    "randint(low=, high=, size=)": lambda M: M.randint(low=1, high=5, size=(3,)).shape,
    "randint generator=int": lambda M: M.randint(5, (3,), generator=3),
    "randperm generator=int": lambda M: M.randperm(3, generator=3),
    "rand generator=int": lambda M: M.rand(3, generator=3),
    "randn generator=int": lambda M: M.randn(2, 3, generator=3),
    "normal generator=int": lambda M: M.normal(0.0, 1.0, (3,), generator=3),
    "normal tensor generator=int": lambda M: M.normal(_t(M), 1.0, generator=3),
    "random_split generator=int": lambda M: M.utils.data.random_split(range(4), [2, 2],
                                                                       generator=3),
    # a number first, or an operand of no supported type
    "eq(2, t)": lambda M: M.eq(2, _t(M)),
    "lt(2, t)": lambda M: M.lt(2, _t(M)),
    "t.eq(None)": lambda M: _t(M).eq(None),
    "ge(t, 'a')": lambda M: M.ge(_t(M), "a"),
    "t == None": lambda M: _t(M) == None,  # noqa: E711 - the operator itself is tested
    "t != 'a'": lambda M: _t(M) != "a",
    "t.add('a')": lambda M: _t(M).add("a"),
    "add(t, None)": lambda M: M.add(_t(M), None),
    "add('a', t)": lambda M: M.add("a", _t(M)),
    "t.mul(None)": lambda M: _t(M).mul(None),
    "mul(t, [1])": lambda M: M.mul(_t(M), [1]),
    "t.sub('a')": lambda M: _t(M).sub("a"),
    "t.div([1])": lambda M: _t(M).div([1]),
    "exp(2)": lambda M: M.exp(2),
    "sin(None)": lambda M: M.sin(None),
    "neg(2)": lambda M: M.neg(2),
    "abs(2.)": lambda M: M.abs(2.0),
    "relu(2)": lambda M: M.relu(2),
    "floor(2)": lambda M: M.floor(2),
    "sign(2)": lambda M: M.sign(2),
    "isnan(2)": lambda M: M.isnan(2),
    "logical_not(2)": lambda M: M.logical_not(2),
    "sum(2)": lambda M: M.sum(2),
    "prod(2)": lambda M: M.prod(2),
    "max(2)": lambda M: M.max(2),
    "softmax(2, 0)": lambda M: M.softmax(2, 0),
    # reductions: keepdim without dim, None where one int is taken, dims and dtypes
    "t.sum(keepdim=True)": lambda M: _t(M).sum(keepdim=True),
    "sum(t, keepdim=False)": lambda M: M.sum(_t(M), keepdim=False),
    "t.mean(keepdim=True)": lambda M: _t(M).mean(keepdim=True),
    "t.prod(keepdim=True)": lambda M: _t(M).prod(keepdim=True),
    "t.max(keepdim=False)": lambda M: _t(M).max(keepdim=False),
    "t.sum(None, True)": lambda M: _t(M).sum(None, True),
    "t.sum(dim=None)": lambda M: _t(M).sum(dim=None),
    "t.mean(None, True)": lambda M: _t(M).mean(None, True),
    "t.sum(dim=(), keepdim=True)": lambda M: _t(M).sum(dim=(), keepdim=True),
    "t.sum([0, 1])": lambda M: _t(M).sum([0, 1]),
    "t.sum(np.int64(0))": lambda M: _t(M).sum(np.int64(0)),
    "t.sum(tensor(0))": lambda M: _t(M).sum(M.tensor(0)),
    "t.max(dim=None)": lambda M: _t(M).max(dim=None),
    "t.min(dim=None)": lambda M: _t(M).min(dim=None),
    "t.prod(dim=None)": lambda M: _t(M).prod(dim=None),
    "max(t, dim=None)": lambda M: M.max(_t(M), dim=None),
    "prod(t, None)": lambda M: M.prod(_t(M), None),
    "t.sum(True)": lambda M: _t(M).sum(True),
    "sum(t, True)": lambda M: M.sum(_t(M), True),
    "t.sum(1.)": lambda M: _t(M).sum(1.0),
    "t.sum((1.,))": lambda M: _t(M).sum((1.0,)),
    "t.sum((True,))": lambda M: _t(M).sum((True,)),
    "t.max(True)": lambda M: _t(M).max(True),
    "t.prod(1.)": lambda M: _t(M).prod(1.0),
    "t.prod((0,))": lambda M: _t(M).prod((0,)),
    "t.sum(dtype=3)": lambda M: _t(M).sum(dtype=3),
    "t.sum(0, dtype=3)": lambda M: _t(M).sum(0, dtype=3),
    "t.mean(dtype=3)": lambda M: _t(M).mean(dtype=3),
    "t.mean(0, dtype=3)": lambda M: _t(M).mean(0, dtype=3),
    "t.prod(0, dtype=3)": lambda M: _t(M).prod(0, dtype=3),
    "t.sum(0, keepdim=1)": lambda M: _t(M).sum(0, keepdim=1),
    "t.sum(0, keepdim=None)": lambda M: _t(M).sum(0, keepdim=None),
    "t.max(0, 1)": lambda M: _t(M).max(0, 1),
    "t.max(t)": lambda M: _t(M).max(_t(M)),
    "t.sum(0, True, dtype=float64)": lambda M: _t(M).sum(0, True, dtype=M.float64),
    "softmax(t, None)": lambda M: M.softmax(_t(M), None),
    "t.softmax(1.)": lambda M: _t(M).softmax(1.0),
    "softmax(t, 0, 3)": lambda M: M.softmax(_t(M), 0, 3),
    "log_softmax(t, None)": lambda M: M.log_softmax(_t(M), None),
    # size and stride of dims (a 0-d tensor has none)
    "0-d size(-3)": lambda M: M.tensor(1.0).size(-3),
    "0-d size(0)": lambda M: M.tensor(1.0).size(0),
    "0-d size(-1)": lambda M: M.tensor(1.0).size(-1),
    "0-d stride(0)": lambda M: M.tensor(1.0).stride(0),
    "size(True)": lambda M: _t(M).size(True),
    "stride(1.)": lambda M: _t(M).stride(1.0),
    "size(-1)": lambda M: _t(M).size(-1),
    "stride(np.int64(0))": lambda M: _t(M).stride(np.int64(0)),
    "0-d sum(3)": lambda M: M.tensor(1.0).sum(3),
    "0-d unsqueeze(3)": lambda M: M.tensor(1.0).unsqueeze(3),
    # NumPy values in tensor() and in arithmetic
    "tensor([np.bool_, 2])": lambda M: M.tensor([np.bool_(True), 2]),
    "tensor([2, np.bool_])": lambda M: M.tensor([2, np.bool_(True)]),
    "tensor([np.bool_, 2.5])": lambda M: M.tensor([np.bool_(True), 2.5]),
    "tensor([np.bool_, True])": lambda M: M.tensor([np.bool_(True), True]),
    "tensor([np.array(1.5), 2])": lambda M: M.tensor([np.array(1.5), 2]),
    "tensor([2, np.array(1.5)])": lambda M: M.tensor([2, np.array(1.5)]),
    "tensor([[np.array(1)]])": lambda M: M.tensor([[np.array(1)]]),
    "np.True_ + int8": lambda M: np.True_ + M.ones(2, dtype=M.int8),
    "int8 * np.True_": lambda M: M.ones(2, dtype=M.int8) * np.True_,
    "int8 + np.int64": lambda M: M.ones(2, dtype=M.int8) + np.int64(1),
    "int8 == np.True_": lambda M: M.ones(2, dtype=M.int8) == np.True_,
    "t @ ndarray": lambda M: _t(M) @ np.ones(3),
    "ndarray @ t": lambda M: np.ones((2, 2)) @ _t(M),
    "np.exp(t)": lambda M: np.exp(_t(M)),
    "np.greater(t, 1)": lambda M: np.greater(_t(M), 1),
}


@pytest.mark.parametrize("name", list(CASES))
def test_like_torch(name):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # torch's deprecation of __array_wrap__'s signature
        _same(CASES[name])


def test_complex_numpy_scalar_reads_as_its_real_part():
    for M in (ember, torch):
        with pytest.warns(np.exceptions.ComplexWarning):
            out = M.ones(2) + np.complex64(1 + 2j)
        assert out.tolist() == [2.0, 2.0] and str(out.dtype).endswith("float32")


@pytest.mark.parametrize("dtype", ["uint16", "uint32", "uint64", "complex64"])
def test_numpy_dtypes_ember_lacks_are_refused_clearly(dtype):
    """torch 2.13 has uint16/32/64 and complex tensors; ember has none, and says so with
    the TypeError torch gives for a NumPy dtype it cannot take."""
    arr = np.array([1, 2], dtype=dtype)
    for make in (ember.tensor, ember.from_numpy, ember.as_tensor):
        with pytest.raises(TypeError, match=f"can't convert np.ndarray of type numpy.{dtype}"
                           ".*ember has no uint16, uint32, uint64 or complex dtypes"):
            make(arr)
    with pytest.raises(TypeError, match="can't convert np.ndarray of type numpy.object_"):
        torch.tensor(np.array([1, None], dtype=object))
