"""``ember.version``: the versions ember runs with."""

from . import backend as _backend

__version__ = "0.1.0"
git_version = None
debug = False


def __getattr__(name):
    if name == "cuda":
        return _backend.cuda_version()
    raise AttributeError(f"module 'ember.version' has no attribute '{name}'")
