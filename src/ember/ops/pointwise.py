"""Elementwise ops: arithmetic, unary math, comparisons and logic.

Each declaration pairs the forward (on arrays) with the derivative of each input (on
Tensors), as in PyTorch's derivatives.yaml.
"""

from __future__ import annotations

import sys

import numpy as np

from ..autograd.forward_grad import AfterOp
from ..autograd.grad_mode import GradMode
from ..backend import array_module
from ..dtype import CPP_TYPE_NAMES, SCALAR_TYPE_NAMES
from ._apply import (
    _SCALAR_ARRAYS,
    HALF_NUMBER_IN_FLOAT,
    _scalar_array,
    apply,
    binary,
    rbinary,
    unary,
)
from .inplace import checked_fill_value
from .registry import Bound
from .registry import defop as _defop

# Kernels costing several ns per element; the rest are memory-bound (see backend.threads).
_COMPUTE_BOUND = {"exp", "log", "sin", "cos", "tanh", "sigmoid", "pow"}


def defop(name: str, **kwargs):
    """``registry.defop`` for this module, whose ops are all elementwise (large inputs may be
    computed in parallel chunks)."""
    kwargs.setdefault("compute_bound", name in _COMPUTE_BOUND)
    return _defop(name, elementwise=True, **kwargs)


def not_implemented(name: str):
    """A formula for an op whose derivative PyTorch does not define either."""
    def formula(grad):
        raise RuntimeError(f"derivative for aten::{name} is not implemented")
    return formula


def zeros_grad(grad):
    """A zero gradient that is not part of any graph (PyTorch's ``grad.new_zeros``)."""
    return Bound.new(array_module(grad.device).zeros_like(grad._data))


def _subtract(a, b, out=None):
    try:
        return np.subtract(a, b, out=out)  # out=: in-place ``-=`` writes into storage
    except TypeError:  # NumPy refuses bool - bool, as PyTorch does
        raise RuntimeError(_BOOL_SUB_BOTH) from None


_BOOL_SUB_BOTH = ("Subtraction, the `-` operator, with two bool tensors is not supported. Use "
                  "the `^` or `logical_xor()` operator instead.")
_BOOL_SUB_ONE = ("Subtraction, the `-` operator, with a bool tensor is not supported. If you "
                 "are trying to invert a mask, use the `~` or `logical_not()` operator instead.")


def _integral(x) -> bool:
    """Whether an array or Python number operand is of an integer or bool type."""
    dt = getattr(x, "dtype", None)
    return dt.kind in "iub" if dt is not None else type(x) in (int, bool)


def _int_zero_check(a, b) -> None:
    """Integer division or remainder by zero: PyTorch raises where NumPy warns."""
    if _integral(a) and _integral(b) and \
            bool((b == 0).any() if hasattr(b, "any") else b == 0):
        raise RuntimeError("ZeroDivisionError")


def _floor_divide(a, b):
    _int_zero_check(a, b)
    return np.floor_divide(a, b)


def _trunc_divide(a, b):
    if getattr(a, "dtype", None) is not None and a.dtype.kind in "iu":
        _int_zero_check(a, b)
        q = np.floor_divide(a, b)
        # floor and trunc differ by one where the quotient is negative and inexact
        return q + ((np.remainder(a, b) != 0) & ((a < 0) != (b < 0)))
    return np.trunc(np.true_divide(a, b))


def _remainder(a, b):
    _int_zero_check(a, b)
    return np.remainder(a, b)


def _fmod(a, b):
    _int_zero_check(a, b)
    return np.fmod(a, b)


# ---- arithmetic ------------------------------------------------------------------------
def _operand(x, grad):
    """A saved operand for an array formula: a Python number as a cached 0-d array of the
    gradient's dtype, which NumPy takes several times faster."""
    cls = x.__class__
    if (cls is float or cls is int) and grad.__class__ is np.ndarray:
        return _scalar_array(x, grad.dtype)
    return x


def _mul_self_array(grad, other):
    """mul's array formula for ``self``: ``grad * other``, ``_operand`` in line (it runs for
    every ``y * 0.5`` node)."""
    cls = other.__class__
    if (cls is float or cls is int) and grad.__class__ is np.ndarray:
        cache = _SCALAR_ARRAYS.get(grad.dtype)
        arr = cache.get(other) if cache is not None else None
        other = arr if arr is not None else _scalar_array(other, grad.dtype)
    return np.multiply(grad, other)


ADD = defop("add", inputs=("self", "other"), forward=np.add, derivatives={
    "self": lambda grad: grad,
    "other": lambda grad: grad,
}, on_arrays={"self": lambda grad: grad, "other": lambda grad: grad})
SUB = defop("sub", inputs=("self", "other"), forward=_subtract, derivatives={
    "self": lambda grad: grad,
    "other": lambda grad: -grad,
}, on_arrays={"self": lambda grad: grad, "other": lambda grad: np.negative(grad)})
RSUB = defop("rsub", inputs=("self", "other"), node="RsubBackward1", no_edge=("other",),
             forward=lambda a, b: np.subtract(b, a), derivatives={
                 "self": lambda grad: -grad,
             }, on_arrays={"self": lambda grad: np.negative(grad)})
def _times(b, alpha):
    if alpha.__class__ is bool:  # a bool result: alpha False drops ``other``
        return np.logical_and(b, alpha)
    # A Python number stays one, so that it stays weak in NumPy's promotion.
    return b * alpha if b.__class__ in (int, float, bool) else np.multiply(b, alpha)


# With ``alpha``, one node as in PyTorch (AddBackward0 saves alpha), not a mul and an add.
ADD_ALPHA = defop("add", inputs=("self", "other"),
                  forward=lambda a, b, alpha: np.add(a, _times(b, alpha)), derivatives={
                      "self": lambda grad: grad,
                      "other": lambda grad, alpha: grad * alpha,
                  })
SUB_ALPHA = defop("sub", inputs=("self", "other"),
                  forward=lambda a, b, alpha: _subtract(a, _times(b, alpha)), derivatives={
                      "self": lambda grad: grad,
                      "other": lambda grad, alpha: grad * -alpha,
                  })
