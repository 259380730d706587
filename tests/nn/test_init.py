"""``nn.init`` against torch: gains, fans, errors, and the distributions drawn."""

from __future__ import annotations

import math
import warnings

import numpy as np
import pytest
import torch

import ember
from ember.nn import init
from tests._surface_helpers import assert_same_outcome
from tests._surface_helpers import same_error as _same_error


@pytest.fixture(autouse=True)
def _seeded():
    """Fixed seeds keep the statistical checks deterministic."""
    ember.manual_seed(0)
    torch.manual_seed(0)




NONLINEARITIES = [("linear", None), ("conv1d", None), ("conv2d", None), ("conv3d", None),
                  ("conv_transpose1d", None), ("conv_transpose2d", None),
                  ("conv_transpose3d", None), ("sigmoid", None), ("tanh", None),
                  ("relu", None), ("leaky_relu", None), ("leaky_relu", 0.2),
                  ("leaky_relu", 0), ("leaky_relu", 3), ("selu", None)]


@pytest.mark.parametrize("name,param", NONLINEARITIES)
def test_calculate_gain_matches_torch(name, param):
    assert init.calculate_gain(name, param) == torch.nn.init.calculate_gain(name, param)


def test_calculate_gain_errors_match_torch():
    for args in (("foo",), ("leaky_relu", "a"), ("leaky_relu", True)):
        _same_error(lambda args=args: init.calculate_gain(*args),
                    lambda args=args: torch.nn.init.calculate_gain(*args))


@pytest.mark.parametrize("shape", [(3, 4), (5, 2, 3), (6, 4, 3, 2), (0, 3)])
def test_fans_match_torch(shape):
    assert init._calculate_fan_in_and_fan_out(ember.empty(shape)) == \
        torch.nn.init._calculate_fan_in_and_fan_out(torch.empty(shape))


def test_fan_error_matches_torch():
    for shape in ((3,), ()):
        _same_error(lambda s=shape: init._calculate_fan_in_and_fan_out(ember.empty(s)),
                    lambda s=shape: torch.nn.init._calculate_fan_in_and_fan_out(torch.empty(s)))


def _bounded_uniform(arr, low, high):
    """Values lie in [low, high) and spread over it like a uniform sample."""
    n = arr.size
    width = high - low
    assert arr.min() >= low and arr.max() <= high
    assert arr.min() < low + 0.01 * width and arr.max() > high - 0.01 * width
    assert abs(arr.mean() - (low + high) / 2) < 5 * width / math.sqrt(12 * n)
    assert abs(arr.std() - width / math.sqrt(12)) < 0.02 * width


def _normal_like(arr, mean, std):
    n = arr.size
    assert abs(arr.mean() - mean) < 5 * std / math.sqrt(n)
    assert abs(arr.std() - std) < 0.03 * std


SHAPE = (128, 96, 3)  # fan_in = 288, fan_out = 384


@pytest.mark.parametrize("kwargs", [{}, {"a": math.sqrt(5)}, {"mode": "fan_out"},
                                    {"nonlinearity": "relu"}, {"a": 0.1, "mode": "FAN_IN"}])
def test_kaiming_uniform_matches_torch_spread(kwargs):
    e = init.kaiming_uniform_(ember.empty(SHAPE), **kwargs).numpy()
    t = torch.nn.init.kaiming_uniform_(torch.empty(SHAPE), **kwargs).numpy()
    bound = float(np.abs(t).max())
    _bounded_uniform(e, -bound * 1.001, bound * 1.001)
    assert abs(e.std() - t.std()) < 0.02 * t.std()


@pytest.mark.parametrize("kwargs", [{}, {"mode": "fan_out"}, {"nonlinearity": "relu"}])
def test_kaiming_normal_matches_torch_spread(kwargs):
    e = init.kaiming_normal_(ember.empty(SHAPE), **kwargs).numpy()
    t = torch.nn.init.kaiming_normal_(torch.empty(SHAPE), **kwargs).numpy()
    _normal_like(e, 0.0, float(t.std()))


@pytest.mark.parametrize("gain", [1.0, 2.5])
def test_xavier_match_torch_spread(gain):
    e = init.xavier_uniform_(ember.empty(SHAPE), gain=gain).numpy()
    t = torch.nn.init.xavier_uniform_(torch.empty(SHAPE), gain=gain).numpy()
    bound = float(np.abs(t).max())
    _bounded_uniform(e, -bound * 1.001, bound * 1.001)
    e = init.xavier_normal_(ember.empty(SHAPE), gain=gain).numpy()
    t = torch.nn.init.xavier_normal_(torch.empty(SHAPE), gain=gain).numpy()
    _normal_like(e, 0.0, float(t.std()))


