"""What a graph keeps after a backward pass, against torch: which nodes a second backward
without ``retain_graph`` may run again (PyTorch frees only saved tensors, and a node that
saved none runs again), ``_saved_*`` attributes before and after, nodes no gradient reaches,
custom Functions' outputs that are (views of) their inputs, grad mode inside inference mode,
and the tangents of gradients computed inside a forward-AD level.

Each scenario is written once as ``fn(module)`` and run with ``ember`` and with ``torch``;
what it returns (outcomes, names, flags, values as lists) must be equal."""

from __future__ import annotations

import subprocess
import sys
import warnings
import zlib

import numpy as np
import pytest
import torch

import ember
from tests.ops.op_table import OPS, Bad
from tests.ops.test_op_table import _arrays, _build, _call, _tensors


def _norm(value):
    """What a scenario returned, with names that print their module made comparable."""
    if isinstance(value, str):
        return value.replace("torch::", "ember::").replace("torch.", "ember.")
    if isinstance(value, (list, tuple)):
        return [_norm(v) for v in value]
    if isinstance(value, dict):
        return {k: _norm(v) for k, v in value.items()}
    return value


def _same(scenario, *args):
    t = _norm(scenario(torch, *args))
    e = _norm(scenario(ember, *args))
    assert e == t, f"\nember: {e}\ntorch: {t}"


def _outcome(fn) -> str:
    """'ok', or the exception type and the start of its message."""
    try:
        fn()
    except Exception as exc:  # noqa: BLE001 - the type is what is compared
        return f"{type(exc).__name__}: {str(exc)[:60]}"
    return "ok"


def _twice(fn) -> list:
    return [_outcome(fn), _outcome(fn)]


def _tolist(t):
    """A tensor's values to 4 significant digits (float32 kernels differ in the last bit)."""
    if t is None:
        return None
    return [f"{v:.4g}" for v in t.detach().numpy().astype(np.float64).ravel()]


# ---- a second backward without retain_graph ------------------------------------------------
def _x(m):
    return m.arange(6.0).view(2, 3).detach().requires_grad_()


SECOND_BACKWARD_CASES = {
    "view_as": lambda m, x: x.view_as(x),
    "view": lambda m, x: x.view(-1),
    "reshape": lambda m, x: x.reshape(6),
    "t": lambda m, x: x.t(),
    "transpose": lambda m, x: x.transpose(0, 1),
    "permute": lambda m, x: x.permute(1, 0),
    "expand": lambda m, x: x[:1].expand(3, 3),
    "select": lambda m, x: x[0],
    "slice": lambda m, x: x[:, 1:],
    "unsqueeze_squeeze": lambda m, x: x.unsqueeze(0).squeeze(0),
    "flatten": lambda m, x: x.flatten(),
    "narrow": lambda m, x: x.narrow(0, 0, 1),
    "add": lambda m, x: x + x,
    "add_scalar": lambda m, x: x + 1,
    "add_alpha": lambda m, x: m.add(x, x, alpha=2),
    "rsub": lambda m, x: 1 - x,
    "neg": lambda m, x: -x,
    "mul_scalar": lambda m, x: x * 2.0,
    "div_scalar": lambda m, x: x / 2.0,
    "mul": lambda m, x: x * x,
    "pow_scalar": lambda m, x: x ** 2,
    "rpow": lambda m, x: 2 ** x,
    "sum": lambda m, x: x.sum(),
    "sum_dim": lambda m, x: x.sum(0),
    "sum_keepdim": lambda m, x: x.sum(1, keepdim=True),
    "sum_to_size": lambda m, x: x.sum_to_size(1, 3),
    "mean": lambda m, x: x.mean(),
    "mean_dim": lambda m, x: x.mean(1),
    "exp": lambda m, x: x.exp(),
    "relu": lambda m, x: x.relu(),
    "clamp": lambda m, x: x.clamp(0, 1),
    "clone": lambda m, x: x.clone(),
    "contiguous": lambda m, x: x.t().contiguous(),
    "to_float64": lambda m, x: x.to(m.float64),
    "cat": lambda m, x: m.cat([x, x]),
    "stack": lambda m, x: m.stack([x, x]),
    "index": lambda m, x: x[m.tensor([0, 1])],
    "index_slice": lambda m, x: x[:, m.tensor([1])],
    "chunk": lambda m, x: x.chunk(2, 1)[0],
    "unbind": lambda m, x: x.unbind(0)[0],
    "matmul": lambda m, x: x @ x.t(),
    "where": lambda m, x: m.where(x > 0, x, m.zeros_like(x)),
    "softmax": lambda m, x: x.softmax(1),
    "log_softmax": lambda m, x: x.log_softmax(1),
    "logsumexp": lambda m, x: x.logsumexp(1),
    "max": lambda m, x: x.max(),
    "max_dim": lambda m, x: x.max(1)[0],
    "amax": lambda m, x: x.amax(1),
    "prod": lambda m, x: x.prod(),
    "inplace_neg": lambda m, x: x.clone().neg_(),
    "inplace_mul_scalar": lambda m, x: x.clone().mul_(2),
    "inplace_on_view": lambda m, x: (lambda c: (c[0].add_(1), c)[1])(x.clone()),
    "copy_": lambda m, x: m.zeros(2, 3).copy_(x),
    "exp_view": lambda m, x: x.exp().view(-1),
    "linear": lambda m, x: m.nn.functional.linear(x, m.ones(4, 3)),
    "mse_loss": lambda m, x: m.nn.functional.mse_loss(x, m.zeros(2, 3)),
    "cross_entropy": lambda m, x: m.nn.functional.cross_entropy(x, m.tensor([0, 1])),
    "nll_loss": lambda m, x: m.nn.functional.nll_loss(x, m.tensor([0, 1])),
    "max_pool2d": lambda m, x: m.nn.functional.max_pool2d(x.view(1, 1, 2, 3), 2),
    "avg_pool2d": lambda m, x: m.nn.functional.avg_pool2d(x.view(1, 1, 2, 3), 2),
    "adaptive_avg_pool2d": lambda m, x: m.nn.functional.adaptive_avg_pool2d(
        x.view(1, 1, 2, 3), 1),
    "batch_norm": lambda m, x: m.nn.functional.batch_norm(x, None, None, training=True),
    "conv2d": lambda m, x: m.nn.functional.conv2d(x.view(1, 1, 2, 3), m.ones(2, 1, 1, 2)),
}