RSUB_ALPHA = defop("rsub", inputs=("self", "other"), node="RsubBackward1", no_edge=("other",),
                   forward=lambda a, b, alpha: np.subtract(b, np.multiply(a, alpha)),
                   derivatives={"self": lambda grad, alpha: grad * -alpha})
MUL = defop("mul", inputs=("self", "other"), forward=np.multiply, derivatives={
    "self": lambda grad, other: grad * other,
    "other": lambda grad, self: grad * self,
}, on_arrays={
    "self": _mul_self_array,
    "other": lambda grad, self: np.multiply(grad, _operand(self, grad)),
})
DIV = defop("div", inputs=("self", "other"), forward=np.true_divide, derivatives={
    "self": lambda grad, other: grad / other,
    "other": lambda grad, self, other: -grad * self / (other * other),
}, on_arrays={
    "self": lambda grad, other: np.true_divide(grad, _operand(other, grad)),
    "other": lambda grad, self, other: -grad * self / (other * other),
})
# Rounded quotients are piecewise constant: PyTorch gives them zero gradients. Its node
# saves both inputs all the same (its formula serves every rounding mode), so a second
# backward through it raises: the formulas name them.
_ROUNDED_DIV = {"self": lambda grad, self, other: zeros_grad(grad),
                "other": lambda grad, self, other: zeros_grad(grad)}
DIV_FLOOR = defop("div", inputs=("self", "other"), node="DivBackward2", forward=_floor_divide,
                  derivatives=_ROUNDED_DIV)
DIV_TRUNC = defop("div", inputs=("self", "other"), node="DivBackward2", forward=_trunc_divide,
                  derivatives=_ROUNDED_DIV)
FLOOR_DIVIDE = defop("floor_divide", inputs=("self", "other"), node="NotImplemented",
                     forward=_floor_divide, derivatives={
                         "self": not_implemented("floor_divide"),
                         "other": not_implemented("floor_divide"),
                     })
FLOOR_DIVIDE_SCALAR = defop("floor_divide", inputs=("self", "other"), node="NotImplemented",
                            no_edge=("other",), forward=_floor_divide,
                            derivatives={"self": not_implemented("floor_divide")})
FLOOR_DIVIDE_R = defop("floor_divide", inputs=("self", "other"), node="NotImplemented",
                       no_edge=("other",),
                       forward=lambda a, b: _floor_divide(b, a),
                       derivatives={"self": not_implemented("floor_divide")})
REMAINDER = defop("remainder", inputs=("self", "other"), node="RemainderBackward1",
                  forward=_remainder, derivatives={
                      "self": lambda grad: grad,
                      "other": lambda grad, self, other: -grad * div(self, other,
                                                                    rounding_mode="floor"),
                  })
REMAINDER_SCALAR = defop("remainder", inputs=("self", "other"), node="RemainderBackward0",
                         no_edge=("other",),
                         forward=_remainder, derivatives={"self": lambda grad: grad})
REMAINDER_R = defop("remainder", inputs=("self", "other"), node="NotImplemented",
                    no_edge=("other",),
                    forward=lambda a, b: _remainder(b, a),
                    derivatives={"self": not_implemented("remainder")})


# C's fmod: the remainder of the quotient rounded toward zero, with the sign of ``self``.
FMOD = defop("fmod", inputs=("self", "other"), node="FmodBackward1", forward=_fmod,
             derivatives={
                 "self": lambda grad: grad,
                 "other": lambda grad, self, other: -grad * div(self, other,
                                                               rounding_mode="trunc"),
             })
FMOD_SCALAR = defop("fmod", inputs=("self", "other"), node="FmodBackward0",
                    no_edge=("other",), forward=_fmod, derivatives={"self": lambda grad: grad})


# ``t * s`` and ``t - s`` for a Python number ``s`` as PyTorch's C++ derivative formulas
# write them (mul.Scalar, sub.Scalar): one edge, nodes MulBackward1 and SubBackward1. They
# keep ember's higher-order graphs the same as PyTorch's.
MUL_SCALAR = defop("mul", inputs=("self", "other"), node="MulBackward1", no_edge=("other",),
                   forward=np.multiply,
                   derivatives={"self": lambda grad, other: _mul_scalar(grad, other)})
SUB_SCALAR = defop("sub", inputs=("self", "other"), node="SubBackward1", no_edge=("other",),
                   forward=np.subtract, derivatives={"self": lambda grad: grad})


HALF_NUMBER_IN_FLOAT.update((MUL, MUL_SCALAR, DIV, DIV_FLOOR, DIV_TRUNC, FLOOR_DIVIDE,
                             FLOOR_DIVIDE_SCALAR))


def _mul_scalar(t, s):
    return binary(MUL_SCALAR, t, s)


def _pow_self(grad, self, exponent):
    # PyTorch's pow_backward: grad * (exponent * self.pow(exponent - 1)), zeros for exponent 0.
    if isinstance(exponent, (int, float)):
        if exponent == 0:
            return zeros_grad(grad)
        if not GradMode.enabled and not AfterOp.on:  # not differentiated: one fused kernel
            return binary(POW_BACKWARD, grad, self, attrs={"exponent": exponent})
        return grad * _mul_scalar(self ** (exponent - 1), exponent)
    return where(exponent == 0, 0.0, grad * (exponent * self ** binary(SUB_SCALAR, exponent, 1)))


def _pow_self_array(grad, self, exponent):
    if exponent == 2:  # x ** 2, the common case, in line: grad * 2x as grad * (x + x)
        return np.multiply(grad, np.add(self, self))
    if exponent == 0:
        return grad * 0
    return _pow_backward_forward(grad, self, exponent)


def _pow_backward_forward(g, x, exponent):
    if exponent == 2:
        return g * (x + x)
    return g * exponent * np.power(x, exponent - 1)


