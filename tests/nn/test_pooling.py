"""Pooling layers, ``Identity`` and ``Dropout`` against torch's modules."""

from __future__ import annotations

import numpy as np
import pytest
import torch

import ember
from ember import nn
from tests._surface_helpers import assert_same_error, dtype_name, outcome
from tests._surface_helpers import same_error as _same_error


def _compare(e, t, shape, seed=0):
    # distinct values, so that the maximum of every window is unique
    x = np.random.default_rng(seed).permutation(np.prod(shape)).reshape(shape)
    x = (x / x.size).astype(np.float32)
    xe, xt = ember.tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
    ye, yt = e(xe), t(xt)
    if isinstance(yt, tuple):
        assert np.array_equal(ye[1].numpy(), yt[1].numpy())
        ye, yt = ye[0], yt[0]
    assert tuple(ye.shape) == tuple(yt.shape)
    np.testing.assert_allclose(ye.detach().numpy(), yt.detach().numpy(), rtol=1e-5, atol=1e-6)
    g = np.random.default_rng(seed + 1).standard_normal(tuple(yt.shape)).astype(np.float32)
    ye.backward(ember.tensor(g))
    yt.backward(torch.tensor(g))
    np.testing.assert_allclose(xe.grad.numpy(), xt.grad.numpy(), rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("args,kwargs,shape", [
    ((3,), dict(stride=2, padding=1), (2, 3, 9, 9)),           # resnet's stem
    ((2,), {}, (1, 2, 6, 7)),
    (((3, 2),), dict(stride=(1, 2), padding=(1, 0), dilation=(1, 2)), (2, 2, 7, 8)),
    ((3,), dict(stride=2, ceil_mode=True), (1, 1, 8, 8)),
    ((2,), dict(return_indices=True), (2, 3, 4, 4)),
    ((2,), {}, (3, 6, 6)),                                     # unbatched
])
def test_max_pool2d(args, kwargs, shape):
    e, t = nn.MaxPool2d(*args, **kwargs), torch.nn.MaxPool2d(*args, **kwargs)
    assert repr(e) == repr(t)
    _compare(e, t, shape)


@pytest.mark.parametrize("args,kwargs,shape", [
    ((2,), {}, (2, 3, 6, 6)),
    ((3,), dict(stride=2, padding=1), (1, 2, 7, 7)),
    ((3,), dict(stride=2, padding=1, count_include_pad=False), (1, 2, 7, 7)),
    (((2, 3),), dict(stride=(1, 2), ceil_mode=True), (2, 2, 5, 8)),
    ((2,), dict(divisor_override=3), (1, 1, 4, 4)),
])
def test_avg_pool2d(args, kwargs, shape):
    e, t = nn.AvgPool2d(*args, **kwargs), torch.nn.AvgPool2d(*args, **kwargs)
    assert repr(e) == repr(t)
    _compare(e, t, shape)


@pytest.mark.parametrize("output_size,shape", [
    ((1, 1), (2, 512, 2, 2)), (1, (2, 3, 5, 7)), ((3, 2), (1, 2, 7, 5)), ((None, 3), (2, 2, 4, 7)),
    ((4, 4), (1, 1, 4, 4)), (2, (3, 5, 5)),
])
def test_adaptive_avg_pool2d(output_size, shape):
    e, t = nn.AdaptiveAvgPool2d(output_size), torch.nn.AdaptiveAvgPool2d(output_size)
    assert repr(e) == repr(t)
    _compare(e, t, shape)


def test_reprs_and_attributes():
    assert repr(nn.MaxPool2d(3, 2, 1)) == \
        "MaxPool2d(kernel_size=3, stride=2, padding=1, dilation=1, ceil_mode=False)"
    assert repr(nn.AdaptiveAvgPool2d((1, 1))) == "AdaptiveAvgPool2d(output_size=(1, 1))"
    e, t = nn.MaxPool2d(3), torch.nn.MaxPool2d(3)
    for name in ("kernel_size", "stride", "padding", "dilation", "return_indices", "ceil_mode"):
        assert getattr(e, name) == getattr(t, name)
    e, t = nn.AvgPool2d(3, padding=1), torch.nn.AvgPool2d(3, padding=1)
    for name in ("kernel_size", "stride", "padding", "ceil_mode", "count_include_pad",
                 "divisor_override"):
        assert getattr(e, name) == getattr(t, name)
    assert list(nn.MaxPool2d(2).state_dict()) == []




@pytest.mark.parametrize("make,shape", [
    (lambda m: m.MaxPool2d(3), (2, 3)),
    (lambda m: m.MaxPool2d(3, padding=2), (1, 1, 6, 6)),
    (lambda m: m.AvgPool2d(2), (2, 3)),
    (lambda m: m.AdaptiveAvgPool2d(2), (3,)),
])
def test_errors(make, shape):
    x = np.ones(shape, np.float32)
    _same_error(lambda: make(nn)(ember.tensor(x)), lambda: make(torch.nn)(torch.tensor(x)))


def test_identity():
    e, t = nn.Identity(54, unused="argument"), torch.nn.Identity(54, unused="argument")
    assert repr(e) == repr(t) == "Identity()"
    x = ember.randn(2, 3)
    assert e(x) is x


def test_dropout():
    e, t = nn.Dropout(), torch.nn.Dropout()
    assert repr(e) == repr(t) == "Dropout(p=0.5, inplace=False)"
    assert repr(nn.Dropout(0.2, inplace=True)) == repr(torch.nn.Dropout(0.2, inplace=True))
    ember.manual_seed(0)
    x = ember.ones(200, 100, requires_grad=True)
    y = e(x)
    kept = y.detach().numpy() != 0
    assert 0.45 < kept.mean() < 0.55
    np.testing.assert_allclose(y.detach().numpy()[kept], 2.0)
    y.sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), np.where(kept, 2.0, 0.0))
    e.eval()
    assert e(x) is x
    assert nn.Dropout(0.0)(x) is x
    assert np.all(nn.Dropout(1.0)(x).detach().numpy() == 0)
    _same_error(lambda: nn.Dropout(1.5), lambda: torch.nn.Dropout(1.5))
    _same_error(lambda: nn.Dropout(-0.1), lambda: torch.nn.Dropout(-0.1))