@pytest.mark.parametrize("how", ["grad", "backward"])
@pytest.mark.parametrize("case", list(SECOND_BACKWARD_CASES))
def test_second_backward_like_torch(case, how):
    """PyTorch frees a node's saved tensors; a node that saved none (views, sum, add, ...)
    runs again, through ``autograd.grad`` and through a plain ``backward()`` alike."""
    def scenario(m):
        x = _x(m)
        y = SECOND_BACKWARD_CASES[case](m, x)
        if how == "grad":
            return [y.grad_fn.name()] + _twice(lambda: m.autograd.grad(y.sum(), x))
        return [y.grad_fn.name()] + _twice(lambda: y.backward(m.ones_like(y)))
    _same(scenario)


PARTIAL_CASES = {
    # (make the output from x, w, b; the inputs of the first grad; of the second)
    "linear_bias_after_all": (lambda m, x, w, b: m.nn.functional.linear(x, w, b), "xwb", "b"),
    "linear_x_after_bias": (lambda m, x, w, b: m.nn.functional.linear(x, w, b), "b", "x"),
    "linear_only_bias_requires_grad": (
        lambda m, x, w, b: m.nn.functional.linear(x.detach(), w.detach(), b), "b", "b"),
    "mul_other_then_self": (lambda m, x, w, b: x * w[:2, :], "w", "x"),
    "div_self_then_other": (lambda m, x, w, b: x / w[:2, :], "x", "w"),
    "where_branches": (lambda m, x, w, b: m.where(x > 2, x, w[:2, :]), "x", "w"),
    "sub_alpha": (lambda m, x, w, b: m.sub(x, w[:2, :], alpha=2), "xw", "w"),
    "maximum": (lambda m, x, w, b: m.maximum(x, w[:2, :]), "x", "w"),
    "cat_two": (lambda m, x, w, b: m.cat([x, w]), "x", "w"),
    "mse_target": (lambda m, x, w, b: m.nn.functional.mse_loss(x, w[:2, :]), "x", "w"),
}


