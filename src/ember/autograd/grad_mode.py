"""Grad modes: whether ops record a graph, as context managers and decorators."""

from __future__ import annotations

import functools
import inspect
import warnings

__all__ = ["GradMode", "no_grad", "enable_grad", "set_grad_enabled", "inference_mode",
           "is_grad_enabled", "is_inference_mode_enabled", "is_inference",
           "set_multithreading_enabled"]


class GradMode:
    """Process-wide switches read by every op on its hot path (plain class attributes).

    ``enabled``: whether ops record a graph. In inference mode it stays False, as PyTorch's
    inference mode records nothing whatever the grad mode; the grad mode that ``no_grad``,
    ``enable_grad`` and ``set_grad_enabled`` set there (what ``is_grad_enabled`` reports)
    is kept in ``requested`` instead, so ops pay nothing for the distinction.
    """

    enabled = True
    inference = False
    requested = False  # the grad mode inside inference mode


def _grad_mode() -> bool:
    return GradMode.requested if GradMode.inference else GradMode.enabled


def _set_grad_mode(mode: bool) -> None:
    if GradMode.inference:
        GradMode.requested = mode
    else:
        GradMode.enabled = mode


INFERENCE_SAVED_ERROR = (
    "Inference tensors cannot be saved for backward. Please do not use Tensors created in "
    "inference mode in computation tracked by autograd. To work around this, you can make a "
    "clone to get a normal tensor and use it in autograd, or use `ember.no_grad()` instead of "
    "`ember.inference_mode()`.")
INFERENCE_INPLACE_ERROR = (
    "Inplace update to inference tensor outside InferenceMode is not allowed.You can make a "
    "clone to get a normal tensor before doing inplace update.See "
    "https://github.com/pytorch/rfcs/pull/17 for more details.")


class InferenceVersion(list):
    """The version counter of an inference tensor (one made in inference mode), which in
    PyTorch has none: shared by all of them, it always reads 0, and writing it (an in-place
    change) is allowed only in inference mode. A tensor is an inference tensor when its
    ``_vc`` is ``INFERENCE_VERSION``; views and ``detach()`` share their base's."""

    __slots__ = ()

    def __setitem__(self, index, value) -> None:
        if not GradMode.inference:
            raise RuntimeError(INFERENCE_INPLACE_ERROR)


INFERENCE_VERSION = InferenceVersion([0])


def check_savable(t) -> None:
    """PyTorch's error for saving an inference tensor for backward (called where a tensor's
    version counter is not a plain list)."""
    if t._vc is INFERENCE_VERSION:
        raise RuntimeError(INFERENCE_SAVED_ERROR)


def is_inference(input) -> bool:
    """Whether ``input`` is an inference tensor (``ember.is_inference``)."""
    return input._vc is INFERENCE_VERSION


def is_grad_enabled() -> bool:
    """Whether grad mode is on: ops record the graph for backward (except in inference
    mode, where nothing is recorded)."""
    return _grad_mode()


def is_inference_mode_enabled() -> bool:
    return GradMode.inference


class _ModeContext:
    """Base of the grad-mode managers: usable as ``with`` block and as decorator."""

    def __call__(self, func):
        if inspect.isclass(func):
            warnings.warn(
                "Decorating classes is deprecated and will be disabled in future versions. You "
                "should only decorate functions or methods. To preserve the current behavior of "
                "class decoration, you can directly decorate the `__init__` method and nothing "
                "else.", FutureWarning, stacklevel=2)
            cls = func

            def make(*args, **kwargs):
                with self.clone():
                    return cls(*args, **kwargs)
            return make
        if inspect.isgeneratorfunction(func):
            @functools.wraps(func)
            def gen_wrapper(*args, **kwargs):
                # The generator's own code runs in the mode; the caller's code between
                # its steps runs in whatever mode the caller set.
                gen = func(*args, **kwargs)
                try:
                    with self.clone():
                        response = gen.send(None)
                    while True:
                        try:
                            request = yield response
                        except GeneratorExit:
                            with self.clone():
                                gen.close()
                            raise
                        except BaseException as exc:
                            with self.clone():
                                response = gen.throw(exc)
                        else:
                            with self.clone():
                                response = gen.send(request)
                except StopIteration as stop:
                    return stop.value
            return gen_wrapper

        @functools.wraps(func)
        def wrapper(*args, **kwargs):
            with self.clone():
                return func(*args, **kwargs)
        return wrapper

    def clone(self):
        return type(self)()


