"""How an op is declared: its forward on arrays and its derivative for each input, together.

``defop`` is ember's derivatives.yaml. A declaration names the op, its tensor inputs, a
forward function over arrays, and one formula per differentiable input. A formula is a
function whose parameter names say what it needs: ``grad`` (the output's gradient), input
names (``self``, ``other``, ...), ``<input>_shape``, ``result`` (the output, saved instead of
the input where that is cheaper), ``result1`` ... for further outputs, and the op's keyword
attributes. The registry saves exactly those values when the op is recorded, makes the
node class (``MulBackward0``), and at backward calls the formulas with ember Tensors, so
every derivative is itself differentiable.
"""

from __future__ import annotations

import inspect
import re
from weakref import ref as _weakref

import numpy as np

from ..autograd.anomaly_mode import AnomalyMode, forward_trace
from ..autograd.forward_grad import AfterOp, saved_output_tangent, set_tangent
from ..autograd.grad_mode import check_savable
from ..autograd.node import FREED, RELEASED, SECOND_BACKWARD, AccumulateGrad, Node


class Bound:
    """The Tensor class, bound by ``tensor.py`` (ops sit below it in the layering)."""

    Tensor = None
    new = None  # fast constructor: new(array) -> Tensor without grad


class OpDef:
    """One declared op: forward, derivative formulas, what to save, and its node class."""

    __slots__ = ("name", "inputs", "forward", "formulas", "array_formulas", "array_backward",
                 "saved", "save_plan", "input_saves", "node_cls", "view", "num_outputs",
                 "elementwise", "compute_bound", "num_edges", "record_scalar", "jvp",
                 "release", "freed")

    def __repr__(self) -> str:
        return f"OpDef({self.name})"


# Where each saved name comes from: (kind, index or attribute name).
_INPUT, _SHAPE, _RESULT, _ATTR = range(4)


def defop(name: str, *, inputs=("self",), forward, derivatives=None, node: str | None = None,
          view: bool = False, outputs: int = 1, elementwise: bool = False,
          compute_bound: bool = False, on_arrays=None, no_edge=(), jvp=None) -> OpDef:
    """Declare an op. ``derivatives`` maps an input name to its formula (or None).

    ``on_arrays``: for the hottest ops, the same derivatives as array code (same parameter
    names, NumPy/CuPy arrays in and out), run when no graph is built for the backward pass,
    so that a plain ``backward()`` costs what the array math costs. The formulas in
    ``derivatives`` stay the definition: they alone run under ``create_graph``, and every
    op-table test compares both against torch.

    ``elementwise``: each output element depends only on the input elements at its (broadcast)
    position, so large inputs may be computed in parallel chunks (``backend.threads``).
    ``compute_bound``: the kernel costs several ns per element (exp, tanh, ...), so chunks pay
    off from a smaller size than for memory-bound arithmetic.
    ``no_edge``: trailing inputs that are not autograd inputs in PyTorch's schema (the
    Scalar of ``pow(Tensor, Scalar)``, the condition of ``where``): its nodes have no edge
    for them, so ``next_functions`` is PyTorch's.
    ``jvp``: the forward-mode derivative where the one made from ``derivatives`` differs
    from PyTorch's (``ops/forward_ad.py``): ``"linear"`` for an op linear in its one tensor
    input (the tangent goes through the op itself, as PyTorch's ``auto_linear``), or a
    function ``jvp(tangents, inputs, attrs)`` returning the output's tangent."""
    derivatives = derivatives or {}
    unknown = set(derivatives) - set(inputs)
    if unknown:
        raise ValueError(f"{name}: derivatives for unknown inputs {sorted(unknown)}")
    num_edges = len(inputs) - len(no_edge)
    if tuple(inputs[num_edges:]) != tuple(no_edge) or set(no_edge) & set(derivatives):
        raise ValueError(f"{name}: no_edge inputs must come last and have no derivative")
    op = OpDef()
    op.name = name
    op.inputs = tuple(inputs)
    op.forward = forward
    op.view = view
    op.elementwise = elementwise
    op.compute_bound = compute_bound
    op.num_outputs = outputs
    op.num_edges = num_edges
    op.jvp = jvp
    saved = {}
    users = {}  # saved name -> bit mask of the inputs whose formulas read it
    formulas = []
    for k, inp in enumerate(inputs[:num_edges]):
        fn = derivatives.get(inp)
        if fn is None:
            formulas.append(None)
            continue
        params = list(inspect.signature(fn).parameters)
        if not params or params[0] != "grad":
            raise ValueError(f"{name}: formula for {inp} must take 'grad' first")
        slots = []
        for p in params[1:]:
            if p not in saved:
                saved[p] = (len(saved), _source(p, inputs))
            users[p] = users.get(p, 0) | (1 << k)
            slots.append(saved[p][0])
        formulas.append((fn, tuple(slots), len(slots)))
    op.formulas = tuple(formulas)
    op.array_formulas = _array_formulas(name, inputs[:num_edges], on_arrays, derivatives, saved) \
        if on_arrays else None
    op.saved = tuple(src for _, src in saved.values())
    if op.saved == _RESULT_ONLY:
        op.saved = _RESULT_ONLY  # the one object ``record_unary`` looks for
    op.release, op.freed = compile_release(op)
    op.array_backward = compile_array_backward(op) if on_arrays else None
    # What record() walks: each saved value with the inputs that need it, so a value only
    # the formula of a non-differentiable input reads is never saved (as in PyTorch).
    op.save_plan = tuple((kind, where, users[p]) for p, (_, (kind, where)) in saved.items())
    # The common case of a two-input op saving only its inputs (mul, div, pow, ...), which
    # ``record_binary`` saves without the general walk.
    op.input_saves = tuple((where, mask) for kind, where, mask in op.save_plan) \
        if op.save_plan and all(kind == _INPUT for kind, _, _ in op.save_plan) else None
    node_name = node or "".join(w.capitalize() for w in name.split("_")) + "Backward0"
    body = {"__slots__": (), "_op": op, "_num_outputs": outputs}
    if node_name == "NotImplemented":  # PyTorch's C++ node of that name says where it lives
        body["name"] = lambda self: "ember::autograd::NotImplemented"
    op.node_cls = type(node_name, (OpNode,), body)
    op.record_scalar = compile_record_scalar(op) if len(inputs) == 2 else None
    return op