# grad * e * x**(e-1) for a scalar exponent in one kernel, for backward passes that build no
# graph (under create_graph the formula above builds PyTorch's graph instead).
POW_BACKWARD = defop("pow_backward", inputs=("grad_output", "self"),
                     forward=_pow_backward_forward)


def _pow_exponent(grad, self, exponent, result):
    # d/dy x**y = x**y * log(x), which PyTorch defines as 0 where x == 0 and y >= 0.
    return grad * where((self == 0) & (exponent >= 0), 0.0, result * self.log())


def _rpow_exponent(grad, self, exponent, result):
    # The same for a Python-number base, as PyTorch writes it (mul by the Scalar log(base)).
    with np.errstate(divide="ignore", invalid="ignore"):
        log_base = float(np.log(np.float64(self)))
    if self == 0:
        return grad * where(exponent >= 0, 0.0, _mul_scalar(result, log_base))
    return grad * _mul_scalar(result, log_base)


def _power(a, e):
    try:
        return np.power(a, e)
    except ValueError:  # NumPy refuses negative integer exponents of integers (``e`` is an
        # array here); PyTorch gives 1 for base 1, +-1 for base -1, and 0 for other bases.
        out = np.power(a, np.where(e < 0, 0, e))
        odd = np.where(np.remainder(e, 2) == 0, 1, -1)
        small = np.where(a == 1, 1, np.where(a == -1, odd, 0))
        return np.where(e < 0, small, out).astype(out.dtype, copy=False)


POW = defop("pow", inputs=("self", "exponent"), no_edge=("exponent",), forward=_power,
            derivatives={
                "self": _pow_self,
            }, on_arrays={"self": _pow_self_array})
# x ** 2 is the common case; np.square is several times faster than np.power.
POW_SQUARE = defop("pow", compute_bound=False, inputs=("self", "exponent"), no_edge=("exponent",),
                   forward=lambda x, e: np.square(x), derivatives={"self": _pow_self},
                   on_arrays={"self": _pow_self_array})
POW_TENSOR = defop("pow", inputs=("self", "exponent"), node="PowBackward1", forward=_power,
                   derivatives={
                       "self": _pow_self,
                       "exponent": _pow_exponent,
                   })
RPOW = defop("pow", inputs=("exponent", "self"), node="PowBackward2", no_edge=("self",),
             forward=lambda e, s: _power(s, e), derivatives={
                 "exponent": _rpow_exponent,
             })


def _larger_side(grad, self, other):
    # The gradient goes to the larger input; ties split it in half, as in PyTorch.
    return where(self == other, grad / 2, where(self > other, grad, 0.0))


MAXIMUM = defop("maximum", inputs=("self", "other"), forward=np.maximum, derivatives={
    "self": lambda grad, self, other: _larger_side(grad, self, other),
    "other": lambda grad, self, other: _larger_side(grad, other, self),
})
MINIMUM = defop("minimum", inputs=("self", "other"), forward=np.minimum, derivatives={
    "self": lambda grad, self, other: _larger_side(grad, other, self),
    "other": lambda grad, self, other: _larger_side(grad, self, other),
})


def _is_bool(x) -> bool:
    return type(x) is bool or (isinstance(x, Bound.Tensor) and x._data.dtype.kind == "b")


def _check_bool_sub(input, other) -> None:
    a, b = _is_bool(input), _is_bool(other)
    if a and b:
        raise RuntimeError(_BOOL_SUB_BOTH)
    if a or b:
        raise RuntimeError(_BOOL_SUB_ONE)


def _alpha(input, other, alpha):
    """``alpha`` as ``add``/``sub`` apply it, or None where it does not scale (it is 1).

    PyTorch's checks: alpha takes no part in type promotion, so it must fit the result
    dtype; for a bool result it acts as a bool."""
    from ..dtype import bool_, result_type
    dt = result_type(input, other)
    if type(alpha) is bool:
        if dt is not bool_:
            raise RuntimeError("Boolean alpha only supported for Boolean results.")
    elif isinstance(alpha, float) and not dt.is_floating_point:
        raise RuntimeError("For integral input tensors, argument alpha must not be a floating "
                           "point number.")
    elif alpha == 1:
        return None
    if dt is bool_:
        return None if alpha else False
    checked_fill_value(alpha, dt)  # alpha must fit the result dtype
    return alpha


def _number_first(input, other, name):
    """A number given as the first operand of function ``name``, which takes tensors: a 0-d
    tensor of the result dtype, which then promotes as the number does (PyTorch wraps it
    likewise). Anything else raises PyTorch's TypeError."""
    from ..dtype import result_type
    if isinstance(input, np.generic):
        input = input.item()
    if type(input) not in (int, float, bool) or not isinstance(other, Bound.Tensor):
        raise not_tensor(name, "input", 1, input)
    return Bound.new(np.array(input).astype(result_type(input, other).np))


def _checked(out, name, other):
    """``out`` of ``binary``, which is NotImplemented for an ``other`` that is neither a
    tensor nor a number: PyTorch's TypeError for the function."""
    if out is NotImplemented:
        raise not_tensor(name, "other", 2, other)
    return out


def add(input, other, *, alpha=1):
    """``input + alpha * other``, broadcasting by PyTorch's rules."""
    if not isinstance(input, Bound.Tensor):
        input = _number_first(input, other, "add")
    if (alpha != 1 or type(alpha) is bool) and \
            (alpha := _alpha(input, other, alpha)) is not None:
        return _checked(binary(ADD_ALPHA, input, other, attrs={"alpha": alpha}), "add", other)
    out = binary(ADD, input, other)
    if out is NotImplemented:
        raise not_tensor("add", "other", 2, other)
    return out


def sub(input, other, *, alpha=1):
    """``input - alpha * other``."""
    _check_bool_sub(input, other)
    if not isinstance(input, Bound.Tensor):
        input = _number_first(input, other, "sub")
    if (alpha != 1 or type(alpha) is bool) and \
            (alpha := _alpha(input, other, alpha)) is not None:
        return _checked(binary(SUB_ALPHA, input, other, attrs={"alpha": alpha}), "sub", other)
    return _checked(binary(SUB, input, other), "sub", other)