def test_uniform_normal_constant():
    _bounded_uniform(init.uniform_(ember.empty(20000)).numpy(), 0.0, 1.0)
    _bounded_uniform(init.uniform_(ember.empty(100, 200), -3, -1).numpy(), -3.0, -1.0)
    _normal_like(init.normal_(ember.empty(20000)).numpy(), 0.0, 1.0)
    _normal_like(init.normal_(ember.empty(20000, dtype=ember.float64), 2, 0.5).numpy(), 2, 0.5)
    for fe, ft in ((lambda t: init.constant_(t, 0.3), lambda t: torch.nn.init.constant_(t, 0.3)),
                   (init.zeros_, torch.nn.init.zeros_), (init.ones_, torch.nn.init.ones_)):
        np.testing.assert_array_equal(fe(ember.empty(2, 3)).numpy(), ft(torch.empty(2, 3)).numpy())


def test_in_place_on_a_parameter_returns_it_and_bumps_version():
    p = ember.nn.Parameter(ember.empty(4, 3))
    pt = torch.nn.Parameter(torch.empty(4, 3))
    for fe, ft in ((init.uniform_, torch.nn.init.uniform_), (init.normal_, torch.nn.init.normal_),
                   (init.zeros_, torch.nn.init.zeros_),
                   (init.kaiming_uniform_, torch.nn.init.kaiming_uniform_),
                   (init.xavier_normal_, torch.nn.init.xavier_normal_)):
        assert fe(p) is p
        assert ft(pt) is pt
    assert p._version == pt._version
    assert p.requires_grad and p.is_leaf and p.grad_fn is None
    assert init.uniform_(p, 0.5, 0.5).tolist() == [[0.5] * 3] * 4


def test_seeded_draws_repeat_and_generator_is_used():
    ember.manual_seed(7)
    a = init.normal_(ember.empty(5)).tolist()
    ember.manual_seed(7)
    assert init.normal_(ember.empty(5)).tolist() == a
    g1, g2 = ember.Generator().manual_seed(1), ember.Generator().manual_seed(1)
    assert init.kaiming_uniform_(ember.empty(3, 3), generator=g1).tolist() == \
        init.kaiming_uniform_(ember.empty(3, 3), generator=g2).tolist()
    assert init.xavier_normal_(ember.empty(3, 3), generator=g1).tolist() != \
        init.xavier_normal_(ember.empty(3, 3)).tolist()


def test_errors_match_torch():
    cases = [
        (lambda: init.uniform_(ember.empty(3), 1, 0),
         lambda: torch.nn.init.uniform_(torch.empty(3), 1, 0)),
        (lambda: init.normal_(ember.empty(3), 0, -1),
         lambda: torch.nn.init.normal_(torch.empty(3), 0, -1)),
        (lambda: init.kaiming_uniform_(ember.empty(3)),
         lambda: torch.nn.init.kaiming_uniform_(torch.empty(3))),
        (lambda: init.kaiming_normal_(ember.empty(3, 2), mode="fan_avg"),
         lambda: torch.nn.init.kaiming_normal_(torch.empty(3, 2), mode="fan_avg")),
        (lambda: init.xavier_uniform_(ember.empty(3)),
         lambda: torch.nn.init.xavier_uniform_(torch.empty(3))),
        (lambda: init.uniform_(ember.empty(3, dtype=ember.int64)),
         lambda: torch.nn.init.uniform_(torch.empty(3, dtype=torch.int64))),
        (lambda: init.normal_(ember.empty(3, dtype=ember.int32)),
         lambda: torch.nn.init.normal_(torch.empty(3, dtype=torch.int32))),
    ]
    for fe, ft in cases:
        _same_error(fe, ft)


def test_zero_element_kaiming_warns_like_torch():
    for fn in ("kaiming_uniform_", "kaiming_normal_"):
        caught = []
        for lib in (ember, torch):
            with warnings.catch_warnings(record=True) as w:
                warnings.simplefilter("always")
                t = lib.empty(0, 3)
                assert getattr(lib.nn.init, fn)(t) is t
            caught.append([str(x.message) for x in w])
        assert caught[0] == caught[1] and caught[0]


