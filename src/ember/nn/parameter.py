"""``Parameter``: a tensor that a ``Module`` registers as one of its learnable weights."""

from __future__ import annotations

from ..tensor import Tensor

_new_object = object.__new__


class Parameter(Tensor):
    """A tensor that is registered as a module parameter when assigned to a module attribute.

    ``Parameter(data)`` shares ``data``'s storage and version counter and is a leaf that
    requires grad (unless ``requires_grad=False``). Ops on a parameter return plain tensors.

    Args:
        data: the tensor to wrap (an empty tensor if None).
        requires_grad: whether the parameter requires gradient. Default: True.
    """

    def __new__(cls, data: Tensor | None = None, requires_grad: bool = True) -> Parameter:
        if data is None:
            from ..creation import empty
            data = empty(0)
        alias = data.detach()
        if requires_grad and alias._data.dtype.kind not in "fc":
            raise RuntimeError("Only Tensors of floating point and complex dtype can require "
                               "gradients")
        p = _new_object(cls)
        p._data = alias._data
        p._rg = bool(requires_grad)
        p.grad = None
        p._grad_fn = None
        p._output_nr = 0
        p._vc = alias._vc
        p._base = None
        p._view = None
        p._accumulator = None
        return p

    def __repr__(self) -> str:
        # A Parameter prints its values as a plain tensor does; a subclass, as PyTorch
        # prints any tensor subclass, inside "Parameter(...)".
        if type(self) is Parameter:
            return "Parameter containing:\n" + self._repr("tensor(")
        return f"Parameter containing:\nParameter({Tensor.__repr__(self)})"

    def __deepcopy__(self, memo) -> Parameter:
        # A copy of the values and requires_grad only: PyTorch's copy has no ``.grad``.
        if id(self) in memo:
            return memo[id(self)]
        out = type(self)(Tensor._make(self._data.copy()), self._rg)
        memo[id(self)] = out
        return out

    def __reduce_ex__(self, protocol):
        return (Parameter, (self.detach(), self._rg))
