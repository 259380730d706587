"""Random basic + advanced index tuples on random shapes: ember's values (or errors) match
torch's, for reading, for assignment, and for gradients."""

from __future__ import annotations

import numpy as np
import torch
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import ember
from tests._surface_helpers import ember_text, outcome

SETTINGS = settings(max_examples=200, deadline=None,
                    suppress_health_check=[HealthCheck.too_slow])

shapes = st.lists(st.integers(0, 4), min_size=0, max_size=4).map(tuple)


@st.composite
def index_items(draw, shape):
    """One index tuple as neutral descriptions (built for each library by ``_build``)."""
    n = draw(st.integers(0, len(shape) + 1))
    items = []
    dim = 0
    for _ in range(n):
        size = shape[dim] if dim < len(shape) else 2
        kind = draw(st.sampled_from(["int", "int", "slice", "slice", "none", "ellipsis",
                                     "list", "tensor", "mask", "bool", "scalar_tensor",
                                     "float_list", "ndarray"]))
        # Mostly valid values, sometimes just out of range.
        bound = size + 1 if draw(st.integers(0, 9)) == 0 else max(size, 1)
        if kind == "int":
            items.append(("int", draw(st.integers(-bound, bound - 1))))
            dim += 1
        elif kind == "slice":
            start = draw(st.none() | st.integers(-size - 1, size + 1))
            stop = draw(st.none() | st.integers(-size - 1, size + 1))
            step = draw(st.none() | st.integers(1, 3))
            items.append(("slice", (start, stop, step)))
            dim += 1
        elif kind == "none":
            items.append(("none", None))
        elif kind == "ellipsis":
            # At most one: PyTorch reads past its sizes array for a second one.
            if ("ellipsis", None) in items:
                continue
            items.append(("ellipsis", None))
            dim = len(shape)
        elif kind in ("float_list", "ndarray"):
            # Sequences and NumPy arrays become int64 tensors (floats truncated toward 0).
            k = draw(st.integers(0, 3))
            vals = draw(st.lists(st.integers(-bound, bound - 1), min_size=k, max_size=k))
            frac = draw(st.sampled_from([0.0, 0.5, 0.9]))
            dt = draw(st.sampled_from(["float64", "float32", "int8", "int16", "int32", "uint16"]))
            items.append((kind, ([v + (frac if v >= 0 else -frac) for v in vals], dt)))
            dim += 1
        elif kind in ("list", "tensor"):
            k = draw(st.integers(0, 3))
            vals = draw(st.lists(st.integers(-bound, bound - 1), min_size=k, max_size=k))
            nested = draw(st.booleans()) and k > 0
            items.append((kind, [vals] if nested else vals))
            dim += 1
        elif kind == "mask":
            mdims = draw(st.integers(1, 2))
            mshape = tuple(shape[dim:dim + mdims]) or (size,)
            if draw(st.integers(0, 9)) == 0:
                mshape = mshape[:-1] + (mshape[-1] + 1,)
            bits = draw(st.lists(st.booleans(), min_size=int(np.prod(mshape)),
                                 max_size=int(np.prod(mshape))))
            items.append(("mask", np.array(bits, dtype=bool).reshape(mshape)))
            dim += len(mshape)
        elif kind == "bool":
            items.append(("bool", draw(st.booleans())))
        else:
            items.append(("scalar_tensor", draw(st.integers(-bound, bound - 1))))
            dim += 1
    return items


def _build(M, items):
    out = []
    for kind, value in items:
        if kind == "int" or kind == "bool":
            out.append(value)
        elif kind == "slice":
            out.append(slice(*value))
        elif kind == "none":
            out.append(None)
        elif kind == "ellipsis":
            out.append(Ellipsis)
        elif kind == "list":
            out.append(value)
        elif kind == "float_list":
            out.append(value[0])
        elif kind == "ndarray":
            vals, dt = value
            arr = np.array(vals, dtype=np.float64)
            if dt[0] != "f":  # integer arrays: the values truncated, in range of the dtype
                arr = np.trunc(arr)
                arr = arr[(arr >= np.iinfo(dt).min) & (arr <= np.iinfo(dt).max)]
            out.append(arr.astype(dt))
        elif kind == "tensor":
            out.append(M.tensor(value, dtype=M.int64))
        elif kind == "mask":
            out.append(M.tensor(value))
        else:
            out.append(M.tensor(value))
    return tuple(out)


def _text(r) -> str:
    if r[0] == "err":
        return f"{r[1]}: {ember_text(r[2])}"
    return ember_text(repr(r[1]))


@st.composite
def cases(draw):
    shape = draw(shapes)
    return shape, draw(index_items(shape))


@SETTINGS
@given(case=cases())
def test_random_index_reads_like_torch(case):
    shape, items = case
    e = outcome(lambda: ember.arange(int(np.prod(shape))).reshape(shape)[_build(ember, items)])
    t = outcome(lambda: torch.arange(int(np.prod(shape))).reshape(shape)[_build(torch, items)])
    assert _text(e) == _text(t)


@SETTINGS
@given(case=cases(), scalar=st.booleans())
def test_random_index_assignment_like_torch(case, scalar):
    shape, items = case

    def assign(M):
        x = M.arange(float(np.prod(shape))).reshape(shape).clone()
        index = _build(M, items)
        target_shape = x[index].shape
        value = -1.0 if scalar else -M.arange(float(np.prod(target_shape))).reshape(
            target_shape) - 1
        x[index] = value
        return x

    e, t = outcome(lambda: assign(ember)), outcome(lambda: assign(torch))
    assert _text(e) == _text(t)


@SETTINGS
@given(case=cases(), seed=st.integers(0, 2**16))
def test_random_index_gradients_like_torch(case, seed):
    shape, items = case
    base = np.random.default_rng(seed).standard_normal(shape).astype(np.float32)
    try:
        out_shape = torch.tensor(base)[_build(torch, items)].shape
    except (IndexError, RuntimeError, ValueError, TypeError):
        return
    g = np.random.default_rng(seed + 1).standard_normal(tuple(out_shape)).astype(np.float32)
    grads = []
    for M in (ember, torch):
        x = M.tensor(base, requires_grad=True)
        r = (x * 1)[_build(M, items)]
        r.backward(M.tensor(g))
        grads.append(x.grad.numpy())
    np.testing.assert_allclose(grads[0], grads[1], rtol=1e-5, atol=1e-6)
