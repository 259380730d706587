"""In-place ops: write a result into a tensor's own storage, keeping autograd right.

Without a graph to record, the result goes straight into the storage. When recording, the
op runs out of place on a snapshot of the old value (so its formulas see the value they
differentiate at), the result is written back, and the tensor takes the op's node as its
``grad_fn``. For a view, the base's ``grad_fn`` becomes a ``CopySlices`` node that routes
the gradient of the written region through the op, and the view's ``grad_fn`` is
regenerated from the base. Every write bumps the version counter shared by all aliases, so
a saved tensor that changed is caught at backward.
"""

from __future__ import annotations

import weakref

import numpy as np

from ..autograd.engine import _fix_grad
from ..autograd.forward_grad import AfterOp, set_tangent, tangent_of
from ..autograd.grad_mode import INFERENCE_INPLACE_ERROR, INFERENCE_VERSION, GradMode
from ..autograd.node import SECOND_BACKWARD, Node
from ..backend import data_ptr
from ..dtype import FROM_NUMPY, OVERFLOW_TYPE_NAMES, SCALAR_TYPE_NAMES, can_cast
from .forward_ad import has_tangent, inplace_tangent
from .registry import (
    _OUT,
    Bound,
    NoGradView,
    OpNode,
    _SavedResult,
    _wrap_output,
    defop,
    edge_of,
)
from .scalars import FAST_FLOATS
from .shape import from_multi_view, multi_view_error, regenerate_grad_fn, replay_view

LEAF_ERROR = "a leaf Variable that requires grad is being used in an in-place operation."
VIEW_OF_LEAF_ERROR = ("a view of a leaf Variable that requires grad is being used in an "
                      "in-place operation.")


OVERLAP_ERROR = ("unsupported operation: more than one element of the written-to tensor refers "
                 "to a single memory location. Please clone() the tensor before performing the "
                 "operation.")
PARTIAL_OVERLAP_ERROR = (
    "unsupported operation: some elements of the input tensor and the written-to tensor refer "
    "to a single memory location. Please clone() the tensor before performing the operation.")


def _writeable(arr) -> bool:
    # Read-only NumPy arrays and expanded views (a zero stride) take the checked path.
    return (arr.__class__ is not np.ndarray or arr.flags.writeable) and 0 not in arr.strides


def has_internal_overlap(arr) -> bool:
    """PyTorch's "more than one element refers to one memory location": a zero stride on a
    dim of more than one element (an expanded view)."""
    return 0 in arr.strides and arr.size > 1 and any(
        st == 0 and n > 1 for st, n in zip(arr.strides, arr.shape))


def _dense(arr) -> bool:
    """Whether ``arr`` covers a block of memory with no gaps and no repeats, in some dim
    order (PyTorch's ``is_non_overlapping_and_dense``)."""
    expected = arr.itemsize
    for n, st in sorted((p for p in zip(arr.shape, arr.strides) if p[0] != 1),
                        key=lambda p: p[1]):
        if st != expected:
            return False
        expected *= n
    return True


def check_overlap(t, src, *, full_too: bool = False) -> None:
    """PyTorch's error for writing into ``t`` from an input that shares part of its memory
    (any of it, with ``full_too``; ``index_put_`` refuses both). As in PyTorch, only
    tensors that cover a dense block are compared; a view with gaps is not checked."""
    a, b = t._data, src._data
    if a is b or not a.size or not b.size or not _dense(a) or not _dense(b):
        if a is b and full_too:
            raise RuntimeError(PARTIAL_OVERLAP_ERROR)
        return
    a0, b0 = data_ptr(a), data_ptr(b)
    a1, b1 = a0 + a.nbytes, b0 + b.nbytes
    if a0 == b0 and a1 == b1:
        same = [st for n, st in zip(a.shape, a.strides) if n != 1] == \
            [st for n, st in zip(b.shape, b.strides) if n != 1]
        if full_too or not same:
            raise RuntimeError(PARTIAL_OVERLAP_ERROR)
    elif a0 < b1 and b0 < a1:
        raise RuntimeError(PARTIAL_OVERLAP_ERROR)


def shares_memory(t, src) -> bool:
    """The cheap test before ``check_overlap``: ``src`` is an alias of ``t`` (a view of the
    same base, or a detached alias), as their shared version counter says."""
    vc = t._vc
    return vc is not None and src._vc is vc


def bump_version(t) -> None:
    vc = t._vc
    if vc is None:
        t._vc = [1]
    else:
        vc[0] += 1


