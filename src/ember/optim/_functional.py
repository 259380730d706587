"""The optimizers' update rules as plain functions over whole arrays.

Each function takes the parameters' arrays (updated in place), their gradients' arrays
and the per-parameter state arrays, and knows nothing of tensors, groups or autograd.
The arrays may be NumPy or CuPy: only operators they share are used.
"""

from __future__ import annotations

__all__ = ["sgd"]


def sgd(params: list, grads: list, momentum_buffers: list, *, lr: float,
        weight_decay: float, momentum: float, dampening: float, nesterov: bool,
        maximize: bool, clone=None) -> None:
    """One SGD step (PyTorch's rule) over each ``params[i]`` with gradient ``grads[i]``.

    With ``momentum``, ``momentum_buffers[i]`` is updated in place, or set to a copy of
    the (decayed) gradient where it is None. The same code runs on tensors (for
    ``differentiable=True``) given ``clone``, which copies a gradient out of the graph.
    """
    for i, param in enumerate(params):
        grad = grads[i]
        if maximize:
            grad = -grad
        if weight_decay != 0:
            # A weight decay that requires grad saves the parameter, which is updated in
            # place below: it multiplies a copy, as in PyTorch.
            decayed = param.clone() if getattr(weight_decay, "requires_grad", False) else param
            grad = grad + weight_decay * decayed
        if momentum != 0:
            buf = momentum_buffers[i]
            if buf is None:
                if clone is not None:
                    buf = clone(grad)
                else:  # a fresh array unless it is still the gradient itself
                    buf = grad.copy() if grad is grads[i] else grad
                momentum_buffers[i] = buf
            else:
                buf *= momentum
                buf += (1 - dampening) * grad
            grad = grad + momentum * buf if nesterov else buf
        param -= lr * grad