def compile_release(op: OpDef):
    """``op.release(node)``: what a node frees after a backward pass without retain_graph.

    As in PyTorch, the saved tensors (its ``SavedVariable``s), not sizes, dims or scalars: an
    input with an edge (a Tensor, or a Python number that PyTorch wraps as a tensor) and an
    output; an input without an edge (a Scalar in PyTorch's schema, or a Tensor such as
    ``where``'s condition) and an attribute (index or weight arrays) if it holds a tensor.
    A node that freed any is marked released, and running it again raises PyTorch's error
    (PyTorch's nodes unpack every saved tensor before they compute any gradient); one that
    saved no tensor stays usable. Written out per op, as ``compile_array_backward`` is.

    Returns ``(release, freed)``: ``release`` is None for an op that never saves a tensor;
    ``freed`` is the saved values after release where they are the same for every node
    (every slot holds a tensor, and every formula reads one, so each node saved one; a
    slot it did not save reads as None all the same, see ``_saved_value``), so the engine
    can release in line; else None."""
    items = []
    code = ["def release(node):",
            "    saved = node._saved",
            "    freed = False"]
    always = maybe = 0
    for i, (kind, where) in enumerate(op.saved):
        items.append(f"v{i}")
        code.append(f"    v{i} = saved[{i}]")
        if kind == _RESULT or (kind == _INPUT and where < op.num_edges):
            test = f"v{i} is not None"
            always += 1
        elif kind == _SHAPE:
            continue
        else:  # an input without an edge (a Python number or a Tensor), or an attribute
            test = f"v{i}.__class__ not in PLAIN and holds_tensor(v{i})"
            maybe += 1
        code += [f"    if {test}:",
                 f"        v{i} = FREED",
                 "        freed = True"]
    if not always and not maybe:
        return None, None
    code += ["    if freed:",
             f"        node._saved = ({''.join(x + ', ' for x in items)})",
             "        node._versions = RELEASED"]
    if (_RESULT, 0) in op.saved:
        code.append("        node._out = None  # the output's array")
    env = {"FREED": FREED, "RELEASED": RELEASED, "holds_tensor": _holds_tensor,
           "PLAIN": _PLAIN}
    exec("\n".join(code), env)  # noqa: S102 (code built above from the declaration)
    every = always == len(op.saved) and all(f is None or f[2] for f in op.formulas)
    return env["release"], (FREED,) * len(op.saved) if every else None


