"""Custom differentiable operations: ``ember.autograd.Function``.

A subclass defines ``forward`` (run with recording off) and ``backward`` (the gradient of
each input from the gradient of each output). ``Function.apply`` runs the forward and, when
a graph is being built, hooks a node to the outputs. As in PyTorch, that node is also the
``ctx`` handed to ``forward`` and ``backward``: its class is ``<ClassName>Backward``, and
what the forward stored on ctx is there in the backward.
"""

from __future__ import annotations

import functools
import inspect
import warnings
from contextlib import nullcontext

from .anomaly_mode import AnomalyMode, forward_trace
from .forward_grad import AfterOp, saved_output_tangent, set_tangent, suspended, tangent_of
from .grad_mode import GradMode, check_savable, no_grad
from .node import SECOND_BACKWARD, Node

__all__ = ["FunctionCtx", "BackwardCFunction", "Function", "once_differentiable",
           "InplaceFunction"]

_DIRTY_LEAF = "a leaf Variable that requires grad has been used in an in-place operation."
_DIRTY_NOT_RETURNED = (
    "Some elements marked as dirty during the forward method were not returned as output. "
    "The inputs that are modified inplace must all be outputs of the Function."
)


def _tensor_cls():
    from ..tensor import Tensor
    return Tensor


class FunctionCtx:
    """What ``forward`` (or ``setup_context``) uses to pass information to ``backward``."""

    def save_for_backward(self, *tensors) -> None:
        """Save tensors (or None) for ``backward``, where ``ctx.saved_tensors`` returns them,
        checked against in-place changes made after saving. (Checked, as in PyTorch, when
        the call is recorded.)"""
        self.to_save = tensors

    def save_for_forward(self, *tensors) -> None:
        """Save tensors for a forward-mode ``jvp`` (kept on ctx as ``saved_for_forward``)."""
        Tensor = _tensor_cls()
        for t in tensors:
            if not (t is None or isinstance(t, Tensor)):
                raise AssertionError("save_for_forward expects all arguments to be tensors; you "
                                     "should save non-tensors as attributes on ctx.")
        self.saved_for_forward = tensors

    def mark_dirty(self, *args) -> None:
        """Mark input tensors that ``forward`` modified in place (they must be returned)."""
        self.dirty_tensors = args

    def mark_non_differentiable(self, *args) -> None:
        """Mark outputs that do not require grad; ``backward`` still gets a (zero) gradient
        for each."""
        self.non_differentiable = args

    def set_materialize_grads(self, value: bool) -> None:
        """Whether undefined output gradients reach ``backward`` as zeros (default) or None."""
        self.materialize_grads = value


class _SavedOutput:
    """An output saved for backward: kept as its array, so that ctx holds no cycle."""

    __slots__ = ("data", "counter", "output_nr", "version")

    def __init__(self, t, output_nr: int) -> None:
        self.data = t._data
        self.counter = t._vc
        self.output_nr = output_nr
        self.version = t._vc[0]


