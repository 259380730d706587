"""Convolution and pooling kernels over NumPy or CuPy arrays (N-d, channels first).

Convolution is im2col. Where the output has at least as many positions as channels, the
columns are channels last: the padded input moved to (N, *spatial, C), a strided view of
every window copied once into an (N * prod(out), prod(kernel) * C) matrix, then one matrix
product with the reordered weight per channel group. With fewer positions than channels
(the deep layers of a small batch), the columns are in the weight's own (channel, kernel)
order, gathered one kernel offset at a time, and the products are oriented for OpenBLAS's
short-matrix speed (``_conv_first``); kernel offsets that read only padding (a 3x3 kernel
on a 1x1 plane) are left out. The input gradient (a transposed convolution) is, at stride
1, a forward convolution of the gradient with the flipped kernel; otherwise the product
the other way, scattered back by a loop over kernel offsets with one vectorised slice add
each. The weight gradient is the columns against the gradient. At stride 1 on large inputs
with many channels, where the columns would overflow the caches, the forward and the
weight gradient skip im2col: on the zero-padded input laid out as (C, N * prod(padded)),
each kernel offset's windows are one column slice, so each offset is one product
(``_shifted_conv``). Every function takes ``padding`` as one ``(low, high)`` pair per
spatial dim.
"""

from __future__ import annotations

import functools
import itertools
import math

import numpy as np

from . import cupy

__all__ = ["out_size", "pad", "conv", "conv_input_grad", "conv_weight_grad", "max_pool",
           "max_pool_scatter", "max_pool_gather", "separable_pool"]


def _xp(a):
    return np if type(a) is np.ndarray else cupy()


def out_size(size: int, k: int, s: int, lo: int, hi: int, d: int) -> int:
    return (size + lo + hi - d * (k - 1) - 1) // s + 1


def pad(x, padding, value=0):
    """``x`` with ``padding`` ((low, high) per spatial dim) filled with ``value``."""
    if not any(lo or hi for lo, hi in padding):
        return x
    xp = _xp(x)
    lead = x.ndim - len(padding)
    shape = x.shape[:lead] + tuple(s + lo + hi for s, (lo, hi) in zip(x.shape[lead:], padding))
    out = xp.full(shape, value, dtype=x.dtype)
    out[(Ellipsis,) + tuple(slice(lo, lo + s) for s, (lo, _) in
                            zip(x.shape[lead:], padding))] = x
    return out


def _windows(xp_, x, kernel, stride, dilation, out):
    """View of shape ``(N, C, *kernel, *out)`` on the padded ``x``: every window at once."""
    st = x.strides
    lead = x.ndim - len(kernel)
    strides = st[:lead] + tuple(st[lead + i] * d for i, d in enumerate(dilation)) + \
        tuple(st[lead + i] * s for i, s in enumerate(stride))
    return xp_.lib.stride_tricks.as_strided(x, x.shape[:lead] + tuple(kernel) + tuple(out),
                                            strides)


def _out_shape(spatial, kernel, stride, padding, dilation):
    return tuple(out_size(n, k, s, lo, hi, d)
                 for n, k, s, (lo, hi), d in zip(spatial, kernel, stride, padding, dilation))


def _copy_channels_last(dst, moved):
    """``dst[...] = moved``, where ``moved`` is a channels-first array seen channels last.

    On the CPU a few channels at a time: each read then walks a handful of planes rather
    than all of them, which for large planes (reads a plane apart, 4 KiB at 32x32) is
    twice as fast as NumPy's single strided copy (but twice as slow on 8x8 planes)."""
    c = moved.shape[-1]
    positions = moved.size // c
    if type(moved) is not np.ndarray or positions < 512 or c <= _CHANNEL_BLOCK or \
            positions < _BLOCKED_MIN_PLANE * moved.shape[0]:
        dst[...] = moved
        return
    for i in range(0, c, _CHANNEL_BLOCK):
        dst[..., i:i + _CHANNEL_BLOCK] = moved[..., i:i + _CHANNEL_BLOCK]


_CHANNEL_BLOCK = 8
_BLOCKED_MIN_PLANE = 256  # positions per plane


def _channels_last(x, padding):
    """``x`` (N, C, *spatial) as a padded, contiguous (N, *padded, C) array (one copy)."""
    xp = _xp(x)
    nd = x.ndim - 2
    spatial = x.shape[2:]
    shape = (x.shape[0],) + tuple(s + lo + hi for s, (lo, hi) in zip(spatial, padding)) + \
        (x.shape[1],)
    moved = x.transpose((0,) + tuple(range(2, 2 + nd)) + (1,))
    if shape == moved.shape:
        out = xp.empty(shape, dtype=x.dtype)
        _copy_channels_last(out, moved)
        return out
    out = xp.zeros(shape, dtype=x.dtype)
    _copy_channels_last(
        out[(slice(None),) + tuple(slice(lo, lo + s) for s, (lo, _) in zip(spatial, padding))],
        moved)
    return out


