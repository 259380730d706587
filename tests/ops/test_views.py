"""Views share storage (and the version counter) with their base, and gradients through
views and in-place changes of views are right, compared with torch."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import ember
from tests._surface_helpers import assert_same, assert_same_error, ember_text, outcome

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
        "M.ones(2, 3).view(3, 2.0)", "M.ones(2, 3).view([3, None])", "M.ones(2, 3).reshape(3, 2.)",
        "M.ones(2, 3).expand(2, 3.0)", "M.ones(2, 3).permute(0, 1.0)",
        "M.ones(1, 2, 1).squeeze((0, 0))", "M.ones(1, 2, 1).squeeze([2, -1])",
        "M.ones(1, 2, 1).squeeze((0, 2, 0))", "M.ones(1, 2, 1).squeeze(3)",
        "M.ones(2, 3).narrow(1, -4, 1)", "M.ones(2, 3).narrow(1, 4, 0)",
        "M.ones(2, 3).narrow(1, 0, -1)", "M.tensor(1.).narrow(0, 0, 1)",
        "M.ones(2, 3).narrow(1, M.tensor(5), 1)", "M.tensor(1.).flatten(1)",
        "M.tensor(1.).flatten(0, -2)", "M.ones(2, 4).unflatten(1, ())",
        "M.ones(2, 4).unflatten(2, (2, 2))", "M.ones(2, 3).sum((0, 1, 1))",
        "M.ones(2, 3).unbind(2)", "M.tensor(1.).unbind()", "M.ones(4).split(-1)",
        "M.ones(4).split(0)", "M.ones(4).split([1, 2])", "M.ones(4).split([-1, 5])",
        "M.ones(4).chunk(0)", "M.ones(2, 3).movedim((0, 1), (1,))",
        "M.ones(2, 3).movedim((1, 1), (0, 1))", "M.ones(2, 3).movedim((0, 1), (1, -1))",
        "M.ones(2, 3).movedim(2, 0)",
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


# ---- reshapes that work where the results differ only by view-ness ---------------------------
@pytest.mark.parametrize("expr", [
    "x.view(4, True, 6)", "x.view(M.tensor(4), 6)", "x.expand(M.tensor(2), 3, 4)",
    "x.reshape(np.int64(4), 6)", "x.narrow(2, -1, 1)", "x.narrow(2, 4, 0)",
    "x.narrow(1, M.tensor(1), 2)", "x.transpose(0, 1).ravel()", "x.ravel()", "x[0].t().ravel()",
    "x.squeeze((0, 1))", "x[:1].squeeze([0, -1])", "M.tensor(2.).flatten(0, -1)",
    "x.unflatten(-1, (2, -1))", "M.movedim(x, 0, 2)", "x.movedim((0, 1), (2, 0))",
    "x.moveaxis(-1, 0)", "M.moveaxis(x, [0, -1], [-1, 0])",
])
def test_view_ops_match_torch(expr):
    """Shape, strides, offset, values, whether the result is a view of ``x`` and what
    records it."""
    results = []
    for M in (ember, torch):
        w = M.arange(24.0).reshape(2, 3, 4).requires_grad_()
        x = w * 1
        r = eval(expr, {"M": M, "x": x, "np": np})  # noqa: S307
        # (Strides and offsets of empty tensors are NumPy's, not torch's: not compared.)
        results.append((tuple(r.shape), r.stride() if r.numel() else None,
                        r.storage_offset() if r.numel() else None,
                        r._is_view(), r._base is x, type(r.grad_fn).__name__,
                        r.detach().numpy().tolist()))
    assert results[0] == results[1]


# ---- unbind, split, chunk: several views, one node ------------------------------------------
MULTI = [
    "x.unbind(1)", "M.unbind(x, -1)", "x.split(2, 2)", "x.split([1, 3], 2)", "x.split(5, 2)",
    "M.split(x, [1, 0, 2], 1)", "x.chunk(3, 2)", "x.chunk(2, 1)", "M.chunk(x, 4, -1)",
    "M.zeros(0, 3).split(2)", "M.zeros(0, 3).chunk(2)", "M.zeros(5, 3).chunk(4)",
    "M.zeros(0, 3).unbind()", "x.split(split_size=2, dim=1)",
]


@pytest.mark.parametrize("expr", MULTI)
def test_ops_returning_several_views_match_torch(expr):
    """Each piece is a view of the input (its strides and offset), all pieces share one node
    (``UnbindBackward0``, ``SplitBackward0``, ``SplitWithSizesBackward0``), and the gradient
    of the input puts the pieces' gradients back together, zeros for unused pieces."""
    results = []
    for M in (ember, torch):
        w = M.arange(24.0).reshape(2, 3, 4).requires_grad_()
        x = w * 1
        pieces = eval(expr, {"M": M, "x": x})  # noqa: S307
        out = [(tuple(p.shape), p.stride() if p.numel() else None,
                p.storage_offset() if p.numel() else None, p._base is x,
                type(p.grad_fn).__name__, p.grad_fn is pieces[0].grad_fn,
                p.detach().numpy().tolist()) for p in pieces]
        used = [p for p in pieces[::2] if p.requires_grad]
        if used:
            sum((p * (k + 2)).sum() for k, p in enumerate(used)).backward()
            out.append(w.grad.tolist())
        results.append(out)
    assert results[0] == results[1]


