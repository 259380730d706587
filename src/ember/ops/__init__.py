"""Every differentiable operation, declared once (see ``registry.defop``)."""

from .activation import log_softmax, logsumexp, softmax
from .inplace import copy_, fill_, inplace, inplace_binary, zero_
from .join import cat, concat, concatenate, stack
from .linalg import bmm, dot, matmul, mm, mv
from .pointwise import (
    abs, add, bitwise_and, bitwise_not, bitwise_or, bitwise_xor, ceil, clamp, cos, div, eq,
    exp, floor, floor_divide, fmod, ge, gt, isfinite, isinf, isnan, le, log, log1p, log10,
    logical_and, logical_not, logical_or, logical_xor, lt, maximum, minimum, mul, ne, neg, pow,
    reciprocal, relu, remainder, round, rsub, sgn, sigmoid, sign, sin, sqrt, sub, tanh, trunc,
    where,
)
from .reduction import (
    all, amax, amin, any, argmax, argmin, max, mean, min, prod, sum, sum_to_size,
)
from .registry import Bound, defop
from .shape import (
    alias, clone, contiguous, expand, flatten, flip, narrow, permute, reshape, select, slice_dim,
    squeeze, t, to_dtype, transpose, unflatten, unsqueeze, view,
)
from . import indexing
from . import loss
from . import dims