class _BareDecoratable(type):
    # Lets ``@no_grad`` (without parentheses) decorate a function, as PyTorch allows.
    def __call__(cls, *args, **kwargs):
        if len(args) == 1 and not kwargs and callable(args[0]) and not isinstance(args[0], bool):
            return type.__call__(cls)(args[0])
        return type.__call__(cls, *args, **kwargs)


class no_grad(_ModeContext, metaclass=_BareDecoratable):
    """Context manager and decorator that turns graph recording off."""

    def __enter__(self) -> None:
        self.prev = _grad_mode()
        _set_grad_mode(False)

    def __exit__(self, *exc) -> None:
        _set_grad_mode(self.prev)


class enable_grad(_ModeContext, metaclass=_BareDecoratable):
    """Context manager and decorator that turns graph recording on (inside ``no_grad``)."""

    def __enter__(self) -> None:
        self.prev = _grad_mode()
        _set_grad_mode(True)

    def __exit__(self, *exc) -> None:
        _set_grad_mode(self.prev)


class set_grad_enabled(_ModeContext):
    """Turn graph recording on or off; takes effect at once, and as a context manager."""

    def __init__(self, mode: bool) -> None:
        if not isinstance(mode, bool):
            raise TypeError(f"set_grad_enabled(): argument 'enabled' (position 1) must be "
                            f"bool, not {type(mode).__name__}")
        self.prev = _grad_mode()
        self.mode = mode
        _set_grad_mode(mode)

    def __enter__(self) -> None:
        _set_grad_mode(self.mode)

    def __exit__(self, *exc) -> None:
        _set_grad_mode(self.prev)

    def __call__(self, func):
        _set_grad_mode(self.prev)  # used as a decorator: __init__ must not leave it set
        return super().__call__(func)

    def clone(self):
        return set_grad_enabled(self.mode)


class inference_mode(_ModeContext, metaclass=_BareDecoratable):
    """Like ``no_grad``; tensors made inside are inference tensors that never record.

    ``inference_mode(False)`` turns inference mode off and recording on inside it.
    """

    def __init__(self, mode: bool = True) -> None:
        self.mode = mode

    def __enter__(self) -> None:
        self.prev = (GradMode.enabled, GradMode.inference, GradMode.requested)
        GradMode.enabled = GradMode.requested = not self.mode
        set_inference(bool(self.mode))

    def __exit__(self, *exc) -> None:
        GradMode.enabled, inference, GradMode.requested = self.prev
        set_inference(inference)

    def clone(self):
        return inference_mode(self.mode)


# Called with the new value whenever inference mode turns on or off: ``tensor.py`` swaps in
# the constructor that makes inference tensors, so ``Tensor._make`` itself checks nothing.
INFERENCE_SWITCHES: list = []


def set_inference(value: bool) -> None:
    """Turn inference mode on or off (``GradMode.inference``)."""
    if GradMode.inference is not value:
        GradMode.inference = value
        for switch in INFERENCE_SWITCHES:
            switch(value)


class set_multithreading_enabled(_ModeContext):
    """Whether the backward pass may run on several threads. ember's engine runs on the
    calling thread, so the setting is kept but changes nothing."""

    enabled = True

    def __init__(self, mode: bool) -> None:
        self.prev = set_multithreading_enabled.enabled
        self.mode = mode
        set_multithreading_enabled.enabled = mode

    def __enter__(self) -> None:
        pass

    def __exit__(self, *exc) -> None:
        set_multithreading_enabled.enabled = self.prev

    def clone(self):
        return set_multithreading_enabled(self.mode)