def test_gradients_through_several_views_of_higher_order():
    results = []
    for M in (ember, torch):
        w = M.arange(1.0, 25.0, dtype=M.float64).reshape(2, 3, 4).requires_grad_()
        a, b = w.chunk(2, 0)
        c, d = w.split([1, 3], 2)
        u = w.unbind(1)
        y = (a * b * b).sum() + (c.exp() * 0.1).sum() + (u[2] ** 3).sum() + d.sum()
        g, = M.autograd.grad(y, w, create_graph=True)
        gg, = M.autograd.grad((g * g).sum(), w)
        results.append((g.detach().numpy(), gg.numpy()))
    for e, t in zip(*results):
        np.testing.assert_allclose(e, t, rtol=1e-12)

    def f(w):
        a, b = w.split([2, 1], 1)
        return a.prod(1) + b.squeeze(1).sin() + w.unbind(0)[0].sum()
    w = ember.arange(1.0, 7.0, dtype=ember.float64).reshape(2, 3).requires_grad_()
    assert ember.autograd.gradcheck(f, (w,)) and ember.autograd.gradgradcheck(f, (w,))


@pytest.mark.parametrize("stmt", [
    "x.unbind(0)[1].add_(1)", "w.unbind(0)[1].add_(1)", "x.split(2, 2)[1].mul_(2)",
    "x.split([1, 3], 2)[1][0] = 2", "x.chunk(2, 2)[0].zero_()", "x.unbind(1)[0][1:].exp_()",
    "u = x.unbind(0); x.mul_(2); u[0].grad_fn", "u = x.unbind(0); x.mul_(2); u[0] * 2",
    "u = x.unbind(0); x[0].mul_(2); u[1].sum()",
    "u = x.split(1); u[0].mul_(2)",
])
def test_several_views_may_not_be_changed_in_place_like_torch(stmt):
    """PyTorch refuses in-place changes of the outputs of ops that return several views (and
    of views of them), and the use of one after its base was changed in place."""
    results = []
    for M in (ember, torch):
        w = M.arange(24.0).reshape(2, 3, 4).requires_grad_()
        x = w * 1
        r = outcome(lambda M=M, x=x, w=w: exec(stmt, {"M": M, "x": x, "w": w}))  # noqa: S102
        results.append(r if r[0] == "err" else ("ok", x._version))
    assert results[0][:2] == results[1][:2]
    if results[1][0] == "err":
        assert results[0][2] == ember_text(results[1][2])


def test_several_views_without_grad_or_under_no_grad_can_be_changed():
    results = []
    for M in (ember, torch):
        x = M.arange(24.0).reshape(2, 3, 4)
        x.unbind(0)[0].add_(1)
        x.split(2, 2)[1].mul_(3)
        w = M.ones(2, 3, requires_grad=True)
        y = w * 2
        with M.no_grad():
            y.chunk(3, 1)[1].zero_()
        results.append((x.tolist(), x._version, y.tolist(), y._version))
    assert results[0] == results[1]


# ---- in-place changes of views: the graph torch rebases to ---------------------------------
def _names(t):
    fn = t.grad_fn
    if fn is None:
        return None
    return [type(fn).__name__, [None if n is None else type(n).__name__
                                for n, _ in fn.next_functions]]


REBASE = [
    ("v = y[0]; v.mul_(3)", "y v"), ("v = y.t(); v.exp_()", "y v"),
    ("v = y[:, 1:]; u = v[0]; u.add_(1)", "y v u"), ("y[0].mul_(w[1])", "y"),
    ("v = y[0]; v.mul_(2); v.mul_(3)", "y v"), ("v = y.view(3, 2); v2 = y.view(6); v.mul_(2)",
                                                  "y v v2"),
    ("v = y[:, :2]; v.add_(g21)", "y v"), ("v = y[:, :2]; v.mul_(g21.double())", "y v"),
    ("v = y.expand(2, 2, 3); y.mul_(2)", "y v"), ("v = y[0]; y.mul_(2)", "y v"),
    ("v = y[1]; v.copy_(g21[:, 0].repeat(2)[:3] if False else y[0])", "y v"),
    ("v = y.unsqueeze(0).transpose(1, 2)[0]; v.clamp_(1, 4)", "y v"),
    ("v = z[1]; v.add_(g21[0])", "z v"), ("z[0] = y[1]", "z"), ("z.t()[0].mul_(w[0, 0])", "z"),
    ("v = y.movedim(0, 1); v.sub_(g21.t())", "y v"),
    # ops that save their output, on views that are gone by the backward pass
    ("y[0].exp_()", "y"), ("y.t()[1].sigmoid_()", "y"), ("y[:, 1:].tanh_()", "y"),
]