def _channels_first(y):
    """A channels-last (N, *spatial, C) array as a contiguous (N, C, *spatial) one."""
    xp = _xp(y)
    nd = y.ndim - 2
    return xp.ascontiguousarray(y.transpose((0, nd + 1) + tuple(range(1, nd + 1))))


def _channels_last_pays(rows: int, out_channels: int) -> bool:
    """Whether to lay columns out channels last: their gather copies long runs, but the
    weight must be reordered, which costs more than it saves when the output has no more
    positions than channels (deep layers of a small batch)."""
    return rows > out_channels


def _im2col(x, kernel, stride, padding, dilation, out, last: bool):
    """The windows of ``x`` as a contiguous (N * prod(out), C * prod(kernel)) matrix, each
    row in (kernel, channel) order if ``last``, else in (channel, kernel) order.

    Channels last, each row holds runs of ``kernel[-1] * C`` consecutive input values (at
    dilation 1), so the gather copies long runs and the product with the weight is one
    large GEMM, the layout CPU convolution libraries use; channels first, the weight is
    used as it is stored."""
    xp = _xp(x)
    n = x.shape[0]
    if last:
        xl = _channels_last(x, padding)
        st = xl.strides
        shape = (n,) + tuple(out) + tuple(kernel) + (xl.shape[-1],)
        strides = (st[0],) + tuple(st[1 + i] * s for i, s in enumerate(stride)) + \
            tuple(st[1 + i] * d for i, d in enumerate(dilation)) + (st[-1],)
    else:
        xl = pad(x, padding)
        st = xl.strides
        shape = (n,) + tuple(out) + (xl.shape[1],) + tuple(kernel)
        strides = (st[0],) + tuple(st[2 + i] * s for i, s in enumerate(stride)) + \
            (st[1],) + tuple(st[2 + i] * d for i, d in enumerate(dilation))
    win = xp.lib.stride_tricks.as_strided(xl, shape, strides)
    return xp.ascontiguousarray(win).reshape(n * math.prod(out), -1)


def _group_cols(cols, groups, kernel_size):
    """Channels-last columns as ``groups`` matrices, one per channel group."""
    if groups == 1:
        return [cols]
    m = cols.shape[0]
    split = cols.reshape(m, kernel_size, groups, -1)
    return [split[:, :, i, :].reshape(m, -1) for i in range(groups)]


def _group_weights(w, groups):
    """``w`` (O, C/groups, *kernel) as ``groups`` matrices (O/groups, K*C/groups), in the
    (kernel, channel) order of channels-last columns."""
    nd = w.ndim - 2
    o = w.shape[0]
    wm = w.transpose((0,) + tuple(range(2, 2 + nd)) + (1,)).reshape(o, -1)
    step = o // groups
    return [wm[i * step:(i + 1) * step] for i in range(groups)]


def _kernel_offsets(kernel) -> list:
    """Every kernel offset (a tuple per tap), in the kernel's (row-major) order."""
    return list(itertools.product(*(range(k) for k in kernel)))


def _tap_region(offs, stride, dilation, out) -> tuple:
    """The slices of the padded input that kernel offset ``offs`` reads at every output
    position."""
    return tuple(slice(i * d, i * d + s * (m - 1) + 1, s)
                 for i, d, s, m in zip(offs, dilation, stride, out))


def _kept_taps(spatial, kernel, stride, padding, dilation, out, gather: bool) -> tuple:
    """The flat indices of the kernel offsets to compute: those that read the input
    somewhere (``_taps_on_input``; the others read only padding). With ``gather`` (the
    product needs the kept offsets' weights gathered, which reads the whole weight) only
    where at most a quarter of them are kept (a 3x3 kernel on a 1x1 plane), else all.
    Cached: a network asks the same few questions at every step."""
    return _kept_taps_cached(tuple(spatial), tuple(kernel), tuple(stride),
                             tuple(tuple(p) for p in padding), tuple(dilation), tuple(out),
                             gather)


@functools.lru_cache(maxsize=256)
def _kept_taps_cached(spatial, kernel, stride, padding, dilation, out, gather):
    kk = math.prod(kernel)
    keep = np.flatnonzero(_taps_on_input(spatial, kernel, stride, padding, dilation, out))
    return tuple(keep.tolist()) if not gather or keep.size <= kk // 4 else tuple(range(kk))


