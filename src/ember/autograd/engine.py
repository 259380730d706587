"""The backward engine: iterative, dependency-counted, computing only what is needed.

``run_backward`` walks the graph from the roots once to count, for every node, how many
edges lead into it; a node runs when all of them have delivered their gradient. Gradients
are Tensors, and derivative formulas are ember ops, so with ``create_graph=True`` the
backward pass itself is recorded (a plain ``backward()`` runs in ``plain.py``, on
arrays). ``None`` stands for a zero gradient and is never materialised. Broadcasting is
undone here, in one place, for every node.
"""

from __future__ import annotations

import sys
import warnings

from .anomaly_mode import AnomalyMode
from .batching import apply_batched, fix_batched_grad
from .grad_mode import GradMode
from .node import AccumulateGrad
from .plain import add_into, run_plain


def _calibrate_refcount() -> int:
    # The reference count a gradient has when only the engine's buffer and local hold it,
    # measured in the same shape as the check in _accumulate (interpreters differ here).
    buffers = {0: [object()]}
    grads = buffers.pop(0)
    g = grads[0]
    return sys.getrefcount(g)


_SOLE_OWNER_REFS = _calibrate_refcount()


def _owned(g, grads) -> bool:
    """Whether nothing but the engine holds gradient ``g``, so it may become ``.grad``."""
    return (sys.getrefcount(g) <= _SOLE_OWNER_REFS and g._base is None
            and g._data.base is None)


def _accumulate(variable, g, create_graph: bool, grads) -> None:
    """PyTorch's AccumulateGrad: a first gradient becomes ``.grad`` (without a copy when
    nothing else holds it; with create_graph, a copy that is part of the graph, as PyTorch's
    ``CopyBackwards``); a later one is added in place, or out of place with create_graph so
    that the sum stays differentiable."""
    old = variable._grad
    if old is None:
        if create_graph:
            variable._grad = g.new_empty(g.shape).copy_(g)
        elif _owned(g, grads):
            variable._grad = g.detach() if g._rg else g
        else:
            variable._grad = _contiguous_copy(g.detach())
    elif create_graph:
        variable._grad = old + g
    else:
        add_into(old, g._data)


def _contiguous_copy(g):
    """A C-contiguous copy of ``g``, as PyTorch's ``.grad`` is (``clone`` would keep the
    layout of a transposed gradient)."""
    return g.clone() if g._data.flags.c_contiguous else g.contiguous()


def run_post_accumulate_hooks(node, variable) -> None:
    """The hooks ``register_post_accumulate_grad_hook`` put on a leaf's AccumulateGrad."""
    for hook in list(node._x.post_acc_hooks.values()):
        if hook(variable) is not None:
            raise RuntimeError("post accumulate grad hooks cannot return anything but None")


def _discover(roots):
    """Count incoming edges of every node reachable from ``roots``; returns the counts and
    whether the graph is a tree (no node gets more than one gradient: none has two incoming
    edges, and no root has any)."""
    deps = {}
    stack = []
    tree = True
    for node in roots:
        if node not in deps:
            deps[node] = 0
            stack.append(node)
    while stack:
        node = stack.pop()
        for child, _ in node.next_functions:
            if child is None:
                continue
            if child in deps:
                deps[child] += 1
                tree = False
            else:
                deps[child] = 1
                stack.append(child)
    return deps, tree


def _needed_nodes(deps, roots, targets):
    """``(needed, leading)``: ``leading``, the nodes from which some target node can be
    reached (the others need not run); ``needed``, those and the targets (the nodes whose
    incoming gradients are wanted)."""
    order = []
    remaining = dict(deps)
    stack = [n for n in dict.fromkeys(roots) if remaining[n] == 0]
    while stack:
        node = stack.pop()
        order.append(node)
        for child, _ in node.next_functions:
            if child is not None:
                remaining[child] -= 1
                if remaining[child] == 0:
                    stack.append(child)
    needed = set(targets)
    leading = set()
    for node in reversed(order):
        for child, _ in node.next_functions:
            if child in needed:
                needed.add(node)
                leading.add(node)
                break
    return needed, leading


