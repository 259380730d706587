"""``ember.autograd.functional`` and batched gradients against torch.

Functions are written over a library argument so the same code runs on ember and torch.
"""

from __future__ import annotations

import numpy as np
import pytest
import torch
import torch.autograd.functional as TF

import ember
import ember.autograd.functional as EF
from ember.autograd import batching, engine
from tests.autograd._compare import assert_close, assert_tree_close, raises_like, twins

LIB = {"e": ember, "t": torch}
# torch's own vectorized functional API goes through torch.jit, which warns about itself.
pytestmark = pytest.mark.filterwarnings("ignore:`torch.jit.script` is deprecated")


def run_both(fn_name, func_of_lib, arrays, *, as_tuple, v=None, v_tuple=None, **kwargs):
    """Call ``fn_name`` of ember's and torch's functional module on the same problem."""
    results = {}
    for key, mod in (("e", EF), ("t", TF)):
        lib = LIB[key]
        inputs = tuple(lib.tensor(a.copy()) for a in arrays)
        inputs = inputs if as_tuple else inputs[0]
        args = (func_of_lib(lib), inputs)
        if v is not None:
            vs = tuple(lib.tensor(a.copy()) for a in v)
            args += (vs if v_tuple else vs[0],)
        results[key] = getattr(mod, fn_name)(*args, **kwargs)
    return results["e"], results["t"]


# ---- functions used below ------------------------------------------------------------------
def f_single(lib):
    return lambda a: (a.exp() * 2).sum(1)


def f_two_in_one_out(lib):
    return lambda a, b: (a @ b).tanh()


def f_one_in_two_out(lib):
    return lambda a: (a.sin(), (a * a).sum())


def f_two_in_two_out(lib):
    return lambda a, b: ((a @ b).sigmoid(), (a * b).sum(0) + b.mean())


def f_scalar(lib):
    return lambda a: (a ** 3).sum() * a.mean()


def f_scalar_two(lib):
    return lambda a, b: ((a @ b) ** 2).sum() + (b.sin() * b).sum()


# ---- jacobian ----------------------------------------------------------------------------
@pytest.mark.parametrize("vectorize", [False, True])
@pytest.mark.parametrize("create_graph", [False, True])
@pytest.mark.parametrize("case", ["single", "two_in", "two_out", "two_two"])
def test_jacobian_structure_and_values(rng, case, vectorize, create_graph):
    a, b = rng.standard_normal((2, 3)), rng.standard_normal(3)
    func, arrays, as_tuple = {
        "single": (f_single, (a,), False),
        "two_in": (f_two_in_one_out, (a, b), True),
        "two_out": (f_one_in_two_out, (a,), False),
        "two_two": (f_two_in_two_out, (a, b), True),
    }[case]
    je, jt = run_both("jacobian", func, arrays, as_tuple=as_tuple, vectorize=vectorize,
                      create_graph=create_graph)
    assert_tree_close(je, jt)


def test_jacobian_with_a_tuple_of_one_input(rng):
    je, jt = run_both("jacobian", lambda lib: (lambda a: (a[0] * a).sum(0)),
                      (rng.standard_normal((2, 3)),), as_tuple=True)
    assert_tree_close(je, jt)


def test_jacobian_of_an_output_independent_of_an_input_is_zero(rng):
    for vectorize in (False, True):
        je, jt = run_both("jacobian", lambda lib: (lambda a, b: a * 2),
                          (rng.standard_normal(2), rng.standard_normal(3)), as_tuple=True,
                          vectorize=vectorize)
        assert_tree_close(je, jt)


def test_jacobian_of_an_empty_input():
    je, jt = run_both("jacobian", lambda lib: (lambda a: a.sum()), (np.ones(0),),
                      as_tuple=False)
    assert_tree_close(je, jt)


def test_jacobian_with_create_graph_is_differentiable(rng):
    (xe, xt), = twins(rng.standard_normal(3))
    je = EF.jacobian(lambda a: a.sin() * a, xe, create_graph=True, vectorize=True)
    jt = TF.jacobian(lambda a: a.sin() * a, xt, create_graph=True, vectorize=True)
    je.sum().backward()
    jt.sum().backward()
    assert_close(xe.grad, xt.grad)


