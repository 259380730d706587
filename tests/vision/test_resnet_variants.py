"""Every ResNet ember ships, and ``ResNet``'s options, against torchvision's ResNet written
in torch (``tests/vision/torch_resnet.py``): structure, printed form, state-dict keys and
shapes, initialisation, dilation, groups, the norm layer, forward values and the errors."""

from __future__ import annotations

from functools import partial

import numpy as np
import pytest
import torch
from torch import nn as tnn

import ember
from ember import nn
from ember.vision import models
from tests.vision import torch_resnet as R


def _keys_and_shapes(sd):
    return [(k, tuple(v.shape)) for k, v in sd.items()]


@pytest.mark.parametrize("name", list(R.BUILDERS))
def test_every_builder_matches_torchvision(name, monkeypatch):
    # structure only: the random draws of the initialisation are skipped (tested below)
    monkeypatch.setattr(nn.init, "kaiming_normal_", lambda tensor, **kwargs: tensor)
    monkeypatch.setattr(nn.Conv2d, "reset_parameters", lambda self: None)
    monkeypatch.setattr(nn.Linear, "reset_parameters", lambda self: None)
    model = getattr(models, name)()
    with torch.device("meta"):
        ref = R.build(name)
    assert repr(model) == repr(ref)
    assert _keys_and_shapes(model.state_dict()) == _keys_and_shapes(ref.state_dict())
    weights = models.get_model_weights(name)
    n_params = sum(p.numel() for p in ref.parameters())
    assert sum(p.numel() for p in model.parameters()) == n_params
    for member in weights:  # every published checkpoint is of this shape
        assert member.meta["num_params"] == n_params
        assert len(member.meta["categories"]) == 1000
    assert models.get_model(name).__class__ is models.ResNet
    assert models.list_models(include=name) == [name]


def _load_torch_weights(model, ref):
    model.load_state_dict({k: ember.tensor(v.detach().numpy())
                           for k, v in ref.state_dict().items()})


def _close(e, t, what=""):
    """Within 1e-4 of the largest magnitude (float32 sums in a different order)."""
    e = torch.from_numpy(e.numpy())
    torch.testing.assert_close(e, t, rtol=0, atol=1e-4 * max(t.abs().max().item(), 1e-3),
                               msg=what)


@pytest.mark.parametrize("name,kwargs", [
    ("resnet18", {"zero_init_residual": True, "num_classes": 7}),
    ("resnet50", {"zero_init_residual": True, "norm_layer": "eps"}),
    ("resnet50", {"replace_stride_with_dilation": (True, False, True), "num_classes": 3}),
    ("resnext50_32x4d", {"replace_stride_with_dilation": [False, True, True]}),
])
def test_options_structure_init_and_forward(name, kwargs):
    def norm(lib):
        return partial(lib.BatchNorm2d, eps=1e-3, momentum=0.3)

    e_kwargs = {k: norm(nn) if v == "eps" else v for k, v in kwargs.items()}
    t_kwargs = {k: norm(tnn) if v == "eps" else v for k, v in kwargs.items()}
    model, ref = getattr(models, name)(**e_kwargs), R.build(name, **t_kwargs)
    assert repr(model) == repr(ref)
    assert _keys_and_shapes(model.state_dict()) == _keys_and_shapes(ref.state_dict())
    for (k, v), (_, w) in zip(model.state_dict().items(), ref.state_dict().items()):
        if "bn" in k or "downsample.1" in k:  # deterministic: ones, zeros (zero_init_residual)
            np.testing.assert_array_equal(v.numpy(), w.numpy(), err_msg=k)
    assert [getattr(m, "dilation", None) for m in model.modules()] == \
        [getattr(m, "dilation", None) for m in ref.modules()]
    _load_torch_weights(model, ref)
    x = np.random.default_rng(0).standard_normal((2, 3, 24, 20)).astype(np.float32)
    for train in (False, True):
        model.train(train)
        ref.train(train)
        with ember.no_grad():
            ye = model(ember.tensor(x))
        with torch.no_grad():
            yt = ref(torch.tensor(x))
        _close(ye, yt, f"output, train={train}")
    for (k, v), (_, w) in zip(model.state_dict().items(), ref.state_dict().items()):
        _close(v, w, k)  # the running statistics after the train step