def _first_cols(x, kernel, stride, padding, dilation, out, keep):
    """The windows of ``x`` for the kernel offsets ``keep`` as a contiguous
    (N * prod(out), C * len(keep)) matrix, each row in (channel, offset) order: the
    weight's own order. One copy per offset from the padded input laid out channels last,
    so each copies runs of C values (a strided view of whole windows copies runs of
    ``kernel[-1]``, three times slower on the deep layers' small planes); with fewer
    channels than that, the view."""
    xp = _xp(x)
    n, c = x.shape[:2]
    m = n * math.prod(out)
    kk = math.prod(kernel)
    if c < kernel[-1]:
        cols = _im2col(x, kernel, stride, padding, dilation, out, False)
        return cols if len(keep) == kk else cols.reshape(m, c, kk)[:, :, keep].reshape(m, -1)
    xl = _channels_last(x, padding)
    cols = xp.empty((n,) + tuple(out) + (c, len(keep)), dtype=x.dtype)
    offsets = _kernel_offsets(kernel)
    for j, t in enumerate(keep):
        cols[..., j] = xl[(slice(None),) + _tap_region(offsets[t], stride, dilation, out)]
    return cols.reshape(m, -1)


def _first_weights(w, keep):
    """``w`` (O, C/groups, *kernel) as an (O, C/groups * len(keep)) matrix in the order of
    ``_first_cols``: a view of ``w`` when every offset is kept."""
    o, cg = w.shape[:2]
    kk = math.prod(w.shape[2:])
    if len(keep) == kk:
        return w.reshape(o, -1)
    xp = _xp(w)
    return xp.ascontiguousarray(w.reshape(o, cg, kk)[:, :, keep]).reshape(o, -1)


def _conv_first(x, w, b, stride, padding, dilation, groups, out):
    """``conv`` in the weight's own (channel, kernel) order, for outputs with fewer
    positions than channels (the deep layers of a small batch), where reordering the weight
    costs more than the columns' gather saves. The product is taken as ``W @ cols.T``,
    (O, N * prod(out)): with few rows in ``cols``, OpenBLAS runs this orientation 1.5-3x
    faster than ``cols @ W.T``. Kernel offsets that read only padding are left out."""
    xp = _xp(x)
    n = x.shape[0]
    o = w.shape[0]
    kernel = w.shape[2:]
    keep = _kept_taps(x.shape[2:], kernel, stride, padding, dilation, out, True)
    cols = _first_cols(x, kernel, stride, padding, dilation, out, keep)
    wm = _first_weights(w, keep)
    if groups == 1:
        yt = wm @ cols.T
    else:
        yt = xp.empty((o, cols.shape[0]), dtype=x.dtype)
        og, step = o // groups, cols.shape[1] // groups
        for gi in range(groups):
            xp.matmul(wm[gi * og:(gi + 1) * og], cols[:, gi * step:(gi + 1) * step].T,
                      out=yt[gi * og:(gi + 1) * og])
    y = xp.ascontiguousarray(yt.reshape(o, n, -1).swapaxes(0, 1)).reshape((n, o) + tuple(out))
    if b is not None:
        y += b.reshape((o,) + (1,) * len(out))
    return y


def _input_grad_first(g, w, input_size, stride, padding, dilation, groups):
    """``conv_input_grad`` in the weight's own order (see ``_conv_first``): the product
    ``g @ W`` gives every window's columns, added back per kernel offset into the padded
    gradient laid out channels last (runs of C values); offsets that read only padding
    are left out."""
    xp = _xp(g)
    n, c = input_size[:2]
    spatial = tuple(input_size[2:])
    kernel = w.shape[2:]
    out = g.shape[2:]
    o = w.shape[0]
    keep = _kept_taps(spatial, kernel, stride, padding, dilation, out, True)
    rows = _grad_rows(g)
    wm = _first_weights(w, keep)
    if groups == 1:
        cols = rows @ wm
    else:  # each group's channels, side by side
        og = o // groups
        cols = xp.concatenate([rows[:, gi * og:(gi + 1) * og] @ wm[gi * og:(gi + 1) * og]
                               for gi in range(groups)], axis=1)
    cols = cols.reshape((n,) + tuple(out) + (c, len(keep)))
    padded = tuple(s + lo + hi for s, (lo, hi) in zip(spatial, padding))
    gx = xp.zeros((n,) + padded + (c,), dtype=g.dtype)
    offsets = _kernel_offsets(kernel)
    for j, t in enumerate(keep):
        gx[(slice(None),) + _tap_region(offsets[t], stride, dilation, out)] += cols[..., j]
    crop = tuple(slice(lo, lo + s) for s, (lo, _) in zip(spatial, padding))
    return _channels_first(gx[(slice(None),) + crop])


