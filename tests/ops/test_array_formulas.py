"""Ops that declare ``on_arrays`` run those array formulas in a plain ``backward()`` and their
ember-op formulas under ``create_graph``: both must give the same gradients and dtypes."""

from __future__ import annotations

import numpy as np
import pytest

import ember
from ember.ops import linalg, pointwise, reduction
from ember.ops.registry import OpDef

F32, F64, I64 = ember.float32, ember.float64, ember.int64


def _leaf(rng, shape, dtype=F32, grad=True, low=0.5, high=2.0):
    data = rng.uniform(low, high, shape)
    t = ember.tensor(data, dtype=dtype)
    return t.requires_grad_() if grad and dtype.is_floating_point else t


CASES = {
    "mul scalar": lambda r: ([_leaf(r, (3,))], lambda x: x * 0.5),
    "mul int scalar": lambda r: ([_leaf(r, (3,))], lambda x: x * 3),
    "mul broadcast": lambda r: ([_leaf(r, (2, 3)), _leaf(r, (3,))], lambda x, y: x * y),
    "mul 0-d float64": lambda r: ([_leaf(r, (2, 3)), _leaf(r, (), F64)], lambda x, y: x * y),
    "mul float64 with float32": lambda r: ([_leaf(r, (2, 3), F64), _leaf(r, (3,))],
                                           lambda x, y: x * y),
    "div by int64 tensor": lambda r: ([_leaf(r, (2, 3)), _leaf(r, (3,), I64, low=1, high=4)],
                                      lambda x, y: x / y),
    "div": lambda r: ([_leaf(r, (2, 3)), _leaf(r, (2, 1))], lambda x, y: x / y),
    "rdiv": lambda r: ([_leaf(r, (3,))], lambda x: 2 / x),
    "add sub neg rsub": lambda r: ([_leaf(r, (2, 3)), _leaf(r, (3,))],
                                   lambda x, y: -(x + y) - (1 - y) + x.sub(y, alpha=2)),
    "add to itself": lambda r: ([_leaf(r, (3,))], lambda x: x + x),
    "exp log tanh sigmoid relu": lambda r: ([_leaf(r, (2, 3), low=-2)],
                                            lambda x: (x.exp() + x.abs().log() + x.tanh()
                                                       + x.sigmoid() + x.relu())),
    "pow": lambda r: ([_leaf(r, (3,))], lambda x: x ** 2 + x ** 3 + x ** 0.5 + x ** 0),
    "sum and mean over dims": lambda r: ([_leaf(r, (2, 3, 4))],
                                         lambda x: x.sum(1) * x.mean(1) + x.mean((0, 2), keepdim=True).sum()),
    "0-d": lambda r: ([_leaf(r, ())], lambda x: (x * 2).tanh() + x.exp()),
    "mm bmm matmul linear": lambda r: ([_leaf(r, (2, 3)), _leaf(r, (3, 4)), _leaf(r, (5, 2, 3))],
                                       lambda a, b, c: (a @ b).sum() + (c @ b).sum()
                                       + ember.nn.functional.linear(a, b.t(), b[0]).sum()),
    "float16": lambda r: ([_leaf(r, (4,), ember.float16)], lambda x: (x * 1.5).tanh() + x / 3),
    "batch_norm train": lambda r: ([_leaf(r, (3, 2, 4, 4), F64), _leaf(r, (2,), F64),
                                    _leaf(r, (2,), F64)],
                                   lambda x, w, b: ember.nn.functional.batch_norm(
                                       x, None, None, w, b, training=True) ** 2),
    "batch_norm eval": lambda r: ([_leaf(r, (3, 2, 4)), _leaf(r, (2,))],
                                  lambda x, w: ember.nn.functional.batch_norm(
                                      x, ember.zeros(2), ember.ones(2), w, None) ** 2),
}


