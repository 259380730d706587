"""Text rendering of tensors, matching the output of PyTorch's ``repr(tensor)``.

The entry point is :func:`format_tensor`, which takes a host NumPy array plus the
tensor metadata that the repr mentions (dtype, device, autograd state) and returns
the same string PyTorch would print, with ``ember.`` in place of ``torch.``.

Global print options (precision, summarisation threshold, edge items, line width,
scientific notation) are kept in a module-level object and changed through
:func:`set_printoptions` / :func:`printoptions`, mirroring ``torch.set_printoptions``.

Only NumPy and the standard library are used.  Large tensors are summarised before
any per-element work, so printing a huge tensor only formats the elements shown.
"""

from __future__ import annotations

import contextlib
import dataclasses
import math
from collections.abc import Iterator, Sequence
from typing import Any

import numpy as np

__all__ = ["format_tensor", "get_printoptions", "printoptions", "set_printoptions"]

_FLOAT_DTYPES = frozenset(
    {
        "float16",
        "float32",
        "float64",
        "bfloat16",
        "float8_e4m3fn",
        "float8_e5m2",
        "float8_e4m3fnuz",
        "float8_e5m2fnuz",
    }
)
_COMPLEX_DTYPES = frozenset({"complex32", "complex64", "complex128"})

_PREFIX = "tensor("


@dataclasses.dataclass
class _PrintOptions:
    """Current global print options (same fields and defaults as PyTorch)."""

    precision: int = 4
    threshold: float = 1000
    edgeitems: int = 3
    linewidth: int = 80
    sci_mode: bool | None = None


_OPTS = _PrintOptions()

# profile name -> (precision, threshold, edgeitems, linewidth)
_PROFILES: dict[str, tuple[int, float, int, int]] = {
    "default": (4, 1000, 3, 80),
    "short": (2, 1000, 2, 80),
    "full": (4, math.inf, 3, 80),
}


def set_printoptions(
    precision: int | None = None,
    threshold: float | None = None,
    edgeitems: int | None = None,
    linewidth: int | None = None,
    profile: str | None = None,
    sci_mode: bool | None = None,
) -> None:
    """Set the global print options, with the semantics of ``torch.set_printoptions``.

    A ``profile`` ('default', 'short' or 'full') is applied first; any explicitly
    given option then overrides it.  ``sci_mode`` is always assigned, so omitting it
    resets it to ``None`` (automatic choice), exactly as PyTorch does.
    """
    if profile is not None and profile in _PROFILES:
        (_OPTS.precision, _OPTS.threshold, _OPTS.edgeitems, _OPTS.linewidth) = _PROFILES[profile]
    if precision is not None:
        _OPTS.precision = precision
    if threshold is not None:
        _OPTS.threshold = threshold
    if edgeitems is not None:
        _OPTS.edgeitems = edgeitems
    if linewidth is not None:
        _OPTS.linewidth = linewidth
    _OPTS.sci_mode = sci_mode


def get_printoptions() -> dict[str, Any]:
    """Return the current print options as a dict usable as ``set_printoptions(**d)``."""
    return dataclasses.asdict(_OPTS)


@contextlib.contextmanager
def printoptions(**kwargs: Any) -> Iterator[None]:
    """Context manager that temporarily applies ``set_printoptions(**kwargs)``."""
    saved = get_printoptions()
    set_printoptions(**kwargs)
    try:
        yield
    finally:
        set_printoptions(**saved)