def _weight_grad_first(x, g, weight_size, stride, padding, dilation, groups):
    """``conv_weight_grad`` in the weight's own order (see ``_conv_first``): ``g.T @ cols``
    per group; offsets that read only padding get a zero gradient without being
    computed."""
    xp = _xp(x)
    o, cg = weight_size[:2]
    kernel = tuple(weight_size[2:])
    out = g.shape[2:]
    kk = math.prod(kernel)
    keep = _kept_taps(x.shape[2:], kernel, stride, padding, dilation, out, False)
    cols = _first_cols(x, kernel, stride, padding, dilation, out, keep)
    rows = _grad_rows(g)
    if groups == 1:
        part = rows.T @ cols
    else:
        part = xp.empty((o, cols.shape[1] // groups), dtype=g.dtype)
        og, step = o // groups, part.shape[1]
        for gi in range(groups):
            xp.matmul(rows[:, gi * og:(gi + 1) * og].T, cols[:, gi * step:(gi + 1) * step],
                      out=part[gi * og:(gi + 1) * og])
    if len(keep) == kk:
        return part.reshape(tuple(weight_size))
    gw = xp.zeros((o * cg, kk), dtype=g.dtype)
    part = part.reshape(o * cg, len(keep))
    for j, t in enumerate(keep):  # one flat strided copy each: far faster than a 2-d one
        gw[:, t] = part[:, j]
    return gw.reshape(tuple(weight_size))


def _grad_rows(g):
    """The gradient (N, O, *out) as a channels-last (N * prod(out), O) matrix."""
    return _channels_last(g, ((0, 0),) * (g.ndim - 2)).reshape(-1, g.shape[1])


def _shifted_pays(x, kernel, stride, padding, out, groups, min_bytes) -> bool:
    """Whether to convolve by shifted products on the padded grid (``_shifted_conv``)
    rather than im2col: at stride 1, where the columns would be large (their copy, past
    the caches, is what im2col costs: ``min_bytes`` of them), with enough channels per
    group for each offset's product to run at full speed, and on planes large enough that
    the grid's padding border wastes little of each product."""
    if any(s != 1 for s in stride) or x.shape[1] // groups < _SHIFTED_MIN_CHANNELS:
        return False
    kk = math.prod(kernel)
    positions = math.prod(out)
    grid = math.prod(s + lo + hi for s, (lo, hi) in zip(x.shape[2:], padding))
    return kk > 1 and grid <= _SHIFTED_MAX_GRID * positions and \
        x.shape[0] * positions * kk * x.shape[1] * x.itemsize >= min_bytes


_SHIFTED_MIN_CHANNELS = 64
_SHIFTED_MAX_GRID = 1.2  # grid positions per output position
# columns from which the forward (and the stride-1 input gradient, a forward convolution)
# and the weight gradient gain from the shifted products
_SHIFTED_MIN_BYTES = 8 << 20
_SHIFTED_GRAD_MIN_BYTES = 24 << 20


def _grid(x, padding, tail):
    """``x`` (N, C, *spatial) zero-padded, as a (C, N * prod(padded) + tail) matrix: each
    channel's padded planes one after another, then ``tail`` zeros, so that every kernel
    offset's window over the whole batch is one column slice."""
    xp = _xp(x)
    n, c = x.shape[:2]
    spatial = x.shape[2:]
    padded = tuple(s + lo + hi for s, (lo, hi) in zip(spatial, padding))
    size = n * math.prod(padded)
    buf = xp.zeros((c, size + tail), dtype=x.dtype)
    inner = tuple(slice(lo, lo + s) for s, (lo, _) in zip(spatial, padding))
    buf[:, :size].reshape((c, n) + padded)[(slice(None), slice(None)) + inner] = \
        x.swapaxes(0, 1)
    return buf, padded, size


def _offsets(kernel, dilation, padded):
    """The column offset on the padded grid of each kernel offset, in the kernel's order."""
    steps = [math.prod(padded[i + 1:]) for i in range(len(padded))]
    return [sum(i * d * s for i, d, s in zip(offs, dilation, steps))
            for offs in itertools.product(*(range(k) for k in kernel))]


def _shifted_conv(x, w, b, padding, dilation, groups, out):
    """Stride-1 convolution with no im2col: on the padded grid ``_grid``, the output at
    grid position ``p`` is the sum over kernel offsets of ``w[:, :, offset] @ X[:, p + off]``,
    so each offset is one product of the weight's slice with a column slice of ``X``; the
    positions whose window runs off the plane are computed too, then cropped away."""
    xp = _xp(x)
    n = x.shape[0]
    o, cg = w.shape[:2]
    kernel = w.shape[2:]
    nd = len(kernel)
    kk = math.prod(kernel)
    offs = _offsets(kernel, dilation,
                    tuple(s + lo + hi for s, (lo, hi) in zip(x.shape[2:], padding)))
    grid, padded, m = _grid(x, padding, offs[-1])
    og = o // groups
    # (kernel, O, C/groups): each offset's weight a contiguous matrix
    wk = xp.ascontiguousarray(w.reshape(o, cg, kk).transpose(2, 0, 1))
    y = xp.empty((o, m), dtype=x.dtype)
    if kk * o * (m + offs[-1]) <= _STACKED_MAX:
        # small grids: one product for all offsets at once, then the shifted sums
        for gi in range(groups):
            rows = slice(gi * og, (gi + 1) * og)
            z = xp.matmul(wk[:, rows].reshape(kk * og, cg), grid[gi * cg:(gi + 1) * cg])
            z = z.reshape(kk, og, -1)
            yg = y[rows]
            xp.add(z[0, :, offs[0]:offs[0] + m], z[1, :, offs[1]:offs[1] + m], out=yg)
            for k in range(2, kk):
                yg += z[k, :, offs[k]:offs[k] + m]
    else:
        tmp = xp.empty((og, m), dtype=x.dtype)
        for gi in range(groups):
            xg = grid[gi * cg:(gi + 1) * cg]
            yg = y[gi * og:(gi + 1) * og]
            for k, off in enumerate(offs):
                wg = wk[k, gi * og:(gi + 1) * og]
                if k == 0:
                    xp.matmul(wg, xg[:, off:off + m], out=yg)
                else:
                    xp.matmul(wg, xg[:, off:off + m], out=tmp)
                    yg += tmp
    crop = (slice(None), slice(None)) + tuple(slice(0, s) for s in out)
    res = xp.ascontiguousarray(y.reshape((o, n) + padded)[crop].swapaxes(0, 1))
    if b is not None:
        res += b.reshape((o,) + (1,) * nd)
    return res


_STACKED_MAX = 1 << 20


def conv(x, w, b, stride, padding, dilation, groups):
    """Cross-correlation of ``x`` (N, C, *spatial) with ``w`` (O, C/groups, *kernel)."""
    xp = _xp(x)
    n = x.shape[0]
    o = w.shape[0]
    kernel = w.shape[2:]
    out = _out_shape(x.shape[2:], kernel, stride, padding, dilation)
    if n == 0 or 0 in out or x.shape[1] == 0:
        y = xp.zeros((n, o) + out, dtype=x.dtype)
        if b is not None:
            y += b.reshape((o,) + (1,) * len(out))
        return y
    if _shifted_pays(x, kernel, stride, padding, out, groups, _SHIFTED_MIN_BYTES):
        return _shifted_conv(x, w, b, padding, dilation, groups, out)
    if not _channels_last_pays(n * math.prod(out), o):
        return _conv_first(x, w, b, stride, padding, dilation, groups, out)
    cols = _group_cols(_im2col(x, kernel, stride, padding, dilation, out, True), groups,
                       math.prod(kernel))
    ws = _group_weights(w, groups)
    if groups == 1:
        y = cols[0] @ ws[0].T
    else:
        y = xp.concatenate([c @ wg.T for c, wg in zip(cols, ws)], axis=1)
    if b is not None:
        y += b
    return _channels_first(y.reshape((n,) + out + (o,)))


def conv_input_grad(g, w, input_size, stride, padding, dilation, groups):
    """The gradient of ``conv`` for its input: a transposed convolution of ``g`` with ``w``."""
    xp = _xp(g)
    n, c = input_size[:2]
    kernel = tuple(w.shape[2:])
    out = tuple(g.shape[2:])
    nd = len(kernel)
    spatial = tuple(input_size[2:])
    if not g.size or not math.prod(input_size):
        return xp.zeros(tuple(input_size), dtype=g.dtype)
    if not _channels_last_pays(n * math.prod(out), w.shape[0]):
        return _input_grad_first(g, w, input_size, stride, padding, dilation, groups)
    if all(s == 1 for s in stride) and \
            all(max(lo, hi) <= d * (k - 1) for (lo, hi), d, k in zip(padding, dilation, kernel)):
        return _conv_input_grad_as_conv(g, w, padding, dilation, groups)
    padded = tuple(s + lo + hi for s, (lo, hi) in zip(spatial, padding))
    gx = xp.zeros((n,) + padded + (c,), dtype=g.dtype)
    rows = _grad_rows(g)
    ws = _group_weights(w, groups)
    step = rows.shape[1] // groups
    parts = [rows[:, i * step:(i + 1) * step] @ wg for i, wg in enumerate(ws)]
    k = math.prod(kernel)
    if groups == 1:
        cols = parts[0]
    else:  # back to (kernel, channel) order, the groups' channels side by side
        cols = xp.stack([p.reshape(-1, k, c // groups) for p in parts], axis=2)
    cols = cols.reshape((n,) + out + kernel + (c,))
    for offs in _kernel_offsets(kernel):
        gx[(slice(None),) + _tap_region(offs, stride, dilation, out)] += \
            cols[(slice(None),) * (1 + nd) + offs]
    crop = tuple(slice(lo, lo + s) for s, (lo, _) in zip(spatial, padding))
    return _channels_first(gx[(slice(None),) + crop])


def _conv_input_grad_as_conv(g, w, padding, dilation, groups):
    """The stride-1 input gradient as a forward convolution: ``g`` padded by what the
    kernel's reach leaves beyond the forward's padding, with the kernel flipped and its
    input and output channels swapped (per group). The same im2col and one GEMM as the
    forward, instead of a GEMM into every window's columns and a scatter-add of each."""
    nd = w.ndim - 2
    o, cg = w.shape[:2]
    kernel = w.shape[2:]
    wt = w.reshape((groups, o // groups, cg) + kernel).swapaxes(1, 2)
    flip = (Ellipsis,) + (slice(None, None, -1),) * nd
    wt = wt.reshape((groups * cg, o // groups) + kernel)[flip]
    pads = tuple((d * (k - 1) - lo, d * (k - 1) - hi)
                 for (lo, hi), d, k in zip(padding, dilation, kernel))
    return conv(g, wt, None, (1,) * nd, pads, dilation, groups)


def _shifted_weight_grad(x, g, weight_size, padding, dilation, groups):
    """The stride-1 weight gradient on the padded grid of ``_shifted_conv``: ``g`` laid on
    the grid (zero where no window starts), channels last, and for each kernel offset one
    product of ``X``'s column slice with it."""
    xp = _xp(x)
    o, cg = weight_size[:2]
    kernel = tuple(weight_size[2:])
    out = g.shape[2:]
    offs = _offsets(kernel, dilation,
                    tuple(s + lo + hi for s, (lo, hi) in zip(x.shape[2:], padding)))
    grid, padded, m = _grid(x, padding, offs[-1])
    rows = _channels_last(g, tuple((0, p - s) for p, s in zip(padded, out))).reshape(m, o)
    og = o // groups
    r = xp.empty((len(offs), cg, o), dtype=g.dtype)
    for k, off in enumerate(offs):
        if groups == 1:
            xp.matmul(grid[:, off:off + m], rows, out=r[k])
            continue
        for gi in range(groups):
            r[k, :, gi * og:(gi + 1) * og] = \
                grid[gi * cg:(gi + 1) * cg, off:off + m] @ rows[:, gi * og:(gi + 1) * og]
    return xp.ascontiguousarray(r.transpose(2, 1, 0)).reshape(tuple(weight_size))


def _taps_on_input(spatial, kernel, stride, padding, dilation, out) -> np.ndarray:
    """Which kernel offsets (flat, in the kernel's order) read the input at some output
    position: on small planes with padding (a 3x3 kernel over a 1x1 plane, the last stage of
    a resnet on 32x32 images) the others only ever read padding."""
    per_dim = []
    for s, k, st, (lo, _), d, o in zip(spatial, kernel, stride, padding, dilation, out):
        at = np.arange(o)[:, None] * st + np.arange(k)[None, :] * d - lo  # (position, tap)
        per_dim.append(((at >= 0) & (at < s)).any(axis=0))
    mask = per_dim[0]
    for m in per_dim[1:]:
        mask = np.logical_and.outer(mask, m)
    return mask.reshape(-1)


def conv_weight_grad(x, g, weight_size, stride, padding, dilation, groups):
    """The gradient of ``conv`` for its weight: windows of ``x`` against ``g``."""
    xp = _xp(x)
    out = tuple(g.shape[2:])
    kernel = tuple(weight_size[2:])
    nd = len(kernel)
    if not g.size or not x.size:
        return xp.zeros(tuple(weight_size), dtype=g.dtype)
    if _shifted_pays(x, kernel, stride, padding, out, groups, _SHIFTED_GRAD_MIN_BYTES):
        return _shifted_weight_grad(x, g, weight_size, padding, dilation, groups)
    o = weight_size[0]
    if not _channels_last_pays(g.shape[0] * math.prod(out), o):
        return _weight_grad_first(x, g, weight_size, stride, padding, dilation, groups)
    cols = _group_cols(_im2col(x, kernel, stride, padding, dilation, out, True), groups,
                       math.prod(kernel))
    rows = _grad_rows(g)
    step = rows.shape[1] // groups
    # (cols^T @ g)^T rather than g^T @ cols: OpenBLAS is much slower on the latter when
    # the inner (N * out) dim is long and the output channels few
    parts = [(cg.T @ rows[:, i * step:(i + 1) * step]).T for i, cg in enumerate(cols)]
    gw = parts[0] if groups == 1 else xp.concatenate(parts, axis=0)
    gw = gw.reshape((o,) + kernel + (weight_size[1],))
    return xp.ascontiguousarray(gw.transpose((0, nd + 1) + tuple(range(1, nd + 1))))


def _pool_phases(x, kernel, stride, padding, dilation, out, fill):
    """Every kernel offset's windows of ``x`` (..., *spatial) padded with ``fill``, as flat
    slices over a common grid, and the grid's shape: (..., size) where each plane's first
    ``out[0] * prod(phase plane[1:])`` positions are its outputs (with garbage past ``out``
    in the inner dims, and in the rest of ``size``, to be cropped).

    The padded input is split into its stride phases, the positions of each residue modulo
    the stride, each copied once from ``x`` into a flat, ``fill``-padded buffer: kernel
    offset ``reach`` then reads phase ``reach % stride`` from flat offset
    ``sum(reach // stride * step)``, one contiguous slice over all the planes at once."""
    xp = _xp(x)
    nd = len(kernel)
    lead = x.shape[:-nd]
    spatial = x.shape[-nd:]
    planes = math.prod(lead)
    padded = [s + lo + hi for s, (lo, hi) in zip(spatial, padding)]
    grid = tuple(-(-p // s) for p, s in zip(padded, stride))  # the largest phase's planes
    steps = [math.prod(grid[i + 1:]) for i in range(nd)]
    reaches = [[o * d for o, d in zip(offs, dilation)] for offs in _kernel_offsets(kernel)]
    starts = [sum(r // s * st for r, s, st in zip(reach, stride, steps)) for reach in reaches]
    size = max(max(starts) + out[0] * steps[0], math.prod(grid))  # per plane
    phases = {}
    views = []
    for reach, start in zip(reaches, starts):
        res = tuple(r % s for r, s in zip(reach, stride))
        if res not in phases:
            buf = xp.full(planes * size + max(starts), fill, dtype=x.dtype)
            # the input positions of this phase: padded position res + s * q is input
            # position res + s * q - lo
            dst, src = [], []
            for r, s, (lo, _), n in zip(res, stride, padding, spatial):
                q = max(0, -((r - lo) // s))
                a = r + s * q - lo
                count = max(0, -(-(n - a) // s))
                dst.append(slice(q, q + count))
                src.append(slice(a, a + s * (count - 1) + 1 if count else a, s))
            plane = buf[:planes * size].reshape(lead + (size,))[..., :math.prod(grid)]
            plane.reshape(lead + grid)[(Ellipsis,) + tuple(dst)] = x[(Ellipsis,) + tuple(src)]
            phases[res] = buf
        views.append(phases[res][start:start + planes * size])
    return views, (size, (out[0],) + grid[1:])


def max_pool(x, kernel, stride, padding, dilation, out):
    """Max over windows of ``x`` (..., *spatial), padded with -inf, and the flat index of
    each maximum in its (unpadded) plane, as int64. The first maximum wins; NaN propagates
    (the last NaN's index, as PyTorch's kernel keeps it).

    Branch-free: a running ``maximum`` and a running window index updated by arithmetic
    (``arg += take * (k - arg)``, in a small integer type), since masked assignments on
    data-dependent masks are several times slower in NumPy. Each kernel offset reads one
    flat slice per plane (``_pool_phases``), so every op runs over long contiguous runs;
    the positions off the output are cropped at the end."""
    xp = _xp(x)
    nd = len(kernel)
    spatial = x.shape[-nd:]
    fill = -np.inf if x.dtype.kind == "f" else np.iinfo(x.dtype).min
    views, grid = _pool_phases(x, kernel, stride, padding, dilation, out, fill)
    best = views[0].copy()
    arg = xp.zeros(best.shape, dtype=np.uint8 if len(views) <= 256 else np.int64)
    take = xp.empty(best.shape, dtype=bool)
    step = xp.empty_like(arg)
    for k in range(1, len(views)):
        xp.greater(views[k], best, out=take)
        xp.maximum(best, views[k], out=best)
        xp.subtract(arg.dtype.type(k), arg, out=step)  # (wraps around in uint8: still exact)
        xp.multiply(step, take, out=step)
        arg += step
    if x.dtype.kind == "f" and bool(xp.isnan(best).any()):
        for k in range(len(views)):
            xp.isnan(views[k], out=take)
            xp.subtract(arg.dtype.type(k), arg, out=step)
            xp.multiply(step, take, out=step)
            arg += step
    size, grid = grid
    crop = (Ellipsis,) + tuple(slice(0, m) for m in out)
    lead = x.shape[:-nd]
    best = xp.ascontiguousarray(
        best.reshape(lead + (size,))[..., :math.prod(grid)].reshape(lead + grid)[crop])
    arg = arg.reshape(lead + (size,))[..., :math.prod(grid)].reshape(lead + grid)[crop]
    # window index k -> flat index into the unpadded plane: the window's start plus the
    # offset of tap k
    place = [math.prod(spatial[i + 1:]) for i in range(nd)]
    taps = xp.asarray([sum(o * d * p for o, d, p in zip(offs, dilation, place))
                       for offs in itertools.product(*(range(n) for n in kernel))],
                      dtype=np.int64)
    starts = [(xp.arange(out[i], dtype=np.int64) * stride[i] - padding[i][0]).reshape(
        (-1,) + (1,) * (nd - 1 - i)) for i in range(nd)]
    base = sum(start * p for start, p in zip(starts, place))  # each window's first position
    flat = xp.take(taps, arg)
    flat += base
    if any(lo for lo, _ in padding) and bool((best == fill).any()):
        # a window with no input element above the padding's fill (all padding, or all
        # -inf) keeps its first element, padding: PyTorch's index is instead the window's
        # first position past the low padding
        first, padded = 0, False
        for i in range(nd):
            start = starts[i]
            skip = (xp.maximum(-start, 0) + dilation[i] - 1) // dilation[i] * dilation[i]
            first = first + (start + skip) * place[i]
            padded = padded | (start < 0)
        flat = xp.where((arg == 0) & padded, first, flat)
    return best, flat


def max_pool_scatter(g, indices, input_size):
    """Each element of ``g`` added at its ``indices`` in a zero array of ``input_size``."""
    xp = _xp(g)
    plane = math.prod(input_size[-2:])
    rows = math.prod(input_size[:-2])
    if not g.size:
        return xp.zeros(tuple(input_size), dtype=g.dtype)
    idx = indices.reshape(rows, -1) + xp.arange(rows, dtype=np.int64)[:, None] * plane
    # (a window of padding alone points past its plane, as PyTorch's index does: dropped)
    out = xp.bincount(idx.ravel(), weights=g.ravel(), minlength=rows * plane)[:rows * plane]
    return out.astype(g.dtype, copy=False).reshape(tuple(input_size))


def max_pool_gather(x, indices):
    """``x``'s elements at ``indices`` (flat per plane): the adjoint of ``max_pool_scatter``."""
    xp = _xp(x)
    if not indices.size:
        return xp.zeros(indices.shape, dtype=x.dtype)
    rows = math.prod(x.shape[:-2])
    flat = x.reshape(rows, -1)
    return xp.take_along_axis(flat, indices.reshape(rows, -1), axis=1).reshape(indices.shape)


def separable_pool(x, a, b):
    """``a @ x @ b`` over the last two dims: ``a`` (Ho, H), ``b`` (W, Wo). Average pooling
    of every kind (and its gradient, with the transposed matrices) is this product, in the
    matrices' dtype (float for a half ``x``), rounded to ``x``'s."""
    xp = _xp(x)
    lead = x.shape[:-2]
    h, w = x.shape[-2:]
    ho, wo = a.shape[0], b.shape[1]
    if not x.size or not ho or not wo:
        return xp.zeros(lead + (ho, wo), dtype=x.dtype)
    t = (x.reshape(-1, w) @ b).reshape(-1, h, wo)
    y = xp.matmul(a, t).reshape(lead + (ho, wo)).astype(x.dtype, copy=False)
    return xp.ascontiguousarray(y)
