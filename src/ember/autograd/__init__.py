"""``ember.autograd``: reverse-mode automatic differentiation over a dynamic graph."""

from importlib import import_module

from . import anomaly_mode, engine, grad_mode, graph, node
from .anomaly_mode import detect_anomaly, set_detect_anomaly
from .api import backward, grad
from .gradcheck import gradcheck, gradgradcheck
from .grad_mode import (
    enable_grad,
    inference_mode,
    no_grad,
    set_grad_enabled,
    set_multithreading_enabled,
)
from .node import Node

__all__ = ["backward", "grad", "no_grad", "enable_grad", "set_grad_enabled",
           "inference_mode", "detect_anomaly", "set_detect_anomaly", "Node", "gradcheck",
           "gradgradcheck", "set_multithreading_enabled"]


def __getattr__(name):
    # Function, functional and forward_ad need Tensor; load them on first use. (Through
    # import_module: ``from . import x`` would look ``x`` up here first, and recurse.)
    if name in ("Function", "FunctionCtx", "once_differentiable"):
        return getattr(import_module(f"{__name__}.function"), name)
    if name in ("functional", "forward_ad"):
        return import_module(f"{__name__}.{name}")
    raise AttributeError(f"module 'ember.autograd' has no attribute '{name}'")
