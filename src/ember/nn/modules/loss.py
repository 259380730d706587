"""Loss layers: ``CrossEntropyLoss``, ``NLLLoss`` and ``MSELoss``.

Each holds its ``reduction`` (and class ``weight`` as a buffer, ``ignore_index``,
``label_smoothing``) and calls the function of ``nn.functional``.
"""

from __future__ import annotations

from ...tensor import Tensor
from .. import _reduction
from .. import functional as F
from .module import Module

__all__ = ["CrossEntropyLoss", "NLLLoss", "MSELoss"]


class _Loss(Module):
    reduction: str

    def __init__(self, size_average=None, reduce=None, reduction: str = "mean") -> None:
        super().__init__()
        if size_average is not None or reduce is not None:
            self.reduction = _reduction.legacy_get_string(size_average, reduce)
        else:
            self.reduction = reduction


class _WeightedLoss(_Loss):
    def __init__(self, weight: Tensor | None = None, size_average=None, reduce=None,
                 reduction: str = "mean") -> None:
        super().__init__(size_average, reduce, reduction)
        self.register_buffer("weight", weight)
        self.weight: Tensor | None


class NLLLoss(_WeightedLoss):
    """The negative log likelihood loss of log-probabilities for class-index targets (see
    ``nn.functional.nll_loss``).

    Args:
        weight: a rescaling weight for each class, ``(C)`` (kept as a buffer).
        ignore_index: a target value that is ignored. Default: -100.
        reduction: 'none' | 'mean' | 'sum'. Default: 'mean'.
        size_average, reduce: deprecated (see ``reduction``).
    """

    __constants__ = ["ignore_index", "reduction"]
    ignore_index: int

    def __init__(self, weight: Tensor | None = None, size_average=None,
                 ignore_index: int = -100, reduce=None, reduction: str = "mean") -> None:
        super().__init__(weight, size_average, reduce, reduction)
        self.ignore_index = ignore_index

    def forward(self, input: Tensor, target: Tensor) -> Tensor:
        return F.nll_loss(input, target, weight=self.weight, ignore_index=self.ignore_index,
                          reduction=self.reduction)


class CrossEntropyLoss(_WeightedLoss):
    """The cross entropy between logits and class indices or class probabilities (see
    ``nn.functional.cross_entropy``): ``log_softmax`` and ``nll_loss`` in one.

    Args:
        weight: a rescaling weight for each class, ``(C)`` (kept as a buffer).
        ignore_index: a class-index target value that is ignored. Default: -100.
        reduction: 'none' | 'mean' | 'sum'. Default: 'mean'.
        label_smoothing: in [0.0, 1.0]: the share of the uniform distribution mixed into the
            target. Default: 0.0.
        size_average, reduce: deprecated (see ``reduction``).
    """

    __constants__ = ["ignore_index", "reduction", "label_smoothing"]
    ignore_index: int
    label_smoothing: float

    def __init__(self, weight: Tensor | None = None, size_average=None,
                 ignore_index: int = -100, reduce=None, reduction: str = "mean",
                 label_smoothing: float = 0.0) -> None:
        super().__init__(weight, size_average, reduce, reduction)
        self.ignore_index = ignore_index
        self.label_smoothing = label_smoothing

    def forward(self, input: Tensor, target: Tensor) -> Tensor:
        return F.cross_entropy(input, target, weight=self.weight,
                               ignore_index=self.ignore_index, reduction=self.reduction,
                               label_smoothing=self.label_smoothing)


class MSELoss(_Loss):
    """The mean squared error (see ``nn.functional.mse_loss``).

    Args:
        reduction: 'none' | 'mean' | 'sum'. Default: 'mean'.
        size_average, reduce: deprecated (see ``reduction``).
    """

    __constants__ = ["reduction"]

    def __init__(self, size_average=None, reduce=None, reduction: str = "mean") -> None:
        super().__init__(size_average, reduce, reduction)

    def forward(self, input: Tensor, target: Tensor) -> Tensor:
        return F.mse_loss(input, target, reduction=self.reduction)
