"""The engine's loop for a plain ``backward()``: gradients flow as arrays.

A plain ``backward()`` (no ``create_graph``, nothing captured or pruned, no batch, no
anomaly mode) builds no graph, so a gradient needs none of a Tensor's autograd fields
between two nodes. Here gradients are NumPy/CuPy arrays from the roots to the leaves: a node
whose op declares array formulas (``defop(on_arrays=...)``) runs them on the arrays
directly (``op.array_backward``, see ``ops.registry``); any other node (custom Functions,
views, in-place ops, nodes with hooks) gets its gradients wrapped as Tensors and hands back
Tensors, unwrapped again. At a leaf the array becomes ``.grad``. Arrays of
``PARALLEL_MIN`` elements or more take the Tensor path, whose ops split large arrays across
ember's threads.
"""

from __future__ import annotations

import sys

import numpy as np

from ..backend.threads import THRESHOLD as PARALLEL_MIN
from .node import RELEASED, AccumulateGrad

_ndarray = np.ndarray


def _probe(variable, arr, grads) -> int:
    return sys.getrefcount(arr)


def _calibrate_refcount() -> int:
    # The reference count of a gradient that only the engine holds, taken as _accumulate
    # takes it (the buffer's list popped, the array passed on as an argument).
    buffers = {0: [np.empty(1)]}
    grads = buffers.pop(0)
    return _probe(None, grads[0], grads)


_SOLE_OWNER_REFS = _calibrate_refcount()


def run_plain(ready, buffers, deps, tree: bool, retain_graph: bool, wrap) -> None:
    """Run the ready nodes to the leaves; ``buffers`` hold arrays (None for zero), ``wrap``
    makes a Tensor of an array. In a ``tree`` (see ``engine._discover``) every node is
    ready as soon as its one gradient arrives, and ``deps`` is not needed."""
    # The stack holds (node, its gradients): a node's buffer is taken from ``buffers`` when
    # its last gradient arrives, and one that gets its only gradient never enters it.
    stack = [(node, buffers.pop(node, None)) for node in ready]
    pop = stack.pop
    push = stack.append
    take = buffers.pop
    get = buffers.get
    while stack:
        node, grads = pop()
        op = node._op
        # The common node first, in as few checks as possible: a declared op's node with
        # array formulas, no hooks, and a small array gradient (ndarray: not None).
        if op is not None and node._x is None and grads is not None and \
                (g := grads[0]).__class__ is _ndarray and g.size < PARALLEL_MIN and \
                op.array_backward is not None:
            outs = op.array_backward(node, g)
            if not retain_graph:
                freed = op.freed
                if freed is not None:  # every saved value is a tensor: ``release`` in line
                    node._saved = freed
                    node._versions = RELEASED
                    node._out = None
                elif op.release is not None:
                    op.release(node)  # frees what holds a tensor, keeps the rest
        elif node._x is not None:
            outs = _tensor_node(node, grads, retain_graph, wrap, hooks=True)
            if node.__class__ is AccumulateGrad:
                continue
        elif node.__class__ is AccumulateGrad:
            g = outs = None  # this loop's references would make the array look shared
            if grads is not None and grads[0] is not None:
                variable = node.variable
                if variable is not None:
                    _accumulate(variable, grads[0], grads)
            continue
        else:
            outs = _tensor_node(node, grads, retain_graph, wrap)
        if outs is None:
            for child, _ in node.next_functions:
                if child is not None:
                    if tree:
                        push((child, None))
                        continue
                    remaining = deps[child] - 1
                    if remaining:
                        deps[child] = remaining
                    else:
                        push((child, take(child, None)))
            continue
        meta = node._meta
        if meta is not None:  # an input was broadcast or promoted: fix its gradient
            outs = [g if g is None or m is None else _fix(g, m, node, i)
                    for i, (g, m) in enumerate(zip(outs, meta))]
        for (child, nr), g in zip(node.next_functions, outs):
            if child is None:
                continue
            if tree:  # the child's only gradient: it is ready
                if g is not None:
                    if child._num_outputs == 1:
                        g = [g]
                    else:
                        buf = [None] * child._num_outputs
                        buf[nr] = g
                        g = buf
                push((child, g))
                continue
            remaining = deps[child] - 1
            if remaining:  # more gradients to come: keep this one in the child's buffer
                deps[child] = remaining  # (a ready child's count is never read again)
                buf = get(child)
            else:
                buf = take(child, None)
            if g is not None:
                if buf is None:
                    if child._num_outputs == 1:
                        buf = [g]
                    else:
                        buf = [None] * child._num_outputs
                        buf[nr] = g
                    if remaining:
                        buffers[child] = buf
                elif buf[nr] is None:
                    buf[nr] = g
                else:
                    buf[nr] = buf[nr] + g
            if not remaining:
                push((child, buf))


