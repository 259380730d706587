"""ember.audio.transforms against torchaudio's modules written in the torch API
(``torch_audio.py``): printed forms, state_dict keys and buffers, forward values and
gradients with respect to the waveform, gradcheck, checkpoints and bad arguments."""

from __future__ import annotations

import warnings

import numpy as np
import pytest
import torch

import ember
import ember.audio
import ember.audio.transforms as T
from ember.autograd import gradcheck

from . import torch_audio as R

pytestmark = pytest.mark.filterwarnings("ignore:At least one mel filterbank has all zero")

TOL = {"float32": (2e-5, 2e-5), "float64": (1e-10, 1e-10)}

# (name, constructor keyword arguments, input shape): the input is a waveform except for
# the transforms that take a spectrogram (MelScale, AmplitudeToDB) or codes (MuLawDecoding).
CASES = [
    ("Spectrogram", {}, (2, 1600)),
    ("Spectrogram", dict(n_fft=64, hop_length=20, power=1.0, normalized=True, pad=3), (3, 500)),
    ("Spectrogram", dict(n_fft=48, win_length=30, center=False, wkwargs=dict(periodic=False),
                         normalized="frame_length"), (400,)),
    ("MelScale", {}, (2, 201, 9)),
    ("MelScale", dict(n_mels=20, sample_rate=8000, f_min=50.0, f_max=3000.0, n_stft=65,
                      norm="slaney", mel_scale="slaney"), (65, 7)),
    ("MelSpectrogram", {}, (2, 1600)),
    ("MelSpectrogram", dict(sample_rate=8000, n_fft=128, hop_length=40, n_mels=24, f_min=20.0,
                            power=1.0, norm="slaney", mel_scale="slaney"), (2, 3, 700)),
    ("AmplitudeToDB", {}, (2, 3, 20, 10)),
    ("AmplitudeToDB", dict(stype="magnitude", top_db=40.0), (3, 2, 20, 10)),
    ("MFCC", {}, (2, 1600)),
    ("MFCC", dict(sample_rate=8000, n_mfcc=13, melkwargs=dict(n_fft=200, hop_length=80,
                                                           n_mels=23, center=False)), (3, 900)),
    ("MFCC", dict(n_mfcc=10, norm=None, log_mels=True,
                  melkwargs=dict(n_fft=128, n_mels=32, mel_scale="slaney")), (700,)),
    ("MuLawEncoding", {}, (2, 100)),
    ("MuLawDecoding", dict(quantization_channels=64), (2, 100)),
]
IDS = [f"{name}-{k}" for k, (name, _, _) in enumerate(CASES)]
DIFFERENTIABLE = ("Spectrogram", "MelScale", "MelSpectrogram", "AmplitudeToDB", "MFCC")


def _modules(name: str, kwargs: dict):
    """The ember transform and the torch reference, with torch's buffers loaded into ember's
    (so the comparison is of the computation, not of float32 window rounding)."""
    e = getattr(T, name)(**kwargs)
    t = getattr(R, name)(**kwargs)
    e.load_state_dict({k: ember.from_numpy(v.numpy().copy()) for k, v in t.state_dict().items()})
    return e, t


def _input(name: str, shape, dtype: str, rng) -> np.ndarray:
    if name in ("MelScale", "AmplitudeToDB"):
        return (rng.uniform(0.0, 2.0, shape) ** 3).astype(dtype)  # a power spectrogram
    if name == "MuLawDecoding":
        return rng.integers(0, 64, shape).astype(dtype)
    if name == "MuLawEncoding":
        return rng.uniform(-1, 1, shape).astype(dtype)
    return rng.standard_normal(shape).astype(dtype)