def test_jacobian_forward_mode(rng):
    a, b = rng.standard_normal((2, 3)), rng.standard_normal(3)
    for func, arrays, as_tuple in ((f_single, (a,), False), (f_two_in_two_out, (a, b), True),
                                   (f_one_in_two_out, (a,), False),
                                   (f_two_in_one_out, (a, b), True)):
        je, jt = run_both("jacobian", func, arrays, as_tuple=as_tuple, vectorize=True,
                          strategy="forward-mode")
        assert_tree_close(je, jt)


def test_vectorized_jacobian_is_one_backward_pass(rng, monkeypatch):
    calls = []
    real = engine.run_backward

    def counting(*args, **kwargs):
        calls.append(kwargs.get("batch"))
        return real(*args, **kwargs)

    monkeypatch.setattr("ember.autograd.api.run_backward", counting)
    x = ember.tensor(rng.standard_normal((4, 3)))
    w = ember.tensor(rng.standard_normal((3, 5)))
    def func(a):
        return ((a @ w).tanh() * 2 - a.sum(1, keepdim=True)).exp().mean(0)

    EF.jacobian(func, x, vectorize=True)
    assert calls == [5]
    calls.clear()
    EF.jacobian(func, x)
    assert calls == [None] * 5


# ---- hessian --------------------------------------------------------------------------------
@pytest.mark.parametrize("vectorize", [False, True])
def test_hessian(rng, vectorize):
    a, b = rng.standard_normal((2, 3)), rng.standard_normal(3)
    he, ht = run_both("hessian", f_scalar, (a,), as_tuple=False, vectorize=vectorize)
    assert_tree_close(he, ht)
    he, ht = run_both("hessian", f_scalar_two, (a, b), as_tuple=True, vectorize=vectorize)
    assert_tree_close(he, ht)
    he, ht = run_both("hessian", f_scalar, (a,), as_tuple=False, vectorize=vectorize,
                      create_graph=True)
    assert_tree_close(he, ht)


def test_vectorized_hessian_runs_no_node_per_row(rng, monkeypatch):
    fallbacks = []
    real = batching.per_row
    monkeypatch.setattr(batching, "per_row",
                        lambda node, *args: fallbacks.append(node.name()) or real(node, *args))
    a = rng.standard_normal((2, 3))

    def func(lib):
        return lambda x: (x ** 3).sum() + (x.tanh() * x.sigmoid()).sum() + (x ** 2).mean()

    he, ht = run_both("hessian", func, (a,), as_tuple=False, vectorize=True)
    assert_tree_close(he, ht)
    assert fallbacks == []


def test_hessian_forward_over_reverse(rng):
    a, b = rng.standard_normal((2, 3)), rng.standard_normal(3)
    he, ht = run_both("hessian", f_scalar_two, (a, b), as_tuple=True, vectorize=True,
                      outer_jacobian_strategy="forward-mode")
    # PyTorch's result here keeps a grad_fn (its inputs were marked requires_grad in
    # place); ember returns plain tensors. The values are what is compared.
    assert_tree_close(he, type(ht)(type(row)(t.detach() for t in row) for row in ht),
                      check_requires_grad=False)


def test_hessian_output_checks():
    x = (np.ones(2),)
    for func, phrase in (
            (lambda lib: (lambda a: a * 2),
             "The Tensor returned by the function given to hessian should contain a single "
             "element"),
            (lambda lib: (lambda a: (a.sum(), a.sum())),
             "The function given to hessian should return a single Tensor")):
        raises_like(lambda f=func: run_both("hessian", f, x, as_tuple=False)[0],
                    lambda f=func: TF.hessian(f(torch), torch.ones(2)), phrase)