def _tensor_node(node, grads, retain_graph: bool, wrap, hooks: bool = False):
    """Run a node the Tensor way: its gradients wrapped, its results unwrapped."""
    from .engine import _accumulate as accumulate_tensor
    from .engine import _before_node, _without_grads, run_post_accumulate_hooks
    tensors = None if grads is None else [None if g is None else wrap(g) for g in grads]
    if hooks:
        tensors = _before_node(node, tensors, (), None)
    if node.__class__ is AccumulateGrad:
        if tensors is not None and tensors[0] is not None:
            variable = node.variable
            if variable is not None:
                accumulate_tensor(variable, tensors[0], False, tensors)
                if node._x is not None and node._x.post_acc_hooks is not None:
                    run_post_accumulate_hooks(node, variable)
        return None
    if tensors is None or (tensors[0] is None and _all_none(tensors)):
        if not node._apply_without_grads:
            return _without_grads(node, tensors, retain_graph)
        if tensors is None:
            tensors = [None] * node._num_outputs
    outs = node.apply(tensors, None)
    if hooks and node._x.hooks is not None:
        from .engine import _post_hooks
        outs = _post_hooks(node, outs, tensors)
    if not retain_graph:
        node.release()
    return [None if t is None else t._data for t in outs]


def _accumulate(variable, arr, grads) -> None:
    """Add the array gradient ``arr`` into ``variable.grad``; it becomes ``.grad`` without a
    copy when nothing but the engine holds it."""
    old = variable._grad
    if old is None:
        if sys.getrefcount(arr) <= _SOLE_OWNER_REFS and (arr.base is None or _whole_view(arr)):
            variable._grad = variable._make(arr)
        else:
            variable._grad = variable._make(arr.copy())
    else:
        add_into(old, arr)


def add_into(grad, arr) -> None:
    """``grad += arr`` in place, as PyTorch adds a gradient into an existing ``.grad`` when no
    graph is being built (even one that requires grad); bumps its version."""
    d = grad._data
    if d.__class__ is arr.__class__ and d.dtype == arr.dtype and d.shape == arr.shape and \
            (d.__class__ is not _ndarray or d.flags.writeable) and 0 not in d.strides:
        d += arr
        vc = grad._vc
        if vc is None:
            grad._vc = [1]
        else:
            vc[0] += 1
    else:  # casts, broadcasts, or raises for an expanded .grad, as an in-place add does
        grad.add_(grad._make(arr))


def _whole_view(arr) -> bool:
    """Whether ``arr`` is a C-contiguous view of all of a NumPy array that nothing else
    holds (a reshaped or transposed-back temporary, e.g. a bias's summed gradient or a
    linear layer's weight gradient): then it can become ``.grad`` as it is."""
    base = arr.base
    # references to ``base``: ``arr``'s, this function's local and getrefcount's argument
    return (type(base) is _ndarray and sys.getrefcount(base) <= 3 and base.size == arr.size
            and arr.flags.c_contiguous)


def _fix(g, meta, node, i):
    """Sum a broadcast array gradient back to its input's shape; cast it to its dtype."""
    shape, dtype = meta
    if g.shape != shape:
        n = len(shape)
        lead = g.ndim - n
        if lead < 0 or any(s != 1 and s != t for s, t in zip(shape, g.shape[lead:])):
            raise RuntimeError(
                f"Function {node.name()} returned an invalid gradient at index {i} - got "
                f"{list(g.shape)} but expected shape compatible with {list(shape)}")
        dims = tuple(range(lead)) + tuple(
            lead + k for k, s in enumerate(shape) if s == 1 and g.shape[lead + k] != 1)
        if dims:
            g = g.sum(axis=dims, keepdims=True)
        if lead:
            g = g.reshape(shape)
    if g.dtype != dtype.np:
        g = g.astype(dtype.np)
    return g


def _all_none(grads) -> bool:
    for g in grads:
        if g is not None:
            return False
    return True
