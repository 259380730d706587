"""Convolution, pooling, batch norm and the losses against torch over their argument spaces:
every stride/padding/dilation/groups/ceil_mode/... combination (valid or not), the
dtypes each op takes or refuses, empty inputs, and the messages of every error, in
PyTorch's order of checks. Each case runs the same call on ember and torch: both raise
the same exception type with the same message (``torch.`` read as ``ember.``), or both
return the same values, shapes, dtypes and node names (and, where marked, gradients)."""

from __future__ import annotations

import subprocess
import sys
import warnings

import numpy as np
import pytest
import torch
from hypothesis import currently_in_test_context, event, given, settings
from hypothesis import strategies as st

import ember

SETTINGS = settings(deadline=None, max_examples=120, derandomize=True)


def _tensor(m, a, dtype, grad=False):
    t = m.from_numpy(np.array(a)).to(getattr(m, dtype))
    return t.requires_grad_(True) if grad and dtype.startswith("float") else t


def _outcome(m, fn):
    try:
        return fn(m)
    except Exception as e:  # noqa: BLE001 - the exception is what is compared
        return e


def _message(e) -> str:
    return str(e).replace("torch.", "ember.")


def _values(t) -> np.ndarray:
    return t.detach().to(t.dtype if t.dtype.is_floating_point else t.dtype).numpy()


def check(fn, grad=False, rtol=1e-5, atol=1e-6, target_bounds=False):
    """``fn(m)`` with ``m`` = torch and ember: the same error, or the same tensors (a tensor
    or a tuple of them); with ``grad``, also the gradients of the inputs that ``fn`` marks
    (it returns ``(outputs, inputs)``)."""
    t, e = _outcome(torch, fn), _outcome(ember, fn)
    if currently_in_test_context():  # (hypothesis statistics: how many calls were valid)
        event(type(t).__name__ if isinstance(t, Exception) else "valid")
    if isinstance(t, Exception):
        assert isinstance(e, Exception), f"torch raised {t!r}, ember returned"
        assert type(e).__name__ == type(t).__name__, (e, t)
        if target_bounds and str(t).startswith("Target "):
            # which target PyTorch's threads report first varies; the message's form does not
            assert str(e).startswith("Target ") and str(e).endswith(" is out of bounds.")
        else:
            assert _message(e) == _message(t)
        return
    assert not isinstance(e, Exception), f"ember raised {e!r}; torch returned"
    (t_out, t_in), (e_out, e_in) = (t, e) if grad else ((t, ()), (e, ()))
    t_out = t_out if isinstance(t_out, tuple) else (t_out,)
    e_out = e_out if isinstance(e_out, tuple) else (e_out,)
    for a, b in zip(t_out, e_out):
        assert tuple(b.shape) == tuple(a.shape)
        assert str(b.dtype).split(".")[-1] == str(a.dtype).split(".")[-1]
        assert (b.grad_fn is None) == (a.grad_fn is None)
        if a.grad_fn is not None:
            assert b.grad_fn.name() == a.grad_fn.name()
        np.testing.assert_allclose(_values(b).astype(np.float64), _values(a).astype(np.float64),
                                   rtol=rtol, atol=atol, equal_nan=True)
    if grad and t_in:
        rng = np.random.default_rng(0)
        seeds = [rng.standard_normal(tuple(a.shape)) for a in t_out]
        for lib, outs in ((torch, t_out), (ember, e_out)):
            pairs = [(o, s) for o, s in zip(outs, seeds) if o.requires_grad]
            try:
                lib.autograd.backward([o for o, _ in pairs], [
                    _tensor(lib, s, str(o.dtype).split(".")[-1]) for o, s in pairs])
            except RuntimeError:
                if lib is ember:
                    raise
                return  # (PyTorch cannot differentiate some empty outputs)
        for a, b in zip(t_in, e_in):
            assert (a.grad is None) == (b.grad is None)
            if a.grad is not None:
                np.testing.assert_allclose(_values(b.grad), _values(a.grad), rtol=rtol, atol=atol)


# ---- convolution ----------------------------------------------------------------------------
def mostly(valid: list, invalid: list):
    """A valid value or (one time in five) an invalid one, so that valid calls are common."""
    return st.tuples(st.integers(0, 4), st.sampled_from(valid), st.sampled_from(invalid)).map(
        lambda c: c[2] if c[0] == 4 else c[1])


STRIDES = mostly([1, 2, (1, 2), (2,), [2, 1]], [0, -1, (1, 1, 1), ()])
DILATIONS = mostly([1, 2, (2, 1), (1,)], [0, -1, (1, 0), (1, 1, 1)])
PADDINGS = mostly([0, 1, (1, 0), (2,), 3, "same", "valid"], [-1, (1, 1, 1), "full", (0, -1)])


