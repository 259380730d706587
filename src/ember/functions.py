"""The ``ember.<op>`` functions: PyTorch's top-level functional API over ``ops``."""

from __future__ import annotations

from .ops import (
    abs,
    add,
    all,
    amax,
    amin,
    any,
    argmax,
    argmin,
    bitwise_and,
    bitwise_not,
    bitwise_or,
    bitwise_xor,
    bmm,
    cat,
    ceil,
    clamp,
    clone,
    concat,
    concatenate,
    cos,
    div,
    dot,
    eq,
    exp,
    flatten,
    flip,
    floor,
    floor_divide,
    fmod,
    ge,
    gt,
    isfinite,
    isinf,
    isnan,
    le,
    log,
    log1p,
    log10,
    log_softmax,
    logical_and,
    logical_not,
    logical_or,
    logical_xor,
    logsumexp,
    lt,
    matmul,
    max,
    maximum,
    mean,
    min,
    minimum,
    mm,
    mul,
    mv,
    narrow,
    ne,
    neg,
    permute,
    pow,
    prod,
    reciprocal,
    relu,
    remainder,
    reshape,
    round,
    rsub,
    select,
    sgn,
    sigmoid,
    sign,
    sin,
    softmax,
    sqrt,
    squeeze,
    stack,
    sub,
    sum,
    t,
    tanh,
    transpose,
    trunc,
    unflatten,
    unsqueeze,
    where,
)
from .ops.conv import conv1d, conv2d
from .ops.pool import max_pool2d
from .ops.shape import chunk, moveaxis, movedim, split, unbind
from .tensor import Tensor

clip = clamp
multiply = mul
subtract = sub
divide = div
true_divide = div
negative = neg
absolute = abs
swapaxes = transpose


def is_tensor(obj) -> bool:
    """Whether ``obj`` is an ember Tensor."""
    return isinstance(obj, Tensor)


def numel(input: Tensor) -> int:
    return input.numel()


def is_floating_point(input: Tensor) -> bool:
    return input.is_floating_point()


def detach(input: Tensor) -> Tensor:
    return input.detach()


def nonzero(input: Tensor, *, as_tuple: bool = False):
    return input.nonzero(as_tuple=as_tuple)


def equal(input: Tensor, other: Tensor) -> bool:
    return input.equal(other)


def expand_copy(input: Tensor, size) -> Tensor:
    return input.expand(size).clone()


def index_put(input: Tensor, indices, values, accumulate: bool = False) -> Tensor:
    from .ops.indexing import index_put as _index_put
    return _index_put(input, indices, values, accumulate)


__all__ = [
    "abs", "absolute", "add", "all", "amax", "amin", "any", "argmax", "argmin", "bitwise_and",
    "bitwise_not", "bitwise_or", "bitwise_xor", "bmm", "ceil",
    "clamp", "clip", "clone", "conv1d", "conv2d", "cos", "detach", "div", "divide", "dot", "eq",
    "equal", "exp",
    "flatten", "flip", "floor", "floor_divide", "fmod", "ge", "gt", "index_put",
    "is_floating_point",
    "is_tensor", "isfinite", "isinf", "isnan", "le", "log", "log10", "log1p", "logical_and",
    "logical_not",
    "logical_or", "logical_xor", "lt", "matmul", "max", "max_pool2d", "maximum", "mean", "min",
    "minimum",
    "mm", "mul", "multiply", "mv", "narrow", "ne", "neg", "negative", "nonzero", "numel",
    "permute", "pow", "prod", "reciprocal", "relu", "remainder", "reshape", "round", "rsub",
    "select", "sgn", "sigmoid", "sign", "sin", "sqrt", "squeeze", "sub", "subtract", "sum",
    "swapaxes", "t", "tanh", "transpose", "true_divide", "trunc", "unflatten", "unsqueeze",
    "where",
    # joining and normalising
    "cat", "concat", "concatenate", "log_softmax", "logsumexp", "softmax", "stack",
    # several views at once; moving dims
    "chunk", "moveaxis", "movedim", "split", "unbind",
]
