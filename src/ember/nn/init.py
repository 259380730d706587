"""``ember.nn.init``: fill a tensor in place from a distribution, as layers initialise weights.

Every function writes straight into the tensor's storage (outside autograd, as under
``no_grad``), bumps its version counter and returns it. Random draws come from ember's
default generator unless a ``generator`` is given.
"""

from __future__ import annotations

import math
import warnings

import numpy as np

from .. import random as _random
from ..backend import to_device
from ..dtype import CPP_TYPE_NAMES, SCALAR_TYPE_NAMES
from ..ops.inplace import bump_version
from ..tensor import Tensor

__all__ = ["calculate_gain", "uniform_", "normal_", "trunc_normal_", "constant_", "zeros_",
           "ones_", "eye_", "dirac_", "kaiming_uniform_", "kaiming_normal_", "xavier_uniform_",
           "xavier_normal_", "orthogonal_"]

_LINEAR_GAIN_ONE = ("linear", "conv1d", "conv2d", "conv3d", "conv_transpose1d",
                    "conv_transpose2d", "conv_transpose3d", "sigmoid")


def _write(tensor: Tensor, values) -> Tensor:
    """Store host ``values`` (any float array broadcastable to it) into ``tensor``."""
    data = tensor._data
    if type(data) is not np.ndarray:
        values = to_device(np.asarray(values, dtype=data.dtype), tensor.device)
    data[...] = values
    bump_version(tensor)
    return tensor


def _check_float(tensor: Tensor, kernel: str) -> None:
    if not tensor.is_floating_point():
        raise NotImplementedError(
            f'"{kernel}" not implemented for \'{SCALAR_TYPE_NAMES[tensor.dtype.name]}\'')


def calculate_gain(nonlinearity: str, param: int | float | None = None) -> float:
    """The recommended gain for a nonlinearity (``relu``: sqrt(2), ``tanh``: 5/3, ...).

    Args:
        nonlinearity: the function's name, as in ``nn.functional``.
        param: the negative slope for ``'leaky_relu'`` (default 0.01).
    """
    if nonlinearity in _LINEAR_GAIN_ONE:
        return 1
    if nonlinearity == "tanh":
        return 5.0 / 3
    if nonlinearity == "relu":
        return math.sqrt(2.0)
    if nonlinearity == "leaky_relu":
        if param is None:
            slope = 0.01
        elif not isinstance(param, bool) and isinstance(param, (int, float)):
            slope = param
        else:
            raise ValueError(f"negative_slope {param} not a valid number")
        return math.sqrt(2.0 / (1 + slope**2))
    if nonlinearity == "selu":
        return 3.0 / 4
    raise ValueError(f"Unsupported nonlinearity {nonlinearity}")


def _calculate_fan_in_and_fan_out(tensor: Tensor) -> tuple[int, int]:
    """``(fan_in, fan_out)``: dim 1 and dim 0 times the size of the remaining dims."""
    if tensor.dim() < 2:
        raise ValueError("Fan in and fan out can not be computed for tensor with fewer than 2 "
                         "dimensions")
    receptive = math.prod(tensor.shape[2:])
    return tensor.shape[1] * receptive, tensor.shape[0] * receptive


def _calculate_correct_fan(tensor: Tensor, mode: str) -> int:
    mode = mode.lower()
    valid = ["fan_in", "fan_out"]
    if mode not in valid:
        raise ValueError(f"Mode {mode} not supported, please use one of {valid}")
    fan_in, fan_out = _calculate_fan_in_and_fan_out(tensor)
    return fan_in if mode == "fan_in" else fan_out


def _check_uniform_bounds(tensor: Tensor, a: float, b: float) -> None:
    """PyTorch's checks of a U(a, b) fill: finite bounds that the dtype can hold, a <= b, and
    a width the dtype can hold. Numbers print as C++ prints a double."""
    info = np.finfo(tensor._data.dtype)
    for bound, name in ((a, "from"), (b, "to")):
        if not float(info.min) <= bound <= float(info.max):
            raise RuntimeError(f"{name} is out of bounds for {CPP_TYPE_NAMES[info.dtype.name]}")
    if a > b:
        raise RuntimeError(f"uniform_ expects to return a [from, to) range, but found "
                           f"from={a:g} > to={b:g}")
    if b - a > float(info.max):
        raise RuntimeError(
            f"uniform_ expects to-from <= std::numeric_limits<{SCALAR_TYPE_NAMES[info.dtype.name]}>"
            f"::max(), but found to={b:g} and from={a:g} which result in to-from to exceed the "
            "limit")