def test_functional_dropout_matches_torch_node_and_errors():
    for lib in (ember, torch):
        x = lib.ones(4, 5, requires_grad=True)
        assert type(lib.nn.functional.dropout(x, 0.3).grad_fn).__name__ == "MulBackward0"
        assert lib.nn.functional.dropout(x, 0.3, training=False) is x
    y = ember.ones(3, 4)
    out = ember.nn.functional.dropout(y, 0.5, inplace=True)
    assert out is y and set(np.unique(y.numpy())) <= {0.0, 2.0}
    _same_error(lambda: ember.nn.functional.dropout(ember.ones(2), 2.0),
                lambda: torch.nn.functional.dropout(torch.ones(2), 2.0))


@pytest.mark.parametrize("dtype", ["int64", "bool", "float16", "float64"])
@pytest.mark.parametrize("p", [0.0, 0.5, 1.0])
@pytest.mark.parametrize("training", [True, False])
def test_functional_dropout_dtypes_match_torch(dtype, p, training):
    """Non-float inputs pass through where nothing is dropped, keep their dtype at p=1, and
    raise torch's cast error otherwise."""
    def run(lib):
        out = lib.nn.functional.dropout(lib.ones(6, dtype=getattr(lib, dtype)), p, training)
        values = out.tolist() if p in (0.0, 1.0) or not training else tuple(out.shape)
        return dtype_name(out.dtype), values

    if outcome(lambda: run(torch))[0] == "err":
        assert_same_error(lambda: run(ember), lambda: run(torch))
    else:
        assert run(ember) == run(torch)
