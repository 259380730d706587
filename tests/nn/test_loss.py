"""Loss layers and the softmax layers against torch's modules: repr, buffers, values,
gradients, the deprecated ``size_average``/``reduce`` pair and the implicit-dim warning."""

from __future__ import annotations

import warnings

import numpy as np
import pytest
import torch

import ember
from ember import nn


def _pair(arr: np.ndarray, requires_grad: bool = False):
    return (ember.tensor(arr, requires_grad=requires_grad),
            torch.tensor(arr, requires_grad=requires_grad))


def _run(e, t, logits: np.ndarray, target: np.ndarray):
    """Both losses' values and their input gradients for a unit upstream gradient."""
    (xe, xt), (te, tt) = _pair(logits, True), _pair(target)
    le, lt = e(xe, te), t(xt, tt)
    np.testing.assert_allclose(le.detach().numpy(), lt.detach().numpy(), rtol=1e-5, atol=1e-6)
    le.sum().backward()
    lt.sum().backward()
    np.testing.assert_allclose(xe.grad.numpy(), xt.grad.numpy(), rtol=1e-5, atol=1e-6)
    assert type(le.grad_fn).__name__ == type(lt.grad_fn).__name__


WEIGHT = np.array([0.5, 1.0, 2.0, 1.5], dtype=np.float32)


@pytest.mark.parametrize("kwargs", [
    {}, dict(reduction="sum"), dict(reduction="none"), dict(ignore_index=2),
    dict(label_smoothing=0.1), dict(weight=WEIGHT), dict(weight=WEIGHT, reduction="none"),
])
def test_cross_entropy_loss(kwargs):
    rng = np.random.default_rng(0)
    logits = rng.standard_normal((5, 4)).astype(np.float32)
    target = rng.integers(0, 4, 5)
    ekw = {k: ember.tensor(v) if k == "weight" else v for k, v in kwargs.items()}
    tkw = {k: torch.tensor(v) if k == "weight" else v for k, v in kwargs.items()}
    e, t = nn.CrossEntropyLoss(**ekw), torch.nn.CrossEntropyLoss(**tkw)
    assert repr(e) == repr(t)
    assert list(e.state_dict()) == list(t.state_dict())
    assert [n for n, _ in e.named_buffers()] == [n for n, _ in t.named_buffers()]
    _run(e, t, logits, target)


def test_cross_entropy_loss_with_probabilities_and_images():
    rng = np.random.default_rng(1)
    logits = rng.standard_normal((2, 3, 4, 5)).astype(np.float32)
    _run(nn.CrossEntropyLoss(), torch.nn.CrossEntropyLoss(), logits, rng.integers(0, 3, (2, 4, 5)))
    probs = rng.uniform(size=(2, 3, 4, 5)).astype(np.float32)
    _run(nn.CrossEntropyLoss(), torch.nn.CrossEntropyLoss(), logits, probs)


@pytest.mark.parametrize("kwargs", [{}, dict(reduction="sum"), dict(weight=WEIGHT)])
def test_nll_loss(kwargs):
    rng = np.random.default_rng(2)
    logp = np.log(rng.dirichlet(np.ones(4), 6)).astype(np.float32)
    ekw = {k: ember.tensor(v) if k == "weight" else v for k, v in kwargs.items()}
    tkw = {k: torch.tensor(v) if k == "weight" else v for k, v in kwargs.items()}
    e, t = nn.NLLLoss(**ekw), torch.nn.NLLLoss(**tkw)
    assert repr(e) == repr(t)
    _run(e, t, logp, rng.integers(0, 4, 6))


@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
def test_mse_loss(reduction):
    rng = np.random.default_rng(3)
    e, t = nn.MSELoss(reduction=reduction), torch.nn.MSELoss(reduction=reduction)
    assert repr(e) == repr(t)
    _run(e, t, rng.standard_normal((3, 4)).astype(np.float32),
         rng.standard_normal((3, 4)).astype(np.float32))


def test_mse_loss_broadcast_warns_as_torch():
    (xe, xt), (te, tt) = _pair(np.ones((2, 1), np.float32)), _pair(np.zeros(3, np.float32))
    with pytest.warns(UserWarning, match="Using a target size") as we:
        le = ember.nn.functional.mse_loss(xe, te)
    with pytest.warns(UserWarning, match="Using a target size") as wt:
        lt = torch.nn.functional.mse_loss(xt, tt)
    assert str(we[0].message) == str(wt[0].message).replace("torch.", "ember.")
    assert le.item() == pytest.approx(lt.item())


