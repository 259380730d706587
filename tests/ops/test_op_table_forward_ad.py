"""Forward-mode AD of every op in the op table against torch.

Each float64 sample runs with a random tangent on every differentiable input, and the
tangent of each output must equal torch's. Where torch has no forward-mode formula for an
op, torch's own Jacobian-vector product by reverse mode (``torch.autograd.functional.jvp``)
is the reference.
"""

from __future__ import annotations

import zlib

import numpy as np
import pytest
import torch
import torch.autograd.forward_ad as torch_fwad

import ember
import ember.autograd.forward_ad as fwad

from .op_table import OPS, T
from .test_op_table import _arrays, _build, _call, _np, _tensors

TOL = dict(rtol=1e-7, atol=1e-9)


def _cases():
    for entry in OPS:
        if not entry.grad or entry.backward_error is not None:
            continue
        for k, sample in enumerate(entry.samples):
            if "float64" in (sample.dtypes or entry.dtypes) and any(
                    isinstance(a, T) and a.grad and a.dtype in (None, "float64")
                    for a in sample.args):
                yield pytest.param(entry, sample, id=f"{entry.name}-{k}")


def _duals(module, ad, args, tangents):
    """The call's arguments with each differentiable input made dual."""
    out, k = [], 0
    for a in args:
        if isinstance(a, (ember.Tensor, torch.Tensor)) and a.requires_grad:
            tangent = module.from_numpy(tangents[k].copy())
            a = ad.make_dual(a.detach(), tangent)
            k += 1
        out.append(a)
    return out


def _torch_tangents(entry, sample, targs, tangents):
    """torch's output tangents: forward AD, or reverse mode where it has no formula."""
    try:
        with torch_fwad.dual_level():
            outs = _tensors(_call(entry, torch, _duals(torch, torch_fwad, targs, tangents),
                                  sample.kwargs))
            return [torch_fwad.unpack_dual(o).tangent for o in outs]
    except (NotImplementedError, RuntimeError):
        pass  # no formula, or a failure of torch's (mse_loss with an int64 target)
    diff = [a for a in targs if isinstance(a, torch.Tensor) and a.requires_grad]

    def func(*xs):
        it = iter(xs)
        args = [next(it) if isinstance(a, torch.Tensor) and a.requires_grad else a
                for a in targs]
        outs = _tensors(_call(entry, torch, args, sample.kwargs))
        return tuple(o for o in outs if o.is_floating_point())

    _, columns = torch.autograd.functional.jvp(
        func, tuple(d.detach() for d in diff), tuple(torch.from_numpy(t) for t in tangents))
    columns = iter(columns)
    outs = _tensors(_call(entry, torch, targs, sample.kwargs))
    return [next(columns) if o.is_floating_point() else None for o in outs]


@pytest.mark.filterwarnings("error::RuntimeWarning")
@pytest.mark.parametrize("entry, sample", list(_cases()))
def test_forward_ad(entry, sample, request):
    rng = np.random.default_rng(zlib.crc32(request.node.callspec.id.encode()))
    arrays = _arrays(sample, "float64", rng)
    targs, tdiff = _build(torch, sample.args, arrays)
    eargs, ediff = _build(ember, sample.args, arrays)
    assert tdiff
    tangents = [rng.standard_normal(tuple(t.shape)) for t in tdiff]
    expected = _torch_tangents(entry, sample, targs, tangents)
    with fwad.dual_level():
        eouts = _tensors(_call(entry, ember, _duals(ember, fwad, eargs, tangents),
                               sample.kwargs))
        got = [fwad.unpack_dual(o).tangent for o in eouts]
    assert len(got) == len(expected)
    for k, (e, t) in enumerate(zip(got, expected)):
        if t is None:
            assert e is None or not _np(e).any(), f"output {k}: torch has no tangent"
            continue
        assert e is not None, f"output {k}: ember gave no tangent"
        assert tuple(e.shape) == tuple(t.shape), f"output {k}: shape"
        np.testing.assert_allclose(_np(e), _np(t), err_msg=f"output {k}", **TOL)