@pytest.mark.parametrize("case", list(PARTIAL_CASES))
def test_second_backward_for_other_inputs_like_torch(case):
    """After a first backward freed a node's saved tensors, a second one raises even if the
    inputs it asks for need none of them (PyTorch unpacks every saved tensor first); a node
    that saved none (only the bias needs a gradient) runs again."""
    make, first, second = PARTIAL_CASES[case]

    def scenario(m):
        x = m.arange(6.0).view(2, 3).detach().requires_grad_()
        w = (m.arange(12.0).view(4, 3) / 7 - 0.5).detach().requires_grad_()
        b = m.ones(4, requires_grad=True)
        named = {"x": x, "w": w, "b": b}
        y = make(m, x, w, b)
        outcomes = []
        for which in (first, second):
            inputs = [named[k] for k in which]
            outcomes.append(_outcome(lambda inputs=inputs: m.autograd.grad(
                y.sum(), inputs, allow_unused=True)))
        return [y.grad_fn.name()] + outcomes
    _same(scenario)


def _op_table_cases():
    for entry in OPS:
        if entry.backward_error is not None or not entry.grad:
            continue
        for k, sample in enumerate(entry.samples[:2]):
            dtype = (sample.dtypes or entry.dtypes)[0]
            if dtype not in ("float32", "float64"):
                continue
            yield pytest.param(entry, sample, dtype, id=f"{entry.name}-{k}-{dtype}")


@pytest.mark.parametrize("how", ["grad", "backward"])
@pytest.mark.parametrize("entry, sample, dtype", list(_op_table_cases()))
def test_op_table_second_backward_like_torch(entry, sample, dtype, how, request):
    """Every op-table op: a second backward through its node raises exactly where torch's
    does (its node freed a saved tensor), and the node of an op that saved none runs again."""
    assert not isinstance(sample, Bad)
    seed = zlib.crc32(request.node.callspec.id.encode())
    arrays = _arrays(sample, dtype, np.random.default_rng(seed))

    def scenario(m):
        args, diff = _build(m, sample.args, arrays)
        outs = [o for o in _tensors(_call(entry, m, args, sample.kwargs)) if o.requires_grad]
        if not outs:
            return "no output requires grad"
        grads = [m.ones_like(o) for o in outs]
        if how == "grad":
            return _twice(lambda: m.autograd.grad(outs, diff, grads, allow_unused=True))
        return _twice(lambda: m.autograd.backward(outs, grads))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        _same(scenario)


def test_second_backward_through_shared_and_captured_nodes_like_torch():
    """A node freed by one graph's backward raises in another graph that shares it; a node
    whose output ``autograd.grad`` only captured (its gradient is not needed below) is not
    run, so not freed; ``backward(inputs=...)`` runs (and frees) the inputs' own nodes."""
    def scenario(m):
        x = m.ones(3, requires_grad=True)
        out = []
        y = x.exp()
        y.sum().backward()
        out.append(_outcome(lambda: (y * 2).sum().backward()))
        h = x.exp()
        m.autograd.grad((h * 2).sum(), h)
        out.append(_outcome(lambda: (h * 3).sum().backward()))
        h = x.exp()
        m.autograd.grad((h * 2).sum(), [h, x])
        out.append(_outcome(lambda: (h * 3).sum().backward()))
        h = x.exp()
        (h * 2).sum().backward(inputs=[h])
        out.append(_tolist(h.grad))
        out.append(_outcome(lambda: (h * 3).sum().backward()))
        y = x.exp().sum()
        m.autograd.grad(y, x, retain_graph=True)
        out += _twice(lambda: m.autograd.grad(y, x))
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # the create_graph cycle warning
            y = x.exp().sum()
            y.backward(create_graph=True)  # retain_graph defaults to create_graph
        out += _twice(lambda: y.backward())
        return out
    _same(scenario)