def uniform_(tensor: Tensor, a: float = 0.0, b: float = 1.0, generator=None) -> Tensor:
    """Fill ``tensor`` with values drawn from U(a, b)."""
    _check_float(tensor, "check_uniform_bounds")
    _check_uniform_bounds(tensor, a, b)
    rng = _random.rng_of(generator)
    return _write(tensor, rng.uniform(a, b, tuple(tensor.shape)))


def normal_(tensor: Tensor, mean: float = 0.0, std: float = 1.0, generator=None) -> Tensor:
    """Fill ``tensor`` with values drawn from N(mean, std²)."""
    _check_float(tensor, "normal_kernel_cpu")
    if not std >= 0:  # NaN fails too
        raise RuntimeError(f"normal expects std >= 0.0, but found std {std:g}")
    rng = _random.rng_of(generator)
    return _write(tensor, mean + std * rng.standard_normal(tuple(tensor.shape)))


def trunc_normal_(tensor: Tensor, mean: float = 0.0, std: float = 1.0, a: float = -2.0,
                  b: float = 2.0, generator=None) -> Tensor:
    """Fill ``tensor`` from N(mean, std²) truncated to [a, b], by PyTorch's rejection
    sampling: normal draws outside [a, b] are redrawn when [a, b] holds more than 30% of the
    mass; otherwise uniform draws on [a, b] are accepted with probability pdf(x) / pdf(mode).
    It works best when ``a <= mean <= b``."""
    def norm_cdf(x: float) -> float:
        return (1.0 + math.erf(x / math.sqrt(2.0))) / 2.0

    if mean < a - 2 * std or mean > b + 2 * std:
        warnings.warn("mean is more than 2 std from [a, b] in nn.init.trunc_normal_. The "
                      "distribution of values may be incorrect.", stacklevel=2)
    rng = _random.rng_of(generator)
    shape = tuple(tensor.shape)
    if norm_cdf((b - mean) / std) - norm_cdf((a - mean) / std) > 0.3:
        _check_float(tensor, "normal_kernel_cpu")
        # The bounds as the tensor's dtype holds them, so that every kept value lies inside.
        lo, hi = (float(np.asarray(v, dtype=tensor._data.dtype)) for v in (a, b))
        values = mean + std * rng.standard_normal(shape)
        pending = (values < lo) | (values > hi)
        while pending.any():
            values[pending] = mean + std * rng.standard_normal(int(pending.sum()))
            pending = (values < lo) | (values > hi)
        return _write(tensor, values)
    _check_float(tensor, "check_uniform_bounds")
    _check_uniform_bounds(tensor, a, b)
    log_peak = -0.5 * ((max(a, min(mean, b)) - mean) / std) ** 2
    values = rng.uniform(a, b, shape)
    pending = np.ones(shape, dtype=bool)
    while True:
        candidates = values[pending]
        log_pdf = -0.5 * ((candidates - mean) / std) ** 2 - log_peak
        rejected = np.log(rng.uniform(size=candidates.shape)) > log_pdf
        pending[pending] = rejected
        if not rejected.any():
            return _write(tensor, values)
        values[pending] = rng.uniform(a, b, int(rejected.sum()))


def constant_(tensor: Tensor, val: float) -> Tensor:
    """Fill ``tensor`` with ``val``."""
    return _write(tensor, val)


def zeros_(tensor: Tensor) -> Tensor:
    """Fill ``tensor`` with zeros."""
    return _write(tensor, 0)


def ones_(tensor: Tensor) -> Tensor:
    """Fill ``tensor`` with ones."""
    return _write(tensor, 1)


def eye_(tensor: Tensor) -> Tensor:
    """Fill the 2-d ``tensor`` with the identity matrix (ones on the main diagonal)."""
    if tensor.dim() != 2:
        raise ValueError("Only tensors with 2 dimensions are supported")
    return _write(tensor, np.eye(*tensor.shape))


