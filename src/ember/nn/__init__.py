"""``ember.nn``: layers (``Module`` and its subclasses), ``Parameter``, ``init`` and
``functional``."""

from . import functional, init
from .modules import Flatten, Linear, Module, ReLU, Sequential, Sigmoid, Tanh
from .parameter import Parameter

__all__ = ["Module", "Parameter", "Linear", "ReLU", "Tanh", "Sigmoid", "Sequential",
           "Flatten", "functional", "init"]