# ---- vjp, jvp, vhp, hvp ------------------------------------------------------------------------
@pytest.mark.parametrize("create_graph", [False, True])
def test_vjp(rng, create_graph):
    a, b = rng.standard_normal((2, 3)), rng.standard_normal(3)
    res = run_both("vjp", f_single, (a,), as_tuple=False, v=(rng.standard_normal(2),),
                   create_graph=create_graph)
    assert_tree_close(*res)
    res = run_both("vjp", f_two_in_two_out, (a, b), as_tuple=True,
                   v=(rng.standard_normal(2), rng.standard_normal(3)), v_tuple=True,
                   create_graph=create_graph)
    assert_tree_close(*res)
    res = run_both("vjp", lambda lib: (lambda x: x.sum()), (a,), as_tuple=False)
    assert_tree_close(*res)


@pytest.mark.parametrize("create_graph", [False, True])
def test_jvp(rng, create_graph):
    a, b = rng.standard_normal((2, 3)), rng.standard_normal(3)
    res = run_both("jvp", f_single, (a,), as_tuple=False, v=(rng.standard_normal((2, 3)),),
                   create_graph=create_graph)
    assert_tree_close(*res)
    res = run_both("jvp", f_two_in_two_out, (a, b), as_tuple=True,
                   v=(rng.standard_normal((2, 3)), rng.standard_normal(3)), v_tuple=True,
                   create_graph=create_graph)
    assert_tree_close(*res)
    res = run_both("jvp", lambda lib: (lambda x: x * 3), (np.ones(()),), as_tuple=False)
    assert_tree_close(*res)


@pytest.mark.parametrize("fn_name", ["hvp", "vhp"])
@pytest.mark.parametrize("create_graph", [False, True])
def test_hvp_vhp(rng, fn_name, create_graph):
    a, b = rng.standard_normal((2, 3)), rng.standard_normal(3)
    res = run_both(fn_name, f_scalar, (a,), as_tuple=False, v=(rng.standard_normal((2, 3)),),
                   create_graph=create_graph)
    assert_tree_close(*res)
    res = run_both(fn_name, f_scalar_two, (a, b), as_tuple=True,
                   v=(rng.standard_normal((2, 3)), rng.standard_normal(3)), v_tuple=True,
                   create_graph=create_graph)
    assert_tree_close(*res)


def test_zero_products_for_unused_inputs(rng):
    a, b = rng.standard_normal(2), rng.standard_normal(2)
    for fn_name in ("vjp", "jvp", "vhp", "hvp"):
        func = (lambda lib: (lambda x, y: (x * x).sum())) if fn_name in ("vhp", "hvp") else \
            (lambda lib: (lambda x, y: x * 2))
        v = (rng.standard_normal(2),) if fn_name == "vjp" else (a, b)
        res = run_both(fn_name, func, (a, b), as_tuple=True, v=v, v_tuple=fn_name != "vjp")
        assert_tree_close(*res)


# ---- errors ------------------------------------------------------------------------------------
def _err(fn_name, func, inputs_np, *phrases, **kwargs):
    """Both libraries raise the same error for the same call."""
    def call(lib, mod):
        def go():
            inputs = inputs_np(lib)
            return getattr(mod, fn_name)(func(lib), *inputs, **kwargs)
        return go
    raises_like(call(ember, EF), call(torch, TF), *phrases)


def test_input_and_output_type_errors():
    _err("jacobian", lambda lib: (lambda a: a * 2), lambda lib: ([lib.ones(2)],),
         "The inputs given to jacobian must be either a Tensor or a tuple of Tensors but the "
         "given inputs has type <class 'list'>.")
    _err("jacobian", lambda lib: (lambda a: 3), lambda lib: (lib.ones(2),),
         "The outputs of the user-provided function given to jacobian must be either a Tensor "
         "or a tuple of Tensors but the given outputs of the user-provided function has type "
         "<class 'int'>.")
    _err("vjp", lambda lib: (lambda a: (a, 3)), lambda lib: (lib.ones(2), (lib.ones(2),)),
         "but the value at index 1 has type <class 'int'>.")


