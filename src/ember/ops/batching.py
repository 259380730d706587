"""Batch rules: how ember's ops take gradients with a leading batch dim.

Used by batched backward (``autograd.grad(..., is_grads_batched=True)``, the vectorized
``jacobian``/``hessian``). Three kinds of rule:

- elementwise ops: their formulas broadcast a ``(B, *out)`` gradient against saved values
  of at most the output's rank, so the node runs unchanged;
- shape ops whose formulas take shapes and dims: the node runs with ``(B, *shape)`` for
  each saved shape and dims shifted past the batch dim;
- matrix products and a few others: a batched formula written here.

A node without a rule (reductions that select elements, indexing, CopySlices, custom
Functions, any op added later) runs once per batch row: always right, just slower.
"""

from __future__ import annotations

from ..autograd.batching import register, sum_leading
from .registry import _ATTR, _SHAPE

_ELEMENTWISE = (
    "AddBackward0", "SubBackward0", "RsubBackward1", "MulBackward0", "DivBackward0",
    "RemainderBackward0", "RemainderBackward1", "PowBackward0", "PowBackward1", "PowBackward2",
    "MaximumBackward0", "MinimumBackward0", "NegBackward0", "AbsBackward0", "SignBackward0",
    "ExpBackward0", "LogBackward0", "SqrtBackward0", "ReciprocalBackward0", "SinBackward0",
    "CosBackward0", "TanhBackward0", "SigmoidBackward0", "ReluBackward0", "TruncBackward0",
    "FloorBackward0", "CeilBackward0", "RoundBackward0", "ClampBackward1", "WhereBackward0",
    "CloneBackward0", "ToCopyBackward0", "AliasBackward0", "CopyBackwards", "DivBackward2",
    "ClampBackward0", "ZeroBackward0", "FillBackward2", "MulBackward1", "SubBackward1",
    "TanhBackwardBackward0", "SigmoidBackwardBackward0",
)


def _elementwise(node, grads, needs, batch):
    return node.apply(grads, needs)


def _shift(d):
    return d + 1 if d >= 0 else d


def _shift_dims(dims):
    return tuple(_shift(d) for d in dims)


def _shift_perm(dims):
    return (0,) + tuple(d + 1 for d in dims)


def _shifted(spec):
    """A rule that runs the node's formulas with batched shapes and shifted dims."""
    def rule(node, grads, needs, batch):
        saved = node._saved
        if saved is None:
            node._unpack()  # raises the "backward through the graph a second time" error
        values = list(saved)
        for i, (kind, where) in enumerate(node._op.saved):
            if kind == _SHAPE:
                values[i] = (batch,) + tuple(values[i])
            elif kind == _ATTR and where in spec:
                values[i] = spec[where](values[i])
        node._saved = values if isinstance(saved, list) else tuple(values)
        try:
            return node.apply(grads, needs)
        finally:
            node._saved = saved
    return rule


_DIMS = {"dims": _shift_dims}
_DIM = {"dim": _shift}

register(("SumBackward0", "SumBackward1", "MeanBackward0", "MeanBackward1"), _shifted(_DIMS))
register(("ViewBackward0", "UnsafeViewBackward0", "SqueezeBackward0", "SqueezeBackward1",
          "SqueezeBackward2"), _shifted({}))
register(("UnsqueezeBackward0", "SelectBackward0", "SliceBackward0",
          "SelectBackwardBackward0", "SliceBackwardBackward0"), _shifted(_DIM))
register(("TransposeBackward0",), _shifted({"dim0": _shift, "dim1": _shift}))
register(("PermuteBackward0",), _shifted({"dims": _shift_perm}))
register(_ELEMENTWISE, _elementwise)


def _saved(node, name):
    return getattr(node, "_saved_" + name)


def _wants(node, needs, i) -> bool:
    return node.next_functions[i][0] is not None if needs is None else needs[i]


def _two_inputs(self_fn, other_fn, a: str, b: str):
    """A rule for a two-input product from batched formulas for each input."""
    def rule(node, grads, needs, batch):
        grad = grads[0]
        out = [None, None]
        if _wants(node, needs, 0):
            out[0] = self_fn(grad, _saved(node, b))
        if _wants(node, needs, 1):
            out[1] = other_fn(grad, _saved(node, a))
        return out
    return rule


register(("MmBackward0",), _two_inputs(
    lambda grad, mat2: grad.matmul(mat2.t()),
    lambda grad, self: self.t().matmul(grad), "self", "mat2"))
register(("BmmBackward0",), _two_inputs(
    lambda grad, mat2: grad.matmul(mat2.transpose(1, 2)),
    lambda grad, self: self.transpose(1, 2).matmul(grad), "self", "mat2"))
register(("MvBackward0",), _two_inputs(
    lambda grad, vec: grad.unsqueeze(-1) * vec,
    lambda grad, self: grad.matmul(self), "self", "vec"))
register(("DotBackward0",), _two_inputs(
    lambda grad, other: grad.unsqueeze(-1) * other,
    lambda grad, self: grad.unsqueeze(-1) * self, "self", "other"))


def _addmm(node, grads, needs, batch):
    grad = grads[0]
    out = [None, None, None]
    if _wants(node, needs, 0):
        out[0] = grad
    if _wants(node, needs, 1):
        out[1] = grad.matmul(_saved(node, "mat2").t())
    if _wants(node, needs, 2):
        out[2] = _saved(node, "mat1").t().matmul(grad)
    return out


def _squeeze_row(node, grads, needs, batch):
    return [grads[0].unsqueeze(1)]


register(("AddmmBackward0",), _addmm)
register(("SqueezeBackward4",), _squeeze_row)


def _t(node, grads, needs, batch):
    grad = grads[0]
    return [grad.transpose(1, 2) if grad.ndim == 3 else grad]


def _expand(node, grads, needs, batch):
    return [sum_leading(grads[0], _self_shape(node))]


def _self_shape(node):
    for (kind, _where), value in zip(node._op.saved, node._unpack()):
        if kind == _SHAPE:
            return tuple(value)
    raise RuntimeError(f"{node.name()} saved no shape")


register(("TBackward0",), _t)
register(("ExpandBackward0",), _expand)