_BOUND_CASES = [
    ("float32", float("nan"), 1.0), ("float32", 0.0, float("nan")),
    ("float32", float("-inf"), 0.0), ("float32", 0.0, float("inf")),
    ("float32", -3e38, 3e38), ("float64", -1e39, 0.0), ("float16", -7e4, 0.0),
    ("float32", 2.0, 1.0), ("float32", 1 / 3, 0.1), ("float32", 1e20, 1.0),
    ("float64", -3e38, 3e38), ("float16", -3e4, 3e4),
]


@pytest.mark.parametrize("dtype,a,b", _BOUND_CASES)
def test_uniform_bound_checks_match_torch(dtype, a, b):
    def run(lib):
        t = lib.empty(50, dtype=getattr(lib, dtype))
        lib.nn.init.uniform_(t, a, b)
        return bool(((t >= a) & (t <= b)).all())

    assert_same_outcome(lambda: run(ember), lambda: run(torch))


@pytest.mark.parametrize("std", [-1.0, -0.5, -1e-20, float("nan")])
def test_normal_std_check_matches_torch(std):
    _same_error(lambda: init.normal_(ember.empty(3), 0.0, std),
                lambda: torch.nn.init.normal_(torch.empty(3), 0.0, std))


@pytest.mark.parametrize("args", [(), (1.0, 2.0, 0.0, 3.0), (0.0, 1.0, -0.5, 0.5),
                                  (4.5, 1.0, -2.0, 2.0), (-1.0, 0.5, -3.0, -0.5)])
def test_trunc_normal_matches_torch_distribution(args):
    """Same bounds, mean and spread as torch's (different random numbers), and the same
    warning when the mean is far from [a, b]."""
    drawn, caught = [], []
    for lib in (ember, torch):
        with warnings.catch_warnings(record=True) as w:
            warnings.simplefilter("always")
            t = lib.nn.init.trunc_normal_(lib.empty(20_000, dtype=lib.float64), *args)
        drawn.append(np.asarray(t.tolist()))
        caught.append([str(x.message) for x in w])
    (e, t), (a, b) = drawn, args[2:] or (-2.0, 2.0)
    assert caught[0] == caught[1]
    assert a <= e.min() and e.max() <= b and a <= t.min() and t.max() <= b
    assert abs(e.mean() - t.mean()) < 0.03 and abs(e.std() - t.std()) < 0.03
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        _same_error(lambda: init.trunc_normal_(ember.empty(3, dtype=ember.int64), *args),
                    lambda: torch.nn.init.trunc_normal_(torch.empty(3, dtype=torch.int64), *args))


@pytest.mark.parametrize("shape", [(3, 5), (5, 3), (4, 2, 3), (1, 1), (0, 3)])
def test_orthogonal_gives_torchs_orthogonality(shape):
    """``W Wᵀ = gain² I`` on the short side, as torch's; the same errors."""
    grams = []
    for lib in (ember, torch):
        w = lib.empty(*shape, dtype=lib.float64)
        assert lib.nn.init.orthogonal_(w, gain=2) is w
        m = np.asarray(w.tolist()).reshape(shape[0], math.prod(shape[1:]))
        grams.append(m @ m.T if m.shape[0] <= m.shape[1] else m.T @ m)
    np.testing.assert_allclose(grams[0], grams[1], atol=1e-10)
    _same_error(lambda: init.orthogonal_(ember.empty(3)),
                lambda: torch.nn.init.orthogonal_(torch.empty(3)))


@pytest.mark.parametrize("shape,groups", [((2, 3), 1), ((3, 2), 1), ((4, 2, 3), 1),
                                          ((4, 2, 3, 3), 2), ((2, 3, 2, 3, 4), 1),
                                          ((6, 2, 5), 3), ((3,), 1), ((3, 2, 2), 2)])
def test_eye_and_dirac_match_torch(shape, groups):
    def fill(lib, name):
        t = lib.nn.Parameter(lib.full(shape, 7.0))
        kwargs = {"groups": groups} if name == "dirac_" else {}
        out = getattr(lib.nn.init, name)(t, **kwargs)
        return out is t, t.requires_grad, t.is_leaf, t.tolist()

    for name in ("eye_", "dirac_"):
        assert_same_outcome(lambda name=name: fill(ember, name),
                            lambda name=name: fill(torch, name))