def test_strict_mode_errors():
    _err("jacobian", lambda lib: (lambda a, b: a * 2), lambda lib: ((lib.ones(2), lib.ones(2)),),
         "Output 0 of the user-provided function is independent of input 1. This is not "
         "allowed in strict mode.", strict=True)
    _err("jacobian", lambda lib: (lambda a: lib.ones(2)), lambda lib: (lib.ones(2),),
         "Output 0 of the user-provided function does not require gradients.", strict=True)
    _err("jacobian", lambda lib: (lambda a: a * 2), lambda lib: (lib.ones(2),),
         "`strict=True` and `vectorized=True` are not supported together.", strict=True,
         vectorize=True)
    _err("jacobian", lambda lib: (lambda a: a * 2), lambda lib: (lib.ones(2),),
         "The jacobian of the user-provided function is independent of input 0. This is not "
         "allowed in strict mode when create_graph=True.", strict=True, create_graph=True)
    _err("hessian", lambda lib: (lambda a: a.sum() * 2), lambda lib: (lib.ones(2),),
         "While computing the hessian, found that the jacobian of the user-provided function "
         "with respect to input 0 is independent of the input.", strict=True)
    _err("vjp", lambda lib: (lambda a, b: a * 2), lambda lib: ((lib.ones(2), lib.ones(2)),
                                                              lib.ones(2)),
         "The output of the user-provided function is independent of input 1. This is not "
         "allowed in strict mode.", strict=True)
    _err("jvp", lambda lib: (lambda a, b: a * 2), lambda lib: ((lib.ones(2), lib.ones(2)),
                                                              (lib.ones(2), lib.ones(2))),
         "The output of the user-provided function is independent of input 1.", strict=True)
    _err("hvp", lambda lib: (lambda a: a.sum()), lambda lib: (lib.ones(2), lib.ones(2)),
         "found that the jacobian of the user-provided function with respect to input 0 is "
         "independent of the input.", strict=True)


def test_v_errors():
    _err("vjp", lambda lib: (lambda a: a * 2), lambda lib: (lib.ones(2),),
         "The vector v can only be None if the user-provided function returns a single Tensor "
         "with a single element.")
    _err("vjp", lambda lib: (lambda a: a * 2), lambda lib: (lib.ones(2), lib.ones(3)),
         "v has invalid size: should be torch.Size([2]) but got torch.Size([3]).")
    _err("vjp", lambda lib: (lambda a: (a * 2, a)), lambda lib: (lib.ones(2), (lib.ones(2),)),
         "v is a tuple of invalid length: should be 2 but got 1.")
    _err("vjp", lambda lib: (lambda a: (a * 2, a)),
         lambda lib: (lib.ones(2), (lib.ones(2), lib.ones(3))),
         "Entry 1 in v has invalid size: should be torch.Size([2]) but got torch.Size([3]).")
    _err("jvp", lambda lib: (lambda a: a * 2), lambda lib: (lib.ones(2),),
         "The vector v can only be None if the input to the user-provided function is a single "
         "Tensor with a single element.")
    _err("hvp", lambda lib: (lambda a: a.sum()), lambda lib: (lib.ones(2),),
         "The vector v can only be None if the input to the user-provided function is a single "
         "Tensor with a single element.")
    _err("vhp", lambda lib: (lambda a: a * 2), lambda lib: (lib.ones(2), lib.ones(2)),
         "The Tensor returned by the function given to vhp should contain a single element")


def test_strategy_errors():
    _err("jacobian", lambda lib: (lambda a: a * 2), lambda lib: (lib.ones(2),),
         'Expected strategy to be either "forward-mode" or "reverse-mode".', strategy="bad")
    _err("jacobian", lambda lib: (lambda a: a * 2), lambda lib: (lib.ones(2),),
         "only implemented for `vectorize=True`.", strategy="forward-mode")
    _err("jacobian", lambda lib: (lambda a: a * 2), lambda lib: (lib.ones(2),),
         '`create_graph=True` and `strategy="forward-mode"` are not supported together (yet).',
         strategy="forward-mode", vectorize=True, create_graph=True)
    _err("jacobian", lambda lib: (lambda a: a * 2), lambda lib: (lib.ones(2),),
         '`strict=True` and `strategy="forward-mode"` are not supported together (yet).',
         strategy="forward-mode", vectorize=True, strict=True)


