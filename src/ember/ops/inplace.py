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

import numpy as np

from ..autograd.anomaly_mode import AnomalyMode
from ..autograd.grad_mode import GradMode
from ..autograd.node import Node
from ..dtype import FROM_NUMPY, can_cast
from .registry import _OUT, Bound, NoGradView, _SavedResult, defop, edge_of
from .shape import regenerate_grad_fn, replay_view

LEAF_ERROR = "a leaf Variable that requires grad is being used in an in-place operation."
VIEW_OF_LEAF_ERROR = ("a view of a leaf Variable that requires grad is being used in an "
                      "in-place operation.")
_CAST_NAMES = {"float32": "Float", "float64": "Double", "float16": "Half", "int64": "Long",
               "int32": "Int", "int16": "Short", "int8": "Char", "uint8": "Byte",
               "bool": "Bool"}


def _writeable(arr) -> bool:
    # NumPy marks broadcast views read-only; CuPy arrays have no such flag.
    return arr.__class__ is not np.ndarray or arr.flags.writeable


def bump_version(t) -> None:
    vc = t._vc
    if vc is None:
        t._vc = [1]
    else:
        vc[0] += 1


def check_inplace_allowed(t) -> None:
    """PyTorch's errors for in-place changes of leaves that require grad (and their views)."""
    if not GradMode.enabled:
        return
    base = t._base
    if base is None:
        if t._rg and t._grad_fn is None:
            raise RuntimeError(LEAF_ERROR)
    elif t._accumulator.__class__ is NoGradView and t._grad_fn is None:
        raise RuntimeError(t._accumulator.inplace_error)
    elif base._rg and base._grad_fn is None:
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
            raise RuntimeError(f"result type {_CAST_NAMES[src_dt.name]} can't be cast to the "
                               f"desired output type {_CAST_NAMES[dst_dt.name]}")
    if result_data.shape != dst.shape:
        try:
            target = np.broadcast_shapes(result_data.shape, dst.shape)
        except ValueError:
            target = None
        if target != dst.shape:
            raise RuntimeError(f"output with shape {list(dst.shape)} doesn't match the "
                               f"broadcast shape {list(target or result_data.shape)}")
    try:
        dst[...] = result_data
    except ValueError:
        raise RuntimeError(
            "unsupported operation: more than one element of the written-to tensor refers to a "
            "single memory location. Please clone() the tensor before performing the operation."
        ) from None


class CopySlices(Node):
    """The base's new ``grad_fn`` after an in-place op on one of its views.

    Input 0 is the base before the write; input 1 is the op's node, which produced the new
    values of the view's region.
    """

    __slots__ = ("_chain", "_meta")

    def __init__(self, base_edge, op_edge, chain) -> None:
        Node.__init__(self, (base_edge, op_edge))
        self._chain = chain
        self._meta = None

    def name(self) -> str:
        return "ember::autograd::CopySlices"

    def apply(self, grad_outputs, needs):
        grad = grad_outputs[0]
        out = [None, None]
        if needs is None:  # None: every input that has an edge
            needs = tuple(e[0] is not None for e in self.next_functions)
        if needs[0]:
            g = grad.clone()
            region = replay_view(g, self._chain)
            region.zero_()
            out[0] = g
        if needs[1]:
            out[1] = replay_view(grad, self._chain)
        return out


def _rebind_result(node, t) -> None:
    """A node that saved its output must now see ``t``'s storage and version."""
    saved = getattr(node, "_saved", None)
    if not saved:
        return
    changed = False
    values = list(saved)
    for i, v in enumerate(values):
        if v is _OUT:
            node._out = (t._data, t._vc)
            changed = True
        elif type(v) is _SavedResult:
            values[i] = _SavedResult(t._data, t._vc, v.output_nr)
            changed = True
    if changed:
        node._saved = values
        node._versions = [(i, t._vc[0]) if (values[i] is _OUT or type(values[i]) is _SavedResult)
                          else (i, ver) for i, ver in node._versions]