def check_inplace_allowed(t) -> None:
    """PyTorch's errors for in-place changes of leaves that require grad (and their views),
    and of inference tensors outside inference mode."""
    if t._vc is INFERENCE_VERSION and not GradMode.inference:
        raise RuntimeError(INFERENCE_INPLACE_ERROR)
    if not GradMode.enabled:
        return
    base = t._base
    if base is None:
        if t._rg and t._grad_fn is None:
            raise RuntimeError(LEAF_ERROR)
    elif t._accumulator.__class__ is NoGradView and t._grad_fn is None:
        raise RuntimeError(t._accumulator.inplace_error)
    elif t._rg and from_multi_view(t):
        raise multi_view_error(t)
    elif t._rg and (base._grad_fn is None or not base._rg):
        # PyTorch: a view that requires grad, of a base that is a leaf (whether or not the
        # base itself requires grad: ``w = a.view(2, 3).requires_grad_()``).
        raise RuntimeError(VIEW_OF_LEAF_ERROR)
    else:
        custom = getattr(t._grad_fn, "_forward_cls", None)  # a view made by a custom Function
        if custom is not None:
            raise RuntimeError(
                f"Output {t._output_nr} of {custom.__name__} is a view and is being modified "
                "inplace. This view was created inside a custom Function (or because an input "
                "was returned as-is) and the autograd logic to handle view+inplace would "
                "override the custom backward associated with the custom Function, leading to "
                "incorrect gradients. This behavior is forbidden. You can fix this by cloning "
                "the output of the custom Function.")


def write_result(t, result_data) -> None:
    """Copy ``result_data`` into ``t``'s storage, with PyTorch's cast and shape checks."""
    dst = t._data
    if result_data.dtype is not dst.dtype:
        src_dt, dst_dt = FROM_NUMPY[result_data.dtype], FROM_NUMPY[dst.dtype]
        if not can_cast(src_dt, dst_dt):
            raise RuntimeError(f"result type {SCALAR_TYPE_NAMES[src_dt.name]} can't be cast to the "
                               f"desired output type {SCALAR_TYPE_NAMES[dst_dt.name]}")
    if result_data.shape != dst.shape:
        try:
            target = np.broadcast_shapes(result_data.shape, dst.shape)
        except ValueError:
            target = None
        if target != dst.shape:
            raise RuntimeError(f"output with shape {list(dst.shape)} doesn't match the "
                               f"broadcast shape {list(target or result_data.shape)}")
    if has_internal_overlap(dst):
        raise RuntimeError(OVERLAP_ERROR)
    try:
        dst[...] = result_data
    except ValueError:
        raise RuntimeError(OVERLAP_ERROR) from None


_RELEASED = Node()  # CopySlices._fn after a backward pass without retain_graph


class CopySlices(Node):
    """The base's new ``grad_fn`` after an in-place op on one of its views.

    As in PyTorch, it wraps the op's node ``fn``: its edges are the base's (before the
    write) and ``fn``'s other inputs'. The base's gradient passes through unchanged outside
    the view's region; inside it, it is ``fn``'s gradient for the view's old values, and
    ``fn``'s other inputs get theirs. (A node with several outputs, a custom Function's, is
    kept as an edge instead: input 1 is then that node, which gets the region's gradient.)
    """

    __slots__ = ("_chain", "_meta", "_fn", "_c_order")

    def __init__(self, base_edge, op_edge, chain, c_order: bool = True) -> None:
        fn, nr = op_edge
        if isinstance(fn, OpNode) and fn._num_outputs == 1:
            Node.__init__(self, (base_edge,) + fn.next_functions[1:])
            self._fn = fn
            meta = fn._meta
            self._meta = None if meta is None else [None] + list(meta[1:])
        else:
            Node.__init__(self, (base_edge, op_edge))
            self._fn = None
            self._meta = None
        self._chain = chain
        self._c_order = c_order  # the base is C-contiguous: its view chain fits such a grad

    def name(self) -> str:
        return "ember::autograd::CopySlices"

    def release(self) -> None:
        # As PyTorch's: let go of ``fn`` (which frees what it saved unless a graph built by
        # this backward pass runs it too, through an output it saved).
        if self._fn is not None:
            self._fn = _RELEASED

    def apply(self, grad_outputs, needs):
        if self._fn is _RELEASED:
            raise RuntimeError(SECOND_BACKWARD)
        grad = grad_outputs[0]
        if self._c_order and grad is not None and not grad._data.flags.c_contiguous:
            # As PyTorch copies the gradient into the base's layout: the view chain was
            # made on the base, so a transposed gradient may not take its ``view`` steps.
            grad = grad.contiguous()
        if needs is None:  # None: every input that has an edge
            needs = tuple(e[0] is not None for e in self.next_functions)
        fn = self._fn
        if fn is None:
            out = [None, None]
            if needs[0]:
                g = grad.clone()
                replay_view(g, self._chain).zero_()
                out[0] = g
            if needs[1]:
                out[1] = replay_view(grad, self._chain)
            return out
        res = fn.apply([replay_view(grad, self._chain)], tuple(needs))
        out = list(res)
        if needs[0]:
            g = grad.clone()
            region = replay_view(g, self._chain)
            g0 = res[0]
            if g0 is None:  # no gradient for the old values: they were overwritten
                region.zero_()
            else:
                meta = fn._meta
                if meta is not None and meta[0] is not None:
                    g0 = _fix_grad(g0, meta[0], fn, 0)
                region.copy_(g0)
            out[0] = g
        else:
            out[0] = None
        return out