def rsub(input, other, *, alpha=1):
    """``other - alpha * input`` (``other`` a Python scalar)."""
    _check_bool_sub(input, other)
    if (alpha != 1 or type(alpha) is bool) and \
            (alpha := _alpha(input, other, alpha)) is not None:
        return binary(RSUB_ALPHA, input, other, attrs={"alpha": alpha})
    return rbinary(RSUB, input, other)


def mul(input, other):
    """``input * other``, broadcasting by PyTorch's rules."""
    if not isinstance(input, Bound.Tensor):
        input = _number_first(input, other, "mul")
    out = binary(MUL, input, other)
    if out is NotImplemented:
        raise not_tensor("mul", "other", 2, other)
    return out


def div(input, other, *, rounding_mode=None):
    """True division, or ``rounding_mode='floor'``/``'trunc'`` division (whose gradient is
    zero)."""
    if not isinstance(input, Bound.Tensor):
        input = _number_first(input, other, "div")
    if rounding_mode is None:
        return _checked(binary(DIV, input, other, promote="float"), "div", other)
    if rounding_mode not in ("floor", "trunc"):
        raise RuntimeError(
            f"div expected rounding_mode to be one of None, 'trunc', or 'floor' but found "
            f"'{rounding_mode}'"
        )
    _no_bool_kernel(f"div_{rounding_mode}", input, other)
    return _checked(binary(DIV_FLOOR if rounding_mode == "floor" else DIV_TRUNC, input, other),
                    "div", other)


def _no_bool_kernel(kernel: str, input, other) -> None:
    """PyTorch has no bool kernel for rounded division or remainder."""
    if _is_bool(input) and _is_bool(other):
        raise NotImplementedError(f"\"{kernel}_cpu\" not implemented for 'Bool'")


def floor_divide(input, other):
    """``input // other``: the quotient rounded down (PyTorch defines no gradient)."""
    _no_bool_kernel("div_floor", input, other)
    if not isinstance(input, Bound.Tensor):
        return rbinary(FLOOR_DIVIDE_R, other, input)
    if isinstance(other, Bound.Tensor):
        return binary(FLOOR_DIVIDE, input, other)
    return binary(FLOOR_DIVIDE_SCALAR, input, other)


def remainder(input, other):
    """``input % other`` with the sign of ``other`` (Python's modulus)."""
    _no_bool_kernel("remainder", input, other)
    if not isinstance(input, Bound.Tensor):
        return rbinary(REMAINDER_R, other, input)
    if isinstance(other, Bound.Tensor):
        return binary(REMAINDER, input, other)
    return binary(REMAINDER_SCALAR, input, other)


def fmod(input, other):
    """``input - trunc(input / other) * other``: C's ``fmod``, whose result has the sign of
    ``input`` (``remainder`` takes the sign of ``other``). Integer division by zero raises."""
    if not isinstance(input, Bound.Tensor):
        raise invalid_arguments("fmod", f"{type_name(input)}, {type_name(other)}",
                                "Tensor input, Tensor other, *, Tensor out = None",
                                "Tensor input, Number other, *, Tensor out = None")
    _no_bool_kernel("fmod", input, other)
    op = FMOD if isinstance(other, Bound.Tensor) else FMOD_SCALAR
    return _checked(binary(op, input, other), "fmod", other)


def _no_bool_pow(base, exponent) -> None:
    from ..dtype import bool_, result_type
    if result_type(base, exponent) is bool_:
        raise NotImplementedError("\"pow\" not implemented for 'Bool'")


def _int_pow_scalar(input, exponent):
    """A Python-number exponent of an integer or bool tensor, checked as PyTorch checks it."""
    if type(exponent) is bool:
        if input._data.dtype.kind == "b":  # bool ** bool stays bool: x ** True is x
            return Bound.new(input._data | (not exponent))
        return exponent
    if type(exponent) is int:
        if exponent < 0:
            raise RuntimeError("Integers to negative integer powers are not allowed.")
        if input._data.dtype.kind != "b":
            from ..dtype import FROM_NUMPY
            checked_fill_value(exponent, FROM_NUMPY[input._data.dtype])
    return exponent


def pow(input, exponent):
    """``input ** exponent`` for a Tensor or Python-scalar base or exponent."""
    if exponent.__class__ is int and exponent == 2 and input.__class__ is Bound.Tensor \
            and input._data.dtype.kind == "f":
        return binary(POW_SQUARE, input, exponent)  # the common case, checked first
    if not isinstance(input, Bound.Tensor):
        if exponent._data.dtype.kind == "b":
            _no_bool_pow(input, exponent)
        return rbinary(RPOW, exponent, input)
    if isinstance(exponent, Bound.Tensor):
        if input._data.dtype.kind == "b":
            _no_bool_pow(input, exponent)
        return binary(POW_TENSOR, input, exponent)
    if input._data.dtype.kind != "f":
        exponent = _int_pow_scalar(input, exponent)
        if isinstance(exponent, Bound.Tensor):
            return exponent
    elif input._data.dtype == np.float16:  # the exponent must fit the dtype
        from ..dtype import float16
        checked_fill_value(exponent, float16)
    if exponent.__class__ is int and exponent == 2:
        return binary(POW_SQUARE, input, exponent)
    return binary(POW, input, exponent)


def check_tensors(name: str, input, other, other_name: str = "other") -> None:
    """PyTorch's TypeError where an operand of a function that takes only tensors is not
    one."""
    if not isinstance(input, Bound.Tensor):
        raise not_tensor(name, "input", 1, input)
    if not isinstance(other, Bound.Tensor):
        raise not_tensor(name, other_name, 2, other)


def maximum(input, other):
    """The elementwise maximum of two tensors."""
    check_tensors("maximum", input, other)
    return binary(MAXIMUM, input, other)


def minimum(input, other):
    """The elementwise minimum of two tensors."""
    check_tensors("minimum", input, other)
    return binary(MINIMUM, input, other)


