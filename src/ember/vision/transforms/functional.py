"""Functional image transforms (torchvision's ``transforms.functional``), on PIL images
(when Pillow is installed), NumPy ``H x W x C`` arrays and ember tensor images
``(..., C, H, W)``."""

from __future__ import annotations

import enum
import sys
import warnings
from collections.abc import Sequence
from numbers import Number
from typing import Any

import numpy as np

from ...creation import as_tensor, from_numpy, zeros
from ...dtype import float32, get_default_dtype
from ...tensor import Tensor

__all__ = ["InterpolationMode", "get_dimensions", "get_image_size", "get_image_num_channels",
           "to_tensor", "pil_to_tensor", "convert_image_dtype", "normalize", "resize", "crop",
           "center_crop"]


class InterpolationMode(enum.Enum):
    """Interpolation methods: ``nearest``, ``nearest-exact``, ``bilinear``, ``bicubic``,
    ``box``, ``hamming`` and ``lanczos``."""

    NEAREST = "nearest"
    NEAREST_EXACT = "nearest-exact"
    BILINEAR = "bilinear"
    BICUBIC = "bicubic"
    BOX = "box"
    HAMMING = "hamming"
    LANCZOS = "lanczos"


# Pillow's resampling constants for each mode, and back (Pillow's own integers are accepted).
pil_modes_mapping = {
    InterpolationMode.NEAREST: 0, InterpolationMode.BILINEAR: 2, InterpolationMode.BICUBIC: 3,
    InterpolationMode.NEAREST_EXACT: 0, InterpolationMode.BOX: 4,
    InterpolationMode.HAMMING: 5, InterpolationMode.LANCZOS: 1,
}
_PIL_INT_MODES = {0: InterpolationMode.NEAREST, 2: InterpolationMode.BILINEAR,
                  3: InterpolationMode.BICUBIC, 4: InterpolationMode.BOX,
                  5: InterpolationMode.HAMMING, 1: InterpolationMode.LANCZOS}


def _interpolation_modes_from_int(i: int) -> InterpolationMode:
    return _PIL_INT_MODES[i]


def _is_pil_image(img: Any) -> bool:
    try:
        from PIL import Image
    except ImportError:
        return False
    return isinstance(img, Image.Image)


def _assert_image_tensor(img: Tensor) -> None:
    if img.ndim < 2:
        raise TypeError("Tensor is not a torch image.")


def get_dimensions(img: Any) -> list[int]:
    """``[channels, height, width]`` of a PIL image or a tensor image ``(..., [C,] H, W)``."""
    if isinstance(img, Tensor):
        _assert_image_tensor(img)
        channels = 1 if img.ndim == 2 else img.shape[-3]
        return [channels, *img.shape[-2:]]
    if _is_pil_image(img):
        width, height = img.size
        return [len(img.getbands()), height, width]
    raise TypeError(f"Unexpected type {type(img)}")


def get_image_size(img: Any) -> list[int]:
    """``[width, height]`` of a PIL image or a tensor image."""
    _, height, width = get_dimensions(img)
    return [width, height]


def get_image_num_channels(img: Any) -> int:
    """The number of channels of a PIL image or a tensor image."""
    return get_dimensions(img)[0]


def to_tensor(pic: Any) -> Tensor:
    """Convert a PIL image or an ``H x W x C`` (or ``H x W``) ndarray to a ``C x H x W``
    tensor.

    ``uint8`` data (and the 8-bit PIL modes, and mode ``'1'`` as 0/255) is scaled from
    [0, 255] to [0.0, 1.0] in the default float dtype; PIL modes ``'I'``, ``'I;16'`` and
    ``'F'`` become int32, int16 and float32 tensors, and other ndarrays keep their dtype,
    without scaling.
    """
    if not (_is_pil_image(pic) or isinstance(pic, np.ndarray)):
        raise TypeError(f"pic should be PIL Image or ndarray. Got {type(pic)}")
    if isinstance(pic, np.ndarray):
        if pic.ndim not in {2, 3}:
            raise ValueError(f"pic should be 2/3 dimensional. Got {pic.ndim} dimensions.")
        if pic.ndim == 2:
            pic = pic[:, :, None]
        img = from_numpy(pic.transpose((2, 0, 1))).contiguous()
    else:
        i16 = "I;16" if sys.byteorder == "little" else "I;16B"
        np_type = {"I": np.int32, i16: np.int16, "F": np.float32}.get(pic.mode, np.uint8)
        img = from_numpy(np.array(pic, np_type, copy=True))
        if pic.mode == "1":
            img = 255 * img
        width, height = pic.size
        img = img.view(height, width, len(pic.getbands())).permute((2, 0, 1)).contiguous()
    if img.dtype.np == np.uint8:
        return img.to(dtype=get_default_dtype()).div(255)
    return img