def test_resnet_class_with_a_norm_layer_of_ones_own():
    class Scale(nn.Module):
        def __init__(self, c):
            super().__init__()
            self.weight = nn.Parameter(ember.ones(c))

        def forward(self, x):
            return x * self.weight.view(-1, 1, 1)

    class TScale(tnn.Module):
        def __init__(self, c):
            super().__init__()
            self.weight = tnn.Parameter(torch.ones(c))

        def forward(self, x):
            return x * self.weight.view(-1, 1, 1)

    model = models.ResNet(models.BasicBlock, [1, 1, 1, 1], num_classes=5, norm_layer=Scale,
                          zero_init_residual=True)
    ref = R.ResNet([1, 1, 1, 1], num_classes=5, norm_layer=TScale, zero_init_residual=True)
    assert _keys_and_shapes(model.state_dict()) == _keys_and_shapes(ref.state_dict())
    for (k, v), (_, w) in zip(model.state_dict().items(), ref.state_dict().items()):
        if "bn" in k:  # not a BatchNorm2d: left alone by the init, but zero_init_residual
            np.testing.assert_array_equal(v.numpy(), w.numpy(), err_msg=k)


def _error(fn):
    with pytest.raises(Exception) as info:
        fn()
    return type(info.value), str(info.value)


@pytest.mark.parametrize("build", [
    lambda lib, B: lib.ResNet(B.Bottleneck, [1, 1, 1, 1], replace_stride_with_dilation=[True]),
    lambda lib, B: lib.ResNet(B.Bottleneck, [1, 1, 1, 1],
                              replace_stride_with_dilation=(False, False, False, False)),
    lambda lib, B: lib.ResNet(B.BasicBlock, [1, 1, 1, 1],
                              replace_stride_with_dilation=[False, True, False]),
    lambda lib, B: lib.ResNet(B.BasicBlock, [1, 1, 1, 1], groups=2),
    lambda lib, B: lib.ResNet(B.BasicBlock, [1, 1, 1, 1], width_per_group=32),
    lambda lib, B: lib.BasicBlock(8, 8, dilation=2),
    lambda lib, B: lib.BasicBlock(8, 8, base_width=128),
])
def test_argument_errors(build):
    class TorchLib:  # the stand-in with ResNet(block, layers, ...)'s signature
        ResNet = staticmethod(lambda block, layers, **kw: R.ResNet(layers, block=block, **kw))
        BasicBlock, Bottleneck = R.BasicBlock, R.Bottleneck

    assert _error(lambda: build(models, models)) == _error(lambda: build(TorchLib, R))


def test_builders_refuse_fixed_arguments_and_bad_weights():
    with pytest.raises(ValueError, match="The parameter 'groups' expected value 32 but got 4 "
                                         "instead."):
        models.resnext50_32x4d(groups=4)
    with pytest.raises(ValueError, match="The parameter 'width_per_group' expected value 128 "
                                         "but got 64 instead."):
        models.wide_resnet50_2(width_per_group=64)
    m = models.resnext50_32x4d(groups=32, num_classes=3)  # the same value is accepted
    assert m.groups == 32 and m.fc.out_features == 3
    with pytest.raises(ValueError, match="Unknown model resnet0"):
        models.get_model("resnet0")
    with pytest.raises(ValueError, match="Invalid weight name provided: 'ResNet50_Weights'."):
        models.get_weight("ResNet50_Weights")
    with pytest.raises(ValueError, match="The weight enum 'Foo' for the specific method "
                                         "couldn't be retrieved."):
        models.get_weight("Foo.DEFAULT")


def test_weights_survive_deepcopy_and_pickle():
    # torchvision compares ``Weights`` by what their ``transforms`` partial binds, so that an
    # enum member found again by value (deepcopy, unpickling) is the same member
    import copy
    import pickle

    for member in models.ResNet50_Weights:
        assert pickle.loads(pickle.dumps(member)) is member
        assert copy.deepcopy(member) is member
        assert copy.deepcopy(member.value) == member.value
    assert models.ResNet50_Weights.IMAGENET1K_V1 != models.ResNet50_Weights.IMAGENET1K_V2
