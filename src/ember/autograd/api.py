"""``backward`` and ``grad``: the front door to the engine."""

from __future__ import annotations

import warnings
from collections.abc import Mapping

import numpy as np

from ..dtype import CPP_TYPE_NAMES, SCALAR_TYPE_NAMES
from .engine import run_backward
from .node import AccumulateGrad


def _as_tuple(x):
    if x.__class__ is tuple:
        return x
    if hasattr(x, "_data"):  # a Tensor (checked before iterating)
        return (x,)
    return tuple(x)


def _inputs_tuple(inputs, fn: str):
    """``inputs`` as a tuple: one tensor, a sequence of them, or a dict (its values)."""
    if hasattr(inputs, "_data"):
        return (inputs,)
    if type(inputs) is dict:
        return tuple(inputs.values())
    if isinstance(inputs, Mapping):
        raise TypeError(f"`inputs` argument to `{fn}()` must be a dict, not "
                        f"{type(inputs).__name__}. Other Mapping types are not supported.")
    return tuple(inputs)


def _grads_tuple(grads, n: int):
    """The given gradients, one per output at most (PyTorch pairs them with ``zip``)."""
    if grads is None:
        return (None,) * n
    if hasattr(grads, "_data"):
        return (grads,)
    return tuple(grads)[:n]


def check_assigned_grad(t, grad) -> None:
    """PyTorch's checks when ``t.grad = grad`` is assigned: a tensor, not ``t`` itself, of
    ``t``'s dtype, device and size."""
    if not isinstance(grad, _tensor_class()):
        raise TypeError("assigned grad expected to be a Tensor or None but got grad of type "
                        f"{type(grad).__name__}")
    if grad is t:
        raise RuntimeError("can't assign Variable as its own grad")
    if grad.dtype is not t.dtype:
        g, d = grad.dtype.name, t.dtype.name
        raise RuntimeError(
            f"attempting to assign a gradient with dtype '{CPP_TYPE_NAMES[g]}' to a tensor "
            f"with grad_dtype '{SCALAR_TYPE_NAMES[d]}'. The gradient must match the tensor's "
            "grad_dtype (defaults to the tensor's dtype). You can set the tensor's grad_dtype "
            "attribute with a specific dtype, or None to allow any dtype. Set grad_dtype with "
            "caution. Diverging the dtypes of a tensor and its gradient may break downstream "
            "systems that assume they match.")
    if grad.device != t.device:
        raise RuntimeError("assigned grad has data located on a different device")
    if grad.shape != t.shape:
        raise RuntimeError(
            f"attempting to assign a gradient of size '{list(grad.shape)}' to a tensor of size "
            f"'{list(t.shape)}'. Please ensure that the gradient and the tensor are the same "
            "size")


def _root_edge(t):
    global _edge_of
    if _edge_of is None:  # ops sit above autograd: bound on first use, not imported per call
        from ..ops.registry import edge_of as _edge_of
    return _edge_of(t)


_edge_of = None


def _make_grads(outputs, grad_outputs, create_graph: bool, is_grads_batched=False):
    """The seed gradient of each output: given (cast to the output's dtype), or ones for
    scalar outputs. With ``is_grads_batched`` each given gradient has a leading batch dim."""
    Tensor = _tensor_class()
    grads = []
    for i, (out, g) in enumerate(zip(outputs, grad_outputs)):
        if g is None:
            if out._rg:
                if out.numel() != 1:
                    raise RuntimeError("grad can be implicitly created only for scalar outputs")
                if not out.dtype.is_floating_point:
                    raise RuntimeError("grad can be implicitly created only for real scalar "
                                       f"outputs but got {out.dtype}")
                if is_grads_batched:
                    raise ValueError("is_grads_batched=True needs a grad_output with a leading "
                                     f"batch dim for output {i}, got None")
                g = Tensor._make(_ones_like(out._data))
            grads.append(g)
            continue
        if not isinstance(g, Tensor):
            raise TypeError(f"gradients can be either Tensors or None, but got "
                            f"{type(g).__name__}")
        if is_grads_batched:
            if g.ndim == 0 or g.shape[1:] != out.shape:
                raise RuntimeError(
                    "If `is_grads_batched=True`, we interpret the first dimension of each "
                    "grad_output as the batch dimension. The sizes of the remaining dimensions "
                    "are expected to match the shape of corresponding output, but a mismatch "
                    f"was detected: grad_output[{i}] has a shape of {g.shape[1:]} and "
                    f"output[{i}] has a shape of {out.shape}. If you only want some tensors in "
                    "`grad_output` to be considered batched, consider using vmap."
                )
        elif g.shape != out.shape:
            raise RuntimeError(
                f"Mismatch in shape: grad_output[{i}] has a shape of {g.shape} and output[{i}] "
                f"has a shape of {out.shape}."
            )
        if not create_graph and g._rg:
            g = g.detach()
        if g.dtype is not out.dtype and out._rg:
            g = g.to(out.dtype)
        grads.append(g)
    return grads


def _tensor_class():
    global _Tensor
    if _Tensor is None:  # the tensor sits above autograd: bound on first use
        from ..tensor import Tensor as _Tensor
    return _Tensor


_Tensor = None


def _ones_like(arr):
    if arr.__class__ is np.ndarray and arr.ndim == 0:
        return np.array(1, dtype=arr.dtype)  # the usual seed, without np.ones_like's Python
    return np.ones_like(arr)


def _zeros_like(arr):
    return np.zeros_like(arr)


def _new_tensor(arr):
    from ..tensor import Tensor
    return Tensor._make(arr)