@pytest.mark.parametrize("legacy", [dict(size_average=False), dict(reduce=False),
                                    dict(size_average=True, reduce=True)])
def test_deprecated_size_average_and_reduce(legacy):
    rng = np.random.default_rng(4)
    with pytest.warns(UserWarning) as we:
        e = nn.CrossEntropyLoss(**legacy)
    with pytest.warns(UserWarning) as wt:
        t = torch.nn.CrossEntropyLoss(**legacy)
    assert e.reduction == t.reduction
    assert [str(w.message) for w in we] == [str(w.message) for w in wt]
    _run(e, t, rng.standard_normal((3, 4)).astype(np.float32), rng.integers(0, 4, 3))


def test_bad_reduction_raises_as_torch():
    x, target = ember.zeros(2, 3), ember.tensor([0, 1])
    with pytest.raises(ValueError, match="foo is not a valid value for reduction"):
        nn.CrossEntropyLoss(reduction="foo")(x, target)
    with pytest.raises(ValueError, match="foo is not a valid value for reduction"):
        torch.nn.CrossEntropyLoss(reduction="foo")(torch.zeros(2, 3), torch.tensor([0, 1]))


@pytest.mark.parametrize("cls", ["Softmax", "LogSoftmax"])
@pytest.mark.parametrize("dim", [0, 1, -1])
def test_softmax_layers(cls, dim):
    x = np.random.default_rng(5).standard_normal((3, 4)).astype(np.float32)
    e, t = getattr(nn, cls)(dim=dim), getattr(torch.nn, cls)(dim=dim)
    assert repr(e) == repr(t)
    (xe, xt) = _pair(x, True)
    ye, yt = e(xe), t(xt)
    np.testing.assert_allclose(ye.detach().numpy(), yt.detach().numpy(), rtol=1e-5, atol=1e-6)
    g = np.random.default_rng(6).standard_normal((3, 4)).astype(np.float32)
    ye.backward(ember.tensor(g))
    yt.backward(torch.tensor(g))
    np.testing.assert_allclose(xe.grad.numpy(), xt.grad.numpy(), rtol=1e-5, atol=1e-6)
    assert type(ye.grad_fn).__name__ == type(yt.grad_fn).__name__


@pytest.mark.parametrize("shape", [(4,), (2, 3), (2, 3, 4), (2, 3, 4, 5)])
def test_softmax_implicit_dim_warns_and_picks_torchs_dim(shape):
    x = np.random.default_rng(7).standard_normal(shape).astype(np.float32)
    (xe, xt) = _pair(x)
    with warnings.catch_warnings(record=True) as we:
        warnings.simplefilter("always")
        ye = nn.Softmax()(xe)
    with warnings.catch_warnings(record=True) as wt:
        warnings.simplefilter("always")
        yt = torch.nn.Softmax()(xt)
    assert [str(w.message) for w in we] == [str(w.message) for w in wt]
    np.testing.assert_allclose(ye.numpy(), yt.numpy(), rtol=1e-5, atol=1e-6)


def test_cross_entropy_trains_a_linear_layer_as_torch():
    """A few SGD steps of Linear + CrossEntropyLoss give torch's losses and weights."""
    rng = np.random.default_rng(8)
    w = rng.standard_normal((3, 5)).astype(np.float32) * 0.1
    b = np.zeros(3, np.float32)
    x = rng.standard_normal((8, 5)).astype(np.float32)
    y = rng.integers(0, 3, 8)
    losses = {}
    for lib in (ember, torch):
        layer = lib.nn.Linear(5, 3)
        layer.load_state_dict({"weight": lib.tensor(w), "bias": lib.tensor(b)})
        opt = lib.optim.SGD(layer.parameters(), lr=0.5)
        loss_fn = lib.nn.CrossEntropyLoss()
        out = []
        for _ in range(5):
            loss = loss_fn(layer(lib.tensor(x)), lib.tensor(y))
            opt.zero_grad()
            loss.backward()
            opt.step()
            out.append(loss.item())
        losses[lib.__name__] = (out, layer.weight.detach().numpy())
    np.testing.assert_allclose(losses["ember"][0], losses["torch"][0], rtol=1e-5)
    np.testing.assert_allclose(losses["ember"][1], losses["torch"][1], rtol=1e-5, atol=1e-6)
