"""``nn.BatchNorm1d`` / ``nn.BatchNorm2d`` against torch's modules."""

from __future__ import annotations

from collections import OrderedDict

import numpy as np
import pytest
import torch

import ember
from ember import nn
from tests._surface_helpers import same_error as _same_error

CONFIGS = [
    {},
    dict(momentum=None),
    dict(momentum=0.3, eps=1e-3),
    dict(affine=False),
    dict(track_running_stats=False),
    dict(affine=False, track_running_stats=False),
]


def _pair(cls_name, num_features, **kwargs):
    e = getattr(nn, cls_name)(num_features, **kwargs)
    t = getattr(torch.nn, cls_name)(num_features, **kwargs)
    if e.weight is not None:  # non-trivial affine parameters, the same in both
        rng = np.random.default_rng(7)
        w = rng.uniform(0.5, 1.5, num_features).astype(np.float32)
        b = rng.standard_normal(num_features).astype(np.float32)
        with torch.no_grad():
            t.weight.copy_(torch.tensor(w))
            t.bias.copy_(torch.tensor(b))
        with ember.no_grad():
            e.weight.copy_(ember.tensor(w))
            e.bias.copy_(ember.tensor(b))
    return e, t


def _step(e, t, shape, seed):
    x = (np.random.default_rng(seed).standard_normal(shape) * 2 + 0.5).astype(np.float32)
    xe, xt = ember.tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
    ye, yt = e(xe), t(xt)
    g = np.random.default_rng(seed + 100).standard_normal(shape).astype(np.float32)
    ye.backward(ember.tensor(g))
    yt.backward(torch.tensor(g))
    np.testing.assert_allclose(ye.detach().numpy(), yt.detach().numpy(), rtol=1e-4, atol=1e-4)
    np.testing.assert_allclose(xe.grad.numpy(), xt.grad.numpy(), rtol=1e-4, atol=1e-4)


def _compare_state(e, t):
    se, st = e.state_dict(), t.state_dict()
    assert list(se) == list(st)
    for k in st:
        assert str(se[k].dtype).replace("ember", "torch") == str(st[k].dtype), k
        np.testing.assert_allclose(se[k].numpy(), st[k].numpy(), rtol=1e-5, atol=1e-6,
                                   err_msg=k)


@pytest.mark.parametrize("kwargs", CONFIGS)
@pytest.mark.parametrize("cls_name,shape", [("BatchNorm2d", (4, 3, 5, 6)),
                                            ("BatchNorm1d", (8, 3)),
                                            ("BatchNorm1d", (4, 3, 7))])
def test_train_steps_then_eval_match_torch(cls_name, shape, kwargs):
    e, t = _pair(cls_name, 3, **kwargs)
    assert repr(e) == repr(t)
    for seed in range(3):
        _step(e, t, shape, seed)
        _compare_state(e, t)
    if e.weight is not None:
        np.testing.assert_allclose(e.weight.grad.numpy(), t.weight.grad.numpy(), rtol=1e-4,
                                   atol=1e-4)
        np.testing.assert_allclose(e.bias.grad.numpy(), t.bias.grad.numpy(), rtol=1e-4,
                                   atol=1e-4)
    e.eval()
    t.eval()
    assert not e.training
    _step(e, t, shape, 10)
    _compare_state(e, t)  # eval leaves the running statistics alone
    e.train()
    t.train()
    _step(e, t, shape, 11)
    _compare_state(e, t)


def test_buffers_and_state_dict_layout():
    e, t = nn.BatchNorm2d(5), torch.nn.BatchNorm2d(5)
    assert list(e.state_dict()) == list(t.state_dict()) == [
        "weight", "bias", "running_mean", "running_var", "num_batches_tracked"]
    assert [n for n, _ in e.named_buffers()] == [n for n, _ in t.named_buffers()]
    assert e.num_batches_tracked.dtype == ember.int64 and e.num_batches_tracked.ndim == 0
    assert e.running_mean.dtype == ember.float32
    assert [n for n, _ in e.named_parameters()] == ["weight", "bias"]
    e2 = nn.BatchNorm2d(5, track_running_stats=False)
    assert e2.running_mean is None and e2.num_batches_tracked is None
    assert list(e2.state_dict()) == ["weight", "bias"]
    e3 = nn.BatchNorm2d(5, affine=False)
    assert e3.weight is None and list(e3.parameters()) == []
    assert nn.BatchNorm2d(5, dtype=ember.float64).running_var.dtype == ember.float64


@pytest.mark.parametrize("kwargs", CONFIGS + [dict(eps=0.001, momentum=0.01)])
def test_reprs(kwargs):
    for cls_name in ("BatchNorm1d", "BatchNorm2d", "BatchNorm3d"):
        assert repr(getattr(nn, cls_name)(7, **kwargs)) == \
            repr(getattr(torch.nn, cls_name)(7, **kwargs))


def test_momentum_none_is_a_cumulative_average():
    e = nn.BatchNorm1d(2, momentum=None)
    batches = [np.random.default_rng(i).standard_normal((6, 2)).astype(np.float32)
               for i in range(4)]
    for b in batches:
        e(ember.tensor(b))
    assert int(e.num_batches_tracked) == 4
    np.testing.assert_allclose(e.running_mean.numpy(),
                               np.mean([b.mean(0) for b in batches], axis=0), rtol=1e-5,
                               atol=1e-6)
    np.testing.assert_allclose(e.running_var.numpy(),
                               np.mean([b.var(0, ddof=1) for b in batches], axis=0), rtol=1e-5)


