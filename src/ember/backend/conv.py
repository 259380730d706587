"""Convolution and pooling kernels over NumPy or CuPy arrays (N-d, channels first).

Convolution is im2col, channels last: the padded input moved to (N, *spatial, C), a strided
view of every window copied once into an (N * prod(out), prod(kernel) * C) matrix, then one
matrix product with the weight per channel group. The input gradient (a transposed
convolution) is, at stride 1, a forward convolution of the gradient with the flipped
kernel; otherwise the product the other way, scattered back by a loop over kernel offsets
with one vectorised slice add each. The weight gradient is the columns against the
gradient. At stride 1 on large inputs with many channels, where the columns would
overflow the caches, the forward and the weight gradient skip im2col: on the zero-padded
input laid out as (C, N * prod(padded)), each kernel offset's windows are one column slice,
so each offset is one product (``_shifted_conv``). Every function takes ``padding`` as one
``(low, high)`` pair per spatial dim.
"""

from __future__ import annotations

import itertools

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
    twice as fast as NumPy's single strided copy."""
    c = moved.shape[-1]
    if type(moved) is not np.ndarray or moved.size < 512 * c or c <= _CHANNEL_BLOCK:
        dst[...] = moved
        return
    for i in range(0, c, _CHANNEL_BLOCK):
        dst[..., i:i + _CHANNEL_BLOCK] = moved[..., i:i + _CHANNEL_BLOCK]


