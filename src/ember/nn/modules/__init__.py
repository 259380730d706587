"""The layers of ``ember.nn``."""

from .activation import LogSoftmax, ReLU, Sigmoid, Softmax, Tanh
from .batchnorm import BatchNorm1d, BatchNorm2d, BatchNorm3d
from .container import ModuleDict, ModuleList, Sequential
from .conv import Conv1d, Conv2d
from .dropout import Dropout
from .flatten import Flatten
from .identity import Identity
from .linear import Linear
from .loss import CrossEntropyLoss, MSELoss, NLLLoss
from .module import Module
from .pooling import AdaptiveAvgPool2d, AvgPool2d, MaxPool2d

__all__ = ["Module", "Linear", "ReLU", "Tanh", "Sigmoid", "Sequential", "ModuleList",
           "ModuleDict", "Flatten", "Conv1d", "Conv2d", "BatchNorm1d", "BatchNorm2d",
           "BatchNorm3d", "MaxPool2d", "AvgPool2d", "AdaptiveAvgPool2d", "Identity", "Dropout",
           "Softmax", "LogSoftmax", "CrossEntropyLoss", "NLLLoss", "MSELoss"]
