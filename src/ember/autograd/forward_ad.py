"""``ember.autograd.forward_ad``: forward-mode automatic differentiation, as PyTorch's.

Within a ``dual_level``, ``make_dual(x, t)`` gives a view of ``x`` that carries the tangent
``t``; every op on dual tensors computes its output's tangent (the Jacobian-vector product)
along with the output, and ``unpack_dual(y)`` returns ``(primal, tangent)``. Leaving the
level drops every tangent. As in PyTorch, one level can be open at a time.

    >>> with forward_ad.dual_level():
    ...     x = forward_ad.make_dual(primal, tangent)
    ...     jvp = forward_ad.unpack_dual(f(x)).tangent
"""

from __future__ import annotations

from typing import Any, NamedTuple

from ..tensor import Tensor
from .forward_grad import (
    OUTPUT_TANGENTS,
    TANGENTS,
    ForwardAD,
    refresh,
    set_tangent,
    suspended,
    tangent_of,
)
from .grad_mode import _ModeContext

__all__ = ["UnpackedDualTensor", "enter_dual_level", "exit_dual_level", "make_dual",
           "unpack_dual", "dual_level"]


def enter_dual_level() -> int:
    """Open a forward-AD level and return its number (0: levels do not nest)."""
    if ForwardAD.level >= 0:
        raise RuntimeError("Nested forward mode AD is not supported at the moment")
    ForwardAD.level = 0
    refresh()
    return ForwardAD.level


def exit_dual_level(*, level: int | None = None) -> None:
    """Close the forward-AD level ``level`` (default: the open one); its tangents are gone."""
    if level is None:
        level = ForwardAD.level
    if level != ForwardAD.level:
        raise RuntimeError("Trying to exit a forward AD level that was not the last one that "
                           "was created. This is not supported.")
    if level < 0:
        raise RuntimeError("Dual level must be a positive number.")
    ForwardAD.level = -1
    TANGENTS.clear()
    OUTPUT_TANGENTS.clear()
    refresh()


def make_dual(tensor: Tensor, tangent: Tensor, *, level: int | None = None) -> Tensor:
    """A view of ``tensor`` whose tangent (forward gradient) at ``level`` is ``tangent``.

    Both must be floating point and have the same size; the tangent is used as it is when
    it is laid out as ``tensor`` is, and copied otherwise (contiguous, where PyTorch copies
    it into ``tensor``'s layout).
    """
    if level is None:
        level = ForwardAD.level
    if level < 0:
        raise RuntimeError("Trying to create a dual Tensor for forward AD but no level exists, "
                           "make sure to enter_dual_level() first.")
    if level != 0:  # PyTorch's texts: only level 0 ever exists
        raise RuntimeError("Invalid level given to _make_dual")
    if ForwardAD.level < 0:
        raise RuntimeError("Trying to access a forward AD level with an invalid index. This "
                           "index was either not created or is already deleted.")
    for name, t in (("primal", tensor), ("tangent", tangent)):
        if not isinstance(t, Tensor):
            raise TypeError(f"make_dual(): argument '{name}' must be Tensor, not "
                            f"{type(t).__name__}")
        if not t.dtype.is_floating_point:
            raise ValueError(f"Expected {name} to be floating point or complex, but got: "
                             f"{t.dtype}")
    if tangent.shape != tensor.shape:
        raise RuntimeError(
            "Trying to set a forward gradient that has a different size than that of the "
            "original Tensor, this is not supported. Tensor is of size "
            f"{list(tensor.shape)} while the given forward gradient is of size "
            f"{list(tangent.shape)}.")
    if tangent_of(tensor) is not None:
        raise RuntimeError("Making a dual Tensor based on a Tensor that already has a forward "
                           f"gradient at the same level {ForwardAD.level} is not supported.")
    if tangent.stride() != tensor.stride() or tangent.device != tensor.device:
        tangent = tangent.clone().to(tensor.device)  # differentiable, as PyTorch's copy
    dual = tensor.view_as(tensor)
    set_tangent(dual, tangent)
    return dual


class UnpackedDualTensor(NamedTuple):
    """What ``unpack_dual`` returns: the primal view and the tangent (or None)."""
    primal: Tensor
    tangent: Tensor | None


def unpack_dual(tensor: Any, *, level: int | None = None) -> UnpackedDualTensor:
    """``(primal, tangent)`` of ``tensor`` at ``level``: the primal is a view of ``tensor``
    that is not dual (nor are views of it); the tangent is None where ``tensor`` is not
    dual. Outside a level, ``(tensor, None)`` for anything."""
    if level is None:
        level = ForwardAD.level
    if level < 0:
        return UnpackedDualTensor(tensor, None)
    if not isinstance(tensor, Tensor):
        raise TypeError(f"_unpack_dual(): argument 'dual' (position 1) must be Tensor, not "
                        f"{type(tensor).__name__}")
    tangent = tangent_of(tensor)
    if tangent is not None and level != ForwardAD.level:
        raise RuntimeError("Invalid level given to _fw_primal")
    with suspended():
        primal = tensor.view_as(tensor)
    if ForwardAD.level >= 0:
        set_tangent(primal, None)  # not the view of a dual base's tangent
    return UnpackedDualTensor(primal, tangent)


class dual_level(_ModeContext):
    """Context manager (and decorator) within which forward-mode AD runs: tangents made by
    ``make_dual`` live until it exits."""

    def __enter__(self) -> int:
        return enter_dual_level()

    def __exit__(self, *exc) -> None:
        exit_dual_level()
