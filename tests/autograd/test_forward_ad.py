"""``ember.autograd.forward_ad`` against ``torch.autograd.forward_ad``: levels, dual
tensors, views and in-place ops on them, custom Functions' ``jvp``, forward-over-reverse.
(Every op's tangent is checked in ``tests/ops/test_op_table_forward_ad.py``.)"""

from __future__ import annotations

import numpy as np
import pytest
import torch
import torch.autograd.forward_ad as tfw

import ember
import ember.autograd.forward_ad as efw

from ._compare import assert_close, raises_like

RNG = np.random.default_rng(0)


def _pair(*shape):
    a = RNG.standard_normal(shape)
    return ember.tensor(a), torch.tensor(a)


def _run(fn, primal_shape=(3,), requires_grad=False):
    """``fn(ad, module, dual)`` under a dual level on both libraries: (ember, torch)."""
    p, t = RNG.standard_normal(primal_shape), RNG.standard_normal(primal_shape)
    results = []
    for module, ad in ((ember, efw), (torch, tfw)):
        x = module.tensor(p, requires_grad=requires_grad)
        with ad.dual_level():
            results.append(fn(ad, module, ad.make_dual(x, module.tensor(t))))
    return results


def _assert_dual(e, t):
    """The primal and tangent of ember's ``e`` equal torch's ``t``'s (inside a level)."""
    ep, et = e
    tp, tt = t
    assert_close(ep, tp)
    if tt is None:
        assert et is None
    else:
        assert_close(et, tt, rtol=1e-12, atol=1e-12)


def test_composite_function_tangent():
    def f(ad, module, x):
        y = (x.sin() * x).exp().sum() / (x ** 2 + 1).sqrt().mean()
        primal, tangent = ad.unpack_dual(y)
        return primal.clone(), tangent.clone()
    e, t = _run(f)
    _assert_dual(e, t)


def test_matmul_softmax_and_broadcasting():
    w = RNG.standard_normal((3, 4))

    def f(ad, module, x):
        y = module.softmax(x.unsqueeze(0) @ module.tensor(w) + x.sum(), dim=-1)
        return tuple(v.clone() for v in ad.unpack_dual(y))
    _assert_dual(*_run(f))


def test_no_grad_still_propagates_tangents():
    def f(ad, module, x):
        with module.no_grad():
            y = x * 3 + 1
        return tuple(v.clone() for v in ad.unpack_dual(y))
    _assert_dual(*_run(f))


def test_views_share_the_tangent():
    def f(ad, module, x):
        v = x[1:].unsqueeze(0).t()
        tangent = ad.unpack_dual(v).tangent
        base_tangent = ad.unpack_dual(x).tangent
        base_tangent.mul_(10)  # the view's tangent is a view of the base's
        return v.detach().clone(), tangent.clone()
    _assert_dual(*_run(f))


@pytest.mark.parametrize("op", ["mul_", "add_", "copy_", "zero_", "fill_", "setitem",
                                "view_add_"])
def test_inplace_updates_the_tangent(op):
    def f(ad, module, x):
        y = x * 1.0
        other = x.exp()
        if op == "mul_":
            y.mul_(other)
        elif op == "add_":
            y.add_(other, alpha=2)
        elif op == "copy_":
            y.copy_(other)
        elif op == "zero_":
            y.zero_()
        elif op == "fill_":
            y.fill_(2.0)
        elif op == "setitem":
            y[0] = other[2]
        else:
            y[1:].add_(other[:2])
        return tuple(v.clone() for v in ad.unpack_dual(y))
    _assert_dual(*_run(f))


def test_inplace_into_a_plain_tensor_makes_it_dual():
    def f(ad, module, x):
        z = module.zeros(3, dtype=module.float64)
        z.add_(x * 2)
        w = module.zeros(3, dtype=module.float64)
        w[1:] = x[:2]  # a view of a plain tensor written with a dual value
        return (tuple(v.clone() for v in ad.unpack_dual(z)),
                tuple(v.clone() for v in ad.unpack_dual(w)))
    e, t = _run(f)
    _assert_dual(e[0], t[0])
    _assert_dual(e[1], t[1])


def test_detach_drops_the_tangent_and_clone_keeps_it():
    def f(ad, module, x):
        return (ad.unpack_dual(x.detach()).tangent is None,
                ad.unpack_dual(x.clone()).tangent.clone(),
                ad.unpack_dual(x > 0).tangent is None)
    e, t = _run(f)
    assert e[0] and t[0] and e[2] and t[2]
    assert_close(e[1], t[1])


def test_tangents_end_with_the_level():
    for module, ad in ((ember, efw), (torch, tfw)):
        with ad.dual_level():
            d = ad.make_dual(module.ones(2), module.ones(2))
            y = d * 2
        assert ad.unpack_dual(y).tangent is None
        assert ad.unpack_dual(d).tangent is None