# ---- unary math ------------------------------------------------------------------------
NEG = defop("neg", forward=np.negative, derivatives={"self": lambda grad: -grad},
            on_arrays={"self": lambda grad: np.negative(grad)})
ABS = defop("abs", forward=np.abs, derivatives={"self": lambda grad, self: grad * self.sgn()})
SIGN = defop("sign", forward=np.sign, derivatives={"self": zeros_grad})
# sgn is sign for real tensors (PyTorch's abs derivative uses it). Its node saves the input
# and the result (for complex tensors), so a second backward through it raises.
SGN = defop("sgn", forward=np.sign,
            derivatives={"self": lambda grad, self, result: zeros_grad(grad)})
EXP = defop("exp", forward=np.exp, derivatives={"self": lambda grad, result: grad * result},
            on_arrays={"self": lambda grad, result: np.multiply(grad, result)})
def _quiet(ufunc):
    """``ufunc`` without NumPy's warnings at the edges of its domain (log(0) = -inf,
    sqrt(-1) = nan, 1/0 = inf), which PyTorch returns silently."""
    def forward(x):
        with np.errstate(divide="ignore", invalid="ignore"):
            return ufunc(x)
    return forward


LOG = defop("log", forward=_quiet(np.log), derivatives={"self": lambda grad, self: grad / self},
            on_arrays={"self": lambda grad, self: np.true_divide(grad, self)})
LOG10 = defop("log10", compute_bound=True, forward=_quiet(np.log10), derivatives={
    "self": lambda grad, self: grad / (self * 2.3025850929940456)})  # ln(10)
LOG1P = defop("log1p", node="Log1PBackward0", compute_bound=True, forward=_quiet(np.log1p),
              derivatives={"self": lambda grad, self: grad / (self + 1)})
SQRT = defop("sqrt", forward=_quiet(np.sqrt), derivatives={
    "self": lambda grad, result: grad / (2 * result)})
RECIPROCAL = defop("reciprocal", forward=_quiet(np.reciprocal), derivatives={
    "self": lambda grad, result: -grad * result * result})
SIN = defop("sin", forward=np.sin, derivatives={"self": lambda grad, self: grad * self.cos()})
COS = defop("cos", forward=np.cos, derivatives={"self": lambda grad, self: -grad * self.sin()})
# On large arrays the fused derivatives reuse one temporary (each fresh array costs a memory
# pass); small ones, broadcast (batched) gradients and 0-d arrays take the plain expression.
_BIG = 1 << 16

def _one(dt):
    """A cached read-only 0-d 1 of NumPy dtype ``dt``: NumPy takes it faster than a Python 1."""
    one = _ONES.get(dt)
    if one is None:
        one = _ONES[dt] = np.array(1, dtype=dt)
        one.flags.writeable = False
    return one


_ONES = {}


# Also tanh's array formula (hence the parameter names: the gradient and tanh's result).
def _tanh_backward_forward(grad, result):
    y = result
    if y.__class__ is not np.ndarray:
        return grad * (1 - y * y)
    if y.size < _BIG or y.shape != np.shape(grad):
        one = _ONES.get(y.dtype)  # in line: this runs once per tanh node
        if one is None:
            one = _one(y.dtype)
        return np.multiply(np.subtract(one, np.multiply(y, y)), grad)
    t = np.multiply(y, y)
    np.subtract(1, t, out=t)
    return np.multiply(grad, t, out=t)


def _sigmoid_backward_forward(g, y):
    if y.__class__ is not np.ndarray:
        return g * y * (1 - y)
    if y.size < _BIG or y.shape != np.shape(g):
        return g * y * (_scalar_array(1, y.dtype) - y)
    t = np.subtract(1, y)
    np.multiply(t, y, out=t)
    return np.multiply(g, t, out=t)


TANH_BACKWARD = defop("tanh_backward", inputs=("grad_output", "output"),
                      forward=_tanh_backward_forward, derivatives={
                          "grad_output": lambda grad, output: tanh_backward(grad, output),
                          "output": lambda grad, grad_output, output:
                              -2 * grad * grad_output * output,
                      })
TANH = defop("tanh", forward=np.tanh, derivatives={
    "self": lambda grad, result: tanh_backward(grad, result)},
    on_arrays={"self": _tanh_backward_forward})


def tanh_backward(grad, output):
    """``grad * (1 - output**2)`` in one op: the derivative of tanh at its output."""
    return binary(TANH_BACKWARD, grad, output)


def _sigmoid_forward(x):
    # exp of a large negative argument overflows harmlessly to inf; 1/(1+inf) is 0 (NumPy's
    # overflow warning from ember's own calls is filtered in ember.backend).
    if x.__class__ is not np.ndarray or x.size < _BIG:
        return np.reciprocal(1 + np.exp(-x))
    t = np.negative(x)
    np.exp(t, out=t)
    t += 1
    return np.reciprocal(t, out=t)


SIGMOID_BACKWARD = defop("sigmoid_backward", inputs=("grad_output", "output"),
                         forward=_sigmoid_backward_forward, derivatives={
                             "grad_output": lambda grad, output: sigmoid_backward(grad, output),
                             "output": lambda grad, grad_output, output:
                                 grad * grad_output * (1 - 2 * output),
                         })
SIGMOID = defop("sigmoid", forward=_sigmoid_forward, derivatives={
    "self": lambda grad, result: sigmoid_backward(grad, result)},
    on_arrays={"self": lambda grad, result: _sigmoid_backward_forward(grad, result)})


def sigmoid_backward(grad, output):
    """``grad * output * (1 - output)`` in one op: the derivative of sigmoid at its output."""
    return binary(SIGMOID_BACKWARD, grad, output)


_SAME_SIZE_INT = {np.dtype(np.float16): np.int16, np.dtype(np.float32): np.int32,
                  np.dtype(np.float64): np.int64}


