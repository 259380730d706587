"""``ember.vision.transforms`` against torchvision's behaviour, written in torch in
``tests/vision/torch_transforms.py``: PIL images of every mode, ndarrays of every dtype and
layout, normalization and its errors, resizing, center crops, the dtype conversion, the
``ImageClassification`` preset and the printed forms."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st
from PIL import Image

import ember
import ember.vision.transforms as T
import ember.vision.transforms.functional as F
from ember.vision.models import ResNet18_Weights, ResNet50_Weights
from tests.vision import torch_transforms as R


def _same(e, t):
    """Same dtype, shape, values and (over dims longer than 1, of non-empty tensors)
    strides. (The strides torch gives size-1 dims after a dtype conversion, and all dims of
    an empty array in ``from_numpy``, are ember's tensor core's to match.)"""
    assert str(e.dtype).split(".")[1] == str(t.dtype).split(".")[1]
    assert tuple(e.shape) == tuple(t.shape)
    np.testing.assert_array_equal(e.numpy(), t.numpy())
    assert t.numel() == 0 or [s for s, n in zip(e.stride(), e.shape) if n > 1] == \
        [s for s, n in zip(t.stride(), t.shape) if n > 1]


def _outcome(fn, *args, **kwargs):
    try:
        return fn(*args, **kwargs)
    except Exception as exc:  # noqa: BLE001 - compared with ember's
        return exc


def _same_outcome(e, t):
    if isinstance(t, Exception) or isinstance(e, Exception):
        assert type(e) is type(t), (e, t)
        assert str(e).replace("ember.", "torch.") == str(t), (e, t)
    else:
        _same(e, t)


_RGB = np.random.default_rng(0).integers(0, 256, (5, 7, 3), dtype=np.uint8)
# every mode Pillow converts to from RGB; "I;16" from 16-bit data
PIL_MODES = ["1", "L", "LA", "La", "P", "PA", "I", "F", "RGB", "RGBA", "RGBa", "RGBX", "CMYK",
             "YCbCr", "HSV", "LAB"]


def _pil(mode):
    if mode.startswith("I;16"):
        data = np.random.default_rng(1).integers(0, 65536, (5, 7), dtype=np.uint16)
        return Image.fromarray(data).convert(mode) if mode == "I;16" else \
            Image.frombytes(mode, (7, 5), data.astype(">u2" if mode == "I;16B" else "<u2")
                            .tobytes())
    return Image.fromarray(_RGB).convert(mode)


@pytest.mark.parametrize("mode", PIL_MODES + ["I;16", "I;16B", "I;16L"])
def test_to_tensor_of_every_pil_mode(mode):
    img = _pil(mode)
    _same(F.to_tensor(img), R.to_tensor(img))
    _same(T.ToTensor()(img), R.to_tensor(img))


# "I;16" images are uint16 arrays, a dtype ember does not have.
@pytest.mark.parametrize("mode", PIL_MODES)
def test_pil_to_tensor_of_every_pil_mode(mode):
    img = _pil(mode)
    e, t = F.pil_to_tensor(img), R.pil_to_tensor(img)
    _same(e, t)
    assert e.is_contiguous() == t.is_contiguous()
    _same(T.PILToTensor()(img), t)


def test_to_tensor_follows_the_default_dtype():
    img = _pil("RGB")
    ember.set_default_dtype(ember.float64)
    torch.set_default_dtype(torch.float64)
    try:
        _same(F.to_tensor(img), R.to_tensor(img))
        _same(F.to_tensor(_RGB), R.to_tensor(_RGB))
    finally:
        torch.set_default_dtype(torch.float32)


_DTYPES = [np.uint8, np.int8, np.int16, np.int32, np.int64, np.float16, np.float32, np.float64,
           np.bool_]


@settings(deadline=None, max_examples=60)
@given(dtype=st.sampled_from(_DTYPES),
       shape=st.lists(st.integers(0, 4), min_size=2, max_size=3),
       layout=st.sampled_from(["C", "F", "flipped", "sliced"]), seed=st.integers(0, 2**16))
def test_to_tensor_of_ndarrays(dtype, shape, layout, seed):
    a = (np.random.default_rng(seed).random(shape) * 300).astype(dtype)
    if layout == "F":
        a = np.asfortranarray(a)
    elif layout == "flipped":
        a = a[::-1]
    elif layout == "sliced":
        a = np.repeat(a, 2, axis=-1)[..., ::2]
    e, t = _outcome(F.to_tensor, a), _outcome(R.to_tensor, a)
    _same_outcome(e, t)
    if not isinstance(t, Exception) and dtype is not np.uint8:  # shares memory as torch's
        assert np.shares_memory(e.numpy(), a) == np.shares_memory(t.numpy(), a)


@pytest.mark.parametrize("pic", [[1, 2], np.zeros(3, np.uint8), np.zeros((1, 2, 3, 4)),
                                 torch.zeros(3, 2, 2)])
def test_to_tensor_errors(pic):
    _same_outcome(_outcome(F.to_tensor, pic), _outcome(R.to_tensor, pic))


def test_pil_to_tensor_errors():
    with pytest.raises(TypeError, match="pic should be PIL Image. Got <class 'numpy.ndarray'>"):
        F.pil_to_tensor(_RGB)


@settings(deadline=None, max_examples=80)
@given(shape=st.lists(st.integers(1, 3), min_size=0, max_size=5),
       dtype=st.sampled_from(["float32", "float64", "int64", "uint8"]),
       n_mean=st.integers(0, 4), n_std=st.integers(0, 4), zero_std=st.booleans(),
       form=st.sampled_from([list, tuple, "scalar"]), inplace=st.booleans(),
       seed=st.integers(0, 2**16))
def test_normalize(shape, dtype, n_mean, n_std, zero_std, form, inplace, seed):
    rng = np.random.default_rng(seed)
    x = (rng.random(shape) * 4).astype(dtype)
    mean, std = list(rng.random(n_mean)), list(rng.random(n_std) + 0.5)
    if zero_std and std:
        std[-1] = 0.0
    if form == "scalar":
        mean, std = (mean[0] if mean else 0.5), (std[0] if std else 0.0 if zero_std else 2.0)
    else:
        mean, std = form(mean), form(std)
    xe, xt = ember.tensor(x), torch.tensor(x)
    e = _outcome(F.normalize, xe, mean, std, inplace)
    t = _outcome(R.normalize, xt, mean, std, inplace)
    if isinstance(t, Exception):
        assert type(e) is type(t), (e, t)
        if not isinstance(t, RuntimeError):  # torch's broadcasting messages: checked elsewhere
            assert str(e).replace("ember.", "torch.") == str(t)
        return
    torch.testing.assert_close(torch.from_numpy(e.numpy()), t)
    assert e.dtype.name == str(t.dtype).split(".")[1]
    np.testing.assert_allclose(xe.numpy(), xt.numpy(), rtol=1e-6)  # in place or untouched
    m = T.Normalize(mean, std, inplace)
    torch.testing.assert_close(torch.from_numpy(m(ember.tensor(x)).numpy()), t)


def test_normalize_errors_and_class():
    with pytest.raises(TypeError, match="img should be Tensor Image. Got <class 'numpy.ndarray'>"):
        F.normalize(np.zeros((1, 2, 2)), [0.5], [0.5])
    with pytest.raises(TypeError, match="Tensor is not a torch image."):
        F.normalize(ember.zeros(3), [0.5], [0.5])
    with pytest.raises(RuntimeError) as te:
        R.normalize(torch.zeros(1, 2, 2), [0.5] * 3, [0.5] * 3)
    with pytest.raises(RuntimeError) as ee:
        F.normalize(ember.zeros(1, 2, 2), [0.5] * 3, [0.5] * 3)
    assert str(ee.value) == str(te.value)
    n = T.Normalize((0.5, 0.25), [0.5, 1.0])
    assert isinstance(n, ember.nn.Module) and list(n.state_dict()) == []
    assert repr(n) == "Normalize(mean=(0.5, 0.25), std=[0.5, 1.0])"


@pytest.mark.parametrize("src,dst", [
    ("uint8", "float32"), ("uint8", "float64"), ("int16", "float32"), ("int64", "float64"),
    ("float32", "uint8"), ("float64", "int16"), ("float32", "float64"), ("uint8", "int32"),
    ("int32", "uint8"), ("int16", "int8"), ("uint8", "uint8"), ("float32", "int32"),
    ("float64", "int64"), ("float32", "int64"), ("float64", "int32"), ("bool", "float32"),
])
def test_convert_image_dtype(src, dst):
    rng = np.random.default_rng(0)
    x = rng.random((2, 3, 4)) if src.startswith("float") else \
        rng.integers(0, 2 if src == "bool" else 127, (2, 3, 4))
    x = x.astype(src)
    e = _outcome(F.convert_image_dtype, ember.tensor(x), getattr(ember, dst))
    t = _outcome(R.convert_image_dtype, torch.tensor(x), getattr(torch, dst))
    _same_outcome(e, t)
    if not isinstance(t, Exception):
        _same(T.ConvertImageDtype(getattr(ember, dst))(ember.tensor(x)), t)


@pytest.mark.parametrize("size,w,h", [(4, 7, 5), (4, 5, 7), ([3], 6, 6), ((3, 5), 7, 5),
                                      ([2, 9], 4, 4), (5, 7, 5), (6, 9, 3)])
@pytest.mark.parametrize("interpolation", ["nearest", "bilinear", "bicubic", "lanczos"])
def test_resize_pil(size, w, h, interpolation):
    img = Image.fromarray(np.random.default_rng(0).integers(0, 256, (h, w, 3), dtype=np.uint8))
    mode = T.InterpolationMode(interpolation)
    expected = np.asarray(R.resize(img, size, interpolation))
    np.testing.assert_array_equal(np.asarray(F.resize(img, size, mode)), expected)
    np.testing.assert_array_equal(np.asarray(T.Resize(size, mode)(img)), expected)
    pil_int = R.PIL_MODES[interpolation]  # Pillow's integer constants are accepted
    np.testing.assert_array_equal(np.asarray(T.Resize(size, pil_int)(img)), expected)


@settings(deadline=None, max_examples=60)
@given(shape=st.sampled_from([(5, 7), (2, 9, 4), (2, 3, 16, 6), (1, 1, 1)]),
       size=st.one_of(st.integers(1, 12), st.lists(st.integers(1, 12), min_size=1, max_size=2)),
       mode=st.sampled_from(["nearest", "nearest-exact", "bilinear", "bicubic"]),
       antialias=st.sampled_from([True, False, None]),
       dtype=st.sampled_from(["float32", "float64", "uint8"]), seed=st.integers(0, 2**16))
def test_resize_tensor(shape, size, mode, antialias, dtype, seed):
    x = np.random.default_rng(seed).random(shape) * (255 if dtype == "uint8" else 1)
    x = x.astype(dtype)
    interpolation = T.InterpolationMode(mode)
    e = _outcome(F.resize, ember.tensor(x), size, interpolation, antialias=antialias)
    t = _outcome(R.resize, torch.tensor(x), size, mode, antialias=antialias)
    if isinstance(t, Exception):
        assert type(e) is type(t) and str(e) == str(t)
        return
    if (antialias and mode in ("bilinear", "bicubic") and t.shape[-1] == 1
            and x.shape[-1] > 1):
        # torch 2.13's CPU antialiased kernel repeats the first row when shrinking to one
        # column (Pillow does not); torch shrinking the transposed image to one row is right
        flipped = torch.tensor(x).transpose(-1, -2)
        t = R.resize(flipped, list(t.shape[-1:-3:-1]), mode, antialias=antialias)
        t = t.transpose(-1, -2)
    assert e.dtype.name == dtype and tuple(e.shape) == tuple(t.shape)
    if dtype == "uint8":  # rounding of the float result may differ by one level
        assert np.abs(e.numpy().astype(int) - t.numpy().astype(int)).max() <= 1
    else:
        torch.testing.assert_close(torch.from_numpy(e.numpy()), t)
    if dtype == "float64":  # differentiable, as interpolate is
        xe, xt = ember.tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
        F.resize(xe, size, interpolation, antialias=antialias).sum().backward()
        R.resize(xt, size, mode, antialias=antialias).sum().backward()
        torch.testing.assert_close(torch.from_numpy(xe.grad.numpy()), xt.grad)


@pytest.mark.parametrize("mode", ["box", "hamming", "lanczos"])
def test_resize_tensor_modes_interpolate_lacks(mode):
    for x in (np.zeros((3, 4, 4), np.float32), np.zeros((4, 4), np.float32)):
        e = _outcome(F.resize, ember.tensor(x), 2, T.InterpolationMode(mode))
        t = _outcome(R.resize, torch.tensor(x), 2, mode)
        assert type(e) is type(t) and str(e) == str(t)


def test_resize_max_size_and_unchanged_images():
    img = Image.new("RGB", (40, 10))
    assert F.resize(img, 8, max_size=20).size == R.resize(img, 8, max_size=20).size == (20, 5)
    assert F.resize(img, [8], max_size=40).size == R.resize(img, [8], max_size=40).size
    assert F.resize(img, 10) is img  # already the size: the same image, as torchvision
    x = ember.zeros(3, 10, 40)
    assert F.resize(x, 10) is x and T.Resize([10, 40])(x) is x
    with pytest.raises(ValueError, match=r"max_size = 8 must be strictly greater than the "
                                         r"requested size for the smaller edge size = \[8\]"):
        F.resize(img, 8, max_size=8)
    with pytest.warns(UserWarning, match="Anti-alias option is always applied for PIL Image"):
        F.resize(img, 5, antialias=False)


@pytest.mark.parametrize("call,exc,phrase", [
    (lambda: T.Resize("abc"), ValueError, "If size is a sequence, it should have 1 or 2 values"),
    (lambda: T.Resize(2.5), TypeError, "Size should be int or sequence. Got <class 'float'>"),
    (lambda: T.Resize([1, 2, 3]), ValueError, "If size is a sequence, it should have 1 or 2"),
    (lambda: F.resize(Image.new("L", (4, 4)), [1, 2, 3]), ValueError,
     "Size must be an int or a 1 or 2 element tuple/list, not a 3 element tuple/list"),
    (lambda: F.resize(Image.new("L", (4, 4)), [2, 3], max_size=5), ValueError,
     "max_size should only be passed if size specifies the length of the smaller edge"),
    (lambda: F.resize(Image.new("L", (4, 4)), 2, "bilinear"), TypeError,
     "Argument interpolation should be a InterpolationMode or a corresponding Pillow integer"),
    (lambda: F.resize([[0]], 2), TypeError, "Unexpected type <class 'list'>"),
    (lambda: T.CenterCrop([1, 2, 3]), ValueError,
     "Please provide only two dimensions (h, w) for size."),
])
def test_resize_and_crop_argument_errors(call, exc, phrase):
    with pytest.raises(exc) as info:
        call()
    assert phrase in str(info.value)


def test_reprs():
    # torchvision's __repr__ formats, filled with the arguments
    assert repr(T.Resize(4)) == \
        "Resize(size=4, interpolation=bilinear, max_size=None, antialias=True)"
    assert repr(T.Resize([3, 5], T.InterpolationMode.NEAREST_EXACT, antialias=None)) == \
        "Resize(size=[3, 5], interpolation=nearest-exact, max_size=None, antialias=None)"
    assert repr(T.Resize(3, 3, max_size=9)) == \
        "Resize(size=3, interpolation=bicubic, max_size=9, antialias=True)"
    for size, shown in [(5, (5, 5)), (5.7, (5, 5)), ([5], (5, 5)), ((4, 6), (4, 6)),
                        ([4, 6], [4, 6])]:
        assert repr(T.CenterCrop(size)) == f"CenterCrop(size={shown})"
    c = T.Compose([T.CenterCrop(10), T.Compose([T.ToTensor(), T.Lambda(abs)]),
                   T.Normalize([0.5], [0.5])])
    assert repr(c) == ("Compose(\n    CenterCrop(size=(10, 10))\n    Compose(\n    ToTensor()\n"
                       "    Lambda()\n)\n    Normalize(mean=[0.5], std=[0.5])\n)")
    assert all(isinstance(m, ember.nn.Module)
               for m in (T.Resize(3), T.CenterCrop(3), T.ConvertImageDtype(ember.float32)))


@pytest.mark.parametrize("size", [3, [4], (2, 5), (7, 4), (6, 9), (8, 8), (5, 12), 1])
@pytest.mark.parametrize("mode", ["L", "RGB", "RGBA", "P", "F"])
def test_center_crop_pil(size, mode):
    img = Image.fromarray(_RGB).convert(mode)  # 7 wide, 5 high
    expected = np.asarray(R.center_crop(img, size))
    got = F.center_crop(img, size)
    assert got.mode == mode
    np.testing.assert_array_equal(np.asarray(got), expected)
    np.testing.assert_array_equal(np.asarray(T.CenterCrop(size)(img)), expected)


@settings(deadline=None, max_examples=40)
@given(h=st.integers(1, 6), w=st.integers(1, 6), ch=st.integers(1, 9), cw=st.integers(1, 9),
       lead=st.lists(st.integers(1, 2), max_size=2), seed=st.integers(0, 2**16))
def test_center_crop_tensor(h, w, ch, cw, lead, seed):
    x = np.random.default_rng(seed).random((*lead, h, w)).astype(np.float32)
    xe = ember.tensor(x, requires_grad=True)
    xt = torch.tensor(x, requires_grad=True)
    e, t = F.center_crop(xe, [ch, cw]), R.center_crop(xt, [ch, cw])
    np.testing.assert_array_equal(e.detach().numpy(), t.detach().numpy())
    g = np.random.default_rng(seed + 1).random(tuple(t.shape)).astype(np.float32)
    e.backward(ember.tensor(g))
    t.backward(torch.tensor(g))
    np.testing.assert_array_equal(xe.grad.numpy(), xt.grad.numpy())


@pytest.mark.parametrize("weights", [ResNet18_Weights.IMAGENET1K_V1,
                                     ResNet50_Weights.IMAGENET1K_V2])
def test_image_classification_preset(weights):
    preset = weights.transforms()
    crop, resize = (224, 256) if weights is ResNet18_Weights.IMAGENET1K_V1 else (224, 232)
    assert isinstance(preset, ember.nn.Module)
    assert repr(preset) == (
        f"ImageClassification(\n    crop_size=[{crop}]\n    resize_size=[{resize}]\n"
        "    mean=[0.485, 0.456, 0.406]\n    std=[0.229, 0.224, 0.225]\n"
        "    interpolation=InterpolationMode.BILINEAR\n)")
    rng = np.random.default_rng(0)
    img = Image.fromarray(rng.integers(0, 256, (300, 400, 3), dtype=np.uint8))
    torch.testing.assert_close(torch.from_numpy(preset(img).numpy()),
                               R.image_classification(img, crop, resize))
    # tensors are resized (or not, at the size already), cropped, converted and normalized
    for x in (rng.integers(0, 256, (2, 3, resize, 300), dtype=np.uint8),
              rng.random((3, 260, resize)).astype(np.float64),
              rng.random((3, 40, 30)).astype(np.float32)):
        e, t = preset(ember.tensor(x)), R.image_classification(torch.tensor(x), crop, resize)
        assert e.dtype == ember.float32 and tuple(e.shape) == tuple(t.shape)
        torch.testing.assert_close(torch.from_numpy(e.numpy()), t, rtol=1e-4, atol=1e-4)
