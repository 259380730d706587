"""Strides, storage offsets and contiguity of tensors and their views against torch, for
random chains of view ops on random shapes (empty and size-1 dims included): PyTorch's
numbers, not NumPy's (NumPy gives an empty array zero strides and no offset)."""

from __future__ import annotations

import math

import pytest
import torch
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import ember

SETTINGS = settings(max_examples=300, deadline=None,
                    suppress_health_check=[HealthCheck.too_slow])

shapes = st.lists(st.sampled_from([0, 1, 1, 2, 3, 4]), min_size=0, max_size=4).map(tuple)


def _layout(t):
    return (tuple(t.shape), tuple(t.stride()), t.storage_offset(), t.is_contiguous())


def _assert_layout(e, t, steps):
    assert _layout(e) == _layout(t), (steps, _layout(e), _layout(t))
    if e.ndim:
        for d in range(-e.ndim, e.ndim):
            assert e.stride(d) == t.stride(d)


@st.composite
def view_step(draw, shape):
    """One view op (its name and a function of the module and the tensor) valid for
    ``shape``."""
    n = len(shape)
    kinds = ["unsqueeze", "alias", "flatten"]
    if n:
        kinds += ["transpose", "permute", "select", "slice", "narrow", "squeeze_dim",
                  "expand", "index", "chunk", "unbind", "view", "movedim"]
    if n <= 2:
        kinds.append("t")
    kinds += ["squeeze", "view_dtype"]
    kind = draw(st.sampled_from(kinds))
    d = draw(st.integers(0, n - 1)) if n else 0
    if kind == "unsqueeze":
        k = draw(st.integers(-n - 1, n))
        return f"unsqueeze({k})", lambda M, x: x.unsqueeze(k)
    if kind == "alias":
        return "[...]", lambda M, x: x[...]
    if kind == "flatten":
        return "flatten()", lambda M, x: x.flatten()
    if kind == "transpose":
        e = draw(st.integers(0, n - 1))
        return f"transpose({d}, {e})", lambda M, x: x.transpose(d, e)
    if kind == "permute":
        p = draw(st.permutations(range(n)))
        return f"permute({p})", lambda M, x: x.permute(p)
    if kind == "t":
        return "t()", lambda M, x: x.t()
    if kind == "view_dtype":  # the same memory read as 2-byte or 8-byte elements
        name = draw(st.sampled_from(["int16", "float64", "int32"]))
        return f"view({name})", lambda M, x: x.view(getattr(M, name))
    if kind == "squeeze":
        return "squeeze()", lambda M, x: x.squeeze()
    if kind == "squeeze_dim":
        return f"squeeze({d})", lambda M, x: x.squeeze(d)
    if kind == "movedim":
        e = draw(st.integers(0, n - 1))
        return f"movedim({d}, {e})", lambda M, x: x.movedim(d, e)
    if kind == "select":
        if shape[d] == 0:
            return "squeeze()", lambda M, x: x.squeeze()
        i = draw(st.integers(-shape[d], shape[d] - 1))
        return f"select({d}, {i})", lambda M, x: x.select(d, i)
    if kind == "narrow":
        start = draw(st.integers(0, shape[d]))
        length = draw(st.integers(0, shape[d] - start))
        return f"narrow({d}, {start}, {length})", lambda M, x: x.narrow(d, start, length)
    if kind == "slice":
        start = draw(st.integers(-5, 6))
        stop = draw(st.one_of(st.none(), st.integers(-5, 6)))
        step = draw(st.integers(1, 3))
        index = (slice(None),) * d + (slice(start, stop, step),)
        return f"[{index}]", lambda M, x: x[index]
    if kind == "index":
        index = tuple(draw(st.sampled_from([None, Ellipsis, slice(None), slice(1, None)]))
                      for _ in range(draw(st.integers(1, 3))))
        if sum(i is Ellipsis for i in index) > 1 or \
                sum(i is not None and i is not Ellipsis for i in index) > n:
            index = (None,)
        return f"[{index}]", lambda M, x: x[index]
    if kind == "chunk":
        c = draw(st.integers(1, 3))
        k = draw(st.integers(0, 2))
        return (f"chunk({c}, {d})[{k}]",
                lambda M, x: (lambda parts: parts[min(k, len(parts) - 1)])(x.chunk(c, d)))
    if kind == "unbind":
        if shape[d] == 0:
            return "squeeze()", lambda M, x: x.squeeze()
        i = draw(st.integers(0, shape[d] - 1))
        return f"unbind({d})[{i}]", lambda M, x: x.unbind(d)[i]
    if kind == "expand":
        lead = tuple(draw(st.lists(st.sampled_from([0, 1, 2]), max_size=2)))
        sizes = lead + tuple(draw(st.sampled_from([1, 3, -1])) if s == 1 else
                             draw(st.sampled_from([s, -1])) for s in shape)
        return f"expand({sizes})", lambda M, x: x.expand(*sizes)
    # view: split one dim into two factors, or merge two neighbours (or all dims)
    new = list(shape)
    if shape[d] and shape[d] % 2 == 0 and draw(st.booleans()):
        new[d:d + 1] = [2, shape[d] // 2]
    elif d + 1 < n:
        new[d:d + 2] = [shape[d] * shape[d + 1]]
    else:
        new = [-1]
    new = tuple(new)
    method = draw(st.sampled_from(["view", "reshape"]))
    return f"{method}({new})", lambda M, x: getattr(x, method)(new)


@SETTINGS
@given(shape=shapes, data=st.data(), start=st.sampled_from(["zeros", "arange", "permuted"]))
def test_view_chain_strides_offsets_like_torch(shape, data, start):
    numel = math.prod(shape)
    if start == "zeros":
        e, t = ember.zeros(shape), torch.zeros(shape)
    else:  # a view of a tensor that starts 3 elements in, maybe with its dims reversed
        rev = tuple(range(len(shape) - 1, -1, -1)) if start == "permuted" else None
        e, t = (M.arange(float(numel + 6))[3:numel + 3] for M in (ember, torch))
        if rev is None:
            e, t = e.reshape(shape), t.reshape(shape)
        else:
            e, t = e.reshape(shape[::-1]).permute(rev), t.reshape(shape[::-1]).permute(rev)
    steps = [start]
    _assert_layout(e, t, steps)
    for _ in range(data.draw(st.integers(1, 5))):
        name, f = data.draw(view_step(tuple(t.shape)))
        steps.append(name)
        try:
            t_next = f(torch, t)
        except RuntimeError as err:  # a view the strides do not allow, or a bad dtype view
            with pytest.raises(type(err)):
                f(ember, e)
            continue
        e, t = f(ember, e), t_next
        _assert_layout(e, t, steps)
        assert _layout(e.contiguous()) == _layout(t.contiguous()), steps
        # A copy of a dense tensor keeps its layout (preserve_format); the strides of size-1
        # dims, and those of an empty copy, are arbitrary and not compared.
        copies = [("clone", lambda x: x.clone())]
        if 0 not in _dense_strides(t):  # (left alone: TensorIterator's order for expanded
            # inputs, which NumPy's ufuncs do not follow)
            copies += [("x + 1", lambda x: x + 1), ("x * x", lambda x: x * x),
                       ("neg", lambda x: -x)]
        for what, g in copies:
            ec, tc = g(e), g(t)
            assert ec.shape == tc.shape, (steps, what)
            assert ec.is_contiguous() == tc.is_contiguous(), (steps, what)
            if ec.numel():
                assert _dense_strides(ec) == _dense_strides(tc), (steps, what, ec.stride(), tc.stride())


def _dense_strides(t):
    return [s for s, n in zip(t.stride(), t.shape) if n != 1]


LAYOUT_CASES = {
    "zeros(3, 0, 2)": lambda M: M.zeros(3, 0, 2),
    "zeros(0, 3)": lambda M: M.zeros(0, 3),
    "zeros(0, 3).t()": lambda M: M.zeros(0, 3).t(),
    "empty(0)": lambda M: M.empty(0),
    "arange(24.).reshape(4, 6)[4:]": lambda M: M.arange(24.0).reshape(4, 6)[4:],
    "arange(24.).reshape(4, 6)[:, 6:]": lambda M: M.arange(24.0).reshape(4, 6)[:, 6:],
    "zeros(0, 3)[:, 1:]": lambda M: M.zeros(0, 3)[:, 1:],
    "ones(4, 0, 3).select(0, 2)": lambda M: M.ones(4, 0, 3).select(0, 2),
    "ones(4, 0, 3)[2]": lambda M: M.ones(4, 0, 3)[2],
    "zeros(2, 0, 3).permute(2, 0, 1)": lambda M: M.zeros(2, 0, 3).permute(2, 0, 1),
    "zeros(0, 3).view(3, 0)": lambda M: M.zeros(0, 3).view(3, 0),
    "zeros(0, 1).expand(2, 0, 3)": lambda M: M.zeros(0, 1).expand(2, 0, 3),
    "arange(6.)[6:].view(0, 2)": lambda M: M.arange(6.0)[6:].view(0, 2),
    "ones(1, 3).expand(1, 3)": lambda M: M.ones(1, 3).expand(1, 3),
    "ones(3, 1).expand(1, 3, 1)": lambda M: M.ones(3, 1).expand(1, 3, 1),
    "ones(3, 1).expand(1, 1, 3, 4)": lambda M: M.ones(3, 1).expand(1, 1, 3, 4),
    "tensor(1.).expand(1, 1)": lambda M: M.tensor(1.0).expand(1, 1),
    "ones(3, 4)[:, :1]": lambda M: M.ones(3, 4)[:, :1],
    "ones(3, 4).t().unsqueeze(0)": lambda M: M.ones(3, 4).t().unsqueeze(0),
    "ones(4, 3).t().clone()": lambda M: M.ones(4, 3).t().clone(),
    "ones(4, 3).t()[::2].clone()": lambda M: M.ones(4, 3).t()[::2].clone(),
    "ones(3).expand(2, 3).clone()": lambda M: M.ones(3).expand(2, 3).clone(),
    "ones(4, 3).t().contiguous()": lambda M: M.ones(4, 3).t().contiguous(),
}


@pytest.mark.parametrize("name", list(LAYOUT_CASES))
def test_layout_like_torch(name):
    e, t = LAYOUT_CASES[name](ember), LAYOUT_CASES[name](torch)
    assert _layout(e) == _layout(t)


def test_view_as_other_dtype_checks_pytorch_strides():
    """``view(dtype)`` of another element size needs stride(-1) == 1, even for a last dim
    of size 1, and checks the storage offset of an empty tensor as PyTorch counts it."""
    for f in (lambda M: M.arange(6.0).reshape(3, 2).t()[:1].t().view(M.float64),
              lambda M: M.arange(6.0)[3:3].view(M.float64)):
        with pytest.raises(RuntimeError) as te:
            f(torch)
        with pytest.raises(RuntimeError) as ee:
            f(ember)
        assert str(ee.value) == str(te.value).replace("torch.", "ember.")
