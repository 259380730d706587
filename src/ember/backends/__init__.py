"""``ember.backends``: queries about the libraries under ember (cuDNN, MPS)."""

from . import cudnn, mps

__all__ = ["cudnn", "mps"]
