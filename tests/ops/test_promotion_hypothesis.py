"""Type promotion and the semantics of elementwise ops, against torch, over dtype pairs,
0-d and dimensioned tensors, Python scalars on either side and both default dtypes.

Every example runs the same call on ember and torch and compares the outcome: the result's
dtype, shape and values, or the exception's type and message.
"""

from __future__ import annotations

import operator

import numpy as np
import pytest
import torch
from hypothesis import assume, given, settings
from hypothesis import strategies as st

import ember
from tests._surface_helpers import DTYPE_NAMES, edt, ember_text, outcome, tdt

SETTINGS = settings(deadline=None, max_examples=250)


@pytest.fixture(autouse=True)
def _torch_default_dtype():
    """conftest restores ember's default dtype; this restores torch's."""
    saved = torch.get_default_dtype()
    yield
    torch.set_default_dtype(saved)


def _set_default(name: str) -> None:
    ember.set_default_dtype(edt(name))
    torch.set_default_dtype(tdt(name))


def _values(name: str, shape, seed: int) -> np.ndarray:
    """Small values with zeros, negatives (where the dtype has them) and ones."""
    rng = np.random.default_rng(seed)
    if name == "bool":
        return rng.random(shape) > 0.5
    if name == "uint8":
        return rng.integers(0, 6, shape).astype(np.uint8)
    if name.startswith("int"):
        return rng.integers(-5, 6, shape).astype(name)
    return np.round(rng.random(shape) * 8 - 4, 1).astype(name)


def _pair(name: str, shape, seed: int):
    arr = _values(name, shape, seed)
    return ember.tensor(arr), torch.tensor(arr)


def _same(e, t) -> None:
    """Both outcomes agree: the same error (type and message), or equal tensors."""
    assert e[0] == t[0], (e, t)
    if t[0] == "err":
        assert (e[1], e[2]) == (t[1], ember_text(t[2])), (e, t)
        return
    ev, tv = e[1], t[1]
    assert isinstance(ev, ember.Tensor), type(ev)
    assert ev.dtype.name == str(tv.dtype).split(".")[-1], (ev.dtype, tv.dtype)
    assert tuple(ev.shape) == tuple(tv.shape), (ev.shape, tv.shape)
    a, b = ev.detach().numpy(), tv.detach().numpy()
    if a.dtype.kind == "f":
        tol = 2e-3 if a.dtype == np.float16 else 1e-5
        np.testing.assert_allclose(a.astype(np.float64), b.astype(np.float64), rtol=tol,
                                   atol=tol, equal_nan=True)
    else:
        np.testing.assert_array_equal(a, b)


def _both(fn, *args_e_t) -> bool:
    """``fn`` on the ember and on the torch operands; whether it succeeded."""
    ember_args = [x[0] if isinstance(x, tuple) else x for x in args_e_t]
    torch_args = [x[1] if isinstance(x, tuple) else x for x in args_e_t]
    t = outcome(lambda: fn(*torch_args))
    _same(outcome(lambda: fn(*ember_args)), t)
    return t[0] == "ok"


def _lib(*xs):
    return ember if any(isinstance(x, ember.Tensor) for x in xs) else torch


