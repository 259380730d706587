"""ember.audio.functional against torchaudio's formulas written in the torch API
(``torch_audio.py``): values in float32 and float64, gradients, gradcheck, bad inputs."""

from __future__ import annotations

import warnings

import numpy as np
import pytest
import torch

import ember
import ember.audio.functional as F
from ember.autograd import gradcheck, gradgradcheck

from . import torch_audio as R

TOL = {"float32": dict(rtol=2e-5, atol=2e-5), "float64": dict(rtol=1e-10, atol=1e-10)}


def _pair(a: np.ndarray, requires_grad: bool = False):
    e = ember.from_numpy(a.copy()).requires_grad_(requires_grad)
    t = torch.from_numpy(a.copy()).requires_grad_(requires_grad)
    return e, t


def _close(e, t, dtype: str | None = None, scale: float | None = None) -> None:
    """Same shape and dtype; values within the dtype's tolerance, relative to the largest
    value (a DFT's rounding error scales with the whole frame, not each bin)."""
    assert tuple(e.shape) == tuple(t.shape), (e.shape, t.shape)
    assert str(e.dtype).split(".")[-1] == str(t.dtype).split(".")[-1], (e.dtype, t.dtype)
    ev, tv = e.detach().numpy(), t.detach().numpy()
    tol = TOL[dtype or tv.dtype.name]
    scale = scale if scale is not None else max(float(np.abs(tv).max(initial=0)), 1.0)
    np.testing.assert_allclose(ev, tv, rtol=tol["rtol"], atol=tol["atol"] * scale)


def _window(n: int, dtype: str):
    w = np.hanning(n + 1)[:n].astype(dtype)  # any window: both libraries get these values
    return _pair(w)


# ---- spectrogram --------------------------------------------------------------------------
SPEC_CASES = [
    dict(shape=(300,), n_fft=64, hop_length=16, win_length=64, power=2.0, normalized=False),
    dict(shape=(2, 300), n_fft=64, hop_length=32, win_length=64, power=1.0, normalized=True),
    dict(shape=(2, 3, 257), n_fft=50, hop_length=7, win_length=31, power=2.0,
         normalized="frame_length", pad=5),
    dict(shape=(2, 200), n_fft=33, hop_length=10, win_length=33, power=0.5,
         normalized="window", center=False),
    dict(shape=(200,), n_fft=32, hop_length=8, win_length=20, power=3.0, normalized=False,
         pad_mode="constant"),
    dict(shape=(1, 200), n_fft=32, hop_length=8, win_length=32, power=2.0, normalized=False,
         pad_mode="replicate", onesided=False),
    dict(shape=(2, 40), n_fft=32, hop_length=5, win_length=32, power=1.0, normalized=False,
         pad_mode="circular", pad=3),
    dict(shape=(3, 17), n_fft=16, hop_length=4, win_length=16, power=2.0, normalized=False,
         pad=40),  # reflect into the zero padding
]


def _spec_args(case: dict):
    kw = dict(case)
    shape = kw.pop("shape")
    pad = kw.pop("pad", 0)
    n_fft, hop, win = kw.pop("n_fft"), kw.pop("hop_length"), kw.pop("win_length")
    power, normalized = kw.pop("power"), kw.pop("normalized")
    return shape, pad, n_fft, hop, win, power, normalized, kw


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("case", SPEC_CASES, ids=range(len(SPEC_CASES)))
def test_spectrogram_values_and_gradients(case, dtype):
    shape, pad, n_fft, hop, win, power, normalized, kw = _spec_args(case)
    rng = np.random.default_rng(len(shape) * 100 + n_fft)
    ex, tx = _pair(rng.standard_normal(shape).astype(dtype), requires_grad=True)
    ew, tw = _window(win, dtype)
    e = F.spectrogram(ex, pad, ew, n_fft, hop, win, power, normalized, **kw)
    t = R.spectrogram(tx, pad, tw, n_fft, hop, win, power, normalized, **kw)
    _close(e, t)
    assert e.grad_fn is not None

    g = rng.standard_normal(tuple(t.shape)).astype(dtype)
    (eg,) = ember.autograd.grad(e, ex, ember.from_numpy(g))
    (tg,) = torch.autograd.grad(t, tx, torch.from_numpy(g))
    _close(eg, tg, scale=float(np.abs(tg.numpy()).max()) * (10 if dtype == "float32" else 1))


