"""Reductions on random shapes, dtypes and dims against torch: values, dtypes, shapes and
error texts of sum, mean, prod, max, min, amax, amin, argmax, argmin, logsumexp, all and
any; their gradients with ties, zeros and nans; and the fixed errors and return types."""

from __future__ import annotations

import contextlib
import warnings

import numpy as np
import pytest
import torch
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import ember
from tests._surface_helpers import DTYPE_NAMES, ember_text, outcome

SETTINGS = settings(max_examples=400, deadline=None,
                    suppress_health_check=[HealthCheck.too_slow])
GRAD_SETTINGS = settings(max_examples=200, deadline=None,
                         suppress_health_check=[HealthCheck.too_slow])

# ops that take a tuple of dims (an empty tuple: all dims, but no dims for all/any) ...
MULTI_DIM = ("sum", "mean", "amax", "amin", "logsumexp", "all", "any")
# ... and ops that take one dim or none
ONE_DIM = ("prod", "max", "min", "argmax", "argmin")
FLOATS = ("float16", "float32", "float64")

shapes = st.lists(st.integers(0, 4), min_size=0, max_size=4).map(tuple)


def _values(draw, shape, dtype, nans=True):
    """Values with ties (a few small integers), and sometimes nans for floating dtypes."""
    n = int(np.prod(shape, dtype=np.int64))
    pool = [-2, -1, 0, 1, 2, 3] if dtype not in ("uint8", "bool") else [0, 1, 2]
    vals = draw(st.lists(st.sampled_from(pool), min_size=n, max_size=n))
    a = np.array(vals, dtype=np.float64).reshape(shape)
    if dtype in FLOATS:
        a = a + draw(st.sampled_from([0.0, 0.25]))
        if nans and n and draw(st.integers(0, 4)) == 0:
            a.flat[draw(st.integers(0, n - 1))] = np.nan
    return a.astype(dtype)


@st.composite
def dim_args(draw, op, ndim):
    """``dim`` (or nothing) for ``op``: mostly in range, sometimes just out of it."""
    n = max(ndim, 1)
    one = st.integers(-n - 1, n)
    if op in ONE_DIM:
        return draw(st.one_of(st.just(None), one))
    if op == "logsumexp":  # a dim is required; torch fails on dim=() (an internal error)
        return draw(st.one_of(one, st.lists(one, min_size=1, max_size=3).map(tuple)))
    return draw(st.one_of(st.just(None), one, st.lists(one, min_size=0, max_size=3).map(tuple),
                          st.just([])))


def _norm(result):
    """A comparable form of an outcome: the error, or (shape, dtype, values) per tensor."""
    if result[0] == "err":
        return ("err", result[1], ember_text(result[2]))
    value = result[1]
    outs = tuple(value) if isinstance(value, tuple) else (value,)
    return ("ok", type(value).__name__,
            tuple((tuple(t.shape), str(t.dtype).split(".")[-1], np.array(t.detach().numpy()))
                  for t in outs))


def assert_same_outcome(e, t):
    e, t = _norm(e), _norm(t)
    if t[0] == "err" or e[0] == "err":
        assert e == t
        return
    assert e[1] == t[1] and len(e[2]) == len(t[2])
    for (es, ed, ev), (ts, td, tv) in zip(e[2], t[2]):
        assert (es, ed) == (ts, td)
        if tv.dtype.kind == "f":
            tol = 1e-2 if tv.dtype == np.float16 else 1e-5
            np.testing.assert_allclose(ev.astype(np.float64), tv.astype(np.float64), rtol=tol,
                                       atol=tol, equal_nan=True)
        else:
            np.testing.assert_array_equal(ev, tv)


