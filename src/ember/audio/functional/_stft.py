"""The real short-time Fourier transform behind ``spectrogram``, from differentiable ops.

ember has no complex dtype and no FFT op, so the STFT is written as:

1. one gather: every frame sample is an index into the waveform, with the two-sided
   ``pad`` and the ``center`` padding (reflect, replicate, circular or constant) folded
   into the index map; positions that fall in a zero padding read any sample and are then
   multiplied by 0 (a mask), so their gradient is 0;
2. the window, multiplied onto the ``win_length`` samples it covers (PyTorch centres a
   shorter window in the ``n_fft`` frame and pads it with zeros, so the other samples
   contribute nothing and are not gathered);
3. the real DFT as one matmul with a ``(win_length, 2 * n_freq)`` matrix of cosines and
   negated sines: the real parts, then the imaginary parts.

Every step is an ember op (indexing, mul, matmul), so gradients flow back to the waveform
and the window, and higher derivatives work.
"""

from __future__ import annotations

import functools
import math

import numpy as np

from ... import creation
from ...tensor import Tensor

__all__ = ["stft_parts"]

_PAD_MODES = ("constant", "reflect", "replicate", "circular")


def _pad_map(length: int, left: int, right: int, mode: str) -> np.ndarray:
    """For each position of the padded signal, the index it reads in the unpadded one, or
    -1 for a zero."""
    pos = np.arange(-left, length + right)
    if mode == "constant":
        return np.where((pos >= 0) & (pos < length), pos, -1)
    if mode == "reflect":
        pos = np.abs(pos)
        return np.where(pos >= length, 2 * (length - 1) - pos, pos)
    if mode == "replicate":
        return np.clip(pos, 0, length - 1)
    return np.mod(pos, length)  # circular


def _check_padding(mode: str, pad: int, batch: int, length: int) -> None:
    """PyTorch's checks of ``F.pad`` on the (1, batch, length) view ``stft`` pads."""
    if mode not in _PAD_MODES:
        raise NotImplementedError(f"Unrecognised padding mode {mode}")
    if mode in ("reflect", "replicate") and (batch == 0 or length == 0):
        raise RuntimeError("Expected 2D or 3D (batch mode) tensor with possibly 0 batch size "
                           "and other non-zero dimensions for input, but got: "
                           f"[1, {batch}, {length}]")
    if mode == "reflect" and pad >= length:
        raise RuntimeError(
            "Argument #4: Padding size should be less than the corresponding input dimension, "
            f"but got: padding ({pad}, {pad}) at dimension 2 of input [1, {batch}, {length}]")
    if mode == "circular" and pad > length:
        raise RuntimeError("Padding value causes wrapping around more than once.")


def _compose(outer: np.ndarray, inner: np.ndarray) -> np.ndarray:
    """The map ``inner[outer]``, keeping -1 (a zero) where either map has one."""
    return np.where(outer >= 0, inner[np.maximum(outer, 0)], -1)


@functools.lru_cache(maxsize=32)
def _frame_index(length: int, pad: int, n_fft: int, hop_length: int, win_length: int,
                 center: bool, pad_mode: str, batch: int):
    """(index, zero mask or None, frame count) of the windowed samples of every frame, as
    indices into the unpadded waveform of ``length`` samples."""
    index = np.arange(length)
    if pad > 0:  # torchaudio's two-sided zero padding, before the STFT
        index = _pad_map(length, pad, pad, "constant")
    padded = length + 2 * pad
    if center:
        half = n_fft // 2
        _check_padding(pad_mode, half, batch, padded)
        index = _compose(_pad_map(padded, half, half, pad_mode), index)
        padded += 2 * half
    if n_fft <= 0 or n_fft > padded:
        raise RuntimeError(f"stft: expected 0 < n_fft < {padded}, but got n_fft={n_fft}")
    if hop_length <= 0:
        raise RuntimeError(f"stft: expected hop_length > 0, but got hop_length={hop_length}")
    if win_length <= 0 or win_length > n_fft:
        raise RuntimeError(f"stft: expected 0 < win_length <= n_fft, but got "
                           f"win_length={win_length}")
    n_frames = 1 + (padded - n_fft) // hop_length
    offset = (n_fft - win_length) // 2  # where the window sits in the frame
    starts = np.arange(n_frames)[:, None] * hop_length + offset
    frames = index[starts + np.arange(win_length)]  # (n_frames, win_length)
    zero = frames < 0
    mask = (~zero).astype(np.float64) if zero.any() else None
    frames = np.maximum(frames, 0)
    for a in (frames, mask):
        if a is not None:
            a.flags.writeable = False  # cached: shared by every call
    return frames, mask, n_frames


@functools.lru_cache(maxsize=32)
def _dft_basis(n_fft: int, win_length: int, onesided: bool) -> np.ndarray:
    """(win_length, 2 * n_freq): cos(2 pi k n / n_fft) then -sin(2 pi k n / n_fft), for the
    frame samples n the window covers and the frequencies k kept (``n_fft // 2 + 1`` when
    onesided, else ``n_fft``). ``k * n`` is reduced modulo ``n_fft`` before scaling so the
    angles stay exact in float64."""
    offset = (n_fft - win_length) // 2
    n = np.arange(offset, offset + win_length, dtype=np.int64)[:, None]
    k = np.arange(n_fft // 2 + 1 if onesided else n_fft, dtype=np.int64)[None, :]
    angle = (n * k % n_fft) * (2.0 * math.pi / n_fft)
    basis = np.concatenate([np.cos(angle), -np.sin(angle)], axis=1)
    basis.flags.writeable = False
    return basis


def stft_parts(waveform: Tensor, pad: int, window: Tensor, n_fft: int, hop_length: int,
               win_length: int, center: bool, pad_mode: str, onesided: bool,
               frame_length_norm: bool) -> tuple[Tensor, Tensor]:
    """The real and imaginary parts of ``torch.stft(F.pad(waveform, (pad, pad)), ...)`` for a
    ``(batch, time)`` waveform, each ``(batch, n_frames, n_freq)``.

    Raises PyTorch's errors for a non-floating waveform, bad padding, ``n_fft``,
    ``hop_length``, ``win_length`` and window size."""
    if not waveform.is_floating_point():
        raise RuntimeError("stft: expected a tensor of floating point or complex values")
    batch, length = waveform.shape
    index, mask, n_frames = _frame_index(length, pad, n_fft, hop_length, win_length, center,
                                         pad_mode, batch)
    if window.dim() != 1 or window.shape[0] != win_length:
        raise RuntimeError(f"stft: expected a 1D window tensor of size equal to "
                           f"win_length={win_length}, but got window with size "
                           f"{list(window.shape)}")
    if length == 0:  # nothing but zero padding: there is no sample to gather
        frames = creation.zeros(batch, n_frames, win_length, dtype=waveform.dtype,
                                device=waveform.device)
    else:
        frames = waveform[:, index]  # (batch, n_frames, win_length)
    if mask is not None:
        frames = frames * creation.tensor(mask, dtype=frames.dtype, device=frames.device)
    frames = frames * window
    basis = _dft_basis(n_fft, win_length, onesided)
    if frame_length_norm:  # torch.stft(normalized=True): a factor n_fft ** -0.5
        basis = basis * n_fft ** -0.5
    basis = creation.tensor(basis, dtype=frames.dtype, device=frames.device)
    spec = frames.matmul(basis)  # (batch, n_frames, 2 * n_freq)
    n_freq = basis.shape[1] // 2
    return spec[..., :n_freq], spec[..., n_freq:]
