"""Views share storage (and the version counter) with their base, and gradients through
views and in-place changes of views are right, compared with torch."""

from __future__ import annotations

import numpy as np
import pytest
import torch

import ember
from tests._surface_helpers import assert_same, assert_same_error

VIEWS = {
    "view": lambda x: x.view(3, 4),
    "view_infer": lambda x: x.view(-1),
    "view_size": lambda x: x.view(ember.Size([2, 6]) if isinstance(x, ember.Tensor)
                                  else torch.Size([2, 6])),
    "reshape": lambda x: x.reshape(4, 3),
    "transpose": lambda x: x.transpose(0, 1),
    "swapaxes": lambda x: x.swapaxes(0, 1),
    "permute": lambda x: x.permute(1, 0),
    "t": lambda x: x.t(),
    "T": lambda x: x.T,
    "mT": lambda x: x.mT,
    "unsqueeze": lambda x: x.unsqueeze(1),
    "squeeze": lambda x: x.unsqueeze(0).squeeze(),
    "squeeze_dim": lambda x: x.unsqueeze(0).squeeze(0),
    "expand": lambda x: x[:1].expand(3, 4),
    "expand_as": lambda x: x[:1].expand_as(x),
    "narrow": lambda x: x.narrow(1, 1, 2),
    "narrow_negative": lambda x: x.narrow(0, -2, 2),
    "select": lambda x: x.select(0, 1),
    "select_negative": lambda x: x.select(1, -1),
    "slice": lambda x: x[1:, ::2],
    "int": lambda x: x[1],
    "ellipsis": lambda x: x[..., 1],
    "none": lambda x: x[None, :, None],
    "full_slice": lambda x: x[:],
    "ellipsis_only": lambda x: x[...],
    "chain": lambda x: x.t()[1:].unsqueeze(0)[0, :, 1],
    "flatten": lambda x: x.flatten(),
    "unflatten": lambda x: x.unflatten(1, (2, 2)),
    "ravel": lambda x: x.ravel(),
    "view_as": lambda x: x.view_as(x.new_zeros(4, 3)),
}
WRITABLE = [k for k in VIEWS if not k.startswith("expand")]


def _base(M):
    return M.arange(12.0).reshape(3, 4).clone()


@pytest.mark.parametrize("name", list(VIEWS))
def test_view_shares_storage_like_torch(name):
    f = VIEWS[name]
    eb, tb = _base(ember), _base(torch)
    ev, tv = f(eb), f(tb)
    assert_same(ev, tv)
    assert (ev._base is eb) == (tv._base is tb)
    assert ev._is_view() == tv._is_view()
    assert ev.is_contiguous() == tv.is_contiguous()
    assert ev.stride() == tv.stride()
    assert (ev.data_ptr() - eb.data_ptr()) // 4 == (tv.data_ptr() - tb.data_ptr()) // 4
    # the base changes -> the view sees it
    eb.add_(100)
    tb.add_(100)
    assert_same(ev, tv)
    assert (eb._version, ev._version) == (tb._version, tv._version)


@pytest.mark.parametrize("name", WRITABLE)
def test_writing_through_a_view_changes_the_base(name):
    f = VIEWS[name]
    eb, tb = _base(ember), _base(torch)
    ev, tv = f(eb), f(tb)
    ev.mul_(-1)
    tv.mul_(-1)
    assert_same(eb, tb)
    assert (eb._version, ev._version) == (tb._version, tv._version)
    ev.fill_(7)
    tv.fill_(7)
    assert_same(eb, tb)


def test_writing_into_an_expanded_view_raises_like_torch():
    eb, tb = _base(ember), _base(torch)
    assert_same_error(lambda: eb[:1].expand(3, 4).mul_(2), lambda: tb[:1].expand(3, 4).mul_(2))


def test_views_of_views_point_at_the_root_base():
    eb = ember.zeros(2, 3, 4)
    v = eb[1].t()[0:2].unsqueeze(0)
    tb = torch.zeros(2, 3, 4)
    tv = tb[1].t()[0:2].unsqueeze(0)
    assert v._base is eb and tv._base is tb
    v[0, 1, 2] = 5
    tv[0, 1, 2] = 5
    assert_same(eb, tb)