def test_spectrogram_gradient_reaches_the_window():
    rng = np.random.default_rng(1)
    ex, tx = _pair(rng.standard_normal((2, 64)), requires_grad=True)
    ew, tw = _pair(rng.uniform(0.5, 1.0, 12), requires_grad=True)
    e = F.spectrogram(ex, 0, ew, 16, 4, 12, 2.0, True)
    t = R.spectrogram(tx, 0, tw, 16, 4, 12, 2.0, True)
    g = rng.standard_normal(tuple(t.shape))
    eg = ember.autograd.grad(e, (ex, ew), ember.from_numpy(g))
    tg = torch.autograd.grad(t, (tx, tw), torch.from_numpy(g))
    for a, b in zip(eg, tg):
        _close(a, b)


@pytest.mark.parametrize("power, normalized, kw", [
    (2.0, False, {}), (1.0, True, {}), (1.5, "frame_length", dict(pad_mode="constant")),
    (2.0, False, dict(center=False)),
])
def test_spectrogram_gradcheck(power, normalized, kw):
    x = ember.from_numpy(np.random.default_rng(2).standard_normal((2, 12))).requires_grad_()
    window = ember.hann_window(6, dtype=ember.float64)

    def f(x):
        return F.spectrogram(x, 1, window, 8, 3, 6, power, normalized, **kw)

    assert gradcheck(f, (x,))
    if power == 2.0 and not kw:
        assert gradgradcheck(f, (x,))


def test_spectrogram_of_silence_has_zero_gradient_not_nan():
    for power in (1.0, 2.0, 3.0):
        ex, tx = _pair(np.zeros((1, 32)), requires_grad=True)
        e = F.spectrogram(ex, 0, ember.ones(8, dtype=ember.float64), 8, 4, 8, power, False)
        t = R.spectrogram(tx, 0, torch.ones(8, dtype=torch.float64), 8, 4, 8, power, False)
        e.sum().backward()
        t.sum().backward()
        _close(ex.grad, tx.grad)
        assert not np.isnan(ex.grad.numpy()).any()


def _spectrogram_call(module, x, window=None, pad=0, n_fft=16, hop_length=4, win_length=16,
                      power=2.0, normalized=False, **kw):
    window = module.ones(win_length) if window is None else window
    fn = F.spectrogram if module is ember else R.spectrogram
    return fn(x, pad, window, n_fft, hop_length, win_length, power, normalized, **kw)


@pytest.mark.parametrize("length, kw, exc, phrase", [
    (100, dict(normalized="energy"), ValueError, "Invalid normalized parameter: energy"),
    (100, dict(normalized=1), TypeError, "Input type not supported"),
    (5, {}, RuntimeError, "Padding size should be less than the corresponding input "
                          "dimension, but got: padding (8, 8) at dimension 2 of input [1, 2, 5]"),
    (10, dict(center=False), RuntimeError, "expected 0 < n_fft < 10, but got n_fft=16"),
    (100, dict(hop_length=0), RuntimeError, "expected hop_length > 0, but got hop_length=0"),
    (100, dict(win_length=20), RuntimeError,
     "expected 0 < win_length <= n_fft, but got win_length=20"),
    (100, dict(window="short"), RuntimeError, "expected a 1D window tensor of size equal to "
                                              "win_length=16, but got window with size [10]"),
    (100, dict(pad_mode="mirror"), NotImplementedError, "Unrecognised padding mode mirror"),
])
def test_spectrogram_bad_inputs_raise_like_torch(length, kw, exc, phrase):
    x = np.random.default_rng(0).standard_normal((2, length)).astype("float32")
    results = []
    for module in (torch, ember):
        args = dict(kw)
        if args.get("window") == "short":
            args["window"] = module.ones(10)
        with pytest.raises(exc) as err:
            _spectrogram_call(module, module.from_numpy(x.copy()), **args)
        results.append(str(err.value))
    for text in results:
        assert phrase in text, text


