"""torchaudio's ``functional``: spectrograms, mel filter banks, the DCT, decibels and mu-law.

Each function has torchaudio's signature, defaults and errors. Everything is computed with
ember ops, so what takes a waveform or a spectrogram is differentiable with respect to it.
"""

from __future__ import annotations

import math
import warnings

from ... import creation, functions
from ...autograd.grad_mode import no_grad
from ...dtype import float32, int64
from ...tensor import Tensor
from ._stft import stft_parts

__all__ = ["spectrogram", "melscale_fbanks", "create_dct", "amplitude_to_DB",
           "DB_to_amplitude", "mu_law_encoding", "mu_law_decoding"]

_NO_COMPLEX = ("power=None asks for the complex spectrum, but ember has no complex dtype; "
               "pass a float power (1.0 for the magnitude, 2.0 for the power spectrum)")


def _get_spec_norms(normalized: bool | str) -> tuple[bool, bool]:
    """(frame-length normalisation, window normalisation) for ``normalized``."""
    if isinstance(normalized, str):
        if normalized not in ("frame_length", "window"):
            raise ValueError(f"Invalid normalized parameter: {normalized}")
        return normalized == "frame_length", normalized == "window"
    if isinstance(normalized, bool):
        return False, normalized
    raise TypeError("Input type not supported")


def spectrogram(waveform: Tensor, pad: int, window: Tensor, n_fft: int, hop_length: int,
                win_length: int, power: float | None, normalized: bool | str,
                center: bool = True, pad_mode: str = "reflect", onesided: bool = True,
                return_complex: bool | None = None) -> Tensor:
    """Create a spectrogram or a batch of spectrograms from a raw audio signal.

    Args:
        waveform: audio of dimension ``(..., time)``.
        pad: two-sided zero padding of the signal.
        window: the window multiplied onto each frame, of size ``win_length``.
        n_fft: size of the FFT. hop_length: hop between frames. win_length: window size.
        power: exponent of the magnitude (1 for magnitude, 2 for power, ...). ``None``
            (torchaudio's complex spectrum) raises ``NotImplementedError``: ember has no
            complex dtype.
        normalized: ``True`` or ``"window"`` divides by the window's L2 norm,
            ``"frame_length"`` by ``sqrt(n_fft)``.
        center: pad ``n_fft // 2`` on both sides so that frame ``t`` is centred at
            ``t * hop_length``. pad_mode: how (``"reflect"``, ``"constant"``,
            ``"replicate"``, ``"circular"``).
        onesided: keep only the ``n_fft // 2 + 1`` non-negative frequencies.
        return_complex: deprecated and not used (a warning, as in torchaudio).

    Returns:
        A tensor of dimension ``(..., freq, time)``: ``freq`` is ``n_fft // 2 + 1`` when
        onesided, ``time`` the number of frames. It is ``|STFT| ** power``, computed from
        ember ops (a gather of the frames, the window, a DFT matmul), so gradients flow to
        ``waveform`` and ``window``.
    """
    if return_complex is not None:
        warnings.warn(
            "`return_complex` argument is now deprecated and is not effective."
            "`torchaudio.functional.spectrogram(power=None)` always returns a tensor with "
            "complex dtype. Please remove the argument in the function call.", stacklevel=2)
    if power is None:
        raise NotImplementedError(_NO_COMPLEX)
    frame_length_norm, window_norm = _get_spec_norms(normalized)
    shape = tuple(waveform.shape)
    # torchaudio packs the zero-padded waveform, so only an unpadded empty one is ambiguous
    packed = waveform.reshape(-1 if pad <= 0 else math.prod(shape[:-1]), shape[-1])
    real, imag = stft_parts(packed, pad, window, n_fft, hop_length, win_length, center,
                            pad_mode, onesided, frame_length_norm)
    squared = real * real + imag * imag  # |STFT| ** 2, (batch, n_frames, n_freq)
    if window_norm:
        squared = squared / window.pow(2.0).sum()
    if power == 2.0:
        spec = squared
    else:
        # |z| = sqrt(|z|^2), with a zero gradient where |z| = 0 (as PyTorch's abs has)
        # rather than sqrt's infinite one.
        nonzero = squared > 0
        safe = functions.where(nonzero, squared, 1.0)
        magnitude = functions.where(nonzero, safe.sqrt(), 0.0)
        spec = magnitude if power == 1.0 else magnitude.pow(power)
    spec = spec.transpose(-1, -2)
    return spec.reshape(shape[:-1] + tuple(spec.shape[-2:]))