def move_retain_grad(t, old, old_nr: int, new) -> None:
    """PyTorch moves a tensor's ``retain_grad`` hook to its new ``grad_fn`` when an in-place
    op changes it (its other hooks stay with the old node)."""
    hooks = None if old is None else old._retain_grad_hooks
    if not hooks:
        return
    ref = hooks.get(old_nr)
    if ref is None or ref() is not t:
        return
    del hooks[old_nr]
    moved = new._retain_grad_hooks
    if moved is None:
        moved = new._retain_grad_hooks = {}
    moved[t._output_nr] = ref


def _view_owner(view_node, copy_slices, base, chain):
    """The grad_fn an output saved by the op inside ``copy_slices`` is unpacked with: the
    view's ``view_node`` while it lives, else the same view of the base remade on
    ``copy_slices`` (held weakly: saved values must not keep their graph alive)."""
    node_ref, cs_ref = weakref.ref(view_node), weakref.ref(copy_slices)
    data, vc = base._data, base._vc

    def owner():
        node = node_ref()
        if node is None:
            cs = cs_ref()
            if cs is None:
                return None
            node = regenerate_grad_fn(_wrap_output(data, vc, cs, 0), chain)
        return node
    return owner


def _rebind_result(node, t, owner=None) -> None:
    """A node that saved its output must now see ``t``'s storage and version (and, for a
    view, unpack it with the grad_fn that ``owner()`` gives)."""
    saved = getattr(node, "_saved", None)
    if not saved:
        return
    changed = False
    values = list(saved)
    ref = owner
    for i, v in enumerate(values):
        if v is _OUT:
            node._out = (t._data, t._vc)
            if ref is not None:
                values[i] = _SavedResult(t._data, t._vc, 0, ref)
            changed = True
        elif type(v) is _SavedResult:
            values[i] = _SavedResult(t._data, t._vc, v.output_nr, ref)
            changed = True
    if changed:
        node._saved = values
        node._versions = [(i, t._vc[0]) if (values[i] is _OUT or type(values[i]) is _SavedResult)
                          else (i, ver) for i, ver in node._versions]


def inplace(t, fn, *args, **kwargs):
    """Run ``fn(t, *args, **kwargs)`` and store its result in ``t`` itself; returns ``t``."""
    Tensor = Bound.Tensor
    check_inplace_allowed(t)
    for a in args:
        if isinstance(a, Tensor) and shares_memory(t, a):
            check_overlap(t, a)
    recording = GradMode.enabled and (
        t._rg or any(isinstance(a, Tensor) and a._rg for a in args)
        or any(isinstance(a, Tensor) and a._rg for a in kwargs.values()))
    if not recording:
        result = fn(t, *args, **kwargs)
        write_result(t, result._data)
        bump_version(t)
        if AfterOp.on:
            inplace_tangent(t, result)
        return t

    node, nr = edge_of(t)
    old = Bound.new(t._data.copy())
    old._rg = t._rg
    old._grad_fn = node
    old._output_nr = nr
    if node is None and t._rg:
        old._accumulator = t._accumulator
    if AfterOp.on and tangent_of(t) is not None:
        set_tangent(old, tangent_of(t))
    result = fn(old, *args, **kwargs)
    write_result(t, result._data)
    bump_version(t)
    if AfterOp.on:
        inplace_tangent(t, result)
    new_node = result._grad_fn
    if new_node is None:
        return t
    base = t._base
    if base is None:
        _rebind_result(new_node, t)
        t._grad_fn = new_node
        t._output_nr = result._output_nr
        t._rg = True
        move_retain_grad(t, node, nr, new_node)
        return t
    chain = t._view[0]
    old_base = base._grad_fn
    copy_slices = CopySlices(edge_of(base), (new_node, result._output_nr), chain,
                             base._data.flags.c_contiguous)
    base._grad_fn = copy_slices
    base._output_nr = 0
    base._rg = True
    move_retain_grad(base, old_base, 0, copy_slices)
    t._grad_fn = regenerate_grad_fn(base, chain)
    t._output_nr = 0
    t._rg = True
    t._view = (chain, t._vc[0])
    if copy_slices._fn is not None:
        _rebind_result(new_node, t, _view_owner(t._grad_fn, copy_slices, base, chain))
    else:
        _rebind_result(new_node, t)
    move_retain_grad(t, node, nr, t._grad_fn)
    return t


