"""torchvision's ``transforms.functional`` written in the torch API: the oracle for
``ember.vision.transforms``.

torchvision is not installed on these machines, so its documented behaviour is written
here with torch 2.13 and Pillow, step for step as ``torchvision/transforms/functional.py``
and ``_functional_tensor.py`` take it (the same array conversions, views, padding and
rounding), so values, dtypes, shapes and strides can be compared with ember's.
"""

from __future__ import annotations

import numbers
import sys

import numpy as np
import torch
from PIL import Image, ImageOps

PIL_MODES = {"nearest": 0, "nearest-exact": 0, "bilinear": 2, "bicubic": 3, "box": 4,
             "hamming": 5, "lanczos": 1}


def to_tensor(pic):
    if isinstance(pic, np.ndarray):
        if pic.ndim not in (2, 3):
            raise ValueError(f"pic should be 2/3 dimensional. Got {pic.ndim} dimensions.")
        if pic.ndim == 2:
            pic = pic[:, :, None]
        img = torch.from_numpy(pic.transpose((2, 0, 1))).contiguous()
    elif isinstance(pic, Image.Image):
        i16 = "I;16" if sys.byteorder == "little" else "I;16B"
        as_type = {"I": np.int32, i16: np.int16, "F": np.float32}.get(pic.mode, np.uint8)
        img = torch.from_numpy(np.array(pic, as_type, copy=True))
        if pic.mode == "1":
            img = 255 * img
        img = img.view(pic.size[1], pic.size[0], len(pic.getbands()))
        img = img.permute((2, 0, 1)).contiguous()
    else:
        raise TypeError(f"pic should be PIL Image or ndarray. Got {type(pic)}")
    if img.dtype == torch.uint8:
        return img.to(dtype=torch.get_default_dtype()).div(255)
    return img


def pil_to_tensor(pic):
    if not isinstance(pic, Image.Image):
        raise TypeError(f"pic should be PIL Image. Got {type(pic)}")
    img = torch.as_tensor(np.array(pic, copy=True))
    return img.view(pic.size[1], pic.size[0], len(pic.getbands())).permute((2, 0, 1))


def _max_value(dtype):
    return torch.iinfo(dtype).max if not dtype.is_floating_point and dtype != torch.bool else 1