class BackwardCFunction(Node, FunctionCtx):
    """The node (and ctx) of one call of a custom ``Function``."""

    _forward_cls: type
    _apply_without_grads = True

    def __call__(self, *args, **kwargs):
        # As in PyTorch, a custom Function's node cannot be called like other nodes.
        raise TypeError(f"'{type(self).__name__}' object is not callable")

    def apply(self, grad_outputs, needs):
        cls = self._forward_cls
        backward = cls.backward
        if backward is Function.backward and cls.vjp is not Function.vjp:
            backward = cls.vjp
        grads = list(grad_outputs)
        if self.materialize_grads:
            for i, g in enumerate(grads):
                if g is None and self._output_meta[i] is not None:
                    grads[i] = self._zeros(self._output_meta[i])
        result = backward(self, *grads)
        return self._check_result(result)

    @staticmethod
    def _zeros(meta):
        return _tensor_cls()._make(_zeros_of(meta))

    def _check_result(self, result):
        Tensor = _tensor_cls()
        if not isinstance(result, tuple):
            result = (result,)
        expected = len(self._is_tensor_arg)
        if len(result) > expected and all(g is None for g in result[expected:]):
            result = result[:expected]
        if len(result) != expected:
            raise RuntimeError(f"function {self.name()} returned an incorrect number of "
                               f"gradients (expected {expected}, got {len(result)})")
        out = []
        for i, (g, is_tensor) in enumerate(zip(result, self._is_tensor_arg)):
            if not is_tensor:
                if g is not None:
                    raise RuntimeError(
                        f"function {self.name()} returned a gradient different than None at "
                        f"position {i + 1}, but the corresponding forward input was not a "
                        "Variable")
                continue
            if g is not None and not isinstance(g, Tensor):
                raise RuntimeError(f"expected Variable or None (got {type(g).__name__})")
            out.append(g)
        return out

    def release(self) -> None:
        self._saved = None

    def _saves_output(self) -> bool:
        return any(type(entry) is _SavedOutput for entry in self.__dict__.get("_saved") or ())

    @property
    def saved_tensors(self) -> tuple:
        """The tensors given to ``save_for_backward``, checked for in-place changes."""
        saved = self._saved
        if saved is None:
            raise RuntimeError(SECOND_BACKWARD)
        from ..ops.registry import _version_error
        Tensor = _tensor_cls()
        out = []
        for entry in saved:
            if entry is None:
                out.append(None)
            elif type(entry) is _SavedOutput:
                t = Tensor._make(entry.data)
                t._rg = True
                t._grad_fn = self
                t._output_nr = entry.output_nr
                t._vc = entry.counter
                if AfterOp.on and (tangent := saved_output_tangent(self, t._output_nr)) \
                        is not None:
                    set_tangent(t, tangent)
                if entry.counter[0] != entry.version:
                    raise _version_error(t, entry.version, self)
                out.append(t)
            else:
                t, version = entry
                if t._vc[0] != version:
                    raise _version_error(t, version, self)
                out.append(t)
        return tuple(out)

    @property
    def saved_variables(self) -> tuple:
        warnings.warn("'saved_variables' is deprecated; use 'saved_tensors'", DeprecationWarning,
                      stacklevel=2)
        return self.saved_tensors

    @property
    def _saved_tensors(self) -> tuple:
        return self.saved_tensors

    def __repr__(self) -> str:
        return f"<ember.autograd.function.{self.name()} object at {hex(id(self))}>"


def _zeros_of(meta):
    import numpy as np
    shape, dtype, dev = meta
    zeros = np.zeros(shape, dtype=dtype)
    if dev is None:
        return zeros
    from ..backend import to_device
    return to_device(zeros, dev)


class _FunctionMeta(type):
    """Gives each Function subclass its node class, ``<ClassName>Backward``."""

    def __init__(cls, name, bases, attrs) -> None:
        backward_cls = type(name + "Backward", (BackwardCFunction,),
                            {"_forward_cls": cls, "__module__": "ember.autograd.function"})
        cls._backward_cls = backward_cls
        super().__init__(name, bases, attrs)


