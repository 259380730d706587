"""Where forward-mode gradients (tangents) live, and the flag the forward ops check.

A dual tensor is an ordinary Tensor with an entry in ``TANGENTS``: its id maps to a weak
reference to it and its tangent. Nothing is added to Tensor itself, so tensors outside
forward-mode AD pay nothing. The forward ops check one flag, ``AfterOp.on``, after they
compute; it is set while a dual level is open and has an entry, or while
``detect_anomaly(check_forward=True)`` is on, and then ``ops._apply.after_op`` does that
work.
"""

from __future__ import annotations

import weakref

from .anomaly_mode import AnomalyMode

__all__ = ["AfterOp", "ForwardAD", "TANGENTS", "tangent_of", "set_tangent", "refresh",
           "saved_output_tangent"]


class AfterOp:
    """Whether forward ops must call ``ops._apply.after_op`` on their results."""
    on = False


class ForwardAD:
    level = -1  # the open dual level (-1: none)
    suspended = 0  # > 0 while tangents are being computed (their ops propagate nothing)


TANGENTS: dict[int, tuple] = {}  # id(tensor) -> (weakref to it, its tangent)
# node -> {output_nr: tangent}: the tangents of the outputs of a node that saved its outputs
# for backward, which it unpacks as new Tensors (PyTorch's saved variables keep the forward
# gradient too). Weak: it lives as long as the graph.
OUTPUT_TANGENTS: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()


def refresh() -> None:
    """Recompute ``AfterOp.on`` after a mode changed."""
    AfterOp.on = bool(AnomalyMode.check_forward or (ForwardAD.level >= 0 and TANGENTS))


def _forget(key: int):
    def callback(_ref) -> None:
        TANGENTS.pop(key, None)
    return callback


def tangent_of(t):
    """``t``'s tangent at the open level, or None. A view with no entry of its own (one made
    before its base got a tangent) takes the matching view of the base's tangent."""
    entry = TANGENTS.get(id(t))
    if entry is not None:
        return entry[1]
    base = t._base
    if base is None or id(base) not in TANGENTS:
        return None
    from ..ops.shape import replay_view
    with suspended():
        tangent = replay_view(TANGENTS[id(base)][1], t._view[0])
    set_tangent(t, tangent)
    return tangent


def set_tangent(t, tangent) -> None:
    """Make ``t`` dual with ``tangent`` (None: not dual, even where it is a view of a dual
    tensor, as ``unpack_dual``'s primal)."""
    key = id(t)
    TANGENTS[key] = (weakref.ref(t, _forget(key)), tangent)
    node = t._grad_fn
    if node is not None and tangent is not None and node._saves_output():
        OUTPUT_TANGENTS.setdefault(node, {})[t._output_nr] = tangent
    refresh()


def saved_output_tangent(node, output_nr: int):
    """The tangent of output ``output_nr`` of ``node`` (None if it has none), for the Tensor
    that unpacks it from what the node saved."""
    tangents = OUTPUT_TANGENTS.get(node)
    return None if tangents is None else tangents.get(output_nr)


class suspended:
    """Within: ops compute no tangents (used while computing tangents)."""

    def __enter__(self) -> None:
        ForwardAD.suspended += 1

    def __exit__(self, *exc) -> None:
        ForwardAD.suspended -= 1