def inplace(t, fn, *args, **kwargs):
    """Run ``fn(t, *args, **kwargs)`` and store its result in ``t`` itself; returns ``t``."""
    Tensor = Bound.Tensor
    check_inplace_allowed(t)
    recording = GradMode.enabled and (
        t._rg or any(isinstance(a, Tensor) and a._rg for a in args)
        or any(isinstance(a, Tensor) and a._rg for a in kwargs.values()))
    if not recording:
        result = fn(t, *args, **kwargs)
        write_result(t, result._data)
        bump_version(t)
        return t

    node, nr = edge_of(t)
    old = Bound.new(t._data.copy())
    old._rg = t._rg
    old._grad_fn = node
    old._output_nr = nr
    if node is None and t._rg:
        old._accumulator = t._accumulator
    result = fn(old, *args, **kwargs)
    write_result(t, result._data)
    bump_version(t)
    new_node = result._grad_fn
    if new_node is None:
        return t
    _rebind_result(new_node, t)
    base = t._base
    if base is None:
        t._grad_fn = new_node
        t._output_nr = result._output_nr
        t._rg = True
        return t
    chain = t._view[0]
    copy_slices = CopySlices(edge_of(base), (new_node, result._output_nr), chain)
    base._grad_fn = copy_slices
    base._output_nr = 0
    base._rg = True
    t._grad_fn = regenerate_grad_fn(base, chain)
    t._output_nr = 0
    t._rg = True
    t._view = (chain, t._vc[0])
    return t


def inplace_binary(t, op, other, promote: str = "default"):
    """Fast in-place arithmetic (``add_``, ``mul_``, ...) writing straight into storage."""
    Tensor = Bound.Tensor
    from ._apply import binary
    if GradMode.enabled and (t._rg or (isinstance(other, Tensor) and other._rg)):
        return inplace(t, lambda x, o: binary(op, x, o, promote), other)
    check_inplace_allowed(t)
    dst = t._data
    if AnomalyMode.check_forward:
        pass  # detect_anomaly(check_forward=True): take the checked path through ``binary``
    elif isinstance(other, Tensor):
        od = other._data
        if od.dtype is dst.dtype and od.shape == dst.shape and type(od) is type(dst) \
                and _writeable(dst) and not (promote == "float" and dst.dtype.kind != "f"):
            op.forward(dst, od, out=dst)
            bump_version(t)
            return t
    elif type(other) is float and dst.dtype.kind == "f" or \
            type(other) is int and dst.dtype.kind in "fiu" and promote != "float":
        if _writeable(dst):
            try:
                op.forward(dst, other, out=dst)
                bump_version(t)
                return t
            except (OverflowError, TypeError):
                pass
    result = binary(op, t, other, promote)
    if result is NotImplemented:
        raise TypeError(f"unsupported operand type: {type(other).__name__}")
    write_result(t, result._data)
    bump_version(t)
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


_C_TYPE_NAMES = {"int8": "int8_t", "int16": "int16_t", "int32": "int", "int64": "int64_t",
                 "uint8": "uint8_t"}


def checked_fill_value(value, dt):
    """``value`` (a number or 0-d tensor) as a fill for dtype ``dt``, as PyTorch converts it:
    floats truncate into integer types, negative ints wrap into unsigned ones (down to
    -max), and anything that overflows raises."""
    if isinstance(value, Bound.Tensor):
        value = value.item()
    elif isinstance(value, np.generic):
        value = value.item()
    if dt.is_floating_point or dt.name == "bool":
        return value
    info = np.iinfo(dt.np)
    low = info.min if info.min < 0 else -int(info.max)
    if isinstance(value, float) and not np.isfinite(value) or not low <= value <= info.max:
        raise RuntimeError(f"value cannot be converted to type {_C_TYPE_NAMES[dt.name]} without "
                           "overflow")
    return np.array(int(value)).astype(dt.np)


def fill_(t, value):
    """Fill ``t`` with ``value`` (a number or a 0-d tensor) in place."""
    from ._apply import apply, unary
    is_tensor = isinstance(value, Bound.Tensor)
    if is_tensor and value.ndim != 0:
        raise RuntimeError(f"fill_ only supports 0-dimension value tensor but got tensor with "
                           f"{value.ndim} dimensions.")
    if not GradMode.enabled or not (t._rg or is_tensor and value._rg):
        check_inplace_allowed(t)
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
    if not GradMode.enabled or not (t._rg or src._rg):
        check_inplace_allowed(t)
        from ..backend import to_device
        data = src._data
        if type(data) is not type(t._data):
            data = to_device(data, t.device)
        write_result_cast(t, data)
        bump_version(t)
        return t
    return inplace(t, lambda x, s: apply(COPY, (x, s)), src)


def write_result_cast(t, data) -> None:
    """Like ``write_result`` but casting freely, as ``copy_`` does."""
    try:
        t._data[...] = data
    except ValueError:
        raise RuntimeError(
            "unsupported operation: more than one element of the written-to tensor refers to a "
            "single memory location. Please clone() the tensor before performing the operation."
        ) from None
