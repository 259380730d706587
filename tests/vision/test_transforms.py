"""``ember.vision.transforms``: torchvision's semantics, checked against NumPy/torch math."""

from __future__ import annotations

import numpy as np
import pytest
import torch

import ember
import ember.vision.transforms as transforms
from ember.vision.models import ResNet18_Weights


def test_to_tensor_uint8_hwc_is_scaled_chw():
    img = np.random.default_rng(0).integers(0, 256, (4, 5, 3), dtype=np.uint8)
    t = transforms.ToTensor()(img)
    assert t.shape == ember.Size([3, 4, 5]) and t.dtype == ember.float32
    np.testing.assert_allclose(t.numpy(), img.transpose(2, 0, 1) / 255.0, rtol=1e-6)
    gray = transforms.ToTensor()(img[:, :, 0])
    assert gray.shape == ember.Size([1, 4, 5])


def test_to_tensor_other_dtypes_are_not_scaled():
    img = np.random.default_rng(0).random((4, 5, 2))
    t = transforms.ToTensor()(img)
    assert t.dtype == ember.float64
    np.testing.assert_array_equal(t.numpy(), img.transpose(2, 0, 1))


def test_to_tensor_errors():
    with pytest.raises(TypeError, match="pic should be PIL Image or ndarray. Got <class 'list'>"):
        transforms.ToTensor()([1, 2])
    with pytest.raises(ValueError, match="pic should be 2/3 dimensional. Got 1 dimensions."):
        transforms.ToTensor()(np.zeros(3, np.uint8))


def test_normalize_matches_torch_math():
    x = np.random.default_rng(0).random((2, 3, 4, 4)).astype(np.float32)
    mean, std = (0.485, 0.456, 0.406), (0.229, 0.224, 0.225)
    out = transforms.Normalize(mean, std)(ember.tensor(x))
    expected = (torch.tensor(x) - torch.tensor(mean).view(-1, 1, 1)) / torch.tensor(std).view(
        -1, 1, 1)
    np.testing.assert_allclose(out.numpy(), expected.numpy(), rtol=1e-6)
    src = ember.tensor(x)
    transforms.Normalize(mean, std)(src)
    np.testing.assert_array_equal(src.numpy(), x)  # not in place by default
    transforms.Normalize(mean, std, inplace=True)(src)
    np.testing.assert_allclose(src.numpy(), expected.numpy(), rtol=1e-6)


def test_normalize_errors():
    with pytest.raises(TypeError, match="Input tensor should be a float tensor. Got "
                                        "ember.int64."):
        transforms.Normalize((0.5,), (0.5,))(ember.zeros(1, 2, 2, dtype=ember.int64))
    with pytest.raises(ValueError, match="std evaluated to zero"):
        transforms.Normalize((0.5,), (0.0,))(ember.zeros(1, 2, 2))
    with pytest.raises(ValueError, match="Expected tensor to be a tensor image of size"):
        transforms.Normalize((0.5,), (0.5,))(ember.zeros(2, 2))


def test_compose_and_reprs():
    t = transforms.Compose([transforms.ToTensor(), transforms.Normalize((0.5,), (0.5,))])
    assert repr(t) == "Compose(\n    ToTensor()\n    Normalize(mean=(0.5,), std=(0.5,))\n)"
    img = np.full((2, 2, 1), 255, np.uint8)
    np.testing.assert_allclose(t(img).numpy(), np.ones((1, 2, 2)))


def test_weights_transforms_preset_on_tensors():
    from tests.vision.torch_transforms import image_classification

    preset = ResNet18_Weights.DEFAULT.transforms()
    assert "crop_size=[224]" in repr(preset) and "resize_size=[256]" in repr(preset)
    x = ember.rand(3, 8, 8)  # resized to 256 x 256, then cropped, as torchvision does
    out = preset(x)
    expected = image_classification(torch.tensor(x.numpy()), crop_size=224)
    assert out.shape == ember.Size([3, 224, 224])
    np.testing.assert_allclose(out.numpy(), expected.numpy(), rtol=1e-5, atol=1e-5)


def test_pil_images_when_pillow_is_installed():
    Image = pytest.importorskip("PIL.Image")
    arr = np.random.default_rng(0).integers(0, 256, (6, 7, 3), dtype=np.uint8)
    t = transforms.ToTensor()(Image.fromarray(arr))
    np.testing.assert_allclose(t.numpy(), arr.transpose(2, 0, 1) / 255.0, rtol=1e-6)


def test_lambda():
    from ember.vision.transforms import Lambda

    t = Lambda(lambda y: y * 2)
    assert t(3) == 6 and repr(t) == "Lambda()"
    with pytest.raises(TypeError, match="Argument lambd should be callable, got 'int'"):
        Lambda(3)