@pytest.mark.parametrize("case", CASES)
def test_array_formulas_match_the_ember_op_formulas(case):
    rng = np.random.default_rng(0)
    inputs, fn = CASES[case](rng)
    diff = [t for t in inputs if t.requires_grad]
    out = fn(*inputs)
    upstream = ember.tensor(rng.standard_normal(tuple(out.shape)), dtype=out.dtype)
    expected = ember.autograd.grad(out, diff, upstream, retain_graph=True, create_graph=True)
    out.backward(upstream)
    for t, e in zip(diff, expected):
        assert t.grad.dtype == e.dtype == t.dtype
        np.testing.assert_allclose(t.grad.numpy(), e.detach().numpy(), rtol=1e-3, atol=1e-6)


def test_hot_ops_declare_array_formulas():
    hot = [pointwise.ADD, pointwise.SUB, pointwise.MUL, pointwise.DIV, pointwise.NEG,
           pointwise.EXP, pointwise.LOG, pointwise.TANH, pointwise.SIGMOID, pointwise.RELU,
           pointwise.POW, pointwise.POW_SQUARE, reduction.SUM, reduction.MEAN, linalg.MM]
    for op in hot:
        assert isinstance(op, OpDef) and op.array_formulas is not None, op


def test_version_check_still_applies_on_the_array_path():
    x = ember.tensor([1.0, 2.0], requires_grad=True)
    y = x.tanh()
    z = y * 2
    y.mul_(2)  # tanh saved its output; changing it must fail the backward
    with pytest.raises(RuntimeError, match="modified by an inplace operation"):
        z.sum().backward()


def test_array_formulas_must_read_what_their_formula_saves():
    from ember.ops.registry import defop
    with pytest.raises(ValueError, match="read only what its derivative reads"):
        defop("bad", inputs=("self", "other"), forward=np.multiply,
              derivatives={"self": lambda grad, other: grad * other, "other": None},
              on_arrays={"self": lambda grad, self: grad * self})


def test_a_gradient_array_passed_to_two_leaves_is_not_shared():
    a = ember.ones(3, requires_grad=True)
    b = ember.ones(3, requires_grad=True)
    (a + b).sum().backward()  # add passes one gradient array on to both inputs
    assert not np.shares_memory(a.grad.numpy(), b.grad.numpy())
    a.grad.add_(1)
    assert b.grad.tolist() == [1.0, 1.0, 1.0]
    c = ember.ones(3, requires_grad=True)
    (c + c).sum().backward()
    assert c.grad.tolist() == [2.0, 2.0, 2.0]


def test_a_user_gradient_is_not_taken_over_as_grad():
    x = ember.ones(3, requires_grad=True)
    upstream = ember.tensor([1.0, 2.0, 3.0])
    (x + 1).backward(upstream)
    x.grad.mul_(0)
    assert upstream.tolist() == [1.0, 2.0, 3.0]


def test_large_gradients_take_the_threaded_tensor_path():
    from ember.backend.threads import THRESHOLD
    n = THRESHOLD + 1
    x = ember.full((n,), 0.5, requires_grad=True)
    (x.tanh() * 2).sum().backward()
    np.testing.assert_allclose(x.grad.numpy()[:3], 2 * (1 - np.tanh(0.5) ** 2), rtol=1e-6)


@pytest.mark.parametrize("dtype", ["float16", "float32", "float64"])
@pytest.mark.parametrize("layout", ["contiguous", "transposed", "0-d"])
def test_relu_array_backward_masks_bits_exactly_as_where(dtype, layout):
    # relu's array formula clears the bits of the gradient where the result is not positive:
    # it must equal np.where bit for bit, NaN and inf gradients at masked places included
    rng = np.random.default_rng(0)
    result = np.maximum(rng.standard_normal((6, 5)), 0).astype(dtype)
    result[0, :2] = [0.0, -0.0]
    grad = rng.standard_normal((5, 6)).astype(dtype).T if layout == "transposed" else \
        rng.standard_normal((6, 5)).astype(dtype)
    grad[0, 0], grad[0, 1], grad[1, 0] = np.nan, np.inf, -0.0
    if layout == "0-d":
        grad, result = np.array(grad[0, 0]), np.array(result[0, 2])  # 0-d arrays
    got = pointwise._where_positive(grad, result)
    want = np.where(result > 0, grad, 0)
    assert got.dtype == want.dtype
    np.testing.assert_array_equal(np.asarray(got).view(f"u{got.itemsize}"),
                                  np.asarray(want).view(f"u{want.itemsize}"))
