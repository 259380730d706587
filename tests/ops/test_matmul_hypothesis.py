"""Matrix products on random operands against torch: ``matmul``/``@``/``mm``/``bmm``/``mv``/
``dot`` for every pair of 1-d to 4-d operands with broadcast batch dims, their result
shapes, dtypes and values, their errors, and the gradients of every operand."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import ember
from tests._surface_helpers import ember_text, outcome

SETTINGS = settings(max_examples=400, deadline=None,
                    suppress_health_check=[HealthCheck.too_slow])
GRAD_SETTINGS = settings(max_examples=250, deadline=None,
                         suppress_health_check=[HealthCheck.too_slow])

CALLS = {
    "matmul": lambda m, a, b: m.matmul(a, b),
    "@": lambda m, a, b: a @ b,
    "Tensor.matmul": lambda m, a, b: a.matmul(b),
    "mm": lambda m, a, b: m.mm(a, b),
    "bmm": lambda m, a, b: m.bmm(a, b),
    "mv": lambda m, a, b: m.mv(a, b),
    "dot": lambda m, a, b: m.dot(a, b),
}
_size = st.integers(0, 3)


@st.composite
def operand_shapes(draw, valid=False):
    """Two operand shapes of 1 to 4 dims: mostly compatible (inner sizes equal, batch dims
    broadcastable), sometimes not (unless ``valid``)."""
    ra, rb = draw(st.integers(1, 4)), draw(st.integers(1, 4))
    n, k, p = draw(_size), draw(_size), draw(_size)
    k2 = k if valid or draw(st.integers(0, 5)) else draw(_size)
    batch = draw(st.lists(_size, min_size=2, max_size=2))

    def batch_of(rank):
        dims = []
        for s in batch[len(batch) - max(rank - 2, 0):]:
            dims.append(draw(st.sampled_from([s, s, 1] + ([] if valid else [draw(_size)]))))
        return tuple(dims)

    a = batch_of(ra) + ((n, k) if ra > 1 else (k,))
    b = batch_of(rb) + ((k2, p) if rb > 1 else (k2,))
    return a, b


def _norm(result):
    if result[0] == "err":
        return ("err", result[1], ember_text(result[2]))
    t = result[1]
    return ("ok", tuple(t.shape), str(t.dtype).split(".")[-1])


def _values(rng, shape, dtype):
    if dtype in ("float32", "float64"):
        return rng.standard_normal(shape).astype(dtype)
    return rng.integers(-3, 4, shape).astype(dtype)


@SETTINGS
@given(shapes=operand_shapes(), call=st.sampled_from(sorted(CALLS)),
       dtypes=st.sampled_from([("float32", "float32"), ("float64", "float64"),
                               ("int64", "int64"), ("float32", "float64"),
                               ("float64", "float32"), ("int64", "float32")]),
       seed=st.integers(0, 2**16))
def test_product_matches_torch(shapes, call, dtypes, seed):
    """The result's shape, dtype and values, or the same error type and text."""
    rng = np.random.default_rng(seed)
    a, b = (_values(rng, s, d) for s, d in zip(shapes, dtypes))
    fn = CALLS[call]
    e = outcome(lambda: fn(ember, ember.tensor(a), ember.tensor(b)))
    t = outcome(lambda: fn(torch, torch.tensor(a), torch.tensor(b)))
    assert _norm(e) == _norm(t)
    if t[0] == "ok":
        ev, tv = e[1].numpy(), t[1].numpy()
        if tv.dtype.kind == "f":
            np.testing.assert_allclose(ev, tv, rtol=1e-5, atol=1e-5)
        else:
            np.testing.assert_array_equal(ev, tv)


@GRAD_SETTINGS
@given(shapes=operand_shapes(valid=True),
       call=st.sampled_from(["matmul", "@", "mm", "bmm", "mv", "dot"]),
       needs=st.sampled_from([(True, True), (True, False), (False, True)]),
       seed=st.integers(0, 2**16))
