"""Anomaly detection: NaNs in backward (PyTorch's) and in forward (ember's ``check_forward``)."""

from __future__ import annotations

import os
import traceback
import warnings

__all__ = ["AnomalyMode", "detect_anomaly", "set_detect_anomaly", "is_anomaly_enabled",
           "is_anomaly_check_nan_enabled", "set_anomaly_enabled", "forward_trace", "user_frame"]


class AnomalyMode:
    enabled = False
    check_nan = True
    check_forward = False
    current_node = None  # the node whose backward is running (parent of nodes it makes)


def is_anomaly_enabled() -> bool:
    return AnomalyMode.enabled


def is_anomaly_check_nan_enabled() -> bool:
    return AnomalyMode.check_nan


def set_anomaly_enabled(enabled: bool, check_nan: bool = True) -> None:
    """Turn anomaly detection on or off (``ember.set_anomaly_enabled``)."""
    AnomalyMode.enabled = enabled
    AnomalyMode.check_nan = check_nan


class detect_anomaly:
    """Context manager that makes backward raise at the first NaN, naming the forward op.

    ``check_forward=True`` (beyond PyTorch) also raises at the first forward op whose output
    holds a NaN or Inf, with the op, its input shapes and the line that called it.
    """

    def __init__(self, check_nan: bool = True, check_forward: bool = False) -> None:
        self.check_nan = check_nan
        self.check_forward = check_forward
        warnings.warn(
            "Anomaly Detection has been enabled. This mode will increase the runtime and "
            "should only be enabled for debugging.",
            stacklevel=2,
        )

    def __enter__(self) -> None:
        self.prev = (AnomalyMode.enabled, AnomalyMode.check_nan, AnomalyMode.check_forward)
        AnomalyMode.enabled = True
        AnomalyMode.check_nan = self.check_nan
        AnomalyMode.check_forward = self.check_forward
        _refresh()

    def __exit__(self, *exc) -> None:
        AnomalyMode.enabled, AnomalyMode.check_nan, AnomalyMode.check_forward = self.prev
        _refresh()

    def __call__(self, func):
        import functools

        @functools.wraps(func)
        def wrapper(*args, **kwargs):
            with self:
                return func(*args, **kwargs)
        return wrapper


class set_detect_anomaly:
    """Turn anomaly detection on or off, at once and as a context manager."""

    def __init__(self, mode: bool, check_nan: bool = True, check_forward: bool = False) -> None:
        self.prev = (AnomalyMode.enabled, AnomalyMode.check_nan, AnomalyMode.check_forward)
        AnomalyMode.enabled = mode
        AnomalyMode.check_nan = check_nan
        AnomalyMode.check_forward = check_forward
        _refresh()

    def __enter__(self) -> None:
        pass

    def __exit__(self, *exc) -> None:
        AnomalyMode.enabled, AnomalyMode.check_nan, AnomalyMode.check_forward = self.prev
        _refresh()


def _refresh() -> None:
    # the forward ops check one flag for this and forward-mode AD
    from .forward_grad import refresh
    refresh()


_PACKAGE_DIR = os.path.dirname(os.path.dirname(os.path.abspath(__file__))) + os.sep


def _is_internal(filename: str) -> bool:
    return os.path.abspath(filename).startswith(_PACKAGE_DIR)


def forward_trace() -> str:
    """The stack of the forward call being recorded, without ember's own frames."""
    frames = [f for f in traceback.extract_stack()[:-1] if not _is_internal(f.filename)]
    return "".join(traceback.format_list(frames))


def user_frame() -> str:
    """'file:line in function' of the innermost caller outside ember."""
    for f in reversed(traceback.extract_stack()[:-1]):
        if not _is_internal(f.filename):
            return f'File "{f.filename}", line {f.lineno}, in {f.name}\n    {f.line}'
    return "<unknown>"