def _holds_tensor(value) -> bool:
    """Whether a saved input or attribute is (or holds) a tensor or an array."""
    cls = value.__class__
    if cls in _PLAIN:
        return False
    if cls is tuple or cls is list:
        return any(_holds_tensor(v) for v in value)
    return isinstance(value, Bound.Tensor) or (hasattr(value, "__array__") and
                                               hasattr(value, "shape"))


def _array_formulas(name, inputs, on_arrays, derivatives, saved):
    """Slots for the array formulas: each reads only values its Tensor formula saves."""
    if unknown := set(on_arrays) - set(derivatives):
        raise ValueError(f"{name}: array formulas for inputs without derivatives "
                         f"{sorted(unknown)}")
    formulas = []
    for inp in inputs:
        fn = on_arrays.get(inp)
        if fn is None:
            if derivatives.get(inp) is not None:
                raise ValueError(f"{name}: on_arrays needs a formula for {inp} too")
            formulas.append(None)
            continue
        params = list(inspect.signature(fn).parameters)
        wanted = set(inspect.signature(derivatives[inp]).parameters)
        if not params or params[0] != "grad" or not set(params) <= wanted:
            raise ValueError(f"{name}: array formula for {inp} must take 'grad' first and "
                             f"read only what its derivative reads")
        slots = tuple(saved[p][0] for p in params[1:])
        formulas.append((fn, slots, len(slots)))
    return tuple(formulas)


def compile_array_backward(op: OpDef):
    """``op.array_backward(node, g)``: the op's array formulas on the output gradient's
    array ``g``, one array or None per input, for a backward pass that builds no graph.

    Written out as straight-line code for each op when it is declared (as PyTorch generates
    its autograd functions from derivatives.yaml), so that running a node costs its array
    math and a few attribute reads: which saved value feeds which formula argument, and how
    (an input's array, the saved output's array, a shape or attribute as is), is decided here
    once rather than at every call."""
    code = ["def array_backward(node, g):",
            "    saved = node._saved",
            "    versions = node._versions",
            "    if versions is not None:",
            "        if versions is RELEASED:",
            "            raise RuntimeError(SECOND_BACKWARD)"]
    if op.saved is _RESULT_ONLY:
        code += ["        elif node._out[1][0] != versions[0][1]:",
                 "            node._unpack()  # raises, naming the tensor"]
    elif all(kind == _INPUT for kind, _ in op.saved):
        # Only input Tensors carry versions here: their counters, checked in line.
        code += ["        else:",
                 "            for i, version in versions:",
                 "                if saved[i]._vc[0] != version:",
                 "                    node._unpack()  # raises, naming the tensor"]
    else:
        code += ["        else:",
                 "            node._check_versions(saved)"]
    code.append("    e = node.next_functions")
    env = {"RELEASED": RELEASED, "SECOND_BACKWARD": SECOND_BACKWARD, "ndarray": _ndarray,
           "coerce": _coerce}
    results = []
    for k, formula in enumerate(op.array_formulas):
        if formula is None:
            results.append("None")
            continue
        fn, slots, _ = formula
        env[f"f{k}"] = fn
        args = ", ".join(["g"] + [_array_argument(op.saved[j], j) for j in slots])
        code += [f"    if e[{k}][0] is None:",
                 f"        r{k} = None",
                 "    else:",
                 f"        r{k} = f{k}({args})",
                 # ``is`` first: NumPy's dtypes of the same type are one object
                 f"        if r{k} is not g and (r{k}.__class__ is not ndarray or "
                 f"(r{k}.dtype is not g.dtype and r{k}.dtype != g.dtype)):",
                 f"            r{k} = coerce(r{k}, g)"]
        results.append(f"r{k}")
    code.append(f"    return [{', '.join(results)}]")
    exec("\n".join(code), env)  # noqa: S102 (code built above from the declaration)
    return env["array_backward"]


def _array_argument(source, j: int) -> str:
    kind, where = source
    if kind == _INPUT:  # a Tensor's array, or a Python number as it is
        return f"getattr(saved[{j}], '_data', saved[{j}])"
    if kind == _RESULT:
        return "node._out[0]" if where == 0 else f"saved[{j}].data"
    return f"saved[{j}]"