BINARY = {
    "add": operator.add, "sub": operator.sub, "mul": operator.mul,
    "truediv": operator.truediv, "floordiv": operator.floordiv, "mod": operator.mod,
    "pow": operator.pow, "and": operator.and_, "or": operator.or_, "xor": operator.xor,
    "eq": operator.eq, "ne": operator.ne, "lt": operator.lt, "ge": operator.ge,
    "div_floor": lambda a, b: _lib(a, b).div(a, b, rounding_mode="floor"),
    "div_trunc": lambda a, b: _lib(a, b).div(a, b, rounding_mode="trunc"),
    "add_alpha": lambda a, b: _lib(a, b).add(a, b, alpha=2),
    "logical_and": lambda a, b: _lib(a, b).logical_and(a, b),
    "logical_or": lambda a, b: _lib(a, b).logical_or(a, b),
    "logical_xor": lambda a, b: _lib(a, b).logical_xor(a, b),
    "bitwise_and": lambda a, b: _lib(a, b).bitwise_and(a, b),
    "maximum": lambda a, b: _lib(a, b).maximum(a, b),
    "minimum": lambda a, b: _lib(a, b).minimum(a, b),
    "where": lambda a, b: _lib(a, b).where(a != 0 if isinstance(a, (ember.Tensor, torch.Tensor))
                                           else b != 0, a, b),
}
INPLACE = {
    "add_": lambda a, b: a.add_(b), "sub_": lambda a, b: a.sub_(b),
    "mul_": lambda a, b: a.mul_(b), "div_": lambda a, b: a.div_(b),
    "div_floor_": lambda a, b: a.div_(b, rounding_mode="floor"),
    "div_trunc_": lambda a, b: a.div_(b, rounding_mode="trunc"),
    "add_alpha_": lambda a, b: a.add_(b, alpha=2),
    "iadd": operator.iadd, "isub": operator.isub, "imul": operator.imul,
    "itruediv": operator.itruediv, "ifloordiv": operator.ifloordiv, "imod": operator.imod,
    "ipow": operator.ipow, "iand": operator.iand, "ior": operator.ior, "ixor": operator.ixor,
    "pow_": lambda a, b: a.pow_(b), "remainder_": lambda a, b: a.remainder_(b),
    "clamp_": lambda a, b: a.clamp_(b),
}
# Rounded float16 quotients can differ from torch's by one where the exact quotient lies
# within float16's rounding error of an integer (torch's half kernel rounds differently from
# NumPy's): these ops are compared here for the other dtypes only.
ROUNDING = {"floordiv", "mod", "div_floor", "div_trunc", "div_floor_", "div_trunc_",
            "ifloordiv", "imod", "remainder_"}


def _exact(op, *dtypes) -> bool:
    return op not in ROUNDING or "float16" not in dtypes


SCALARS = st.sampled_from([True, False, 0, 1, 3, -2, 2.5, -1.5, 0.0, 300, -129, 2 ** 40])
DTYPES = st.sampled_from(DTYPE_NAMES)
SHAPES = st.sampled_from([(3,), (), (2, 1)])
DEFAULTS = st.sampled_from(["float32", "float64"])


# ---- two tensors ------------------------------------------------------------------------------
@SETTINGS
@given(op=st.sampled_from(sorted(BINARY)), a=DTYPES, b=DTYPES, sa=SHAPES, sb=SHAPES,
       default=DEFAULTS, seed=st.integers(0, 2 ** 16))
def test_tensor_tensor_ops_match_torch(op, a, b, sa, sb, default, seed):
    assume(_exact(op, a, b))
    _set_default(default)
    _both(BINARY[op], _pair(a, sa, seed), _pair(b, sb, seed + 1))


# ---- a tensor and a Python scalar, on either side -------------------------------------------------
@SETTINGS
@given(op=st.sampled_from(sorted(BINARY)), a=DTYPES, s=SCALARS, sa=SHAPES,
       reverse=st.booleans(), default=DEFAULTS, seed=st.integers(0, 2 ** 16))
def test_tensor_scalar_ops_match_torch(op, a, s, sa, reverse, default, seed):
    assume(_exact(op, a))
    _set_default(default)
    x = _pair(a, sa, seed)
    _both(BINARY[op], *((s, x) if reverse else (x, s)))


# ---- in place ------------------------------------------------------------------------------------
@SETTINGS
@given(op=st.sampled_from(sorted(INPLACE)), a=DTYPES, b=st.one_of(DTYPES, SCALARS),
       sb=st.sampled_from([(3,), ()]), seed=st.integers(0, 2 ** 16))
def test_inplace_ops_match_torch(op, a, b, sb, seed):
    """The result (its dtype must be castable into the tensor's) and the tensor itself."""
    assume(_exact(op, a, b))
    xe, xt = _pair(a, (3,), seed)
    other = _pair(b, sb, seed + 1) if b in DTYPE_NAMES else b
    if _both(INPLACE[op], (xe, xt), other):  # (torch may have written part of it if not)
        _same(("ok", xe), ("ok", xt))


# ---- unary math: integer and bool inputs promote to the default dtype ---------------------------
UNARY = ["abs", "neg", "exp", "log", "sqrt", "sin", "cos", "tanh", "sigmoid", "reciprocal",
         "sign", "sgn", "floor", "ceil", "round", "trunc", "relu", "logical_not", "bitwise_not"]


@SETTINGS
@given(name=st.sampled_from(UNARY), a=DTYPES, sa=SHAPES, form=st.sampled_from(["fn", "method"]),
       default=DEFAULTS, seed=st.integers(0, 2 ** 16))