@contextlib.contextmanager
def _no_warnings():
    """Fails on any RuntimeWarning a user would see. ember's filter (installed on import; it
    mutes NumPy's warnings raised from ember's modules) is put back first, since the test
    runner drops the filters added while it collects the tests."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.filterwarnings("always", category=RuntimeWarning)
        warnings.filterwarnings("ignore", category=RuntimeWarning, module=r"ember(\.|$)")
        yield
    assert not [str(w.message) for w in caught if w.category is RuntimeWarning]


def _call(module, op, x, dim, keepdim, dtype, method):
    kwargs = {}
    if dim is not None or keepdim:  # torch's sum(x, keepdim=True) needs dim=None spelled out
        kwargs["dim"] = dim
    if keepdim:
        kwargs["keepdim"] = True
    if dtype is not None:
        kwargs["dtype"] = getattr(module, dtype)
    if method:
        return getattr(x, op)(**kwargs)
    return getattr(module, op)(x, **kwargs)


@SETTINGS
@given(data=st.data(), shape=shapes, dtype=st.sampled_from(DTYPE_NAMES),
       op=st.sampled_from(MULTI_DIM + ONE_DIM), method=st.booleans())
def test_reduction_matches_torch(data, shape, dtype, op, method):
    a = _values(data.draw, shape, dtype)
    dim = data.draw(dim_args(op, len(shape)))
    # keepdim without dim is an argument error of max/min/prod in both libraries, but
    # their texts differ with how the call was spelled: tested below
    keepdim = data.draw(st.booleans()) and not (dim is None and op in ("prod", "max", "min"))
    dtype_arg = None
    if op in ("sum", "mean", "prod") and data.draw(st.integers(0, 2)) == 0:
        dtype_arg = data.draw(st.sampled_from(DTYPE_NAMES))
    with _no_warnings():  # torch is silent about inf and nan
        e = outcome(lambda: _call(ember, op, ember.tensor(a), dim, keepdim, dtype_arg, method))
    t = outcome(lambda: _call(torch, op, torch.tensor(a), dim, keepdim, dtype_arg, method))
    assert_same_outcome(e, t)


def _grad_call(module, op, x, dim, keepdim):
    if op in ("max_dim", "min_dim"):
        return getattr(module, op[:3])(x, dim, keepdim)[0]
    if op in ("max", "min"):
        return getattr(module, op)(x)
    if op == "prod":
        return x.prod() if dim is None else x.prod(dim, keepdim)
    return getattr(module, op)(x, dim, keepdim)


@GRAD_SETTINGS
@given(data=st.data(), shape=st.lists(st.integers(1, 3), min_size=0, max_size=3).map(tuple),
       op=st.sampled_from(["sum", "mean", "prod", "amax", "amin", "max", "min", "max_dim",
                           "min_dim", "logsumexp"]))
def test_reduction_gradient_matches_torch(data, shape, op):
    """Ties (max() shares evenly, max(dim) picks the first), zeros (prod), nans (max() and
    amax), keepdim and tuples of dims."""
    a = _values(data.draw, shape, "float64", nans=op in ("amax", "amin", "max", "min"))
    ndim = max(len(shape), 1)
    one = st.integers(-ndim, ndim - 1)
    if op in ("max_dim", "min_dim"):
        dim = data.draw(one)
    elif op == "prod":
        dim = data.draw(st.one_of(st.just(None), one))
    elif op in ("max", "min"):
        dim = None
    else:
        dim = data.draw(st.one_of(one, st.lists(one, min_size=1, max_size=ndim, unique_by=lambda
                                                d: d % ndim).map(tuple)))
    keepdim = data.draw(st.booleans())
    grads = []
    for module in (ember, torch):
        with _no_warnings():
            x = module.tensor(a, requires_grad=True)
            y = _grad_call(module, op, x, dim, keepdim)
            g = np.linspace(-1.0, 2.0, max(y.numel(), 1))[:y.numel()].reshape(tuple(y.shape))
            y.backward(module.tensor(g))
        grads.append((type(y.grad_fn).__name__, x.grad.numpy()))
    (en, eg), (tn, tg) = grads
    assert en == tn
    np.testing.assert_allclose(eg, tg, rtol=1e-10, atol=1e-12, equal_nan=True)


# ---- fixed cases ---------------------------------------------------------------------------
def _both(fn):
    return outcome(lambda: fn(ember)), outcome(lambda: fn(torch))


@pytest.mark.parametrize("fn", [
    lambda m: m.ones(2, 3).sum(2),
    lambda m: m.ones(2, 3).amax((0, 2)),
    lambda m: m.ones(2, 3).max(-3),
    lambda m: m.tensor([1, 2]).mean(),
    lambda m: m.tensor([1.0, 2.0]).mean(dtype=m.int64),
    lambda m: m.tensor(True).mean(),
    lambda m: m.zeros(0, 3).max(),
    lambda m: m.zeros(0, 3).max(0),
    lambda m: m.zeros(0, 3).min(-2),
    lambda m: m.zeros(0, 3).amax(),
    lambda m: m.zeros(2, 0).amin(-1),
    lambda m: m.zeros(0, 3).argmax(),
    lambda m: m.zeros(0, 3).argmin(0),
    lambda m: m.tensor([True, False]).argmax(),
    lambda m: m.tensor([True, False]).argmin(0),
    lambda m: m.ones(2, 3).all((0, 0)),
], ids=lambda fn: "")
def test_errors_match_torch(fn):
    e, t = _both(fn)
    assert t[0] == "err", t
    assert (e[1], e[2]) == (t[1], ember_text(t[2]))


@pytest.mark.parametrize("fn, phrase", [
    (lambda m: m.max(m.ones(2, 3), keepdim=True), "received an invalid combination"),
    (lambda m: m.min(m.ones(2, 3), (0, 1)), "received an invalid combination"),
    (lambda m: m.prod(m.ones(2, 3), (0, 1)), "received an invalid combination"),
    (lambda m: m.prod(m.ones(2, 3), keepdim=True), "received an invalid combination"),
    (lambda m: m.max(m.ones(2), m.ones(2), True), "received an invalid combination"),
    (lambda m: m.ones(2, 3).argmax(dim=(0,)), "argmax(): argument 'dim' must be int, not tuple"),
    (lambda m: m.ones(2, 3).logsumexp(None), "must be tuple of ints, not NoneType"),
])
def test_argument_errors_match_torch(fn, phrase):
    """Argument-parser errors: the same type, and torch's key phrase (torch's full text
    depends on how the call was spelled)."""
    e, t = _both(fn)
    assert e[0] == t[0] == "err" and e[1] == t[1] == "TypeError"
    assert phrase in e[2] and phrase in t[2]


def test_reduction_of_empty_and_0d_matches_torch():
    for fn in [lambda m: m.zeros(0, 3).sum(), lambda m: m.zeros(0, 3).mean(),
               lambda m: m.zeros(0, 3).mean(0), lambda m: m.zeros(0, 3).prod(1),
               lambda m: m.zeros(0, 3).amax(1), lambda m: m.zeros(0, 3).max(1),
               lambda m: m.zeros(0, 3).argmax(1, keepdim=True), lambda m: m.zeros(0, 3).all(),
               lambda m: m.zeros(0, 3).any(1), lambda m: m.tensor(2.5).max(0),
               lambda m: m.tensor(2.5).min(-1, keepdim=True), lambda m: m.tensor(2.5).argmax(-1),
               lambda m: m.tensor(2.5).sum((0, -1)), lambda m: m.tensor(2.5).amax(-1),
               lambda m: m.tensor(3).all(0), lambda m: m.tensor(2.5).logsumexp(0)]:
        e, t = _both(fn)
        assert_same_outcome(e, t)


def test_max_with_dim_returns_named_values_and_first_indices():
    a = np.array([[3.0, 1.0, 3.0], [np.nan, 2.0, np.nan], [0.0, 0.0, -1.0]])
    for name in ("max", "min"):
        e = getattr(ember.tensor(a), name)(1)
        t = getattr(torch.tensor(a), name)(1)
        assert type(e).__name__ == type(t).__name__ == name
        assert type(e).__module__ == "ember.return_types"
        assert repr(e) == ember_text(repr(t))
        np.testing.assert_array_equal(e.indices.numpy(), t.indices.numpy())
        np.testing.assert_array_equal(e.values.numpy(), t.values.numpy())
        values, indices = e
        assert values is e.values and indices is e.indices


def test_binary_max_and_min_match_torch():
    a, b = np.array([[1.0, np.nan, 3.0]]), np.array([[2.0], [np.nan]])
    for name in ("max", "min"):
        for call in (lambda m, x, y, name=name: getattr(m, name)(x, y),
                     lambda m, x, y, name=name: getattr(m, name)(x, other=y),
                     lambda m, x, y, name=name: getattr(x, name)(y),
                     lambda m, x, y, name=name: getattr(x, name)(other=y)):
            e = call(ember, ember.tensor(a), ember.tensor(b))
            t = call(torch, torch.tensor(a), torch.tensor(b))
            np.testing.assert_array_equal(e.numpy(), t.numpy())


def test_all_and_any_keep_uint8():
    a = np.array([[0, 3, 1], [2, 2, 0]], dtype=np.uint8)
    for name in ("all", "any"):
        for args in [(), (1,), ((0, 1),), ((),)]:
            e, t = _both(lambda m, args=args, name=name: getattr(m.tensor(a), name)(*args))
            assert_same_outcome(e, t)


def test_prod_gradient_with_zeros_matches_torch_to_second_order():
    for vals in ([[1.5, 0.0, -2.0], [0.5, 1.25, -0.75]], [[0.0, 0.0, 2.0], [0.0, 3.0, 1.0]]):
        results = []
        for m in (ember, torch):
            x = m.tensor(vals, dtype=m.float64, requires_grad=True)
            out = []
            for y in (x.prod(), x.prod(1), x.prod(0, keepdim=True)):
                g, = m.autograd.grad(y.sum(), x, create_graph=True)
                w = m.arange(6, dtype=m.float64).reshape(2, 3)
                h, = m.autograd.grad((g * w).sum(), x)
                out += [g.detach().numpy(), h.numpy()]
            results.append(out)
        for e, t in zip(*results):
            np.testing.assert_allclose(e, t, rtol=1e-12, atol=1e-12)


def test_reductions_are_silent_about_inf_and_nan():
    """torch returns inf and nan without a warning; NumPy's np.mean and np.prod warn from
    NumPy's own module, past ember's filter."""
    a = np.array([[np.inf, -np.inf, 1.0], [0.0, np.inf, 3e38]], dtype=np.float32)
    with _no_warnings():
        for fn in (lambda m: m.tensor(a).mean(), lambda m: m.tensor(a).mean(1),
                   lambda m: m.tensor(a).prod(1), lambda m: m.tensor(a).sum(0),
                   lambda m: m.tensor(a).logsumexp(1)):
            assert_same_outcome(outcome(lambda fn=fn: fn(ember)), outcome(lambda fn=fn: fn(torch)))
