"""Broadcasting by PyTorch's rules, property-tested against torch on random shape pairs."""

from __future__ import annotations

import operator

import numpy as np
import torch
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import ember
from tests._surface_helpers import ember_text, outcome

SETTINGS = settings(max_examples=150, deadline=None,
                    suppress_health_check=[HealthCheck.too_slow])

_sizes = st.sampled_from([0, 1, 1, 2, 3, 4])


@st.composite
def shape_pairs(draw):
    """Two shapes that often broadcast: the second derived from the first by dropping
    leading dims and replacing sizes with 1 or a random size."""
    a = draw(st.lists(_sizes, min_size=0, max_size=4))
    keep = draw(st.integers(0, len(a)))
    b = []
    for s in a[len(a) - keep:]:
        b.append(draw(st.sampled_from([s, s, 1, draw(_sizes)])))
    extra = draw(st.lists(_sizes, min_size=0, max_size=2))
    b = extra + b
    return (tuple(a), tuple(b)) if draw(st.booleans()) else (tuple(b), tuple(a))


def _result(fn):
    r = outcome(fn)
    if r[0] == "err":
        return ("err", r[1], ember_text(r[2]))
    return ("ok", tuple(r[1].shape), str(r[1].dtype).split(".")[-1])


OPS = {"add": operator.add, "mul": operator.mul, "sub": operator.sub, "lt": operator.lt,
       "truediv": operator.truediv}


@SETTINGS
@given(shapes=shape_pairs(), op=st.sampled_from(sorted(OPS)))
def test_binary_op_broadcast_shape_and_error_match_torch(shapes, op):
    sa, sb = shapes
    fn = OPS[op]
    e = _result(lambda: fn(ember.ones(sa), ember.ones(sb)))
    t = _result(lambda: fn(torch.ones(sa), torch.ones(sb)))
    assert e == t


@SETTINGS
@given(shapes=shape_pairs())
def test_where_and_inplace_broadcasting_match_torch(shapes):
    sa, sb = shapes

    def where(M):
        return M.where(M.ones(sa, dtype=M.bool), M.ones(sb), 0.0)

    def inplace(M):
        return M.zeros(sa).add_(M.ones(sb))

    def expand(M):
        return M.ones(sb).expand(*sa)

    for f in (where, inplace, expand):
        assert _result(lambda f=f: f(ember)) == _result(lambda f=f: f(torch))


@SETTINGS
@given(shapes=shape_pairs(), seed=st.integers(0, 2**16))
def test_gradients_are_summed_back_to_input_shapes(shapes, seed):
    sa, sb = shapes
    try:
        out_shape = torch.broadcast_shapes(sa, sb)
    except RuntimeError:
        return
    rng = np.random.default_rng(seed)
    a, b = rng.standard_normal(sa).astype(np.float32), rng.standard_normal(sb).astype(np.float32)
    g = rng.standard_normal(out_shape).astype(np.float32)
    grads = []
    for M in (ember, torch):
        x = M.tensor(a, requires_grad=True)
        y = M.tensor(b, requires_grad=True)
        (x * y + x).backward(M.tensor(g))
        grads.append((x.grad.detach().numpy(), y.grad.detach().numpy()))
    for e, t in zip(*grads):
        assert e.shape == t.shape
        np.testing.assert_allclose(e, t, rtol=1e-4, atol=1e-5)


def test_broadcast_error_text():
    e = outcome(lambda: ember.ones(2, 2) + ember.ones(2, 3))
    t = outcome(lambda: torch.ones(2, 2) + torch.ones(2, 3))
    assert e[1:] == t[1:]
    assert e[2] == ("The size of tensor a (2) must match the size of tensor b (3) at "
                    "non-singleton dimension 1")
