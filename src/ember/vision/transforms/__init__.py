"""``ember.vision.transforms``: image preprocessing (torchvision's ``transforms``)."""

from . import functional
from .transforms import (
    CenterCrop, Compose, ConvertImageDtype, InterpolationMode, Lambda, Normalize, PILToTensor,
    Resize, ToTensor,
)

__all__ = ["Compose", "ToTensor", "PILToTensor", "ConvertImageDtype", "Normalize", "Resize",
           "CenterCrop", "Lambda", "InterpolationMode", "functional"]
