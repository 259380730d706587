"""Convolution: ``conv1d``, ``conv2d`` and the three bilinear ops behind them.

A convolution ``conv(x, w)``, its input gradient (the transposed convolution
``conv_input_grad(g, w)``) and its weight gradient (``conv_weight_grad(x, g)``) are each
linear in both arguments, and each one's derivatives are the other two: so every order of
derivative is one of three array kernels (``backend/conv.py``).
"""

from __future__ import annotations

import warnings
from typing import TYPE_CHECKING

import numpy as np

from ..backend import conv as kernels
from ..backend.threads import get_num_threads
from ..dtype import CPP_TYPE_NAMES, SCALAR_TYPE_NAMES, result_type
from ._apply import apply, device_error
from .registry import defop

_ATTRS = ("stride", "padding", "dilation", "groups")

if TYPE_CHECKING:
    from ..tensor import Tensor


def _conv(x, w, b, attrs):
    return apply(CONVOLUTION, (x, w, b), attrs)


def _input_grad(g, w, input_size, attrs):
    return apply(CONV_INPUT_GRAD, (g, w), dict(attrs, input_size=tuple(input_size)))


def _weight_grad(x, g, weight_size, attrs):
    return apply(CONV_WEIGHT_GRAD, (x, g), dict(attrs, weight_size=tuple(weight_size)))


def _attrs(stride, padding, dilation, groups):
    return {"stride": stride, "padding": padding, "dilation": dilation, "groups": groups}


def _bias_grad(grad):
    return grad.sum((0,) + tuple(range(2, grad.ndim)))


CONVOLUTION = defop(
    "convolution", inputs=("input", "weight", "bias"), forward=kernels.conv,
    derivatives={
        "input": lambda grad, weight, input_shape, stride, padding, dilation, groups:
            _input_grad(grad, weight, input_shape, _attrs(stride, padding, dilation, groups)),
        "weight": lambda grad, input, weight_shape, stride, padding, dilation, groups:
            _weight_grad(input, grad, weight_shape, _attrs(stride, padding, dilation, groups)),
        "bias": lambda grad: _bias_grad(grad),
    })
CONV_INPUT_GRAD = defop(
    "convolution_backward_input", node="ConvolutionBackwardInput0",
    inputs=("grad_output", "weight"),
    forward=lambda g, w, input_size, stride, padding, dilation, groups:
        kernels.conv_input_grad(g, w, input_size, stride, padding, dilation, groups),
    derivatives={
        "grad_output": lambda grad, weight, stride, padding, dilation, groups:
            _conv(grad, weight, None, _attrs(stride, padding, dilation, groups)),
        "weight": lambda grad, grad_output, weight_shape, stride, padding, dilation, groups:
            _weight_grad(grad, grad_output, weight_shape,
                         _attrs(stride, padding, dilation, groups)),
    })
CONV_WEIGHT_GRAD = defop(
    "convolution_backward_weight", node="ConvolutionBackwardWeight0",
    inputs=("input", "grad_output"),
    forward=lambda x, g, weight_size, stride, padding, dilation, groups:
        kernels.conv_weight_grad(x, g, weight_size, stride, padding, dilation, groups),
    derivatives={
        "input": lambda grad, grad_output, input_shape, stride, padding, dilation, groups:
            _input_grad(grad_output, grad, input_shape, _attrs(stride, padding, dilation, groups)),
        "grad_output": lambda grad, input, stride, padding, dilation, groups:
            _conv(input, grad, None, _attrs(stride, padding, dilation, groups)),
    })


# ---- arguments ------------------------------------------------------------------------------
def _ints(value, nd: int) -> tuple:
    """An int argument as PyTorch's argument parser reads it: one int for every dim."""
    return (value,) * nd if isinstance(value, int) else tuple(value)


def _expand(name: str, value: tuple, nd: int) -> tuple:
    """PyTorch's ``expand_param_if_needed``: one value for every dim, or one for all."""
    if len(value) == 1:
        return value * nd
    if len(value) != nd:
        raise RuntimeError(f"expected {name} to be a single integer value or a list of {nd} "
                           f"values to match the convolution dimensions, but got "
                           f"{name}={list(value)}")
    return value


def _type_name(t) -> str:
    """A tensor's type as oneDNN's dtype checks print it (``ember.FloatTensor``, but
    ``CPUBoolType`` for bool)."""
    if t.dtype.name == "bool":
        return "CPUBoolType" if t.device.type == "cpu" else "CUDABoolType"
    return t.type()


