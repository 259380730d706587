"""``ember.audio.functional.spectrogram`` over its whole argument space against torchaudio's
formula in torch (``tests/audio/torch_audio.py``): short and empty signals, empty batches,
``n_fft`` longer than the signal, ``win_length < n_fft``, every padding mode, both
normalisations, several powers, and PyTorch's errors for everything out of range."""

from __future__ import annotations

import warnings

import numpy as np
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

import ember
import ember.audio.functional as F
from tests.audio import torch_audio as R


def _outcome(fn, *args):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            return fn(*args)
        except Exception as exc:  # noqa: BLE001 - compared with torch's
            return exc


def _phrase(exc):
    """The message without torch.stft's ``stft(<arguments>) : `` prefix (ember: ``stft: ``).
    For ``n_fft`` out of range torch prints ``win_length`` as the value it got (a slip in
    its message); ember names ``n_fft``, so the comparison stops before the value."""
    text = str(exc).split(" : ")[-1].removeprefix("stft: ")
    return text.split(", but got n_fft=")[0]


@settings(deadline=None, max_examples=150)
@given(length=st.sampled_from([0, 1, 3, 8, 17]), lead=st.sampled_from([(), (2,), (2, 1), (0,)]),
       n_fft=st.sampled_from([1, 2, 4, 8, 16, 40]), win=st.sampled_from([None, 1, 3, 4, 41]),
       hop=st.sampled_from([1, 2, 3, 0, -1]), pad=st.sampled_from([0, 2]),
       center=st.booleans(),
       pad_mode=st.sampled_from(["reflect", "constant", "replicate", "circular", "bogus"]),
       onesided=st.booleans(),
       normalized=st.sampled_from([False, True, "window", "frame_length", "bad"]),
       power=st.sampled_from([1.0, 2.0, 0.5, 3]), dtype=st.sampled_from(["float32", "float64"]),
       window_extra=st.sampled_from([0, 0, 1]), seed=st.integers(0, 2**16))
def test_spectrogram_matches_torchaudio(length, lead, n_fft, win, hop, pad, center, pad_mode,
                                        onesided, normalized, power, dtype, window_extra, seed):
    win = n_fft if win is None else min(win, n_fft + 1)
    rng = np.random.default_rng(seed)
    x = rng.standard_normal(lead + (length,)).astype(dtype)
    w = rng.random(win + window_extra).astype(dtype)
    args = (pad, n_fft, hop, win, power, normalized, center, pad_mode, onesided)

    def call(lib, spectrogram):
        p, nf, h, wl, pw, nz, c, pm, one = args
        return spectrogram(lib.tensor(x), p, lib.tensor(w), nf, h, wl, pw, nz, c, pm, one)

    t, e = _outcome(call, torch, R.spectrogram), _outcome(call, ember, F.spectrogram)
    if isinstance(t, Exception) and "MKL FFT error" in str(t):
        return  # torch's FFT library refuses an empty batch; there is nothing to compare
    if isinstance(t, Exception) or isinstance(e, Exception):
        if isinstance(t, RuntimeError) and "cannot reshape tensor of 0 elements" in str(t):
            assert isinstance(e, RuntimeError)  # reshape's own message is the tensor core's
            return
        assert type(e) is type(t), (e, t)
        assert _phrase(e) == _phrase(t)
        return
    assert tuple(e.shape) == tuple(t.shape) and e.dtype.name == dtype
    tn = t.numpy()
    scale = max(float(np.abs(tn).max()), 1.0) if tn.size else 1.0
    np.testing.assert_allclose(e.numpy(), tn, rtol=1e-4, atol=1e-4 * scale)
