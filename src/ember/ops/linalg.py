"""Matrix products: ``matmul`` (``@``), ``mm``, ``bmm``, ``mv``, ``dot``."""

from __future__ import annotations

import math

import numpy as np

from ..dtype import CPP_TYPE_NAMES, SCALAR_TYPE_NAMES
from ._apply import apply, unary
from .pointwise import check_tensors
from .registry import defop

MM = defop("mm", inputs=("self", "mat2"), forward=np.matmul, derivatives={
    "self": lambda grad, mat2: grad.mm(mat2.t()),
    "mat2": lambda grad, self: self.t().mm(grad),
}, on_arrays={
    "self": lambda grad, mat2: grad @ mat2.T,
    "mat2": lambda grad, self: self.T @ grad,
})
BMM = defop("bmm", inputs=("self", "mat2"), forward=np.matmul, derivatives={
    "self": lambda grad, mat2: grad.bmm(mat2.transpose(1, 2)),
    "mat2": lambda grad, self: self.transpose(1, 2).bmm(grad),
}, on_arrays={
    "self": lambda grad, mat2: grad @ mat2.transpose(0, 2, 1),
    "mat2": lambda grad, self: self.transpose(0, 2, 1) @ grad,
})
MV = defop("mv", inputs=("self", "vec"), forward=np.matmul, derivatives={
    "self": lambda grad, vec: grad.unsqueeze(1) * vec.unsqueeze(0),
    "vec": lambda grad, self: self.t().mv(grad),
})
DOT = defop("dot", inputs=("self", "other"), forward=np.dot, derivatives={
    "self": lambda grad, other: grad * other,
    "other": lambda grad, self: grad * self,
})
def _check_dtypes(name, a, b):
    """PyTorch's error (it differs per kernel) for operands of different dtypes."""
    if a.dtype is b.dtype:
        return
    x, y = SCALAR_TYPE_NAMES[a.dtype.name], SCALAR_TYPE_NAMES[b.dtype.name]
    if name == "dot":
        msg = f"dot : expected both vectors to have same dtype, but found {x} and {y}"
    elif name == "bmm":
        msg = f"expected scalar type {x} but found {y}"
    elif name == "mv":
        msg = f"addmv input tensors must have the same dtype, but got {y}, {x}, and {y}"
    else:
        msg = (f"expected m1 and m2 to have the same dtype, but got: "
               f"{CPP_TYPE_NAMES[a.dtype.name]} != {CPP_TYPE_NAMES[b.dtype.name]}")
    raise RuntimeError(msg)


def _device_check(a, b):
    if type(a._data) is not type(b._data):
        from ._apply import device_error
        raise device_error(a, b)


def mm(input, mat2):
    """Matrix product of two 2-d tensors."""
    check_tensors("mm", input, mat2, "mat2")
    if input.ndim != 2:
        raise RuntimeError("self must be a matrix")
    if mat2.ndim != 2:
        raise RuntimeError("mat2 must be a matrix")
    _device_check(input, mat2)
    if input.shape[1] != mat2.shape[0]:
        raise RuntimeError(
            f"mat1 and mat2 shapes cannot be multiplied ({input.shape[0]}x{input.shape[1]} and "
            f"{mat2.shape[0]}x{mat2.shape[1]})"
        )
    _check_dtypes("mm", input, mat2)
    return apply(MM, (input, mat2))


def bmm(input, mat2):
    """Batched matrix product of two 3-d tensors with the same batch size.

    As in PyTorch, operands of different dtypes are refused only where there is something
    to multiply: an empty result, or products over an empty dim (zeros), take ``mat2``'s
    dtype."""
    check_tensors("bmm", input, mat2, "mat2")
    if input.ndim != 3:
        raise RuntimeError("batch1 must be a 3D tensor")
    if mat2.ndim != 3:
        raise RuntimeError("batch2 must be a 3D tensor")
    _device_check(input, mat2)
    if input.shape[0] != mat2.shape[0] or input.shape[2] != mat2.shape[1]:
        raise RuntimeError(
            f"Expected size for first two dimensions of batch2 tensor to be: "
            f"[{input.shape[0]}, {input.shape[2]}] but got: [{mat2.shape[0]}, {mat2.shape[1]}]."
        )
    if input.dtype is not mat2.dtype:
        if 0 in input.shape or mat2.shape[2] == 0:
            input = input.to(mat2.dtype)
        else:
            _check_dtypes("bmm", input, mat2)
    return apply(BMM, (input, mat2))


def mv(input, vec):
    """Matrix-vector product."""
    check_tensors("mv", input, vec, "vec")
    if input.ndim == 0:  # PyTorch sizes the result from ``input.size(0)`` first
        raise IndexError("Dimension specified as 0 but tensor has no dimensions")
    if input.ndim != 2 or vec.ndim != 1:
        raise RuntimeError(f"vector + matrix @ vector expected, got 1, {input.ndim}, {vec.ndim}")
    if input.shape[1] != vec.shape[0]:
        raise RuntimeError(f"size mismatch, got input ({input.shape[0]}), mat "
                           f"({input.shape[0]}x{input.shape[1]}), vec ({vec.shape[0]})")
    _check_dtypes("mv", input, vec)
    return apply(MV, (input, vec))


