"""softmax and log_softmax of float16 tensors: PyTorch's CPU kernels compute half precision
in float (its accumulate type), with its own points of rounding to half. Over the last dim
(softmax layers, cross_entropy) ember's results must be torch's bit for bit; over other
dims, whose kernels round at points that depend on the sizes of the dims after it, within
one ulp."""

from __future__ import annotations

import numpy as np
import torch
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import ember


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(shape=st.lists(st.integers(1, 9), min_size=1, max_size=3), data=st.data(),
       scale=st.sampled_from([0.1, 1.0, 5.0, 20.0]), seed=st.integers(0, 2**16))
def test_half_softmax_and_log_softmax_are_torchs(shape, data, scale, seed):
    dim = data.draw(st.integers(-len(shape), len(shape) - 1))
    x = (np.random.default_rng(seed).standard_normal(shape) * scale).astype(np.float16)
    for name in ("softmax", "log_softmax"):
        e = getattr(ember, name)(ember.tensor(x), dim)
        t = getattr(torch, name)(torch.tensor(x), dim)
        assert e.dtype == ember.float16
        if dim in (-1, len(shape) - 1):
            np.testing.assert_array_equal(e.numpy(), t.numpy(), err_msg=name)
        else:
            ulp = np.spacing(np.abs(t.numpy())).astype(np.float32)
            assert (np.abs(e.numpy().astype(np.float32) - t.numpy()) <= ulp).all(), name
        # and the gradient, to half precision
        ex = ember.tensor(x, requires_grad=True)
        tx = torch.tensor(x, requires_grad=True)
        g = np.random.default_rng(seed + 1).standard_normal(shape).astype(np.float16)
        getattr(ember, name)(ex, dim).backward(ember.tensor(g))
        getattr(torch, name)(tx, dim).backward(torch.tensor(g))
        np.testing.assert_allclose(ex.grad.numpy().astype(np.float32),
                                   tx.grad.numpy().astype(np.float32), rtol=4e-3, atol=4e-3,
                                   err_msg=name)