def inplace_binary(t, op, other, promote: str = "default", fallback=None):
    """Fast in-place arithmetic (``add_``, ``mul_``, ...) writing straight into storage.

    Where the fast paths do not apply, the result is ``fallback(t, other)`` (an op function
    with checks of its own, such as ``sub``'s refusal of bools), by default ``binary``'s."""
    Tensor = Bound.Tensor
    from ._apply import binary
    if GradMode.enabled and (t._rg or (isinstance(other, Tensor) and other._rg)):
        return inplace(t, fallback or (lambda x, o: binary(op, x, o, promote)), other)
    check_inplace_allowed(t)
    dst = t._data
    if t._vc is not None and isinstance(other, Tensor) and other._vc is t._vc:
        check_overlap(t, other)
    if AfterOp.on:
        pass  # anomaly's forward check or forward-mode AD: take the path through ``binary``
    elif isinstance(other, Tensor):
        od = other._data
        if od.dtype is dst.dtype and od.shape == dst.shape and type(od) is type(dst) \
                and _writeable(dst) and not (promote == "float" and dst.dtype.kind != "f"):
            op.forward(dst, od, out=dst)
            bump_version(t)
            return t
    elif type(other) is float and dst.dtype in FAST_FLOATS or type(other) is int and \
            (dst.dtype in FAST_FLOATS or dst.dtype.kind in "iu") and promote != "float":
        if _writeable(dst):
            try:
                op.forward(dst, other, out=dst)
                bump_version(t)
                return t
            except (OverflowError, TypeError):
                pass
    result = binary(op, t, other, promote) if fallback is None else fallback(t, other)
    if result is NotImplemented:
        raise TypeError(f"unsupported operand type: {type(other).__name__}")
    write_result(t, result._data)
    bump_version(t)
    if AfterOp.on:
        inplace_tangent(t, result)
    return t


def _overwritten(grad):
    # The old values were overwritten: they get a zero gradient (not None), as in PyTorch.
    return Bound.new(np.zeros_like(grad._data))


ZERO = defop("zero", node="ZeroBackward0", forward=np.zeros_like,
             derivatives={"self": _overwritten})
FILL_SCALAR = defop("fill", node="FillBackward2",
                    forward=lambda x, value: np.full_like(x, value),
                    derivatives={"self": _overwritten})
FILL_TENSOR = defop("fill", inputs=("self", "value"), node="FillBackward3",
                    forward=lambda x, v: np.full_like(x, v),
                    derivatives={"self": _overwritten, "value": lambda grad: grad.sum()})
COPY = defop("copy", inputs=("self", "src"), node="CopyBackwards",
             forward=lambda x, src: np.broadcast_to(src, x.shape).astype(x.dtype),
             derivatives={"self": _overwritten, "src": lambda grad: grad})


COPY.node_cls.name = lambda self: "ember::autograd::CopyBackwards"  # a C++ node in PyTorch


def real_fill_value(value: complex, dt, half: str = "c10::Half"):
    """A complex fill for dtype ``dt`` as PyTorch takes it: its real part if it has no
    imaginary part (any value for bool), else PyTorch's overflow error."""
    if dt.name == "bool":
        return bool(value)
    if value.imag:
        name = half if dt.name == "float16" else OVERFLOW_TYPE_NAMES[dt.name]
        raise RuntimeError(f"value cannot be converted to type {name} without overflow")
    return value.real if dt.is_floating_point else int(value.real)