def test_product_gradients_match_torch(shapes, call, needs, seed):
    """Gradients of each operand (summed back over broadcast batch dims), and the node."""
    rng = np.random.default_rng(seed)
    a, b = (rng.standard_normal(s) for s in shapes)
    fn = CALLS[call]
    results, upstream = [], {}
    for m in (ember, torch):
        x = m.tensor(a, requires_grad=needs[0])
        y = m.tensor(b, requires_grad=needs[1])
        r = outcome(lambda x=x, y=y, m=m: fn(m, x, y))
        if r[0] == "err":
            results.append(_norm(r))
            continue
        out = r[1]
        g = upstream.setdefault("g", rng.standard_normal(tuple(out.shape)))
        out.backward(m.tensor(g))
        results.append(("ok", type(out.grad_fn).__name__,
                        [t.grad.numpy() for t in (x, y) if t.requires_grad]))
    e, t = results
    assert e[:2] == t[:2]
    if t[0] == "ok":
        for eg, tg in zip(e[2], t[2]):
            np.testing.assert_allclose(eg, tg, rtol=1e-10, atol=1e-10)


# ---- fixed cases ---------------------------------------------------------------------------
@pytest.mark.parametrize("fn", [
    lambda m: m.mm(m.ones(2, 3), m.ones(4, 5)),
    lambda m: m.matmul(m.ones(2, 3), m.ones(4, 5)),
    lambda m: m.matmul(m.ones(()), m.ones(2, 2)),
    lambda m: m.matmul(m.ones(2, 2), m.ones(())),
    lambda m: m.bmm(m.ones(2, 3), m.ones(2, 3, 4)),
    lambda m: m.bmm(m.ones(2, 2, 3), m.ones(2, 3)),
    lambda m: m.bmm(m.ones(2, 2, 3), m.ones(3, 3, 4)),
    lambda m: m.mm(m.ones(2, 3), m.ones(3, 4, dtype=m.float64)),
    lambda m: m.matmul(m.ones(2, 2, 3), m.ones(3, 4, dtype=m.float64)),
    lambda m: m.bmm(m.ones(2, 2, 3), m.ones(2, 3, 4, dtype=m.float64)),
    lambda m: m.mv(m.ones(2, 3), m.ones(3, dtype=m.float64)),
    lambda m: m.dot(m.ones(3), m.ones(3, dtype=m.float64)),
    lambda m: m.mv(m.ones(()), m.ones(3)),
    lambda m: m.mv(m.ones(2, 3), m.ones(2)),
    lambda m: m.dot(m.ones(3), m.ones(2)),
    lambda m: m.mm(m.ones(2, 3), 3),
    lambda m: m.matmul(3, m.ones(2, 2)),
    lambda m: m.matmul(m.ones(2, 2), np.ones((2, 2))),
    lambda m: m.bmm(m.ones(2, 2, 2), 3),
    lambda m: m.mv(m.ones(2, 2), 3),
    lambda m: m.dot(m.ones(2), [1.0, 2.0]),
    lambda m: m.ones(2, 2) @ 3,
], ids=lambda fn: "")
def test_errors_match_torch(fn):
    e, t = outcome(lambda: fn(ember)), outcome(lambda: fn(torch))
    assert t[0] == "err", t
    assert (e[1], e[2]) == (t[1], ember_text(t[2]))


def test_integer_products_match_torch():
    rng = np.random.default_rng(0)
    for sa, sb in [((3,), (3,)), ((2, 3), (3,)), ((3,), (3, 2)), ((2, 3), (3, 4)),
                   ((2, 2, 3), (3, 4)), ((2, 1, 2, 3), (3, 3, 2))]:
        for dtype in ("int64", "int32", "int16", "int8", "uint8"):
            a = rng.integers(0, 5, sa).astype(dtype)
            b = rng.integers(0, 5, sb).astype(dtype)
            e, t = ember.tensor(a) @ ember.tensor(b), torch.tensor(a) @ torch.tensor(b)
            assert e.dtype.name == str(t.dtype).split(".")[-1]
            np.testing.assert_array_equal(e.numpy(), t.numpy())
