"""torchaudio's transforms as ``ember.nn.Module``s, with torchaudio's constructor defaults,
attributes, buffers (``window``, ``fb``, ``dct_mat``) and submodule names, so that their
``state_dict`` keys and printed forms are torchaudio's."""

from __future__ import annotations

import math
import warnings
from collections.abc import Callable

from ... import functions
from ...creation import hann_window
from ...nn.modules.module import Module
from ...tensor import Tensor
from .. import functional as F
from ..functional.functional import _NO_COMPLEX

__all__ = ["Spectrogram", "MelScale", "MelSpectrogram", "AmplitudeToDB", "MFCC",
           "MuLawEncoding", "MuLawDecoding"]


class Spectrogram(Module):
    """Create a spectrogram from an audio signal.

    Args:
        n_fft: size of the FFT, giving ``n_fft // 2 + 1`` frequency bins. (Default: 400)
        win_length: window size. (Default: ``n_fft``)
        hop_length: hop between frames. (Default: ``win_length // 2``)
        pad: two-sided zero padding of the signal. (Default: 0)
        window_fn: makes the window, registered as the buffer ``window``.
            (Default: ``ember.hann_window``)
        power: exponent of the magnitude, e.g. 1 for magnitude, 2 for power. (Default: 2)
            torchaudio's ``None`` (the complex spectrum) raises ``NotImplementedError``:
            ember has no complex dtype.
        normalized: ``True``/``"window"`` or ``"frame_length"`` (see
            ``functional.spectrogram``). (Default: False)
        wkwargs: keyword arguments for ``window_fn``. center, pad_mode, onesided: as in
            ``functional.spectrogram``. return_complex: deprecated and not used.
    """

    __constants__ = ["n_fft", "win_length", "hop_length", "pad", "power", "normalized"]

    def __init__(self, n_fft: int = 400, win_length: int | None = None,
                 hop_length: int | None = None, pad: int = 0,
                 window_fn: Callable[..., Tensor] = hann_window, power: float | None = 2.0,
                 normalized: bool | str = False, wkwargs: dict | None = None,
                 center: bool = True, pad_mode: str = "reflect", onesided: bool = True,
                 return_complex: bool | None = None) -> None:
        super().__init__()
        if power is None:
            raise NotImplementedError(_NO_COMPLEX)
        self.n_fft = n_fft
        self.win_length = win_length if win_length is not None else n_fft
        self.hop_length = hop_length if hop_length is not None else self.win_length // 2
        window = window_fn(self.win_length) if wkwargs is None else \
            window_fn(self.win_length, **wkwargs)
        self.register_buffer("window", window)
        self.pad = pad
        self.power = power
        self.normalized = normalized
        self.center = center
        self.pad_mode = pad_mode
        self.onesided = onesided
        if return_complex is not None:
            warnings.warn(
                "`return_complex` argument is now deprecated and is not effective."
                "`torchaudio.transforms.Spectrogram(power=None)` always returns a tensor with "
                "complex dtype. Please remove the argument in the function call.", stacklevel=2)

    def forward(self, waveform: Tensor) -> Tensor:
        """(..., time) -> (..., freq, time): ``|STFT(waveform)| ** power``."""
        return F.spectrogram(waveform, self.pad, self.window, self.n_fft, self.hop_length,
                             self.win_length, self.power, self.normalized, self.center,
                             self.pad_mode, self.onesided)


class AmplitudeToDB(Module):
    """Turn a tensor from the power/amplitude scale to the decibel scale.

    Args:
        stype: scale of the input, ``"power"`` (the default) or ``"magnitude"``.
        top_db: minimum negative cut-off in decibels (80 is reasonable); must be
            non-negative. (Default: None)
    """

    __constants__ = ["multiplier", "amin", "ref_value", "db_multiplier"]

    def __init__(self, stype: str = "power", top_db: float | None = None) -> None:
        super().__init__()
        self.stype = stype
        if top_db is not None and top_db < 0:
            raise ValueError("top_db must be positive value")
        self.top_db = top_db
        self.multiplier = 10.0 if stype == "power" else 20.0
        self.amin = 1e-10
        self.ref_value = 1.0
        self.db_multiplier = math.log10(max(self.amin, self.ref_value))

    def forward(self, x: Tensor) -> Tensor:
        """The input in decibels (see ``functional.amplitude_to_DB``)."""
        return F.amplitude_to_DB(x, self.multiplier, self.amin, self.db_multiplier,
                                 self.top_db)