@pytest.mark.parametrize("code,names", REBASE)
def test_inplace_on_a_view_rebases_the_graph_like_torch(code, names):
    """The base's grad_fn becomes CopySlices, whose next functions are the base's old node
    and the in-place op's other inputs (the op's own node is inside it, as in PyTorch); the
    view's becomes AsStridedBackward0. Gradients, and gradients of gradients, match."""
    results = []
    for M in (ember, torch):
        w = M.arange(1.0, 7.0, dtype=M.float64).reshape(2, 3).requires_grad_()
        g21 = M.tensor([[2.0], [3.0]], dtype=M.float64, requires_grad=True)
        y, z = w * 1, M.zeros(2, 3, dtype=M.float64)
        env = {"M": M, "w": w, "y": y, "z": z, "g21": g21}
        exec(code, env)  # noqa: S102
        out = [(_names(env[k]), env[k]._version) for k in names.split()]
        root = env[names.split()[0]]
        loss = (root * root).sum()
        g1 = [g for g in M.autograd.grad(loss, [w, g21], create_graph=True, allow_unused=True)
              if g is not None]
        gg = M.autograd.grad(sum((g * g).sum() for g in g1), [w, g21], allow_unused=True)
        out.append([np.round(g.detach().numpy(), 8).tolist() for g in g1])
        out.append([None if g is None else np.round(g.numpy(), 6).tolist() for g in gg])
        results.append(out)
    assert results[0] == results[1]


def test_retain_grad_moves_to_the_new_grad_fn_like_torch():
    results = []
    for M in (ember, torch):
        w = M.arange(6.0).reshape(2, 3).requires_grad_()
        out = []
        y = w.clone()
        v = y.view(6)
        v.retain_grad()
        v.mul_(2)
        y.sum().backward()
        out += [v.grad, v.retains_grad]
        y = w.clone()
        y.retain_grad()
        y[0].mul_(2)
        y.sum().backward()
        out += [y.grad.tolist(), y.retains_grad]
        y = w.clone()
        y.retain_grad()
        y.mul_(2)
        (y * 3).sum().backward()
        out += [y.grad.tolist(), y.retains_grad]
        y = w.clone()
        v = y[0]
        v.retain_grad()
        y.mul_(2)
        out.append(type(v.grad_fn).__name__)
        (v * 3).sum().backward()
        out += [v.grad.tolist(), v.retains_grad, w.grad.tolist()]
        results.append(out)
    assert results[0] == results[1]


def test_data_has_a_version_counter_of_its_own_detach_shares_it():
    results = []
    for M in (ember, torch):
        w = M.arange(6.0).reshape(2, 3).requires_grad_()
        y = w * w
        w.data.mul_(2)  # unseen by autograd: no error, the gradient uses the new values
        y.sum().backward()
        out = [w.grad.tolist(), w._version, w.data._version, w.data.requires_grad]
        z = w * w
        w.detach().mul_(2)  # seen: the saved w changed
        out += [w._version, outcome(lambda z=z: z.sum().backward())[:2]]
        d = w.detach()
        d.add_(1)
        out += [w._version, d._version, d._is_view(), d._base is None, w.tolist()]
        results.append(out)
    assert results[0] == results[1]


@pytest.mark.parametrize("code", [
    "t = y.t(); z = t * t; y[0, 0] = 1",          # the saved view: AsStrided after the change
    "v = y[0]; z = v * v; y.mul_(2)",
    "z = y * y; y[0, 0] = 1",                       # the saved base: CopySlices
    "z = y.sigmoid(); z[0].zero_()",
    "z = y.exp(); d = z.detach(); d.mul_(2)",
    "x = M.ones(2, 3); xv = x[1]; z = w * xv; x.add_(1)",
])
def test_saved_tensor_changed_through_an_alias_raises_torchs_message(code):
    results = []
    for M in (ember, torch):
        w = M.arange(6.0).reshape(2, 3).requires_grad_()
        y = w * 1
        env = {"M": M, "w": w, "y": y}
        exec(code, env)  # noqa: S102
        results.append(outcome(lambda env=env: env["z"].sum().backward()))
    assert results[1][0] == "err" and results[0][:2] == results[1][:2]
    assert results[0][2] == ember_text(results[1][2])