def _coerce(r, g):
    if r.__class__ is not _ndarray:
        r = np.asarray(r)  # NumPy gives scalars for 0-d operands
    if r.dtype != g.dtype:
        # NumPy's promotion (float32 / int64 is float64) is not PyTorch's: an input's
        # gradient has the output's dtype, as in PyTorch, before the engine casts it to the
        # input's.
        r = r.astype(g.dtype)
    return r


def _source(param: str, inputs) -> tuple[int, object]:
    if param in inputs:
        return (_INPUT, inputs.index(param))
    if param.endswith("_shape") and param[:-6] in inputs:
        return (_SHAPE, inputs.index(param[:-6]))
    if param == "result":
        return (_RESULT, 0)
    if param.startswith("result") and param[6:].isdigit():
        return (_RESULT, int(param[6:]))
    return (_ATTR, param)


def _version_error(t, version: int, node) -> RuntimeError:
    # A view whose base changed since regenerates its grad_fn first, as in PyTorch.
    producer = t.grad_fn if t._view is not None else t._grad_fn
    # PyTorch names the producer by its op: "output 0 of Mul" for MulBackward0.
    where = (f", which is output {t._output_nr} of "
             f"{re.sub(r'Backward[0-9]*$', '', producer.name())},"
             if producer is not None else "")
    if AnomalyMode.enabled:
        hint = ("Hint: the backtrace further above shows the operation that failed to compute "
                "its gradient. The variable in question was changed in there or anywhere "
                "later. Good luck!")
    else:
        hint = ("Hint: enable anomaly detection to find the operation that failed to compute "
                "its gradient, with ember.autograd.set_detect_anomaly(True, check_nan=False).")
    return RuntimeError(
        "one of the variables needed for gradient computation has been modified by an "
        f"inplace operation: [{t.type()} {list(t.shape)}]{where} is at version "
        f"{t._vc[0]}; expected version {version} instead. {hint}"
    )


