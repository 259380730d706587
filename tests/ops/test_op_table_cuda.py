"""The op table on CUDA: every sample's forward and gradients, ember (CuPy) against torch's
CUDA build. Skipped on machines without a GPU (see ``test_op_table.py`` for the CPU checks,
gradcheck and bad inputs)."""

from __future__ import annotations

import zlib

import numpy as np
import pytest
import torch

import ember

from .op_table import OPS, T
from .test_op_table import _arrays, _build, _call, _tensors

pytestmark = pytest.mark.cuda

TOL = {"float32": dict(rtol=1e-4, atol=1e-5), "float64": dict(rtol=1e-10, atol=1e-10)}


def _cuda_cases():
    for entry in OPS:
        for k, sample in enumerate(entry.samples):
            for dtype in sample.dtypes or entry.dtypes:
                yield pytest.param(entry, sample, dtype, id=f"{entry.name}-{k}-{dtype}")


def _build_cuda(module, args, arrays):
    out, diff, k = [], [], 0
    for a in args:
        if not isinstance(a, T):
            out.append(a)
            continue
        arr = np.array(arrays[k])
        k += 1
        t = module.tensor(arr).to("cuda")
        if a.grad and arr.dtype.kind == "f":
            t.requires_grad_(True)
            diff.append(t)
        out.append(t)
    return out, diff


def _host(t) -> np.ndarray:
    return t.detach().cpu().numpy()


def _same(e, t, what, dtype):
    assert e.is_cuda, f"{what}: ember result not on CUDA"
    assert tuple(e.shape) == tuple(t.shape), what
    assert str(e.dtype).split(".")[-1] == str(t.dtype).split(".")[-1], what
    ev, tv = _host(e), _host(t)
    if tv.dtype.kind == "f":
        # a float64 result computed from float32 values (a promoted gradient) carries
        # float32 rounding: compare at the looser of the two tolerances
        tol = TOL["float32"] if "float32" in (dtype, tv.dtype.name) else TOL[tv.dtype.name]
        np.testing.assert_allclose(ev, tv, equal_nan=True, err_msg=what, **tol)
    else:
        np.testing.assert_array_equal(ev, tv, err_msg=what)


@pytest.mark.parametrize("entry, sample, dtype", list(_cuda_cases()))
def test_op_on_cuda(entry, sample, dtype, request):
    rng = np.random.default_rng(zlib.crc32(request.node.callspec.id.encode()))
    arrays = _arrays(sample, dtype, rng)
    targs, tdiff = _build_cuda(torch, sample.args, arrays)
    eargs, ediff = _build_cuda(ember, sample.args, arrays)
    try:
        tout = _tensors(_call(entry, torch, targs, sample.kwargs))
    except NotImplementedError:
        # torch has no CUDA kernel for some dtypes (integer matmul); ember (CuPy) computes
        # them, so compare with torch's CPU result instead.
        targs, tdiff = _build(torch, sample.args, arrays)
        tout = [t.to("cuda") if isinstance(t, torch.Tensor) else t
                for t in _tensors(_call(entry, torch, targs, sample.kwargs))]
    eout = _tensors(_call(entry, ember, eargs, sample.kwargs))
    assert len(eout) == len(tout)
    for k, (e, t) in enumerate(zip(eout, tout)):
        _same(e, t, f"output {k}", dtype)
    touts = [t for t in tout if t.requires_grad]
    eouts = [e for e, t in zip(eout, tout) if t.requires_grad]
    if not touts or not entry.grad or entry.backward_error is not None:
        return
    grads = [rng.standard_normal(tuple(t.shape)).astype(_host(t).dtype) for t in touts]
    tg = torch.autograd.grad(touts, tdiff, [torch.tensor(g, device="cuda") for g in grads],
                             allow_unused=True)
    eg = ember.autograd.grad(eouts, ediff, [ember.tensor(g, device="cuda") for g in grads],
                             allow_unused=True)
    for k, (e, t) in enumerate(zip(eg, tg)):
        if t is None:
            assert e is None or not _host(e).any()
            continue
        assert e is not None, f"grad {k}: ember gave None"
        _same(e, t, f"grad of input {k}", dtype)