def _where_positive(grad, result):
    """``np.where(result > 0, grad, 0)``, computed by clearing the bits of ``grad`` where
    ``result <= 0``: the same values (a NaN gradient at a masked place gives 0), but NumPy's
    ``where`` with a data-dependent mask is about 20x slower than this on large arrays."""
    as_int = _SAME_SIZE_INT.get(grad.dtype)
    if as_int is None or grad.__class__ is not np.ndarray or grad.shape != result.shape \
            or not grad.ndim:
        return np.where(result > 0, grad, 0)
    mask = np.greater(result, 0).view(np.uint8).astype(as_int)
    np.negative(mask, out=mask)  # all bits set where result > 0, none elsewhere
    np.bitwise_and(grad.view(as_int), mask, out=mask)
    return mask.view(grad.dtype)


RELU = defop("relu", forward=lambda x: np.maximum(x, 0, dtype=x.dtype), derivatives={
    "self": lambda grad, result: where(result > 0, grad, 0.0)},
    on_arrays={"self": _where_positive})
TRUNC = defop("trunc", forward=np.trunc, derivatives={"self": lambda grad: grad * 0})
FLOOR = defop("floor", forward=np.floor, derivatives={"self": lambda grad: grad * 0})
CEIL = defop("ceil", forward=np.ceil, derivatives={"self": lambda grad: grad * 0})
ROUND = defop("round", forward=np.round, derivatives={"self": lambda grad: grad * 0})


def _float_input(x):
    # Integer tensors go through floating math in the default dtype, as in PyTorch.
    try:
        if x._data.dtype.kind == "f":
            return x
    except AttributeError:  # not a tensor: PyTorch's TypeError, named for the calling op
        raise not_tensor(sys._getframe(1).f_code.co_name, "input", 1, x) from None
    from ..dtype import get_default_dtype
    return x.to(get_default_dtype())


def _data(x, depth: int = 1):
    """The array of tensor ``x``; PyTorch's TypeError, named for the op that called
    (``depth`` frames up), where ``x`` is not a tensor."""
    try:
        return x._data
    except AttributeError:
        raise not_tensor(sys._getframe(depth).f_code.co_name, "input", 1, x) from None


def neg(input):
    if _data(input).dtype.kind == "b":
        raise RuntimeError(
            "Negation, the `-` operator, on a bool tensor is not supported. If you are trying "
            "to invert a mask, use the `~` or `logical_not()` operator instead."
        )
    return unary(NEG, input)


def _no_bool(kernel: str, input) -> None:
    """PyTorch has no bool kernel for ``kernel``."""
    if _data(input, 2).dtype.kind == "b":
        raise NotImplementedError(f"\"{kernel}\" not implemented for 'Bool'")


def abs(input):
    _no_bool("abs_cpu", input)
    return unary(ABS, input)


def sign(input):
    """The sign of each element: -1, 0 or 1 (a bool tensor is its own sign)."""
    if _data(input).dtype.kind == "b":
        return Bound.new(input._data.copy())
    return unary(SIGN, input)


def sgn(input):
    """``sign`` for real tensors (PyTorch's extension of sign to complex numbers)."""
    if _data(input).dtype.kind == "b":
        return Bound.new(input._data.copy())
    return unary(SGN, input)


def exp(input):
    return unary(EXP, _float_input(input))


def log(input):
    return unary(LOG, _float_input(input))


def log10(input):
    """The base-10 logarithm of ``input``, elementwise."""
    return unary(LOG10, _float_input(input))


def log1p(input):
    """``log(1 + input)``, elementwise (accurate for small ``input``)."""
    return unary(LOG1P, _float_input(input))


def sqrt(input):
    return unary(SQRT, _float_input(input))


def reciprocal(input):
    return unary(RECIPROCAL, _float_input(input))


def sin(input):
    return unary(SIN, _float_input(input))


def cos(input):
    return unary(COS, _float_input(input))


def tanh(input):
    return unary(TANH, _float_input(input))


def sigmoid(input):
    return unary(SIGMOID, _float_input(input))


def relu(input):
    if _data(input).dtype.kind == "b":
        raise RuntimeError("Boolean inputs not supported for relu")
    return unary(RELU, input)


def trunc(input):
    _no_bool("trunc_vml_cpu", input)
    return unary(TRUNC, input)


def floor(input):
    _no_bool("floor_vml_cpu", input)
    return unary(FLOOR, input)


def ceil(input):
    _no_bool("ceil_vml_cpu", input)
    return unary(CEIL, input)


def round(input):
    _no_bool("round_vml_cpu", input)
    return unary(ROUND, input)


# ---- clamp and where -------------------------------------------------------------------
def _clamp_forward(x, min=None, max=None):
    if min is not None and max is not None:
        return np.minimum(np.maximum(x, min), max).astype(x.dtype, copy=False)
    if min is not None:
        return np.maximum(x, min).astype(x.dtype, copy=False)
    return np.minimum(x, max).astype(x.dtype, copy=False)


def _clamp_grad(grad, self, min, max):
    if min is not None and max is not None:
        mask = (self >= min) & (self <= max)
    elif min is not None:
        mask = self >= min
    else:
        mask = self <= max
    return where(mask, grad, 0.0)


CLAMP = defop("clamp", node="ClampBackward1", forward=_clamp_forward, derivatives={
    "self": _clamp_grad})


def _clamp_tensor_forward(x, lo, hi, dtype):
    # Every operand is cast to the result dtype first, as in PyTorch (a negative int8 bound
    # of a uint8 tensor wraps).
    out = x.astype(dtype, copy=False)
    if lo is not None:
        out = np.maximum(out, lo.astype(dtype, copy=False) if hasattr(lo, "astype") else lo)
    if hi is not None:
        out = np.minimum(out, hi.astype(dtype, copy=False) if hasattr(hi, "astype") else hi)
    return out.astype(dtype, copy=False)


def _clamp_tensor_self(grad, self, min, max):
    if min is not None and max is not None:
        mask = logical_and(self >= min, self <= max)
    elif min is not None:
        mask = self >= min
    else:
        mask = self <= max
    return where(mask, grad, 0.0)


