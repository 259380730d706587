"""Image transform classes (torchvision's ``transforms``): ``Compose``, ``ToTensor``,
``PILToTensor``, ``ConvertImageDtype``, ``Normalize``, ``Resize``, ``CenterCrop``,
``Lambda``. As in torchvision, the ones that work on tensors are ``nn.Module``s."""

from __future__ import annotations

import numbers
from collections.abc import Callable, Sequence
from typing import Any

from ...dtype import dtype as _dtype
from ...nn.modules.module import Module
from ...tensor import Tensor
from . import functional as F
from .functional import InterpolationMode, _interpolation_modes_from_int

__all__ = ["Compose", "ToTensor", "PILToTensor", "ConvertImageDtype", "Normalize", "Resize",
           "CenterCrop", "Lambda", "InterpolationMode"]


def _setup_size(size: Any, error_msg: str) -> Any:
    """``(h, w)`` from a number or a sequence of one; a sequence of two is kept as it is."""
    if isinstance(size, numbers.Number):
        return int(size), int(size)
    if isinstance(size, Sequence) and len(size) == 1:
        return size[0], size[0]
    if len(size) != 2:
        raise ValueError(error_msg)
    return size


class Compose:
    """Apply several transforms one after another.

    Args:
        transforms: the transforms to chain.
    """

    def __init__(self, transforms: Sequence[Callable]) -> None:
        self.transforms = transforms

    def __call__(self, img: Any) -> Any:
        for t in self.transforms:
            img = t(img)
        return img

    def __repr__(self) -> str:
        s = self.__class__.__name__ + "("
        for t in self.transforms:
            s += f"\n    {t}"
        return s + "\n)"


class ToTensor:
    """Convert a PIL image or an ``H x W x C`` ndarray to a ``C x H x W`` tensor: ``uint8``
    data (and 8-bit PIL modes) in [0, 255] becomes floats in [0.0, 1.0]; other dtypes are
    converted without scaling (see ``functional.to_tensor``)."""

    def __call__(self, pic: Any) -> Tensor:
        return F.to_tensor(pic)

    def __repr__(self) -> str:
        return f"{self.__class__.__name__}()"


class PILToTensor:
    """Convert a PIL image to a ``C x H x W`` tensor of the same dtype, without scaling."""

    def __call__(self, pic: Any) -> Tensor:
        return F.pil_to_tensor(pic)

    def __repr__(self) -> str:
        return f"{self.__class__.__name__}()"


class ConvertImageDtype(Module):
    """Convert a tensor image to ``dtype``, scaling its values (see
    ``functional.convert_image_dtype``)."""

    def __init__(self, dtype: _dtype) -> None:
        super().__init__()
        self.dtype = dtype

    def forward(self, image: Tensor) -> Tensor:
        return F.convert_image_dtype(image, self.dtype)


class Normalize(Module):
    """Normalize a float tensor image per channel: ``output[c] = (input[c] - mean[c]) / std[c]``.

    Args:
        mean: per-channel means.
        std: per-channel standard deviations.
        inplace: overwrite the input. Default: False.
    """

    def __init__(self, mean: Sequence[float], std: Sequence[float],
                 inplace: bool = False) -> None:
        super().__init__()
        self.mean = mean
        self.std = std
        self.inplace = inplace

    def forward(self, tensor: Tensor) -> Tensor:
        return F.normalize(tensor, self.mean, self.std, self.inplace)

    def __repr__(self) -> str:
        return f"{self.__class__.__name__}(mean={self.mean}, std={self.std})"


class Resize(Module):
    """Resize an image; an int ``size`` (or a sequence of one) sets the shorter edge, keeping
    the aspect ratio.

    Args:
        size: ``(h, w)``, or an int for the shorter edge.
        interpolation: an ``InterpolationMode`` or Pillow's integer constant.
            Default: ``BILINEAR``.
        max_size: the most the longer edge may be, with an int ``size``.
        antialias: antialiasing (always on for PIL images). Default: True.
    """

    def __init__(self, size: int | Sequence[int],
                 interpolation: InterpolationMode | int = InterpolationMode.BILINEAR,
                 max_size: int | None = None, antialias: bool | None = True) -> None:
        super().__init__()
        if not isinstance(size, (int, Sequence)):
            raise TypeError(f"Size should be int or sequence. Got {type(size)}")
        if isinstance(size, Sequence) and len(size) not in (1, 2):
            raise ValueError("If size is a sequence, it should have 1 or 2 values")
        self.size = size
        self.max_size = max_size
        if isinstance(interpolation, int):
            interpolation = _interpolation_modes_from_int(interpolation)
        self.interpolation = interpolation
        self.antialias = antialias

    def forward(self, img: Any) -> Any:
        return F.resize(img, self.size, self.interpolation, self.max_size, self.antialias)

    def __repr__(self) -> str:
        return (f"{self.__class__.__name__}(size={self.size}, "
                f"interpolation={self.interpolation.value}, max_size={self.max_size}, "
                f"antialias={self.antialias})")


class CenterCrop(Module):
    """Crop the center of an image to ``size`` (``(h, w)``, or one int for both); a smaller
    image is padded with zeros first."""

    def __init__(self, size: int | Sequence[int]) -> None:
        super().__init__()
        self.size = _setup_size(size, error_msg="Please provide only two dimensions (h, w) "
                                                "for size.")

    def forward(self, img: Any) -> Any:
        return F.center_crop(img, self.size)

    def __repr__(self) -> str:
        return f"{self.__class__.__name__}(size={self.size})"


class Lambda:
    """Apply a user function as a transform.

    Args:
        lambd: the function to apply.
    """

    def __init__(self, lambd: Callable) -> None:
        if not callable(lambd):
            raise TypeError(f"Argument lambd should be callable, got {type(lambd).__name__!r}")
        self.lambd = lambd

    def __call__(self, img: Any) -> Any:
        return self.lambd(img)

    def __repr__(self) -> str:
        return f"{self.__class__.__name__}()"