# ---- random chains of views, changed in place ----------------------------------------------
@st.composite
def _view_chains(draw):
    shape = tuple(draw(st.lists(st.integers(1, 3), min_size=1, max_size=3)))
    steps, ndim = [], len(shape)
    for _ in range(draw(st.integers(1, 3))):
        if ndim == 0:
            steps.append(("unsqueeze", (0,)))
            ndim = 1
            continue
        kind = draw(st.sampled_from(["transpose", "select", "narrow", "unsqueeze", "permute",
                                     "movedim", "split", "unbind", "slice", "expand", "view"]))
        d = draw(st.integers(-ndim, ndim - 1))
        if kind == "transpose":
            steps.append((kind, (d, draw(st.integers(-ndim, ndim - 1)))))
        elif kind in ("select", "unbind"):
            steps.append((kind, (d, draw(st.integers(0, 2)))))
            ndim -= 1
        elif kind == "narrow":
            steps.append((kind, (d, draw(st.integers(0, 1)), draw(st.integers(0, 2)))))
        elif kind == "unsqueeze":
            steps.append((kind, (draw(st.integers(-ndim - 1, ndim)),)))
            ndim += 1
        elif kind == "permute":
            steps.append((kind, tuple(draw(st.permutations(range(ndim))))))
        elif kind == "movedim":
            steps.append((kind, (d, draw(st.integers(-ndim, ndim - 1)))))
        elif kind == "split":
            steps.append((kind, (draw(st.integers(1, 2)), d, draw(st.integers(0, 1)))))
        elif kind == "slice":
            steps.append((kind, (d, draw(st.integers(1, 2)))))
        elif kind == "expand":
            steps.append((kind, (draw(st.integers(1, 2)),)))
            ndim += 1
        else:
            steps.append((kind, ()))
            ndim = 1
    op = draw(st.sampled_from(["mul_", "add_", "exp_", "zero_", "copy_", "setitem", "sigmoid_"]))
    return shape, steps, op


def _apply_step(M, t, kind, args):
    if kind == "transpose":
        return t.transpose(*args)
    if kind == "select":
        return t.select(*args)
    if kind == "unbind":
        return t.unbind(args[0])[args[1]]
    if kind == "narrow":
        return t.narrow(*args)
    if kind == "unsqueeze":
        return t.unsqueeze(*args)
    if kind == "permute":
        return t.permute(*args)
    if kind == "movedim":
        return t.movedim(*args)
    if kind == "split":
        return t.split(args[0], args[1])[args[2]]
    if kind == "slice":
        return t[(slice(None),) * (args[0] % t.ndim) + (slice(None, None, args[1]),)]
    if kind == "expand":
        return t.expand(args[0], *t.shape)
    return t.view(-1)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(case=_view_chains())
def test_random_view_chains_changed_in_place_like_torch(case):
    """Any chain of views of a non-leaf, changed in place: the same values, errors, graph
    nodes, versions and gradients (of the base's inputs and of the op's other input)."""
    shape, steps, op = case

    def run(M):
        w = M.arange(1.0, 1.0 + math.prod(shape), dtype=M.float64).reshape(shape) \
            .div(7).requires_grad_()
        g = M.tensor(1.5, dtype=M.float64, requires_grad=True)
        y = w * 1
        v = y
        for kind, args in steps:
            v = _apply_step(M, v, kind, args)
        if op == "mul_":
            v.mul_(g)
        elif op == "add_":
            v.add_(g)
        elif op == "copy_":
            v.copy_(g.expand(v.shape))
        elif op == "setitem":
            v[...] = g
        else:
            getattr(v, op)()
        loss = (y * y * M.arange(float(y.numel()), dtype=M.float64).reshape(y.shape)).sum()
        grads = M.autograd.grad(loss, [w, g], allow_unused=True)
        return [type(y.grad_fn).__name__, y._version, v._version,
                [None if n is None else type(n).__name__ for n, _ in y.grad_fn.next_functions],
                np.round(y.detach().numpy(), 10).tolist(),
                [None if q is None else np.round(q.numpy(), 8).tolist() for q in grads]]

    e, t = outcome(lambda: run(ember)), outcome(lambda: run(torch))
    if t[0] == "err":
        assert e[:2] == t[:2] and e[2] == ember_text(t[2])
    else:
        assert e == t


def test_inplace_through_a_view_with_a_transposed_base_gradient():
    # CopySlices takes the base's gradient in the base's layout, as PyTorch copies it there:
    # a transposed gradient still goes through the view chain (here a ``view(16)``)
    grads = []
    for m in (torch, ember):
        leaf = m.arange(16.0, requires_grad=True)
        base = leaf.reshape(4, 4) * 1
        base.view(16).mul_(2)
        (base.t() * m.arange(16.0).reshape(4, 4)).sum().backward()
        grads.append(leaf.grad.tolist())
    assert grads[1] == grads[0]
