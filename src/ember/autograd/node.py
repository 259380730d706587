"""Graph nodes: the backward functions that ``grad_fn`` points at.

A node holds ``next_functions`` (one edge per differentiable input: the producing node and
which of its outputs, or ``(None, 0)``), what its derivative formulas saved, and hooks.
The engine calls ``apply(grad_outputs, needs)`` and gets one gradient per input back.
"""

from __future__ import annotations

from .hooks import add_hook

SECOND_BACKWARD = (
    "Trying to backward through the graph a second time (or directly access saved tensors "
    "after they have already been freed). Saved intermediate values of the graph are freed "
    "when you call .backward() or autograd.grad(). Specify retain_graph=True if you need to "
    "backward through the graph a second time or if you need to access saved tensors after "
    "calling backward."
)


class _Marker:
    """A named marker: ``FREED`` in a saved slot whose tensor a node's ``release`` freed,
    ``RELEASED`` as the ``_versions`` of a node after that (no versions left to check)."""

    __slots__ = ("text",)

    def __init__(self, text: str) -> None:
        self.text = text

    def __repr__(self) -> str:
        return self.text


FREED = _Marker("<freed>")
RELEASED = _Marker("<released>")


class _Extras:
    """A node's rarely used fields, kept out of the hot path (one slot, usually None)."""

    __slots__ = ("hooks", "pre_hooks", "tensor_pre_hooks", "retain_grad_hooks",
                 "post_acc_hooks", "anomaly_trace", "anomaly_parent")

    def __init__(self) -> None:
        self.hooks = self.pre_hooks = self.tensor_pre_hooks = None
        self.retain_grad_hooks = self.post_acc_hooks = None
        self.anomaly_trace = self.anomaly_parent = None


def _extra_field(name: str) -> property:
    def get(self):
        x = self._x
        return None if x is None else getattr(x, name)

    def set(self, value):
        x = self._x
        if x is None:
            if value is None:
                return
            x = self._x = _Extras()
        setattr(x, name, value)

    return property(get, set)


class Node:
    """Base of every backward function (PyTorch's ``torch.autograd.graph.Node``).

    ``_x`` holds hooks and anomaly information when a node has any (else None), so the
    engine checks one field per node.
    """

    __slots__ = ("next_functions", "_x", "__weakref__")
    _meta = None  # per-input (shape, dtype) to fix gradients to; OpNode keeps its own
    _num_outputs = 1
    _op = None  # the declared op, for nodes that ops make
    # Whether every node reachable from this one has one incoming edge within that graph,
    # so that a plain backward from it needs no counting walk (``engine.run_backward``).
    # Set by ``ops.registry`` on the nodes of declared ops; False (do count) for the others.
    _tree = False
    # Whether ``apply`` is called when no gradient reaches the node (all are None): only a
    # custom Function's, whose ``backward`` PyTorch calls with zeros (or Nones). The others
    # compute nothing then; the engine only runs their hooks and releases them.
    _apply_without_grads = False

    _hooks = _extra_field("hooks")
    _pre_hooks = _extra_field("pre_hooks")
    _tensor_pre_hooks = _extra_field("tensor_pre_hooks")
    _retain_grad_hooks = _extra_field("retain_grad_hooks")
    _post_acc_hooks = _extra_field("post_acc_hooks")  # on AccumulateGrad only
    _anomaly_trace = _extra_field("anomaly_trace")
    _anomaly_parent = _extra_field("anomaly_parent")

    def __init__(self, next_functions=()) -> None:
        self.next_functions = next_functions
        self._x = None

    def name(self) -> str:
        return type(self).__name__

    def apply(self, grad_outputs, needs):
        """Gradients for each input from the gradients of each output.

        ``needs`` is a tuple of flags (which input gradients to compute), or None for
        "every input with an edge".
        """
        raise RuntimeError(f"{self.name()} is not differentiable")

    def release(self) -> None:
        """Free what the node saved for backward (after a backward without retain_graph)."""

    def _saves_output(self) -> bool:
        """Whether the node saved one of its outputs for backward."""
        return False

    def __call__(self, *grad_outputs):
        needs = tuple(e[0] is not None for e in self.next_functions)
        return tuple(self.apply(grad_outputs, needs))

    def register_hook(self, fn):
        """``fn(grad_inputs, grad_outputs)`` runs after the node; it may return new grad_inputs."""
        self._hooks, handle = add_hook(self._hooks, fn)
        return handle

    def register_prehook(self, fn):
        """``fn(grad_outputs)`` runs before the node; it may return new grad_outputs."""
        self._pre_hooks, handle = add_hook(self._pre_hooks, fn)
        return handle

    @property
    def metadata(self) -> dict:
        return {}

    def __repr__(self) -> str:
        return f"<{type(self).__name__} object at {hex(id(self))}>"


class AccumulateGrad(Node):
    """The node at a leaf: adds the incoming gradient into ``variable.grad``."""

    __slots__ = ("variable",)
    _tree = True  # no edges

    def __init__(self, variable) -> None:
        Node.__init__(self, ())
        self.variable = variable

    def name(self) -> str:
        return "ember::autograd::AccumulateGrad"

    def apply(self, grad_outputs, needs):
        return ()


class GraphRoot(Node):
    """Stand-in producer for gradients handed to the engine from outside."""

    __slots__ = ()
