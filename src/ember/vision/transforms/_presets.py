"""The evaluation preprocessing that pretrained weights expect (torchvision's presets)."""

from __future__ import annotations

from typing import Any

from ...dtype import float32
from ...nn.modules.module import Module
from ...tensor import Tensor
from . import functional as F
from .functional import InterpolationMode

__all__ = ["ImageClassification"]


class ImageClassification(Module):
    """Resize (shorter side to ``resize_size``), center-crop to ``crop_size``, convert to a
    float32 tensor in [0, 1] (``convert_image_dtype``) and normalize with ImageNet's mean
    and std.

    Takes a PIL image (resampled by Pillow) or a tensor image ``(..., C, H, W)`` (uint8 or
    float; resampled as ``interpolate`` does, see ``functional.resize``).
    """

    def __init__(self, *, crop_size: int, resize_size: int = 256,
                 mean: tuple[float, ...] = (0.485, 0.456, 0.406),
                 std: tuple[float, ...] = (0.229, 0.224, 0.225),
                 interpolation: InterpolationMode = InterpolationMode.BILINEAR,
                 antialias: bool | None = True) -> None:
        super().__init__()
        self.crop_size = [crop_size]
        self.resize_size = [resize_size]
        self.mean = list(mean)
        self.std = list(std)
        self.interpolation = interpolation
        self.antialias = antialias

    def forward(self, img: Any) -> Tensor:
        img = F.resize(img, self.resize_size, interpolation=self.interpolation,
                       antialias=self.antialias)
        img = F.center_crop(img, self.crop_size)
        if not isinstance(img, Tensor):
            img = F.pil_to_tensor(img)
        img = F.convert_image_dtype(img, float32)
        return F.normalize(img, mean=self.mean, std=self.std)

    def __repr__(self) -> str:
        s = self.__class__.__name__ + "("
        s += f"\n    crop_size={self.crop_size}"
        s += f"\n    resize_size={self.resize_size}"
        s += f"\n    mean={self.mean}"
        s += f"\n    std={self.std}"
        s += f"\n    interpolation={self.interpolation}"
        return s + "\n)"

    def describe(self) -> str:
        """A sentence saying what the preset does."""
        return (
            "Accepts ``PIL.Image``, batched ``(B, C, H, W)`` and single ``(C, H, W)`` image "
            "``torch.Tensor`` objects. The images are resized to "
            f"``resize_size={self.resize_size}`` using "
            f"``interpolation={self.interpolation}``, followed by a central crop of "
            f"``crop_size={self.crop_size}``. Finally the values are first rescaled to "
            f"``[0.0, 1.0]`` and then normalized using ``mean={self.mean}`` and "
            f"``std={self.std}``."
        )
