"""Matrix products: ``matmul`` (``@``), ``mm``, ``bmm``, ``mv``, ``dot``."""

from __future__ import annotations

import numpy as np

from ._apply import apply, promote_arrays
from .registry import Bound, defop

MM = defop("mm", inputs=("self", "mat2"), forward=np.matmul, derivatives={
    "self": lambda grad, mat2: grad.mm(mat2.t()),
    "mat2": lambda grad, self: self.t().mm(grad),
})
BMM = defop("bmm", inputs=("self", "mat2"), forward=np.matmul, derivatives={
    "self": lambda grad, mat2: grad.bmm(mat2.transpose(1, 2)),
    "mat2": lambda grad, self: self.transpose(1, 2).bmm(grad),
})
MV = defop("mv", inputs=("self", "vec"), forward=np.matmul, derivatives={
    "self": lambda grad, vec: grad.unsqueeze(1) * vec.unsqueeze(0),
    "vec": lambda grad, self: self.t().mv(grad),
})
DOT = defop("dot", inputs=("self", "other"), forward=np.dot, derivatives={
    "self": lambda grad, other: grad * other,
    "other": lambda grad, self: grad * self,
})
# Batched products with broadcast batch dims; the engine sums gradients back over them.
MATMUL = defop("matmul", inputs=("self", "other"), node="MatmulBackward0", forward=np.matmul,
               derivatives={
                   "self": lambda grad, other: grad.matmul(other.mT),
                   "other": lambda grad, self: self.mT.matmul(grad),
               })


def _check_dtypes(name, a, b):
    if a.dtype is not b.dtype:
        raise RuntimeError(
            f"expected m1 and m2 to have the same dtype, but got: {_long(a.dtype)} != "
            f"{_long(b.dtype)}" if name != "dot" else
            f"dot : expected both vectors to have same dtype, but found {_cap(a.dtype)} and "
            f"{_cap(b.dtype)}"
        )


def _long(dt) -> str:
    return {"float32": "float", "float64": "double", "float16": "c10::Half", "int64": "long int",
            "int32": "int", "int16": "short int", "int8": "signed char",
            "uint8": "unsigned char", "bool": "bool"}[dt.name]


def _cap(dt) -> str:
    return {"float32": "Float", "float64": "Double", "float16": "Half", "int64": "Long",
            "int32": "Int", "int16": "Short", "int8": "Char", "uint8": "Byte",
            "bool": "Bool"}[dt.name]


def _device_check(a, b):
    if type(a._data) is not type(b._data):
        from ._apply import device_error
        raise device_error(a, b)


def mm(input, mat2):
    """Matrix product of two 2-d tensors."""
    if input.ndim != 2:
        raise RuntimeError(f"self must be a matrix")
    if mat2.ndim != 2:
        raise RuntimeError("mat2 must be a matrix")
    _device_check(input, mat2)
    _check_dtypes("mm", input, mat2)
    if input.shape[1] != mat2.shape[0]:
        raise RuntimeError(
            f"mat1 and mat2 shapes cannot be multiplied ({input.shape[0]}x{input.shape[1]} and "
            f"{mat2.shape[0]}x{mat2.shape[1]})"
        )
    return apply(MM, (input, mat2))


def bmm(input, mat2):
    """Batched matrix product of two 3-d tensors with the same batch size."""
    if input.ndim != 3:
        raise RuntimeError(f"batch1 must be a 3D tensor")
    if mat2.ndim != 3:
        raise RuntimeError(f"batch2 must be a 3D tensor")
    _device_check(input, mat2)
    _check_dtypes("bmm", input, mat2)
    if input.shape[0] != mat2.shape[0] or input.shape[2] != mat2.shape[1]:
        raise RuntimeError(
            f"Expected size for first two dimensions of batch2 tensor to be: "
            f"[{input.shape[0]}, {input.shape[2]}] but got: [{mat2.shape[0]}, {mat2.shape[1]}]."
        )
    return apply(BMM, (input, mat2))


def mv(input, vec):
    """Matrix-vector product."""
    if input.ndim != 2 or vec.ndim != 1:
        raise RuntimeError(f"vector + matrix @ vector expected, got 1, {input.ndim}, {vec.ndim}")
    _check_dtypes("mv", input, vec)
    if input.shape[1] != vec.shape[0]:
        raise RuntimeError(f"size mismatch, got input ({input.shape[0]}), mat "
                           f"({input.shape[0]}x{input.shape[1]}), vec ({vec.shape[0]})")
    return apply(MV, (input, vec))


def dot(input, other):
    """Inner product of two 1-d tensors."""
    if input.ndim != 1 or other.ndim != 1:
        raise RuntimeError(f"1D tensors expected, but got {input.ndim}D and {other.ndim}D "
                           "tensors")
    _check_dtypes("dot", input, other)
    if input.shape[0] != other.shape[0]:
        raise RuntimeError(
            "inconsistent tensor size, expected tensor [{}] and src [{}] to have the same "
            "number of elements, but got {} and {} elements respectively".format(
                input.shape[0], other.shape[0], input.shape[0], other.shape[0]))
    return apply(DOT, (input, other))


def matmul(input, other):
    """Matrix product with PyTorch's rules for 1-d operands and broadcast batch dims."""
    Tensor = Bound.Tensor
    if not isinstance(other, Tensor):
        return NotImplemented
    da, db = input.ndim, other.ndim
    if da == 0 or db == 0:
        raise RuntimeError(
            f"both arguments to matmul need to be at least 1D, but they are {da}D and {db}D")
    if da == 1 and db == 1:
        return dot(input, other)
    if da == 2 and db == 2:
        return mm(input, other)
    if da == 2 and db == 1:
        return mv(input, other)
    if da == 1 and db == 2:
        return mm(input.unsqueeze(0), other).squeeze(0)
    _device_check(input, other)
    _check_dtypes("matmul", input, other)
    a = input.unsqueeze(0) if da == 1 else input
    b = other.unsqueeze(-1) if db == 1 else other
    if a.shape[-1] != b.shape[-2]:
        raise RuntimeError(
            f"Expected size for first two dimensions of batch2 tensor to be: "
            f"[{b.shape[0] if b.ndim > 2 else 1}, {a.shape[-1]}] but got: "
            f"[{b.shape[0] if b.ndim > 2 else 1}, {b.shape[-2]}]."
        )
    try:
        np.broadcast_shapes(a.shape[:-2], b.shape[:-2])
    except ValueError:
        from ._apply import broadcast_error
        raise broadcast_error(a.shape[:-2], b.shape[:-2]) from None
    out = apply(MATMUL, (a, b))
    if da == 1:
        out = out.squeeze(-2)
    if db == 1:
        out = out.squeeze(-1)
    return out


__all__ = ["mm", "bmm", "mv", "dot", "matmul", "promote_arrays"]
