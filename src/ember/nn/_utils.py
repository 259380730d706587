"""Small helpers shared by ``nn`` and ``optim``."""

from __future__ import annotations

from ..tensor import Tensor


def typename(obj) -> str:
    """The name PyTorch's messages use for ``obj``'s type (``torch.typename``).

    Tensors give their type string (``'ember.FloatTensor'``); builtins their bare name
    (``'int'``); anything else its module-qualified class name.
    """
    if isinstance(obj, Tensor):
        return obj.type()
    module = getattr(obj, "__module__", "") or ""
    qualname = getattr(obj, "__qualname__", None) or getattr(obj, "__name__", None)
    if qualname is None or not isinstance(qualname, str):
        module = type(obj).__module__
        qualname = type(obj).__qualname__
    if module in ("", "builtins"):
        return qualname
    return f"{module}.{qualname}"