@SETTINGS
@given(nd=st.sampled_from([1, 2]), n=st.sampled_from([1, 2, 0]), unbatched=st.booleans(),
       groups=mostly([1, 1, 2], [0, 3, -1]), per_group=st.sampled_from([1, 2, 2, 0]),
       out_per_group=st.sampled_from([1, 2, 2, 0]), extra=mostly([0], [1, -1]),
       kernel=st.lists(st.integers(1, 4), min_size=2, max_size=2),
       size=st.lists(mostly([2, 3, 4, 5, 6], [0, 1]), min_size=2, max_size=2),
       stride=STRIDES, dilation=DILATIONS, padding=PADDINGS, bias=st.booleans(),
       wdim=mostly([0], [-1, 1, -2]), seed=st.integers(0, 2**16))
def test_conv_arguments(nd, n, unbatched, groups, per_group, out_per_group, extra, kernel,
                        size, stride, dilation, bias, padding, wdim, seed):
    """Every argument combination of conv1d/conv2d in float64 (PyTorch's native kernel):
    values and gradients where the call is valid, the same first error where not."""
    rng = np.random.default_rng(seed)
    g = max(groups, 1)
    cin, cout = g * per_group + max(extra, 0), g * out_per_group
    shape = ([] if unbatched else [n]) + [cin] + size[:nd]
    wshape = [cout + min(extra, 0) * 0, per_group] + kernel[:max(nd + wdim, 0)]
    x, w, b = rng.standard_normal(shape), rng.standard_normal(wshape), rng.standard_normal(cout)

    def fn(m):
        ins = [_tensor(m, x, "float64", True), _tensor(m, w, "float64", True)]
        if bias:
            ins.append(_tensor(m, b, "float64", True))
        conv = m.nn.functional.conv1d if nd == 1 else m.nn.functional.conv2d
        out = conv(ins[0], ins[1], ins[2] if bias else None, stride, padding, dilation, groups)
        return out, ins

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # padding='same' with an even kernel warns once
        check(fn, grad=True, rtol=1e-7, atol=1e-9)


@pytest.mark.parametrize("n", [0, 1, 2])
@pytest.mark.parametrize("xdt,wdt,bdt", [
    ("float64", "float32", None), ("float64", "float32", "float32"),
    ("float32", "float64", None), ("float32", "float64", "float64"),
    ("float32", "float32", "float64"), ("float32", "int64", None), ("int64", "float32", None),
    ("float16", "float32", None), ("float32", "bool", None), ("bool", "bool", None),
    ("int64", "int64", "int64"), ("int32", "int32", None), ("float16", "float16", None)])
@pytest.mark.parametrize("kw", [{}, dict(dilation=0), dict(padding="same"),
                                dict(padding="valid"), dict(groups=2), dict(stride=2)])
