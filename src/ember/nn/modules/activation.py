"""Activation layers: ``ReLU``, ``Tanh``, ``Sigmoid`` (elementwise), ``Softmax`` and
``LogSoftmax`` (over a dim)."""

from __future__ import annotations

from ...tensor import Tensor
from .. import functional as F
from .module import Module

__all__ = ["ReLU", "Tanh", "Sigmoid", "Softmax", "LogSoftmax"]


class ReLU(Module):
    """Apply ``max(0, x)`` elementwise.

    Args:
        inplace: overwrite the input instead of returning a new tensor. Default: False.
    """

    __constants__ = ["inplace"]
    inplace: bool

    def __init__(self, inplace: bool = False) -> None:
        super().__init__()
        self.inplace = inplace

    def forward(self, input: Tensor) -> Tensor:
        return F.relu(input, inplace=self.inplace)

    def extra_repr(self) -> str:
        return "inplace=True" if self.inplace else ""


class Tanh(Module):
    """Apply the hyperbolic tangent elementwise."""

    def forward(self, input: Tensor) -> Tensor:
        return F.tanh(input)


class Sigmoid(Module):
    """Apply ``1 / (1 + exp(-x))`` elementwise."""

    def forward(self, input: Tensor) -> Tensor:
        return F.sigmoid(input)


class _NormalisingOverDim(Module):
    """A layer that applies ``_function`` (a ``nn.functional`` name) over ``dim``."""

    __constants__ = ["dim"]
    _function: str
    dim: int | None

    def __init__(self, dim: int | None = None) -> None:
        super().__init__()
        self.dim = dim

    def __setstate__(self, state: dict) -> None:
        super().__setstate__(state)
        if not hasattr(self, "dim"):
            self.dim = None

    def forward(self, input: Tensor) -> Tensor:
        return getattr(F, self._function)(input, self.dim, _stacklevel=5)

    def extra_repr(self) -> str:
        return f"dim={self.dim}"


class Softmax(_NormalisingOverDim):
    """Rescale the slices along ``dim`` to be positive and sum to 1.

    Args:
        dim: the dim to normalise over. None (deprecated) picks one as
            ``nn.functional.softmax`` does, with a warning.
    """

    _function = "softmax"


class LogSoftmax(_NormalisingOverDim):
    """``log(softmax(x))`` along ``dim``, computed stably.

    Args:
        dim: the dim to normalise over. None (deprecated) picks one as
            ``nn.functional.log_softmax`` does, with a warning.
    """

    _function = "log_softmax"