class _Formatter:
    """Decides a common width and style for all elements of one (real) array.

    Mirrors the rules PyTorch uses: integers and bools are printed with ``str``;
    floats are printed either as integers with a trailing dot (``int_mode``), with a
    fixed number of decimals, or in scientific notation (``sci_mode``).  The width is
    the widest rendering among the non-zero finite values (all values for integers).
    """

    def __init__(self, values: np.ndarray, floating: bool) -> None:
        self.floating = floating
        self.int_mode = True
        self.sci_mode = False
        self.max_width = 1
        flat = values.reshape(-1)
        if flat.size == 0:
            return
        if floating:
            self._scan_floats(flat)
        else:
            # str() width is monotone in the value, so the extremes are enough
            # (for bools, min() is False exactly when a False is present).
            for value in (flat.min().item(), flat.max().item()):
                self.max_width = max(self.max_width, len(f"{value}"))

    def _scan_floats(self, flat: np.ndarray) -> None:
        """Choose int/sci mode and the width from the non-zero finite values."""
        nonzero = flat[np.isfinite(flat) & (flat != 0)]
        if nonzero.size == 0:
            return
        magnitudes = np.abs(nonzero).astype(np.float64)
        smallest, largest = float(magnitudes.min()), float(magnitudes.max())
        self.int_mode = bool(np.all(nonzero == np.ceil(nonzero)))
        if _OPTS.sci_mode is None:
            self.sci_mode = largest / smallest > 1000.0 or largest > 1.0e8 or smallest < 1.0e-4
        else:
            self.sci_mode = bool(_OPTS.sci_mode)
        for value in _extreme_values(nonzero):
            self.max_width = max(self.max_width, self._plain_width(value))

    def _plain_width(self, value: float) -> int:
        """Width of ``value`` in the chosen style (before padding)."""
        precision = _OPTS.precision
        if self.sci_mode:
            return len(f"{value:.{precision}e}")
        if self.int_mode:
            return len(f"{value:.0f}") + 1  # the trailing "."
        return len(f"{value:.{precision}f}")

    def width(self) -> int:
        """Common width of every formatted element."""
        return self.max_width

    def format(self, value: Any) -> str:
        """Format one Python scalar, right-aligned to the common width."""
        if not self.floating:
            text = f"{value}"
        elif self.sci_mode:
            text = f"{value:{self.max_width}.{_OPTS.precision}e}"
        elif self.int_mode:
            text = f"{value:.0f}"
            if not (math.isinf(value) or math.isnan(value)):
                text += "."
        else:
            text = f"{value:.{_OPTS.precision}f}"
        return text.rjust(self.max_width)


def _extreme_values(nonzero: np.ndarray) -> list[float]:
    """Smallest and largest magnitudes among positive and among negative values.

    Fixed-point and scientific renderings have a width that depends only on the
    sign and on a quantity monotone in the magnitude (integer digits, or the
    exponent, whose absolute value peaks at an end of the range), so these at most
    four values reach the maximal width of the whole set.
    """
    picks: list[float] = []
    for part in (nonzero[nonzero > 0], nonzero[nonzero < 0]):
        if part.size:
            picks.append(float(part.min()))
            picks.append(float(part.max()))
    return picks


class _ElementFormatter:
    """Formats scalars of a real or complex array with one or two formatters."""

    def __init__(self, real: _Formatter, imag: _Formatter | None = None) -> None:
        self.real = real
        self.imag = imag

    def element_length(self) -> int:
        """Room one element takes on a line, including the ``", "`` separator."""
        length = self.real.width() + 2
        if self.imag is not None:
            length += self.imag.width() + 1  # imaginary part and its "j"
        return length

    def __call__(self, value: Any) -> str:
        if self.imag is None:
            return self.real.format(value)
        real_text = self.real.format(value.real)
        imag_text = (self.imag.format(value.imag) + "j").lstrip()
        if imag_text[0] in "+-":
            return real_text + imag_text
        return real_text + "+" + imag_text


def _summarized(array: np.ndarray) -> np.ndarray:
    """The elements a summarised print shows (first/last ``edgeitems`` per axis)."""
    edge = _OPTS.edgeitems
    if array.ndim == 0:
        return array
    if array.ndim == 1:
        if array.shape[0] > 2 * edge:
            # With edge == 0, array[-0:] is the whole array, as in PyTorch.
            return np.concatenate((array[:edge], array[-edge:]))
        return array
    if not edge:
        return array[tuple(slice(0, 0) for _ in range(array.ndim))]
    for axis, size in enumerate(array.shape):
        if size > 2 * edge:
            keep = np.r_[0:edge, size - edge : size]
            array = np.take(array, keep, axis=axis)
    return array


def _vector_str(row: np.ndarray, indent: int, summarize: bool, fmt: _ElementFormatter) -> str:
    """Render a 1-d array, wrapping elements to the line width."""
    per_line = max(1, math.floor((_OPTS.linewidth - indent) / fmt.element_length()))
    edge = _OPTS.edgeitems
    if summarize and not edge:
        items = ["..."]
    elif summarize and row.shape[0] > 2 * edge:
        items = [fmt(v) for v in row[:edge].tolist()]
        items.append(" ...")
        items.extend(fmt(v) for v in row[-edge:].tolist())
    else:
        items = [fmt(v) for v in row.tolist()]
    lines = [", ".join(items[i : i + per_line]) for i in range(0, len(items), per_line)]
    return "[" + (",\n" + " " * (indent + 1)).join(lines) + "]"


def _nested_str(array: np.ndarray, indent: int, summarize: bool, fmt: _ElementFormatter) -> str:
    """Render an array of any rank as nested brackets."""
    if array.ndim == 0:
        return fmt(array.item())
    if array.ndim == 1:
        return _vector_str(array, indent, summarize, fmt)
    size = array.shape[0]
    edge = _OPTS.edgeitems
    rows: Sequence[int | None]
    if summarize and size > 2 * edge:
        rows = [*range(edge), None, *range(size - edge, size)]
    else:
        rows = range(size)
    parts = [
        "..." if i is None else _nested_str(array[i], indent + 1, summarize, fmt) for i in rows
    ]
    return "[" + ("," + "\n" * (array.ndim - 1) + " " * (indent + 1)).join(parts) + "]"