class OpNode(Node):
    """A node made by a declared op: it holds the saved values its formulas asked for."""

    __slots__ = ("_saved", "_versions", "_meta", "_out", "_tree")
    _op: OpDef

    def __init__(self) -> None:  # nodes are filled in by ``record``
        raise TypeError("nodes are created by ops")

    def release(self) -> None:
        """Free the saved tensors, as PyTorch frees a node's ``SavedVariable``s; sizes, dims
        and scalars stay (``compile_release``)."""
        release = self._op.release
        if release is not None:
            release(self)

    def _saves_output(self) -> bool:
        return any(kind == _RESULT for kind, _ in self._op.saved)

    def _unpack(self):
        """The saved values, with saved outputs re-wrapped; raises if any was changed in
        place since it was saved, or if the node freed its saved tensors (``release``)."""
        saved = self._saved
        versions = self._versions
        if versions is None:
            return saved
        if versions is RELEASED:
            raise RuntimeError(SECOND_BACKWARD)
        values = saved  # copied only if an output must be re-wrapped
        for i, version in versions:
            v = saved[i]
            if v is _OUT:
                data, counter = self._out
                if counter[0] != version:
                    raise _version_error(_wrap_output(data, counter, self, 0), version, self)
                if values is saved:
                    values = list(saved)
                values[i] = _wrap_output(data, counter, self, 0)
            elif type(v) is _SavedResult:
                if v.counter[0] != version:
                    raise _version_error(v.unpack(self), version, self)
                if values is saved:
                    values = list(saved)
                values[i] = v.unpack(self)
            elif v._vc[0] != version:
                raise _version_error(v, version, self)
        return values

    def apply(self, grad_outputs, needs):
        op = self._op
        values = self._saved
        if self._versions is not None:
            values = self._unpack()  # raises if released
        grad = grad_outputs[0] if op.num_outputs == 1 else grad_outputs
        out = []
        edges = self.next_functions
        k = 0
        for formula in op.formulas:
            # ``needs`` None means: every input that has an edge.
            if formula is None or (edges[k][0] is None if needs is None else not needs[k]):
                out.append(None)
            else:
                fn, slots, n = formula
                if n == 0:
                    out.append(fn(grad))
                elif n == 1:
                    out.append(fn(grad, values[slots[0]]))
                elif n == 2:
                    out.append(fn(grad, values[slots[0]], values[slots[1]]))
                else:
                    out.append(fn(grad, *[values[s] for s in slots]))
            k += 1
        return out

    def _check_versions(self, saved) -> None:
        """Raise PyTorch's error if a saved tensor was modified in place since it was saved."""
        for i, version in self._versions:
            v = saved[i]
            if v is _OUT:
                counter = self._out[1]
            elif v.__class__ is _SavedResult:
                counter = v.counter
            else:
                counter = v._vc
            if counter[0] != version:
                self._unpack()  # raises, naming the tensor

    @property
    def _saved_tensors(self):
        return tuple(v for v in self._unpack() if isinstance(v, Bound.Tensor))

    def __getattr__(self, name):
        # PyTorch exposes saved values as ``_saved_<name>``: inputs and outputs as Tensors (a
        # Python number given for a Tensor input as PyTorch's wrapped 0-d tensor), an input's
        # shape as ``_saved_<input>_sym_sizes``, attributes as they are. A freed tensor raises.
        if name.startswith("_saved_"):
            key = name[7:]
            op = self._op
            for i, (kind, where) in enumerate(op.saved):
                if kind == _INPUT:
                    found = op.inputs[where] == key
                elif kind == _SHAPE:
                    found = f"{op.inputs[where]}_sym_sizes" == key
                elif kind == _RESULT:
                    found = key == ("result" if where == 0 else f"result{where}")
                else:
                    found = where == key
                if found:
                    return self._saved_value(i, kind, where)
        raise AttributeError(f"'{type(self).__name__}' object has no attribute '{name}'")

    def _saves(self, i: int) -> bool:
        """Whether the node saved slot ``i``: the formula of an input with an edge reads it."""
        edges = self.next_functions
        return any(f is not None and i in f[1] and edges[k][0] is not None
                   for k, f in enumerate(self._op.formulas))

    def _saved_value(self, i: int, kind: int, where):
        value = self._saved[i]
        if value is FREED:
            if not self._saves(i):
                return None  # never saved: no input whose formula reads it takes a gradient
            raise RuntimeError(SECOND_BACKWARD)
        if kind == _SHAPE:
            return tuple(value)
        if kind == _INPUT and where < self._op.num_edges and value.__class__ in _NUMBERS:
            return Bound.new(np.asarray(value, _WRAPPED_DTYPES[value.__class__]))
        if self._versions is RELEASED or kind == _ATTR:
            return value
        return self._unpack()[i]


def _wrap_output(data, counter, node, nr):
    """An output saved by its own node, as a Tensor whose grad_fn is that node (and, in
    forward-mode AD, the output's tangent)."""
    t = Bound.new(data)
    t._rg = True
    t._grad_fn = node
    t._output_nr = nr
    t._vc = counter
    if AfterOp.on:
        tangent = saved_output_tangent(node, nr)
        if tangent is not None:
            set_tangent(t, tangent)
    return t


class _Out:
    """Marks the saved slot of output 0; its array and counter sit in ``node._out``."""

    __slots__ = ()

    def __repr__(self) -> str:
        return "<saved output>"


_OUT = _Out()


class _SavedResult:
    """An output saved by its own node: kept as the array, re-wrapped on unpack.

    Saving the output Tensor itself would make a cycle (output -> node -> output).
    """

    __slots__ = ("data", "counter", "output_nr", "owner")

    def __init__(self, data, counter, output_nr, owner=None) -> None:
        self.data = data
        self.counter = counter
        self.output_nr = output_nr
        # For an in-place op on a view: a function giving the view's new grad_fn (PyTorch's
        # ``is_inplace_on_view``), which the output is unpacked with, since the node itself
        # is inside the base's CopySlices; None when that graph is gone.
        self.owner = owner

    def unpack(self, node):
        owner = None if self.owner is None else self.owner()
        if owner is None:
            return _wrap_output(self.data, self.counter, node, self.output_nr)
        return _wrap_output(self.data, self.counter, owner, 0)