def test_conv_dtypes(n, xdt, wdt, bdt, kw):
    """Mixed dtypes: PyTorch's message depends on the kernel it would pick (oneDNN for a
    batch of float32, else its native kernel), and an empty input takes any dtypes."""
    x = np.arange(n * 4 * 16).reshape(n, 4, 4, 4) % 5 - 2.0
    w = np.arange(3 * 4 * 9 // (kw.get("groups", 1))).reshape(3, 4 // kw.get("groups", 1), 3, 3)
    w = w % 3 - 1.0
    w = np.concatenate([w, w[:1]]) if kw.get("groups") else w

    def fn(m):
        b = None if bdt is None else _tensor(m, np.arange(len(w)) % 3, bdt)
        return m.nn.functional.conv2d(_tensor(m, x, xdt), _tensor(m, w, wdt), b, **kw)

    check(fn, rtol=1e-3, atol=1e-3)


def test_conv_same_even_kernel_warns_once():
    """PyTorch warns once per process where 'same' needs more padding on one side."""
    code = ("import warnings, torch\nwarnings.simplefilter('always')\n"
            "with warnings.catch_warnings(record=True) as w:\n"
            "    for k in (2, 2, 3):\n"
            "        torch.nn.functional.conv1d(torch.ones(1, 1, 5), torch.ones(1, 1, k),"
            " padding='same')\n"
            "print(repr([str(x.message).split(' (Triggered internally')[0] for x in w]))\n")
    expected = eval(subprocess.run([sys.executable, "-c", code], capture_output=True,
                                   text=True, check=True).stdout)
    from ember.ops import conv
    conv._warned_same.clear()
    with warnings.catch_warnings(record=True) as w:
        warnings.simplefilter("always")
        for k in (2, 2, 3):
            ember.nn.functional.conv1d(ember.ones(1, 1, 5), ember.ones(1, 1, k), padding="same")
    assert [str(x.message) for x in w] == expected
    assert len(expected) == 1


# ---- pooling --------------------------------------------------------------------------------
@SETTINGS
@given(shape=st.lists(mostly([1, 2, 3, 4, 5, 6], [0]), min_size=3, max_size=4) | st.lists(
           st.integers(0, 4), min_size=0, max_size=5).filter(lambda s: len(s) not in (3, 4)),
       kernel=mostly([1, 2, 3, (2, 3), (3, 1), [2]], [0, -1, (1, 2, 3), ()]),
       stride=mostly([None, 1, 2, (1, 2), ()], [0, -1, (1, 2, 3)]),
       padding=mostly([0, 1, (1, 0), (0, 1)], [-1, 2, (1, 2, 3)]),
       dilation=mostly([1, 2, (1, 2)], [0, -1, (1, 2, 3)]),
       ceil_mode=st.booleans(), count_include_pad=st.booleans(),
       divisor=st.sampled_from([None, None, None, 2, 0, -3]), seed=st.integers(0, 2**16))
def test_pool_arguments(shape, kernel, stride, padding, dilation, ceil_mode, count_include_pad,
                        divisor, seed):
    """max_pool2d and avg_pool2d over every argument combination (float64): values and
    gradients, or PyTorch's first error."""
    x = np.random.default_rng(seed).permutation(int(np.prod(shape))).reshape(shape) / 7.0

    def max_pool(m):
        t = _tensor(m, x, "float64", True)
        return m.nn.functional.max_pool2d(t, kernel, stride, padding, dilation, ceil_mode,
                                          True), [t]

    def avg_pool(m):
        t = _tensor(m, x, "float64", True)
        return m.nn.functional.avg_pool2d(t, kernel, stride, padding, ceil_mode,
                                          count_include_pad, divisor), [t]

    check(max_pool, grad=True)
    check(avg_pool, grad=True)


@pytest.mark.parametrize("dtype", ["float16", "float64", "int64", "int32", "uint8", "bool"])
@pytest.mark.parametrize("op", ["max", "avg", "adaptive", "adaptive1"])
def test_pool_dtypes(dtype, op):
    """Half averages in float and rounds once; the integer and bool refusals."""
    x = (np.arange(2 * 2 * 5 * 5).reshape(2, 2, 5, 5) * 0.37) % 5

    def fn(m):
        t = _tensor(m, x, dtype)
        f = m.nn.functional
        return {"max": lambda: f.max_pool2d(t, 2), "avg": lambda: f.avg_pool2d(t, 3, 2, 1),
                "adaptive": lambda: f.adaptive_avg_pool2d(t, (2, 3)),
                "adaptive1": lambda: f.adaptive_avg_pool2d(t, 1)}[op]()

    check(fn, rtol=1e-3, atol=0)


@SETTINGS
@given(shape=st.lists(mostly([1, 2, 3, 5], [0]), min_size=3, max_size=4) | st.lists(
           st.integers(0, 5), min_size=0, max_size=5).filter(lambda s: len(s) not in (3, 4)),
       size=mostly([1, 2, 3, 7, (2, 3), (None, 2), (3, None), [1, 1]],
                   [-1, None, (0, 2), (2,), (1, 2, 3), (3, -1), (None,)]),
       seed=st.integers(0, 2**16))
def test_adaptive_avg_pool2d_arguments(shape, size, seed):
    """Output sizes larger than the input, None entries, empty dims, wrong ranks."""
    x = np.random.default_rng(seed).standard_normal(shape)

    def fn(m):
        t = _tensor(m, x, "float64", True)
        return m.nn.functional.adaptive_avg_pool2d(t, size), [t]

    check(fn, grad=True)


# ---- batch norm -----------------------------------------------------------------------------
DTYPES = st.sampled_from(["float16", "float32", "float64"])


@SETTINGS
@given(shape=st.lists(mostly([1, 2, 3], [0]), min_size=2, max_size=5) | st.lists(
           st.integers(0, 3), min_size=0, max_size=2),
       training=st.booleans(), running=mostly(["both", "none"], ["mean", "var"]),
       affine=st.sampled_from(["both", "none", "weight", "bias"]),
       xdt=DTYPES, pdt=mostly([None], ["float16", "float32", "float64"]),
       momentum=mostly([0.1, 0.0, 1.0, 0], [None, "0.1"]),
       eps=mostly([1e-5, 0.5], [0.0, -1.0]), seed=st.integers(0, 2**16))
def test_batch_norm_arguments(shape, training, running, affine, xdt, pdt, momentum, eps, seed):
    """F.batch_norm over ranks 0-5 (empty dims included), training and evaluation, missing
    statistics or parameters, mixed dtypes (a half input takes float parameters) and bad
    momentum/eps: the output, the updated running statistics, the gradients."""
    rng = np.random.default_rng(seed)
    c = shape[1] if len(shape) > 1 else 2
    x = rng.standard_normal(shape)
    stats = [rng.standard_normal(c), rng.uniform(0.5, 2.0, c)]
    params = [rng.standard_normal(c), rng.standard_normal(c)]

    def fn(m):
        pd = pdt or xdt
        t = _tensor(m, x, xdt, True)
        rm, rv = (_tensor(m, s, pd) for s in stats)
        w, b = (_tensor(m, p, pd, True) for p in params)
        rm = rm if running in ("both", "mean") else None
        rv = rv if running in ("both", "var") else None
        w = w if affine in ("both", "weight") else None
        b = b if affine in ("both", "bias") else None
        out = m.nn.functional.batch_norm(t, rm, rv, w, b, training, momentum, eps)
        return (out,) + tuple(s for s in (rm, rv) if s is not None), \
            [p for p in (t, w, b) if p is not None]

    tol = 2e-2 if "float16" in (xdt, pdt) else 1e-5
    check(fn, grad=True, rtol=tol, atol=tol)


def test_batch_norm_empty_batch_is_silent():
    """An empty batch in training: no NumPy warnings, PyTorch's nodes, stats untouched."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        # ember's own filter for the RuntimeWarnings of its modules, as installed at import
        warnings.filterwarnings("ignore", category=RuntimeWarning, module=r"ember(\.|$)")
        check(lambda m: (m.nn.functional.batch_norm(
            _tensor(m, np.zeros((0, 3)), "float32", True), _tensor(m, np.zeros(3), "float32"),
            _tensor(m, np.ones(3), "float32"), _tensor(m, np.ones(3), "float32", True),
            training=True),))
    assert caught == []


# ---- losses ---------------------------------------------------------------------------------
@SETTINGS
@given(shape=st.lists(mostly([1, 2, 3], [0]), min_size=1, max_size=5) | st.lists(
           st.integers(0, 3), min_size=0, max_size=5),
       tdims=mostly([0], [-1, 1]), low=mostly([0], [-100, -1, -101]),
       high=mostly([0, 1, 2], [3, 5]), tdt=mostly(["int64"], ["uint8", "int32"]),
       weight=mostly([None, "ok"], ["long", "2d", "f64"]),
       ignore_index=mostly([-100, 0, 2], [-1, None]),
       reduction=st.sampled_from(["mean", "sum", "none"]),
       smoothing=mostly([0.0, 0.2, 1.0, -0.1], [1.5, None]),
       probs=st.booleans(), seed=st.integers(0, 2**16))
def test_class_losses(shape, tdims, low, high, tdt, weight, ignore_index, reduction,
                      smoothing, probs, seed):
    """nll_loss and cross_entropy over input ranks 0-5, targets of every rank, dtype and
    range (ignored, out of bounds), class weights of wrong shapes and dtypes, reductions,
    label smoothing in and out of [0, 1], probability targets."""
    rng = np.random.default_rng(seed)
    x = rng.standard_normal(shape)
    c = shape[0] if len(shape) == 1 else shape[1] if len(shape) > 1 else 1
    tshape = shape if probs else ([] if len(shape) == 1 else shape[:1] + shape[2:])
    tshape = tshape[:len(tshape) + tdims] if tdims < 0 else tshape + [2] * tdims
    target = rng.uniform(0, 1, tshape) if probs else rng.integers(low, high + 1, tshape)
    if not probs and tdt == "uint8":
        target = np.abs(target)
    w = {None: None, "ok": rng.uniform(0.2, 2, c), "long": rng.uniform(0.2, 2, c + 1),
         "2d": rng.uniform(0.2, 2, (c, 1)), "f64": rng.uniform(0.2, 2, c)}[weight]

    def loss(name):
        def fn(m):
            t = _tensor(m, x, "float32", True)
            tt = _tensor(m, target, "float32" if probs else tdt)
            wt = None if w is None else _tensor(m, w, "float64" if weight == "f64" else
                                                "float32")
            kw = dict(ignore_index=ignore_index, reduction=reduction)
            if name == "cross_entropy":
                kw["label_smoothing"] = smoothing
            return getattr(m.nn.functional, name)(t, tt, wt, **kw), [t]
        return fn

    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", category=RuntimeWarning)
        check(loss("nll_loss"), grad=True, target_bounds=True)
        check(loss("cross_entropy"), grad=True, target_bounds=True)