class MelScale(Module):
    """Turn a normal STFT into a mel frequency STFT with triangular filter banks (the
    buffer ``fb``, of shape ``(n_stft, n_mels)``).

    Args:
        n_mels: number of mel filter banks. (Default: 128)
        sample_rate: of the audio. (Default: 16000)
        f_min: minimum frequency. (Default: 0.) f_max: maximum frequency.
            (Default: ``sample_rate // 2``)
        n_stft: number of STFT bins, ``n_fft // 2 + 1``. (Default: 201)
        norm: ``None`` or ``"slaney"``. mel_scale: ``"htk"`` (the default) or ``"slaney"``.
    """

    __constants__ = ["n_mels", "sample_rate", "f_min", "f_max"]

    def __init__(self, n_mels: int = 128, sample_rate: int = 16000, f_min: float = 0.0,
                 f_max: float | None = None, n_stft: int = 201, norm: str | None = None,
                 mel_scale: str = "htk") -> None:
        super().__init__()
        self.n_mels = n_mels
        self.sample_rate = sample_rate
        self.f_max = f_max if f_max is not None else float(sample_rate // 2)
        self.f_min = f_min
        self.norm = norm
        self.mel_scale = mel_scale
        if f_min > self.f_max:
            raise ValueError(f"Require f_min: {f_min} <= f_max: {self.f_max}")
        fb = F.melscale_fbanks(n_stft, self.f_min, self.f_max, self.n_mels, self.sample_rate,
                               self.norm, self.mel_scale)
        self.register_buffer("fb", fb)

    def forward(self, specgram: Tensor) -> Tensor:
        """(..., freq, time) -> (..., n_mels, time)."""
        return functions.matmul(specgram.transpose(-1, -2), self.fb).transpose(-1, -2)


class MelSpectrogram(Module):
    """A mel spectrogram of an audio signal: ``Spectrogram`` then ``MelScale`` (the
    submodules ``spectrogram`` and ``mel_scale``).

    Args as torchaudio's: sample_rate (16000), n_fft (400), win_length (``n_fft``),
    hop_length (``win_length // 2``), f_min (0.), f_max (None: ``sample_rate // 2``),
    pad (0), n_mels (128), window_fn (``ember.hann_window``), power (2.), normalized
    (False), wkwargs, center (True), pad_mode ("reflect"), onesided (deprecated, unused),
    norm (None), mel_scale ("htk").
    """

    __constants__ = ["sample_rate", "n_fft", "win_length", "hop_length", "pad", "n_mels",
                     "f_min"]

    def __init__(self, sample_rate: int = 16000, n_fft: int = 400,
                 win_length: int | None = None, hop_length: int | None = None,
                 f_min: float = 0.0, f_max: float | None = None, pad: int = 0,
                 n_mels: int = 128, window_fn: Callable[..., Tensor] = hann_window,
                 power: float = 2.0, normalized: bool = False, wkwargs: dict | None = None,
                 center: bool = True, pad_mode: str = "reflect",
                 onesided: bool | None = None, norm: str | None = None,
                 mel_scale: str = "htk") -> None:
        super().__init__()
        if onesided is not None:
            warnings.warn("Argument 'onesided' has been deprecated and has no influence on "
                          "the behavior of this module.", stacklevel=2)
        self.sample_rate = sample_rate
        self.n_fft = n_fft
        self.win_length = win_length if win_length is not None else n_fft
        self.hop_length = hop_length if hop_length is not None else self.win_length // 2
        self.pad = pad
        self.power = power
        self.normalized = normalized
        self.n_mels = n_mels
        self.f_max = f_max
        self.f_min = f_min
        self.spectrogram = Spectrogram(
            n_fft=self.n_fft, win_length=self.win_length, hop_length=self.hop_length,
            pad=self.pad, window_fn=window_fn, power=self.power, normalized=self.normalized,
            wkwargs=wkwargs, center=center, pad_mode=pad_mode, onesided=True)
        self.mel_scale = MelScale(self.n_mels, self.sample_rate, self.f_min, self.f_max,
                                  self.n_fft // 2 + 1, norm, mel_scale)

    def forward(self, waveform: Tensor) -> Tensor:
        """(..., time) -> (..., n_mels, time)."""
        return self.mel_scale(self.spectrogram(waveform))


class MFCC(Module):
    """Mel-frequency cepstrum coefficients of an audio signal: a ``MelSpectrogram``, in
    decibels (``AmplitudeToDB("power", 80)``) or as ``log(mel + 1e-6)`` with
    ``log_mels=True``, times the DCT matrix (the buffer ``dct_mat``).

    Args:
        sample_rate: (Default: 16000). n_mfcc: coefficients kept. (Default: 40)
        dct_type: only 2. norm: ``"ortho"`` (the default) or None. log_mels: (False).
        melkwargs: keyword arguments for ``MelSpectrogram``.
    """

    __constants__ = ["sample_rate", "n_mfcc", "dct_type", "top_db", "log_mels"]

    def __init__(self, sample_rate: int = 16000, n_mfcc: int = 40, dct_type: int = 2,
                 norm: str = "ortho", log_mels: bool = False,
                 melkwargs: dict | None = None) -> None:
        super().__init__()
        if dct_type not in (2,):
            raise ValueError(f"DCT type not supported: {dct_type}")
        self.sample_rate = sample_rate
        self.n_mfcc = n_mfcc
        self.dct_type = dct_type
        self.norm = norm
        self.top_db = 80.0
        self.amplitude_to_DB = AmplitudeToDB("power", self.top_db)
        melkwargs = melkwargs or {}
        self.MelSpectrogram = MelSpectrogram(sample_rate=self.sample_rate, **melkwargs)
        if self.n_mfcc > self.MelSpectrogram.n_mels:
            raise ValueError("Cannot select more MFCC coefficients than # mel bins")
        dct_mat = F.create_dct(self.n_mfcc, self.MelSpectrogram.n_mels, self.norm)
        self.register_buffer("dct_mat", dct_mat)
        self.log_mels = log_mels

    def forward(self, waveform: Tensor) -> Tensor:
        """(..., time) -> (..., n_mfcc, time)."""
        mel_specgram = self.MelSpectrogram(waveform)
        if self.log_mels:
            mel_specgram = functions.log(mel_specgram + 1e-6)
        else:
            mel_specgram = self.amplitude_to_DB(mel_specgram)
        return functions.matmul(mel_specgram.transpose(-1, -2),
                                self.dct_mat).transpose(-1, -2)


class MuLawEncoding(Module):
    """Encode a signal in [-1, 1] with mu-law companding, into integers from 0 to
    ``quantization_channels - 1``. (Default ``quantization_channels``: 256)"""

    __constants__ = ["quantization_channels"]

    def __init__(self, quantization_channels: int = 256) -> None:
        super().__init__()
        self.quantization_channels = quantization_channels

    def forward(self, x: Tensor) -> Tensor:
        """The encoded signal (int64)."""
        return F.mu_law_encoding(x, self.quantization_channels)


class MuLawDecoding(Module):
    """Decode a mu-law encoded signal into one in [-1, 1].
    (Default ``quantization_channels``: 256)"""

    __constants__ = ["quantization_channels"]

    def __init__(self, quantization_channels: int = 256) -> None:
        super().__init__()
        self.quantization_channels = quantization_channels

    def forward(self, x_mu: Tensor) -> Tensor:
        """The decoded signal."""
        return F.mu_law_decoding(x_mu, self.quantization_channels)