def dirac_(tensor: Tensor, groups: int = 1) -> Tensor:
    """Fill the 3-, 4- or 5-d ``tensor`` (a convolution weight) with the Dirac delta, so the
    convolution passes as many input channels through as it can (per group)."""
    dims = tensor.dim()
    if dims not in (3, 4, 5):
        raise ValueError("Only tensors with 3, 4, or 5 dimensions are supported")
    sizes = tuple(tensor.shape)
    if sizes[0] % groups != 0:
        raise ValueError("dim 0 must be divisible by groups")
    out_per_group = sizes[0] // groups
    values = np.zeros(sizes)
    centre = tuple(n // 2 for n in sizes[2:])
    for g in range(groups):
        for d in range(min(out_per_group, sizes[1])):
            values[(g * out_per_group + d, d, *centre)] = 1
    return _write(tensor, values)


def _kaiming_std(tensor: Tensor, a: float, mode: str, nonlinearity: str) -> float:
    fan = _calculate_correct_fan(tensor, mode)
    return calculate_gain(nonlinearity, a) / math.sqrt(fan)


def kaiming_uniform_(tensor: Tensor, a: float = 0, mode: str = "fan_in",
                     nonlinearity: str = "leaky_relu", generator=None) -> Tensor:
    """He initialisation: U(-bound, bound) with ``bound = gain * sqrt(3 / fan)``.

    Args:
        a: the negative slope of the rectifier after this layer (for ``'leaky_relu'``).
        mode: ``'fan_in'`` keeps the forward pass's variance, ``'fan_out'`` the backward's.
        nonlinearity: the function after this layer (see ``calculate_gain``).
    """
    if 0 in tensor.shape:
        warnings.warn("Initializing zero-element tensors is a no-op", stacklevel=2)
        return tensor
    bound = math.sqrt(3.0) * _kaiming_std(tensor, a, mode, nonlinearity)
    return uniform_(tensor, -bound, bound, generator=generator)


def kaiming_normal_(tensor: Tensor, a: float = 0, mode: str = "fan_in",
                    nonlinearity: str = "leaky_relu", generator=None) -> Tensor:
    """He initialisation: N(0, std²) with ``std = gain / sqrt(fan)``."""
    if 0 in tensor.shape:
        warnings.warn("Initializing zero-element tensors is a no-op", stacklevel=2)
        return tensor
    return normal_(tensor, 0.0, _kaiming_std(tensor, a, mode, nonlinearity),
                   generator=generator)


def _xavier_std(tensor: Tensor, gain: float) -> float:
    fan_in, fan_out = _calculate_fan_in_and_fan_out(tensor)
    return gain * math.sqrt(2.0 / float(fan_in + fan_out))


def xavier_uniform_(tensor: Tensor, gain: float = 1.0, generator=None) -> Tensor:
    """Glorot initialisation: U(-a, a) with ``a = gain * sqrt(6 / (fan_in + fan_out))``."""
    a = math.sqrt(3.0) * _xavier_std(tensor, gain)
    return uniform_(tensor, -a, a, generator=generator)


def xavier_normal_(tensor: Tensor, gain: float = 1.0, generator=None) -> Tensor:
    """Glorot initialisation: N(0, std²) with ``std = gain * sqrt(2 / (fan_in + fan_out))``."""
    return normal_(tensor, 0.0, _xavier_std(tensor, gain), generator=generator)


def _reset_weight_and_bias(weight: Tensor, bias: Tensor | None) -> None:
    """PyTorch's default for Linear and Conv layers: ``kaiming_uniform_(weight,
    a=sqrt(5))``, and the bias from U(-1/sqrt(fan_in), 1/sqrt(fan_in))."""
    kaiming_uniform_(weight, a=math.sqrt(5))
    if bias is not None:
        fan_in, _ = _calculate_fan_in_and_fan_out(weight)
        bound = 1 / math.sqrt(fan_in) if fan_in > 0 else 0
        uniform_(bias, -bound, bound)


def orthogonal_(tensor: Tensor, gain: float = 1, generator=None) -> Tensor:
    """Fill ``tensor`` (2 or more dims, the trailing ones flattened) with a (semi-)orthogonal
    matrix times ``gain``: the Q of the QR decomposition of a standard normal draw, with
    signs fixed by R's diagonal so that it is uniformly distributed."""
    if tensor.dim() < 2:
        raise ValueError("Only tensors with 2 or more dimensions are supported")
    if tensor.numel() == 0:
        return tensor
    rows = tensor.shape[0]
    cols = tensor.numel() // rows
    flat = _random.rng_of(generator).standard_normal((rows, cols))
    if rows < cols:
        flat = flat.T
    q, r = np.linalg.qr(flat)
    q = q * np.sign(np.diag(r))
    if rows < cols:
        q = q.T
    return _write(tensor, gain * q.reshape(tuple(tensor.shape)))