class NoGradView:
    """The ``_accumulator`` of a view made in no_grad (or inference) mode of a tensor that
    requires grad.

    As in PyTorch, such a view requires grad (with its base) but is a leaf without an
    accumulator: a new node gets no edge for it, so no gradient reaches it or its base, and
    changing it in place with grad mode enabled raises ``inplace_error``."""

    __slots__ = ("mode", "inplace_error")

    def __init__(self, mode: str, block: str, enabled: str) -> None:
        self.mode = mode
        self.inplace_error = (
            f"A view was created in {mode} mode and is being modified inplace {enabled}. "
            "Given that this use case is ambiguous and error-prone, it is forbidden. You can "
            "clarify your code by moving both the view and the inplace either both inside the "
            f"{block} block (if you don't want the inplace to be tracked) or both outside (if "
            "you want the inplace to be tracked).")

    def __repr__(self) -> str:
        return f"NoGradView({self.mode!r})"


NO_GRAD_VIEW = NoGradView("no_grad", "no_grad", "with grad mode enabled")
INFERENCE_VIEW = NoGradView("inference", "inference_mode", "in normal mode")


def edge_of(t):
    """The edge a tensor contributes to a new node: its producer, its accumulator, or none."""
    fn = t._grad_fn
    if fn is not None:
        if t._base is not None:
            fn = t.grad_fn  # a view whose base changed in place regenerates its grad_fn
        return (fn, t._output_nr)
    if t._rg:
        # The leaf holds its accumulator weakly and the graph holds it strongly (as in
        # PyTorch): one accumulator per leaf while a graph uses it, and no reference cycle.
        # A leaf with hooks holds it strongly (its hooks live on it).
        ref = t._accumulator
        if ref.__class__ is NoGradView:
            return (None, 0)
        acc = ref if ref is None or ref.__class__ is AccumulateGrad else ref()
        if acc is None:
            acc = AccumulateGrad(t)
            t._accumulator = _weakref(acc)
        return (acc, 0)
    return (None, 0)


def record(op: OpDef, inputs, outputs, attrs):
    """Make ``op``'s node for a forward call and hook it to ``outputs``.

    inputs: the op's inputs in declaration order (Tensors, or Python scalars that take no
    gradient); outputs: the output Tensors (differentiable first); attrs: keyword attributes.
    Callers record only floating-point outputs (an integer result never requires grad).
    ``record_unary`` and ``record_binary`` do the same for the hot one- and two-input cases.
    """
    Tensor = Bound.Tensor
    node = _new_node(op.node_cls)
    node._x = None
    od = outputs[0]._data
    edges = []
    meta = None
    needed = 0  # bit mask of the inputs that take a gradient
    k = 0
    for x in inputs[:op.num_edges]:
        if x.__class__ is Tensor or isinstance(x, Tensor):
            edge = _edge(x)
            edges.append(edge)
            if edge[0] is not None:
                needed |= 1 << k
            if _needs_meta(x._data, od):
                if meta is None:
                    meta = [None] * len(inputs)
                meta[k] = (x.shape, x.dtype)
        else:
            edges.append(_NO_EDGE)
        k += 1
    node.next_functions = tuple(edges)
    node._tree = _is_tree(edges)
    node._meta = meta
    _save(node, op, inputs, outputs, attrs, needed)
    if len(outputs) == 1:
        out = outputs[0]
        out._rg = True
        out._grad_fn = node
        return node
    nr = 0
    for out in outputs:
        out._rg = True
        out._grad_fn = node
        out._output_nr = nr
        nr += 1
    return node


def record_unary(op: OpDef, x, out, attrs):
    """``record`` for one input that requires grad and one output."""
    node = _new_node(op.node_cls)
    node._x = None
    fn = x._grad_fn
    node.next_functions = edges = ((fn, x._output_nr),) if fn is not None and x._base is None \
        else (edge_of(x),)
    child = edges[0][0]
    node._tree = child is None or child._tree
    xd, od = x._data, out._data
    # Set for a changed shape or dtype; for reductions too, where it costs the engine one
    # shape comparison (their formulas return the input's shape).
    node._meta = [(x.shape, x.dtype)] if xd.shape != od.shape or xd.dtype is not od.dtype \
        else None
    saved = op.saved
    if saved is _RESULT_ONLY and not AnomalyMode.enabled:
        # exp, tanh, sigmoid, relu, ...: the new output's array and version counter, with
        # shared constants for the rest.
        vc = out._vc
        if vc is None:
            vc = out._vc = [0]
        node._out = (od, vc)
        node._saved = _SAVED_OUT
        node._versions = _AT_VERSION_0 if not vc[0] else ((0, vc[0]),)
    elif saved or AnomalyMode.enabled:
        _save(node, op, (x,), (out,), attrs, 1)
    else:
        node._saved = _NOTHING_SAVED
        node._versions = None
    out._rg = True
    out._grad_fn = node
    return node