_CHANNEL_BLOCK = 8


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
    weight must be reordered, which costs more than it saves when the output has fewer
    positions than channels (deep layers of a small batch)."""
    return rows >= out_channels


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
    return xp.ascontiguousarray(win).reshape(n * int(np.prod(out, dtype=np.int64)), -1)


def _group_cols(cols, groups, kernel_size, last: bool):
    """The columns as ``groups`` matrices, one per channel group."""
    if groups == 1:
        return [cols]
    m = cols.shape[0]
    if last:
        split = cols.reshape(m, kernel_size, groups, -1)
        return [split[:, :, i, :].reshape(m, -1) for i in range(groups)]
    split = cols.reshape(m, groups, -1)
    return [split[:, i, :] for i in range(groups)]


def _group_weights(w, groups, last: bool):
    """``w`` (O, C/groups, *kernel) as ``groups`` matrices (O/groups, K*C/groups), in the
    order of the columns."""
    nd = w.ndim - 2
    o = w.shape[0]
    if last:
        wm = w.transpose((0,) + tuple(range(2, 2 + nd)) + (1,)).reshape(o, -1)
    else:
        wm = w.reshape(o, -1)
    step = o // groups
    return [wm[i * step:(i + 1) * step] for i in range(groups)]


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
    kk = int(np.prod(kernel, dtype=np.int64))
    positions = int(np.prod(out, dtype=np.int64))
    grid = int(np.prod([s + lo + hi for s, (lo, hi) in zip(x.shape[2:], padding)],
                       dtype=np.int64))
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
    size = n * int(np.prod(padded, dtype=np.int64))
    buf = xp.zeros((c, size + tail), dtype=x.dtype)
    inner = tuple(slice(lo, lo + s) for s, (lo, _) in zip(spatial, padding))
    buf[:, :size].reshape((c, n) + padded)[(slice(None), slice(None)) + inner] = \
        x.swapaxes(0, 1)
    return buf, padded, size


def _offsets(kernel, dilation, padded):
    """The column offset on the padded grid of each kernel offset, in the kernel's order."""
    steps = [int(np.prod(padded[i + 1:], dtype=np.int64)) for i in range(len(padded))]
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
    kk = int(np.prod(kernel, dtype=np.int64))
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
    last = _channels_last_pays(n * int(np.prod(out, dtype=np.int64)), o)
    cols = _group_cols(_im2col(x, kernel, stride, padding, dilation, out, last), groups,
                       int(np.prod(kernel, dtype=np.int64)), last)
    ws = _group_weights(w, groups, last)
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
    rows_count = n * int(np.prod(out, dtype=np.int64))
    last = _channels_last_pays(rows_count, w.shape[0])
    # with few positions the flipped weight's reorder costs more than the scatter it saves
    if last and g.size and all(s == 1 for s in stride) and \
            all(max(lo, hi) <= d * (k - 1) for (lo, hi), d, k in zip(padding, dilation, kernel)):
        return _conv_input_grad_as_conv(g, w, padding, dilation, groups)
    spatial = tuple(input_size[2:])
    padded = tuple(s + lo + hi for s, (lo, hi) in zip(spatial, padding))
    gx = xp.zeros((n,) + padded + (c,) if last else (n, c) + padded, dtype=g.dtype)
    if g.size and gx.size:
        rows = _grad_rows(g)
        ws = _group_weights(w, groups, last)
        step = rows.shape[1] // groups
        parts = [rows[:, i * step:(i + 1) * step] @ wg for i, wg in enumerate(ws)]
        k = int(np.prod(kernel, dtype=np.int64))
        if groups == 1:
            cols = parts[0]
        elif last:  # back to (kernel, channel) order, the groups' channels side by side
            cols = xp.stack([p.reshape(-1, k, c // groups) for p in parts], axis=2)
        else:
            cols = xp.concatenate(parts, axis=1)
        if last:
            cols = cols.reshape((n,) + out + kernel + (c,))
        else:  # (N, *out, C, *kernel) read as (N, C, *out, *kernel)
            cols = cols.reshape((n,) + out + (c,) + kernel)
            cols = cols.transpose((0, 1 + nd) + tuple(range(1, 1 + nd)) +
                                  tuple(range(2 + nd, 2 + 2 * nd)))
        lead = (slice(None),) if last else (slice(None), slice(None))
        for offs in itertools.product(*(range(kk) for kk in kernel)):
            region = tuple(slice(i * d, i * d + s * (m - 1) + 1, s)
                           for i, d, s, m in zip(offs, dilation, stride, out))
            if last:
                gx[lead + region] += cols[(slice(None),) * (1 + nd) + offs]
            else:
                gx[lead + region] += cols[(slice(None),) * (2 + nd) + offs]
    crop = tuple(slice(lo, lo + s) for s, (lo, _) in zip(spatial, padding))
    if last:
        return _channels_first(gx[(slice(None),) + crop])
    return xp.ascontiguousarray(gx[(slice(None), slice(None)) + crop])


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


def _weight_grad_of_taps(rows, cols, taps, weight_size, groups):
    """The weight gradient in the weight's own order, computed for the kernel offsets in
    ``taps`` only: the others read nothing but padding, so their gradient is zero."""
    xp = _xp(rows)
    o, cg = weight_size[:2]
    k = taps.size
    keep = np.flatnonzero(taps)
    gw = xp.zeros((o, cg, k), dtype=rows.dtype)
    step = rows.shape[1] // groups
    og = o // groups
    for i, c in enumerate(cols):
        used = c.reshape(c.shape[0], cg, k)[:, :, keep].reshape(c.shape[0], -1)
        part = rows[:, i * step:(i + 1) * step].T @ used
        gw[i * og:(i + 1) * og, :, keep] = part.reshape(og, cg, keep.size)
    return gw.reshape(tuple(weight_size))


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
    k = int(np.prod(kernel, dtype=np.int64))
    o = weight_size[0]
    last = _channels_last_pays(g.shape[0] * int(np.prod(out, dtype=np.int64)), o)
    cols = _group_cols(_im2col(x, kernel, stride, padding, dilation, out, last), groups, k,
                       last)
    rows = _grad_rows(g)
    step = rows.shape[1] // groups
    if last:
        # (cols^T @ g)^T rather than g^T @ cols: OpenBLAS is much slower on the latter when
        # the inner (N * out) dim is long and the output channels few
        parts = [(cg.T @ rows[:, i * step:(i + 1) * step]).T for i, cg in enumerate(cols)]
    else:  # few rows: the product comes out in the weight's own order
        taps = _taps_on_input(x.shape[2:], kernel, stride, padding, dilation, out)
        if not taps.all():
            return _weight_grad_of_taps(rows, cols, taps, weight_size, groups)
        parts = [rows[:, i * step:(i + 1) * step].T @ cg for i, cg in enumerate(cols)]
    gw = parts[0] if groups == 1 else xp.concatenate(parts, axis=0)
    if not last:
        return xp.ascontiguousarray(gw).reshape(tuple(weight_size))
    gw = gw.reshape((o,) + kernel + (weight_size[1],))
    return xp.ascontiguousarray(gw.transpose((0, nd + 1) + tuple(range(1, nd + 1))))


def max_pool(x, kernel, stride, padding, dilation, out):
    """Max over windows of ``x`` (..., *spatial), padded with -inf, and the flat index of
    each maximum in its (unpadded) plane, as int64. The first maximum wins; NaN propagates."""
    xp = _xp(x)
    nd = len(kernel)
    spatial = x.shape[-nd:]
    fill = -np.inf if x.dtype.kind == "f" else np.iinfo(x.dtype).min
    win = _windows(xp, pad(x, padding, fill), kernel, stride, dilation, out)
    lead = (slice(None),) * (x.ndim - nd)
    best = None
    for k, offs in enumerate(itertools.product(*(range(n) for n in kernel))):
        v = win[lead + offs]
        if best is None:
            best = v.copy()
            arg = xp.zeros(best.shape, dtype=np.int64)
            continue
        take = v > best
        if x.dtype.kind == "f":
            take |= xp.isnan(v)
        xp.copyto(best, v, where=take)
        arg[take] = k
    # window index k -> flat index into the unpadded plane
    flat = xp.zeros(best.shape, dtype=np.int64)
    rest = arg
    place = 1
    starts = []
    for i in reversed(range(nd)):
        ki = rest % kernel[i]
        rest = rest // kernel[i]
        start = (xp.arange(out[i], dtype=np.int64) * stride[i] - padding[i][0]).reshape(
            (-1,) + (1,) * (nd - 1 - i))
        starts.append(start)
        flat += (start + ki * dilation[i]) * place
        place *= spatial[i]
    if any(lo for lo, _ in padding) and bool((best == fill).any()):
        # a window with no input element above the padding's fill (all padding, or all
        # -inf) keeps its first element, padding: PyTorch's index is instead the window's
        # first position past the low padding
        first, padded, place = 0, False, 1
        for i, start in zip(reversed(range(nd)), starts):
            skip = (xp.maximum(-start, 0) + dilation[i] - 1) // dilation[i] * dilation[i]
            first = first + (start + skip) * place
            padded = padded | (start < 0)
            place *= spatial[i]
        flat = xp.where((arg == 0) & padded, first, flat)
    return best, flat


def max_pool_scatter(g, indices, input_size):
    """Each element of ``g`` added at its ``indices`` in a zero array of ``input_size``."""
    xp = _xp(g)
    plane = int(np.prod(input_size[-2:], dtype=np.int64))
    rows = int(np.prod(input_size[:-2], dtype=np.int64))
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
    rows = int(np.prod(x.shape[:-2], dtype=np.int64))
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