def test_copies_are_not_views():
    for M in (ember, torch):
        b = M.arange(12.0).reshape(3, 4)
        t = b.t().reshape(12)  # not viewable -> copy
        c = b.clone()
        contig = b.t().contiguous()
        assert not c._is_view() and c._base is None
        assert not contig._is_view()
        t[0] = 100
        assert b[0, 0].item() == 0
        assert b.contiguous() is b


def test_view_errors_like_torch():
    cases = [
        "M.ones(2, 3).t().view(6)", "M.ones(2, 3).view(4)", "M.ones(2, 3).view(-1, -1)",
        "M.ones(2, 3).view(-2, 3)", "M.ones(2, 3).reshape(5)", "M.ones(2, 3).transpose(0, 2)",
        "M.ones(2, 3).permute(0)", "M.ones(2, 3).permute(0, 0)", "M.ones(2, 3, 4).t()",
        "M.ones(2, 3).unsqueeze(3)", "M.ones(2, 3).squeeze(2)", "M.ones(2, 3).expand(3, 3)",
        "M.ones(2, 3).expand(3)", "M.ones(2, 3).narrow(0, 1, 2)", "M.ones(2, 3).select(2, 0)",
        "M.ones(2, 3).select(0, 2)", "M.ones(3).mT", "M.tensor(1.).select(0, 0)",
        "M.ones(2, 3)[::-1]", "M.ones(2, 3)[:, ::0]",
    ]
    for expr in cases:
        assert_same_error(lambda expr=expr: eval(expr, {"M": ember}),  # noqa: S307
                          lambda expr=expr: eval(expr, {"M": torch}))  # noqa: S307


# ---- gradients through views -------------------------------------------------------------
@pytest.mark.parametrize("name", list(VIEWS))
def test_gradient_through_view(name):
    f = VIEWS[name]
    ex = ember.arange(12.0).reshape(3, 4).requires_grad_()
    tx = torch.arange(12.0).reshape(3, 4).requires_grad_()
    ev, tv = f(ex * 1), f(tx * 1)
    assert type(ev.grad_fn).__name__ == type(tv.grad_fn).__name__
    w = np.arange(1.0, ev.numel() + 1, dtype=np.float32).reshape(tuple(ev.shape))
    (ev * ember.tensor(w)).sum().backward()
    (tv * torch.tensor(w)).sum().backward()
    assert_same(ex.grad, tx.grad)


def _run(build):
    """Run ``build(M)`` for ember and torch; compare what each returns."""
    e, t = build(ember), build(torch)
    assert len(e) == len(t)
    for a, b in zip(e, t):
        if isinstance(b, torch.Tensor):
            assert_same(a, b, rtol=1e-5)
        else:
            assert a == b, (a, b)


def _name(t):
    return None if t.grad_fn is None else type(t.grad_fn).__name__


def test_inplace_on_view_of_non_leaf_uses_copyslices():
    def build(M):
        x = M.arange(1.0, 7.0).reshape(2, 3).requires_grad_()
        base = x * 1
        v = base[0]
        v.mul_(2)
        out = [_name(base), _name(v), base._version, v._version]
        (base * M.arange(6.0).reshape(2, 3)).sum().backward()
        return out + [x.grad, base]
    _run(build)


def test_inplace_on_base_regenerates_stale_view_grad_fn():
    def build(M):
        x = M.arange(1.0, 7.0).reshape(2, 3).requires_grad_()
        base = x * 1
        v = base[:, 1]
        base.mul_(3)
        out = [_name(base), _name(v)]
        (v * M.tensor([5.0, 7.0])).sum().backward()
        return out + [x.grad, v]
    _run(build)


def test_chain_of_views_with_inplace_exp():
    def build(M):
        x = M.arange(1.0, 13.0).reshape(3, 4).div(10).requires_grad_()
        base = x.clone()
        v1 = base.t()
        v2 = v1[1:]
        v3 = v2.unsqueeze(0)[0, :, 1]
        v3.exp_()
        out = [_name(base), _name(v1), _name(v2), _name(v3), v3._base is base]
        (base ** 2).sum().backward()
        return out + [x.grad]
    _run(build)


