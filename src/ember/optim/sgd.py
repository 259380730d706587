"""``SGD``: stochastic gradient descent with optional momentum, Nesterov and weight decay."""

from __future__ import annotations

from collections.abc import Callable

from ..autograd.grad_mode import GradMode, enable_grad
from ..ops.inplace import bump_version
from ..tensor import Tensor
from . import _functional
from .optimizer import Optimizer

__all__ = ["SGD"]


class SGD(Optimizer):
    """Stochastic gradient descent (optionally with momentum), PyTorch's rule::

        g = -grad if maximize else grad;  g += weight_decay * p
        buf = g (first step) | momentum * buf + (1 - dampening) * g
        g = g + momentum * buf if nesterov else buf        (when momentum != 0)
        p -= lr * g

    Args:
        params: tensors or parameter groups to optimize.
        lr: learning rate. Default: 1e-3.
        momentum: momentum factor. Default: 0.
        dampening: dampening for momentum. Default: 0.
        weight_decay: L2 penalty. Default: 0.
        nesterov: use Nesterov momentum. Default: False.
        maximize: maximize the objective instead of minimizing. Default: False.
        foreach, fused: accepted for compatibility; every variant runs the same update.
        differentiable: run the update under autograd so it can be differentiated through.
    """

    def __init__(self, params, lr: float | Tensor = 1e-3, momentum: float = 0,
                 dampening: float = 0, weight_decay: float = 0, nesterov: bool = False, *,
                 maximize: bool = False, foreach: bool | None = None,
                 differentiable: bool = False, fused: bool | None = None) -> None:
        if isinstance(lr, Tensor) and lr.numel() != 1:
            raise ValueError("Tensor lr must be 1-element")
        if lr < 0.0:
            raise ValueError(f"Invalid learning rate: {lr}")
        if momentum < 0.0:
            raise ValueError(f"Invalid momentum value: {momentum}")
        if weight_decay < 0.0:
            raise ValueError(f"Invalid weight_decay value: {weight_decay}")
        defaults = {"lr": lr, "momentum": momentum, "dampening": dampening,
                    "weight_decay": weight_decay, "nesterov": nesterov, "maximize": maximize,
                    "foreach": foreach, "differentiable": differentiable, "fused": fused}
        if nesterov and (momentum <= 0 or dampening != 0):
            raise ValueError("Nesterov momentum requires a momentum and zero dampening")
        super().__init__(params, defaults)
        if fused:
            if differentiable:
                raise RuntimeError("`fused` does not support `differentiable`")
            if foreach:
                raise RuntimeError("`fused` and `foreach` cannot be `True` together.")

    def __setstate__(self, state: dict) -> None:
        super().__setstate__(state)
        for group in self.param_groups:
            group.setdefault("nesterov", False)
            group.setdefault("maximize", False)
            group.setdefault("foreach", None)
            group.setdefault("differentiable", False)
            group.setdefault("fused", False)

    def step(self, closure: Callable[[], float] | None = None):
        """Perform one optimization step; ``closure`` re-evaluates the model and returns
        the loss (returned here)."""
        loss = None
        if closure is not None:
            with enable_grad():
                loss = closure()
        prev = GradMode.enabled
        GradMode.enabled = bool(self.defaults["differentiable"])
        try:
            for group in self.param_groups:
                self._step_group(group)
        finally:
            GradMode.enabled = prev
        return loss

    def _step_group(self, group: dict) -> None:
        params = [p for p in group["params"] if p.grad is not None]
        if not params:
            return
        momentum = group["momentum"]
        states = [self.state[p] for p in params] if momentum != 0 else []
        buffers = [s.get("momentum_buffer") for s in states] if momentum != 0 else \
            [None] * len(params)
        lr, weight_decay = group["lr"], group["weight_decay"]
        differentiable = group["differentiable"]
        hyper = {"lr": _scalar(lr, differentiable),
                 "weight_decay": _scalar(weight_decay, differentiable), "momentum": momentum,
                 "dampening": group["dampening"], "nesterov": group["nesterov"],
                 "maximize": group["maximize"]}
        if differentiable:
            _functional.sgd(params, [p.grad for p in params], buffers,
                            clone=lambda g: g.detach().clone(), **hyper)
            for state, buf in zip(states, buffers):
                state["momentum_buffer"] = buf
            return
        arrays = [b._data if b is not None else None for b in buffers]
        _functional.sgd([p._data for p in params], [p.grad._data for p in params], arrays,
                        **hyper)
        for p in params:
            bump_version(p)
        for state, buf, arr in zip(states, buffers, arrays):
            if buf is None:
                state["momentum_buffer"] = Tensor._make(arr)
            else:
                bump_version(buf)


def _scalar(value, differentiable: bool):
    """A tensor hyper-parameter as a Python number, unless the step is differentiable and
    it requires grad (then the update is differentiated with respect to it too)."""
    if isinstance(value, Tensor):
        if not (differentiable and value.requires_grad):
            return value.item()
        return value.squeeze() if value.dim() else value  # PyTorch's _to_scalar
    return value
