"""The convolution kernels of ``backend/conv.py`` against torch, on every path: im2col
(channels last or first), and the shifted products on the padded grid, which the tests
force on small shapes by lowering the thresholds that pick it."""

import numpy as np
import pytest
import torch

from ember.backend import conv as kernels

CASES = [
    # (input shape, weight shape, stride, padding, dilation, groups)
    ((2, 4, 9, 7), (6, 4, 3, 3), (1, 1), (1, 1), (1, 1), 1),
    ((1, 4, 9, 7), (6, 4, 3, 3), (1, 1), (0, 0), (1, 1), 1),
    ((2, 4, 8, 11), (6, 4, 3, 3), (1, 1), (2, 2), (1, 1), 1),
    ((2, 4, 10, 9), (6, 4, 3, 3), (1, 1), (2, 1), (2, 2), 1),
    ((2, 6, 9, 9), (6, 2, 3, 3), (1, 1), (1, 1), (1, 1), 3),
    ((2, 4, 9, 9), (8, 2, 3, 2), (1, 1), (1, 0), (1, 2), 2),
    ((1, 3, 13, 12), (5, 3, 7, 7), (1, 1), (3, 3), (1, 1), 1),
    ((2, 4, 7, 7), (6, 4, 1, 1), (1, 1), (0, 0), (1, 1), 1),
    ((2, 4, 9, 8), (6, 4, 3, 3), (2, 2), (1, 1), (1, 1), 1),
    ((2, 3, 13, 12), (5, 3, 7, 7), (2, 2), (3, 3), (1, 1), 1),
    ((1, 4, 9, 7), (6, 4, 3, 3), (2, 1), (0, 2), (1, 1), 1),
]


@pytest.fixture(params=["im2col", "im2col-first", "shifted", "shifted-stacked"])
def path(request, monkeypatch):
    """``im2col-first``: columns in the weight's own (channel, kernel) order, the layout
    for outputs with fewer positions than channels; ``shifted``: one product per kernel
    offset; ``shifted-stacked``: one product for all offsets, then the shifted sums (the
    form for small grids)."""
    if request.param == "im2col-first":
        monkeypatch.setattr(kernels, "_channels_last_pays", lambda rows, out_channels: False)
    elif request.param != "im2col":
        monkeypatch.setattr(kernels, "_SHIFTED_MIN_CHANNELS", 1)
        monkeypatch.setattr(kernels, "_SHIFTED_MAX_GRID", float("inf"))
        monkeypatch.setattr(kernels, "_SHIFTED_MIN_BYTES", 0)
        monkeypatch.setattr(kernels, "_SHIFTED_GRAD_MIN_BYTES", 0)
        monkeypatch.setattr(kernels, "_STACKED_MAX", 0 if request.param == "shifted" else 1 << 40)
    return request.param


def _run(x_shape, w_shape, stride, padding, dilation, groups, dtype, seed=0):
    rng = np.random.default_rng(seed)
    x = rng.standard_normal(x_shape).astype(dtype)
    w = rng.standard_normal(w_shape).astype(dtype)
    b = rng.standard_normal(w_shape[0]).astype(dtype)
    pads = tuple((p, p) for p in padding)
    y = kernels.conv(x, w, b, stride, pads, dilation, groups)
    g = rng.standard_normal(y.shape).astype(dtype)
    dx = kernels.conv_input_grad(g, w, x.shape, stride, pads, dilation, groups)
    dw = kernels.conv_weight_grad(x, g, w.shape, stride, pads, dilation, groups)
    tx, tw, tb, tg = (torch.from_numpy(a) for a in (x, w, b, g))
    conv = {1: torch.conv1d, 2: torch.conv2d, 3: torch.conv3d}[len(padding)]
    ty = conv(tx, tw, tb, stride, padding, dilation, groups)
    rx, rw, _ = torch.ops.aten.convolution_backward(
        tg, tx, tw, None, list(stride), list(padding), list(dilation), False,
        [0] * len(padding), groups, [True, True, False])
    return (y, dx, dw), (ty.numpy(), rx.numpy(), rw.numpy())


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("case", CASES)
def test_conv2d_kernels_match_torch(path, case, dtype):
    ours, ref = _run(*case, dtype)
    tol = 1e-4 if dtype == np.float32 else 1e-10
    for a, r in zip(ours, ref):
        assert a.shape == r.shape and a.dtype == r.dtype
        np.testing.assert_allclose(a, r, rtol=tol, atol=tol * max(1.0, np.abs(r).max()))


@pytest.mark.parametrize("case", [
    ((2, 3, 11), (4, 3, 3), (1,), (1,), (1,), 1),
    ((1, 4, 10), (4, 2, 5), (1,), (2,), (2,), 2),
    ((2, 2, 5, 6, 4), (3, 2, 3, 3, 3), (1, 1, 1), (1, 1, 1), (1, 1, 1), 1),
])
def test_conv1d_and_3d_kernels_match_torch(path, case):
    ours, ref = _run(*case, np.float64)
    for a, r in zip(ours, ref):
        np.testing.assert_allclose(a, r, rtol=1e-10, atol=1e-10)


def test_shifted_path_is_taken_for_large_stride_1_convolutions():
    x = np.zeros((16, 64, 32, 32), np.float32)
    pads = ((1, 1), (1, 1))
    out = (32, 32)
    assert kernels._shifted_pays(x, (3, 3), (1, 1), pads, out, 1, kernels._SHIFTED_MIN_BYTES)
    assert not kernels._shifted_pays(x, (3, 3), (2, 2), pads, (16, 16), 1, 0)
    assert not kernels._shifted_pays(x, (1, 1), (1, 1), ((0, 0), (0, 0)), out, 1, 0)
    small = np.zeros((16, 64, 4, 4), np.float32)  # the grid's border would double the work
    assert not kernels._shifted_pays(small, (3, 3), (1, 1), pads, (4, 4), 1, 0)