# ---- nodes that no gradient reaches --------------------------------------------------------
def _none_grad(m):
    class NoneGrad(m.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            return x * 1

        @staticmethod
        def backward(ctx, g):
            return None
    return NoneGrad


def _spy(m, calls, materialize: bool):
    class Spy(m.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            ctx.set_materialize_grads(materialize)
            return x * 2

        @staticmethod
        def backward(ctx, g):
            calls.append(_tolist(g))
            return None if g is None else g * 2
    return Spy


@pytest.mark.parametrize("how", ["grad", "backward"])
def test_node_reached_by_no_gradient_runs_and_is_freed_like_torch(how):
    """As in PyTorch, a node whose incoming gradients are all None still runs: it is freed
    (a second backward raises), its hooks see the Nones, and a custom Function's backward is
    called (with zeros, or None with materialize_grads off)."""
    def scenario(m):
        x = m.ones(2, requires_grad=True)
        events = []

        def run(z):
            if how == "grad":
                m.autograd.grad(z.sum(), x)
            else:
                z.sum().backward()
        y = x.exp()
        z = _none_grad(m).apply(y) + x
        y.register_hook(lambda g: events.append(("tensor hook", _tolist(g))))
        y.grad_fn.register_prehook(lambda g: events.append(("prehook", len(g), g[0] is None)))
        y.grad_fn.register_hook(lambda gi, go: events.append(("hook", gi[0] is None)))
        events += _twice(lambda: run(z))
        for materialize in (True, False):
            calls = []
            z = _none_grad(m).apply(_spy(m, calls, materialize).apply(x).exp()) + x
            run(z)
            events.append(calls)
        return events
    _same(scenario)


# ---- saved values on nodes -----------------------------------------------------------------
SAVED_CASES = {
    # (make y from x, the _saved_ attributes to read)
    "mul": (lambda m, x: x * (x + 1), ["_saved_self", "_saved_other"]),
    "mul_scalar": (lambda m, x: x * 2.0, ["_saved_other", "_saved_self"]),
    "div_scalar": (lambda m, x: x / 4, ["_saved_other"]),
    "pow": (lambda m, x: x ** 3, ["_saved_self", "_saved_exponent"]),
    "exp": (lambda m, x: x.exp(), ["_saved_result"]),
    "tanh": (lambda m, x: x.tanh(), ["_saved_result"]),
    "sum": (lambda m, x: x.sum(), ["_saved_self_sym_sizes"]),
    "sum_dim": (lambda m, x: x.sum(1, keepdim=True), ["_saved_self_sym_sizes",
                                                      "_saved_keepdim"]),
    "view": (lambda m, x: x.view(6), ["_saved_self_sym_sizes"]),
    "expand": (lambda m, x: x[:1].expand(4, 3), ["_saved_self_sym_sizes"]),
    "select": (lambda m, x: x[1], ["_saved_self_sym_sizes", "_saved_dim", "_saved_index"]),
    "unsqueeze": (lambda m, x: x.unsqueeze(1), ["_saved_dim"]),
    "permute": (lambda m, x: x.permute(1, 0), ["_saved_dims"]),
    "clamp": (lambda m, x: x.clamp(1, 3), ["_saved_self", "_saved_min", "_saved_max"]),
    "where": (lambda m, x: m.where(x > 2, x, x * 0), ["_saved_condition"]),
    "mm": (lambda m, x: x @ x.t(), ["_saved_self", "_saved_mat2"]),
    "softmax": (lambda m, x: x.softmax(1), ["_saved_result", "_saved_dim"]),
}


def _describe(value):
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    if isinstance(value, tuple):
        return [_describe(v) for v in value]
    return {"values": _tolist(value), "dtype": str(value.dtype), "rg": value.requires_grad,
            "grad_fn": None if value.grad_fn is None else value.grad_fn.name()}


@pytest.mark.parametrize("case", list(SAVED_CASES))
def test_saved_attributes_like_torch(case):
    """``grad_fn._saved_<name>``: the saved inputs and outputs (a Python number as the 0-d
    tensor PyTorch wraps it in), sizes as ``_saved_self_sym_sizes``, attributes as they are;
    after a backward without retain_graph, a freed tensor raises and the rest stay."""
    make, names = SAVED_CASES[case]

    def scenario(m):
        x = m.arange(1.0, 7.0).view(2, 3).detach().requires_grad_()
        y = make(m, x)
        node = y.grad_fn

        def read(name):
            try:
                return _describe(getattr(node, name))
            except Exception as exc:  # noqa: BLE001 - the type is what is compared
                return f"{type(exc).__name__}: {str(exc)[:40]}"
        before = {name: read(name) for name in names}
        saves_x = getattr(node, "_saved_self", None) is x  # the input itself, not a copy
        y.sum().backward()
        after = {name: read(name) for name in names}
        return [node.name(), before, after, saves_x]
    _same(scenario)


def test_saved_tensors_of_custom_function_after_backward_like_torch():
    """A custom Function's ctx: a second backward raises only where ``ctx.saved_tensors``
    is read after the first freed it (it is freed even when nothing was saved)."""
    def scenario(m):
        def fn(save, read, attr=False):
            class F(m.autograd.Function):
                @staticmethod
                def forward(ctx, x):
                    y = x * 2
                    if save == "input":
                        ctx.save_for_backward(x)
                    elif save == "output":
                        ctx.save_for_backward(y)
                    elif save == "none":
                        ctx.save_for_backward(None)
                    if attr:
                        ctx.k = x.detach() * 3
                    return y

                @staticmethod
                def backward(ctx, g):
                    if read:
                        assert ctx.saved_tensors is not None
                    return g * ctx.k if attr else g * 2
            return F
        out = []
        for save in ("nothing", "input", "output", "none"):
            for read in (False, True):
                x = m.ones(3, requires_grad=True)
                y = fn(save, read).apply(x)
                out.append(_twice(lambda x=x, y=y: m.autograd.grad(y.sum(), x)))
                out.append(_outcome(lambda y=y: y.grad_fn.saved_tensors))
        x = m.ones(3, requires_grad=True)
        y = fn("nothing", False, attr=True).apply(x)
        out.append(_twice(lambda: m.autograd.grad(y.sum(), x)))
        return out
    _same(scenario)


# ---- custom Functions: outputs that are (views of) inputs ----------------------------------
def _function(m, forward, nondiff=False, dirty=False):
    class F(m.autograd.Function):
        @staticmethod
        def forward(ctx, x, y):
            out = forward(x, y)
            if nondiff:
                ctx.mark_non_differentiable(out)
            if dirty:
                ctx.mark_dirty(out)
            return out

        @staticmethod
        def backward(ctx, g):
            return g, None
    return F


FUNCTION_OUTPUTS = {
    # (forward, mark_non_differentiable, mark_dirty, dtype of y)
    "x": (lambda x, y: x, False, False, "float32"),
    "y": (lambda x, y: y, False, False, "float32"),
    "x_nondiff": (lambda x, y: x, True, False, "float32"),
    "y_nondiff": (lambda x, y: y, True, False, "float32"),
    "int_y": (lambda x, y: y, False, False, "int64"),
    "int_y_nondiff": (lambda x, y: y, True, False, "int64"),
    "view_of_x": (lambda x, y: x.view(-1), False, False, "float32"),
    "view_of_x_nondiff": (lambda x, y: x[0], True, False, "float32"),
    "view_of_y": (lambda x, y: y[0], False, False, "float32"),
    "x_dirty": (lambda x, y: x.mul_(2), False, True, "float32"),
    "y_dirty": (lambda x, y: y.mul_(2), False, True, "float32"),
    "y_dirty_nondiff": (lambda x, y: y.mul_(2), True, True, "float32"),
    "int_y_dirty": (lambda x, y: y.add_(1), False, True, "int64"),
    "fresh_requires_grad": (lambda x, y: y.new_ones(2).requires_grad_(), False, False,
                            "float32"),
}


@pytest.mark.parametrize("mode", ["recording", "x_no_grad", "no_grad"])
@pytest.mark.parametrize("case", list(FUNCTION_OUTPUTS))
def test_custom_function_output_of_input_like_torch(case, mode):
    """What ``Function.apply`` returns for an output that is an input or a view of one, as
    PyTorch's ``_wrap_outputs``: a recorded input comes back as a view of it with the node;
    an input that takes no gradient as a view of itself (itself if marked dirty), one that
    requires grad as a detached alias; a view of an input that requires grad keeps
    requiring grad; a fresh output that requires grad is detached."""
    forward, nondiff, dirty, dtype = FUNCTION_OUTPUTS[case]

    def scenario(m):
        x = (m.arange(4.0).view(2, 2) + 1).requires_grad_(mode != "x_no_grad")
        if "x_dirty" in case and mode != "x_no_grad":
            x = x * 1  # a leaf that requires grad cannot be changed in place
        y = m.ones(2, 2, dtype=getattr(m, dtype))
        if mode == "no_grad":
            with m.no_grad():
                o = _function(m, forward, nondiff, dirty).apply(x, y)
        else:
            o = _function(m, forward, nondiff, dirty).apply(x, y)
        return {"is": [o is x, o is y], "base_is": [o._base is x, o._base is y],
                "is_view": o._is_view(), "requires_grad": o.requires_grad, "leaf": o.is_leaf,
                "grad_fn": None if o.grad_fn is None else type(o.grad_fn).__name__,
                "versions": [x._version, y._version]}
    _same(scenario)


# ---- inference mode ------------------------------------------------------------------------
def test_enable_grad_inside_inference_mode_like_torch():
    """Inside ``inference_mode``, ``enable_grad``/``set_grad_enabled(True)`` turn grad mode
    on (``is_grad_enabled``) but nothing is recorded, as in PyTorch; leaving restores it."""
    def scenario(m):
        out = []
        x = m.ones(3, requires_grad=True)
        with m.inference_mode():
            with m.enable_grad():
                out.append(m.is_grad_enabled())
                y = x * 2
                out.append([y.requires_grad, y.grad_fn is None, y.is_inference()])
                z = m.ones(3, requires_grad=True)
                w = z * 3
                out.append([z.requires_grad, w.requires_grad, w.grad_fn is None])
                v = x.view(3)
                out.append([v.requires_grad, v.grad_fn is None, v._is_view()])
                with m.no_grad():
                    out.append(m.is_grad_enabled())
                out.append(m.is_grad_enabled())
            out.append(m.is_grad_enabled())
            with m.set_grad_enabled(True):
                out.append([m.is_grad_enabled(), (x * 2).requires_grad])
            with m.inference_mode(False):
                out.append([m.is_grad_enabled(), (x * 2).requires_grad])
            m.set_grad_enabled(True)
            out.append([m.is_grad_enabled(), (x * 2).requires_grad])
        out.append([m.is_grad_enabled(), (x * 2).requires_grad])
        with m.no_grad():
            with m.inference_mode():
                with m.enable_grad():
                    out.append([m.is_grad_enabled(), (x * 2).requires_grad])
            out.append(m.is_grad_enabled())
        return out
    _same(scenario)


def test_create_graph_inside_inference_mode_records_nothing_like_torch():
    """A backward pass with ``create_graph`` run inside ``inference_mode`` records no graph
    (its formulas would otherwise save inference tensors)."""
    def scenario(m):
        x = m.ones(2, requires_grad=True)
        y = (x * x).sum()
        with m.inference_mode():
            g, = m.autograd.grad(y, x, create_graph=True)
            return [g.requires_grad, g.grad_fn is None, g.tolist(), m.is_grad_enabled()]
    _same(scenario)


def test_grad_of_a_transposed_gradient_is_contiguous_like_torch():
    """``.grad`` (and a retained gradient) is a C-contiguous copy when the engine must copy
    a gradient that arrives transposed, on every path (anomaly mode, hooks, retain_grad)."""
    def scenario(m):
        out = []
        c = m.arange(12.).reshape(4, 3)
        for how in ("anomaly", "hook", "retain_grad"):
            x = m.ones(3, 4, requires_grad=True)
            y = x * 1
            if how == "hook":
                x.register_hook(lambda g: None)
            elif how == "retain_grad":
                y.retain_grad()
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                with m.autograd.set_detect_anomaly(how == "anomaly"):
                    (y.t() * c).sum().backward()
            g = y.grad if how == "retain_grad" else x.grad
            out.append([how, g.is_contiguous(), list(g.stride()), g.tolist()])
        return out
    _same(scenario)


# ---- forward AD: gradients computed inside a dual level ------------------------------------
def _dual_cases():
    def pow3(m, x, p):
        return m.autograd.grad((x ** 3).sum(), p)[0]

    def pow3_wrt_dual(m, x, p):
        return m.autograd.grad((x ** 3).sum(), x)[0]

    def tanh(m, x, p):
        return m.autograd.grad(x.tanh(), p, grad_outputs=m.ones(3))[0]

    def sigmoid(m, x, p):
        return m.autograd.grad(x.sigmoid().sum(), p)[0]

    def softmax(m, x, p):
        return m.autograd.grad(m.nn.functional.softmax(x, 0)[0], p)[0]

    def exp_mul(m, x, p):
        return m.autograd.grad((x.exp() * x).sum(), p)[0]

    def matmul(m, x, p):
        a = x.view(3, 1) @ x.view(1, 3)
        return m.autograd.grad(a.sum(), p)[0]

    def dual_grad_output(m, x, p):
        v = m.autograd.forward_ad.make_dual(m.ones(3), m.tensor([1.0, 0.0, 0.0]))
        return m.autograd.grad(p * 2, p, grad_outputs=v)[0]

    def view_only(m, x, p):
        return m.autograd.grad(x.view(3, 1).sum(), p)[0]

    def custom_saved_output(m, x, p):
        class Exp(m.autograd.Function):
            @staticmethod
            def forward(ctx, t):
                r = t.exp()
                ctx.save_for_backward(r)
                ctx.save_for_forward(r)
                return r

            @staticmethod
            def backward(ctx, g):
                r, = ctx.saved_tensors
                return g * r

            @staticmethod
            def jvp(ctx, t):
                r, = ctx.saved_tensors
                return t * r
        return m.autograd.grad(Exp.apply(x).sum(), p)[0]

    def backward_grad(m, x, p):
        (x ** 3).sum().backward()
        return p.grad
    return {f.__name__: f for f in (pow3, pow3_wrt_dual, tanh, sigmoid, softmax, exp_mul,
                                    matmul, dual_grad_output, view_only, custom_saved_output,
                                    backward_grad)}


DUAL_CASES = _dual_cases()


@pytest.mark.parametrize("case", list(DUAL_CASES))
def test_gradient_tangents_inside_dual_level_like_torch(case):
    """Gradients computed inside a dual level carry the tangents torch's do (forward over
    reverse): saved outputs are unpacked with their tangent, and formulas run as
    differentiable ops."""
    def scenario(m):
        fwAD = m.autograd.forward_ad
        p = m.tensor([0.5, -1.0, 2.0], requires_grad=True)
        with fwAD.dual_level():
            x = fwAD.make_dual(p, m.tensor([1.0, 2.0, -1.0]))
            try:
                g = DUAL_CASES[case](m, x, p)
            except Exception as exc:  # noqa: BLE001 - the type is what is compared
                return f"{type(exc).__name__}"
            primal, tangent = fwAD.unpack_dual(g)
            return [_tolist(primal), _tolist(tangent)]
    _same(scenario)


# ---- dtype names in messages ---------------------------------------------------------------
DTYPES = ["float16", "float32", "float64", "int8", "int16", "int32", "int64", "uint8", "bool"]


@pytest.mark.parametrize("dtype", DTYPES)
def test_dtype_names_in_messages_like_torch(dtype):
    """Messages that name dtypes (PyTorch's ScalarType and C++ type names) word them as
    torch does: assigning a ``.grad`` of another dtype, ``linear`` on mixed dtypes,
    ``dropout`` and ``nn.init`` on integer tensors."""
    def scenario(m):
        dt = getattr(m, dtype)
        out = []
        x = m.zeros(2, dtype=m.float32 if dtype != "float32" else m.float64,
                    requires_grad=True)

        def assign():
            x.grad = m.zeros(2, dtype=dt)
        out.append(_outcome(assign))
        y = m.zeros(2, 2, dtype=m.float64 if dtype == "float32" else m.float32)
        out.append(_outcome(lambda: m.nn.functional.linear(m.zeros(2, 2, dtype=dt), y, y[0])))
        out.append(_outcome(lambda: m.nn.functional.linear(y, y, m.zeros(2, dtype=dt))))
        out.append(_outcome(lambda: m.nn.functional.dropout(m.zeros(2, dtype=dt), 0.5)))
        out.append(_outcome(lambda: m.nn.init.normal_(m.zeros(2, dtype=dt))))
        if dt.is_floating_point:
            big = float(np.finfo(dtype).max)
            out.append(_outcome(lambda: m.nn.init.uniform_(m.zeros(2, dtype=dt), -big, big)))
            out.append(_outcome(lambda: m.nn.init.uniform_(m.zeros(2, dtype=dt), -2 * big, 0)))
        return [o.replace("torch.", "ember.") for o in out]
    _same(scenario)


# ---- ember.autograd's submodules load on first use ------------------------------------------
@pytest.mark.parametrize("statement", [
    "from {m}.autograd import functional",
    "from {m}.autograd import forward_ad",
    "import {m}; {m}.autograd.functional.jacobian",
])
def test_autograd_submodules_import_in_a_fresh_process_like_torch(statement):
    """``from torch.autograd import functional`` (and ``forward_ad``) as the first use in a
    process: ember loads them lazily, and must not recurse into its own ``__getattr__``."""
    def run(name):
        proc = subprocess.run([sys.executable, "-c", statement.format(m=name)],
                              capture_output=True, text=True, timeout=120)
        return proc.returncode, proc.stderr.strip().splitlines()[-1:] if proc.returncode else []
    assert run("ember") == run("torch")