def test_make_dual_of_a_tensor_that_requires_grad():
    def f(ad, module, x):
        y = (x * x).sum()
        tangent = ad.unpack_dual(y).tangent
        return (x.requires_grad, x.is_leaf, tangent.requires_grad, y.requires_grad)
    e, t = _run(f, requires_grad=True)
    assert e == t


def test_custom_function_jvp():
    def define(module):
        class ScaledExp(module.autograd.Function):
            @staticmethod
            def forward(ctx, x, scale):
                y = x.exp() * scale
                ctx.save_for_forward(y)
                ctx.scale = scale
                return y

            @staticmethod
            def jvp(ctx, x_t, scale_t):
                assert scale_t is None
                (y,) = ctx.saved_tensors
                return y * x_t

            @staticmethod
            def backward(ctx, g):
                raise AssertionError("not used")
        return ScaledExp

    def f(ad, module, x):
        y = define(module).apply(x, 3.0)
        return tuple(v.clone() for v in ad.unpack_dual(y))
    _assert_dual(*_run(f))


def test_the_primal_of_a_dual_tensor_is_not_dual():
    # a result is a base of its own; its unpacked primal (a view) must not take its tangent
    def f(ad, module, x):
        y = x * 2
        p = ad.unpack_dual(y).primal
        q = ad.unpack_dual(x).primal  # x is a view (of make_dual's input)
        flags = [ad.unpack_dual(v).tangent is None
                 for v in (p, p[1:], p.unsqueeze(0).t(), p * 3, q, q[1:])]
        p.mul_(x)  # now p has a tangent of its own; y's is unchanged
        return (flags, tuple(v.clone() for v in ad.unpack_dual(p)),
                tuple(v.clone() for v in ad.unpack_dual(y)))
    e, t = _run(f)
    assert e[0] == t[0] == [True] * 6
    _assert_dual(e[1], t[1])
    _assert_dual(e[2], t[2])


def test_inference_mode_computes_no_tangents_but_views_keep_them():
    def f(ad, module, x):
        y = x.clone()
        with module.inference_mode():
            z = (x * x).exp()
            v = x[1:]
            y.mul_(x)  # y keeps its tangent, not updated
        return (ad.unpack_dual(z).tangent is None, ad.unpack_dual(v).tangent.clone(),
                ad.unpack_dual(y).tangent.clone())
    e, t = _run(f)
    assert e[0] and t[0]
    assert_close(e[1], t[1])
    assert_close(e[2], t[2])


_FOR_HVP = {"x.sin()*x.exp()": lambda m, d: d.sin() * d.exp(), "x*x": lambda m, d: d * d,
            "x*x.exp()": lambda m, d: d * d.exp(), "x*(x*2)": lambda m, d: d * (d * 2),
            "x*x*x": lambda m, d: d * d * d, "cat": lambda m, d: m.cat([d, d * d])}


@pytest.mark.parametrize("case", list(_FOR_HVP))
def test_forward_over_reverse(case):
    # the tangent is differentiable: d/dp <grad f(p), t> is the Hessian-vector product; an
    # op's tangent takes its partial derivative for each input, not also through the graph
    # of another input made from the same x
    p, t = RNG.standard_normal(3), RNG.standard_normal(3)
    results = []
    for module, ad in ((ember, efw), (torch, tfw)):
        x = module.tensor(p, requires_grad=True)
        with ad.dual_level():
            d = ad.make_dual(x, module.tensor(t))
            y = _FOR_HVP[case](module, d)
            tangent = ad.unpack_dual(y).tangent
            (hvp,) = module.autograd.grad(tangent.sum(), x)
        results.append((tangent.detach().clone(), hvp.detach().clone()))
    assert_close(results[0][0], results[1][0])
    assert_close(results[0][1], results[1][1])


def test_a_relaid_tangent_stays_differentiable():
    # a tangent laid out otherwise than the primal is copied, differentiably (as in torch)
    p, t = RNG.standard_normal((2, 3)), RNG.standard_normal((3, 2))
    results = []
    for module, ad in ((ember, efw), (torch, tfw)):
        tangent = module.tensor(t, requires_grad=True)
        with ad.dual_level():
            d = ad.make_dual(module.tensor(p), tangent.t())
            out = ad.unpack_dual((d * d).sum()).tangent
            (g,) = module.autograd.grad(out, tangent)
        results.append(g)
    assert_close(results[0], results[1])