# ---- batched grad: autograd.grad(..., is_grads_batched=True) ------------------------------------
def _custom_square(lib):
    class Square(lib.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            ctx.save_for_backward(x)
            return x * x

        @staticmethod
        def backward(ctx, g):
            (x,) = ctx.saved_tensors
            return 2 * x * g
    return Square


def _setitem(lib, a, b):
    c = a * 1
    c[0] = b[0] * 3
    return c


# (name, function of (lib, a, b), batch-rule ops only?)
BATCHED_CASES = [
    ("mul_broadcast", lambda lib, a, b: a * b[0], True),
    ("div_sub_pow", lambda lib, a, b: (a / (b[1] + 3) - b[0]) ** 2, True),
    ("unary_chain", lambda lib, a, b: (a.exp().sin() + a.cos().tanh()).sigmoid().relu(), True),
    ("abs_sqrt_log", lambda lib, a, b: (a.abs() + 1).sqrt().log() * a.sign(), True),
    ("clamp_where_max", lambda lib, a, b: lib.where(a > 0, a.clamp(-0.5, 0.5),
                                                    lib.maximum(a, b[0])), True),
    ("pow_tensor", lambda lib, a, b: (a.abs() + 1) ** b[0], True),
    ("rsub_rdiv", lambda lib, a, b: 2 - a / 3 + 1 / (a * a + 1), True),
    ("sum_mean_dims", lambda lib, a, b: a.sum(0) * a.mean(1, keepdim=True) + a.sum(), True),
    ("view_permute", lambda lib, a, b: a.reshape(3, 2).t().unsqueeze(0).permute(2, 0, 1)
     .squeeze(1).transpose(0, 1).flatten() * 2, True),
    ("select_slice_narrow", lambda lib, a, b: a[1, 1:] * a[:, 1:].sum(0) + a.narrow(1, 0, 1)
     .squeeze(1) + b[::2, 2], True),
    ("expand", lambda lib, a, b: b[0].unsqueeze(0).expand(4, 3) * 2, True),
    ("mm_mv_dot", lambda lib, a, b: a.mm(b[:3, :2]).sum(1) + a.mv(b[0, :3]) +
     b[1, :3].dot(a[0]), True),
    ("matmul_batched", lambda lib, a, b: (a.unsqueeze(0).expand(2, 2, 3) @ b[:3]).sum(0), True),
    ("bmm", lambda lib, a, b: a.unsqueeze(0).bmm(b[:3].unsqueeze(0)).squeeze(0), True),
    ("vec_mat_linear", lambda lib, a, b: a[0] @ b[:3] + lib.nn.functional.linear(
        a, b[:3], b[:3, 0]).sum(0), True),
    ("rounded_div", lambda lib, a, b: lib.div(a, b[0], rounding_mode="floor") * a, True),
    ("prod_max_amax", lambda lib, a, b: a.prod(1) + a.max() + a.amax(0)[:2] + a.min(1)[0], False),
    ("advanced_index", lambda lib, a, b: a[[1, 0, 1]] * 2, False),
    ("setitem_copyslices", lambda lib, a, b: _setitem(lib, a, b), False),
    ("custom_function", lambda lib, a, b: _custom_square(lib).apply(a) + b[0], False),
]


@pytest.mark.parametrize("name, func, rules_only", BATCHED_CASES,
                         ids=[c[0] for c in BATCHED_CASES])
@pytest.mark.parametrize("create_graph", [False, True])
def test_batched_grad_matches_torch_and_a_loop(rng, monkeypatch, name, func, rules_only,
                                              create_graph):
    a, b = rng.standard_normal((2, 3)), rng.standard_normal((4, 3))
    (ae, at), (be, bt) = twins(a, b)
    oe, ot = func(ember, ae, be), func(torch, at, bt)
    assert_close(oe, ot)
    go = rng.standard_normal((5,) + tuple(ot.shape))
    fallbacks = []
    real = batching.per_row
    monkeypatch.setattr(batching, "per_row",
                        lambda node, *args: fallbacks.append(node.name()) or real(node, *args))
    ge = ember.autograd.grad(oe, (ae, be), ember.tensor(go), retain_graph=True,
                             create_graph=create_graph, is_grads_batched=True,
                             allow_unused=True)
    gt = torch.autograd.grad(ot, (at, bt), torch.tensor(go), retain_graph=True,
                             create_graph=create_graph, is_grads_batched=True,
                             allow_unused=True)
    _assert_grads_close(ge, gt)
    if rules_only:
        assert fallbacks == [], fallbacks
    else:
        assert fallbacks, "expected some node without a batch rule"
    # The same as one backward pass per row.
    for k in range(go.shape[0]):
        rows = ember.autograd.grad(oe, (ae, be), ember.tensor(go[k]), retain_graph=True,
                                   allow_unused=True)
        for e, r in zip(ge, rows):
            assert (e is None) == (r is None)
            if e is not None:
                np.testing.assert_allclose(e[k].detach().numpy(), r.numpy(), rtol=1e-10,
                                           atol=1e-12)
    if create_graph:
        # The batched gradients are themselves differentiable, as torch's are.
        weights = [rng.standard_normal(tuple(g.shape)) if g is not None else None for g in gt]
        se = sum((g * ember.tensor(w)).sum() for g, w in zip(ge, weights) if g is not None)
        st = sum((g * torch.tensor(w)).sum() for g, w in zip(gt, weights) if g is not None)
        if st.requires_grad:
            _assert_grads_close(ember.autograd.grad(se, (ae, be), allow_unused=True),
                                torch.autograd.grad(st, (at, bt), allow_unused=True))


def _assert_grads_close(ge, gt):
    assert len(ge) == len(gt)
    for e, t in zip(ge, gt):
        assert (e is None) == (t is None), (e, t)
        if t is not None:
            assert_close(e, t)


def test_batched_grad_checks_shapes():
    xe = ember.ones(3, requires_grad=True)
    xt = torch.ones(3, requires_grad=True)
    raises_like(lambda: ember.autograd.grad(xe * 2, xe, ember.ones(2, 4), is_grads_batched=True),
                lambda: torch.autograd.grad(xt * 2, xt, torch.ones(2, 4), is_grads_batched=True),
                "If `is_grads_batched=True`, we interpret the first dimension of each "
                "grad_output as the batch dimension.",
                "If you only want some tensors in `grad_output` to be considered batched, "
                "consider using vmap.")


def test_batched_grad_allow_unused_and_materialize():
    xe, ze = ember.ones(3, requires_grad=True), ember.ones(2, requires_grad=True)
    xt, zt = torch.ones(3, requires_grad=True), torch.ones(2, requires_grad=True)
    raises_like(
        lambda: ember.autograd.grad(xe * 2, (xe, ze), ember.eye(3), is_grads_batched=True),
        lambda: torch.autograd.grad(xt * 2, (xt, zt), torch.eye(3), is_grads_batched=True),
        "The differentiated Tensor at index 1 appears to not have been used in the graph.")
    ge = ember.autograd.grad(xe * 2, (xe, ze), ember.eye(3), is_grads_batched=True,
                             allow_unused=True)
    gt = torch.autograd.grad(xt * 2, (xt, zt), torch.eye(3), is_grads_batched=True,
                             allow_unused=True)
    assert_close(ge[0], gt[0])
    assert ge[1] is None and gt[1] is None
    # materialize_grads: ember gives the zero gradient of every row, (batch, *shape).
    ge = ember.autograd.grad(xe * 2, (xe, ze), ember.eye(3), is_grads_batched=True,
                             materialize_grads=True)
    assert tuple(ge[1].shape) == (3, 2) and not ge[1].numpy().any()


def test_gradcheck_batched_grad_on_rule_ops(rng):
    x = ember.tensor(rng.standard_normal((2, 3)), requires_grad=True)
    w = ember.tensor(rng.standard_normal((3, 4)), requires_grad=True)
    assert ember.autograd.gradcheck(
        lambda a, b: ((a @ b).tanh().sum(0) * b.mean(0)).exp(), (x, w),
        check_batched_grad=True)