class Function(FunctionCtx, metaclass=_FunctionMeta):
    """Base class of custom differentiable operations.

    Subclasses implement the static methods ``forward(ctx, *args)`` (or ``forward(*args)``
    together with ``setup_context(ctx, inputs, output)``) and ``backward(ctx, *grads)``,
    and are called through ``apply``::

        class Exp(Function):
            @staticmethod
            def forward(ctx, x):
                result = x.exp()
                ctx.save_for_backward(result)
                return result

            @staticmethod
            def backward(ctx, grad_output):
                result, = ctx.saved_tensors
                return grad_output * result

        y = Exp.apply(x)
    """

    def __init__(self, *args, **kwargs) -> None:
        warnings.warn(
            f"{self.__class__} should not be instantiated. Methods on autograd functions are "
            "all static, so you should invoke them on the class itself. Instantiating an "
            "autograd function will raise an error in a future version of PyTorch.",
            DeprecationWarning, stacklevel=2)

    def __call__(self, *args, **kwargs):
        raise RuntimeError(
            "Legacy autograd function with non-static forward method is deprecated. Please use "
            "new-style autograd function with static forward method. (Example: "
            "https://pytorch.org/docs/stable/autograd.html#torch.autograd.Function)")

    generate_vmap_rule = False

    @staticmethod
    def forward(*args, **kwargs):
        """Compute the outputs (runs with gradient recording off)."""
        raise NotImplementedError(
            "You must implement the forward function for custom autograd.Function.")

    @staticmethod
    def setup_context(ctx, inputs: tuple, output):
        """Save what ``backward`` needs, given the inputs and the output of ``forward``."""
        raise NotImplementedError("setup_context is not implemented.")

    @staticmethod
    def backward(ctx, *grad_outputs):
        """The gradient of each forward input (None where there is none)."""
        raise NotImplementedError(
            "You must implement either the backward or vjp method for your custom "
            "autograd.Function to use it with backward mode AD.")

    vjp = backward

    @staticmethod
    def jvp(ctx, *grad_inputs):
        raise NotImplementedError("You must implement the jvp function for custom "
                                  "autograd.Function to use it with forward mode AD.")

    @staticmethod
    def vmap(info, in_dims, *args):
        raise NotImplementedError(
            "To use autograd.Function with vmap, you must either override the vmap "
            "staticmethod or set generate_vmap_rule=True.")

    @classmethod
    def apply(cls, *args, **kwargs):
        """Run ``forward`` on ``args`` and connect its outputs to the graph."""
        setup = cls.setup_context is not Function.setup_context
        if setup:
            bound = _forward_signature(cls).bind(*args, **kwargs)
            bound.apply_defaults()
            args, kwargs = bound.args, bound.kwargs
        elif kwargs:
            # Keyword arguments become positional inputs (ctx is the first parameter).
            try:
                bound = _forward_signature(cls).bind(None, *args, **kwargs)
            except TypeError as e:  # worded as calling forward words it
                raise TypeError(f"forward() {e}") from None
            args, kwargs = bound.args[1:], bound.kwargs
        return _apply(cls, setup, args, kwargs)


def _forward_signature(cls) -> inspect.Signature:
    sig = cls.__dict__.get("_forward_sig")
    if sig is None:
        sig = inspect.signature(cls.forward)
        cls._forward_sig = sig
    return sig


def _apply(cls, setup: bool, args, kwargs):
    from ..ops.registry import edge_of
    Tensor = _tensor_cls()
    is_tensor = tuple(isinstance(a, Tensor) for a in args)
    recording = GradMode.enabled and any(
        t and a._rg for t, a in zip(is_tensor, args))
    ctx = object.__new__(cls._backward_cls)
    Node.__init__(ctx)
    ctx.materialize_grads = True
    ctx.needs_input_grad = tuple(recording and t and a._rg for t, a in zip(is_tensor, args))
    if recording:
        # Edges are taken before the forward runs: a dirty input's own history comes first.
        ctx.next_functions = tuple(edge_of(a) for t, a in zip(is_tensor, args) if t)
        ctx._meta = [(a.shape, a.dtype) for t, a in zip(is_tensor, args) if t]
    ctx._is_tensor_arg = is_tensor
    dual = AfterOp.on and _has_tangent(args)
    with no_grad(), suspended() if dual else nullcontext():
        if setup:
            output = cls.forward(*args, **kwargs)
            cls.setup_context(ctx, args, output)
        else:
            output = cls.forward(ctx, *args, **kwargs)
    is_tuple = isinstance(output, tuple)
    outputs = output if is_tuple else (output,)
    dirty = getattr(ctx, "dirty_tensors", ())
    for t in dirty:
        if not any(t is o for o in outputs):
            raise RuntimeError(_DIRTY_NOT_RETURNED)
    for t in dirty:
        _bump(t)
    if not recording:
        ctx.__dict__.pop("to_save", None)
        outputs = tuple(_unrecorded(o, args, dirty) if isinstance(o, Tensor) else o
                        for o in outputs)
        output = outputs if is_tuple else outputs[0]
        _check_forward(cls, args, outputs)
        if dual:
            _run_jvp(cls, ctx, args, outputs)
        return output
    outputs = _wrap_outputs(ctx, args, outputs, dirty)
    _save(ctx, outputs)
    if AnomalyMode.enabled:
        ctx._anomaly_trace = forward_trace()
        ctx._anomaly_parent = AnomalyMode.current_node
    _check_forward(cls, args, outputs)
    if dual:
        _run_jvp(cls, ctx, args, outputs)
    return outputs if is_tuple else outputs[0]


