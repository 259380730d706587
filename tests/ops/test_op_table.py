"""Every op in the op table against torch: forward, gradients, gradcheck, gradgradcheck,
third derivatives where marked, node names, and bad inputs (see ``op_table.py``)."""

from __future__ import annotations

import warnings
import zlib

import numpy as np
import pytest
import torch

import ember
from ember.autograd import gradcheck, gradgradcheck

from .op_table import OPS, Bad, T

# gradcheck costs two forwards per input element; gradgradcheck far more: small inputs only
GRADCHECK_MAX_NUMEL = 30
GRADGRADCHECK_MAX_NUMEL = 14
TOL = {"float32": dict(rtol=1.3e-6, atol=1e-5), "float64": dict(rtol=1e-7, atol=1e-7)}


def _cases():
    for entry in OPS:
        for k, sample in enumerate(entry.samples):
            for dtype in sample.dtypes or entry.dtypes:
                yield pytest.param(entry, sample, dtype, id=f"{entry.name}-{k}-{dtype}")
        for k, bad in enumerate(entry.bad):
            yield pytest.param(entry, bad, bad.dtype, id=f"{entry.name}-bad{k}")


# ---- building the same arguments for both libraries ----------------------------------------
def _arrays(sample, dtype, rng):
    specs = [a for a in sample.args if isinstance(a, T)]
    if sample.make is not None:
        made = sample.make(rng)
        return [np.asarray(v).astype(s.dtype or dtype) for s, v in zip(specs, made)]
    return [s.make(rng, dtype) for s in specs]


def _build(module, args, arrays, requires_grad=True):
    """The call's arguments for ``module`` and the tensors that require grad."""
    out, diff, k = [], [], 0
    for a in args:
        if not isinstance(a, T):
            out.append(a)
            continue
        arr = np.array(arrays[k])
        k += 1
        t = ember.from_numpy(arr) if module is ember else torch.from_numpy(arr)
        if requires_grad and a.grad and arr.dtype.kind == "f":
            t.requires_grad_(True)
            diff.append(t)
        out.append(t)
    return out, diff


def _tensors(out):
    """The tensors of an op's result, in order (a tensor, or a tuple like (values, indices))."""
    return list(out) if isinstance(out, tuple) else [out]


def _np(t) -> np.ndarray:
    if isinstance(t, torch.Tensor) and t._is_zerotensor():
        # torch's derivative of sgn on real tensors is a ZeroTensor, which has no storage
        return np.zeros(tuple(t.shape), dtype=str(t.dtype).split(".")[-1])
    return t.detach().numpy()


def _dtype_name(t) -> str:
    return str(t.dtype).split(".")[-1]


def _assert_same(e, t, what: str) -> None:
    assert isinstance(e, ember.Tensor), f"{what}: ember gave {type(e).__name__}"
    assert tuple(e.shape) == tuple(t.shape), f"{what}: shape {tuple(e.shape)} != {tuple(t.shape)}"
    assert _dtype_name(e) == _dtype_name(t), f"{what}: dtype {e.dtype} != {t.dtype}"
    ev, tv = _np(e), _np(t)
    if tv.dtype.kind == "f":
        np.testing.assert_allclose(ev, tv, equal_nan=True, err_msg=what, **TOL[tv.dtype.name])
    else:
        np.testing.assert_array_equal(ev, tv, err_msg=what)


def _call(entry, module, args, kwargs):
    if module is ember:
        return entry.fn(module, *args, **kwargs)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # e.g. torch's deprecation notes for x.T
        return entry.fn(module, *args, **kwargs)


# ---- the test --------------------------------------------------------------------------------
# NumPy's floating-point warnings (overflow, 0/0, ...) must not leak out of ember's ops:
# torch gives the same inf/nan results silently.
@pytest.mark.filterwarnings("error::RuntimeWarning")
@pytest.mark.parametrize("entry, case, dtype", list(_cases()))
def test_op(entry, case, dtype, request):
    rng = np.random.default_rng(zlib.crc32(request.node.callspec.id.encode()))
    if isinstance(case, Bad):
        _check_bad_input(entry, case, rng)
    else:
        _check_sample(entry, case, dtype, rng)


def _check_bad_input(entry, bad: Bad, rng) -> None:
    arrays = [s.make(rng, bad.dtype) for s in bad.args if isinstance(s, T)]
    targs, _ = _build(torch, bad.args, arrays, requires_grad=False)
    eargs, _ = _build(ember, bad.args, arrays, requires_grad=False)
    with pytest.raises(bad.exc) as torch_err:
        _call(entry, torch, targs, bad.kwargs)
    assert type(torch_err.value) is bad.exc
    assert bad.phrase in str(torch_err.value).replace("torch.", "ember."), str(torch_err.value)
    with pytest.raises(Exception) as ember_err:
        _call(entry, ember, eargs, bad.kwargs)
    assert type(ember_err.value) is bad.exc, repr(ember_err.value)
    assert bad.phrase in str(ember_err.value), str(ember_err.value)