# ---- mel filter banks ---------------------------------------------------------------------
def _check_mel_scale(mel_scale: str) -> None:
    if mel_scale not in ("slaney", "htk"):
        raise ValueError('mel_scale should be one of "htk" or "slaney".')


def _hz_to_mel(freq: float, mel_scale: str = "htk") -> float:
    """Hz to mels on the HTK scale, or Slaney's (linear below 1 kHz, logarithmic above)."""
    _check_mel_scale(mel_scale)
    if mel_scale == "htk":
        return 2595.0 * math.log10(1.0 + (freq / 700.0))
    f_sp = 200.0 / 3
    mels = freq / f_sp
    min_log_hz = 1000.0
    min_log_mel = min_log_hz / f_sp
    logstep = math.log(6.4) / 27.0
    if freq >= min_log_hz:
        mels = min_log_mel + math.log(freq / min_log_hz) / logstep
    return mels


def _mel_to_hz(mels: Tensor, mel_scale: str = "htk") -> Tensor:
    """Mels to Hz, the inverse of ``_hz_to_mel``, elementwise."""
    _check_mel_scale(mel_scale)
    if mel_scale == "htk":
        return 700.0 * (10.0 ** (mels / 2595.0) - 1.0)
    f_sp = 200.0 / 3
    freqs = 0.0 + f_sp * mels
    min_log_hz = 1000.0
    min_log_mel = min_log_hz / f_sp
    logstep = math.log(6.4) / 27.0
    log_part = min_log_hz * functions.exp(logstep * (mels - min_log_mel))
    return functions.where(mels >= min_log_mel, log_part, freqs)


def _create_triangular_filterbank(all_freqs: Tensor, f_pts: Tensor) -> Tensor:
    """Overlapping triangles: (n_freqs, n_filter) from the STFT frequencies (n_freqs) and
    the filters' corner points (n_filter + 2)."""
    f_diff = f_pts[1:] - f_pts[:-1]
    slopes = f_pts.unsqueeze(0) - all_freqs.unsqueeze(1)  # (n_freqs, n_filter + 2)
    zero = creation.zeros(1)
    down_slopes = (-1.0 * slopes[:, :-2]) / f_diff[:-1]
    up_slopes = slopes[:, 2:] / f_diff[1:]
    return functions.maximum(zero, functions.minimum(down_slopes, up_slopes))