def record_binary(op: OpDef, a, b, out, attrs):
    """``record`` for a Tensor ``a`` and a Tensor or Python scalar ``b``, and one output."""
    node = _new_node(op.node_cls)
    node._x = None
    od = out._data
    fn = a._grad_fn
    ea = (fn, a._output_nr) if fn is not None and a._base is None else edge_of(a)
    needed = 0 if ea[0] is None else 1
    ad = a._data
    # Elementwise: an input's gradient needs fixing only if it was broadcast or promoted.
    meta = [(a.shape, a.dtype), None] if ad.shape != od.shape or ad.dtype is not od.dtype \
        else None
    cls = b.__class__
    if op.num_edges == 1:
        node.next_functions = (ea,)
    elif cls is float or cls is int:
        node.next_functions = (ea, _NO_EDGE)
    elif cls is Bound.Tensor or isinstance(b, Bound.Tensor):
        eb = _edge(b)
        if eb[0] is not None:
            needed |= 2
        if _needs_meta(b._data, od):
            if meta is None:
                meta = [None, None]
            meta[1] = (b.shape, b.dtype)
        node.next_functions = (ea, eb)
    else:
        node.next_functions = (ea, _NO_EDGE)
    node._tree = _is_tree(node.next_functions)
    node._meta = meta
    plan = op.input_saves
    if plan is not None and not AnomalyMode.enabled:
        saved = []
        versions = None
        for where, users in plan:
            if not users & needed:
                saved.append(None)
                continue
            x = b if where else a
            if x.__class__ is not float and x.__class__ is not int and \
                    isinstance(x, Bound.Tensor):
                vc = x._vc
                if vc is None:
                    vc = x._vc = [0]
                elif vc.__class__ is not list:
                    check_savable(x)
                if versions is None and not vc[0] and len(saved) < 2:
                    versions = _FIRST_AT_0[len(saved)]  # shared: no new objects
                else:
                    versions = list(versions or ())
                    versions.append((len(saved), vc[0]))
            saved.append(x)
        node._saved = saved
        node._versions = versions
    elif op.saved or AnomalyMode.enabled:
        _save(node, op, (a, b), (out,), attrs, needed)
    else:
        node._saved = _NOTHING_SAVED
        node._versions = None
    out._rg = True
    out._grad_fn = node
    return node


def compile_record_scalar(op: OpDef):
    """``op.record_scalar(a, b, out, attrs)``: ``record_binary`` for a Tensor ``a`` that
    requires grad and a Python number ``b`` of its dtype's kind, the common ``y * 0.5``.

    The output has ``a``'s shape and dtype, so nothing is fixed later, and only ``a``'s
    formula can run, so what the node saves is known when the op is declared: the code is
    written out here once (as ``compile_array_backward`` is), and recording costs one node
    and a few attribute writes. Ops that save more than their inputs (attributes, outputs)
    record through ``record_binary``."""
    env = {"new_node": _new_node, "node_cls": op.node_cls, "edge_of": edge_of,
           "NO_EDGE": _NO_EDGE, "AnomalyMode": AnomalyMode, "record_binary": record_binary,
           "op": op, "FIRST_AT_0": _FIRST_AT_0, "check_savable": check_savable}
    if op.input_saves is None and op.saved:
        code = ["def record_scalar(a, b, out, attrs):",
                "    return record_binary(op, a, b, out, attrs)"]
        exec("\n".join(code), env)  # noqa: S102 (code built above from the declaration)
        return env["record_scalar"]
    # Each saved slot holds the tensor, the number, or None (read only by the number's
    # formula, which never runs: a number takes no gradient).
    layout = [("b" if where else "a") if users & 1 else "None"
              for where, users in op.input_saves or ()]
    edges = "(edge,)" if op.num_edges == 1 else "(edge, NO_EDGE)"
    code = ["def record_scalar(a, b, out, attrs):",
            "    if AnomalyMode.enabled:",
            "        return record_binary(op, a, b, out, attrs)",
            "    node = new_node(node_cls)",
            "    node._x = None",
            "    node._meta = None",
            "    fn = a._grad_fn",
            "    edge = (fn, a._output_nr) if fn is not None and a._base is None "
            "else edge_of(a)",
            f"    node.next_functions = {edges}",
            "    child = edge[0]",
            "    node._tree = child is None or child._tree"]
    if "a" in layout:
        j = layout.index("a")
        code += ["    vc = a._vc",
                 "    if vc is None:",
                 "        vc = a._vc = [0]",
                 "    elif vc.__class__ is not list:",
                 "        check_savable(a)",
                 # shared constants at version 0: no new objects
                 f"    node._versions = FIRST_AT_0[{j}] if not vc[0] else (({j}, vc[0]),)"]
    else:
        code.append("    node._versions = None")
    code += [f"    node._saved = ({''.join(x + ', ' for x in layout)})",
             "    out._rg = True",
             "    out._grad_fn = node",
             "    return node"]
    exec("\n".join(code), env)  # noqa: S102 (code built above from the declaration)
    return env["record_scalar"]