def _roots(outputs, grads):
    if len(grads) != len(outputs):
        raise RuntimeError(f"got {len(outputs)} tensors and {len(grads)} gradients")
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
    ``grad_tensors``, needed for non-scalar tensors).

    ``inputs`` (a tensor, a sequence of tensors or a dict of them) restricts accumulation to
    those tensors; non-leaf ones among them get their ``.grad`` too."""
    if grad_variables is not None:
        warnings.warn("`grad_variables` is deprecated. Use `grad_tensors` instead.",
                      FutureWarning, stacklevel=2)
        if grad_tensors is not None:
            raise RuntimeError("`grad_tensors` and `grad_variables` (deprecated) arguments both "
                               "passed to `backward()`. Please only use `grad_tensors`.")
        grad_tensors = grad_variables
    if inputs is not None:
        inputs = _inputs_tuple(inputs, "backward")
        if len(inputs) == 0:
            raise RuntimeError("`inputs` argument to `backward()` cannot be empty.")
    tensors = _as_tuple(tensors)
    grads = _make_grads(tensors, _grads_tuple(grad_tensors, len(tensors)), create_graph)
    if retain_graph is None:
        retain_graph = create_graph
    if create_graph:
        _warn_create_graph_cycle()
    roots, seeds = _roots(tensors, grads)
    restrict = None
    if inputs is not None:
        restrict = []
        for t in inputs:
            if not t._rg:
                raise RuntimeError("can't retain_grad on Tensor that has requires_grad=False")
            restrict.append(_root_edge(t))
        _retain_non_leaf_inputs(inputs)
    run_backward(roots, seeds, retain_graph=retain_graph, create_graph=create_graph,
                 restrict=restrict)


_warned_cycle = []


def _warn_create_graph_cycle() -> None:
    if not _warned_cycle:  # once per process, as PyTorch does
        _warned_cycle.append(True)
        warnings.warn(
            "Using backward() with create_graph=True will create a reference cycle between the "
            "parameter and its gradient which can cause a memory leak. We recommend using "
            "autograd.grad when creating the graph to avoid this. If you have to use this "
            "function, make sure to reset the .grad fields of your parameters to None after "
            "use to break the cycle and avoid the leak.", stacklevel=3)


def _retain_non_leaf_inputs(inputs) -> None:
    for t in inputs:
        if not t.is_leaf:
            t.retain_grad()


def grad(outputs, inputs, grad_outputs=None, retain_graph=None, create_graph: bool = False,
         only_inputs: bool = True, allow_unused=None, is_grads_batched: bool = False,
         materialize_grads: bool = False):
    """The gradients of ``outputs`` w.r.t. ``inputs``, returned (not accumulated): a tuple,
    or a dict with the same keys when ``inputs`` is a dict.

    ``grad_outputs`` weights each output (the "vector" of a vector-Jacobian product);
    ``is_grads_batched=True`` treats their first dim as a batch of such vectors and
    computes all the products in one backward pass.
    """
    if materialize_grads and allow_unused is False:
        raise ValueError("Expected allow_unused to be True or not passed when "
                         "materialize_grads=True, but got: allow_unused=False.")
    if allow_unused is None:
        allow_unused = materialize_grads
    outputs = _as_tuple(outputs)
    inputs_t = _inputs_tuple(inputs, "grad")
    if len(inputs_t) == 0:
        raise RuntimeError("`inputs` argument to `grad()` cannot be empty.")
    if not only_inputs:
        warnings.warn("only_inputs argument is deprecated and is ignored now (defaults to "
                      "True). To accumulate gradient for other parts of the graph, please use "
                      "ember.autograd.backward.", FutureWarning, stacklevel=2)
    grads = _make_grads(outputs, _grads_tuple(grad_outputs, len(outputs)), create_graph,
                        is_grads_batched)
    if retain_graph is None:
        retain_graph = create_graph
    batch = _batch_size(grads) if is_grads_batched else None
    roots, seeds = _roots(outputs, grads)
    for t in inputs_t:
        if not t._rg:
            raise RuntimeError("One of the differentiated Tensors does not require grad")
    capture = [_root_edge(t) for t in inputs_t]
    result = run_backward(roots, seeds, retain_graph=retain_graph, create_graph=create_graph,
                          capture=capture, accumulate=False, batch=batch)
    out = []
    for i, (t, g) in enumerate(zip(inputs_t, result)):
        if g is None:
            if materialize_grads:
                # Zeros that require grad when create_graph is set, as in PyTorch; batched,
                # one row per vector (PyTorch leaves out the batch dim there).
                zeros = _zeros_like(t._data)
                if batch is not None:
                    zeros = np.broadcast_to(zeros, (batch,) + zeros.shape).copy()
                g = _new_tensor(zeros)
                g._rg = create_graph
            elif not allow_unused:
                raise RuntimeError(
                    f"The differentiated Tensor at index {i} appears to not have been used in "
                    "the graph. Set allow_unused=True if this is the desired behavior."
                )
        elif not create_graph and g._rg:
            g = g.detach()
        out.append(g)
    if type(inputs) is dict:
        return dict(zip(inputs.keys(), out))
    return tuple(out)


def _batch_size(grads) -> int:
    sizes = {g.shape[0] for g in grads if g is not None}
    if len(sizes) > 1:
        raise ValueError("is_grads_batched=True: expected all grad_outputs to have the same "
                         f"size in the batch dimension, but got sizes {sorted(sizes)}")
    return sizes.pop() if sizes else 1


__all__ = ["backward", "grad", "AccumulateGrad"]