def test_unary_ops_match_torch(name, a, sa, form, default, seed):
    _set_default(default)
    if form == "fn":
        def fn(t):
            return getattr(_lib(t), name)(t)
    else:
        def fn(t):
            return getattr(t, name)()
    _both(fn, _pair(a, sa, seed))


@SETTINGS
@given(name=st.sampled_from(["abs_", "neg_", "exp_", "sqrt_", "sigmoid_", "floor_", "ceil_",
                             "round_", "trunc_", "sign_", "reciprocal_", "relu_"]),
       a=DTYPES, seed=st.integers(0, 2 ** 16))
def test_unary_inplace_ops_match_torch(name, a, seed):
    xe, xt = _pair(a, (3,), seed)
    if _both(lambda t: getattr(t, name)(), (xe, xt)):
        _same(("ok", xe), ("ok", xt))


def test_invert_operator_and_bitwise_not_errors_on_floats():
    e, t = _pair("float32", (2,), 0)
    _both(operator.invert, (e, t))
    _both(lambda x: _lib(x).bitwise_not(x), (e, t))
    for name in ("int8", "uint8", "bool"):
        _both(operator.invert, _pair(name, (4,), 1))


# ---- clamp ----------------------------------------------------------------------------------------
BOUNDS = st.sampled_from([None, 1, -1, 3, 2.5, 0.5, True, 300, float("nan")])


@SETTINGS
@given(a=DTYPES, lo=BOUNDS, hi=BOUNDS, sa=SHAPES, inplace=st.booleans(),
       seed=st.integers(0, 2 ** 16))
def test_clamp_with_number_bounds_matches_torch(a, lo, hi, sa, inplace, seed):
    """Bounds of another category promote; min > max gives max; bounds must fit an integer
    result dtype; bool has no clamp kernel."""
    x = _pair(a, sa, seed)
    if inplace:
        if _both(lambda t: t.clamp_(lo, hi), x):
            _same(("ok", x[0]), ("ok", x[1]))
    else:
        _both(lambda t: _lib(t).clamp(t, lo, hi), x)


@SETTINGS
@given(a=DTYPES, b=DTYPES, which=st.sampled_from(["min", "max", "both"]),
       seed=st.integers(0, 2 ** 16))
def test_clamp_with_tensor_bounds_matches_torch(a, b, which, seed):
    x = _pair(a, (4,), seed)
    lo, hi = _pair(b, (4,), seed + 1), _pair(b, (), seed + 2)
    if which == "min":
        _both(lambda t, m: _lib(t).clamp(t, min=m), x, lo)
    elif which == "max":
        _both(lambda t, m: _lib(t).clamp(t, max=m), x, hi)
    else:
        _both(lambda t, m, n: _lib(t).clamp(t, m, n), x, lo, hi)


# ---- integer semantics ------------------------------------------------------------------------------
INT_NAMES = ["int8", "int16", "int32", "int64", "uint8"]


@pytest.mark.parametrize("name", INT_NAMES + ["float32", "float64"])
def test_floor_division_and_remainder_with_negatives_and_zero(name):
    a = np.array([-7, -6, -1, 0, 1, 5, 7] * 7)
    b = np.repeat([-3, -2, -1, 1, 2, 3, 5], 7)
    if name == "uint8":
        a, b = np.abs(a), np.abs(b)
    x, y = (ember.tensor(a.astype(name)), torch.tensor(a.astype(name))), \
        (ember.tensor(b.astype(name)), torch.tensor(b.astype(name)))
    for op in ("floordiv", "mod", "div_floor", "div_trunc", "truediv"):
        _both(BINARY[op], x, y)
        for s in (2, -2, 0, 2.5, -0.5, True, False):
            _both(BINARY[op], x, s)
            _both(BINARY[op], s, x)  # dividing by a tensor that holds zeros
    _both(lambda t: _lib(t).remainder(t, 0), x)  # integer division by zero raises
    _both(lambda t: _lib(t).floor_divide(3, t), x)


def test_float_remainder_takes_the_sign_of_the_divisor():
    a, b = np.array([5.5, -5.5, 5.5, -5.5, 0.0, -0.0]), np.array([2.0, 2.0, -2.0, -2.0, 3, -3])
    _both(operator.mod, (ember.tensor(a), torch.tensor(a)), (ember.tensor(b), torch.tensor(b)))
    _both(operator.mod, (ember.tensor(a), torch.tensor(a)), -1.5)
    _both(operator.mod, 7.5, (ember.tensor(b), torch.tensor(b)))


