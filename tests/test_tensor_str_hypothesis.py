"""Printing of ember tensors, property-tested against torch's repr on random values,
shapes, dtypes, views and print options."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

import ember

SETTINGS = settings(max_examples=60, deadline=None,
                    suppress_health_check=[HealthCheck.too_slow])

FLOATS = ("float16", "float32", "float64")
INTS = ("int8", "int16", "int32", "int64", "uint8")
DTYPES = (*FLOATS, *INTS, "bool")


@pytest.fixture(autouse=True)
def _restore_printoptions():
    yield
    torch.set_printoptions(profile="default")
    ember.set_printoptions(profile="default")


def _torch_text(text: str) -> str:
    return text.replace("torch.", "ember.")


def _pair(array: np.ndarray, requires_grad: bool = False):
    """The same values as an ember and a torch tensor."""
    e = ember.tensor(array, requires_grad=requires_grad)
    t = torch.tensor(array, requires_grad=requires_grad)
    assert e.dtype.name == str(t.dtype).removeprefix("torch.")
    return e, t


def _as(dtype: str, value: float) -> float:
    """``value`` rounded to ``dtype`` (inf where it overflows)."""
    with np.errstate(over="ignore"):
        return float(np.array(value, dtype=dtype))


def _float_elements(dtype: str):
    """Values of every kind the printer tells apart: integer-valued, fractional, signed
    zeros, non-finite, and magnitudes on both sides of the scientific-notation bounds."""
    width = {"float16": 16, "float32": 32, "float64": 64}[dtype]
    return st.one_of(
        st.floats(width=width),
        st.integers(-(10 ** 4), 10 ** 4).map(float),
        st.builds(lambda m, e: m * 10.0 ** e, st.floats(-10, 10), st.integers(-12, 12)),
        st.sampled_from([0.0, -0.0, math.inf, -math.inf, math.nan, 1e-4, 1e8, 0.5]),
    ).map(lambda v: _as(dtype, v))


def _elements(dtype: str):
    if dtype in FLOATS:
        return _float_elements(dtype)
    if dtype == "bool":
        return st.booleans()
    info = np.iinfo(dtype)
    return st.one_of(st.integers(int(info.min), int(info.max)), st.integers(-3, 3).filter(
        lambda v: info.min <= v <= info.max))


SHAPES = hnp.array_shapes(min_dims=0, max_dims=4, min_side=0, max_side=5)


@st.composite
def arrays(draw, shapes=SHAPES):
    dtype = draw(st.sampled_from(DTYPES))
    shape = draw(shapes)
    return draw(hnp.arrays(dtype, shape, elements=_elements(dtype)))


printoptions = st.fixed_dictionaries({}, optional={
    "precision": st.integers(0, 10),
    "threshold": st.sampled_from([0, 1, 5, 20, 1000, math.inf]),
    "edgeitems": st.integers(0, 4),
    "linewidth": st.integers(1, 160),
    "sci_mode": st.sampled_from([None, True, False]),
    "profile": st.sampled_from(["default", "short", "full"]),
})


def _set(options: dict) -> None:
    torch.set_printoptions(**options)
    ember.set_printoptions(**options)
    assert ember.get_printoptions() == torch._tensor_str.get_printoptions()


@SETTINGS
@given(array=arrays())
def test_repr_matches_torch(array):
    e, t = _pair(array)
    assert repr(e) == _torch_text(repr(t))
    assert str(e) == _torch_text(str(t))


@SETTINGS
@given(array=arrays(), options=printoptions)
def test_repr_with_printoptions_matches_torch(array, options):
    e, t = _pair(array)
    _set(options)
    assert repr(e) == _torch_text(repr(t))


@SETTINGS
@given(array=arrays(), calls=st.lists(printoptions, min_size=1, max_size=4))
def test_set_printoptions_calls_in_sequence_match_torch(array, calls):
    """Each call starts from what the previous ones left (sci_mode always reset)."""
    e, t = _pair(array)
    for options in calls:
        _set(options)
        assert repr(e) == _torch_text(repr(t))


@SETTINGS
@given(array=arrays(hnp.array_shapes(min_dims=1, max_dims=4, min_side=1, max_side=12)),
       options=printoptions, data=st.data())
def test_summarised_and_wrapped_match_torch(array, options, data):
    """Tensors over the threshold, with long rows that wrap at the line width."""
    e, t = _pair(array)
    _set({"threshold": data.draw(st.sampled_from([10, 50, 200])), **options})
    assert repr(e) == _torch_text(repr(t))


@SETTINGS
@given(array=arrays(hnp.array_shapes(min_dims=2, max_dims=4, min_side=1, max_side=5)),
       data=st.data())
def test_views_match_torch(array, data):
    """Transposed, permuted, strided and narrowed views print their own elements."""
    e, t = _pair(array)
    ndim = array.ndim
    perm = data.draw(st.permutations(range(ndim)))
    e, t = e.permute(*perm), t.permute(*perm)
    index = tuple(data.draw(st.sampled_from([slice(None), slice(None, None, 2), slice(1, None),
                                             slice(None, -1), 0])) for _ in range(ndim))
    e, t = e[index], t[index]
    assert repr(e) == _torch_text(repr(t))


AUTOGRAD = {
    "leaf": lambda lib, x: x,
    "mul": lambda lib, x: x * 2,
    "sum": lambda lib, x: x.sum(),
    "view": lambda lib, x: x.unsqueeze(0),
    "param": lambda lib, x: lib.nn.Parameter(x.detach()),
    "param_frozen": lambda lib, x: lib.nn.Parameter(x.detach(), requires_grad=False),
}


@SETTINGS
@given(array=arrays(hnp.array_shapes(min_dims=0, max_dims=3, min_side=0, max_side=4)),
       op=st.sampled_from(sorted(AUTOGRAD)), default64=st.booleans())
def test_autograd_suffixes_and_default_dtype_match_torch(array, op, default64):
    """requires_grad=True, grad_fn=<...>, Parameter and the dtype suffix under a float64
    default dtype."""
    assume(array.dtype.kind == "f")
    if default64:
        torch.set_default_dtype(torch.float64)
        ember.set_default_dtype(ember.float64)
    try:
        outs = []
        for lib in (ember, torch):
            x = AUTOGRAD[op](lib, lib.tensor(array, requires_grad=True))
            outs.append((repr(x), str(x)))
        assert outs[0] == tuple(_torch_text(s) for s in outs[1])
    finally:
        torch.set_default_dtype(torch.float32)
        ember.set_default_dtype(ember.float32)


@SETTINGS
@given(dtype=st.sampled_from(DTYPES), data=st.data(),
       spec=st.sampled_from(["", ".3f", ".0f", ".2e", "g", ">12", "+.5", "10.4f", "%", "d"]))
def test_format_of_0d_matches_torch(dtype, data, spec):
    """f"{t:spec}" formats a 0-d tensor's Python number."""
    array = np.array(data.draw(_elements(dtype)), dtype=dtype)
    outcomes = []
    for x in _pair(array):
        try:
            outcomes.append(("ok", format(x, spec)))
        except Exception as exc:  # noqa: BLE001 - the error is what is compared
            outcomes.append(("err", type(exc), str(exc)))
    assert outcomes[0] == outcomes[1]
