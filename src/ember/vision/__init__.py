"""``ember.vision``: models, transforms and pretrained weights (ember's torchvision).

``import ember.vision as torchvision`` runs torchvision tutorial code: ``models.resnet18``
and friends with the same module structure and state-dict keys, weights enums that load
torchvision's checkpoints through ``ember.hub``, the common ``transforms``, and the
``datasets`` ``MNIST`` and ``FashionMNIST``.
"""

from .. import __version__
from . import datasets, models, transforms

__all__ = ["datasets", "models", "transforms", "__version__"]