@pytest.mark.parametrize("name, kwargs, shape", CASES, ids=IDS)
def test_repr_state_dict_and_buffers(name, kwargs, shape):
    e = getattr(T, name)(**kwargs)
    t = getattr(R, name)(**kwargs)
    assert repr(e) == repr(t)
    e_state, t_state = e.state_dict(), t.state_dict()
    assert list(e_state) == list(t_state)
    for key, tv in t_state.items():
        ev = e_state[key]
        assert ev.dtype == ember.float32 and tuple(ev.shape) == tuple(tv.shape), key
        # float32 filter banks: a few entries differ in the last bits between CPUs' libm
        np.testing.assert_allclose(ev.numpy(), tv.numpy(), rtol=1e-5, atol=2e-5, err_msg=key)
    assert [n for n, _ in e.named_buffers()] == [n for n, _ in t.named_buffers()]
    assert list(e.parameters()) == []


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("name, kwargs, shape", CASES, ids=IDS)
def test_forward_and_gradient_match_torch(name, kwargs, shape, dtype):
    rng = np.random.default_rng(len(IDS) + len(shape))
    e_mod, t_mod = _modules(name, kwargs)
    if dtype == "float64":
        e_mod, t_mod = e_mod.to(ember.float64), t_mod.to(torch.float64)
    x = _input(name, shape, dtype, rng)
    grad = name in DIFFERENTIABLE
    ex = ember.from_numpy(x.copy()).requires_grad_(grad)
    tx = torch.from_numpy(x.copy()).requires_grad_(grad)
    e, t = e_mod(ex), t_mod(tx)
    assert tuple(e.shape) == tuple(t.shape)
    assert str(e.dtype).split(".")[-1] == str(t.dtype).split(".")[-1]
    if not grad:
        np.testing.assert_allclose(e.numpy(), t.numpy(), rtol=1e-6, atol=1e-6)
        return
    rtol, atol = TOL[dtype]
    scale = float(t.detach().abs().max())
    np.testing.assert_allclose(e.detach().numpy(), t.detach().numpy(), rtol=rtol,
                               atol=atol * scale)

    g = rng.standard_normal(tuple(t.shape)).astype(dtype)
    e.backward(ember.from_numpy(g))
    t.backward(torch.from_numpy(g))
    tg = tx.grad.numpy()
    gscale = float(np.abs(tg).max()) * (30 if dtype == "float32" else 1)
    np.testing.assert_allclose(ex.grad.numpy(), tg, rtol=rtol, atol=atol * gscale)


GRADCHECK = [
    ("Spectrogram", dict(n_fft=8, hop_length=3)),
    ("Spectrogram", dict(n_fft=8, win_length=6, hop_length=2, power=1.0, normalized=True,
                         pad_mode="constant")),
    ("MelSpectrogram", dict(sample_rate=800, n_fft=8, hop_length=4, n_mels=3)),
    ("MFCC", dict(sample_rate=800, n_mfcc=3, melkwargs=dict(n_fft=8, hop_length=4, n_mels=4))),
]


@pytest.mark.parametrize("name, kwargs", GRADCHECK, ids=[g[0] for g in GRADCHECK])
def test_gradcheck(name, kwargs):
    module = getattr(T, name)(**kwargs).to(ember.float64)
    x = ember.from_numpy(np.random.default_rng(6).standard_normal((2, 14))).requires_grad_()
    assert gradcheck(module, (x,))


def test_amplitude_to_db_gradcheck_on_a_spectrogram():
    module = T.AmplitudeToDB(top_db=20.0)
    x = np.random.default_rng(7).uniform(0.01, 3.0, (2, 1, 4, 3))
    assert gradcheck(module, (ember.from_numpy(x).requires_grad_(),))


def test_state_dict_loads_into_torch_and_through_a_checkpoint(tmp_path):
    e = T.MFCC(n_mfcc=13, melkwargs=dict(n_fft=256, n_mels=32))
    t = R.MFCC(n_mfcc=13, melkwargs=dict(n_fft=256, n_mels=32))
    path = tmp_path / "mfcc.pt"
    ember.save(e.state_dict(), str(path))
    loaded = torch.load(str(path), weights_only=True)
    assert list(loaded) == list(t.state_dict())
    assert t.load_state_dict(loaded).missing_keys == []
    for key, value in e.state_dict().items():
        np.testing.assert_array_equal(loaded[key].numpy(), value.numpy())
    back = T.MFCC(n_mfcc=13, melkwargs=dict(n_fft=256, n_mels=32))
    back.load_state_dict(ember.load(str(path)))