def _is_floating(array: np.ndarray, dtype_name: str) -> bool:
    if dtype_name in _FLOAT_DTYPES:
        return True
    return dtype_name not in _COMPLEX_DTYPES and array.dtype.kind == "f"


def _is_complex(array: np.ndarray, dtype_name: str) -> bool:
    return dtype_name in _COMPLEX_DTYPES or array.dtype.kind == "c"


def _body_str(array: np.ndarray, dtype_name: str, indent: int) -> str:
    """Render the bracketed contents of a non-empty array."""
    summarize = array.size > _OPTS.threshold
    shown = _summarized(array) if summarize else array
    if _is_complex(array, dtype_name):
        fmt = _ElementFormatter(_Formatter(shown.real, True), _Formatter(shown.imag, True))
    else:
        fmt = _ElementFormatter(_Formatter(shown, _is_floating(array, dtype_name)))
    return _nested_str(array, indent, summarize, fmt)


def _add_suffixes(text: str, suffixes: list[str], indent: int) -> str:
    """Append ``, key=value`` suffixes, breaking lines that would pass the width."""
    pieces = [text]
    last_line_len = len(text) - text.rfind("\n") + 1
    for suffix in suffixes:
        if last_line_len + len(suffix) + 2 > _OPTS.linewidth:
            pieces.append(",\n" + " " * indent + suffix)
            last_line_len = indent + len(suffix)
        else:
            pieces.append(", " + suffix)
            last_line_len += len(suffix) + 2
    pieces.append(")")
    return "".join(pieces)


def _default_dtypes(default_dtype_name: str) -> tuple[str, ...]:
    """Dtypes whose name is left out of a non-empty tensor's repr."""
    default_complex = "complex128" if default_dtype_name == "float64" else "complex64"
    return (default_dtype_name, default_complex, "int64", "bool")


def format_tensor(
    array: Any,
    *,
    dtype_name: str,
    default_dtype_name: str,
    device: str | None = None,
    grad_fn_name: str | None = None,
    requires_grad: bool = False,
    prefix: str = _PREFIX,
    contents: str | None = None,
    tangent: str | None = None,
) -> str:
    """Return exactly what ``repr(tensor)`` prints in PyTorch (``torch.`` -> ``ember.``).

    Args:
        array: host NumPy array holding the values (any shape, 0-d and empty too).
        dtype_name: the tensor dtype, e.g. ``'float32'``, ``'int64'``, ``'bool'``.
        default_dtype_name: the current default floating dtype name.
        device: ``None``/``'cpu'`` print no device; anything else, e.g. ``'cuda:0'``,
            adds ``device='cuda:0'``.
        grad_fn_name: name of the producing backward node, e.g. ``'MulBackward0'``.
        requires_grad: whether the tensor requires grad (shown for leaves only,
            i.e. when ``grad_fn_name`` is ``None``).
        prefix: what opens the text: ``'tensor('``, or ``'<subclass name>('`` for a
            tensor subclass; continuation lines are indented to its length.
        contents: the text to print between the prefix and the suffixes instead of the
            values (``Tensor.__repr__``'s ``tensor_contents``).
        tangent: the repr of a dual tensor's tangent (forward-mode AD), printed last.
    """
    array = np.asarray(array)
    indent = len(prefix)
    suffixes: list[str] = []
    if device is not None and device != "cpu":
        suffixes.append(f"device='{device}'")
    shape_text = str(tuple(int(n) for n in array.shape))
    if array.size == 0:
        if array.ndim != 1:
            suffixes.append("size=" + shape_text)
        if dtype_name != default_dtype_name:
            suffixes.append(f"dtype=ember.{dtype_name}")
        body = "[]" if contents is None else contents
    else:
        if not _OPTS.edgeitems:
            suffixes.append("size=" + shape_text)
        if dtype_name not in _default_dtypes(default_dtype_name):
            suffixes.append(f"dtype=ember.{dtype_name}")
        body = _body_str(array, dtype_name, indent) if contents is None else contents
    if grad_fn_name is not None:
        suffixes.append(f"grad_fn=<{grad_fn_name}>")
    elif requires_grad:
        suffixes.append("requires_grad=True")
    if tangent is not None:
        suffixes.append("tangent=" + tangent)
    return _add_suffixes(prefix + body, suffixes, indent)
