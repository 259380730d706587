"""The ``reduction`` argument of the losses, and the deprecated ``size_average`` /
``reduce`` pair it replaced (PyTorch's ``torch.nn._reduction``)."""

from __future__ import annotations

import warnings

__all__ = ["get_enum", "legacy_get_string", "legacy_get_enum"]


def get_enum(reduction: str) -> int:
    """0 for 'none', 1 for 'mean', 2 for 'sum'; a ValueError for anything else."""
    if reduction == "none":
        return 0
    if reduction == "mean":
        return 1
    if reduction == "elementwise_mean":
        warnings.warn("reduction='elementwise_mean' is deprecated. Please use "
                      "reduction='mean' instead.", stacklevel=2)
        return 1
    if reduction == "sum":
        return 2
    raise ValueError(f"{reduction} is not a valid value for reduction")


def legacy_get_string(size_average: bool | None, reduce: bool | None,
                      emit_warning: bool = True) -> str:
    """The ``reduction`` that ``size_average`` and ``reduce`` stand for (each defaults to
    True), with PyTorch's deprecation warning."""
    warning = "size_average and reduce args will be deprecated, please use reduction='{}' instead."
    if size_average is None:
        size_average = True
    if reduce is None:
        reduce = True
    if size_average and reduce:
        ret = "mean"
    elif reduce:
        ret = "sum"
    else:
        ret = "none"
    if emit_warning:
        warnings.warn(warning.format(ret), stacklevel=2)
    return ret


def legacy_get_enum(size_average: bool | None, reduce: bool | None,
                    emit_warning: bool = True) -> int:
    return get_enum(legacy_get_string(size_average, reduce, emit_warning))


def resolve(size_average: bool | None, reduce: bool | None, reduction: str) -> str:
    """``reduction``, or the legacy pair's meaning where either is given; checked."""
    if size_average is not None or reduce is not None:
        reduction = legacy_get_string(size_average, reduce)
    return "mean" if get_enum(reduction) == 1 else reduction
