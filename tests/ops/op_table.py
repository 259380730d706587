"""The op table: every op with its sample inputs, dtypes, keyword arguments and bad inputs.

In the spirit of PyTorch's OpInfo. Each ``Op`` names an op and gives one callable, written
once as ``fn(module, *args, **kwargs)`` and run with ``module`` = ``ember`` and with
``module`` = ``torch``; sample arguments are ``T`` specs (tensors made from the same NumPy
values for both libraries) or plain Python values. ``tests/ops/test_op_table.py`` runs
every sample through both and compares forward values, gradients, ``gradcheck``,
``gradgradcheck`` and (where ``third_order`` is set) third derivatives; every ``Bad``
input must raise the same exception type as torch, with ``phrase`` in both messages.

Values avoid points where an op is not differentiable (kinks of abs/relu/clamp, ties of
max/min, integer quotients of remainder) so that finite differences are meaningful.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np

FLOATS = ("float32", "float64")
INTS = ("int64",)
ALL = FLOATS + INTS + ("bool",)


@dataclass(frozen=True)
class T:
    """A tensor argument: its shape, how its values are drawn, whether it is differentiable.

    dtype: a fixed dtype (else the sample's dtype). grad: requires grad when floating.
    low/high: the value range. away: points values keep at least ``margin`` from (kinks).
    distinct: no two values closer than ``margin`` (no ties for max/min).
    values: fixed values (a nested list) instead of random ones.
    """

    shape: tuple = ()
    low: float = -3.0
    high: float = 3.0
    dtype: str | None = None
    grad: bool = True
    away: tuple = ()
    margin: float = 0.1
    distinct: bool = False
    values: tuple | None = None

    def make(self, rng: np.random.Generator, dtype: str) -> np.ndarray:
        dt = np.dtype(self.dtype or dtype)
        if self.values is not None:
            return np.array(self.values, dtype=dt).reshape(self.shape)
        n = int(np.prod(self.shape, dtype=np.int64))
        if dt == np.bool_:
            return (rng.random(self.shape) < 0.5).astype(np.bool_)
        if dt.kind in "iu":
            lo, hi = int(np.floor(self.low)), int(np.ceil(self.high))
            flat = rng.integers(lo, hi + 1, n)
            if self.away:
                ok = np.all([np.abs(flat - a) > 0 for a in self.away], axis=0)
                flat = np.where(ok, flat, hi)
            if self.distinct:
                flat = rng.permutation(np.arange(lo, lo + n))
            return flat.astype(dt).reshape(self.shape)
        if self.distinct:
            grid = np.linspace(self.low, self.high, max(n, 2))[:n]
            flat = rng.permutation(grid)
        else:
            flat = rng.uniform(self.low, self.high, n)
            for _ in range(20):
                bad = np.zeros(n, dtype=bool)
                for a in self.away:
                    bad |= np.abs(flat - a) < self.margin
                if not bad.any():
                    break
                flat[bad] = rng.uniform(self.low, self.high, int(bad.sum()))
        return flat.astype(dt).reshape(self.shape)


@dataclass
class Sample:
    """One call: positional ``args`` (``T`` specs or Python values) and ``kwargs``."""

    args: tuple
    kwargs: dict = field(default_factory=dict)
    dtypes: tuple | None = None  # overrides the op's dtypes for this sample
    make: Callable | None = None  # make(rng) -> float64 arrays for the T args, in order


def S(*args, dtypes=None, make=None, **kwargs) -> Sample:
    return Sample(args, kwargs, dtypes, make)


@dataclass
class Bad:
    """A bad call: both libraries must raise ``exc`` with ``phrase`` in the message."""

    args: tuple
    exc: type
    phrase: str
    kwargs: dict = field(default_factory=dict)
    dtype: str = "float32"


@dataclass
class Op:
    """An op, the callable run with both libraries, its samples and its bad inputs.

    grad: compare gradients for a random upstream gradient (floating dtypes).
    gradcheck / gradgradcheck: run ember's checks on the float64 samples.
    third_order: compare the third derivative with torch's.
    backward_error: (type, phrase) when backward must raise (ops PyTorch cannot
    differentiate), instead of comparing gradients.
    """

    name: str
    fn: Callable
    samples: list
    dtypes: tuple = FLOATS
    bad: list = field(default_factory=list)
    grad: bool = True
    gradcheck: bool = True
    gradgradcheck: bool = True
    third_order: bool = False
    backward_error: tuple | None = None


# ---- sample builders ---------------------------------------------------------------------
BROADCAST_PAIRS = [((), ()), ((3,), (3,)), ((2, 3), (3,)), ((2, 1), (1, 3)), ((1,), (2, 2)),
                   ((2, 3), ()), ((0, 3), (3,)), ((2, 0), (1, 1))]


def pairs(a: dict | None = None, b: dict | None = None, shapes=BROADCAST_PAIRS, **kwargs):
    a, b = a or {}, b or {}
    return [S(T(sa, **a), T(sb, **b), **kwargs) for sa, sb in shapes]


def unary_shapes(**spec):
    return [S(T(s, **spec)) for s in [(), (1,), (3,), (2, 3), (2, 1, 2), (0,), (0, 2)]]


def _remainder_values(rng):
    # quotients x / y keep at least 0.15 from the nearest integer: remainder is smooth there
    y = rng.uniform(0.5, 2.0, (2, 3)) * rng.choice([-1.0, 1.0], (2, 3))
    q = rng.integers(-3, 3, (2, 3)) + rng.uniform(0.15, 0.85, (2, 3))
    return q * y, y


def _remainder_bcast(rng):
    y = rng.uniform(0.5, 2.0, (3,)) * rng.choice([-1.0, 1.0], (3,))
    q = rng.integers(-3, 3, (2, 3)) + rng.uniform(0.15, 0.85, (2, 3))
    return q * y, y


def _remainder_scalar(rng):
    q = rng.integers(-3, 3, (2, 3)) + rng.uniform(0.15, 0.85, (2, 3))
    return (q * 1.5,)


def _rremainder(rng):
    # 2 % x: |x| in [0.7, 0.95] keeps 2 / x in (2.1, 2.86), away from integers
    x = rng.uniform(0.7, 0.95, (2, 3)) * rng.choice([-1.0, 1.0], (2, 3))
    return (x,)


# integer division and remainder: divisors away from zero
INT_DIV = [S(T((2, 3), low=-7, high=7), T((2, 3), low=-3, high=3, away=(0,)), dtypes=INTS),
           S(T((2, 3), low=-7, high=7), T((3,), low=-3, high=3, away=(0,)), dtypes=INTS),
           S(T((2, 3), low=-7, high=7), -2, dtypes=INTS),
           S(T((2, 3), low=-7, high=7), 3, dtypes=INTS)]
POS = dict(low=0.2, high=3.0)  # away from 0 for log, sqrt, division
NONZERO = dict(away=(0.0,), margin=0.3)

# ---- the table ---------------------------------------------------------------------------
OPS: list[Op] = []


def op(*args, **kwargs) -> Op:
    entry = Op(*args, **kwargs)
    OPS.append(entry)
    return entry


# arithmetic -----------------------------------------------------------------------------
op("add", lambda m, x, y, **kw: m.add(x, y, **kw),
   pairs() + [S(T((2, 3)), T((2, 3)), alpha=2), S(T((2, 3)), 1.5), S(T((3,)), 2, alpha=3),
              S(T((2, 3)), T((3,), dtype="int64")), S(T((2, 3)), T((), dtype="float64")),
              S(T((2, 3), dtype="int64"), 2.5, dtypes=FLOATS[:1])],
   dtypes=ALL, third_order=True,
   bad=[Bad((T((2, 3)), T((4,))), RuntimeError, "must match the size of tensor b (4)"),
        Bad((T((2,)), T((2,))), RuntimeError, "Boolean alpha only supported for Boolean",
            dict(alpha=True))])
op("__add__", lambda m, x, y: x + y, pairs(shapes=BROADCAST_PAIRS[:5]) + [S(T((2, 3)), 1)],
   dtypes=ALL)
op("__radd__", lambda m, x: 2 + x, [S(T((2, 3))), S(T(()))], dtypes=ALL)
op("sub", lambda m, x, y, **kw: m.sub(x, y, **kw),
   pairs() + [S(T((2, 3)), T((3,)), alpha=2), S(T((2, 3)), 0.5, alpha=-1.5)],
   dtypes=FLOATS + INTS,
   bad=[Bad((T((2,), dtype="bool"), T((2,), dtype="bool")), RuntimeError,
            "Subtraction, the `-` operator, with two bool tensors is not supported"),
        Bad((T((2,)), T((2,), dtype="bool")), RuntimeError,
            "Subtraction, the `-` operator, with a bool tensor is not supported"),
        Bad((T((2,), dtype="int64"), T((2,), dtype="int64")), RuntimeError,
            "For integral input tensors, argument alpha must not be a floating point number",
            dict(alpha=0.5))])
op("__sub__", lambda m, x, y: x - y, pairs(shapes=BROADCAST_PAIRS[:5]), dtypes=FLOATS + INTS,
   bad=[Bad((T((2,), dtype="bool"), 1), RuntimeError,
            "Subtraction, the `-` operator, with a bool tensor is not supported"),
        Bad((T((2,), dtype="bool"), T((2,), dtype="bool")), RuntimeError,
            "Subtraction, the `-` operator, with two bool tensors is not supported")])
op("__rsub__", lambda m, x: 2 - x, [S(T((2, 3))), S(T(()))], dtypes=FLOATS + INTS,
   bad=[Bad((T((2,), dtype="bool"),), RuntimeError,
            "Subtraction, the `-` operator, with a bool tensor is not supported")])
op("mul", lambda m, x, y: m.mul(x, y),
   pairs() + [S(T((2, 3)), 2.5), S(T((2, 3)), T((2, 3), dtype="bool")),
              S(T((2, 3)), T((3,), grad=False)), S(T((2, 3), grad=False), T((2, 1)))],
   dtypes=ALL, third_order=True)
op("__mul__", lambda m, x, y: x * y, pairs(shapes=BROADCAST_PAIRS[:5]), dtypes=ALL)
op("__rmul__", lambda m, x: 2 * x, [S(T((2, 3))), S(T(()))], dtypes=ALL)
op("div", lambda m, x, y, **kw: m.div(x, y, **kw),
   pairs(b=NONZERO) + [S(T((2, 3)), 2.5), S(T((2, 3)), T((3,), dtype="int64", **NONZERO))],
   dtypes=FLOATS + INTS, third_order=True,
   bad=[Bad((T((2,)), T((2,))), RuntimeError, "div expected rounding_mode to be one of None, "
            "'trunc', or 'floor'", dict(rounding_mode="round"))])
op("div_floor", lambda m, x, y: m.div(x, y, rounding_mode="floor"),
   [S(T((2, 3)), T((2, 3)), make=_remainder_values), S(T((2, 3)), T((3,)), make=_remainder_bcast),
    S(T((2, 3)), 1.5, make=_remainder_scalar), S(T((2, 3), dtype="int64", low=-7, high=7), 1.5)]
   + INT_DIV,
   dtypes=FLOATS,
   bad=[Bad((T((2,), dtype="int64"), 0), RuntimeError, "ZeroDivisionError", dtype="int64")])
op("div_trunc", lambda m, x, y: m.div(x, y, rounding_mode="trunc"),
   [S(T((2, 3)), T((2, 3)), make=_remainder_values), S(T((2, 3)), T((3,)), make=_remainder_bcast),
    S(T((2, 3)), 1.5, make=_remainder_scalar), S(T((2, 3), dtype="int64", low=-7, high=7), 1.5)]
   + INT_DIV,
   dtypes=FLOATS,
   bad=[Bad((T((2,), dtype="bool"), T((2,), dtype="bool")), NotImplementedError,
            "\"div_trunc_cpu\" not implemented for 'Bool'", dtype="bool")])
op("__truediv__", lambda m, x, y: x / y,
   pairs(b=NONZERO, shapes=BROADCAST_PAIRS[:5]) + [S(T((2, 3)), 2)], dtypes=FLOATS + INTS)
op("__rtruediv__", lambda m, x: 2 / x, [S(T((2, 3), **NONZERO)), S(T((), **NONZERO))],
   dtypes=FLOATS + INTS)
op("floor_divide", lambda m, x, y: m.floor_divide(x, y),
   [S(T((2, 3)), T((2, 3)), make=_remainder_values), S(T((2, 3)), T((3,)), make=_remainder_bcast),
    S(T((2, 3)), 1.5, make=_remainder_scalar)] + INT_DIV,
   dtypes=FLOATS, grad=False, gradcheck=False,
   backward_error=(RuntimeError, "derivative for aten::floor_divide is not implemented"),
   bad=[Bad((T((2,), dtype="int64"), T((2,), dtype="int64", values=(0, 0))), RuntimeError,
            "ZeroDivisionError", dtype="int64"),
        Bad((T((2,), dtype="bool"), T((2,), dtype="bool")), NotImplementedError,
            "\"div_floor_cpu\" not implemented for 'Bool'", dtype="bool")])
op("__floordiv__", lambda m, x, y: x // y,
   [S(T((2, 3)), T((2, 3)), make=_remainder_values)] + INT_DIV[:1], dtypes=FLOATS, grad=False, gradcheck=False,
   backward_error=(RuntimeError, "derivative for aten::floor_divide is not implemented"))
op("remainder", lambda m, x, y: m.remainder(x, y),
   [S(T((2, 3)), T((2, 3)), make=_remainder_values), S(T((2, 3)), T((3,)), make=_remainder_bcast),
    S(T((2, 3)), 1.5, make=_remainder_scalar)] + INT_DIV,
   dtypes=FLOATS,
   bad=[Bad((T((2,), dtype="int64"), T((2,), dtype="int64", values=(0, 1))), RuntimeError,
            "ZeroDivisionError", dtype="int64"),
        Bad((T((2,), dtype="bool"), True), NotImplementedError,
            "\"remainder_cpu\" not implemented for 'Bool'", dtype="bool")])
op("__mod__", lambda m, x, y: x % y,
   [S(T((2, 3)), T((2, 3)), make=_remainder_values)] + INT_DIV[:1], dtypes=FLOATS)
op("__rmod__", lambda m, x: 2 % x, [S(T((2, 3)), make=_rremainder)], dtypes=FLOATS,
   grad=False, gradcheck=False,
   backward_error=(RuntimeError, "derivative for aten::remainder is not implemented"))
op("fmod", lambda m, x, y: m.fmod(x, y),
   [S(T((2, 3)), T((2, 3)), make=_remainder_values), S(T((2, 3)), T((3,)), make=_remainder_bcast),
    S(T((2, 3)), 1.5, make=_remainder_scalar), S(T((2, 3)), -1.5, make=_remainder_scalar),
    S(T(()), T((2, 3)), make=lambda rng: (np.array(2.5), _rremainder(rng)[0])),
    S(T((0, 3)), T((3,), **NONZERO)), S(T((2, 3), dtype="int64", low=-7, high=7), 2.5)]
   + INT_DIV,
   dtypes=FLOATS,
   bad=[Bad((T((2,), dtype="int64"), T((2,), dtype="int64", values=(0, 1))), RuntimeError,
            "ZeroDivisionError", dtype="int64"),
        Bad((T((2,), dtype="int64"), 0), RuntimeError, "ZeroDivisionError", dtype="int64"),
        Bad((T((2,), dtype="bool"), T((2,), dtype="bool")), NotImplementedError,
            "\"fmod_cpu\" not implemented for 'Bool'", dtype="bool"),
        Bad((2, T((2,))), TypeError, "fmod() received an invalid combination of arguments")])
op("pow_scalar", lambda m, x, e: m.pow(x, e),
   [S(T((2, 3)), 2), S(T((2, 3)), 3), S(T((2, 3), **POS), 0.5), S(T((2, 3), **POS), -1.5),
    S(T((2, 3)), 0), S(T(()), 2.0), S(T((0, 2)), 2)],
   dtypes=FLOATS, third_order=True)
op("pow_int", lambda m, x, e: x ** e, [S(T((2, 3)), 2), S(T((2, 3)), 0)], dtypes=INTS,
   bad=[Bad((T((2,), dtype="int64"), -1), RuntimeError,
            "Integers to negative integer powers are not allowed", dtype="int64")])
op("pow_tensor", lambda m, x, e: m.pow(x, e),
   [S(T((2, 3), **POS), T((2, 3))), S(T((2, 3), **POS), T((3,))), S(T((), **POS), T((2,))),
    S(T((2, 1), **POS), T((1, 3), low=-2, high=2))],
   dtypes=FLOATS, third_order=True)
op("__pow__", lambda m, x, e: x ** e, [S(T((2, 3), **POS), T((2, 3))), S(T((2, 3)), 2)],
   dtypes=FLOATS)
op("__rpow__", lambda m, x: 2 ** x, [S(T((2, 3))), S(T(()))], dtypes=FLOATS, third_order=True)
op("pow_scalar_base", lambda m, x: m.pow(1.5, x), [S(T((2, 3)))], dtypes=FLOATS)
op("neg", lambda m, x: m.neg(x), unary_shapes(), dtypes=FLOATS + INTS,
   bad=[Bad((T((2,), dtype="bool"),), RuntimeError,
            "Negation, the `-` operator, on a bool tensor is not supported", dtype="bool")])
op("__neg__", lambda m, x: -x, [S(T((2, 3)))], dtypes=FLOATS + INTS)
op("abs", lambda m, x: m.abs(x), unary_shapes(**NONZERO), dtypes=FLOATS + INTS)
op("__abs__", lambda m, x: abs(x), [S(T((2, 3), **NONZERO))], dtypes=FLOATS + INTS)
op("sign", lambda m, x: m.sign(x), unary_shapes(), dtypes=FLOATS + INTS)
op("sgn", lambda m, x: x.sgn(), unary_shapes(), dtypes=FLOATS + INTS)

# unary math -----------------------------------------------------------------------------
op("exp", lambda m, x: m.exp(x), unary_shapes(), dtypes=FLOATS + INTS, third_order=True)
op("log", lambda m, x: m.log(x), unary_shapes(**POS), dtypes=FLOATS + INTS, third_order=True)
op("log10", lambda m, x: m.log10(x), unary_shapes(**POS), dtypes=FLOATS + INTS,
   third_order=True)
op("log1p", lambda m, x: m.log1p(x), unary_shapes(low=-0.8, high=3.0),
   dtypes=FLOATS + INTS, third_order=True)
op("Tensor.log10", lambda m, x: x.log10(), [S(T((2, 3), **POS))])
op("Tensor.log1p", lambda m, x: x.log1p(), [S(T((2, 3), low=-0.8, high=3.0))])
op("sqrt", lambda m, x: m.sqrt(x), unary_shapes(**POS), dtypes=FLOATS + INTS,
   third_order=True)
op("sin", lambda m, x: m.sin(x), unary_shapes(), dtypes=FLOATS + INTS, third_order=True)
op("cos", lambda m, x: m.cos(x), unary_shapes(), dtypes=FLOATS + INTS)
op("tanh", lambda m, x: m.tanh(x), unary_shapes(), dtypes=FLOATS + INTS, third_order=True)
op("sigmoid", lambda m, x: m.sigmoid(x), unary_shapes(), dtypes=FLOATS + INTS,
   third_order=True)
op("relu", lambda m, x: m.relu(x), unary_shapes(**NONZERO), dtypes=FLOATS + INTS)
op("Tensor.exp", lambda m, x: x.exp(), [S(T((2, 3)))])
op("Tensor.relu", lambda m, x: x.relu(), [S(T((2, 3), **NONZERO))])

# comparisons and logic (forward only) -----------------------------------------------------
CMP = pairs(shapes=BROADCAST_PAIRS[:6]) + [S(T((2, 3)), 0.5), S(T((2, 3)), 1),
                                          S(T((2, 3)), T((2, 3), dtype="int64"))]
for _name, _fn in [("eq", lambda m, x, y: m.eq(x, y)), ("ne", lambda m, x, y: m.ne(x, y)),
                   ("lt", lambda m, x, y: m.lt(x, y)), ("le", lambda m, x, y: m.le(x, y)),
                   ("gt", lambda m, x, y: m.gt(x, y)), ("ge", lambda m, x, y: m.ge(x, y)),
                   ("__eq__", lambda m, x, y: x == y), ("__lt__", lambda m, x, y: x < y),
                   ("__ge__", lambda m, x, y: x >= y)]:
    op(_name, _fn, CMP, dtypes=ALL, grad=False, gradcheck=False,
       bad=[Bad((T((2, 3)), T((4,))), RuntimeError, "must match the size of tensor b (4)")])
for _name, _fn in [("logical_and", lambda m, x, y: m.logical_and(x, y)),
                   ("logical_or", lambda m, x, y: m.logical_or(x, y)),
                   ("logical_xor", lambda m, x, y: m.logical_xor(x, y))]:
    op(_name, _fn, pairs(shapes=BROADCAST_PAIRS[:6]) + [S(T((2, 3)), T((3,), dtype="bool"))],
       dtypes=ALL, grad=False, gradcheck=False)
op("logical_not", lambda m, x: m.logical_not(x), unary_shapes(), dtypes=ALL, grad=False,
   gradcheck=False)

# where, clamp, maximum, minimum -------------------------------------------------------------
COND = dict(dtype="bool")
op("where", lambda m, c, x, y: m.where(c, x, y),
   [S(T((2, 3), **COND), T((2, 3)), T((2, 3))), S(T((2, 3), **COND), T((3,)), T((2, 1))),
    S(T((3,), **COND), T((2, 3)), T(())), S(T((), **COND), T((2,)), T((2,))),
    S(T((2, 3), **COND), T((2, 3)), 0.5), S(T((2, 3), **COND), -1.5, T((3,))),
    S(T((2, 3), **COND), 1.0, 0.0), S(T((0, 3), **COND), T((3,)), T((0, 3))),
    S(T((2, 3), **COND), T((2, 3)), T((2, 3), dtype="int64")),
    S(T((2, 3), **COND), T((2, 3), grad=False), T((3,)))],
   dtypes=ALL,
   bad=[Bad((T((2,)), T((2,)), T((2,))), RuntimeError,
            "where expected condition to be a boolean tensor")])
op("Tensor.where", lambda m, x, c, y: x.where(c, y), [S(T((2, 3)), T((2, 3), **COND), T((3,)))])
CLAMP_AWAY = dict(away=(-0.5, 1.0), margin=0.1)
op("clamp", lambda m, x, **kw: m.clamp(x, **kw),
   [S(T((2, 3), **CLAMP_AWAY), min=-0.5), S(T((2, 3), **CLAMP_AWAY), max=1.0),
    S(T((2, 3), **CLAMP_AWAY), min=-0.5, max=1.0), S(T((), **CLAMP_AWAY), min=-0.5, max=1.0),
    S(T((0, 2)), min=0.0)],
   dtypes=FLOATS + INTS,
   bad=[Bad((T((2,)),), RuntimeError, "At least one of 'min' or 'max' must not be None")])
op("clamp_tensor", lambda m, x, lo, hi: m.clamp(x, lo, hi),
   [S(T((2, 3), low=-1, high=1, distinct=True), T((3,), low=-3, high=-1.2),
      T((2, 1), low=1.2, high=3))],
   dtypes=FLOATS)
op("clamp_tensor_min", lambda m, x, lo: m.clamp(x, min=lo),
   [S(T((2, 3), low=-3, high=3, distinct=True, margin=0.3), T((3,), away=(-3, -2.4, -1.8,
                                                                          -1.2, -0.6, 0, 0.6,
                                                                          1.2, 1.8, 2.4, 3),
                                                           margin=0.15))],
   dtypes=FLOATS)
op("Tensor.clamp", lambda m, x: x.clamp(-0.5, 1.0), [S(T((2, 3), **CLAMP_AWAY))])
MAXMIN = [S(T((2, 3), distinct=True), T((2, 3), distinct=True, low=-2.9, high=3.1)),
          S(T((2, 3), distinct=True), T((3,), low=-2.95, high=2.95, distinct=True)),
          S(T((), low=0.5, high=1), T((), low=-1, high=0)),
          S(T((2, 3), distinct=True, low=-2.9, high=2.6), T((2, 3), dtype="int64", low=-3,
                                                              high=3))]
op("maximum", lambda m, x, y: m.maximum(x, y), MAXMIN, dtypes=FLOATS + INTS,
   bad=[Bad((T((2,)), 1.0), TypeError, "must be Tensor")])
op("minimum", lambda m, x, y: m.minimum(x, y), MAXMIN, dtypes=FLOATS + INTS,
   bad=[Bad((T((2,)), 1.0), TypeError, "must be Tensor")])

# reductions ------------------------------------------------------------------------------
R = [(), (3,), (2, 3), (2, 1, 3)]
op("sum", lambda m, x, *a, **kw: m.sum(x, *a, **kw),
   [S(T(s)) for s in R] + [S(T((2, 3)), 1), S(T((2, 3)), -1, keepdim=True),
                           S(T((2, 1, 3)), (0, 2)), S(T((2, 1, 3)), (0, -1), keepdim=True),
                           S(T(()), 0), S(T((0, 3))), S(T((0, 3)), 0), S(T((2, 3)), ()),
                           S(T((2, 3)), dtype=None)],
   dtypes=ALL,
   bad=[Bad((T((2, 3)), 2), IndexError, "Dimension out of range"),
        Bad((T((2, 3)), (0, 0)), RuntimeError, "appears multiple times in the list of dims")])
op("Tensor.sum", lambda m, x, *a, **kw: x.sum(*a, **kw),
   [S(T((2, 3))), S(T((2, 3)), 0, keepdim=True)], dtypes=ALL)
op("mean", lambda m, x, *a, **kw: m.mean(x, *a, **kw),
   [S(T(s)) for s in R] + [S(T((2, 3)), 1), S(T((2, 3)), -1, keepdim=True),
                           S(T((2, 1, 3)), (0, 2)), S(T((2, 1, 3)), (0, 2), keepdim=True),
                           S(T(()), 0), S(T((0, 3))), S(T((0, 3)), 1), S(T((2, 3)), []),
                           S(T((2, 3)), dtype=None)],
   third_order=True,
   bad=[Bad((T((2, 3), dtype="int64"),), RuntimeError, "mean(): could not infer output dtype",
            dtype="int64"),
        Bad((T((2, 3)), 3), IndexError, "Dimension out of range")])
op("prod", lambda m, x, *a, **kw: m.prod(x, *a, **kw),
   [S(T(s, low=-2, high=2)) for s in R] + [
       S(T((2, 3), low=-2, high=2), 1), S(T((2, 3), low=-2, high=2), 0, keepdim=True),
       S(T((2, 3), values=(1.5, 0.0, -2.0, 0.5, 1.25, -0.75))),
       S(T((2, 3), values=(1.5, 0.0, -2.0, 0.5, 0.0, -0.75)), 1),
       S(T((2, 2), values=(0.0, 0.0, 2.0, 3.0))), S(T((0, 3))), S(T((0, 3)), 1)],
   dtypes=ALL, third_order=True,
   bad=[Bad((T((2, 3)), (0, 1)), TypeError, "prod() received an invalid combination of arguments")])
MAXIN = dict(distinct=True)
op("max", lambda m, x: m.max(x), [S(T(s, **MAXIN)) for s in R], dtypes=ALL,
   bad=[Bad((T((0, 3)),), RuntimeError, "Expected reduction dim to be specified for "
            "input.numel() == 0")])
op("max_dim", lambda m, x, *a, **kw: m.max(x, *a, **kw),
   [S(T((2, 3), **MAXIN), 1), S(T((2, 3), **MAXIN), 0, keepdim=True),
    S(T((2, 1, 3), **MAXIN), -1), S(T((), **MAXIN), 0), S(T((0, 3), **MAXIN), 1)],
   dtypes=ALL,
   bad=[Bad((T((2, 3)), 2), IndexError, "Dimension out of range"),
        Bad((T((0, 3)), 0), IndexError, "Expected reduction dim 0 to have non-zero size")])
op("Tensor.max", lambda m, x: x.max(0)[0], [S(T((2, 3), **MAXIN))])
op("min", lambda m, x: m.min(x), [S(T(s, **MAXIN)) for s in R], dtypes=ALL)
op("min_dim", lambda m, x, *a, **kw: m.min(x, *a, **kw),
   [S(T((2, 3), **MAXIN), 1), S(T((2, 3), **MAXIN), 0, keepdim=True), S(T((), **MAXIN), 0)],
   dtypes=ALL)
op("max_ties", lambda m, x: m.max(x), [S(T((2, 2), values=(1.0, 2.0, 2.0, -1.0)))],
   gradcheck=False)
op("amax", lambda m, x, *a, **kw: m.amax(x, *a, **kw),
   [S(T((2, 3), **MAXIN)), S(T((2, 3), **MAXIN), 1), S(T((2, 1, 3), **MAXIN), (0, 2)),
    S(T((2, 3), **MAXIN), -1, keepdim=True), S(T((), **MAXIN)),
    S(T((2, 2), values=(1.0, 2.0, 2.0, -1.0)), 1), S(T((0, 3)), 1)],
   dtypes=FLOATS + INTS,
   bad=[Bad((T((0, 3)), 0), IndexError, "Expected reduction dim 0 to have non-zero size")])
op("amin", lambda m, x, *a, **kw: m.amin(x, *a, **kw),
   [S(T((2, 3), **MAXIN)), S(T((2, 3), **MAXIN), 1), S(T((2, 1, 3), **MAXIN), (0, 2)),
    S(T((2, 3), **MAXIN), 0, keepdim=True)],
   dtypes=FLOATS + INTS)
for _name, _fn in [("argmax", lambda m, x, *a, **kw: m.argmax(x, *a, **kw)),
                   ("argmin", lambda m, x, *a, **kw: m.argmin(x, *a, **kw))]:
    op(_name, _fn,
       [S(T((2, 3), **MAXIN)), S(T((2, 3), **MAXIN), 1), S(T((2, 3), **MAXIN), 0, keepdim=True),
        S(T((), **MAXIN)), S(T((2, 1, 3), **MAXIN), -1)],
       dtypes=FLOATS + INTS, grad=False, gradcheck=False,
       bad=[Bad((T((2, 3)), 2), IndexError, "Dimension out of range")])

# matrix products -------------------------------------------------------------------------
op("matmul", lambda m, x, y: m.matmul(x, y),
   [S(T((3,)), T((3,))), S(T((2, 3)), T((3,))), S(T((3,)), T((3, 2))), S(T((2, 3)), T((3, 2))),
    S(T((2, 2, 3)), T((3, 2))), S(T((2, 2, 3)), T((3,))), S(T((3,)), T((2, 3, 2))),
    S(T((2, 3)), T((2, 3, 2))), S(T((2, 1, 2, 3)), T((3, 3, 2))), S(T((2, 2, 3)), T((2, 3, 2))),
    S(T((1, 2, 3)), T((2, 3, 2))), S(T((2, 2, 3)), T((1, 3, 2))), S(T((0, 3)), T((3, 2))),
    S(T((2, 0)), T((0, 2))),
    # which operands require grad decides whether PyTorch folds batches into one mm
    S(T((2, 2, 3)), T((3, 2), grad=False)), S(T((2, 3), grad=False), T((2, 3, 2))),
    S(T((3,), grad=False), T((2, 3, 2))), S(T((1, 2, 3), grad=False), T((2, 3, 2))),
    S(T((2, 2, 3), grad=False), T((1, 3, 2)))],
   dtypes=FLOATS + INTS, third_order=True,
   bad=[Bad((T(()), T((3,))), RuntimeError, "both arguments to matmul need to be at least 1D"),
        Bad((T((2, 3)), T((2, 3))), RuntimeError, "shapes cannot be multiplied"),
        Bad((T((2, 2, 3)), T((3, 2, 2))), RuntimeError, "must match the size of tensor b"),
        Bad((T((2, 2, 3)), T((2, 3, 2), dtype="float64")), RuntimeError,
            "expected scalar type Float but found Double"),
        Bad((T((2, 2, 3)), T((3, 2), dtype="float64")), RuntimeError,
            "expected m1 and m2 to have the same dtype, but got: float != double")])
op("__matmul__", lambda m, x, y: x @ y, [S(T((2, 3)), T((3, 2))), S(T((2, 2, 3)), T((3,)))])
op("mm", lambda m, x, y: m.mm(x, y), [S(T((2, 3)), T((3, 2))), S(T((1, 1)), T((1, 3))),
                                       S(T((2, 0)), T((0, 3)))],
   dtypes=FLOATS + INTS,
   bad=[Bad((T((2, 3)), T((2, 3))), RuntimeError,
            "mat1 and mat2 shapes cannot be multiplied (2x3 and 2x3)"),
        Bad((T((3,)), T((3, 2))), RuntimeError, "self must be a matrix"),
        Bad((T((2, 3)), T((3, 2), dtype="float64")), RuntimeError,
            "expected m1 and m2 to have the same dtype")])
op("bmm", lambda m, x, y: m.bmm(x, y), [S(T((2, 2, 3)), T((2, 3, 2))), S(T((1, 1, 2)), T((1, 2, 1)))],
   dtypes=FLOATS + INTS,
   bad=[Bad((T((2, 2, 3)), T((3, 3, 2))), RuntimeError, "Expected size for first two dimensions"),
        Bad((T((2, 2, 3)), T((2, 3, 2), dtype="float64")), RuntimeError,
            "expected scalar type Float but found Double"),
        Bad((T((2, 3)), T((2, 3, 2))), RuntimeError, "batch1 must be a 3D tensor")])
op("mv", lambda m, x, y: m.mv(x, y), [S(T((2, 3)), T((3,))), S(T((1, 1)), T((1,)))],
   dtypes=FLOATS + INTS,
   bad=[Bad((T((2, 3)), T((2,))), RuntimeError, "size mismatch"),
        Bad((T((2, 3)), T((3,), dtype="float64")), RuntimeError,
            "addmv input tensors must have the same dtype, but got Double, Float, and Double")])
op("dot", lambda m, x, y: m.dot(x, y), [S(T((3,)), T((3,))), S(T((0,)), T((0,)))],
   dtypes=FLOATS + INTS,
   bad=[Bad((T((3,)), T((2,))), RuntimeError, "inconsistent tensor size"),
        Bad((T((2, 3)), T((3,))), RuntimeError, "1D tensors expected, but got 2D and 1D tensors"),
        Bad((T((3,)), T((3,), dtype="float64")), RuntimeError,
            "dot : expected both vectors to have same dtype, but found Float and Double")])

# views and shapes ------------------------------------------------------------------------
op("view", lambda m, x, *s: x.view(*s),
   [S(T((2, 3)), 3, 2), S(T((2, 3)), -1), S(T((2, 3)), (1, 6)), S(T(()), 1), S(T((1,)), ()),
    S(T((0, 3)), 3, 0), S(T((2, 3)), 2, -1, 1)],
   dtypes=ALL,
   bad=[Bad((T((2, 3)), 4), RuntimeError, "shape '[4]' is invalid for input of size 6"),
        Bad((T((2, 3)), -1, -1), RuntimeError, "only one dimension can be inferred")])
op("view_noncontiguous", lambda m, x: x.t().view(6), [],
   bad=[Bad((T((2, 3)),), RuntimeError, "view size is not compatible with input tensor's size "
            "and stride")])
op("reshape", lambda m, x, *s: m.reshape(x, s),
   [S(T((2, 3)), 3, 2), S(T((2, 3)), -1), S(T(()), 1, 1), S(T((0, 2)), -1, 2)], dtypes=ALL)
op("reshape_copy", lambda m, x: x.t().reshape(6), [S(T((2, 3)))], dtypes=ALL)
op("transpose", lambda m, x, a, b: m.transpose(x, a, b),
   [S(T((2, 3)), 0, 1), S(T((2, 1, 3)), -1, 0), S(T((2, 3)), 1, 1), S(T(()), 0, -1)],
   dtypes=ALL,
   bad=[Bad((T((2, 3)), 0, 2), IndexError, "Dimension out of range")])
op("flip", lambda m, x, d: m.flip(x, d),
   [S(T((2, 3)), (0,)), S(T((2, 3)), (0, -1)), S(T((2, 1, 3)), [2, 0]),
    S(T(()), ()), S(T(()), (0,)), S(T((0, 3)), (1,)), S(T((2, 3)), ())],
   dtypes=ALL,
   bad=[Bad((T((2, 3)), (0, 0)), RuntimeError, "dim 0 appears multiple times in the list of dims"),
        Bad((T((2, 3)), (2,)), IndexError, "Dimension out of range"),
        Bad((T((2, 3)), 1.0), TypeError, "must be tuple of ints, not float"),
        Bad((T((2, 3)), 1), TypeError, "must be tuple of ints, not int")])
op("Tensor.flip", lambda m, x, *d: x.flip(*d),
   [S(T((2, 3)), 0), S(T((2, 3)), 0, 1), S(T((2, 3)), (1, 0))], dtypes=ALL,
   bad=[Bad((T((2, 3)),), TypeError, "flip() missing 1 required positional arguments")])
op("permute", lambda m, x, *d: x.permute(*d),
   [S(T((2, 1, 3)), 2, 0, 1), S(T((2, 1, 3)), (1, 2, 0)), S(T((2, 3)), -1, 0), S(T(()), ())],
   dtypes=ALL,
   bad=[Bad((T((2, 3)), 0), RuntimeError, "number of dimensions in the tensor input does not "
            "match the length of the desired ordering of dimensions"),
        Bad((T((2, 3)), 0, 0), RuntimeError, "permute(): duplicate dims are not allowed.")])
op("t", lambda m, x: m.t(x), [S(T((2, 3))), S(T((3,))), S(T(()))], dtypes=ALL,
   bad=[Bad((T((2, 1, 3)),), RuntimeError, "t() expects a tensor with <= 2 dimensions, but "
            "self is 3D")])
op("T", lambda m, x: x.T, [S(T((2, 3))), S(T((1, 3)))], dtypes=ALL)
op("mT", lambda m, x: x.mT, [S(T((2, 3))), S(T((2, 1, 3)))], dtypes=ALL,
   bad=[Bad((T((3,)),), RuntimeError, "tensor.mT is only supported on matrices or batches of "
            "matrices. Got 1-D tensor.")])
op("squeeze", lambda m, x, *d: x.squeeze(*d),
   [S(T((2, 1, 3))), S(T((1, 1))), S(T((2, 1, 3)), 1), S(T((2, 1, 3)), 0), S(T((2, 1, 3)), -2),
    S(T((1, 2, 1)), (0, 2)), S(T(())), S(T(()), 0)],
   dtypes=ALL,
   bad=[Bad((T((2, 1)), 2), IndexError, "Dimension out of range")])
op("unsqueeze", lambda m, x, d: x.unsqueeze(d),
   [S(T((2, 3)), 0), S(T((2, 3)), 2), S(T((2, 3)), -1), S(T(()), 0)], dtypes=ALL,
   bad=[Bad((T((2, 3)), 3), IndexError, "Dimension out of range")])
op("expand", lambda m, x, *s: x.expand(*s),
   [S(T((3,)), 2, 3), S(T((2, 1)), 2, 4), S(T((2, 1)), -1, 3), S(T(()), 2, 2),
    S(T((1, 3)), (2, 2, 3)), S(T((1,)), 0)],
   dtypes=ALL,
   bad=[Bad((T((2, 3)), 3, 3), RuntimeError, "The expanded size of the tensor (3) must match "
            "the existing size (2) at non-singleton dimension 0"),
        Bad((T((2, 3)), 3), RuntimeError, "the number of sizes provided (1) must be greater or "
            "equal to the number of dimensions in the tensor (2)")])
op("narrow", lambda m, x, d, s, n: x.narrow(d, s, n),
   [S(T((3, 4)), 0, 1, 2), S(T((3, 4)), 1, 0, 4), S(T((3, 4)), -1, -2, 1), S(T((3, 4)), 0, 3, 0)],
   dtypes=ALL,
   bad=[Bad((T((3, 4)), 0, 2, 2), RuntimeError, "start (2) + length (2) exceeds dimension size "
            "(3).")])
op("select", lambda m, x, d, i: x.select(d, i),
   [S(T((3, 4)), 0, 1), S(T((3, 4)), 1, -1), S(T((3,)), 0, 2)], dtypes=ALL,
   bad=[Bad((T((3, 4)), 0, 3), IndexError, "index 3 out of range for tensor of size [3, 4] at "
            "dimension 0"),
        Bad((T(()), 0, 0), IndexError, "select() cannot be applied to a 0-dim tensor.")])
op("flatten", lambda m, x, *a: x.flatten(*a),
   [S(T((2, 1, 3))), S(T((2, 1, 3)), 1), S(T((2, 1, 3)), 0, 1), S(T(())), S(T((2, 3)), 1, 1),
    S(T((0, 3)))],
   dtypes=ALL,
   bad=[Bad((T((2, 1, 3)), 2, 1), RuntimeError, "flatten() has invalid args: start_dim cannot "
            "come after end_dim")])
op("unflatten", lambda m, x, d, s: x.unflatten(d, s),
   [S(T((2, 6)), 1, (2, 3)), S(T((2, 6)), -1, (3, -1)), S(T((6,)), 0, (1, 6))], dtypes=ALL,
   bad=[Bad((T((2, 6)), 1, (4, 2)), RuntimeError, "unflatten: Provided sizes [4, 2] don't "
            "multiply up to the size of dim 1 (6) in the input tensor")])
op("unbind", lambda m, x, *a: m.unbind(x, *a),
   [S(T((2, 3))), S(T((2, 3)), -1), S(T((3,)), 0), S(T((2, 0)), 1)], dtypes=ALL,
   bad=[Bad((T(()),), IndexError, "Dimension specified as 0 but tensor has no dimensions"),
        Bad((T((2, 3)), 2), IndexError, "Dimension out of range")])
op("split", lambda m, x, s, *a: m.split(x, s, *a),
   [S(T((5, 2)), 2), S(T((5, 2)), 5), S(T((2, 5)), 2, 1), S(T((5, 2)), [1, 4]),
    S(T((2, 5)), [2, 0, 3], -1), S(T((0, 2)), 2), S(T((3,)), 1)], dtypes=ALL,
   bad=[Bad((T((4,)), [1, 2]), RuntimeError, "split_with_sizes expects split_sizes to sum "
            "exactly to 4 (input tensor's size at dimension 0), but got split_sizes=[1, 2]"),
        Bad((T((4,)), -1), RuntimeError, "split expects split_size be non-negative, but got "
            "split_size=-1"),
        Bad((T((4,)), 0), RuntimeError, "split_size can only be 0 if dimension size is 0")])
op("chunk", lambda m, x, n, *a: x.chunk(n, *a),
   [S(T((5, 2)), 2), S(T((6,)), 4), S(T((2, 5)), 3, -1), S(T((2, 3)), 5, 1),
    S(T((0, 2)), 2)], dtypes=ALL,
   bad=[Bad((T((4,)), 0), RuntimeError, "chunk expects `chunks` to be greater than 0, got: 0")])
op("movedim", lambda m, x, s, d: m.movedim(x, s, d),
   [S(T((2, 3, 4)), 0, 2), S(T((2, 3, 4)), (0, 1), (2, 0)), S(T((2, 3, 4)), -1, 0),
    S(T((2, 3)), [], [])], dtypes=ALL,
   bad=[Bad((T((2, 3, 4)), (0, 1), (2,)), RuntimeError, "movedim: Invalid source or "
            "destination dims: source ([0, 1] dims) should contain the same number of dims as "
            "destination ([2] dims)"),
        Bad((T((2, 3, 4)), (0, 0), (1, 2)), RuntimeError,
            "movedim: repeated dim in `source` ([0, 0])")])
op("getitem", lambda m, x, i: x[i],
   [S(T((3, 4)), slice(1, None)), S(T((3, 4)), 1), S(T((3, 4)), (slice(None), slice(None, None, 2))),
    S(T((3, 4)), (Ellipsis, 1)), S(T((3, 4)), None), S(T((3, 4)), (1, slice(None, 2))),
    S(T((3, 4)), (slice(None), None, -1)), S(T((3, 4)), slice(-2, None)),
    S(T((3, 4)), slice(5, None))],
   dtypes=ALL,
   bad=[Bad((T((3, 4)), 3), IndexError, "index 3 is out of bounds for dimension 0 with size 3"),
        Bad((T((3, 4)), (0, 0, 0)), IndexError, "too many indices for tensor of dimension 2")])
op("clone", lambda m, x: x.clone(), unary_shapes(), dtypes=ALL)
op("contiguous", lambda m, x: x.t().contiguous(), [S(T((2, 3))), S(T((3,)))], dtypes=ALL)
op("contiguous_noop", lambda m, x: x.contiguous(), [S(T((2, 3)))], dtypes=ALL)
op("to_float64", lambda m, x: x.to(m.float64), [S(T((2, 3))), S(T(()))], dtypes=ALL)
# float64 -> float32 loses the precision finite differences need: no gradcheck
op("to_float32", lambda m, x: x.to(m.float32), [S(T((2, 3)))], dtypes=ALL, gradcheck=False)
op("to_int64", lambda m, x: x.to(m.int64), [S(T((2, 3)))], dtypes=FLOATS, grad=False,
   gradcheck=False)
op("sum_to_size", lambda m, x, *s: x.sum_to_size(*s),
   [S(T((2, 3)), 1, 3), S(T((2, 3)), (2, 1)), S(T((2, 3)), 3), S(T((2, 3)), 2, 3),
    S(T((2, 1, 3)), 1, 1)],
   dtypes=FLOATS + INTS,
   bad=[Bad((T((2, 3)), 2), RuntimeError, "size {[2]} is not expandable to size {[2, 3]}.")])

# convolution, pooling, normalization --------------------------------------------------------
def _conv2d(m, *a, **kw):
    return m.nn.functional.conv2d(*a, **kw)


op("conv2d", _conv2d,
   [S(T((2, 2, 4, 4)), T((3, 2, 3, 3)), T((3,))),
    S(T((2, 2, 5, 5)), T((4, 2, 3, 3)), None, stride=2, padding=1),
    S(T((2, 4, 5, 6)), T((4, 2, 2, 3)), T((4,)), stride=(2, 1), padding=(1, 0), groups=2),
    S(T((2, 2, 6, 6)), T((2, 2, 2, 2)), dilation=2, padding=1),
    S(T((1, 2, 4, 5)), T((2, 2, 2, 3)), T((2,)), padding="same"),
    S(T((1, 2, 4, 4)), T((2, 2, 3, 3)), padding="valid"),
    S(T((2, 4, 4)), T((3, 2, 3, 3)), T((3,)), padding=1),
    S(T((0, 2, 4, 4)), T((3, 2, 3, 3)), T((3,))),
    # small enough for gradgradcheck
    S(T((1, 1, 3, 3)), T((1, 1, 2, 2)), T((1,))),
    S(T((1, 1, 3, 3)), T((1, 1, 2, 2)), stride=2, padding=1),
    S(T((1, 1, 3, 3)), T((1, 1, 2, 2)), dilation=2),
    S(T((1, 2, 2, 2)), T((2, 1, 1, 2)), groups=2),
    S(T((1, 1, 4, 4)), T((2, 1, 2, 2), grad=False), T((2,)), stride=2),
    # fewer output positions than channels: the columns are laid out channels first
    S(T((1, 2, 3, 3)), T((6, 2, 2, 2)), T((6,))),
    S(T((1, 4, 4, 4)), T((8, 2, 3, 3)), T((8,)), stride=2, padding=1, groups=2),
    S(T((1, 2, 5, 5)), T((6, 2, 2, 2)), stride=2, dilation=2),
    # 'same' with an even kernel at an even dilation (symmetric), padding past the input,
    # no input channels (no output channels either, as in PyTorch), an empty batch
    S(T((1, 2, 5, 5)), T((2, 2, 2, 2)), padding="same", dilation=2),
    S(T((1, 1, 2, 2)), T((1, 1, 3, 3)), T((1,)), padding=3),
    S(T((1, 0, 4, 4)), T((3, 0, 3, 3)), T((3,))),
    S(T((0, 2, 4, 4)), T((3, 2, 3, 3)), stride=2, padding="valid")],
   bad=[Bad((T((2, 2, 4, 4)), T((3, 2))), RuntimeError,
            "weight should have at least three dimensions"),
        Bad((T((2, 4)), T((3, 2, 3, 3))), RuntimeError,
            "Expected 3D (unbatched) or 4D (batched) input to conv2d, but got input of size: "
            "[2, 4]"),
        Bad((T((2, 2, 4, 4)), T((3, 3, 3, 3))), RuntimeError,
            "expected input[2, 2, 4, 4] to have 3 channels, but got 2 channels instead"),
        Bad((T((2, 4, 4, 4)), T((3, 2, 3, 3))), RuntimeError,
            "Given groups=2, expected weight to be divisible by 2 at dimension 0",
            dict(groups=2)),
        Bad((T((2, 2, 4, 4)), T((3, 2, 5, 5))), RuntimeError,
            "Kernel size can't be greater than actual input size"),
        Bad((T((2, 2, 4, 4)), T((3, 2, 3, 3))), RuntimeError,
            "negative padding is not supported", dict(padding=-1)),
        Bad((T((2, 2, 4, 4)), T((3, 2, 3, 3))), RuntimeError,
            "non-positive stride is not supported", dict(stride=0)),
        Bad((T((2, 2, 4, 4)), T((3, 2, 3, 3))), RuntimeError,
            "non-positive groups is not supported", dict(groups=0)),
        Bad((T((2, 2, 4, 4)), T((3, 2, 3, 3)), T((2,))), RuntimeError,
            "expected bias to be 1-dimensional with 3 elements, but got bias of size [2]"),
        Bad((T((2, 2, 4, 4)), T((3, 2, 3, 3), dtype="float64")), RuntimeError,
            "should be the same or input should be a MKLDNN tensor"),
        Bad((T((2, 2, 4, 4)), T((3, 2, 3, 3))), RuntimeError,
            "padding='same' is not supported for strided convolutions",
            dict(padding="same", stride=2)),
        Bad((T((2, 2, 4, 4)), T((3, 2, 3, 3))), RuntimeError, "Invalid padding string: 'full'",
            dict(padding="full")),
        Bad((T((2, 2, 4, 4)), T((3, 2, 3, 3))), RuntimeError,
            "expected stride to be a single integer value or a list of 2 values",
            dict(stride=(1, 1, 1))),
        Bad((T((2, 2, 4, 4)), T((3, 2, 3, 3))), RuntimeError,
            "dilation should be greater than zero, but got [0, 0]", dict(dilation=0),
            dtype="float64"),
        Bad((T((2, 2, 4, 4)), T((3, 2, 3, 3))), RuntimeError,
            "non-positive dilation is not supported", dict(dilation=(1, 0))),
        Bad((T((2, 2, 4, 4)), T((3, 2, 3, 3))), RuntimeError,
            "dilation should be greater than zero", dict(dilation=-1)),
        Bad((T((2, 4, 4, 4)), T((2, 1, 3, 3))), RuntimeError,
            "Given groups=4, expected weight to be at least 4 at dimension 0, but got weight "
            "of size [2, 1, 3, 3] instead", dict(groups=4)),
        Bad((T((2, 2, 4, 4)), T((3, 2, 3, 3), dtype="float32")), RuntimeError,
            "expected scalar type Double but found Float", dtype="float64"),
        Bad((T((2, 2, 4, 4)), T((3, 2, 3, 3)), T((3,), dtype="float32")), RuntimeError,
            "Input type (double) and bias type (float) should be the same", dtype="float64"),
        Bad((T((2, 2, 4, 4)), T((3, 2, 3, 3)), T((3,), dtype="float64")), RuntimeError,
            "Input type (ember.FloatTensor) and bias type (ember.DoubleTensor) should be the "
            "same or input should be a MKLDNN tensor", dict(padding="same", groups=1)),
        Bad((T((2, 2, 4, 4)), T((3, 2, 3, 3, 3))), RuntimeError,
            "Expected 5-dimensional input for 5-dimensional weight[3, 2, 3, 3, 3], but got "
            "4-dimensional input of size [2, 2, 4, 4] instead", dict(padding="same")),
        Bad((T((2, 2, 4, 4)), T((3, 2, 3, 3))), RuntimeError,
            "dilation cannot broadcast to 2 dimensions", dict(padding="same",
                                                             dilation=(1, 1, 1))),
        Bad((T((2, 2, 4, 4), dtype="bool"), T((3, 2, 3, 3), dtype="bool")),
            NotImplementedError, "\"slow_conv2d_cpu\" not implemented for 'Bool'")])
op("ember.conv2d", lambda m, x, w: m.conv2d(x, w), [S(T((1, 2, 3, 3)), T((2, 2, 2, 2)))])
op("conv1d", lambda m, *a, **kw: m.nn.functional.conv1d(*a, **kw),
   [S(T((2, 2, 5)), T((3, 2, 2)), T((3,)), padding=1),
    S(T((2, 5)), T((3, 2, 3)), stride=2),
    S(T((1, 2, 4)), T((2, 1, 2)), groups=2, dilation=2),
    S(T((1, 1, 5)), T((2, 1, 3)), T((2,)), padding="same"),
    S(T((1, 4, 3)), T((6, 2, 2)), T((6,)), groups=2),
    S(T((1, 1, 5)), T((2, 1, 2)), padding="same", dilation=3)],
   bad=[Bad((T((2, 2, 4, 4)), T((3, 2, 3))), RuntimeError,
            "Expected 2D (unbatched) or 3D (batched) input to conv1d"),
        Bad((T((1, 2, 4)), T((3, 2, 3, 3))), RuntimeError,
            "Expected 4-dimensional input for 4-dimensional weight [3, 2, 3, 3], but got "
            "3-dimensional input of size [1, 2, 4] instead"),
        Bad((T((1, 2, 4)), T((3, 2, 3))), RuntimeError,
            "dilation should be greater than zero, but got [1, 0]", dict(dilation=0),
            dtype="float64")])

DISTINCT = dict(distinct=True)
op("max_pool2d", lambda m, *a, **kw: m.nn.functional.max_pool2d(*a, **kw),
   [S(T((2, 2, 4, 4), **DISTINCT), 2),
    S(T((2, 2, 5, 5), **DISTINCT), 3, stride=2, padding=1),
    S(T((1, 2, 5, 5), **DISTINCT), 2, ceil_mode=True),
    S(T((1, 2, 6, 5), **DISTINCT), 3, 2, 1, ceil_mode=True),
    S(T((2, 2, 6, 5), **DISTINCT), (2, 3), stride=(1, 2), dilation=(2, 1)),
    S(T((2, 2, 4, 4), **DISTINCT), 2, return_indices=True),
    S(T((2, 4, 4), **DISTINCT), 3, 1, 1, return_indices=True),
    S(T((1, 1, 3, 3), **DISTINCT), 2, stride=1),
    S(T((2, 2, 4, 4), low=-20, high=20, **DISTINCT), 2, return_indices=True, dtypes=INTS),
    S(T((0, 2, 4, 4)), 2, return_indices=True)],
   bad=[Bad((T((2, 2, 4, 4)), 2), RuntimeError,
            "pad should be at most half of effective kernel size, but got pad=2, "
            "kernel_size=2 and dilation=1", dict(padding=2)),
        Bad((T((2, 2, 4, 4)), 2), RuntimeError, "stride should not be zero", dict(stride=0)),
        Bad((T((2, 2, 4, 4)), 5), RuntimeError,
            "Given input size: (2x4x4). Calculated output size: (2x0x0). Output size is too "
            "small"),
        Bad((T((4, 4)), 2), RuntimeError,
            "non-empty 3D or 4D (batch mode) tensor expected for input"),
        Bad((T((2, 2, 4, 4)), (2, 2, 2)), RuntimeError,
            "max_pool2d: kernel_size must either be a single int, or a tuple of two ints"),
        Bad((T((2, 2, 4, 4)), 2), RuntimeError,
            "stride should be greater than zero, but got dH: -1 dW: -1", dict(stride=-1)),
        Bad((T((2, 2, 4, 4)), 2), RuntimeError, "pad must be non-negative, but got pad: -1",
            dict(padding=-1)),
        Bad((T((2, 2, 5, 5)), 3), RuntimeError,
            "pad should be smaller than or equal to half of kernel size, but got padW = 2, "
            "padH = 2, kW = 3, kH = 3", dict(dilation=2, padding=2)),
        Bad((T((2, 2, 4, 4)), -1), RuntimeError,
            "pad should be at most half of effective kernel size, but got pad=1, "
            "kernel_size=-1 and dilation=1", dict(padding=1)),
        Bad((T((2, 0, 4, 4)), 2), RuntimeError,
            "Expected 3D or 4D (batch mode) tensor with optional 0 dim batch size for input, "
            "but got:[2, 0, 4, 4]"),
        Bad((T((1, 2, 2, 4, 4)), 2), RuntimeError,
            "non-empty 3D or 4D (batch mode) tensor expected for input"),
        Bad((T((2, 2, 4, 4)), 2), RuntimeError,
            "max_pool2d: stride must either be omitted, a single int, or a tuple of two ints",
            dict(stride=(1, 1, 1))),
        Bad((T((2, 2, 4, 4)), 2), RuntimeError,
            "max_pool2d: dilation must be either a single int, or a tuple of two ints",
            dict(dilation=(1, 1, 1))),
        Bad((T((2, 2, 4, 4)), 2.0), TypeError,
            "max_pool2d(): argument 'kernel_size' (position 2) must be tuple of ints, not "
            "float"),
        Bad((T((2, 2, 4, 4)), 2), TypeError,
            "max_pool2d_with_indices(): argument 'ceil_mode' (position 6) must be bool, not "
            "NoneType", dict(ceil_mode=None, return_indices=True)),
        Bad((T((2, 2, 4, 4)), 2), NotImplementedError,
            "\"max_pool2d\" not implemented for 'Bool'", dtype="bool")])
op("ember.max_pool2d", lambda m, x: m.max_pool2d(x, 2), [S(T((1, 2, 4, 4), **DISTINCT))])
op("avg_pool2d", lambda m, *a, **kw: m.nn.functional.avg_pool2d(*a, **kw),
   [S(T((2, 2, 4, 4)), 2),
    S(T((2, 2, 5, 5)), 3, stride=2, padding=1),
    S(T((2, 2, 5, 5)), 3, stride=2, padding=1, count_include_pad=False),
    S(T((1, 2, 5, 5)), 2, ceil_mode=True),
    S(T((1, 2, 6, 5)), 3, 2, 1, ceil_mode=True, count_include_pad=False),
    S(T((1, 2, 6, 5)), 3, 2, 1, ceil_mode=True),
    S(T((2, 2, 4, 5)), (2, 3), stride=(1, 2), divisor_override=3),
    S(T((2, 4, 4)), 2),
    S(T((1, 1, 3, 3)), 2, stride=1, padding=1),
    # Long inputs: each window's sum divided by its divisor, truncated toward zero
    S(T((2, 2, 5, 5), low=-20, high=20), 3, stride=2, padding=1, dtypes=INTS),
    S(T((1, 2, 6, 5), low=-20, high=20), 3, 2, 1, ceil_mode=True, count_include_pad=False,
      dtypes=INTS),
    S(T((2, 2, 4, 5), low=-20, high=20), (2, 3), stride=(1, 2), divisor_override=3,
      dtypes=INTS),
    S(T((0, 2, 4, 4)), 2)],
   bad=[Bad((T((2, 2, 4, 4)), 2), RuntimeError,
            "pad should be at most half of effective kernel size", dict(padding=2)),
        Bad((T((2, 2, 4, 4)), 2), NotImplementedError,
            "\"avg_pool2d\" not implemented for 'Int'", dtype="int32"),
        Bad((T((2, 2, 4, 4)), 2), RuntimeError, "stride should not be zero", dict(stride=0)),
        Bad((T((2, 2, 4, 4)), 2), RuntimeError, "divisor must be not zero",
            dict(divisor_override=0)),
        Bad((T((4, 4)), (1, 2, 3)), RuntimeError,
            "avg_pool2d: kernel_size must either be a single int, or a tuple of two ints"),
        Bad((T((4,)), 2), IndexError,
            "Dimension out of range (expected to be in range of [-1, 0], but got -3)"),
        Bad((T((2, 2, 4, 4)), 2), RuntimeError,
            "avg_pool2d: stride must either be omitted, a single int, or a tuple of two ints",
            dict(stride=(1, 1, 1))),
        Bad((T((2, 2, 4, 4)), 2), RuntimeError, "pad must be non-negative, but got pad: -1",
            dict(padding=-1)),
        Bad((T((1, 2, 2, 4, 4)), 2), RuntimeError,
            "Expected 3D or 4D (batch mode) tensor with optional 0 dim batch size for input, "
            "but got:[1, 2, 2, 4, 4]"),
        Bad((T((2, 2, 4, 4)), 2), TypeError,
            "avg_pool2d(): argument 'divisor_override' must be int, not float",
            dict(divisor_override=1.5))])
op("adaptive_avg_pool2d", lambda m, x, s: m.nn.functional.adaptive_avg_pool2d(x, s),
   [S(T((2, 2, 5, 5)), 1), S(T((2, 2, 5, 7)), (2, 3)), S(T((2, 2, 4, 6)), (None, 4)),
    S(T((2, 5, 5)), 3), S(T((2, 5, 5)), 1), S(T((2, 2, 3, 3)), 5), S(T((1, 1, 3, 3)), 2),
    # (1, 1) is a mean over the last two dims, of any input
    S(T((3, 4)), 1), S(T((1, 2, 2, 3, 3)), (1, 1)),
    S(T((2, 2, 4, 5)), (None, 3))],
   bad=[Bad((T((4, 4)), 2), RuntimeError,
            "adaptive_avg_pool2d(): Expected 3D or 4D tensor, but got [4, 4]"),
        Bad((T((2, 2, 4, 4)), (1, 2, 3)), RuntimeError,
            "adaptive_avg_pool2d: output_size must be 2"),
        Bad((T((3,)), (1, 1)), ValueError, "Input dimension should be at least 3"),
        Bad((T((2, 2, 4, 4)), -1), RuntimeError,
            "elements of output_size must be greater than or equal to 0"),
        Bad((T((2, 2, 4, 4)), 2), NotImplementedError,
            "\"adaptive_avg_pool2d\" not implemented for 'Long'", dtype="int64"),
        Bad((T((2, 2, 0, 4)), 2), RuntimeError,
            "adaptive_avg_pool2d(): Expected input to have non-zero size for non-batch "
            "dimensions, but input has sizes [2, 2, 0, 4] with dimension 2 being empty"),
        Bad((T((2, 2, 4, 4)), None), TypeError, "object of type 'NoneType' has no len()"),
        Bad((T((2, 2, 4, 4)), 1), RuntimeError,
            "mean(): could not infer output dtype. Input dtype must be either a floating "
            "point or complex dtype. Got: Long", dtype="int64")])


def _batch_norm(m, x, rm, rv, *a, **kw):
    """The output, and the running statistics after the call (updated in training)."""
    out = m.nn.functional.batch_norm(x, rm, rv, *a, **kw)
    return (out,) + tuple(t for t in (rm, rv) if t is not None)


RUNNING = (T((2,), grad=False), T((2,), low=0.5, high=2.0, grad=False))
op("batch_norm", _batch_norm,
   [S(T((3, 2, 3, 3)), *RUNNING, T((2,)), T((2,)), training=True),
    S(T((3, 2, 3, 3)), *RUNNING, T((2,)), T((2,)), training=False),
    S(T((4, 2)), *RUNNING, T((2,)), T((2,)), training=True, momentum=0.3, eps=1e-3),
    S(T((4, 2)), *RUNNING, T((2,)), T((2,))),
    S(T((3, 2, 2, 2)), *RUNNING, None, None, training=True),
    S(T((3, 2, 4)), None, None, T((2,)), T((2,)), training=True),
    S(T((2, 2, 2, 1, 2)), *RUNNING, T((2,)), None, training=True),
    # small enough for gradgradcheck
    S(T((2, 2, 2)), *RUNNING, T((2,)), T((2,)), training=True),
    S(T((3, 2)), *RUNNING, T((2,)), T((2,)), training=False),
    S(T((2, 2, 2)), *RUNNING, None, None, training=True),
    # an empty batch: no statistics, nothing updated (PyTorch: clone, * weight[0], + bias[0])
    S(T((0, 2)), *RUNNING, T((2,)), T((2,)), training=True),
    S(T((0, 2, 3)), None, None, T((2,)), None, training=False),
    S(T((3, 2)), *RUNNING, T((2,)), T((2,)), training=True, momentum=0, eps=0.5)],
   bad=[Bad((T((2, 2, 3)), T((3,)), T((2,))), RuntimeError,
            "running_mean should contain 2 elements not 3"),
        Bad((T((2, 2, 3)), T((2,)), T((2,)), T((3,))), RuntimeError,
            "weight should contain 2 elements not 3"),
        Bad((T((1, 2)), T((2,)), T((2,))), ValueError,
            "Expected more than 1 value per channel when training, got input size "
            "ember.Size([1, 2])", dict(training=True)),
        Bad((T((2, 2, 3)), None, None), RuntimeError,
            "running_mean must be defined in evaluation mode"),
        Bad((T((2, 2, 3)), T((2,)), T((2,))), NotImplementedError,
            "\"batch_norm\" not implemented for 'Long'", dtype="int64"),
        Bad((T((4, 2)), T((2,)), T((2,))), TypeError,
            "batch_norm(): argument 'momentum' (position 7) must be float, not NoneType",
            dict(training=True, momentum=None)),
        Bad((T((4, 2)), T((2,)), T((2,))), TypeError,
            "batch_norm(): argument 'training' (position 6) must be bool, not NoneType",
            dict(training=None)),
        Bad((T((4, 2)), T((2,)), T((2,))), ValueError,
            "batch_norm eps must be positive during training, but got 0.0",
            dict(training=True, eps=0.0)),
        Bad((T((4, 2)), T((2,)), T((2,))), ValueError,
            "batch_norm eps must be non-negative, but got -1.0", dict(eps=-1.0)),
        Bad((T((4, 2)), T((2,)), None), ValueError,
            "running_mean and running_var must either both be None or neither be None",
            dict(training=True)),
        Bad((T((4, 2)), T((2,), dtype="float64"), T((2,), dtype="float64")), RuntimeError,
            "mixed dtype (CPU): expect parameter to have scalar type of Float"),
        Bad((T((4, 2), dtype="float64"), T((2,), dtype="float32"), T((2,), dtype="float32")),
            RuntimeError, "mixed dtype (CPU): all inputs must share same datatype."),
        Bad((T((4, 2), dtype="float64"), T((2,), dtype="float32"), T((2,)), T((2,))),
            RuntimeError, "expected scalar type Double but found Float",
            dict(training=True), dtype="float64")])


# softmax, log_softmax, logsumexp --------------------------------------------------------------
def _softmax_samples():
    return [S(T((2, 3)), 1), S(T((2, 3)), 0), S(T((2, 3)), -1), S(T((2, 1, 3)), 1),
            S(T((3,)), 0), S(T(()), 0), S(T((0, 3)), 1), S(T((2, 0)), 1),
            S(T((2, 3), values=(1000.0, 1001.0, 999.0, -1000.0, -1001.0, -999.0)), 1),
            S(T((2, 3), dtype="int64"), 1, dtype="float64_"),
            S(T((2, 3)), 1, dtype="float64_")]


def _with_dtype(fn):
    # ``dtype="float64_"`` in a sample stands for the library's float64 (the table's kwargs
    # are plain values)
    def call(m, x, *a, **kw):
        if kw.get("dtype") == "float64_":
            kw["dtype"] = m.float64
        return fn(m, x, *a, **kw)
    return call


for _name, _fn in [("softmax", lambda m, x, *a, **kw: m.softmax(x, *a, **kw)),
                   ("log_softmax", lambda m, x, *a, **kw: m.log_softmax(x, *a, **kw)),
                   ("F.softmax", lambda m, x, *a, **kw: m.nn.functional.softmax(x, *a, **kw)),
                   ("F.log_softmax",
                    lambda m, x, *a, **kw: m.nn.functional.log_softmax(x, *a, **kw)),
                   ("Tensor.softmax", lambda m, x, *a, **kw: x.softmax(*a, **kw)),
                   ("Tensor.log_softmax", lambda m, x, *a, **kw: x.log_softmax(*a, **kw))]:
    _kernel = _name.split(".")[-1]
    op(_name, _with_dtype(_fn), _softmax_samples(), third_order=True,
       bad=[Bad((T((2, 3), dtype="int64"), 1), NotImplementedError,
                f"\"{_kernel}_lastdim_kernel_impl\" not implemented for 'Long'", dtype="int64"),
            Bad((T((2, 3), dtype="int64"), 0), NotImplementedError,
                f"\"{_kernel}_kernel_impl\" not implemented for 'Long'", dtype="int64"),
            Bad((T((2, 3)), 2), IndexError, "Dimension out of range")])
op("softmax_no_dim", lambda m, x: m.softmax(x), [],
   bad=[Bad((T((2, 3)),), TypeError, "softmax() missing 1 required positional arguments")])
op("logsumexp", lambda m, x, *a, **kw: m.logsumexp(x, *a, **kw),
   [S(T((2, 3)), 1), S(T((2, 3)), 0, keepdim=True), S(T((2, 1, 3)), (0, 2)),
    S(T((2, 1, 3)), (-1, 0), keepdim=True), S(T(()), 0), S(T((3,)), 0), S(T((0, 3)), 1),
    S(T((0, 3)), 0), S(T((2, 3), values=(1000.0, 1001.0, 999.0, -1000.0, -1001.0, -999.0)), 1),
    S(T((2, 3), dtype="int64"), 1), S(T((2, 3), dtype="bool"), 0)],
   third_order=True,
   bad=[Bad((T((2, 3)), 2), IndexError, "Dimension out of range"),
        Bad((T((2, 3)),), TypeError, "logsumexp() missing 1 required positional arguments")])
op("logsumexp_inf", lambda m, x: m.logsumexp(x, 1),
   [S(T((3, 2), values=(float("-inf"), float("-inf"), float("inf"), 1.0, float("-inf"), 2.0),
        grad=False))],
   grad=False, gradcheck=False)
op("Tensor.logsumexp", lambda m, x: x.logsumexp(1, keepdim=True), [S(T((2, 3)))])

# cat, stack ----------------------------------------------------------------------------------
op("cat", lambda m, a, b, **kw: m.cat([a, b], **kw),
   [S(T((2, 3)), T((1, 3))), S(T((2, 3)), T((2, 2)), dim=1), S(T((2, 3)), T((2, 1)), dim=-1),
    S(T((3,)), T((2,))), S(T((2, 1, 3)), T((2, 2, 3)), dim=1), S(T((0, 3)), T((2, 3))),
    S(T((2, 3)), T((0,))), S(T((0,)), T((0,))), S(T((2, 3)), T((1, 3), grad=False)),
    S(T((2, 3)), T((1, 3), dtype="float64"), dtypes=("float32",)),
    S(T((2, 3)), T((1, 3), dtype="int64"), dtypes=FLOATS)],
   dtypes=ALL,
   bad=[Bad((T((2, 3)), T((2, 4))), RuntimeError, "Sizes of tensors must match except in "
            "dimension 0. Expected size 3 but got size 4 for tensor number 1 in the list."),
        Bad((T((2, 3)), T((3,))), RuntimeError,
            "Tensors must have same number of dimensions: got 2 and 1"),
        Bad((T(()), T(())), RuntimeError,
            "zero-dimensional tensor (at position 0) cannot be concatenated"),
        Bad((T((2, 3)), T((2, 3))), IndexError, "Dimension out of range", dict(dim=2))])
op("cat3", lambda m, a, b, c: m.cat((a, b, c), 1),
   [S(T((2, 1)), T((2, 2)), T((2, 3))), S(T((1, 2)), T((1, 0)), T((1, 1)))], dtypes=ALL)
op("concat", lambda m, a, b: m.concat([a, b], dim=1), [S(T((2, 1)), T((2, 2)))])
op("concatenate", lambda m, a, b: m.concatenate([a, b], axis=1), [S(T((2, 1)), T((2, 2)))])
op("cat_bad_lists", lambda m, x, kind: m.cat({"empty": [], "tensor": x, "int": [x, 1]}[kind]),
   [],
   bad=[Bad((T((2,)), "empty"), ValueError, "ember.cat(): expected a non-empty list of Tensors"),
        Bad((T((2,)), "tensor"), TypeError,
            "cat(): argument 'tensors' (position 1) must be tuple of Tensors, not Tensor"),
        Bad((T((2,)), "int"), TypeError, "expected Tensor as element 1 in argument 0, but got "
            "int")])
op("stack", lambda m, a, b, **kw: m.stack([a, b], **kw),
   [S(T((2, 3)), T((2, 3))), S(T((2, 3)), T((2, 3)), dim=1), S(T((2, 3)), T((2, 3)), dim=-1),
    S(T((2, 3)), T((2, 3)), dim=-3), S(T(()), T(())), S(T((0, 2)), T((0, 2)), dim=1),
    S(T((3,)), T((3,), grad=False)),
    S(T((3,)), T((3,), dtype="float64"), dtypes=("float32",))],
   dtypes=ALL,
   bad=[Bad((T((2, 3)), T((2, 4))), RuntimeError, "stack expects each tensor to be equal size, "
            "but got [2, 3] at entry 0 and [2, 4] at entry 1"),
        Bad((T((2, 3)), T((2, 3))), IndexError, "Dimension out of range", dict(dim=3))])
op("stack3", lambda m, a, b, c: m.stack((a, b, c), 1), [S(T((2,)), T((2,)), T((2,)))])
op("stack_empty", lambda m, x: m.stack([]), [],
   bad=[Bad((T((2,)),), RuntimeError, "stack expects a non-empty TensorList")])


# losses --------------------------------------------------------------------------------------
def _labels(shape, classes, **kw):
    return T(shape, low=0, high=classes - 1, dtype="int64", **kw)


IGNORED = T((3,), values=(1, -100, 3), dtype="int64")
CLASS_SAMPLES = [
    S(T((3, 4)), _labels((3,), 4)), S(T((3, 4)), _labels((3,), 4), reduction="sum"),
    S(T((3, 4)), _labels((3,), 4), reduction="none"), S(T((4,)), _labels((), 4)),
    S(T((4,)), _labels((), 4), reduction="none"),
    S(T((3, 4)), _labels((3,), 4), T((4,), low=0.2, high=2.0, grad=False)),
    S(T((3, 4)), _labels((3,), 4), T((4,), low=0.2, high=2.0, grad=False), reduction="none"),
    S(T((3, 4)), IGNORED), S(T((3, 4)), IGNORED, reduction="none"),
    S(T((3, 4)), T((3,), values=(1, 2, 3), dtype="int64"), ignore_index=2),
    S(T((3, 4)), IGNORED, T((4,), low=0.2, high=2.0, grad=False)),
    S(T((2, 3, 2)), _labels((2, 2), 3)), S(T((2, 3, 2)), _labels((2, 2), 3), reduction="none"),
    S(T((1, 3, 2, 2)), _labels((1, 2, 2), 3)),
    S(T((1, 2, 2, 1, 2)), _labels((1, 2, 1, 2), 2), reduction="sum"),
    S(T((3, 4)), T((3,), low=0, high=3, dtype="uint8")),
    S(T((0, 4)), _labels((0,), 4)), S(T((0, 4)), _labels((0,), 4), reduction="sum"),
]
# Every target ignored: the mean is 0/0 = nan, whose finite differences are nan while the
# gradient is 0 (in torch too), so these samples skip gradcheck.
ALL_IGNORED = [S(T((3, 4)), T((3,), values=(-100, -100, -100), dtype="int64")),
               S(T((3, 4)), T((3,), values=(-100, -100, -100), dtype="int64"),
                 reduction="sum")]
LOSS_BAD = [
    Bad((T((3, 4)), T((3,), values=(1, 4, 0), dtype="int64")), IndexError,
        "Target 4 is out of bounds."),
    Bad((T((3, 4)), T((3,), values=(1, -1, 0), dtype="int64")), IndexError,
        "Target -1 is out of bounds."),
    Bad((T((3, 4)), _labels((2,), 4)), ValueError,
        "Expected input batch_size (3) to match target batch_size (2)."),
    Bad((T((3, 4)), T((3,), dtype="int32", low=0, high=3)), RuntimeError,
        "expected target dtype to be Long or Byte, but got Int"),
    Bad((T((3, 4)), _labels((3,), 4)), ValueError, "foo is not a valid value for reduction",
        dict(reduction="foo")),
    Bad((T((3, 4)), _labels((3, 2), 4)), RuntimeError,
        "0D or 1D target tensor expected, multi-target not supported"),
    Bad((T((2, 3, 4)), _labels((2, 5), 3)), RuntimeError,
        "Expected target size [2, 4], got [2, 5]"),
    Bad((T((2, 3, 4, 5)), _labels((2, 4, 6), 3)), RuntimeError,
        "size mismatch (got input: [2, 3, 4, 5] , target: [2, 4, 6]"),
    Bad((T((2, 3, 4, 5)), _labels((2, 4), 3)), RuntimeError,
        "only batches of spatial targets supported (3D tensors) but got targets of dimension: 2"),
    Bad((T((4,)), _labels((2,), 4)), ValueError,
        "For 1D input, 1D target must have size 1, but got target size: 2"),
    Bad((T((3, 4)), _labels((3,), 4), T((3,))), RuntimeError,
        "weight tensor should be defined either for all 4 classes or no classes but got "
        "weight tensor of shape: [3]"),
]


def _nll_loss(m, x, t, *w, **kw):
    return m.nn.functional.nll_loss(x, t, *w, **kw)


op("nll_loss", _nll_loss, CLASS_SAMPLES,
   bad=LOSS_BAD + [
       Bad((T(()), _labels((), 4)), ValueError, "Expected 1 or more dimensions (got 0)"),
       Bad((T((3, 4), dtype="int64"), _labels((3,), 4)), NotImplementedError,
           "\"nll_loss_out_frame\" not implemented for 'Long'", dtype="int64"),
       Bad((T((3, 4)), _labels((3,), 4), T((4,), dtype="float64")), RuntimeError,
           "expected scalar type Float but found Double"),
       Bad((T((2, 3, 4)), T((2, 4), low=0, high=2, dtype="uint8")), RuntimeError,
           "expected scalar type Long but found Byte"),
       Bad((T((2, 3, 2, 2)), _labels((2, 2, 2), 3), T((4,))), RuntimeError,
           "weight tensor should be defined either for all or no classes"),
       Bad((T((2, 3, 4)), _labels((2, 4), 3)), TypeError,
           "nll_loss_nd(): argument 'ignore_index' (position 5) must be int, not NoneType",
           dict(ignore_index=None)),
       Bad((T((3, 4)), T((3,), low=0, high=3, dtype="int32")), RuntimeError,
           "expected target dtype to be Long or Byte, but got Int", dict(reduction="none")),
       Bad((T((4,)), T((2,), low=0, high=3, dtype="int32")), RuntimeError,
           "expected target dtype to be Long or Byte, but got Int")])


# A 1-d input with a 1-d target of one class: torch computes the loss but its backward
# refuses the shapes ("size mismatch"), so only the forward is compared.
op("nll_loss_all_ignored", _nll_loss, ALL_IGNORED, gradcheck=False)
op("nll_loss_1d_target", _nll_loss, [S(T((4,)), _labels((1,), 4))], grad=False,
   gradcheck=False)


def _cross_entropy(m, x, t, *w, **kw):
    return m.nn.functional.cross_entropy(x, t, *w, **kw)


op("cross_entropy_all_ignored", _cross_entropy, ALL_IGNORED, gradcheck=False)
PROBS = dict(low=0.0, high=1.0)
op("cross_entropy", _cross_entropy,
   CLASS_SAMPLES + [
       S(T((3, 4)), _labels((3,), 4), label_smoothing=0.2),
       S(T((3, 4)), _labels((3,), 4), label_smoothing=0.2, reduction="sum"),
       S(T((3, 4)), IGNORED, label_smoothing=0.2, reduction="none"),
       S(T((3, 4)), IGNORED, T((4,), low=0.2, high=2.0, grad=False), label_smoothing=0.3),
       S(T((2, 3, 2)), _labels((2, 2), 3), label_smoothing=0.1),
       S(T((4,)), _labels((), 4), label_smoothing=0.5),
       S(T((3, 4)), _labels((3,), 4), label_smoothing=-0.1),
       S(T((3, 4)), T((3, 4), **PROBS)), S(T((3, 4)), T((3, 4), **PROBS), reduction="sum"),
       S(T((3, 4)), T((3, 4), **PROBS), reduction="none"),
       S(T((3, 4)), T((3, 4), **PROBS, grad=False), T((4,), low=0.2, high=2.0, grad=False)),
       S(T((3, 4)), T((3, 4), **PROBS), label_smoothing=0.25),
       S(T((2, 3, 2)), T((2, 3, 2), **PROBS), reduction="none"),
       S(T((4,)), T((4,), **PROBS)), S(T((0, 4)), T((0, 4), **PROBS)),
       S(T((3, 4)), T((3, 4), **PROBS), ignore_index=-5)],
   bad=LOSS_BAD + [
       Bad((T((3, 4)), _labels((3,), 4)), RuntimeError,
           "label_smoothing must be between 0.0 and 1.0. Got: 1.5",
           dict(label_smoothing=1.5)),
       Bad((T((3, 4)), T((3, 4))), RuntimeError,
           "ignore_index is not supported for floating point target", dict(ignore_index=1)),
       Bad((T((3, 4)), _labels((3, 4), 4)), RuntimeError,
           "Expected floating point type for target with class probabilities, got Long"),
       Bad((T((3, 4)), T((3, 4)), T((3,))), RuntimeError,
           "cross_entropy: weight tensor should be defined either for all 4 classes or no "
           "classes but got weight tensor of shape: [3]"),
       Bad((T((3, 4), dtype="int64"), _labels((3,), 4)), NotImplementedError,
           "\"log_softmax_lastdim_kernel_impl\" not implemented for 'Long'", dtype="int64"),
       Bad((T((3, 4)), T((3, 4))), RuntimeError,
           "label_smoothing must be between 0.0 and 1.0. Got: 1.5", dict(label_smoothing=1.5)),
       Bad((T((3, 4)), _labels((3,), 4)), RuntimeError,
           "label_smoothing must be between 0.0 and 1.0. Got: 2", dict(label_smoothing=2.0)),
       Bad((T(()), T(())), IndexError, "Dimension specified as 1 but tensor has no dimensions"),
       Bad((T((3, 4)), T((3,), low=0, high=3, dtype="uint8"), T((4,))), RuntimeError,
           "gather(): Expected dtype int32/int64 for index", dict(label_smoothing=0.1)),
       Bad((T((3, 4)), _labels((3,), 4)), TypeError,
           "cross_entropy_loss(): argument 'label_smoothing' (position 6) must be float, not "
           "NoneType", dict(label_smoothing=None))])


def _mse_loss(m, x, t, **kw):
    return m.nn.functional.mse_loss(x, t, **kw)


op("mse_loss", _mse_loss,
   [S(T((2, 3)), T((2, 3))), S(T((2, 3)), T((2, 3)), reduction="sum"),
    S(T((2, 3)), T((2, 3)), reduction="none"), S(T(()), T(())), S(T((0, 3)), T((0, 3))),
    S(T((0, 3)), T((0, 3)), reduction="sum"), S(T((2, 3)), T((2, 3), grad=False)),
    S(T((2, 3), grad=False), T((2, 3))), S(T((2, 1)), T((3,))),
    S(T((2, 3)), T((2, 3), dtype="float64"), dtypes=("float32",)),
    S(T((2, 3)), T((2, 3), dtype="int64"), dtypes=FLOATS)],
   bad=[Bad((T((2, 3)), T((3, 3))), RuntimeError,
            "The size of tensor a (2) must match the size of tensor b (3) at non-singleton "
            "dimension 0"),
        Bad((T((2, 3), dtype="int64"), T((2, 3), dtype="int64")), NotImplementedError,
            "\"mse_cpu\" not implemented for 'Long'", dtype="int64"),
        Bad((T((2, 3)), T((2, 3))), ValueError, "x is not a valid value for reduction",
            dict(reduction="x"))])
op("mse_loss_weight", lambda m, x, t, w, **kw: m.nn.functional.mse_loss(x, t, weight=w, **kw),
   [S(T((2, 3)), T((2, 3)), T((2, 3), low=0.1, high=1.0)),
    S(T((2, 3)), T((2, 3)), T((2, 3), low=0.1, high=1.0), reduction="none")])

# all and any; max and min of two tensors ---------------------------------------------------
for _name, _fn in [("all", lambda m, x, *a, **kw: m.all(x, *a, **kw)),
                   ("any", lambda m, x, *a, **kw: m.any(x, *a, **kw)),
                   ("Tensor.all", lambda m, x, *a, **kw: x.all(*a, **kw))]:
    op(_name, _fn,
       [S(T(s)) for s in R] + [S(T((2, 3)), 1), S(T((2, 3)), -1, keepdim=True),
                               S(T((2, 1, 3)), (0, 2)), S(T((2, 1, 3)), (0, -1), keepdim=True),
                               S(T((2, 3)), ()), S(T((2, 3)), None, True), S(T(()), 0),
                               S(T((0, 3))), S(T((0, 3)), 1), S(T((2, 0)), (0, 1)),
                               S(T((2, 3), dtype="uint8", low=0, high=2), 1)],
       dtypes=ALL, grad=False, gradcheck=False,
       bad=[Bad((T((2, 3)), 2), IndexError, "Dimension out of range (expected to be in range "
                "of [-2, 1], but got 2)"),
            Bad((T((2, 3)), (0, -2)), RuntimeError,
                "dim 0 appears multiple times in the list of dims")])
for _name, _fn in [("max_binary", lambda m, x, y, *a: m.max(x, y, *a)),
                   ("min_binary", lambda m, x, y, *a: m.min(x, y, *a))]:
    op(_name, _fn, MAXMIN, dtypes=FLOATS + INTS,
       bad=[Bad((T((2,)), T((2,)), True), TypeError,
                "received an invalid combination of arguments")])
op("Tensor.max_binary", lambda m, x, y: x.max(y), MAXMIN, dtypes=FLOATS + INTS)