def _fix_grad(g, meta, node, i):
    """Sum a broadcast gradient back to its input's shape and cast it to its dtype."""
    shape, dtype = meta
    if g.shape != shape:
        try:
            g = g.sum_to_size(shape)
        except RuntimeError:
            raise RuntimeError(
                f"Function {node.name()} returned an invalid gradient at index {i} - got "
                f"{list(g.shape)} but expected shape compatible with {list(shape)}"
            ) from None
    if g.dtype is not dtype:
        g = g.to(dtype)
    return g


def _anomaly_report(node) -> str:
    """PyTorch's anomaly-mode text: the forward call that made ``node`` (and, for nodes
    made by a backward pass, the forward call behind that pass)."""
    trace = node._anomaly_trace
    if not trace:
        return ""
    text = (f"Error detected in {node.name()}. Traceback of forward call that caused the "
            f"error:\n{trace}")
    parent = node._anomaly_parent
    while parent is not None:
        text += (f"\n\nPrevious calculation was induced by {parent.name()}. Traceback of "
                 f"forward call that induced the previous calculation:\n"
                 f"{parent._anomaly_trace or ''}")
        parent = parent._anomaly_parent
    return text


def _apply_special(node, grads, needs, batch):
    """``node.apply`` for a batched pass and/or in anomaly mode, where nodes made by the
    backward pass remember the node whose backward made them."""
    prev = AnomalyMode.current_node
    AnomalyMode.current_node = node if AnomalyMode.enabled else None
    try:
        if batch is None:
            return node.apply(grads, needs)
        return apply_batched(node, grads, needs, batch)
    finally:
        AnomalyMode.current_node = prev


def _warn_anomaly(node) -> None:
    text = _anomaly_report(node)
    if text:
        warnings.warn(text, stacklevel=3)


def _check_nan(node, outs) -> None:
    for i, g in enumerate(outs):
        if g is not None and g.dtype.is_floating_point and bool(g.isnan().any()):
            msg = f"Function '{node.name()}' returned nan values in its {i}th output."
            text = _anomaly_report(node)
            if text:
                warnings.warn(text, stacklevel=3)
                msg += "\n" + text
            raise RuntimeError(msg)