def _same_padding(input, weight, stride, dilation, groups) -> tuple:
    """PyTorch's ``_convolution_same``: the (low, high) padding per dim that keeps the
    input's size; where a dim's total is odd, the extra row goes on the high side."""
    nd = weight.ndim - 2
    if nd < 1:
        raise RuntimeError("weight should have at least three dimensions")
    if groups <= 0:
        raise RuntimeError("non-positive groups is not supported")
    if weight.ndim != input.ndim:
        raise RuntimeError(f"Expected {weight.ndim}-dimensional input for {weight.ndim}-"
                           f"dimensional weight{list(weight.shape)}, but got {input.ndim}-"
                           f"dimensional input of size {list(input.shape)} instead")
    for name, value in (("stride", stride), ("dilation", dilation)):
        if len(value) not in (1, nd):
            raise RuntimeError(f"{name} cannot broadcast to {nd} dimensions")
    if any(s != 1 for s in stride):
        raise RuntimeError("padding='same' is not supported for strided convolutions")
    pads = []
    for d, k in zip(dilation * nd if len(dilation) == 1 else dilation, weight.shape[2:]):
        total = d * (k - 1)
        low = abs(total) // 2 * (1 if total >= 0 else -1)  # C++ division: toward zero
        pads.append((low, total - low))
    if any(lo != hi for lo, hi in pads) and not _warned_same:
        _warned_same.append(True)  # once per process, as PyTorch's TORCH_WARN_ONCE
        warnings.warn("Using padding='same' with even kernel lengths and odd dilation may "
                      "require a zero-padded copy of the input be created", stacklevel=4)
    return tuple(pads)


_warned_same: list = []


def _uses_mkldnn(input, weight, stride, dilation, groups) -> bool:
    """Whether PyTorch's CPU convolution would run this call through oneDNN (its
    ``use_mkldnn``), whose checks and messages differ from the native kernel's."""
    if input.dtype.name != "float32" or input.device.type != "cpu":
        return False
    n, c = input.shape[:2]
    kh, kw = (1,) + weight.shape[2:] if weight.ndim == 3 else weight.shape[-2:]
    plane = int(np.prod(input.shape[2:], dtype=np.int64))
    return (any(s != 1 for s in stride) or any(d != 1 for d in dilation) or n >= 16
            or kh != 1 or kw != 1 or get_num_threads() > 1) and \
        (groups > 1 or (kw > 3 and kh > 3) or n > 1 or n * c * plane > 20480)


def _check(input, weight, bias, stride, padding, dilation, groups, output_padding):
    """PyTorch's checks in ``at::_convolution``, in its order. ``padding`` is PyTorch's
    list, or ('same') one (low, high) pair per dim. Returns stride, the (low, high) pairs
    and dilation, one value per dim."""
    if weight.ndim < 3:
        raise RuntimeError("weight should have at least three dimensions")
    if groups <= 0:
        raise RuntimeError("non-positive groups is not supported")
    dim = weight.ndim - 2
    stride = _expand("stride", stride, dim)
    pads = padding if isinstance(padding[0], tuple) else \
        tuple((p, p) for p in _expand("padding", padding, dim))
    dilation = _expand("dilation", dilation, dim)
    _expand("output_padding", output_padding, dim)
    if any(lo < 0 for lo, _ in pads):  # (with 'same', PyTorch pads or crops the high side)
        raise RuntimeError("negative padding is not supported")
    if any(s <= 0 for s in stride):
        raise RuntimeError("non-positive stride is not supported")
    if any(d < 0 for d in dilation):
        raise RuntimeError("dilation should be greater than zero")
    if weight.ndim != input.ndim:
        raise RuntimeError(f"Expected {weight.ndim}-dimensional input for {weight.ndim}-"
                           f"dimensional weight {list(weight.shape)}, but got {input.ndim}-"
                           f"dimensional input of size {list(input.shape)} instead")
    o = weight.shape[0]
    if o < groups:
        raise RuntimeError(f"Given groups={groups}, expected weight to be at least {groups} "
                           f"at dimension 0, but got weight of size {list(weight.shape)} "
                           "instead")
    if o % groups:  # PyTorch's message prints the size in double brackets
        raise RuntimeError(f"Given groups={groups}, expected weight to be divisible by {groups} "
                           f"at dimension 0, but got weight of size [{list(weight.shape)}] "
                           "instead")
    if input.shape[1] != weight.shape[1] * groups:
        # with padding='same' and an odd total, PyTorch pads the input's high side first
        shown = list(input.shape[:2]) + [s + hi - lo for s, (lo, hi) in
                                         zip(input.shape[2:], pads)]
        raise RuntimeError(f"Given groups={groups}, weight of size {list(weight.shape)}, "
                           f"expected input{shown} to have {weight.shape[1] * groups} "
                           f"channels, but got {input.shape[1]} channels instead")
    if bias is not None and (bias.ndim != 1 or bias.shape[0] != o):
        raise RuntimeError(f"Given weight of size {list(weight.shape)}, expected bias to be "
                           f"1-dimensional with {o} elements, but got bias of size "
                           f"{list(bias.shape)} instead")
    padded = [s + lo + hi for s, (lo, hi) in zip(input.shape[2:], pads)]
    kernel = [d * (k - 1) + 1 for d, k in zip(dilation, weight.shape[2:])]
    if any(k > s for k, s in zip(kernel, padded)):
        raise RuntimeError(
            f"Calculated padded input size per channel: ({' x '.join(map(str, padded))}). "
            f"Kernel size: ({' x '.join(map(str, kernel))}). Kernel size can't be greater "
            "than actual input size")
    if type(input._data) is not type(weight._data):
        raise device_error(input, weight)
    if input.numel() == 0:  # PyTorch's empty backend checks nothing more
        return stride, pads, dilation
    if weight.dtype is input.dtype and all(d > 0 for d in dilation) and \
            (bias is None or bias.dtype is input.dtype) and input.dtype.name != "bool":
        return stride, pads, dilation
    if _uses_mkldnn(input, weight, stride, dilation, groups):
        if weight.dtype is not input.dtype:
            raise RuntimeError(f"Input type ({_type_name(input)}) and weight type "
                               f"({_type_name(weight)}) should be the same or input should "
                               "be a MKLDNN tensor and weight is a dense tensor")
        if bias is not None and bias.dtype is not input.dtype:
            raise RuntimeError(f"Input type ({_type_name(input)}) and bias type "
                               f"({_type_name(bias)}) should be the same or input should be "
                               "a MKLDNN tensor and bias is a dense tensor")
        if any(d <= 0 for d in dilation):
            raise RuntimeError("non-positive dilation is not supported")
        return stride, pads, dilation
    if any(d <= 0 for d in dilation):  # the native kernel sees 1-d as 2-d
        shown = list(dilation) if dim > 1 else [1, dilation[0]]
        raise RuntimeError(f"dilation should be greater than zero, but got {shown}")
    if weight.dtype is not input.dtype:
        raise RuntimeError(f"expected scalar type {SCALAR_TYPE_NAMES[input.dtype.name]} but found "
                           f"{SCALAR_TYPE_NAMES[weight.dtype.name]}")
    if input.dtype.name == "bool":
        raise NotImplementedError("\"slow_conv2d_cpu\" not implemented for 'Bool'")
    return stride, pads, dilation


