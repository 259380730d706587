"""Batched backward (``autograd.grad(..., is_grads_batched=True)``): many VJPs in one pass.

Every gradient flowing through the graph carries a leading batch dim ``B``. A node whose
derivative formulas cannot take that extra dim is run once per row (its rows stacked
again), so results are always those of ``B`` separate backward passes; nodes with a batch
rule run once for all rows. Rules are registered by node name (see ``ember.ops.batching``
for ember's ops); a custom ``Function`` and any op without a rule take the per-row path.
"""

from __future__ import annotations

__all__ = ["RULES", "register", "apply_batched", "fix_batched_grad", "stack", "sum_leading"]

RULES: dict = {}
_rules_loaded = False


def register(names, rule) -> None:
    """Use ``rule(node, grads, needs, batch)`` for the nodes called ``names``."""
    for name in names:
        RULES[name] = rule


def apply_batched(node, grads, needs, batch: int):
    """``node.apply`` on gradients that carry a leading batch dim of size ``batch``."""
    global _rules_loaded
    if not _rules_loaded:
        from ..ops import batching  # noqa: F401  (registers the rules of ember's ops)
        _rules_loaded = True
    rule = RULES.get(type(node).__name__)
    if rule is not None:
        return rule(node, grads, needs, batch)
    return per_row(node, grads, needs, batch)


def per_row(node, grads, needs, batch: int):
    """Run ``node`` once per batch row and stack the rows (the fallback for any node)."""
    from .engine import _fix_grad
    meta = node._meta
    rows = []
    for b in range(batch):
        outs = node.apply([None if g is None else g[b] for g in grads], needs)
        fixed = []
        for i, g in enumerate(outs):
            if g is not None and meta is not None and meta[i] is not None:
                g = _fix_grad(g, meta[i], node, i)
            fixed.append(g)
        rows.append(fixed)
    result = []
    for i in range(len(rows[0]) if rows else len(node.next_functions)):
        column = [row[i] for row in rows]
        present = next((g for g in column if g is not None), None)
        if present is None:
            result.append(None)
            continue
        column = [g if g is not None else present * 0 for g in column]
        result.append(stack(column))
    return result


def sum_leading(g, shape):
    """Sum a batched gradient ``(B, *broadcast_shape)`` down to ``(B, *shape)``."""
    extra = g.ndim - 1 - len(shape)
    if extra > 0:
        g = g.sum(tuple(range(1, 1 + extra)))
    target = (g.shape[0],) + tuple(shape)
    if tuple(g.shape) != target:
        g = g.sum_to_size(target)
    return g


def fix_batched_grad(g, meta, node, i: int, batch: int):
    """The engine's unbroadcast-and-cast step for a gradient with a batch dim."""
    shape, dtype = meta
    if g.ndim == 0 or g.shape[0] != batch:
        raise RuntimeError(
            f"Function {node.name()} returned a gradient without the batch dim at index {i} "
            f"(got {list(g.shape)} for a batch of {batch})")
    if tuple(g.shape[1:]) != tuple(shape):
        try:
            g = sum_leading(g, shape)
        except RuntimeError:
            raise RuntimeError(
                f"Function {node.name()} returned an invalid gradient at index {i} - got "
                f"{list(g.shape[1:])} but expected shape compatible with {list(shape)}"
            ) from None
    if g.dtype is not dtype:
        g = g.to(dtype)
    return g


def stack(tensors):
    """Stack same-shaped tensors along a new dim 0, differentiably (``StackBackward0``)."""
    if not _STACK:
        _STACK.append(_make_stack())
    return _STACK[0].apply(*tensors)


_STACK: list = []


def _make_stack():
    from ..backend import array_device, array_module
    from .function import Function

    class Stack(Function):
        @staticmethod
        def forward(ctx, *tensors):
            from ..tensor import Tensor
            xp = array_module(array_device(tensors[0]._data))
            return Tensor._make(xp.stack([t._data for t in tensors]))

        @staticmethod
        def backward(ctx, grad):
            return tuple(grad[b] for b in range(grad.shape[0]))

    Stack._backward_cls.__name__ = "StackBackward0"
    return Stack