def _clamp_tensor_min(grad, self, min, max):
    # Where min > max the output is max, whichever side self is on.
    if max is None:
        return where(self < min, grad, 0.0)
    return where(logical_and(self < min, min < max), grad, 0.0)


def _clamp_tensor_max(grad, self, min, max):
    if min is None:
        return where(self > max, grad, 0.0)
    return where(logical_or(self > max, max < min), grad, 0.0)


CLAMP_TENSOR = defop("clamp", inputs=("self", "min", "max"), node="ClampBackward0",
                     forward=_clamp_tensor_forward, derivatives={
                         "self": _clamp_tensor_self,
                         "min": _clamp_tensor_min,
                         "max": _clamp_tensor_max,
                     })


def _clamp_dtype(input, min, max):
    from ..dtype import result_type
    return result_type(input, *(b for b in (min, max) if b is not None))


def clamp(input, min=None, max=None):
    """Clamp every element into ``[min, max]``; either bound may be None (not both). Where
    ``min > max`` every element is ``max``. The result dtype promotes ``input`` with the
    bounds (an integer tensor clamped to float bounds is floating)."""
    if min is None and max is None:
        raise RuntimeError("torch.clamp: At least one of 'min' or 'max' must not be None"
                           .replace("torch.", "ember."))
    if isinstance(min, Bound.Tensor) or isinstance(max, Bound.Tensor):
        dt = _clamp_dtype(input, min, max)
        if dt.name == "bool" and min is not None and max is not None:
            raise NotImplementedError("\"clamp_cpu\" not implemented for 'Bool'")
        return apply(CLAMP_TENSOR, (input, min, max), {"dtype": dt.np})
    if input._data.dtype.kind != "f":  # a float tensor keeps its dtype for number bounds
        dt = _clamp_dtype(input, min, max)
        if dt.name == "bool":
            kernel = "clamp_min" if max is None else "clamp_max" if min is None else "clamp"
            raise NotImplementedError(f"\"{kernel}_scalar_cpu\" not implemented for 'Bool'")
        if not dt.is_floating_point:  # the bounds must fit the result dtype
            min = None if min is None else checked_fill_value(min, dt).item()
            max = None if max is None else checked_fill_value(max, dt).item()
        if dt.np is not input._data.dtype:
            input = input.to(dt)
    elif input._data.dtype == np.float16:  # the bounds must fit the dtype
        for bound in (min, max):
            if bound is not None:
                checked_fill_value(bound, input.dtype)
    return unary(CLAMP, input, {"min": min, "max": max})


def clamp_(input, min=None, max=None):
    """``clamp`` in place; the result dtype (promoted with the bounds) must fit ``input``."""
    from ..dtype import can_cast
    from .inplace import inplace
    if not isinstance(min, Bound.Tensor) and not isinstance(max, Bound.Tensor) and \
            input._data.dtype.kind != "f":
        dt = _clamp_dtype(input, min, max)
        if not can_cast(dt, input.dtype):
            raise RuntimeError(f"result type {SCALAR_TYPE_NAMES[dt.name]} can't be cast to the "
                               f"desired output type {CPP_TYPE_NAMES[input.dtype.name]}")
    return inplace(input, clamp, min, max)


# The condition comes last: it is no autograd input (PyTorch's node has edges for self and
# other only).
WHERE = defop("where", inputs=("self", "other", "condition"), no_edge=("condition",),
              forward=lambda x, y, condition: np.where(condition, x, y), derivatives={
    "self": lambda grad, condition: where(condition, grad, 0.0),
    "other": lambda grad, condition: where(condition, 0.0, grad),
})


def where(condition, input=None, other=None):
    """``input`` where ``condition`` holds, else ``other``; scalars allowed for either."""
    Tensor = Bound.Tensor
    if input is None and other is None:
        return condition.nonzero(as_tuple=True)
    if not isinstance(condition, Tensor) or condition.dtype.name != "bool":
        got = condition.dtype if isinstance(condition, Tensor) else type(condition).__name__
        raise RuntimeError(f"where expected condition to be a boolean tensor, but got a tensor "
                           f"with dtype {str(got).replace('ember.', '').capitalize()}")
    from ..dtype import result_type
    dt = result_type(*(x for x in (input, other)))
    if not dt.is_floating_point and dt.name != "bool":  # numbers must fit the result dtype
        if not isinstance(input, Tensor):
            input = checked_fill_value(input, dt).item()
        if not isinstance(other, Tensor):
            other = checked_fill_value(other, dt).item()
    if isinstance(input, Tensor) and input.dtype is not dt:
        input = input.to(dt)
    if isinstance(other, Tensor) and other.dtype is not dt:
        other = other.to(dt)
    if not isinstance(input, Tensor) and not isinstance(other, Tensor):
        input = Bound.new(array_module(condition.device).asarray(input, dtype=dt.np))
    shape = condition.shape
    for x in (input, other):
        if isinstance(x, Tensor) and x.shape != shape:
            from ._apply import broadcast_error
            err = broadcast_error(shape, x.shape)
            if err is not None:
                raise err
            shape = np.broadcast_shapes(shape, x.shape)
    return apply(WHERE, (input, other, condition))


# ---- comparisons and logic (never differentiable) ----------------------------------------
def _array_op(fn, input, a, b):
    """``fn(a, b)`` on the arrays of ``input`` and the other operand, as a tensor, with
    PyTorch's error where their shapes do not broadcast."""
    try:
        return Bound.new(fn(a, b))
    except ValueError:
        from ._apply import broadcast_error
        err = broadcast_error(input.shape, np.shape(b))
        if err is None:
            raise
        raise err from None