@pytest.mark.parametrize("name", ["int8", "int16", "int32", "int64", "bool"])
def test_integer_powers(name):
    """Negative integer exponents: a Python number raises, a tensor gives 1, +-1 or 0."""
    base = np.array([2, -1, 1, 0, 3, -2, 5]).astype(name)
    expo = np.array([-1, -3, -2, -1, 0, -2, 2]).astype(name)
    x = (ember.tensor(base), torch.tensor(base))
    y = (ember.tensor(expo), torch.tensor(expo))
    _both(operator.pow, x, y)
    for s in (-1, -2, 0, 1, 2, 3, True, False, 0.5, 300):
        _both(operator.pow, x, s)
        _both(lambda t, e: t.clone().pow_(e), x, s)
    for b in (2, -1, 1, 0, 2.0, True):
        _both(operator.pow, b, y)
    zero = (ember.tensor([0, 0]), torch.tensor([0, 0]))
    _both(operator.pow, zero, 0)  # 0 ** 0 == 1
    _both(operator.pow, 0, zero)
    _both(operator.pow, (ember.tensor([0.0, -0.0]), torch.tensor([0.0, -0.0])), 0)


def test_integer_overflow_wraps():
    i8 = (ember.tensor([127, -128, 100], dtype=ember.int8),
          torch.tensor([127, -128, 100], dtype=torch.int8))
    u8 = (ember.tensor([0, 1, 255], dtype=ember.uint8),
          torch.tensor([0, 1, 255], dtype=torch.uint8))
    for x in (i8, u8):
        for s in (1, 3, 200, -1, 1000):
            for op in (operator.add, operator.sub, operator.mul):
                _both(op, x, s)
                _both(op, s, x)
        _both(operator.neg, x)
        _both(operator.abs, x)
        _both(operator.sub, x, x)
        _both(lambda t: t + t, x)
        _both(lambda t: _lib(t).add(t, 1, alpha=300), x)  # alpha must fit the dtype
        _both(lambda t: _lib(t).add(t, 100, alpha=3), x)
        _both(lambda t: t.clone().add_(-2, alpha=2), x)


def test_bool_arithmetic_errors_match_torch():
    b = _pair("bool", (4,), 0)
    f = _pair("float32", (4,), 1)
    for fn in (operator.neg, operator.sub, lambda x: x - True, lambda x: True - x,
               lambda x: x.clone().sub_(True), lambda x: x.clone().add_(True, alpha=2),
               lambda x: x.clone().add_(x, alpha=0), lambda x: x ** x, lambda x: True ** x,
               lambda x: x ** True, lambda x: x ** False):
        _both(fn, b)
    _both(lambda x, y: x.clone().sub_(y), f, b)
    _both(lambda x, y: x.clone().__isub__(y), f, b)


def test_functions_take_a_number_first():
    x = _pair("int64", (3,), 2)
    y = _pair("float32", (), 3)
    for s in (2, 2.5, True, np.float32(1.5)):
        for name in ("add", "sub", "mul", "div", "true_divide", "remainder", "floor_divide"):
            for t in (x, y):
                _both(lambda a, n, f: getattr(_lib(a), f)(n, a), t, s, name)
        _both(lambda a, n: _lib(a).div(n, a, rounding_mode="floor"), x, s)
        for name in ("maximum", "logical_and", "logical_or"):
            _both(lambda a, n, f: getattr(_lib(a), f)(n, a), x, s, name)
            _both(lambda a, n, f: getattr(_lib(a), f)(a, n), x, s, name)
            _both(lambda a, n, f: getattr(a, f)(n), x, s, name)


# ---- result_type ------------------------------------------------------------------------------------
OPERAND = st.one_of(st.tuples(DTYPES, SHAPES), st.sampled_from([True, 2, -3, 1.5]))


@SETTINGS
@given(a=OPERAND, b=OPERAND, default=DEFAULTS)
def test_result_type_matches_torch(a, b, default):
    """Dimensioned tensors outrank 0-d ones, which outrank Python numbers, except where a
    lower-ranked operand is of a higher category (bool < integer < floating)."""
    _set_default(default)
    ea, ta = _pair(*a, 0) if isinstance(a, tuple) else (a, a)
    eb, tb = _pair(*b, 1) if isinstance(b, tuple) else (b, b)
    assert ember.result_type(ea, eb).name == str(torch.result_type(ta, tb)).split(".")[-1]