def checked_fill_value(value, dt):
    """``value`` (a number or 0-d tensor) as a fill for dtype ``dt``, as PyTorch converts it:
    floats truncate into integer types, negative ints wrap into unsigned ones (down to
    -max), and anything that overflows raises."""
    if isinstance(value, Bound.Tensor):
        value = value.item()
    elif isinstance(value, np.generic):
        value = value.item()
    if dt.is_floating_point or dt.name == "bool":
        if dt.name == "float16" and abs(value) > 65504 and not np.isinf(value):
            raise RuntimeError("value cannot be converted to type c10::Half without overflow")
        return value
    info = np.iinfo(dt.np)
    low = info.min if info.min < 0 else -int(info.max)
    if isinstance(value, float) and not np.isfinite(value) or not low <= value <= info.max:
        raise RuntimeError(f"value cannot be converted to type {OVERFLOW_TYPE_NAMES[dt.name]} "
                           "without overflow")
    return np.array(int(value)).astype(dt.np)


def fill_(t, value):
    """Fill ``t`` with ``value`` (a number or a 0-d tensor) in place."""
    from ._apply import apply, unary
    is_tensor = isinstance(value, Bound.Tensor)
    if is_tensor and value.ndim != 0:
        raise RuntimeError(f"fill_ only supports 0-dimension value tensor but got tensor with "
                           f"{value.ndim} dimensions.")
    if type(value) is complex:
        value = real_fill_value(value, FROM_NUMPY[t._data.dtype])
    if is_tensor and type(value._data) is not type(t._data):
        value = value.to(t.device)  # PyTorch fills from a 0-d tensor on any device
    if (not GradMode.enabled or not (t._rg or is_tensor and value._rg)) \
            and not (AfterOp.on and has_tangent(t, value)):
        check_inplace_allowed(t)
        if is_tensor and has_internal_overlap(t._data):
            raise RuntimeError(OVERLAP_ERROR)  # a number fills an expanded view; a tensor not
        v = value._data if is_tensor else checked_fill_value(value, FROM_NUMPY[t._data.dtype])
        t._data[...] = v
        bump_version(t)
        return t
    if is_tensor:
        return inplace(t, lambda x, v: apply(FILL_TENSOR, (x, v)), value)
    return inplace(t, lambda x: unary(FILL_SCALAR, x, {"value": value}))


def zero_(t):
    """Fill ``t`` with zeros in place."""
    from ._apply import unary
    if not GradMode.enabled or not t._rg:
        return fill_(t, 0)
    return inplace(t, lambda x: unary(ZERO, x))


def copy_(t, src, non_blocking: bool = False):
    """Copy the values of ``src`` (broadcast to ``t``'s shape, cast to its dtype) into ``t``."""
    from ._apply import apply
    if isinstance(src, (bool, int, float, np.number, np.bool_)):
        return fill_(t, src)  # PyTorch takes a number as a 0-d tensor here
    if not isinstance(src, Bound.Tensor):
        raise TypeError(f"copy_(): argument 'other' (position 1) must be Tensor, not "
                        f"{type(src).__name__}")
    try:
        np.broadcast_shapes(src.shape, t.shape)
        ok = np.broadcast_shapes(src.shape, t.shape) == tuple(t.shape)
    except ValueError:
        ok = False
    if not ok:
        from ._apply import broadcast_error
        raise broadcast_error(t.shape, src.shape) or RuntimeError(
            f"output with shape {list(t.shape)} doesn't match the broadcast shape "
            f"{list(np.broadcast_shapes(src.shape, t.shape))}")
    if (not GradMode.enabled or not (t._rg or src._rg)) \
            and not (AfterOp.on and has_tangent(t, src)):
        check_inplace_allowed(t)
        if shares_memory(t, src):
            check_overlap(t, src)
        from ..backend import to_device
        data = src._data
        if type(data) is not type(t._data):
            data = to_device(data, t.device)
        write_result_cast(t, data)
        bump_version(t)
        return t
    if type(src._data) is not type(t._data):
        src = src.to(t.device)  # a differentiable move: the gradient goes back to src's device
    return inplace(t, lambda x, s: apply(COPY, (x, s)), src)


def write_result_cast(t, data) -> None:
    """Like ``write_result`` but casting freely, as ``copy_`` does."""
    if has_internal_overlap(t._data):
        raise RuntimeError(OVERLAP_ERROR)
    try:
        t._data[...] = data
    except ValueError:
        raise RuntimeError(OVERLAP_ERROR) from None