def test_reset_running_stats_and_parameters():
    e = nn.BatchNorm2d(3)
    e(ember.randn(2, 3, 4, 4))
    assert int(e.num_batches_tracked) == 1
    e.reset_running_stats()
    assert int(e.num_batches_tracked) == 0
    assert e.running_mean.numpy().tolist() == [0, 0, 0]
    assert e.running_var.numpy().tolist() == [1, 1, 1]


def test_no_grad_forward_still_updates_running_stats():
    e, t = _pair("BatchNorm2d", 3)
    x = np.random.default_rng(0).standard_normal((2, 3, 4, 4)).astype(np.float32)
    with ember.no_grad():
        e(ember.tensor(x))
    with torch.no_grad():
        t(torch.tensor(x))
    _compare_state(e, t)


def test_load_torch_state_dict_and_old_checkpoints():
    t = torch.nn.BatchNorm2d(3)
    t(torch.randn(4, 3, 2, 2))
    e = nn.BatchNorm2d(3)
    e.load_state_dict({k: ember.tensor(v.numpy()) for k, v in t.state_dict().items()})
    _compare_state(e, t)
    # Checkpoints from version 1 lack num_batches_tracked: it is filled in, as in torch.
    old = OrderedDict((k, ember.tensor(v.numpy())) for k, v in t.state_dict().items()
                      if k != "num_batches_tracked")
    old._metadata = OrderedDict({"": {"version": 1}})
    result = nn.BatchNorm2d(3).load_state_dict(old)
    assert result.missing_keys == [] and result.unexpected_keys == []
    # from a version-2 checkpoint a missing key is an error
    current = OrderedDict(old)
    current._metadata = OrderedDict({"": {"version": 2}})
    with pytest.raises(RuntimeError, match='Missing key.*"num_batches_tracked"'):
        nn.BatchNorm2d(3).load_state_dict(current)




@pytest.mark.parametrize("cls_name,shape", [
    ("BatchNorm2d", (2, 3)), ("BatchNorm2d", (2, 3, 4)), ("BatchNorm1d", (2, 3, 4, 5)),
    ("BatchNorm1d", (3,)), ("BatchNorm3d", (2, 3, 4, 4)),
    ("BatchNorm1d", (1, 3)),            # one value per channel in training
    ("BatchNorm2d", (2, 4, 3, 3)),      # wrong number of channels
])
def test_input_errors(cls_name, shape):
    e, t = getattr(nn, cls_name)(3), getattr(torch.nn, cls_name)(3)
    x = np.ones(shape, np.float32)
    _same_error(lambda: e(ember.tensor(x)), lambda: t(torch.tensor(x)))


def test_eval_without_running_stats_uses_batch_statistics():
    e, t = _pair("BatchNorm2d", 3, track_running_stats=False)
    e.eval()
    t.eval()
    _step(e, t, (3, 3, 2, 2), 0)


def test_functional_running_stats_are_updated_in_place_as_torch_does():
    # PyTorch's kernel writes the running statistics without bumping their version
    x = np.random.default_rng(0).standard_normal((4, 3, 5, 5)).astype(np.float32)
    stats = {}
    for lib in (ember, torch):
        rm, rv = lib.zeros(3), lib.ones(3)
        view = rm[1:]
        lib.nn.functional.batch_norm(lib.tensor(x), rm, rv, training=True, momentum=0.25)
        stats[lib.__name__] = (rm.numpy().copy(), rv.numpy().copy(), view.numpy().copy(),
                               rm._version, rv._version)
    ours, ref = stats["ember"], stats["torch"]
    for a, r in zip(ours[:3], ref[:3]):
        np.testing.assert_allclose(a, r, rtol=1e-6, atol=1e-7)
    assert ours[3:] == ref[3:]


@pytest.mark.parametrize("shape", [(8, 4, 6, 6), (16, 5, 1, 1), (3, 6)])
def test_train_gradients_of_an_offset_input_match_torch(shape):
    # statistics and gradients from per-channel sums: an input far from zero mean must not
    # lose the gradient to cancellation
    rng = np.random.default_rng(1)
    x = (rng.standard_normal(shape) * 0.5 + 40.0).astype(np.float32)
    g = rng.standard_normal(shape).astype(np.float32)
    w = rng.uniform(0.5, 1.5, shape[1]).astype(np.float32)
    b = rng.standard_normal(shape[1]).astype(np.float32)
    grads = {}
    for lib in (ember, torch):
        xt, wt, bt = (lib.tensor(a, requires_grad=True) for a in (x, w, b))
        rm, rv = lib.zeros(shape[1]), lib.ones(shape[1])
        out = lib.nn.functional.batch_norm(xt, rm, rv, wt, bt, training=True)
        out.backward(lib.tensor(g))
        grads[lib.__name__] = [out.detach().numpy(), xt.grad.numpy(), wt.grad.numpy(),
                               bt.grad.numpy(), rm.numpy(), rv.numpy()]
    for a, r in zip(grads["ember"], grads["torch"]):
        np.testing.assert_allclose(a, r, rtol=2e-4, atol=2e-4 * max(1.0, np.abs(r).max()))