def _is_tree(edges) -> bool:
    """Whether a new node with ``edges`` roots a tree (``Node._tree``): one edge with a node,
    to the root of a tree."""
    child = None
    for edge in edges:
        if edge[0] is not None:
            if child is not None:
                return False  # two: their graphs may meet (checking would cost a walk)
            child = edge[0]
    return child is None or child._tree


def _edge(x):
    fn = x._grad_fn
    if fn is not None and x._base is None:
        return (fn, x._output_nr)
    return edge_of(x)


def _needs_meta(xd, od) -> bool:
    """Whether an input's gradient must be fixed to its shape or dtype by the engine.

    Same ndim and size means same shape for elementwise broadcasting (other ops' formulas
    return the input's shape by construction); empty shapes can differ at equal size."""
    return (xd.ndim != od.ndim or xd.size != od.size or xd.dtype is not od.dtype
            or not od.size and xd.shape != od.shape)


def _save(node, op, inputs, outputs, attrs, needed: int) -> None:
    """Save what the formulas of the inputs in ``needed`` (a bit mask) read."""
    if not op.saved:
        node._saved = _NOTHING_SAVED
        node._versions = None
    else:
        Tensor = Bound.Tensor
        saved = []
        versions = []
        i = 0
        for kind, where, users in op.save_plan:
            if not users & needed:
                saved.append(None)
            elif kind == _INPUT:
                x = inputs[where]
                if isinstance(x, Tensor):
                    vc = x._vc
                    if vc is None:
                        vc = x._vc = [0]
                    elif vc.__class__ is not list:
                        check_savable(x)
                    versions.append((i, vc[0]))
                saved.append(x)
            elif kind == _ATTR:
                saved.append(attrs[where])
            elif kind == _SHAPE:
                x = inputs[where]
                saved.append(x.shape if isinstance(x, Tensor) else ())
            else:
                out = outputs[where]
                vc = out._vc
                if vc is None:
                    vc = out._vc = [0]
                if where == 0:
                    node._out = (out._data, vc)
                    saved.append(_OUT)
                else:
                    saved.append(_SavedResult(out._data, vc, where))
                versions.append((i, vc[0]))
            i += 1
        node._saved = saved
        node._versions = versions or None
    if AnomalyMode.enabled:
        node._anomaly_trace = forward_trace()
        node._anomaly_parent = AnomalyMode.current_node


_NOTHING_SAVED = ()
_NUMBERS = frozenset((int, float, bool))
_PLAIN = _NUMBERS | {str, type(None)}  # saved values that are never tensors
_WRAPPED_DTYPES = {float: np.float64, int: np.int64, bool: np.bool_}  # PyTorch's wrapped numbers
_RESULT_ONLY = ((_RESULT, 0),)
_SAVED_OUT = (_OUT,)
_AT_VERSION_0 = ((0, 0),)
_FIRST_AT_0 = (_AT_VERSION_0, ((1, 0),))  # one saved tensor, in slot 0 or 1, at version 0
_NO_EDGE = (None, 0)
_new_node = object.__new__
_ndarray = np.ndarray

