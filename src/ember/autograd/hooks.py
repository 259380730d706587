"""``RemovableHandle``: what ``register_hook`` returns, to take a hook off again."""

from __future__ import annotations

import itertools


class RemovableHandle:
    """Removes the hook it was made for from its dict when ``remove()`` is called."""

    _ids = itertools.count()
    __slots__ = ("hooks", "id")

    def __init__(self, hooks: dict) -> None:
        self.hooks = hooks
        self.id = next(RemovableHandle._ids)

    def remove(self) -> None:
        self.hooks.pop(self.id, None)

    def __enter__(self):
        return self

    def __exit__(self, *exc) -> None:
        self.remove()


def add_hook(hooks: dict | None, fn) -> tuple[dict, RemovableHandle]:
    """Add ``fn`` to ``hooks`` (made if None); returns the dict and the handle."""
    if hooks is None:
        hooks = {}
    handle = RemovableHandle(hooks)
    hooks[handle.id] = fn
    return hooks, handle
