"""``ember.nn``: layers (``Module`` and its subclasses), ``Parameter``, ``init`` and
``functional``."""

from . import functional, init
from .modules import (
    Flatten, Linear, Module, ModuleDict, ModuleList, ReLU, Sequential, Sigmoid, Tanh,
)
from .modules import (
    AdaptiveAvgPool2d, AvgPool2d, BatchNorm1d, BatchNorm2d, BatchNorm3d, Conv1d, Conv2d, Dropout,
    Identity, MaxPool2d,
)
from .modules import CrossEntropyLoss, LogSoftmax, MSELoss, NLLLoss, Softmax
from .parameter import Parameter

__all__ = ["Module", "Parameter", "Linear", "ReLU", "Tanh", "Sigmoid", "Sequential",
           "ModuleList", "ModuleDict", "Flatten", "functional", "init", "Conv1d", "Conv2d",
           "BatchNorm1d", "BatchNorm2d", "BatchNorm3d", "MaxPool2d", "AvgPool2d",
           "AdaptiveAvgPool2d", "Identity", "Dropout", "Softmax", "LogSoftmax",
           "CrossEntropyLoss", "NLLLoss", "MSELoss"]