def test_spectrogram_refuses_integer_waveform_and_complex_output():
    x = ember.arange(100)
    with pytest.raises(RuntimeError, match="expected a tensor of floating point"):
        F.spectrogram(x, 0, ember.ones(16), 16, 4, 16, 2.0, False)
    with pytest.raises(RuntimeError, match="expected a tensor of floating point"):
        R.spectrogram(torch.arange(100), 0, torch.ones(16), 16, 4, 16, 2.0, False)
    with pytest.raises(NotImplementedError, match="power=None.*no complex dtype"):
        F.spectrogram(ember.randn(100), 0, ember.ones(16), 16, 4, 16, None, False)


def test_spectrogram_return_complex_is_deprecated():
    x = ember.randn(64)
    with pytest.warns(UserWarning, match="`return_complex` argument is now deprecated"):
        F.spectrogram(x, 0, ember.ones(16), 16, 4, 16, 2.0, False, return_complex=False)


# ---- mel filter banks and the DCT ----------------------------------------------------------
FBANKS = [(201, 0.0, 8000.0, 128, 16000, None, "htk"),
          (201, 0.0, 8000.0, 40, 16000, "slaney", "slaney"),
          (257, 20.0, 7600.0, 80, 22050, "slaney", "htk"),
          (129, 100.0, 4000.0, 23, 8000, None, "slaney"),
          (9, 0.0, 400.0, 4, 800, None, "htk")]


