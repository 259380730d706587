"""``ember.autograd.graph``: the node type, as PyTorch's module of that name."""

from .node import Node

__all__ = ["Node"]