def test_shifted_path_runs_where_forced(path, monkeypatch):
    calls = []
    for name in ("_shifted_conv", "_shifted_weight_grad"):
        real = getattr(kernels, name)
        monkeypatch.setattr(kernels, name,
                            lambda *a, real=real, name=name: calls.append(name) or real(*a))
    _run((1, 3, 13, 12), (5, 3, 7, 7), (1, 1), (3, 3), (1, 1), 1, np.float64)
    expected = [] if path.startswith("im2col") else \
        ["_shifted_conv"] * 2 + ["_shifted_weight_grad"]
    assert calls == expected


def test_shifted_conv_in_float32_matches_torch_on_a_resnet_layer():
    ours, ref = _run((4, 64, 32, 32), (64, 64, 3, 3), (1, 1), (1, 1), (1, 1), 1, np.float32)
    for a, r in zip(ours, ref):
        np.testing.assert_allclose(a, r, rtol=1e-4, atol=1e-4 * np.abs(r).max())


# Small planes with padding, more output channels than output positions (so the columns are
# in the weight's own order): kernel offsets that read only padding get a zero gradient
# without being computed (``_taps_on_input``).
SMALL_PLANES = [
    ((4, 8, 1, 1), (16, 8, 3, 3), (1, 1), (1, 1), (1, 1), 1),     # resnet's last stage
    ((4, 6, 2, 2), (16, 6, 3, 3), (2, 2), (1, 1), (1, 1), 1),     # its stride-2 entry
    ((2, 6, 1, 2), (16, 3, 3, 5), (1, 1), (1, 2), (1, 1), 2),
    ((2, 4, 1, 2), (16, 4, 3, 3), (1, 1), (2, 2), (2, 2), 1),
    ((1, 4, 2, 3), (16, 4, 5, 5), (3, 3), (2, 2), (1, 1), 1),
    ((3, 5, 1), (12, 5, 3), (1,), (1,), (1,), 1),
    ((2, 3, 1, 2, 1), (12, 3, 3, 3, 3), (1, 1, 1), (1, 1, 1), (1, 1, 1), 1),
]


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("case", SMALL_PLANES)
def test_small_planes_skip_padding_only_taps_and_match_torch(case, dtype):
    x_shape, w_shape, stride, padding, dilation, groups = case
    rows = x_shape[0] * int(np.prod([
        (s + 2 * p - d * (k - 1) - 1) // st + 1
        for s, p, d, k, st in zip(x_shape[2:], padding, dilation, w_shape[2:], stride)]))
    assert not kernels._channels_last_pays(rows, w_shape[0])
    taps = kernels._taps_on_input(x_shape[2:], w_shape[2:], stride,
                                  tuple((p, p) for p in padding), dilation,
                                  tuple(1 + (s + 2 * p - d * (k - 1) - 1) // st for s, p, d, k, st
                                        in zip(x_shape[2:], padding, dilation, w_shape[2:],
                                               stride)))
    assert not taps.all()
    ours, ref = _run(*case, dtype)
    tol = 1e-4 if dtype == np.float32 else 1e-10
    for a, r in zip(ours, ref):
        assert a.shape == r.shape and a.dtype == r.dtype
        np.testing.assert_allclose(a, r, rtol=tol, atol=tol * max(1.0, np.abs(r).max()))


# Max pooling keeps a running maximum and window index by arithmetic: ties (the first
# maximum wins), NaN (it propagates, with the last NaN's index), windows of -inf and of
# padding alone, dilation, ceil mode and integers must all give torch's values and indices.
POOLS = [
    # (kernel, stride, padding, dilation, ceil_mode)
    ((3, 3), (2, 2), (1, 1), (1, 1), False),
    ((2, 2), (2, 2), (0, 0), (1, 1), True),
    ((3, 2), (1, 2), (1, 0), (2, 1), False),
    ((3, 3), (2, 2), (1, 1), (1, 1), True),
]


@pytest.mark.parametrize("dtype", [np.float32, np.float64, np.int32])
@pytest.mark.parametrize("pool", POOLS)
def test_max_pool_values_and_indices_match_torch(pool, dtype):
    import ember

    kernel, stride, padding, dilation, ceil_mode = pool
    rng = np.random.default_rng(0)
    x = rng.integers(-2, 3, size=(2, 3, 7, 8)).astype(dtype)  # many ties
    if dtype != np.int32:
        x[0, 0, 2, 3] = np.nan
        x[0, 1, 1:3, 1:3] = np.nan
        x[1, 0, :3, :3] = -np.inf
        x[1, 2] = -np.inf
    y, i = ember.nn.functional.max_pool2d(ember.tensor(x), kernel, stride, padding, dilation,
                                          ceil_mode, return_indices=True)
    if dtype == np.int32:  # torch's CPU max pool takes no integers: compare in float64
        x = x.astype(np.float64)
    ty, ti = torch.nn.functional.max_pool2d(torch.from_numpy(x), kernel, stride, padding,
                                            dilation, ceil_mode, return_indices=True)
    np.testing.assert_array_equal(y.numpy(), ty.numpy().astype(dtype))
    np.testing.assert_array_equal(i.numpy(), ti.numpy())
    assert i.dtype == ember.int64