def _check_sample(entry, sample, dtype, rng) -> None:
    arrays = _arrays(sample, dtype, rng)
    targs, tdiff = _build(torch, sample.args, arrays)
    eargs, ediff = _build(ember, sample.args, arrays)
    tout = _tensors(_call(entry, torch, targs, sample.kwargs))
    eout = _tensors(_call(entry, ember, eargs, sample.kwargs))

    # forward: values, dtype, shape, whether autograd tracks it, and the node's name
    assert len(eout) == len(tout)
    for k, (e, t) in enumerate(zip(eout, tout)):
        _assert_same(e, t, f"output {k}")
        assert e.requires_grad == t.requires_grad, f"output {k}: requires_grad"
        assert (e._base is None) == (t._base is None), f"output {k}: view of its input"
        if t.grad_fn is None:
            assert e.grad_fn is None, f"output {k}: {e.grad_fn.name()}, torch has no grad_fn"
        else:
            assert e.grad_fn is not None, f"output {k}: no grad_fn, torch has {t.grad_fn.name()}"
            assert type(e.grad_fn).__name__ == type(t.grad_fn).__name__, f"output {k}: node"

    touts = [t for t in tout if t.requires_grad]
    eouts = [e for e, t in zip(eout, tout) if t.requires_grad]
    if not touts or not entry.grad and entry.backward_error is None:
        return
    grads = [rng.standard_normal(tuple(t.shape)).astype(_np(t).dtype) for t in touts]
    if entry.backward_error is not None:
        _check_backward_raises(entry, touts, tdiff, eouts, ediff, grads)
        return

    # gradients of every differentiable input for a random upstream gradient
    tg = torch.autograd.grad(touts, tdiff, [torch.from_numpy(g) for g in grads],
                             allow_unused=True)
    eg = ember.autograd.grad(eouts, ediff, [ember.from_numpy(g.copy()) for g in grads],
                             allow_unused=True)
    for k, (e, t) in enumerate(zip(eg, tg)):
        if t is None:
            assert e is None or not _np(e).any(), f"grad {k}: torch has none"
            continue
        assert e is not None, f"grad {k}: ember gave None"
        _assert_same(e, t, f"grad of input {k}")

    if dtype == "float64" and entry.gradcheck:
        _check_gradcheck(entry, sample, arrays)
    if dtype == "float64" and entry.third_order:
        _check_third_order(entry, sample, arrays, rng)


def _check_backward_raises(entry, touts, tdiff, eouts, ediff, grads) -> None:
    exc, phrase = entry.backward_error
    with pytest.raises(exc, match=phrase):
        torch.autograd.grad(touts, tdiff, [torch.from_numpy(g) for g in grads],
                            allow_unused=True)
    with pytest.raises(exc, match=phrase):
        ember.autograd.grad(eouts, ediff, [ember.from_numpy(g) for g in grads],
                            allow_unused=True)


def _check_gradcheck(entry, sample, arrays) -> None:
    args, diff = _build(ember, sample.args, arrays)
    numel = sum(t.numel() for t in diff)
    if not diff or numel > GRADCHECK_MAX_NUMEL:
        return

    def func(*a):
        return entry.fn(ember, *a, **sample.kwargs)

    assert gradcheck(func, tuple(args))
    if entry.gradgradcheck and numel <= GRADGRADCHECK_MAX_NUMEL:
        assert gradgradcheck(func, tuple(args))


def _check_third_order(entry, sample, arrays, rng) -> None:
    """d/dx <w, d/dx <v, d/dx <g, f(x)>>> against torch, for every differentiable input."""
    results = []
    shapes = None
    for module in (torch, ember):
        args, diff = _build(module, sample.args, arrays)
        outs = [o for o in _tensors(_call(entry, module, args, sample.kwargs)) if o.requires_grad]
        if shapes is None:
            shapes = [tuple(o.shape) for o in outs] + [tuple(x.shape) for x in diff] * 2
            seeds = [rng.standard_normal(s) for s in shapes]
        new = module.from_numpy if module is ember else torch.from_numpy
        n_out = len(outs)
        level = module.autograd.grad(outs, diff, [new(s.copy()) for s in seeds[:n_out]],
                                     create_graph=True, allow_unused=True)
        for step in range(2):
            vs = seeds[n_out + step * len(diff): n_out + (step + 1) * len(diff)]
            terms = [(g * new(v.copy())).sum() for g, v in zip(level, vs)
                     if g is not None and g.requires_grad]
            if not terms:
                level = [None] * len(diff)
                break
            level = module.autograd.grad(sum(terms), diff, create_graph=step == 0,
                                         allow_unused=True)
        results.append([None if g is None else _np(g) for g in level])
    in_shapes = shapes[len(shapes) - len(results[0]):]
    for k, (t, e) in enumerate(zip(*results)):
        t = np.zeros(in_shapes[k]) if t is None else t
        e = np.zeros_like(t) if e is None else e
        np.testing.assert_allclose(e, t, rtol=1e-7, atol=1e-7, err_msg=f"third derivative {k}")
