"""The layers of ``ember.nn``."""

from .activation import ReLU, Sigmoid, Tanh
from .container import Sequential
from .flatten import Flatten
from .linear import Linear
from .module import Module

__all__ = ["Module", "Linear", "ReLU", "Tanh", "Sigmoid", "Sequential", "Flatten"]