@pytest.mark.parametrize("case", ["missing", "too_many"])
def test_custom_function_jvp_errors_match_torch(case):
    def define(module):
        class Double(module.autograd.Function):
            @staticmethod
            def forward(ctx, x):
                return x * 2

            if case == "too_many":
                @staticmethod
                def jvp(ctx, t):
                    return t * 2, t

            @staticmethod
            def backward(ctx, g):
                return g * 2
        return Double
    x = RNG.standard_normal(2)
    calls = []
    for module, ad in ((ember, efw), (torch, tfw)):
        def call(module=module, ad=ad):
            with ad.dual_level():
                define(module).apply(ad.make_dual(module.tensor(x), module.ones(2,
                                                  dtype=module.float64)))
        calls.append(call)
    if case == "missing":
        raises_like(calls[0], calls[1], "You must implement the jvp function")
    else:
        e_msg, t_msg = raises_like(calls[0], calls[1])
        assert e_msg == t_msg


@pytest.mark.parametrize("case", ["no_level", "nested", "size", "int_tangent", "int_primal",
                                  "twice", "bad_level", "exit_bad_level", "level_0_outside",
                                  "exit_negative_inside", "unpack_bad_level"])
def test_errors_match_torch(case):
    calls = []
    for module, ad in ((ember, efw), (torch, tfw)):
        def call(module=module, ad=ad):
            x = module.ones(3)
            if case == "no_level":
                ad.make_dual(x, module.ones(3))
                return
            if case == "exit_bad_level":
                ad.exit_dual_level()
                return
            if case == "level_0_outside":
                ad.make_dual(x, module.ones(3), level=0)
                return
            with ad.dual_level():
                if case == "nested":
                    with ad.dual_level():
                        pass
                elif case == "size":
                    ad.make_dual(x, module.ones(2))
                elif case == "int_tangent":
                    ad.make_dual(x, module.arange(3))
                elif case == "int_primal":
                    ad.make_dual(module.arange(3), module.arange(3))
                elif case == "twice":
                    ad.make_dual(ad.make_dual(x, module.ones(3)), module.ones(3))
                elif case == "bad_level":
                    ad.make_dual(x, module.ones(3), level=1)
                elif case == "exit_negative_inside":
                    ad.exit_dual_level(level=-1)
                elif case == "unpack_bad_level":
                    ad.unpack_dual(ad.make_dual(x, module.ones(3)), level=1)
        calls.append(call)
    e_msg, t_msg = raises_like(calls[0], calls[1])
    assert e_msg == t_msg.replace("torch.", "ember.")


def test_unpack_dual_outside_a_level_and_of_a_plain_tensor():
    e, t = _pair(3)
    for x, ad in ((e, efw), (t, tfw)):
        primal, tangent = ad.unpack_dual(x)
        assert primal is x and tangent is None
        assert ad.unpack_dual(3) == (3, None)  # outside a level, anything comes back
        primal, tangent = ad.unpack_dual(x, level=0)
        assert primal is not x and primal._base is x and tangent is None
        with ad.dual_level():
            primal, tangent = ad.unpack_dual(x)
            assert primal is not x and primal._base is x and tangent is None
            primal, tangent = ad.unpack_dual(x, level=1)  # no tangent to look for
            assert primal._base is x and tangent is None
    assert type(efw.unpack_dual(e)).__name__ == "UnpackedDualTensor"
    assert efw.unpack_dual(e)._fields == tfw.unpack_dual(t)._fields


def test_dual_level_as_a_decorator_and_enter_exit():
    @efw.dual_level()
    def inside():
        return efw.unpack_dual(efw.make_dual(ember.ones(2), ember.ones(2))).tangent
    assert inside() is not None
    assert efw.enter_dual_level() == tfw.enter_dual_level() == 0
    efw.exit_dual_level()
    tfw.exit_dual_level()


def test_ops_cost_nothing_extra_outside_forward_ad():
    from ember.autograd.forward_grad import AfterOp
    assert not AfterOp.on
    with efw.dual_level():
        d = efw.make_dual(ember.ones(2), ember.ones(2))
        assert AfterOp.on
    del d
    assert not AfterOp.on


def test_dual_tensors_print_their_tangent():
    # quarters: float32 sums are exact, so the printed digits do not depend on sum order
    p, t = RNG.integers(-20, 20, (2, 3)) / 4, RNG.integers(-20, 20, (2, 3)) / 4
    texts = []
    for module, ad in ((ember, efw), (torch, tfw)):
        x = module.tensor(p, dtype=module.float32)
        w = module.tensor(p, dtype=module.float64, requires_grad=True)
        with ad.dual_level():
            d = ad.make_dual(x, module.tensor(t, dtype=module.float32))
            e = ad.make_dual(w, module.tensor(t))  # grad_fn=<ViewBackward0>, then the tangent
            texts.append((repr(d), repr(d * 2), str(d.sum()), repr(e)))
    assert texts[0] == tuple(s.replace("torch.", "ember.") for s in texts[1])
