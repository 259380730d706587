"""``ember.vision.datasets``: image datasets (torchvision's ``datasets``): ``MNIST``,
``FashionMNIST`` and their base class ``VisionDataset``."""

from . import utils
from .vision import StandardTransform, VisionDataset
from .mnist import MNIST, FashionMNIST

__all__ = ["VisionDataset", "StandardTransform", "MNIST", "FashionMNIST", "utils"]
