"""Custom ``ember.autograd.Function`` against ``torch.autograd.Function``.

Each Function is written once, as a factory over the library (``ember`` or ``torch``), so
the same code runs on both and the results are compared.
"""

from __future__ import annotations

import warnings

import numpy as np
import pytest
import torch
from torch.autograd.function import once_differentiable as t_once

import ember
from ember.autograd.function import once_differentiable as e_once
from tests.autograd._compare import assert_close, graph_signature, raises_like, twins

LIBS = {"ember": (ember, e_once), "torch": (torch, t_once)}


def both(factory):
    """``(ember_version, torch_version)`` of a Function made by ``factory(lib, once)``."""
    return factory(*LIBS["ember"]), factory(*LIBS["torch"])


# ---- a few Functions, defined once for both libraries ------------------------------------
def make_exp(lib, once):
    class MyExp(lib.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            y = x.exp()
            ctx.save_for_backward(y)
            return y

        @staticmethod
        def backward(ctx, grad):
            (y,) = ctx.saved_tensors
            return grad * y
    return MyExp


def make_scaled_add(lib, once):
    class ScaledAdd(lib.autograd.Function):
        @staticmethod
        def forward(ctx, x, k, y):
            ctx.save_for_backward(x, y)
            ctx.k = k
            ctx.seen_needs = ctx.needs_input_grad
            return x * k + y * y

        @staticmethod
        def backward(ctx, grad):
            x, y = ctx.saved_tensors
            gx = grad * ctx.k if ctx.needs_input_grad[0] else None
            gy = grad * 2 * y if ctx.needs_input_grad[2] else None
            return gx, None, gy
    return ScaledAdd


def make_cube(lib, once):
    class Cube(lib.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            ctx.save_for_backward(x)
            return x ** 3

        @staticmethod
        def backward(ctx, grad):
            (x,) = ctx.saved_tensors
            return 3 * x ** 2 * grad
    return Cube


def make_once_cube(lib, once):
    class OnceCube(lib.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            ctx.save_for_backward(x)
            return x ** 3

        @staticmethod
        @once
        def backward(ctx, grad):
            (x,) = ctx.saved_tensors
            ctx.grad_enabled_in_backward = lib.is_grad_enabled()
            return 3 * x ** 2 * grad
    return OnceCube


def make_add_one(lib, once):
    class AddOne(lib.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            x.add_(1)
            ctx.mark_dirty(x)
            return x

        @staticmethod
        def backward(ctx, grad):
            return grad * 2
    return AddOne


def make_split(lib, once):
    class Split(lib.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            return x * 2, x * 3

        @staticmethod
        def backward(ctx, g1, g2):
            ctx.got = (g1, g2)
            return g1 * 2 + g2 * 3
    return Split


def make_lazy_split(lib, once):
    class LazySplit(lib.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            ctx.set_materialize_grads(False)
            return x * 2, x * 3

        @staticmethod
        def backward(ctx, g1, g2):
            ctx.got = (g1, g2)
            out = None
            if g1 is not None:
                out = g1 * 2
            if g2 is not None:
                out = g2 * 3 if out is None else out + g2 * 3
            return out
    return LazySplit


def make_with_index(lib, once):
    class WithIndex(lib.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            idx = (x > 0).long()
            ctx.mark_non_differentiable(idx)
            return x * 2, idx

        @staticmethod
        def backward(ctx, g, gidx):
            ctx.got = gidx
            return g * 2
    return WithIndex


def make_setup_ctx(lib, once):
    class Scale(lib.autograd.Function):
        @staticmethod
        def forward(x, k=2.0):
            return x * k

        @staticmethod
        def setup_context(ctx, inputs, output):
            x, k = inputs
            ctx.k = k
            ctx.grad_enabled_in_setup = lib.is_grad_enabled()
            ctx.save_for_backward(x, output)

        @staticmethod
        def backward(ctx, grad):
            x, out = ctx.saved_tensors
            return grad * ctx.k, None
    return Scale


def make_mixed_out(lib, once):
    class Mixed(lib.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            return x * 2, 5, "tag"

        @staticmethod
        def backward(ctx, g, g_int, g_str):
            ctx.got = (g_int, g_str)
            return g * 2
    return Mixed


def make_identity(lib, once):
    class Ident(lib.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            return x

        @staticmethod
        def backward(ctx, grad):
            return grad * 3
    return Ident


def make_bad(n_returned, value_kind="tensor"):
    def factory(lib, once):
        class Bad(lib.autograd.Function):
            @staticmethod
            def forward(ctx, x, y):
                return x + y

            @staticmethod
            def backward(ctx, grad):
                if value_kind == "int":
                    return 3, None
                if value_kind == "shape":
                    return lib.ones(2, dtype=grad.dtype), grad
                return (grad,) * n_returned
        return Bad
    return factory


# ---- forward/backward values and the node -----------------------------------------------
def test_forward_backward_values_and_node_match_torch(rng):
    E, T = both(make_exp)
    (xe, xt), = twins(rng.standard_normal((2, 3)))
    ye, yt = E.apply(xe), T.apply(xt)
    assert_close(ye, yt)
    assert ye.grad_fn.name() == yt.grad_fn.name() == "MyExpBackward"
    assert repr(ye).endswith("grad_fn=<MyExpBackward>)")
    assert repr(ye.grad_fn).startswith("<ember.autograd.function.MyExpBackward object at ")
    assert type(ye.grad_fn).__module__ == "ember.autograd.function"
    assert graph_signature(ye.grad_fn) == graph_signature(yt.grad_fn)
    g = rng.standard_normal((2, 3))
    ye.backward(ember.tensor(g))
    yt.backward(torch.tensor(g))
    assert_close(xe.grad, xt.grad)


def test_non_tensor_args_needs_input_grad_and_edges(rng):
    E, T = both(make_scaled_add)
    (xe, xt), (ye, yt) = twins(rng.standard_normal(3), rng.standard_normal(3))
    ye.requires_grad_(False)
    yt.requires_grad_(False)
    oe, ot = E.apply(xe, 2.5, ye), T.apply(xt, 2.5, yt)
    assert_close(oe, ot)
    assert oe.grad_fn.needs_input_grad == ot.grad_fn.needs_input_grad == (True, False, False)
    assert oe.grad_fn.seen_needs == (True, False, False)
    assert oe.grad_fn.k == 2.5
    # One edge per Tensor argument only; None where the tensor does not require grad.
    assert graph_signature(oe.grad_fn) == graph_signature(ot.grad_fn)
    assert len(oe.grad_fn.next_functions) == 2 and oe.grad_fn.next_functions[1] == (None, 0)
    assert len(oe.grad_fn.saved_tensors) == 2
    oe.sum().backward()
    ot.sum().backward()
    assert_close(xe.grad, xt.grad)
    assert ye.grad is None


def test_keyword_arguments_to_apply(rng):
    E, T = both(make_scaled_add)
    (xe, xt), (ye, yt) = twins(rng.standard_normal(3), rng.standard_normal(3))
    oe, ot = E.apply(xe, 2.0, y=ye), T.apply(xt, 2.0, y=yt)
    assert oe.grad_fn.needs_input_grad == ot.grad_fn.needs_input_grad
    oe.sum().backward()
    ot.sum().backward()
    assert_close(ye.grad, yt.grad)


def test_gradient_through_a_chain_with_builtin_ops(rng):
    E, T = both(make_exp)
    (xe, xt), (we, wt) = twins(rng.standard_normal((3, 4)), rng.standard_normal(4))
    le = (E.apply(xe * we).sin() @ we).sum()
    lt = (T.apply(xt * wt).sin() @ wt).sum()
    le.backward()
    lt.backward()
    assert_close(xe.grad, xt.grad)
    assert_close(we.grad, wt.grad)


def test_gradcheck_on_a_custom_function(rng):
    E, _ = both(make_scaled_add)
    x = ember.tensor(rng.standard_normal(4), requires_grad=True)
    y = ember.tensor(rng.standard_normal(4), requires_grad=True)
    assert ember.autograd.gradcheck(lambda a, b: E.apply(a, 1.5, b), (x, y))


# ---- saved tensors -----------------------------------------------------------------------
def test_saved_tensors_freed_after_backward(rng):
    E, T = both(make_cube)
    (xe, xt), = twins(rng.standard_normal(3))
    ye, yt = E.apply(xe), T.apply(xt)
    ye.sum().backward()
    yt.sum().backward()
    raises_like(lambda: ye.grad_fn.saved_tensors, lambda: yt.grad_fn.saved_tensors,
                "Trying to backward through the graph a second time",
                "Specify retain_graph=True")
    raises_like(lambda: ye.sum().backward(), lambda: yt.sum().backward(),
                "Trying to backward through the graph a second time")


def test_saved_tensors_kept_with_retain_graph(rng):
    E, T = both(make_cube)
    (xe, xt), = twins(rng.standard_normal(3))
    ye, yt = E.apply(xe), T.apply(xt)
    for _ in range(2):
        ye.sum().backward(retain_graph=True)
        yt.sum().backward(retain_graph=True)
    assert_close(xe.grad, xt.grad)
    assert_close(ye.grad_fn.saved_tensors[0], yt.grad_fn.saved_tensors[0])


def test_saved_tensors_none_after_backward_even_if_nothing_saved(rng):
    E, T = both(make_split)
    (xe, xt), = twins(rng.standard_normal(3))
    (ae, _), (at, _) = E.apply(xe), T.apply(xt)
    assert ae.grad_fn.saved_tensors == at.grad_fn.saved_tensors == ()
    ae.sum().backward()
    at.sum().backward()
    raises_like(lambda: ae.grad_fn.saved_tensors, lambda: at.grad_fn.saved_tensors,
                "Trying to backward through the graph a second time")


def test_saved_input_modified_in_place_raises_version_error(rng):
    E, T = both(make_cube)
    (xe, xt), = twins(rng.standard_normal(3))
    he, ht = xe * 1, xt * 1
    ye, yt = E.apply(he), T.apply(ht)
    he.add_(1)
    ht.add_(1)
    e_msg, _ = raises_like(
        lambda: ye.sum().backward(), lambda: yt.sum().backward(),
        "one of the variables needed for gradient computation has been modified by an "
        "inplace operation: [torch.DoubleTensor [3]], which is output 0 of Add, is at "
        "version 1; expected version 0 instead.")
    assert "ember.autograd.set_detect_anomaly(True" in e_msg


def test_saved_output_is_connected_to_the_node(rng):
    E, T = both(make_exp)
    (xe, xt), = twins(rng.standard_normal(3))
    ye, yt = E.apply(xe), T.apply(xt)
    (se,), (st,) = ye.grad_fn.saved_tensors, yt.grad_fn.saved_tensors
    assert se.grad_fn is ye.grad_fn and st.grad_fn is yt.grad_fn
    assert se.requires_grad and st.requires_grad
    assert_close(se, st)
    ye.mul_(2)
    yt.mul_(2)
    raises_like(lambda: ye.sum().backward(), lambda: yt.sum().backward(),
                "has been modified by an inplace operation")


def test_save_for_backward_rejects_non_tensors():
    def factory(lib, once):
        class SaveInt(lib.autograd.Function):
            @staticmethod
            def forward(ctx, x):
                ctx.save_for_backward(x, None, 3)
                return x * 1

            @staticmethod
            def backward(ctx, g):
                return g
        return SaveInt
    E, T = both(factory)
    raises_like(lambda: E.apply(ember.ones(2, requires_grad=True)),
                lambda: T.apply(torch.ones(2, requires_grad=True)),
                "save_for_backward can only save variables, but argument 2 is of type int")


def test_saved_none_comes_back_as_none():
    def factory(lib, once):
        class SaveNone(lib.autograd.Function):
            @staticmethod
            def forward(ctx, x):
                ctx.save_for_backward(x, None)
                return x * 1

            @staticmethod
            def backward(ctx, g):
                ctx.seen = ctx.saved_tensors
                return g
        return SaveNone
    E, T = both(factory)
    ye, yt = E.apply(ember.ones(2, requires_grad=True)), T.apply(torch.ones(2, requires_grad=True))
    ye.sum().backward(retain_graph=True)
    yt.sum().backward(retain_graph=True)
    assert ye.grad_fn.seen[1] is None and yt.grad_fn.seen[1] is None


# ---- validation of what backward returns ------------------------------------------------
@pytest.mark.parametrize("factory, phrase", [
    (make_bad(1), "function BadBackward returned an incorrect number of gradients "
                  "(expected 2, got 1)"),
    (make_bad(3), "function BadBackward returned an incorrect number of gradients "
                  "(expected 2, got 3)"),
    (make_bad(2, "int"), "expected Variable or None (got int)"),
    (make_bad(2, "shape"), "Function BadBackward returned an invalid gradient at index 0 - got "
                           "[2] but expected shape compatible with [3]"),
])
def test_backward_return_validation(rng, factory, phrase):
    E, T = both(factory)
    (xe, xt), (ye, yt) = twins(rng.standard_normal(3), rng.standard_normal(3))
    raises_like(lambda: E.apply(xe, ye).sum().backward(),
                lambda: T.apply(xt, yt).sum().backward(), phrase)


def test_extra_trailing_none_gradients_are_allowed(rng):
    def factory(lib, once):
        class Extra(lib.autograd.Function):
            @staticmethod
            def forward(ctx, x):
                return x * 2

            @staticmethod
            def backward(ctx, g):
                return g * 2, None, None
        return Extra
    E, T = both(factory)
    (xe, xt), = twins(rng.standard_normal(3))
    E.apply(xe).sum().backward()
    T.apply(xt).sum().backward()
    assert_close(xe.grad, xt.grad)


def test_gradient_for_a_non_tensor_input_must_be_none(rng):
    def factory(lib, once):
        class Scale(lib.autograd.Function):
            @staticmethod
            def forward(ctx, x, k):
                return x * k

            @staticmethod
            def backward(ctx, g):
                return g, g
        return Scale
    E, T = both(factory)
    (xe, xt), = twins(rng.standard_normal(3))
    raises_like(lambda: E.apply(xe, 2).sum().backward(),
                lambda: T.apply(xt, 2).sum().backward(),
                "function ScaleBackward returned a gradient different than None at position 2, "
                "but the corresponding forward input was not a Variable")


def test_broadcastable_gradient_is_summed_and_dtype_cast(rng):
    def factory(lib, once):
        class Wide(lib.autograd.Function):
            @staticmethod
            def forward(ctx, x):
                return x * 2

            @staticmethod
            def backward(ctx, g):
                return lib.ones((2, 3), dtype=lib.float32)
        return Wide
    E, T = both(factory)
    (xe, xt), = twins(rng.standard_normal((1, 3)))
    E.apply(xe).sum().backward()
    T.apply(xt).sum().backward()
    assert_close(xe.grad, xt.grad)


# ---- in-place forward, non-differentiable outputs, materialization ----------------------
def test_mark_dirty_on_a_leaf_that_requires_grad_raises():
    E, T = both(make_add_one)
    raises_like(lambda: E.apply(ember.ones(3, requires_grad=True)),
                lambda: T.apply(torch.ones(3, requires_grad=True)),
                "a leaf Variable that requires grad has been used in an in-place operation.")


def test_mark_dirty_returns_the_input_modified_in_place(rng):
    E, T = both(make_add_one)
    (xe, xt), = twins(rng.standard_normal(3))
    be, bt = xe.clone(), xt.clone()
    re_, rt = E.apply(be), T.apply(bt)
    assert re_ is be and rt is bt
    assert be._version == bt._version == 2
    assert be.grad_fn.name() == bt.grad_fn.name() == "AddOneBackward"
    assert_close(be, bt)
    (re_ * re_).sum().backward()
    (rt * rt).sum().backward()
    assert_close(xe.grad, xt.grad)


def test_mark_dirty_invalidates_tensors_saved_by_other_nodes(rng):
    E, T = both(make_add_one)
    (xe, xt), = twins(rng.standard_normal(3))
    be, bt = xe.clone(), xt.clone()
    se, st = be.sin(), bt.sin()
    E.apply(be)
    T.apply(bt)
    raises_like(lambda: se.sum().backward(), lambda: st.sum().backward(),
                "[torch.DoubleTensor [3]], which is output 0 of AddOne, is at version 2; "
                "expected version 0 instead.")


def test_mark_dirty_on_a_view_goes_through_copy_slices(rng):
    E, T = both(make_add_one)
    (xe, xt), = twins(rng.standard_normal((2, 3)))
    be, bt = xe * 1, xt * 1
    ve, vt = be[0], bt[0]
    E.apply(ve)
    T.apply(vt)
    assert_close(be, bt)
    assert be.grad_fn.name().endswith("CopySlices") and bt.grad_fn.name().endswith("CopySlices")
    w = rng.standard_normal((2, 3))
    (be * ember.tensor(w)).sum().backward()
    (bt * torch.tensor(w)).sum().backward()
    assert_close(xe.grad, xt.grad)


def test_dirty_tensors_must_be_returned():
    def factory(lib, once):
        class Sneaky(lib.autograd.Function):
            @staticmethod
            def forward(ctx, x):
                x.add_(1)
                ctx.mark_dirty(x)
                return x * 2

            @staticmethod
            def backward(ctx, g):
                return g
        return Sneaky
    E, T = both(factory)
    raises_like(lambda: E.apply(ember.ones(2, requires_grad=True).clone()),
                lambda: T.apply(torch.ones(2, requires_grad=True).clone()),
                "Some elements marked as dirty during the forward method were not returned as "
                "output. The inputs that are modified inplace must all be outputs of the "
                "Function.")


def test_dirty_input_under_no_grad_returns_an_alias(rng):
    E, T = both(make_add_one)
    (xe, xt), = twins(rng.standard_normal(3))
    with ember.no_grad():
        re_ = E.apply(xe)
    with torch.no_grad():
        rt = T.apply(xt)
    assert (re_ is xe) == (rt is xt) is False
    assert re_.requires_grad == rt.requires_grad is False
    assert xe._version == xt._version == 2
    assert_close(xe, xt)


def test_mark_non_differentiable_output_gets_zero_gradient(rng):
    E, T = both(make_with_index)
    (xe, xt), = twins(rng.standard_normal(4))
    (ve, ie), (vt, it) = E.apply(xe), T.apply(xt)
    assert ie.requires_grad == it.requires_grad is False
    assert ve.requires_grad and vt.requires_grad
    assert_close(ie, it)
    ve.sum().backward()
    vt.sum().backward()
    assert_close(ve.grad_fn.got, vt.grad_fn.got)  # zeros of the index dtype
    assert_close(xe.grad, xt.grad)


def test_only_output_non_differentiable_means_no_grad_fn():
    def factory(lib, once):
        class ND(lib.autograd.Function):
            @staticmethod
            def forward(ctx, x):
                y = x * 2
                ctx.mark_non_differentiable(y)
                return y

            @staticmethod
            def backward(ctx, g):
                return g
        return ND
    E, T = both(factory)
    ye, yt = E.apply(ember.ones(2, requires_grad=True)), T.apply(torch.ones(2, requires_grad=True))
    assert ye.requires_grad == yt.requires_grad is False
    assert ye.grad_fn is None and yt.grad_fn is None
    raises_like(lambda: ye.sum().backward(), lambda: yt.sum().backward(),
                "element 0 of tensors does not require grad and does not have a grad_fn")


def test_unused_output_gradient_is_materialized_as_zeros(rng):
    E, T = both(make_split)
    (xe, xt), = twins(rng.standard_normal(3))
    (ae, _), (at, _) = E.apply(xe), T.apply(xt)
    ae.sum().backward()
    at.sum().backward()
    assert_close(ae.grad_fn.got[1], at.grad_fn.got[1])
    assert_close(xe.grad, xt.grad)


def test_set_materialize_grads_false_passes_none(rng):
    E, T = both(make_lazy_split)
    (xe, xt), = twins(rng.standard_normal(3))
    (ae, _), (at, _) = E.apply(xe), T.apply(xt)
    ae.sum().backward()
    at.sum().backward()
    assert ae.grad_fn.got[1] is None and at.grad_fn.got[1] is None
    assert_close(xe.grad, xt.grad)


def test_multiple_outputs_both_used(rng):
    E, T = both(make_split)
    (xe, xt), = twins(rng.standard_normal(3))
    (ae, be), (at, bt) = E.apply(xe), T.apply(xt)
    assert ae.grad_fn is be.grad_fn
    assert (ae.grad_fn, 0) != (be.grad_fn, 1)
    (ae * be).sum().backward()
    (at * bt).sum().backward()
    assert_close(xe.grad, xt.grad)


def test_non_tensor_outputs_pass_through(rng):
    E, T = both(make_mixed_out)
    (xe, xt), = twins(rng.standard_normal(2))
    oe, ot = E.apply(xe), T.apply(xt)
    assert oe[1:] == ot[1:] == (5, "tag")
    oe[0].sum().backward()
    ot[0].sum().backward()
    assert oe[0].grad_fn.got == ot[0].grad_fn.got == (None, None)
    assert_close(xe.grad, xt.grad)


def test_integer_outputs_do_not_require_grad():
    def factory(lib, once):
        class IntOut(lib.autograd.Function):
            @staticmethod
            def forward(ctx, x):
                return (x * 2).long()

            @staticmethod
            def backward(ctx, g):
                return g
        return IntOut
    E, T = both(factory)
    assert E.apply(ember.ones(2, requires_grad=True)).requires_grad is False
    assert T.apply(torch.ones(2, requires_grad=True)).requires_grad is False


def test_input_returned_unchanged_is_a_new_view_with_the_node(rng):
    E, T = both(make_identity)
    (xe, xt), = twins(rng.standard_normal(3))
    oe, ot = E.apply(xe), T.apply(xt)
    assert (oe is xe) == (ot is xt) is False
    assert oe._base is xe and ot._base is xt
    assert oe.grad_fn.name() == ot.grad_fn.name() == "IdentBackward"
    oe.sum().backward()
    ot.sum().backward()
    assert_close(xe.grad, xt.grad)


# ---- setup_context, grad modes ------------------------------------------------------------
def test_setup_context_form(rng):
    E, T = both(make_setup_ctx)
    (xe, xt), = twins(rng.standard_normal(3))
    for kwargs in ({}, {"k": 3.0}):
        oe, ot = E.apply(xe, **kwargs), T.apply(xt, **kwargs)
        assert_close(oe, ot)
        assert oe.grad_fn.grad_enabled_in_setup == ot.grad_fn.grad_enabled_in_setup is False
        assert oe.grad_fn.needs_input_grad == ot.grad_fn.needs_input_grad
        oe.sum().backward()
        ot.sum().backward()
        assert_close(xe.grad, xt.grad)


def test_forward_runs_without_recording_and_apply_under_no_grad(rng):
    seen = {}

    def factory(lib, once):
        class Probe(lib.autograd.Function):
            @staticmethod
            def forward(ctx, x):
                seen[lib.__name__] = lib.is_grad_enabled()
                return x * 2

            @staticmethod
            def backward(ctx, g):
                return g
        return Probe
    E, T = both(factory)
    (xe, xt), = twins(rng.standard_normal(3))
    E.apply(xe)
    T.apply(xt)
    assert seen == {"ember": False, "torch": False}
    with ember.no_grad():
        oe = E.apply(xe)
    with torch.no_grad():
        ot = T.apply(xt)
    assert oe.grad_fn is None and ot.grad_fn is None
    assert oe.requires_grad == ot.requires_grad is False


# ---- double backward, once_differentiable ----------------------------------------------------
def test_double_backward_through_a_differentiable_backward(rng):
    E, T = both(make_cube)
    (xe, xt), = twins(rng.standard_normal(3))
    (ge,) = ember.autograd.grad(E.apply(xe).sum(), xe, create_graph=True)
    (gt,) = torch.autograd.grad(T.apply(xt).sum(), xt, create_graph=True)
    assert_close(ge, gt)
    assert ge.requires_grad and gt.requires_grad
    (gge,) = ember.autograd.grad(ge.sum(), xe, create_graph=True)
    (ggt,) = torch.autograd.grad(gt.sum(), xt, create_graph=True)
    assert_close(gge, ggt)
    (ggge,) = ember.autograd.grad(gge.sum(), xe)
    (gggt,) = torch.autograd.grad(ggt.sum(), xt)
    assert_close(ggge, gggt)


def test_double_backward_through_a_saved_output(rng):
    E, T = both(make_exp)
    (xe, xt), = twins(rng.standard_normal(3))
    (ge,) = ember.autograd.grad((E.apply(xe) * xe).sum(), xe, create_graph=True)
    (gt,) = torch.autograd.grad((T.apply(xt) * xt).sum(), xt, create_graph=True)
    assert_close(ge, gt)
    assert_close(ember.autograd.grad(ge.sum(), xe)[0], torch.autograd.grad(gt.sum(), xt)[0])


def test_gradgradcheck_on_a_custom_function(rng):
    E, _ = both(make_cube)
    x = ember.tensor(rng.standard_normal(3), requires_grad=True)
    assert ember.autograd.gradgradcheck(E.apply, (x,))


def test_once_differentiable_runs_backward_without_grad(rng):
    E, T = both(make_once_cube)
    (xe, xt), = twins(rng.standard_normal(3))
    ye, yt = E.apply(xe), T.apply(xt)
    (ge,) = ember.autograd.grad(ye.sum(), xe, create_graph=True)
    (gt,) = torch.autograd.grad(yt.sum(), xt, create_graph=True)
    assert ye.grad_fn.grad_enabled_in_backward == yt.grad_fn.grad_enabled_in_backward is False
    assert_close(ge, gt)
    # The incoming gradient did not require grad, so nothing marks the result.
    assert ge.requires_grad == gt.requires_grad is False


def test_once_differentiable_double_backward_raises(rng):
    E, T = both(make_once_cube)
    (xe, xt), = twins(rng.standard_normal(3))
    ye, yt = E.apply(xe), T.apply(xt)
    (ge,) = ember.autograd.grad((ye * ye).sum(), xe, create_graph=True)
    (gt,) = torch.autograd.grad((yt * yt).sum(), xt, create_graph=True)
    assert_close(ge, gt)
    assert ge.grad_fn.name() == gt.grad_fn.name().replace("torch::", "ember::")
    assert repr(ge).endswith("grad_fn=<Error>)")
    assert graph_signature(ge.grad_fn) == graph_signature(gt.grad_fn)
    raises_like(lambda: ge.sum().backward(), lambda: gt.sum().backward(),
                "trying to differentiate twice a function that was marked with "
                "@once_differentiable")


# ---- hooks on the node, misuse ----------------------------------------------------------------
def test_hooks_on_a_custom_node(rng):
    E, T = both(make_cube)
    (xe, xt), = twins(rng.standard_normal(3))
    seen = {"ember": [], "torch": []}
    for lib, fn, x in (("ember", E, xe), ("torch", T, xt)):
        y = fn.apply(x)
        y.grad_fn.register_prehook(lambda go, k=lib: seen[k].append(("pre", go[0] * 1)) or
                                   (go[0] * 2,))
        y.grad_fn.register_hook(lambda gi, go, k=lib: seen[k].append(("post", gi[0] * 1)))
        y.sum().backward()
    assert [s[0] for s in seen["ember"]] == [s[0] for s in seen["torch"]] == ["pre", "post"]
    for (_, a), (_, b) in zip(seen["ember"], seen["torch"]):
        assert_close(a, b)
    assert_close(xe.grad, xt.grad)


def test_instantiating_and_calling_legacy_style():
    E, T = both(make_exp)
    with warnings.catch_warnings(record=True) as w_e:
        warnings.simplefilter("always")
        inst_e = E()
    with warnings.catch_warnings(record=True) as w_t:
        warnings.simplefilter("always")
        inst_t = T()
    assert w_e[0].category is w_t[0].category is DeprecationWarning
    assert "should not be instantiated" in str(w_e[0].message)
    raises_like(lambda: inst_e(ember.ones(1)), lambda: inst_t(torch.ones(1)),
                "Legacy autograd function with non-static forward method is deprecated.")


def test_missing_forward_and_backward():
    def factory(lib, once):
        class NoBackward(lib.autograd.Function):
            @staticmethod
            def forward(ctx, x):
                return x * 2

        class NoForward(lib.autograd.Function):
            pass
        return NoBackward, NoForward
    (eb, ef), (tb, tf) = both(factory)
    raises_like(lambda: ef.apply(ember.ones(2)), lambda: tf.apply(torch.ones(2)),
                "You must implement the forward function for custom autograd.Function.")
    raises_like(lambda: eb.apply(ember.ones(2, requires_grad=True)).sum().backward(),
                lambda: tb.apply(torch.ones(2, requires_grad=True)).sum().backward(),
                "You must implement either the backward or vjp method for your custom "
                "autograd.Function to use it with backward mode AD.")


def test_lazy_names_on_ember_autograd():
    from ember.autograd import function
    assert ember.autograd.Function is function.Function
    assert ember.autograd.FunctionCtx is function.FunctionCtx
    assert ember.autograd.once_differentiable is function.once_differentiable
    assert issubclass(ember.autograd.Function, ember.autograd.FunctionCtx)
    with pytest.raises(AttributeError, match="has no attribute 'Functionn'"):
        ember.autograd.Functionn  # noqa: B018


def test_custom_function_result_in_a_longer_graph_is_freed(rng):
    import gc
    import weakref
    E, _ = both(make_cube)
    x = ember.tensor(rng.standard_normal(3), requires_grad=True)
    y = E.apply(x * 2)
    node = weakref.ref(y.grad_fn)
    y.sum().backward()
    assert np.allclose(x.grad.numpy(), 3 * (2 * x.detach().numpy()) ** 2 * 2)
    gc.disable()
    try:
        del y
        assert node() is None  # freed by reference counting: the node holds no cycle
    finally:
        gc.enable()


def make_first_row(lib, once):
    class FirstRow(lib.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            ctx.rows = x.shape[0]
            return x[0]

        @staticmethod
        def backward(ctx, grad):
            out = lib.zeros(ctx.rows, grad.shape[0], dtype=grad.dtype)
            out[0] = grad * 5
            return out
    return FirstRow


def test_view_outputs_of_a_custom_function(rng):
    E, T = both(make_first_row)
    (xe, xt), = twins(rng.standard_normal((2, 3)))
    ye, yt = E.apply(xe * 1), T.apply(xt * 1)
    assert ye.grad_fn.name() == yt.grad_fn.name() == "FirstRowBackward"
    (ye * 2).sum().backward()
    (yt * 2).sum().backward()
    assert_close(xe.grad, xt.grad)
    phrase = ("Output 0 of FirstRow is a view and is being modified inplace. This view was "
              "created inside a custom Function (or because an input was returned as-is)")
    raises_like(lambda: ye.mul_(3), lambda: yt.mul_(3), phrase)
    I, It = both(make_identity)
    raises_like(lambda: I.apply(xe * 1).mul_(3), lambda: It.apply(xt * 1).mul_(3),
                "Output 0 of Ident is a view and is being modified inplace.")
    with ember.no_grad():
        ye.mul_(3)  # allowed without recording, as in torch
    with torch.no_grad():
        yt.mul_(3)
    assert_close(ye, yt)