def _compare(fn, name=None):
    """Comparison ``fn`` as a Tensor operator, which returns ``NotImplemented`` for an
    operand it does not take (so that ``t == None`` is False, as in PyTorch), or, given the
    op's ``name``, as its function and method, which raise PyTorch's TypeError instead."""
    def op(input, other):
        Tensor = Bound.Tensor
        if name is not None and not isinstance(input, Tensor):
            raise _invalid_comparison(name, input, other)
        if isinstance(other, Tensor):
            a, b = input._data, other._data
            if a.dtype is not b.dtype:
                from ..dtype import result_type
                dt = result_type(input, other).np
                a, b = a.astype(dt, copy=False), b.astype(dt, copy=False)
        elif type(other) in (int, float, bool) or isinstance(other, np.generic):
            a, b = input._data, other
            if isinstance(b, np.generic):
                b = b.item()
            if type(b) is int and a.dtype.kind in "iu":
                # PyTorch casts an int scalar to the tensor's dtype, wrapping out-of-range
                # values; NumPy would compare the exact values instead. (A NumPy scalar: a
                # host 0-d array does not mix with a CuPy array.)
                b = np.array(b).astype(a.dtype)[()]
        elif name is not None:
            raise _invalid_comparison(name, input, other)
        else:
            return NotImplemented
        return _array_op(fn, input, a, b)
    op.__name__ = name or fn.__name__
    return op


eq_operator = _compare(np.equal)
ne_operator = _compare(np.not_equal)
lt_operator = _compare(np.less)
le_operator = _compare(np.less_equal)
gt_operator = _compare(np.greater)
ge_operator = _compare(np.greater_equal)


def _invalid_comparison(name, input, other) -> TypeError:
    """PyTorch's TypeError where an operand of a comparison is neither a tensor nor a
    number, or the first is not a tensor."""
    return invalid_arguments(name, f"{type_name(input)}, {type_name(other)}",
                             "Tensor input, Tensor other, *, Tensor out = None",
                             "Tensor input, Number other, *, Tensor out = None")


eq = _compare(np.equal, "eq")
ne = _compare(np.not_equal, "ne")
lt = _compare(np.less, "lt")
le = _compare(np.less_equal, "le")
gt = _compare(np.greater, "gt")
ge = _compare(np.greater_equal, "ge")


def invalid_arguments(name, got, *signatures):
    """PyTorch's TypeError for arguments that match none of an op's ``signatures``."""
    lines = "".join(f" * ({s})\n" for s in signatures)
    return TypeError(f"{name}() received an invalid combination of arguments - got "
                     f"({got}), but expected one of:\n{lines}")


def type_name(value) -> str:
    """A value's type as PyTorch's argument errors name it (``int``, ``numpy.float32``)."""
    tp = type(value)
    return f"numpy.{tp.__name__}" if tp.__module__ == "numpy" else tp.__name__


def not_tensor(name: str, arg: str, position: int, value) -> TypeError:
    """PyTorch's TypeError for argument ``arg`` of ``name``, a ``value`` that should have
    been a Tensor."""
    return TypeError(f"{name}(): argument '{arg}' (position {position}) must be Tensor, not "
                     f"{type_name(value)}")


def _logical(fn):
    compare = _compare(fn)

    def op(input, other):
        """Elementwise logic over the truth values of two tensors (a bool tensor)."""
        check_tensors(fn.__name__, input, other)
        return compare(input, other)
    op.__name__ = fn.__name__
    return op


logical_and = _logical(np.logical_and)
logical_or = _logical(np.logical_or)
logical_xor = _logical(np.logical_xor)


def _not_implemented(kernel: str, dt) -> NotImplementedError:
    return NotImplementedError(f'"{kernel}" not implemented for \'{SCALAR_TYPE_NAMES[dt.name]}\'')


def _bitwise(fn, name):
    def op(input, other):
        """Elementwise bitwise logic of integer or bool operands, promoted as PyTorch does."""
        Tensor = Bound.Tensor
        if not isinstance(input, Tensor):
            input, other = other, input  # the operation is symmetric
        if isinstance(other, Tensor):
            b = other._data
        elif type(other) in (int, float, bool) or isinstance(other, np.generic):
            b = other.item() if isinstance(other, np.generic) else other
        else:
            return NotImplemented
        from ..dtype import result_type
        dt = result_type(input, other)
        if dt.is_floating_point:
            raise _not_implemented(f"{name}_cpu", dt)
        a = input._data.astype(dt.np, copy=False)
        if isinstance(other, Tensor):
            b = b.astype(dt.np, copy=False)
        else:  # a Python number is cast to the result dtype, wrapping as in PyTorch
            b = np.array(b).astype(dt.np).item()
        return _array_op(fn, input, a, b)
    op.__name__ = name
    return op


bitwise_and = _bitwise(np.bitwise_and, "bitwise_and")
bitwise_or = _bitwise(np.bitwise_or, "bitwise_or")
bitwise_xor = _bitwise(np.bitwise_xor, "bitwise_xor")


def promoted_inplace(input, fn, other, **kwargs):
    """``fn(input, other)`` written into ``input`` (``&=``, ``//=``, ``remainder_``, ...):
    PyTorch checks that the result dtype can be written into ``input`` before it looks for
    a kernel or divides by zero."""
    from ..dtype import can_cast, result_type
    from .inplace import inplace
    dt = result_type(input, other)
    if not can_cast(dt, input.dtype):
        raise RuntimeError(f"result type {SCALAR_TYPE_NAMES[dt.name]} can't be cast to the desired "
                           f"output type {SCALAR_TYPE_NAMES[input.dtype.name]}")
    return inplace(input, fn, other, **kwargs)


def logical_not(input):
    return Bound.new(np.logical_not(_data(input)))


def bitwise_not(input):
    """The bitwise NOT of an integer tensor (logical NOT of a bool tensor)."""
    if _data(input).dtype.kind == "f":
        raise _not_implemented("bitwise_not_cpu", input.dtype)
    return Bound.new(np.invert(input._data))


def invert(input):
    """``~input``: ``bitwise_not``, with the TypeError of Python's operator for floats."""
    if input.dtype.is_floating_point:
        raise TypeError("~ (operator.invert) is only implemented on integer and Boolean-type "
                        "tensors")
    return bitwise_not(input)


def isnan(input):
    return Bound.new(np.isnan(_data(input)))


def isinf(input):
    return Bound.new(np.isinf(_data(input)))


def isfinite(input):
    return Bound.new(np.isfinite(_data(input)))