def test_view_of_a_view_after_writing_through_another_view():
    def build(M):
        x = M.ones(2, 3, requires_grad=True)
        y = x * 2
        v = y.view(6)
        w = y[1]
        v.mul_(M.arange(6.0))
        out = [_name(y), _name(v), _name(w)]
        w.sum().backward(retain_graph=True)
        out.append(x.grad.clone())
        (v * v).sum().backward()
        return out + [x.grad]
    _run(build)


def test_permute_squeeze_chain_then_inplace_through_it():
    def build(M):
        x = M.arange(24.0).reshape(2, 3, 4).requires_grad_()
        y = x.clone()
        v = y.permute(2, 0, 1).unsqueeze(0).squeeze().view(4, 6)
        v[1:3] *= 2
        out = [_name(y), _name(v)]
        (y * y).sum().backward()
        return out + [x.grad]
    _run(build)


def test_expanded_view_after_base_changes_accumulates_gradient():
    def build(M):
        x = M.tensor([[1.0, 2.0, 3.0]], requires_grad=True)
        base = x * 1
        v = base.expand(2, 3)
        w = v[1:, 1:]
        base.mul_(2)
        out = [_name(v), _name(w), v.detach().clone()]
        (v * M.arange(6.0).reshape(2, 3)).sum().backward(retain_graph=True)
        out.append(x.grad.clone())
        (w * w).sum().backward()
        return out + [x.grad]
    _run(build)


def test_double_backward_through_copyslices_and_regenerated_views():
    def build(M):
        x = M.tensor([1.0, 2.0, 3.0], requires_grad=True)
        y = x * x
        v = y[1:]
        v.mul_(x[1:])
        g, = M.autograd.grad(y.sum(), x, create_graph=True)
        g2, = M.autograd.grad(g.sum(), x)
        x2 = M.tensor([1.0, 2.0, 3.0], requires_grad=True)
        y2 = x2 * x2
        v2 = y2[1:]
        y2.mul_(x2)
        h, = M.autograd.grad((v2 ** 2).sum(), x2, create_graph=True)
        h2, = M.autograd.grad(h.sum(), x2)
        return [g, g2, h, h2, _name(v2)]
    _run(build)


def test_base_changed_under_no_grad_keeps_view_history():
    def build(M):
        x = M.ones(4, requires_grad=True)
        y = x * 2
        v = y[:2]
        with M.no_grad():
            y.mul_(3)
        out = [_name(v), v.detach().clone()]
        v.sum().backward()
        return out + [x.grad]
    _run(build)


def test_view_of_leaf_changed_under_no_grad():
    def build(M):
        x = M.ones(4, requires_grad=True)
        v = x[:2]
        with M.no_grad():
            v.mul_(3)
        (x * x).sum().backward()
        return [_name(v), x.detach().clone(), x.grad, x._version]
    _run(build)


def test_inplace_into_view_of_tensor_without_grad_with_a_grad_value():
    def build(M):
        base = M.zeros(2, 3)
        v = base[0]
        w = M.ones(3, requires_grad=True)
        v.copy_(w * 2)
        out = [_name(base), _name(v), base.requires_grad, v.requires_grad, base.is_leaf]
        (base * M.arange(6.0).reshape(2, 3)).sum().backward()
        return out + [w.grad, base]
    _run(build)


def test_version_counter_is_shared_by_all_aliases():
    def build(M):
        a = M.ones(3)
        b = a.view(3)
        c = a[1:]
        d = a.detach()
        b.add_(1)
        c.mul_(2)
        a[0] = 3
        d.zero_()
        a += 1
        return [a._version, b._version, c._version, d._version, a.clone()._version, a]
    _run(build)


def test_detach_of_a_view_shares_storage():
    def build(M):
        x = M.arange(6.0).reshape(2, 3)
        d = x[1].detach()
        d[0] = 50
        return [x, d._is_view(), d._base is None]
    _run(build)


def test_detach_inplace_on_view_raises():
    def build(M):
        x = M.ones(4, requires_grad=True)
        v = (x * 2)[:2]
        try:
            v.detach_()
        except RuntimeError as e:
            return [str(e).split(".")[0]]
        return ["no error"]
    _run(build)