def run_backward(roots, root_grads, *, retain_graph: bool, create_graph: bool,
                 capture=None, accumulate: bool = True, restrict=None, batch=None):
    """Run backward from ``roots`` (edges ``(node, output_nr)``) seeded with ``root_grads``.

    capture: optional list of edges whose incoming gradient is returned (``autograd.grad``).
    accumulate: whether leaves get their ``.grad`` (``backward``) or not (``grad``).
    restrict: optional edges of the only leaves/tensors to accumulate into.
    batch: for ``is_grads_batched``, the size of the leading batch dim every gradient
    carries (see ``batching``); None otherwise.
    Returns the captured gradients (None where nothing flowed).
    """
    root_nodes = [edge[0] for edge in roots]
    if len(roots) == 1 and root_nodes[0]._tree and capture is None and restrict is None \
            and accumulate and not create_graph and batch is None and not AnomalyMode.enabled:
        # A plain backward from one root over a tree (known from when the graph was built):
        # every node gets one gradient, so run_plain needs no counting walk.
        deps, tree = None, True
    else:
        deps, tree = _discover(root_nodes)

    captured = None
    capture_at = {}
    if capture is not None:
        captured = [None] * len(capture)
        for k, (node, nr) in enumerate(capture):
            capture_at.setdefault(node, []).append((nr, k))
    targets = None
    if restrict is not None:
        targets = {edge[0] for edge in restrict}
    elif capture is not None and not accumulate:
        targets = set(capture_at)
    needed = run = None
    if targets is not None:
        needed, run = _needed_nodes(deps, root_nodes, targets)
        if restrict is not None:
            # backward(inputs=...) runs the nodes of the inputs too (they get their .grad as
            # the node's incoming gradient, and the node is released, as in PyTorch); grad()
            # only captures what arrives there.
            run = needed

    buffers = {}
    for (node, nr), g in zip(roots, root_grads):
        buf = buffers.get(node)
        if buf is None:
            buf = buffers[node] = [None] * node._num_outputs
        buf[nr] = g if buf[nr] is None else buf[nr] + g

    ready = root_nodes if deps is None else [n for n in dict.fromkeys(root_nodes)
                                             if deps[n] == 0]
    prev_mode = GradMode.enabled
    GradMode.enabled = create_graph and not GradMode.inference  # inference records nothing
    anomaly = AnomalyMode.enabled and AnomalyMode.check_nan
    special = batch is not None or AnomalyMode.enabled
    if not special and not create_graph and needed is None and not capture_at and accumulate:
        wrap = root_grads[0]._make
        for buf in buffers.values():
            for nr, g in enumerate(buf):
                if g is not None:
                    buf[nr] = g._data
        try:
            run_plain(ready, buffers, deps, tree, retain_graph, wrap)
        finally:
            GradMode.enabled = prev_mode
        return captured
    pop = ready.pop
    push = ready.append
    take = buffers.pop
    try:
        while ready:
            node = pop()
            grads = take(node, None)
            if node._x is not None or (capture_at and node in capture_at):
                grads = _before_node(node, grads, capture_at, captured)
            if node.__class__ is AccumulateGrad:
                if accumulate and grads is not None and grads[0] is not None and (
                        targets is None or node in targets):
                    variable = node.variable
                    if variable is not None:
                        _accumulate(variable, grads[0], create_graph, grads)
                        if node._x is not None and node._x.post_acc_hooks is not None:
                            run_post_accumulate_hooks(node, variable)
                continue

            nexts = node.next_functions
            if run is not None and node not in run:
                outs = None
            elif (grads is None or grads[0] is None and _all_none(grads)) and \
                    not node._apply_without_grads:
                outs = _without_grads(node, grads, retain_graph)
            else:
                if grads is None:
                    grads = [None] * node._num_outputs
                needs = None if needed is None else tuple(
                    e[0] is not None and e[0] in needed for e in nexts)
                try:
                    if special:
                        outs = _apply_special(node, grads, needs, batch)
                    else:
                        outs = node.apply(grads, needs)
                except Exception:
                    if AnomalyMode.enabled:
                        _warn_anomaly(node)
                    raise
                if node._x is not None and node._x.hooks is not None:
                    outs = _post_hooks(node, outs, grads, batch is None)
                if anomaly:
                    _check_nan(node, outs)
                if not retain_graph:
                    node.release()
            meta = node._meta
            i = -1
            for child, nr in nexts:
                i += 1
                if child is None:
                    continue
                if outs is not None:
                    g = outs[i]
                    if g is not None:
                        if batch is not None:
                            if meta is not None and meta[i] is not None:
                                g = fix_batched_grad(g, meta[i], node, i, batch)
                        elif meta is not None and meta[i] is not None:
                            g = _fix_grad(g, meta[i], node, i)
                        buf = buffers.get(child)
                        if buf is None:
                            if child._num_outputs == 1:
                                buffers[child] = [g]
                            else:
                                buf = buffers[child] = [None] * child._num_outputs
                                buf[nr] = g
                        elif buf[nr] is None:
                            buf[nr] = g
                        else:
                            buf[nr] = buf[nr] + g
                remaining = deps[child] - 1
                deps[child] = remaining
                if remaining == 0:
                    push(child)
    finally:
        GradMode.enabled = prev_mode
    return captured


def _all_none(grads) -> bool:
    # Identity checks only: ``==`` on a Tensor would compare elementwise.
    for g in grads:
        if g is not None:
            return False
    return True