def _has_tangent(args) -> bool:
    from ..ops.forward_ad import has_tangent
    return has_tangent(*args)


def _run_jvp(cls, ctx, args, outputs) -> None:
    """Forward-mode AD through a custom Function: its ``jvp`` gets the tangent of each
    input (zeros for a tensor that has none, None for a non-tensor) and returns the tangent
    of each output; ``ctx.saved_tensors`` are those given to ``save_for_forward``."""
    from ..ops.forward_ad import zeros_tangent
    Tensor = _tensor_cls()
    tangents = []
    for a in args:
        if isinstance(a, Tensor):
            t = tangent_of(a)
            tangents.append(zeros_tangent(a) if t is None and ctx.materialize_grads else t)
        else:
            tangents.append(None)
    saved = ctx.__dict__.get("_saved")
    ctx._saved = tuple(None if t is None else (t, _version_of(t))
                       for t in getattr(ctx, "saved_for_forward", ()))
    try:
        with suspended():
            result = cls.jvp(ctx, *tangents)
    finally:
        ctx._saved = saved
    results = result if isinstance(result, tuple) else (result,)
    if len(results) != len(outputs):
        raise RuntimeError(f"Function's jvp returned an invalid number of forward gradients "
                           f"(expected {len(outputs)} but got {len(results)})")
    for out, t in zip(outputs, results):
        if t is not None and isinstance(out, Tensor) and out.dtype.is_floating_point:
            set_tangent(out, t)


def _version_of(t) -> int:
    if t._vc is None:
        t._vc = [0]
    return t._vc[0]


def _bump(t) -> None:
    if t._vc is None:
        t._vc = [1]
    else:
        t._vc[0] += 1


def _wrap_outputs(ctx, args, outputs, dirty):
    """Give each differentiable output its place in the graph; returns the new outputs."""
    Tensor = _tensor_cls()
    non_diff = getattr(ctx, "non_differentiable", ())
    ctx._num_outputs = len(outputs)
    meta = []
    wrapped = []
    for nr, out in enumerate(outputs):
        if not isinstance(out, Tensor):
            meta.append(None)
            wrapped.append(out)
            continue
        meta.append((out._data.shape, out._data.dtype, _device_of(out._data)))
        if any(out is t for t in non_diff) or out._data.dtype.kind not in "fc":
            out = _unrecorded(out, args, dirty)
        elif any(out is t for t in dirty):
            _mark_dirty(ctx, out, nr)
        else:
            if any(out is a for a in args):
                out = _alias(out)  # an unchanged input comes back as a view of it
            out._rg = True
            out._grad_fn = ctx
            out._output_nr = nr
        wrapped.append(out)
    ctx._output_meta = meta
    return tuple(wrapped)


def _unrecorded(out, args, dirty):
    """An output that takes no gradient (nothing was recorded, or it is non-differentiable),
    as PyTorch returns it: an input that does not require grad comes back as a view of
    itself (as itself if the forward modified it), one that does as a detached alias; any
    other output that requires grad (a tensor the forward made with requires_grad) is
    detached in place, unless it is a view (of an input that requires grad: as a view made
    in no_grad mode, it still requires grad)."""
    is_input = any(out is a for a in args)
    if not out._rg:
        if is_input and not any(out is t for t in dirty):
            return _alias(out)
        return out
    if is_input:
        return out.detach()
    if out._base is None:
        out._rg = False
        out._grad_fn = None
    return out


def _alias(t):
    from ..ops.shape import alias
    with no_grad():
        return alias(t)


def _mark_dirty(ctx, t, nr: int) -> None:
    """``t`` was changed in place by the forward: ctx becomes its producer."""
    base = t._base
    if t._rg and t._grad_fn is None and base is None:
        raise RuntimeError(_DIRTY_LEAF)
    if base is None:
        t._rg = True
        t._grad_fn = ctx
        t._output_nr = nr
        return
    from ..ops.inplace import VIEW_OF_LEAF_ERROR, CopySlices
    from ..ops.registry import edge_of
    from ..ops.shape import replay_view
    if base._rg and base._grad_fn is None:
        raise RuntimeError(VIEW_OF_LEAF_ERROR)
    chain = t._view[0]
    base._grad_fn = CopySlices(edge_of(base), (ctx, nr), chain, base._data.flags.c_contiguous)
    base._output_nr = 0
    base._rg = True
    prev = GradMode.enabled
    GradMode.enabled = True
    try:
        regenerated = replay_view(base, chain)
    finally:
        GradMode.enabled = prev
    t._grad_fn = regenerated._grad_fn
    t._output_nr = 0
    t._rg = True
    t._view = (chain, t._vc[0])


