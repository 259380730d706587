"""``ember.optim``: optimizers that update parameters from their gradients."""

from . import _functional  # noqa: F401 - the update rules, for other optimizers
from .optimizer import Optimizer
from .sgd import SGD

__all__ = ["Optimizer", "SGD"]