def convert_image_dtype(image, dtype=torch.float):
    if image.dtype == dtype:
        return image
    if image.is_floating_point():
        if dtype.is_floating_point:
            return image.to(dtype)
        if (image.dtype == torch.float32 and dtype in (torch.int32, torch.int64)) or (
                image.dtype == torch.float64 and dtype == torch.int64):
            raise RuntimeError(f"The cast from {image.dtype} to {dtype} cannot be performed "
                               "safely.")
        return image.mul(float(_max_value(dtype)) + 1.0 - 1e-3).to(dtype)
    input_max = float(_max_value(image.dtype))
    if dtype.is_floating_point:
        return image.to(dtype) / input_max
    output_max = float(_max_value(dtype))
    if input_max > output_max:
        factor = int((input_max + 1) // (output_max + 1))
        return torch.div(image, factor, rounding_mode="floor").to(dtype)
    return image.to(dtype) * int((output_max + 1) // (input_max + 1))


def normalize(tensor, mean, std, inplace=False):
    if not isinstance(tensor, torch.Tensor):
        raise TypeError(f"img should be Tensor Image. Got {type(tensor)}")
    if tensor.ndim < 2:
        raise TypeError("Tensor is not a torch image.")
    if not tensor.is_floating_point():
        raise TypeError(f"Input tensor should be a float tensor. Got {tensor.dtype}.")
    if tensor.ndim < 3:
        raise ValueError("Expected tensor to be a tensor image of size (..., C, H, W). Got "
                         f"tensor.size() = {tensor.size()}")
    if not inplace:
        tensor = tensor.clone()
    mean = torch.as_tensor(mean, dtype=tensor.dtype, device=tensor.device)
    std = torch.as_tensor(std, dtype=tensor.dtype, device=tensor.device)
    if (std == 0).any():
        raise ValueError(f"std evaluated to zero after conversion to {tensor.dtype}, leading "
                         "to division by zero.")
    if mean.ndim == 1:
        mean = mean.view(-1, 1, 1)
    if std.ndim == 1:
        std = std.view(-1, 1, 1)
    return tensor.sub_(mean).div_(std)


def _dims(img):
    if isinstance(img, torch.Tensor):
        return [1 if img.ndim == 2 else img.shape[-3], *img.shape[-2:]]
    return [len(img.getbands()), img.size[1], img.size[0]]


def _resize_tensor(img, size, interpolation, antialias):
    """torchvision's ``_functional_tensor.resize``: ``interpolate`` on a float 4-d batch."""
    if antialias and interpolation not in ("bilinear", "bicubic"):
        antialias = False
    squeeze = img.ndim < 4
    if squeeze:
        img = img.unsqueeze(0)
    out_dtype = img.dtype
    if out_dtype not in (torch.float32, torch.float64):
        img = img.to(torch.float32)
    align_corners = False if interpolation in ("bilinear", "bicubic") else None
    img = torch.nn.functional.interpolate(img, size=size, mode=interpolation,
                                          align_corners=align_corners, antialias=antialias)
    if interpolation == "bicubic" and out_dtype == torch.uint8:
        img = img.clamp(min=0, max=255)
    if squeeze:
        img = img.squeeze(dim=0)
    if img.dtype != out_dtype:
        if not out_dtype.is_floating_point:
            img = torch.round(img)
        img = img.to(out_dtype)
    return img


def resize(img, size, interpolation="bilinear", max_size=None, antialias=True):
    """An image resized as torchvision does: PIL images by Pillow, tensors by
    ``interpolate``."""
    _, h, w = _dims(img)
    size = [size] if isinstance(size, int) else list(size)
    if len(size) == 1:
        short, long = (w, h) if w <= h else (h, w)
        new_short, new_long = size[0], int(size[0] * long / short)
        if max_size is not None and new_long > max_size:
            new_short, new_long = int(max_size * new_short / new_long), max_size
        new_w, new_h = (new_short, new_long) if w <= h else (new_long, new_short)
    else:
        new_h, new_w = size
    if [h, w] == [new_h, new_w]:
        return img
    if isinstance(img, torch.Tensor):
        return _resize_tensor(img, [new_h, new_w], interpolation, antialias)
    return img.resize((new_w, new_h), PIL_MODES[interpolation])


def crop(img, top, left, height, width):
    if not isinstance(img, torch.Tensor):
        return img.crop((left, top, left + width, top + height))
    return img[..., top:top + height, left:left + width]


def pad(img, ltrb):
    """Zero padding on the left, top, right and bottom."""
    if isinstance(img, torch.Tensor):
        return torch.nn.functional.pad(img, (ltrb[0], ltrb[2], ltrb[1], ltrb[3]))
    fill = 0 if len(img.getbands()) == 1 else (0,) * len(img.getbands())
    out = ImageOps.expand(img, border=tuple(ltrb), fill=fill)
    if img.mode == "P":
        out.putpalette(img.getpalette())
    return out


def center_crop(img, output_size):
    if isinstance(output_size, numbers.Number):
        output_size = (int(output_size), int(output_size))
    elif isinstance(output_size, (tuple, list)) and len(output_size) == 1:
        output_size = (output_size[0], output_size[0])
    _, h, w = _dims(img)
    ch, cw = output_size
    if cw > w or ch > h:
        img = pad(img, [(cw - w) // 2 if cw > w else 0, (ch - h) // 2 if ch > h else 0,
                        (cw - w + 1) // 2 if cw > w else 0, (ch - h + 1) // 2 if ch > h else 0])
        _, h, w = _dims(img)
        if (cw, ch) == (w, h):
            return img
    return crop(img, int(round((h - ch) / 2.0)), int(round((w - cw) / 2.0)), ch, cw)


def image_classification(img, crop_size, resize_size=256, mean=(0.485, 0.456, 0.406),
                         std=(0.229, 0.224, 0.225), interpolation="bilinear"):
    """torchvision's ``ImageClassification`` preset's forward."""
    img = resize(img, [resize_size], interpolation)
    img = center_crop(img, [crop_size])
    if not isinstance(img, torch.Tensor):
        img = pil_to_tensor(img)
    img = convert_image_dtype(img, torch.float)
    return normalize(img, mean=list(mean), std=list(std))