# ---- view(dtype): the same memory read as another dtype --------------------------------------
DTYPE_VIEWS = {
    "same_size": lambda m: m.arange(6.).reshape(2, 3).view(m.int32),
    "to_larger": lambda m: m.arange(8.).reshape(2, 4).view(m.float64),
    "to_smaller": lambda m: m.arange(4.).view(m.int16),
    "bytes_to_float": lambda m: m.arange(4, dtype=m.int8).view(m.float32),
    "to_bool": lambda m: m.arange(3, dtype=m.int8).view(m.bool),
    "strided_rows": lambda m: m.arange(12.).reshape(3, 4)[::2, 2:].view(m.float64),
    "transposed_rows": lambda m: m.arange(8.).reshape(4, 2)[1:].view(m.float64),
    "offset_smaller": lambda m: m.arange(6.).reshape(2, 3)[:, 1:].view(m.int16),
    "0d_same_size": lambda m: m.tensor(3.).view(m.int32),
}


@pytest.mark.parametrize("name", DTYPE_VIEWS)
def test_view_dtype_matches_torch(name):
    e, t = DTYPE_VIEWS[name](ember), DTYPE_VIEWS[name](torch)
    assert_same(e, t)
    assert e.stride() == t.stride() and e.storage_offset() == t.storage_offset()


DTYPE_VIEW_ERRORS = {
    "size": lambda m: m.arange(6.).reshape(2, 3).view(m.float64),
    "stride": lambda m: m.arange(6.).reshape(2, 3).t().view(m.float64),
    "0d": lambda m: m.tensor(1.).view(m.float64),
    "offset": lambda m: m.arange(3.)[1:].view(m.float64),
    "outer_stride": lambda m: m.arange(10.).reshape(2, 5)[:, :4].view(m.float64),
}


@pytest.mark.parametrize("name", DTYPE_VIEW_ERRORS)
def test_view_dtype_errors_match_torch(name):
    assert_same_error(lambda: DTYPE_VIEW_ERRORS[name](ember),
                      lambda: DTYPE_VIEW_ERRORS[name](torch))


def test_view_dtype_shares_memory_and_version_and_takes_no_grad():
    for m in (ember, torch):
        z = m.zeros(4)
        w = z.view(m.int32)
        w[0] = 1065353216  # the bits of 1.0f
        assert z.tolist() == [1.0, 0.0, 0.0, 0.0] and z._version == w._version == 1
        x = m.ones(3, requires_grad=True)
        y = x * 2
        assert not y.view(m.int32).requires_grad and y.view(m.int32).grad_fn is None
        c = y * y
        y.view(m.int32).zero_()  # changes y, which mul saved
        with pytest.raises(RuntimeError, match="modified by an inplace operation"):
            c.sum().backward()


def test_a_view_made_in_no_grad_mode_requires_grad_but_takes_none_as_torch():
    """PyTorch: a view of a tensor that requires grad, made in no_grad mode, requires grad
    with its base, is a leaf without a grad_fn, and gives new nodes no edge, so no gradient
    reaches it or its base; printing, hooks and detach treat it as such."""
    seen = {}
    for m in (ember, torch):
        x = m.ones(3, requires_grad=True)
        z = x * 1
        with m.no_grad():
            views = {"slice": x[0:2], "int": x[1], "view": z.view(3), "of_view": x[0:2][0:1],
                     "t": z.unsqueeze(0).t()}
        with m.inference_mode() if hasattr(m, "inference_mode") else m.no_grad():
            views["inference"] = x[0:2]
        row = []
        for name, v in views.items():
            y = v * 2
            row.append((name, v.requires_grad, v.is_leaf, v.grad_fn is None, y.requires_grad,
                        [e[0] for e in y.grad_fn.next_functions], repr(v).split("(", 1)[1]))
            y.sum().backward()
            assert x.grad is None and v.grad is None
            v.register_hook(lambda g: g).remove()
            assert not v.detach().requires_grad
        with m.no_grad():
            assert not m.ones(3, dtype=m.int64)[0:2].requires_grad
        seen[m.__name__] = row
    assert seen["ember"] == seen["torch"]
