"""Forward-mode AD for every declared op, from its reverse-mode declaration.

An op's Jacobian-vector product ``J t`` comes from its derivative formulas by the
double-backward trick: the VJP ``u -> J^T u`` is linear in ``u``, so the gradient of
``<J^T u, t>`` with respect to ``u`` is ``J t``. Every op declared with ``defop`` therefore
has a forward derivative with no extra code, exact to rounding, and differentiable in turn
(forward-over-reverse) where grad mode is on. Views take the same view of their base's
tangent, and in-place ops write the new tangent into the tensor's tangent in place, so
views of a dual tensor see it change, as in PyTorch.
"""

from __future__ import annotations

from ..autograd.api import grad as _grad
from ..autograd.forward_grad import TANGENTS, ForwardAD, set_tangent, suspended, tangent_of
from ..autograd.grad_mode import GradMode, enable_grad
from ..backend import array_module
from .registry import Bound, edge_of, record

__all__ = ["propagate", "view_tangent", "inplace_tangent", "zeros_tangent", "has_tangent"]


def has_tangent(*values) -> bool:
    """Whether one of ``values`` is a dual tensor (tangents are being computed)."""
    if ForwardAD.level < 0 or ForwardAD.suspended or GradMode.inference:
        return False
    Tensor = Bound.Tensor
    return any(isinstance(v, Tensor) and tangent_of(v) is not None for v in values)


def zeros_tangent(t):
    """A zero tangent for ``t``."""
    return Bound.new(array_module(t.device).zeros_like(t._data))


def _differentiable_input(x, differentiable: bool):
    """What the op is differentiated at in place of the input ``x``: where the tangent must
    stay connected to ``x``'s graph, an alias of ``x`` (a node of its own, so that the
    gradient taken for it is the op's partial derivative for this input only, not also
    through other inputs computed from ``x``, as in ``x * x`` or ``x * x.exp()``); else a
    fresh leaf on the same array, so the JVP's graph stays apart from the user's."""
    if differentiable and x._rg and edge_of(x)[0] is not None:
        return x.view_as(x)
    leaf = Bound.new(x._data)
    leaf._rg = True
    return leaf


def jvp(op, inputs, outputs, attrs, tangents):
    """The tangents of ``outputs`` of ``op`` (declared with ``defop``) for the input
    ``tangents`` (None: no tangent)."""
    Tensor = Bound.Tensor
    differentiable = GradMode.enabled and (
        any(t is not None and t._rg for t in tangents)
        or any(isinstance(x, Tensor) and x._rg for x in inputs))
    with suspended(), enable_grad():
        leaves = list(inputs)
        wrt, along = [], []
        for k, t in enumerate(tangents):
            if t is not None:
                leaves[k] = _differentiable_input(inputs[k], differentiable)
                wrt.append(leaves[k])
                along.append(t)
        outs = tuple(Bound.new(o._data) for o in outputs)
        record(op, leaves, outs, attrs)
        probes = []
        for o in outs:
            u = zeros_tangent(o)
            u._rg = True
            probes.append(u)
        vjps = _grad(outs, wrt, probes, create_graph=True, allow_unused=True)
        total = None
        for g, t in zip(vjps, along):
            if g is not None:
                term = (g * t).sum()
                total = term if total is None else total + term
        if total is None or not total._rg:
            columns = (None,) * len(outs)
        else:
            columns = _grad((total,), probes, allow_unused=True,
                            create_graph=differentiable)
    return [c if c is not None else zeros_tangent(o) for c, o in zip(columns, outputs)]


def propagate(op, inputs, outputs, attrs) -> None:
    """Give the floating-point ``outputs`` of ``op`` their tangents, if an input has one
    (not in inference mode, as in PyTorch)."""
    if ForwardAD.suspended or GradMode.inference:
        return
    Tensor = Bound.Tensor
    tangents = [tangent_of(x) if isinstance(x, Tensor) else None
                for x in inputs[:op.num_edges]]
    if all(t is None for t in tangents):
        return
    outs = [o for o in outputs if o._data.dtype.kind == "f"]
    if not outs:
        return
    if op.jvp is None:
        new = jvp(op, inputs, outs, attrs, tangents)
    else:
        new = _declared_jvp(op, inputs, attrs, tangents)
    for o, t in zip(outs, new):
        set_tangent(o, t)


def _declared_jvp(op, inputs, attrs, tangents):
    """An op's own forward-mode formula (``defop(jvp=...)``)."""
    from ._apply import apply
    with suspended():
        if op.jvp == "linear":
            (tangent,) = [t for t in tangents if t is not None]
            out = apply(op, [tangent if t is not None else x
                             for x, t in zip(inputs, tangents)], attrs)
        else:
            out = op.jvp(tangents, inputs, attrs)
    return out if isinstance(out, tuple) else (out,)


def view_tangent(x, out, replay, attrs) -> None:
    """A view ``out = replay(x, **attrs)`` of a dual ``x`` takes that view of its tangent
    (and a view of an ``x`` cut from its base's tangent is cut too)."""
    if ForwardAD.suspended or out._data.dtype.kind != "f":
        return
    t = tangent_of(x)
    if t is not None:
        with suspended():
            set_tangent(out, replay(t, **attrs))
    elif id(x) in TANGENTS:
        set_tangent(out, None)


def inplace_tangent(t, result) -> None:
    """After ``t`` was overwritten in place by ``result``'s values: ``t``'s tangent becomes
    ``result``'s, written into ``t``'s own tangent (so views of it follow)."""
    if ForwardAD.suspended or GradMode.inference:
        return
    new = tangent_of(result)
    old = tangent_of(t)
    if new is None and old is None:
        return
    with suspended():
        if old is None:
            if t._base is None or id(t) in TANGENTS:  # not a view, or cut from its base
                old = zeros_tangent(t)
                set_tangent(t, old)
            else:  # a view of a plain tensor: the base gets a zero tangent, seen through t
                set_tangent(t._base, zeros_tangent(t._base))
                old = tangent_of(t)
        if new is None:
            old.zero_()
        else:
            old.copy_(new)