@pytest.mark.parametrize("args", FBANKS, ids=range(len(FBANKS)))
def test_melscale_fbanks_match_torchaudio_formulas(args):
    with warnings.catch_warnings(record=True) as got:
        warnings.simplefilter("always")
        t = R.melscale_fbanks(*args)
        e = F.melscale_fbanks(*args)
    assert [str(w.message) for w in got[len(got) // 2:]] == \
        [str(w.message) for w in got[:len(got) // 2]]
    _close(e, t, scale=float(t.abs().max()) * 10)  # float32 pow/exp: a few ulps
    assert e.requires_grad is False


def test_melscale_fbanks_warns_about_empty_filters():
    with pytest.warns(UserWarning, match=r"The value for `n_mels` \(128\) may be set too "
                                         r"high. Or, the value for `n_freqs` \(201\)"):
        F.melscale_fbanks(201, 0.0, 8000.0, 128, 16000)


def test_melscale_fbanks_follow_the_default_dtype():
    ember.set_default_dtype(ember.float64)
    torch.set_default_dtype(torch.float64)
    try:
        t = R.melscale_fbanks(65, 10.0, 4000.0, 10, 8000, "slaney", "slaney")
    finally:
        torch.set_default_dtype(torch.float32)
    _close(F.melscale_fbanks(65, 10.0, 4000.0, 10, 8000, "slaney", "slaney"), t)


@pytest.mark.parametrize("args", [(40, 128, "ortho"), (13, 23, None), (20, 20, "ortho")])
def test_create_dct_matches_torchaudio_formula(args):
    e, t = F.create_dct(*args), R.create_dct(*args)
    _close(e, t, scale=10.0)
    assert e.stride() == t.stride()  # the transpose of an (n_mfcc, n_mels) matrix


@pytest.mark.parametrize("call, phrase", [
    (lambda m: m.melscale_fbanks(10, 0.0, 100.0, 4, 200, norm="area"),
     'norm must be one of None or "slaney"'),
    (lambda m: m.melscale_fbanks(10, 0.0, 100.0, 4, 200, mel_scale="bark"),
     'mel_scale should be one of "htk" or "slaney".'),
    (lambda m: m.create_dct(4, 8, "l2"), 'norm must be either "ortho" or None'),
])
def test_filter_bank_bad_arguments(call, phrase):
    for module in (R, F):
        with pytest.raises(ValueError) as err:
            call(module)
        assert str(err.value) == phrase


# ---- decibels ------------------------------------------------------------------------------
@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("shape", [(5, 6), (4, 5, 6), (2, 4, 5, 6), (3, 2, 4, 5, 6)])
@pytest.mark.parametrize("multiplier, top_db", [(10.0, None), (20.0, 30.0), (10.0, 8.0)])
def test_amplitude_to_db(shape, multiplier, top_db, dtype):
    rng = np.random.default_rng(len(shape))
    # a spread of magnitudes per batch item, so that top_db clamps each one differently
    scale = 10.0 ** rng.integers(-4, 2, shape[:1] + (1,) * (len(shape) - 1))
    x = (rng.uniform(0.01, 1.0, shape) * scale).astype(dtype)
    x.flat[0] = 0.0  # clamped to amin
    ex, tx = _pair(x, requires_grad=True)
    e = F.amplitude_to_DB(ex, multiplier, 1e-10, 0.0, top_db)
    t = R.amplitude_to_DB(tx, multiplier, 1e-10, 0.0, top_db)
    _close(e, t)
    g = rng.standard_normal(shape).astype(dtype)
    (eg,) = ember.autograd.grad(e, ex, ember.from_numpy(g))
    (tg,) = torch.autograd.grad(t, tx, torch.from_numpy(g))
    _close(eg, tg, scale=float(np.abs(tg.numpy()).max()))


def test_amplitude_to_db_gradcheck():
    x = ember.from_numpy(np.random.default_rng(3).uniform(0.01, 2.0, (2, 2, 3, 4)))
    x.requires_grad_()
    assert gradcheck(lambda x: F.amplitude_to_DB(x, 10.0, 1e-10, 0.5, 15.0), (x,))
    assert gradgradcheck(lambda x: F.amplitude_to_DB(x, 20.0, 1e-10, 0.0, None), (x,))


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_db_to_amplitude(dtype):
    rng = np.random.default_rng(4)
    ex, tx = _pair((rng.standard_normal((3, 4)) * 10).astype(dtype), requires_grad=True)
    e, t = F.DB_to_amplitude(ex, 2.0, 0.5), R.DB_to_amplitude(tx, 2.0, 0.5)
    _close(e, t)
    e.sum().backward()
    t.sum().backward()
    _close(ex.grad, tx.grad)
    db = F.amplitude_to_DB(ember.tensor([[0.5, 2.0]]), 10.0, 1e-10, 0.0)
    np.testing.assert_allclose(F.DB_to_amplitude(db, 1.0, 1.0).numpy(), [[0.5, 2.0]],
                               rtol=1e-6)


# ---- mu-law --------------------------------------------------------------------------------
@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("channels", [256, 16])
def test_mu_law_round_trip(dtype, channels):
    x = np.random.default_rng(5).uniform(-1, 1, 2000).astype(dtype)
    x[:3] = (-1.0, 0.0, 1.0)
    ex, tx = _pair(x)
    e, t = F.mu_law_encoding(ex, channels), R.mu_law_encoding(tx, channels)
    assert e.dtype == ember.int64
    np.testing.assert_array_equal(e.numpy(), t.numpy())
    assert int(e.min()) >= 0 and int(e.max()) <= channels - 1
    _close(F.mu_law_decoding(e, channels), R.mu_law_decoding(t, channels), "float32")
    ef, tf = _pair(t.numpy().astype(dtype))
    _close(F.mu_law_decoding(ef, channels), R.mu_law_decoding(tf, channels))


def test_mu_law_encoding_of_integers_warns_and_casts():
    with pytest.warns(UserWarning, match="The input Tensor must be of floating type."):
        e = F.mu_law_encoding(ember.tensor([-1, 0, 1]), 256)
    assert e.tolist() == R.mu_law_encoding(torch.tensor([-1, 0, 1]), 256).tolist()