def _empty_input(input, weight):
    """An empty input in the dtype of PyTorch's empty-input result, which it computes as
    ``input * weight.view(-1)[0]`` (or, with no input channels, ``input.view(-1) *
    weight.view(-1)``), whatever the two dtypes."""
    if input.dtype is weight.dtype:
        return input
    other = weight.detach().reshape(-1)
    return input.to(result_type(input, other[0] if input.shape[1] else other))


def _convnd(input, weight, bias, stride, padding, dilation, groups, nd: int, name: str):
    # (PyTorch's overload for a padding string checks the bias's dtype in the kernel only,
    # and its native kernel takes any floating bias)
    if bias is not None and bias.dtype is not input.dtype and not isinstance(padding, str):
        raise RuntimeError(f"Input type ({CPP_TYPE_NAMES[input.dtype.name]}) and bias type "
                           f"({CPP_TYPE_NAMES[bias.dtype.name]}) should be the same")
    if input.ndim not in (nd + 1, nd + 2):
        raise RuntimeError(f"Expected {nd + 1}D (unbatched) or {nd + 2}D (batched) input to "
                           f"{name}, but got input of size: {list(input.shape)}")
    unbatched = input.ndim == nd + 1
    if unbatched:
        input = input.unsqueeze(0)
    stride = _ints(stride, nd)
    dilation = _ints(dilation, nd)
    output_padding = (0,) * nd  # the string paddings call PyTorch's convolution with [0]
    if isinstance(padding, str):
        output_padding = (0,)
        if padding == "same":
            padding = _same_padding(input, weight, stride, dilation, groups)
        elif padding == "valid":
            padding = (0,)
        else:
            raise RuntimeError(f"Invalid padding string: '{padding}'")
    else:
        padding = _ints(padding, nd)
    stride, pads, dilation = _check(input, weight, bias, stride, padding, dilation, groups,
                                    output_padding)
    if input.numel() == 0:
        input = _empty_input(input, weight)
        if input.shape[1] == 0:  # as PyTorch: no input channels, no output channels
            weight = weight[:0]
            bias = None if bias is None else bias[:0]
    out = _conv(input, weight, bias, _attrs(stride, pads, dilation, groups))
    return out.squeeze(0) if unbatched else out


def conv1d(input: Tensor, weight: Tensor, bias: Tensor | None = None, stride=1, padding=0,
           dilation=1, groups: int = 1) -> Tensor:
    """1-d cross-correlation of ``input`` (N, C_in, L) or (C_in, L) with ``weight``
    (C_out, C_in / groups, kW); ``padding`` may be an int, a tuple, 'valid' or 'same'."""
    return _convnd(input, weight, bias, stride, padding, dilation, groups, 1, "conv1d")


def conv2d(input: Tensor, weight: Tensor, bias: Tensor | None = None, stride=1, padding=0,
           dilation=1, groups: int = 1) -> Tensor:
    """2-d cross-correlation of ``input`` (N, C_in, H, W) or (C_in, H, W) with ``weight``
    (C_out, C_in / groups, kH, kW), plus ``bias`` (C_out,).

    ``stride``, ``padding`` and ``dilation`` are ints or pairs; ``padding`` may also be
    'valid' (none) or 'same' (output as large as the input, stride 1 only). ``groups``
    splits the channels into that many independent convolutions."""
    return _convnd(input, weight, bias, stride, padding, dilation, groups, 2, "conv2d")


__all__ = ["conv1d", "conv2d"]