def test_module_to_float64_moves_buffers():
    m = T.MelSpectrogram(n_fft=64, n_mels=8).to(ember.float64)
    assert m.spectrogram.window.dtype == ember.float64 and m.mel_scale.fb.dtype == ember.float64
    assert m(ember.randn(200, dtype=ember.float64)).dtype == ember.float64


def test_defaults_and_attributes_match_torchaudio():
    e, t = T.Spectrogram(), R.Spectrogram()
    for attr in ("n_fft", "win_length", "hop_length", "pad", "power", "normalized", "center",
                 "pad_mode", "onesided"):
        assert getattr(e, attr) == getattr(t, attr), attr
    e, t = T.MFCC(), R.MFCC()
    for attr in ("sample_rate", "n_mfcc", "dct_type", "norm", "top_db", "log_mels"):
        assert getattr(e, attr) == getattr(t, attr), attr
    assert e.MelSpectrogram.n_mels == 128 and e.MelSpectrogram.mel_scale.f_max == 8000.0
    a = T.AmplitudeToDB("magnitude", 80)
    assert (a.multiplier, a.amin, a.ref_value, a.db_multiplier) == (20.0, 1e-10, 1.0, 0.0)
    assert T.MuLawEncoding().quantization_channels == 256
    assert ember.audio.__version__ == ember.__version__


@pytest.mark.parametrize("make, exc, phrase", [
    (lambda m: m.AmplitudeToDB(top_db=-1.0), ValueError, "top_db must be positive value"),
    (lambda m: m.MelScale(f_min=9000.0), ValueError, "Require f_min: 9000.0 <= f_max: 8000.0"),
    (lambda m: m.MelSpectrogram(f_min=100.0, f_max=50.0), ValueError,
     "Require f_min: 100.0 <= f_max: 50.0"),
    (lambda m: m.MFCC(dct_type=3), ValueError, "DCT type not supported: 3"),
    (lambda m: m.MFCC(n_mfcc=20, melkwargs=dict(n_mels=10)), ValueError,
     "Cannot select more MFCC coefficients than # mel bins"),
    (lambda m: m.MelScale(norm="area"), ValueError, 'norm must be one of None or "slaney"'),
    (lambda m: m.MFCC(norm="l1"), ValueError, 'norm must be either "ortho" or None'),
])
def test_bad_arguments_raise_like_torchaudio(make, exc, phrase):
    for module in (R, T):
        with pytest.raises(exc) as err:
            make(module)
        assert str(err.value) == phrase


def test_complex_output_is_refused_with_a_clear_error():
    with pytest.raises(NotImplementedError, match="power=None.*no complex dtype"):
        T.Spectrogram(power=None)
    with pytest.raises(NotImplementedError, match="power=None"):
        T.MelSpectrogram(power=None)


def test_forward_errors_come_from_the_stft():
    with pytest.raises(RuntimeError, match="Padding size should be less than"):
        T.Spectrogram()(ember.randn(100))
    with pytest.raises(RuntimeError, match="Padding size should be less than"):
        R.Spectrogram()(torch.randn(100))


def test_deprecated_arguments_warn():
    with pytest.warns(UserWarning, match="Argument 'onesided' has been deprecated"):
        T.MelSpectrogram(n_fft=64, n_mels=8, onesided=True)
    with pytest.warns(UserWarning, match="`return_complex` argument is now deprecated"):
        T.Spectrogram(return_complex=True)


def test_default_mel_spectrogram_warns_about_empty_filters_as_torchaudio_does():
    with warnings.catch_warnings(record=True) as got:
        warnings.simplefilter("always")
        T.MelSpectrogram()
    assert any("At least one mel filterbank has all zero values" in str(w.message)
               for w in got)