def melscale_fbanks(n_freqs: int, f_min: float, f_max: float, n_mels: int, sample_rate: int,
                    norm: str | None = None, mel_scale: str = "htk") -> Tensor:
    """Create a frequency bin conversion matrix: triangular mel filter banks of size
    ``(n_freqs, n_mels)``, so that ``A @ melscale_fbanks(A.size(-1), ...)`` maps a
    spectrogram ``A`` of ``(..., n_freqs)`` to mel bins.

    Args:
        n_freqs: number of STFT frequencies. f_min, f_max: the frequency range (Hz).
        n_mels: number of mel filter banks. sample_rate: of the audio waveform.
        norm: ``"slaney"`` divides each triangle by the width of its mel band (area
            normalisation); ``None`` leaves the peaks at 1.
        mel_scale: ``"htk"`` or ``"slaney"``.

    Warns (``UserWarning``) when a filter bank is all zeros (``n_mels`` too high or
    ``n_freqs`` too low), as torchaudio does. The result has the default dtype.
    """
    if norm is not None and norm != "slaney":
        raise ValueError('norm must be one of None or "slaney"')
    with no_grad():
        all_freqs = creation.linspace(0, sample_rate // 2, n_freqs)
        m_min = _hz_to_mel(f_min, mel_scale=mel_scale)
        m_max = _hz_to_mel(f_max, mel_scale=mel_scale)
        m_pts = creation.linspace(m_min, m_max, n_mels + 2)
        f_pts = _mel_to_hz(m_pts, mel_scale=mel_scale)
        fb = _create_triangular_filterbank(all_freqs, f_pts)
        if norm == "slaney":
            enorm = 2.0 / (f_pts[2:n_mels + 2] - f_pts[:n_mels])
            fb = fb * enorm.unsqueeze(0)
        if bool((fb.amax(dim=0) == 0.0).any()):
            warnings.warn(
                "At least one mel filterbank has all zero values. "
                f"The value for `n_mels` ({n_mels}) may be set too high. "
                f"Or, the value for `n_freqs` ({n_freqs}) may be set too low.", stacklevel=2)
    return fb


def create_dct(n_mfcc: int, n_mels: int, norm: str | None) -> Tensor:
    """Create a DCT-II transformation matrix of shape ``(n_mels, n_mfcc)``, to be
    right-multiplied to row-wise data of size ``(..., n_mels)``.

    ``norm`` is ``"ortho"`` (an orthonormal basis) or ``None`` (no scaling but a factor
    2). The result has the default dtype and is the transpose (a view) of an
    ``(n_mfcc, n_mels)`` matrix, as in torchaudio.
    """
    if norm is not None and norm != "ortho":
        raise ValueError('norm must be either "ortho" or None')
    with no_grad():
        n = creation.arange(float(n_mels))
        k = creation.arange(float(n_mfcc)).unsqueeze(1)
        dct = functions.cos(math.pi / float(n_mels) * (n + 0.5) * k)  # (n_mfcc, n_mels)
        if norm is None:
            dct *= 2.0
        else:
            dct[0] *= 1.0 / math.sqrt(2.0)
            dct *= math.sqrt(2.0 / float(n_mels))
    return dct.t()


# ---- decibels -------------------------------------------------------------------------------
def amplitude_to_DB(x: Tensor, multiplier: float, amin: float, db_multiplier: float,
                    top_db: float | None = None) -> Tensor:
    """Turn a spectrogram from the power/amplitude scale to the decibel scale:
    ``multiplier * log10(max(x, amin)) - multiplier * db_multiplier``.

    Args:
        x: spectrogram(s) of shape ``(freq, time)``, ``(channel, freq, time)`` or
            ``(..., batch, channel, freq, time)``.
        multiplier: 10 for power, 20 for amplitude. amin: the floor ``x`` is clamped to.
        db_multiplier: ``log10(max(ref, amin))``.
        top_db: if given, values more than ``top_db`` below the maximum are raised to it.
            The maximum is taken per item of the batch for inputs of 4 or more dims, over
            the whole tensor for 2-d and 3-d inputs.
    """
    x_db = multiplier * functions.log10(functions.clamp(x, min=amin))
    x_db = x_db - multiplier * db_multiplier
    if top_db is not None:
        shape = tuple(x_db.shape)
        packed_channels = shape[-3] if x_db.dim() > 2 else 1
        x_db = x_db.reshape(-1, packed_channels, shape[-2], shape[-1])
        floor = (x_db.amax(dim=(-3, -2, -1)) - top_db).view(-1, 1, 1, 1)
        x_db = functions.maximum(x_db, floor).reshape(shape)
    return x_db


def DB_to_amplitude(x: Tensor, ref: float, power: float) -> Tensor:
    """Turn a tensor from the decibel scale to the power/amplitude scale:
    ``ref * (10 ** (0.1 * x)) ** power`` (``power`` 1 gives power, 0.5 amplitude)."""
    return ref * functions.pow(functions.pow(10.0, 0.1 * x), power)


# ---- mu-law --------------------------------------------------------------------------------
def mu_law_encoding(x: Tensor, quantization_channels: int) -> Tensor:
    """Encode a signal scaled to [-1, 1] with mu-law companding, into int64 values from 0
    to ``quantization_channels - 1``. A non-floating input warns and is cast to float32, as
    in torchaudio. Not differentiable (the result is integer)."""
    mu = quantization_channels - 1.0
    if not x.is_floating_point():
        warnings.warn("The input Tensor must be of floating type.             "
                      "This will be an error in the v0.12 release.", stacklevel=2)
        x = x.to(float32)
    mu = creation.tensor(mu, dtype=x.dtype, device=x.device)
    x_mu = functions.sign(x) * functions.log1p(mu * functions.abs(x)) / functions.log1p(mu)
    return ((x_mu + 1) / 2 * mu + 0.5).to(int64)


def mu_law_decoding(x_mu: Tensor, quantization_channels: int) -> Tensor:
    """Decode a mu-law encoded signal (values from 0 to ``quantization_channels - 1``) into
    a signal scaled to [-1, 1]. Integer input is cast to float32."""
    mu = quantization_channels - 1.0
    if not x_mu.is_floating_point():
        x_mu = x_mu.to(float32)
    mu = creation.tensor(mu, dtype=x_mu.dtype, device=x_mu.device)
    x = (x_mu / mu) * 2 - 1.0
    return functions.sign(x) * (functions.exp(functions.abs(x) * functions.log1p(mu)) - 1.0) / mu