def pil_to_tensor(pic: Any) -> Tensor:
    """Convert a PIL image to a ``C x H x W`` tensor of its own dtype (a copy), without
    scaling: a channels-last view, permuted."""
    if not _is_pil_image(pic):
        raise TypeError(f"pic should be PIL Image. Got {type(pic)}")
    img = from_numpy(np.array(pic, copy=True))
    width, height = pic.size
    return img.view(height, width, len(pic.getbands())).permute((2, 0, 1))


def _max_value(dtype: Any) -> int:
    return int(np.iinfo(dtype.np).max) if dtype.np.kind in "iu" else 1


def convert_image_dtype(image: Tensor, dtype: Any = float32) -> Tensor:
    """Convert a tensor image to ``dtype``, scaling the values: integers span [0, max of
    their dtype], floats [0.0, 1.0].

    Raises:
        RuntimeError: for float32 to int32/int64 and float64 to int64, which cannot be done
            safely.
    """
    if not isinstance(image, Tensor):
        raise TypeError("Input img should be Tensor Image")
    if image.dtype == dtype:
        return image
    if image.is_floating_point():
        if dtype.is_floating_point:
            return image.to(dtype)
        if (image.dtype == float32 and dtype.name in ("int32", "int64")) or (
                image.dtype.name == "float64" and dtype.name == "int64"):
            raise RuntimeError(f"The cast from {image.dtype} to {dtype} cannot be performed "
                               "safely.")
        eps = 1e-3
        return image.mul(float(_max_value(dtype)) + 1.0 - eps).to(dtype)
    input_max = float(_max_value(image.dtype))
    if dtype.is_floating_point:
        return image.to(dtype) / input_max
    output_max = float(_max_value(dtype))
    if input_max > output_max:
        factor = int((input_max + 1) // (output_max + 1))
        return image.div(factor, rounding_mode="floor").to(dtype)
    factor = int((output_max + 1) // (input_max + 1))
    return image.to(dtype) * factor


def normalize(tensor: Tensor, mean: Sequence[float], std: Sequence[float],
              inplace: bool = False) -> Tensor:
    """Normalize a float tensor image ``(..., C, H, W)`` per channel: ``(x - mean) / std``.
    Out of place unless ``inplace``."""
    if not isinstance(tensor, Tensor):
        raise TypeError(f"img should be Tensor Image. Got {type(tensor)}")
    _assert_image_tensor(tensor)
    if not tensor.is_floating_point():
        raise TypeError(f"Input tensor should be a float tensor. Got {tensor.dtype}.")
    if tensor.ndim < 3:
        raise ValueError("Expected tensor to be a tensor image of size (..., C, H, W). Got "
                         f"tensor.size() = {tensor.size()}")
    if not inplace:
        tensor = tensor.clone()
    dtype = tensor.dtype
    mean_t = as_tensor(mean, dtype=dtype, device=tensor.device)
    std_t = as_tensor(std, dtype=dtype, device=tensor.device)
    if (std_t == 0).any():
        raise ValueError(f"std evaluated to zero after conversion to {dtype}, leading to "
                         "division by zero.")
    if mean_t.ndim == 1:
        mean_t = mean_t.view(-1, 1, 1)
    if std_t.ndim == 1:
        std_t = std_t.view(-1, 1, 1)
    return tensor.sub_(mean_t).div_(std_t)


def _compute_resized_output_size(image_size: tuple[int, int], size: list[int],
                                 max_size: int | None = None) -> list[int]:
    """``[new_h, new_w]``: one size sets the shorter edge (keeping the aspect ratio, the
    longer edge capped at ``max_size``), two are ``(h, w)``."""
    h, w = image_size
    if len(size) != 1:
        return [size[0], size[1]]
    short, long = (w, h) if w <= h else (h, w)
    requested_new_short = size[0]
    new_short, new_long = requested_new_short, int(requested_new_short * long / short)
    if max_size is not None:
        if max_size <= requested_new_short:
            raise ValueError(f"max_size = {max_size} must be strictly greater than the "
                             f"requested size for the smaller edge size = {size}")
        if new_long > max_size:
            new_short, new_long = int(max_size * new_short / new_long), max_size
    new_w, new_h = (new_short, new_long) if w <= h else (new_long, new_short)
    return [new_h, new_w]


def resize(img: Any, size: int | Sequence[int],
           interpolation: InterpolationMode | int = InterpolationMode.BILINEAR,
           max_size: int | None = None, antialias: bool | None = True) -> Any:
    """Resize an image: an int ``size`` (or a sequence of one) sets the shorter edge, keeping
    the aspect ratio (the longer edge at most ``max_size``); ``(h, w)`` sets both.

    PIL images are resampled by Pillow (antialiased for bilinear and bicubic); tensor images
    ``([N,] C, H, W)`` as PyTorch's ``interpolate`` does (``align_corners=False``, antialiased
    for bilinear and bicubic unless ``antialias`` is False), by two matrix products, so the
    gradient flows back to the image. An image that already has the size is returned as
    it is.
    """
    if isinstance(interpolation, int):
        interpolation = _interpolation_modes_from_int(interpolation)
    elif not isinstance(interpolation, InterpolationMode):
        raise TypeError("Argument interpolation should be a InterpolationMode or a "
                        "corresponding Pillow integer constant")
    if isinstance(size, (list, tuple)):
        if len(size) not in [1, 2]:
            raise ValueError("Size must be an int or a 1 or 2 element tuple/list, not a "
                             f"{len(size)} element tuple/list")
        if max_size is not None and len(size) != 1:
            raise ValueError("max_size should only be passed if size specifies the length of "
                             "the smaller edge, i.e. size should be an int or a sequence of "
                             "length 1 in torchscript mode.")
    _, image_height, image_width = get_dimensions(img)
    if isinstance(size, int):
        size = [size]
    output_size = _compute_resized_output_size((image_height, image_width), size, max_size)
    if [image_height, image_width] == output_size:
        return img
    if isinstance(img, Tensor):
        return _resize_tensor(img, output_size, interpolation.value, antialias)
    if antialias is False:
        warnings.warn("Anti-alias option is always applied for PIL Image input. Argument "
                      "antialias is ignored.", stacklevel=2)
    return img.resize(tuple(output_size[::-1]), pil_modes_mapping[interpolation])


def _cubic(x: np.ndarray, a: float) -> np.ndarray:
    """Keys' cubic convolution kernel with parameter ``a``."""
    x = np.abs(x)
    near = ((a + 2) * x - (a + 3)) * x * x + 1
    far = ((a * x - 5 * a) * x + 8 * a) * x - 4 * a
    return np.where(x < 1, near, np.where(x < 2, far, 0.0))


def _interpolation_matrix(n_in: int, n_out: int, mode: str, antialias: bool) -> np.ndarray:
    """The ``(n_out, n_in)`` matrix of PyTorch's ``interpolate`` along one axis
    (``align_corners=False``, scale ``n_in / n_out``)."""
    scale = n_in / n_out
    dst = np.arange(n_out)
    m = np.zeros((n_out, n_in))
    if mode in ("nearest", "nearest-exact"):
        offset = np.float32(0.5 if mode == "nearest-exact" else 0.0)
        src = np.floor((dst.astype(np.float32) + offset) * np.float32(scale)).astype(np.int64)
        m[dst, np.minimum(src, n_in - 1)] = 1.0
        return m
    if antialias:  # a filter stretched over the input when shrinking, as Pillow's
        support = (1.0 if mode == "bilinear" else 2.0) * max(scale, 1.0)
        invscale = 1.0 / scale if scale >= 1.0 else 1.0
        center = scale * (dst + 0.5)
        lo = np.maximum((center - support + 0.5).astype(np.int64), 0)
        hi = np.minimum((center + support + 0.5).astype(np.int64), n_in)
        j = np.arange(n_in)
        x = (j[None, :] - center[:, None] + 0.5) * invscale
        w = np.maximum(1.0 - np.abs(x), 0.0) if mode == "bilinear" else _cubic(x, -0.5)
        w = np.where((j >= lo[:, None]) & (j < hi[:, None]), w, 0.0)
        return w / w.sum(axis=1, keepdims=True)
    src = scale * (dst + 0.5) - 0.5
    if mode == "bilinear":
        src = np.maximum(src, 0.0)
        taps, i0 = (0, 1), np.floor(src).astype(np.int64)
        t = src - i0
        weights = (1.0 - t, t)
    else:  # bicubic, Keys' a = -0.75, the border sample repeated
        taps, i0 = (-1, 0, 1, 2), np.floor(src).astype(np.int64)
        t = src - i0
        weights = [_cubic(t - k, -0.75) for k in taps]
    for k, w in zip(taps, weights):
        np.add.at(m, (dst, np.clip(i0 + k, 0, n_in - 1)), w)
    return m


def _resize_tensor(img: Tensor, size: list[int], mode: str, antialias: bool | None) -> Tensor:
    """torchvision's tensor resize: PyTorch's ``interpolate`` along H and W, in float (an
    integer image is rounded back to its dtype)."""
    batch_shape = (1, *img.shape) if img.ndim < 4 else tuple(img.shape)  # as interpolate's
    spatial = list(batch_shape[2:])
    if len(spatial) != 2:
        raise ValueError(
            "Input and output must have the same number of spatial dimensions, but got input "
            f"with spatial dimensions of {spatial} and output size of {size}. Please provide "
            "input tensor in (N, C, d1, d2, ...,dK) format and output size in (o1, o2, ...,oK) "
            "format.")
    if mode == "lanczos":  # torchvision passes antialias=False for it
        raise ValueError("Lanczos mode requires antialias=True")
    if mode not in ("nearest", "nearest-exact", "bilinear", "bicubic"):
        raise NotImplementedError(
            "Input Error: Only 3D, 4D and 5D input Tensors supported (got 4D) for the "
            "modes: nearest | linear | bilinear | bicubic | trilinear | lanczos | area | "
            f"nearest-exact (got {mode})")
    antialias = bool(antialias) and mode in ("bilinear", "bicubic")
    out_dtype = img.dtype
    if out_dtype.name not in ("float32", "float64"):
        img = img.to(float32)
    rows = _interpolation_matrix(img.shape[-2], size[0], mode, antialias)
    cols = _interpolation_matrix(img.shape[-1], size[1], mode, antialias)
    rows = as_tensor(rows, dtype=img.dtype, device=img.device)
    cols = as_tensor(cols.T, dtype=img.dtype, device=img.device)
    out = rows.matmul(img).matmul(cols)
    if mode == "bicubic" and out_dtype.name == "uint8":
        out = out.clamp(min=0, max=255)
    if out_dtype != out.dtype:
        if not out_dtype.is_floating_point:
            out = out.round()
        out = out.to(out_dtype)
    return out


def crop(img: Any, top: int, left: int, height: int, width: int) -> Any:
    """The ``height x width`` region of an image whose top-left corner is ``(top, left)``;
    the parts outside the image are zeros."""
    if not isinstance(img, Tensor):
        if not _is_pil_image(img):
            raise TypeError(f"img should be PIL Image. Got {type(img)}")
        return img.crop((left, top, left + width, top + height))
    _, h, w = get_dimensions(img)
    right, bottom = left + width, top + height
    inside = img[..., max(top, 0):max(bottom, 0), max(left, 0):max(right, 0)]
    if left >= 0 and top >= 0 and right <= w and bottom <= h:
        return inside
    out = zeros(*img.shape[:-2], height, width, dtype=img.dtype, device=img.device)
    pad_top, pad_left = max(-top, 0), max(-left, 0)
    out[..., pad_top:pad_top + inside.shape[-2], pad_left:pad_left + inside.shape[-1]] = inside
    return out


def center_crop(img: Any, output_size: int | Sequence[int]) -> Any:
    """Crop the center of an image to ``output_size`` (``(h, w)``, or one int for both); an
    image smaller than that is first padded with zeros (more on the right and bottom)."""
    if isinstance(output_size, Number):
        output_size = (int(output_size), int(output_size))
    elif isinstance(output_size, (tuple, list)) and len(output_size) == 1:
        output_size = (output_size[0], output_size[0])
    _, image_height, image_width = get_dimensions(img)
    crop_height, crop_width = output_size
    # The padding torchvision adds, folded into the crop's corner (crop pads with zeros).
    pad_left = (crop_width - image_width) // 2 if crop_width > image_width else 0
    pad_top = (crop_height - image_height) // 2 if crop_height > image_height else 0
    padded_width = image_width + pad_left + (
        (crop_width - image_width + 1) // 2 if crop_width > image_width else 0)
    padded_height = image_height + pad_top + (
        (crop_height - image_height + 1) // 2 if crop_height > image_height else 0)
    crop_top = int(round((padded_height - crop_height) / 2.0)) - pad_top
    crop_left = int(round((padded_width - crop_width) / 2.0)) - pad_left
    return crop(img, crop_top, crop_left, crop_height, crop_width)