def _save(ctx, outputs) -> None:
    to_save = ctx.__dict__.pop("to_save", ())
    Tensor = _tensor_cls()
    saved = []
    for i, t in enumerate(to_save):
        if t is None:
            saved.append(None)
            continue
        if not isinstance(t, Tensor):
            raise TypeError(f"save_for_backward can only save variables, but argument {i} is "
                            f"of type {type(t).__name__}")
        check_savable(t)
        if t._vc is None:
            t._vc = [0]
        nr = next((k for k, o in enumerate(outputs) if o is t), None)
        if nr is not None and t._grad_fn is ctx:
            saved.append(_SavedOutput(t, nr))
        else:
            saved.append((t, t._vc[0]))
    ctx._saved = tuple(saved)


def _check_forward(cls, args, outputs) -> None:
    if not AnomalyMode.check_forward:
        return
    import numpy as np

    from .anomaly_mode import user_frame
    Tensor = _tensor_cls()
    for out in outputs:
        if not isinstance(out, Tensor) or out._data.dtype.kind != "f":
            continue
        d = out._data
        if not bool((d == d).all() and (abs(d) != np.inf).all()):
            bad = "nan" if bool((d != d).any()) else "inf"
            shapes = ", ".join(str(list(a.shape)) if isinstance(a, Tensor) else repr(a)
                               for a in args)
            raise RuntimeError(
                f"Function '{cls.__name__}Backward' produced {bad} values in its forward "
                f"output (op '{cls.__name__}', inputs: {shapes}).\nCalled from:\n  "
                f"{user_frame()}")


def _device_of(arr):
    """None for a NumPy array, else the device a GPU array lives on."""
    import numpy as np
    if type(arr) is np.ndarray:
        return None
    from ..backend import array_device
    return array_device(arr)


class Error(Node):
    """A node whose backward raises: what ``once_differentiable`` puts behind its results
    (PyTorch's ``DelayedError``)."""

    def __init__(self, msg: str, edges) -> None:
        Node.__init__(self, tuple(edges))
        self.msg = msg
        self._num_outputs = len(edges)

    def name(self) -> str:
        return "ember::autograd::Error"

    def apply(self, grad_outputs, needs):
        raise RuntimeError(self.msg)


DelayedError = Error


def once_differentiable(fn):
    """Decorate ``backward`` to run with recording off; differentiating its result again
    (double backward) then raises an error instead of giving a wrong answer."""
    @functools.wraps(fn)
    def wrapper(ctx, *args):
        with no_grad():
            outputs = fn(ctx, *args)
        if not GradMode.enabled:
            return outputs
        Tensor = _tensor_cls()
        if not any(isinstance(a, Tensor) and a._rg for a in args):
            return outputs
        is_tuple = isinstance(outputs, tuple)
        outs = outputs if is_tuple else (outputs,)
        from ..ops.registry import edge_of
        fakes = []
        for v in outs:
            if isinstance(v, Tensor):
                v = v.detach()
                v._rg = True
            fakes.append(v)
        edges = [edge_of(v) if isinstance(v, Tensor) else (None, 0) for v in fakes]
        err = DelayedError("trying to differentiate twice a function that was marked with "
                           "@once_differentiable", edges)
        err.inputs = fakes  # keeps the leaves behind its AccumulateGrad edges alive
        wrapped = []
        for nr, v in enumerate(fakes):
            if isinstance(v, Tensor):
                v = v.detach()
                v._rg = True
                v._grad_fn = err
                v._output_nr = nr
            wrapped.append(v)
        return tuple(wrapped) if is_tuple else wrapped[0]
    return wrapper


class InplaceFunction(Function):
    """Kept for compatibility: a Function that may work in place."""

    def __init__(self, inplace: bool = False) -> None:
        super().__init__()
        self.inplace = inplace