def _without_grads(node, grads, retain_graph: bool):
    """A node that no gradient reaches (all None) computes none, but, as in PyTorch, it
    still runs: a declared op's node unpacks what it saved (raising if it was freed or
    modified in place), its hooks see the Nones, and it is released. Returns None (no
    gradients)."""
    if node._op is not None and node._versions is not None:
        node._unpack()
    x = node._x
    if x is not None and x.hooks is not None:
        _post_hooks(node, [None] * len(node.next_functions),
                    grads or [None] * node._num_outputs)
    if not retain_graph:
        node.release()


def _before_node(node, grads, capture_at, captured):
    """Tensor hooks, retain_grad, captures for ``grad()`` and node pre-hooks."""
    if grads is None:
        grads = [None] * node._num_outputs
    x = node._x
    if x is not None and x.tensor_pre_hooks is not None:
        _run_tensor_pre_hooks(node, grads)
    if x is not None and x.retain_grad_hooks is not None:
        _retain_grads(node, grads)
    if node in capture_at:
        for nr, k in capture_at[node]:
            captured[k] = grads[nr]
    if x is not None and x.pre_hooks is not None:
        for hook in list(x.pre_hooks.values()):
            res = hook(tuple(grads))
            if res is not None:
                _check_hook_results(hook, grads, res)
                grads = list(res)
    return grads


def _post_hooks(node, outs, grads, fix: bool = True):
    """Node hooks ``hook(grad_inputs, grad_outputs)``; they see the gradients already summed
    back to each input's shape, as in PyTorch (``fix``: not in a batched pass, where the
    engine fixes them per row), and may return new ones."""
    meta = node._meta
    if meta is not None and fix:
        outs = [g if g is None or m is None else _fix_grad(g, m, node, i)
                for i, (g, m) in enumerate(zip(outs, meta))]
    for hook in list(node._x.hooks.values()):
        res = hook(tuple(outs), tuple(grads))
        if res is not None:
            _check_hook_results(hook, outs, res)
            outs = list(res)
    return outs


def _hook_name(hook) -> str:
    name = getattr(hook, "__name__", None)
    return name if isinstance(name, str) else "<unknown>"


def _check_hook_results(hook, before, after) -> None:
    """PyTorch's checks on what a node hook returned: a tuple, one value per gradient."""
    if not isinstance(after, tuple):
        raise TypeError(f"expected tuple, but hook returned '{type(after).__name__}'")
    if len(after) != len(before):
        raise RuntimeError(f"hook '{_hook_name(hook)}' has returned an incorrect number of "
                           f"values (got {len(after)}, but expected {len(before)})")
    for old, new in zip(before, after):
        _check_hook_result(hook, old, new)


def _check_hook_result(hook, old, new) -> None:
    """PyTorch's checks on a gradient a hook returned in place of ``old``."""
    if new is None:
        return
    if old is None:
        raise RuntimeError("can't replace a None gradient with a non-None value")
    from ..tensor import Tensor
    if not isinstance(new, Tensor):
        raise TypeError(f"expected Variable, but hook returned '{type(new).__name__}'")
    if new.dtype is not old.dtype or new.device.type != old.device.type:
        raise RuntimeError(f"hook '{_hook_name(hook)}' has changed the type of value (was "
                           f"{old.type()} got {new.type()})")
    if new.shape != old.shape:
        raise RuntimeError(f"hook '{_hook_name(hook)}' has changed the size of value")


def _run_tensor_pre_hooks(node, grads) -> None:
    for nr, hooks in node._tensor_pre_hooks.items():
        for hook in list(hooks.values()):
            res = hook(grads[nr])  # None too, as PyTorch calls it
            if res is not None:
                _check_hook_result(hook, grads[nr], res)
                grads[nr] = res


def _retain_grads(node, grads) -> None:
    # As PyTorch's retain_grad hook: the first gradient is cloned (recorded as CloneBackward0
    # with create_graph), later ones are added out of place.
    for nr, ref in node._retain_grad_hooks.items():
        t = ref()
        g = grads[nr]
        if t is None or g is None:
            continue
        if t._grad is None:
            t._grad = _contiguous_copy(g if GradMode.enabled else g.detach())
        else:
            t._grad = t._grad + g
