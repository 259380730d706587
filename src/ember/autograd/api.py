"""``backward`` and ``grad``: the front door to the engine."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from .engine import run_backward
from .node import AccumulateGrad


def _as_tuple(x):
    if x is None:
        return None
    if isinstance(x, Sequence) and not hasattr(x, "_data"):
        return tuple(x)
    return (x,)


def _root_edge(t):
    from ..ops.registry import edge_of
    return edge_of(t)


def _make_grads(outputs, grad_outputs, create_graph: bool, is_grads_batched=False):
    """The seed gradient of each output: given, or ones for scalar outputs."""
    from ..tensor import Tensor
    grads = []
    for i, out in enumerate(outputs):
        g = grad_outputs[i] if grad_outputs is not None else None
        if g is None:
            if out._rg:
                if out.numel() != 1:
                    raise RuntimeError("grad can be implicitly created only for scalar outputs")
                if not out.dtype.is_floating_point:
                    raise RuntimeError("grad can be implicitly created only for real scalar "
                                       f"outputs but got {out.dtype}")
                g = Tensor._make(_ones_like(out._data))
            grads.append(g)
            continue
        if not isinstance(g, Tensor):
            raise TypeError(f"gradients can be either Tensors or None, but got "
                            f"{type(g).__name__}")
        if g.shape != out.shape:
            raise RuntimeError(
                f"Mismatch in shape: grad_output[{i}] has a shape of {g.shape} and output[{i}] "
                f"has a shape of {out.shape}."
            )
        if g.dtype.is_floating_point != out.dtype.is_floating_point:
            raise RuntimeError(
                f"For complex Tensors, both grad_output and output are required to have the "
                f"same dtype. Mismatch in dtype: grad_output[{i}] has a dtype of {g.dtype} and "
                f"output[{i}] has a dtype of {out.dtype}."
            )
        if not create_graph and g._rg:
            g = g.detach()
        grads.append(g)
    return grads


def _ones_like(arr):
    return np.ones_like(arr)


def _zeros_like(arr):
    return np.zeros_like(arr)


def _new_tensor(arr):
    from ..tensor import Tensor
    return Tensor._make(arr)


def _roots(outputs, grads):
    roots, seeds = [], []
    for i, (out, g) in enumerate(zip(outputs, grads)):
        if not out._rg:
            raise RuntimeError(f"element {i} of tensors does not require grad and does not "
                               "have a grad_fn")
        if g is None:
            continue
        roots.append(_root_edge(out))
        seeds.append(g)
    return roots, seeds


def backward(tensors, grad_tensors=None, retain_graph=None, create_graph: bool = False,
             grad_variables=None, inputs=None) -> None:
    """Accumulate into the leaves' ``.grad`` the gradient of ``tensors`` (seeded with
    ``grad_tensors``, needed for non-scalar tensors)."""
    tensors = _as_tuple(tensors)
    grad_tensors = _as_tuple(grad_tensors if grad_tensors is not None else grad_variables)
    if grad_tensors is not None and len(grad_tensors) != len(tensors):
        raise RuntimeError(f"got {len(grad_tensors)} tensors and {len(tensors)} gradients")
    if retain_graph is None:
        retain_graph = create_graph
    grads = _make_grads(tensors, grad_tensors, create_graph)
    roots, seeds = _roots(tensors, grads)
    restrict = None
    if inputs is not None:
        inputs = _as_tuple(inputs)
        if len(inputs) == 0:
            raise RuntimeError("'inputs' argument to backward() cannot be empty.")
        restrict = []
        for t in inputs:
            if not t._rg:
                raise RuntimeError("One of the differentiated Tensors does not require grad")
            restrict.append(_root_edge(t))
        _retain_non_leaf_inputs(inputs)
    run_backward(roots, seeds, retain_graph=retain_graph, create_graph=create_graph,
                 restrict=restrict)


def _retain_non_leaf_inputs(inputs) -> None:
    for t in inputs:
        if not t.is_leaf:
            t.retain_grad()


def grad(outputs, inputs, grad_outputs=None, retain_graph=None, create_graph: bool = False,
         only_inputs: bool = True, allow_unused=None, is_grads_batched: bool = False,
         materialize_grads: bool = False):
    """The gradients of ``outputs`` w.r.t. ``inputs``, returned (not accumulated)."""
    outputs = _as_tuple(outputs)
    inputs_t = _as_tuple(inputs)
    grad_outputs = _as_tuple(grad_outputs)
    if allow_unused is None:
        allow_unused = materialize_grads
    if materialize_grads and allow_unused is False:
        raise ValueError("Expected allow_unused to be True or not passed when "
                         "materialize_grads=True, but got: allow_unused=False.")
    if grad_outputs is not None and len(grad_outputs) != len(outputs):
        raise RuntimeError(f"grad requires one grad_output per output: got "
                           f"{len(grad_outputs)} grad_outputs and {len(outputs)} outputs")
    if retain_graph is None:
        retain_graph = create_graph
    if is_grads_batched:
        from .functional import batched_grad
        return batched_grad(outputs, inputs_t, grad_outputs, retain_graph, create_graph,
                            allow_unused)
    for t in inputs_t:
        if not t._rg:
            raise RuntimeError("One of the differentiated Tensors does not require grad")
    grads = _make_grads(outputs, grad_outputs, create_graph)
    roots, seeds = _roots(outputs, grads)
    capture = [_root_edge(t) for t in inputs_t]
    result = run_backward(roots, seeds, retain_graph=retain_graph, create_graph=create_graph,
                          capture=capture, accumulate=False)
    out = []
    for t, g in zip(inputs_t, result):
        if g is None:
            if materialize_grads:
                g = _new_tensor(_zeros_like(t._data))
            elif not allow_unused:
                raise RuntimeError(
                    "One of the differentiated Tensors appears to not have been used in the "
                    "graph. Set allow_unused=True if this is the desired behavior."
                )
        elif not create_graph and g._rg:
            g = g.detach()
        out.append(g)
    return tuple(out)


__all__ = ["backward", "grad", "AccumulateGrad"]