def dot(input, other):
    """Inner product of two 1-d tensors."""
    check_tensors("dot", input, other, "tensor")
    if input.ndim != 1 or other.ndim != 1:
        raise RuntimeError(f"1D tensors expected, but got {input.ndim}D and {other.ndim}D "
                           "tensors")
    _check_dtypes("dot", input, other)
    if input.shape[0] != other.shape[0]:
        n, m = input.shape[0], other.shape[0]
        raise RuntimeError(
            f"inconsistent tensor size, expected tensor [{n}] and src [{m}] to have the same "
            f"number of elements, but got {n} and {m} elements respectively")
    return apply(DOT, (input, other))


# ``matmul`` of a vector and a matrix: the row of the product, as PyTorch's in-place
# ``squeeze_(0)`` on the ``mm`` result (which names the node SqueezeBackward4).
SQUEEZE_ROW = defop("squeeze_", node="SqueezeBackward4", forward=lambda x: x.reshape(x.shape[1:]),
                    derivatives={"self": lambda grad: grad.unsqueeze(0)})


def _unsafe_view(t, shape):
    from .shape import UNSAFE_VIEW
    return unary(UNSAFE_VIEW, t, {"shape": tuple(shape)})


def _should_fold(a, b) -> bool:
    """Whether ``a @ b`` can run as one ``mm``/``mv`` over the larger operand folded into a
    matrix (PyTorch's rule: without a copy, or where the smaller operand requires grad,
    which keeps its gradient from being computed per batch and then summed)."""
    a_larger = a.ndim >= b.ndim
    big, small = (a, b) if a_larger else (b, a)
    if not (big.ndim >= 3 and small.ndim <= 2):
        return False
    if small.requires_grad:
        return True
    if a.ndim == 2:
        return False
    if big.numel() == 0:
        return True
    shape, strides = list(big.shape), list(big.stride())
    if not a_larger:  # the folded operand is b.mT
        shape[-2:], strides[-2:] = shape[:-3:-1], strides[:-3:-1]
    return all(strides[i] == strides[i + 1] * shape[i + 1] for i in range(big.ndim - 2))


def _folded_matmul(input, other):
    transpose = other.ndim > input.ndim
    if transpose:  # (a @ b) = (b.mT @ a.mT).mT
        t1 = other.mT
        t2 = input.t() if input.ndim == 2 else input
    else:
        t1, t2 = input, other
    out_shape = list(t1.shape[:-1])
    folded = t1.reshape(math.prod(out_shape), t1.shape[-1])
    if t2.ndim == 2:
        out = _unsafe_view(folded.mm(t2), out_shape + [t2.shape[1]])
        return out.mT.contiguous() if transpose else out
    return _unsafe_view(folded.mv(t2), out_shape)


def _batched_matmul(input, other):
    da, db = input.ndim, other.ndim
    n = input.shape[-2] if da > 1 else 1
    m1 = input.shape[-1]
    m2 = other.shape[-2] if db > 1 else other.shape[0]
    p = other.shape[-1] if db > 1 else 1
    batch1 = tuple(input.shape[:max(da - 2, 0)])
    batch2 = tuple(other.shape[:max(db - 2, 0)])
    if da == 3 and db == 3 and batch1[0] != batch2[0]:
        # A batch of one that requires grad: broadcast it through mm instead of copying it.
        if batch1[0] == 1 and input.requires_grad:
            return matmul(input.squeeze(0), other)
        if batch2[0] == 1 and other.requires_grad:
            return matmul(input, other.squeeze(0))
    try:
        batch = tuple(np.broadcast_shapes(batch1, batch2))
    except ValueError:
        from ._apply import broadcast_error
        raise broadcast_error(batch1, batch2) from None
    size = math.prod(batch)
    a = input.expand(*batch, n, m1).reshape(size, n, m1)
    if db == 1:
        b = other.expand(*batch, m2).reshape(size, m2).unsqueeze(2)
    else:
        b = other.expand(*batch, m2, p).reshape(size, m2, p)
    out_shape = batch + ((n,) if da > 1 else ()) + ((p,) if db > 1 else ())
    out = a.bmm(b)
    if db == 1:
        out = out.squeeze(-1)
    return _unsafe_view(out, out_shape)


def matmul(input, other):
    """Matrix product with PyTorch's rules for 1-d operands and broadcast batch dims.

    1-d and 2-d operands use ``dot``, ``mv`` and ``mm``; a batched operand against a vector
    or matrix is folded into one ``mm``/``mv`` where that costs no copy; otherwise batch
    dims are broadcast and flattened into one ``bmm``, as PyTorch does (so the graph has
    the same nodes).
    """
    check_tensors("matmul", input, other, "other")
    da, db = input.ndim, other.ndim
    if da == 0 or db == 0:
        raise RuntimeError(
            f"both arguments to matmul need to be at least 1D, but they are {da}D and {db}D")
    if da == 1 and db == 1:
        return dot(input, other)
    if da == 2 and db == 1:
        return mv(input, other)
    if da == 1 and db == 2:
        return unary(SQUEEZE_ROW, mm(input.unsqueeze(0), other))
    if da == 2 and db == 2:
        return mm(input, other)
    _device_check(input, other)
    if _should_fold(input, other):
        return _folded_matmul(input, other)
    return _batched_matmul(input, other)


__all__ = ["mm", "bmm", "mv", "dot", "matmul"]
