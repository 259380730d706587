"""The backward engine and its front door (``backward``, ``autograd.grad``) against torch."""

from __future__ import annotations

import gc
import sys
import tracemalloc
import warnings
import weakref

import numpy as np
import pytest
import torch

import ember
from tests.autograd._compare import assert_close, graph_signature, raises_like, twins


# ---- accumulation, backward arguments ---------------------------------------------------------
def test_gradients_accumulate_and_zero(rng):
    (xe, xt), = twins(rng.standard_normal(3))
    for _ in range(2):
        (xe * xe).sum().backward()
        (xt * xt).sum().backward()
    assert_close(xe.grad, xt.grad)
    ge = xe.grad
    xe.grad.zero_()
    xt.grad.zero_()
    assert xe.grad is ge  # zeroed in place
    assert_close(xe.grad, xt.grad)
    xe.sin().sum().backward()
    xt.sin().sum().backward()
    assert_close(xe.grad, xt.grad)


def test_backward_with_gradient_is_a_vector_jacobian_product(rng):
    (xe, xt), (we, wt) = twins(rng.standard_normal(3), rng.standard_normal((4, 3)))
    v = rng.standard_normal(4)
    (we @ xe).tanh().backward(ember.tensor(v))
    (wt @ xt).tanh().backward(torch.tensor(v))
    assert_close(xe.grad, xt.grad)
    assert_close(we.grad, wt.grad)


def test_autograd_grad_vjp_of_a_non_scalar_output(rng):
    (xe, xt), = twins(rng.standard_normal((2, 3)))
    v = rng.standard_normal((2, 3))
    (ge,) = ember.autograd.grad(xe.exp() * xe, xe, ember.tensor(v))
    (gt,) = torch.autograd.grad(xt.exp() * xt, xt, torch.tensor(v))
    assert_close(ge, gt)


def test_retain_graph(rng):
    (xe, xt), = twins(rng.standard_normal(3))
    ye, yt = (xe.sin() * xe).sum(), (xt.sin() * xt).sum()
    ye.backward(retain_graph=True)
    yt.backward(retain_graph=True)
    ye.backward()
    yt.backward()
    assert_close(xe.grad, xt.grad)
    raises_like(ye.backward, yt.backward,
                "Trying to backward through the graph a second time (or directly access saved "
                "tensors after they have already been freed). Saved intermediate values of the "
                "graph are freed when you call .backward() or autograd.grad(). Specify "
                "retain_graph=True if you need to backward through the graph a second time or "
                "if you need to access saved tensors after calling backward.")


def test_create_graph_on_backward_makes_grad_differentiable(rng, monkeypatch):
    monkeypatch.setattr(ember.autograd.api, "_warned_cycle", [])  # warned once per process
    (xe, xt), = twins(rng.standard_normal(3))
    with pytest.warns(UserWarning, match="will create a reference cycle"):
        (xe ** 3).sum().backward(create_graph=True)
    with warnings.catch_warnings():  # torch warns only once per process
        warnings.simplefilter("ignore")
        (xt ** 3).sum().backward(create_graph=True)
    assert xe.grad.requires_grad and xt.grad.requires_grad
    assert_close(xe.grad, xt.grad)
    ge, gt = xe.grad, xt.grad
    xe.grad, xt.grad = None, None
    ge.sum().backward()
    gt.sum().backward()
    assert_close(xe.grad, xt.grad)


def test_backward_inputs_restricts_accumulation(rng):
    (ae, at), (be, bt) = twins(rng.standard_normal(2), rng.standard_normal(2))
    he, ht = ae * 3, at * 3
    le, lt = (he * be).sum(), (ht * bt).sum()
    le.backward(inputs=[be, he], retain_graph=True)
    lt.backward(inputs=[bt, ht], retain_graph=True)
    assert ae.grad is None and at.grad is None
    assert_close(be.grad, bt.grad)
    assert_close(he.grad, ht.grad)  # a non-leaf input gets .grad
    le.backward(inputs=ae)
    lt.backward(inputs=at)
    assert_close(ae.grad, at.grad)
    raises_like(lambda: le.backward(inputs=[]), lambda: lt.backward(inputs=[]),
                "`inputs` argument to `backward()` cannot be empty.")
    ye, yt = ae * 2, at * 2
    raises_like(lambda: ye.sum().backward(inputs=[ember.ones(2)]),
                lambda: yt.sum().backward(inputs=[torch.ones(2)]),
                "can't retain_grad on Tensor that has requires_grad=False")


def test_autograd_backward_with_several_tensors(rng):
    (ae, at), (be, bt) = twins(rng.standard_normal(2), rng.standard_normal(2))
    ga, gb = rng.standard_normal(2), rng.standard_normal(2)
    ember.autograd.backward([ae * be, be.exp()], [ember.tensor(ga), ember.tensor(gb)])
    torch.autograd.backward([at * bt, bt.exp()], [torch.tensor(ga), torch.tensor(gb)])
    assert_close(ae.grad, at.grad)
    assert_close(be.grad, bt.grad)
    ember.autograd.backward((ae * 2).sum())
    torch.autograd.backward((at * 2).sum())
    assert_close(ae.grad, at.grad)
    raises_like(lambda: ember.autograd.backward([ae * 2, ae * 3], [ember.ones(2)]),
                lambda: torch.autograd.backward([at * 2, at * 3], [torch.ones(2)]),
                "got 2 tensors and 1 gradients")


# ---- autograd.grad -------------------------------------------------------------------------------
def test_grad_returns_without_touching_dot_grad(rng):
    (ae, at), (be, bt) = twins(rng.standard_normal(3), rng.standard_normal(3))
    ge = ember.autograd.grad((ae * be).sum(), [ae, be])
    gt = torch.autograd.grad((at * bt).sum(), [at, bt])
    for e, t in zip(ge, gt):
        assert_close(e, t)
        assert not e.requires_grad
    assert ae.grad is None and be.grad is None


def test_grad_of_several_outputs_with_grad_outputs(rng):
    (ae, at), = twins(rng.standard_normal(3))
    v1, v2 = rng.standard_normal(3), rng.standard_normal(())
    (ge,) = ember.autograd.grad([ae.sin(), ae.sum()], ae, [ember.tensor(v1), ember.tensor(v2)])
    (gt,) = torch.autograd.grad([at.sin(), at.sum()], at, [torch.tensor(v1), torch.tensor(v2)])
    assert_close(ge, gt)


def test_grad_with_respect_to_an_intermediate(rng):
    (ae, at), = twins(rng.standard_normal(3))
    he, ht = ae.exp(), at.exp()
    (ge,) = ember.autograd.grad((he * he).sum(), he)
    (gt,) = torch.autograd.grad((ht * ht).sum(), ht)
    assert_close(ge, gt)


def test_grad_allow_unused_and_materialize(rng):
    (ae, at), (be, bt) = twins(rng.standard_normal(2), rng.standard_normal(2))
    raises_like(lambda: ember.autograd.grad((ae * 2).sum(), [ae, be]),
                lambda: torch.autograd.grad((at * 2).sum(), [at, bt]),
                "The differentiated Tensor at index 1 appears to not have been used in the "
                "graph. Set allow_unused=True if this is the desired behavior.")
    ge = ember.autograd.grad((ae * 2).sum(), [ae, be], allow_unused=True)
    gt = torch.autograd.grad((at * 2).sum(), [at, bt], allow_unused=True)
    assert_close(ge[0], gt[0])
    assert ge[1] is None and gt[1] is None
    ge = ember.autograd.grad((ae * 2).sum(), [ae, be], materialize_grads=True)
    gt = torch.autograd.grad((at * 2).sum(), [at, bt], materialize_grads=True)
    assert_close(ge[1], gt[1])
    raises_like(lambda: ember.autograd.grad((ae * 2).sum(), [ae, be], allow_unused=False,
                                            materialize_grads=True),
                lambda: torch.autograd.grad((at * 2).sum(), [at, bt], allow_unused=False,
                                            materialize_grads=True),
                "Expected allow_unused to be True or not passed when materialize_grads=True, "
                "but got: allow_unused=False.")


def test_grad_argument_errors(rng):
    (ae, at), = twins(rng.standard_normal(3))
    ye, yt = ae * 2, at * 2
    cases = [
        ((lambda: ember.autograd.grad(ye.sum(), [ember.ones(3)])),
         (lambda: torch.autograd.grad(yt.sum(), [torch.ones(3)])),
         "One of the differentiated Tensors does not require grad"),
        ((lambda: ember.autograd.grad(ye, ae, ember.ones(4), retain_graph=True)),
         (lambda: torch.autograd.grad(yt, at, torch.ones(4), retain_graph=True)),
         "Mismatch in shape: grad_output[0] has a shape of torch.Size([4]) and output[0] has a "
         "shape of torch.Size([3])."),
        ((lambda: ember.autograd.grad(ye, ae, [3], retain_graph=True)),
         (lambda: torch.autograd.grad(yt, at, [3], retain_graph=True)),
         "gradients can be either Tensors or None, but got int"),
        ((lambda: ember.autograd.grad(ye, [], ember.ones(3))),
         (lambda: torch.autograd.grad(yt, [], torch.ones(3))),
         "`inputs` argument to `grad()` cannot be empty."),
        ((lambda: ember.autograd.grad([ye, ye], ae, [ember.ones(3)])),
         (lambda: torch.autograd.grad([yt, yt], at, [torch.ones(3)])),
         "got 2 tensors and 1 gradients"),
    ]
    for fe, ft, phrase in cases:
        raises_like(fe, ft, phrase)


def test_grad_output_of_another_dtype_is_cast(rng):
    (ae, at), = twins(rng.standard_normal(3))
    (ge,) = ember.autograd.grad(ae * 2, ae, ember.ones(3, dtype=ember.float32))
    (gt,) = torch.autograd.grad(at * 2, at, torch.ones(3, dtype=torch.float32))
    assert_close(ge, gt)


def test_only_inputs_false_warns():
    x = ember.ones(2, requires_grad=True)
    with pytest.warns(FutureWarning, match="only_inputs argument is deprecated"):
        ember.autograd.grad(x.sum(), x, only_inputs=False)


# ---- higher derivatives ---------------------------------------------------------------------------
THIRD_ORDER = [
    ("pow4", lambda lib, x: x ** 4),
    ("sin", lambda lib, x: x.sin()),
    ("exp_mul", lambda lib, x: x.exp() * x),
    ("tanh", lambda lib, x: x.tanh()),
    ("sigmoid", lambda lib, x: x.sigmoid()),
    ("log", lambda lib, x: (x * x + 1).log()),
    ("sqrt_div", lambda lib, x: (x * x + 1).sqrt() / (x + 3)),
    ("cos_reciprocal", lambda lib, x: x.cos() * (x * x + 2).reciprocal()),
    ("matmul", lambda lib, x: (x.unsqueeze(0) @ lib.ones(3, 3, dtype=lib.float64) * x) ** 2),
    ("mean_prod", lambda lib, x: x.prod() * x.mean()),
]


@pytest.mark.parametrize("name, func", THIRD_ORDER, ids=[c[0] for c in THIRD_ORDER])
def test_third_derivatives(rng, name, func):
    (xe, xt), = twins(rng.uniform(0.2, 1.5, 3))
    ge, gt = func(ember, xe).sum(), func(torch, xt).sum()
    for order in range(3):
        last = order == 2
        (ge,) = ember.autograd.grad(ge.sum(), xe, create_graph=not last)
        (gt,) = torch.autograd.grad(gt.sum(), xt, create_graph=not last)
        assert_close(ge, gt, rtol=1e-10)


# ---- graph structure ------------------------------------------------------------------------------
STRUCTURES = [
    ("arith", lambda lib, a, b: ((a * b).sum(1) + a.mean()).exp() / 2 - a[0]),
    ("views", lambda lib, a, b: a.unsqueeze(0).transpose(0, 1).squeeze(1).reshape(3) * a.t()[0]),
    ("unary", lambda lib, a, b: a[1:].relu().tanh().sigmoid() * 2 - 1),
    ("reductions", lambda lib, a, b: a.max() + a.min() + a.prod() +
     a.sum(0, keepdim=True).squeeze()),
    ("clamp_sqrt_log", lambda lib, a, b: (a.clamp(0, 2) + 1).sqrt().log().abs()),
    ("matmul", lambda lib, a, b: (b @ a.unsqueeze(0)).mm(a.unsqueeze(1)) / 3),
    ("expand", lambda lib, a, b: a.expand(2, 3) * b),
    # Python numbers: wrapped as tensors (an empty edge) or a Scalar overload (no edge).
    ("scalars", lambda lib, a, b: (a + 2) * (2 - a) / (a - 1) + 2 * a),
    ("scalar_overloads", lambda lib, a, b: (a ** 2 + a ** 0.5 + 2 ** a + a % 2) * (a // 2)),
    ("where", lambda lib, a, b: lib.where(a > 0, a, b) + lib.where(a > 0, a, 1.0) +
     lib.where(a > 0, 2.0, a)),
    ("alpha", lambda lib, a, b: a.add(b, alpha=2).sub(a, alpha=0.5) + lib.rsub(a, 1, alpha=3)),
    ("pow_tensor", lambda lib, a, b: a.abs() ** b + a.pow(a)),
]

# Higher-order graphs: each formula builds the graph PyTorch's C++ formula builds.
DERIVATIVE_STRUCTURES = [
    ("pow_scalar", lambda a, b: a ** 3),
    ("pow_square", lambda a, b: a ** 2),
    ("pow_tensor", lambda a, b: a.abs() ** b),
    ("rpow", lambda a, b: 2.5 ** a),
    ("rpow_zero", lambda a, b: 0 ** a),
    ("exp_tanh", lambda a, b: a.exp() + a.tanh()),
]


@pytest.mark.parametrize("name, func", DERIVATIVE_STRUCTURES,
                         ids=[c[0] for c in DERIVATIVE_STRUCTURES])
def test_derivative_graphs_match_torch(rng, name, func):
    (ae, at), (be, bt) = twins(rng.standard_normal(3), rng.standard_normal((2, 1)))
    ge = ember.autograd.grad(func(ae, be).sum(), (ae, be), create_graph=True, allow_unused=True)
    gt = torch.autograd.grad(func(at, bt).sum(), (at, bt), create_graph=True, allow_unused=True)
    for e, t in zip(ge, gt):
        assert (e is None) == (t is None)
        if e is not None:
            assert_close(e, t, rtol=1e-10)
            assert graph_signature(e.grad_fn) == graph_signature(t.grad_fn)


def test_pow_gradients_at_zero_base_match_torch():
    # 0 ** negative is inf, and its exponent gradient inf * log(0) = -inf; PyTorch makes the
    # exponent gradient 0 only where the exponent is >= 0.
    base = [0.0, 0.0, 0.0, 2.0, -1.0]
    exponent = [-1.0, 0.0, 2.0, 0.0, 0.5]
    (ae, at), (be, bt) = twins(base, exponent)
    ge = ember.autograd.grad((ae ** be).sum(), (ae, be), create_graph=True)
    gt = torch.autograd.grad((at ** bt).sum(), (at, bt), create_graph=True)
    for e, t in zip(ge, gt):
        np.testing.assert_array_equal(e.detach().numpy(), t.detach().numpy())
    (xe, xt), = twins(exponent)
    for b in (0, 0.0, 2.0, -2.0):
        ee, = ember.autograd.grad((b ** xe).sum(), xe)
        et, = torch.autograd.grad((b ** xt).sum(), xt)
        np.testing.assert_array_equal(ee.numpy(), et.numpy())


@pytest.mark.parametrize("name, func", STRUCTURES, ids=[c[0] for c in STRUCTURES])
def test_next_functions_match_torch(rng, name, func):
    (ae, at), (be, bt) = twins(rng.standard_normal(3), rng.standard_normal((2, 1)))
    oe, ot = func(ember, ae, be), func(torch, at, bt)
    assert_close(oe, ot)
    assert graph_signature(oe.grad_fn) == graph_signature(ot.grad_fn)
    assert type(oe.grad_fn).__name__ == type(ot.grad_fn).__name__


def test_accumulate_grad_node(rng):
    (ae, at), = twins(rng.standard_normal(3))
    ne, nt = (ae * 2).grad_fn.next_functions[0][0], (at * 2).grad_fn.next_functions[0][0]
    assert ne.variable is ae and nt.variable is at
    assert ne.name() == nt.name().replace("torch::", "ember::")
    assert type(ne).__name__ == type(nt).__name__ == "AccumulateGrad"
    assert ne.next_functions == nt.next_functions == ()
    # One accumulator per leaf, shared by every use.
    assert (ae * 3).grad_fn.next_functions[0][0] is ne


@pytest.mark.parametrize("lib", [ember, torch], ids=["ember", "torch"])
def test_graph_keeps_its_leaves_alive_and_no_longer(lib):
    import weakref

    def make():
        w = lib.ones(3, requires_grad=True)
        return (w * 2).sum(), weakref.ref(w)

    loss, leaf = make()
    acc = loss.grad_fn.next_functions[0][0].next_functions[0][0]
    assert acc.variable is leaf()  # AccumulateGrad holds its variable, as in PyTorch
    loss.backward()
    assert acc.variable.grad.tolist() == [2.0, 2.0, 2.0]
    del loss, acc
    assert leaf() is None  # no reference cycle keeps it once the graph is gone


def test_leaves_and_grad_fn(rng):
    (ae, at), = twins(rng.standard_normal(3))
    for lib, a in ((ember, ae), (torch, at)):
        assert a.is_leaf and a.grad_fn is None
        assert not (a * 2).is_leaf
        assert lib.ones(2).is_leaf and (lib.ones(2) * 2).is_leaf
        assert a.detach().is_leaf and not a.detach().requires_grad
        with lib.no_grad():
            b = a * 2
        assert b.is_leaf and b.grad_fn is None and not b.requires_grad


# ---- errors ---------------------------------------------------------------------------------------------
def test_in_place_change_of_a_saved_tensor(rng):
    (ae, at), = twins(rng.standard_normal(3), dtype=np.float32)
    ce, ct = ae * 2, at * 2
    se, st = ce.sin(), ct.sin()
    ce.mul_(2)
    ct.mul_(2)
    e_msg, _ = raises_like(
        lambda: se.sum().backward(), lambda: st.sum().backward(),
        "one of the variables needed for gradient computation has been modified by an inplace "
        "operation: [torch.FloatTensor [3]], which is output 0 of Mul, is at version 1; "
        "expected version 0 instead. Hint: enable anomaly detection to find the operation "
        "that failed to compute its gradient, with torch.autograd.set_detect_anomaly(True")
    assert "ember.FloatTensor [3]" in e_msg


def test_in_place_change_of_a_saved_leaf(rng):
    (ae, at), = twins(rng.standard_normal(2), dtype=np.float32)
    se, st = ae * ae, at * at
    with ember.no_grad():
        ae.add_(1)
    with torch.no_grad():
        at.add_(1)
    raises_like(lambda: se.sum().backward(), lambda: st.sum().backward(),
                "inplace operation: [torch.FloatTensor [2]] is at version 1; expected version 0 "
                "instead.")


def test_in_place_on_a_leaf_that_requires_grad(rng):
    (ae, at), = twins(rng.standard_normal(3))
    raises_like(lambda: ae.add_(1), lambda: at.add_(1),
                "a leaf Variable that requires grad is being used in an in-place operation.")
    raises_like(lambda: ae[0:2].mul_(2), lambda: at[0:2].mul_(2),
                "a view of a leaf Variable that requires grad is being used in an in-place "
                "operation.")
    with ember.no_grad():
        ae.add_(1)  # allowed without recording
    with torch.no_grad():
        at.add_(1)
    assert_close(ae, at)


def test_implicit_gradient_needs_a_scalar(rng):
    (ae, at), = twins(rng.standard_normal(3))
    raises_like(lambda: (ae * 2).backward(), lambda: (at * 2).backward(),
                "grad can be implicitly created only for scalar outputs")


def test_backward_of_a_tensor_without_grad():
    raises_like(lambda: ember.ones(2).sum().backward(), lambda: torch.ones(2).sum().backward(),
                "element 0 of tensors does not require grad and does not have a grad_fn")
    xe, xt = ember.ones(2, requires_grad=True), torch.ones(2, requires_grad=True)
    raises_like(lambda: ember.autograd.backward([xe.sum(), ember.ones(1).sum()]),
                lambda: torch.autograd.backward([xt.sum(), torch.ones(1).sum()]),
                "element 1 of tensors does not require grad and does not have a grad_fn")


# ---- memory ------------------------------------------------------------------------------------------------
def test_saved_tensors_are_freed_after_backward(rng):
    x = ember.tensor(rng.standard_normal(4), requires_grad=True)
    h = x * 2
    y = h.sin()  # saves h
    ref_h, ref_data = weakref.ref(h), weakref.ref(h._data)
    del h
    assert ref_h() is not None  # held by y's node
    y.sum().backward()
    assert ref_h() is None and ref_data() is None  # released by backward, y is still alive
    assert y.grad_fn is not None


def test_retain_graph_keeps_saved_tensors(rng):
    x = ember.tensor(rng.standard_normal(4), requires_grad=True)
    h = x * 2
    y = h.sin()
    ref_h = weakref.ref(h)
    del h
    y.sum().backward(retain_graph=True)
    assert ref_h() is not None
    y.sum().backward()
    assert ref_h() is None


def test_graph_is_freed_without_the_garbage_collector(rng):
    x = ember.tensor(rng.standard_normal(4), requires_grad=True)
    gc.disable()
    try:
        y = (x.exp() * x).tanh().sum()
        node = weakref.ref(y.grad_fn)
        inner = weakref.ref(y.grad_fn.next_functions[0][0])
        y.backward()
        del y
        assert node() is None and inner() is None
    finally:
        gc.enable()


def test_training_loop_memory_stays_flat():
    x = ember.tensor([0.5, -1.0, 2.0])
    w = ember.tensor([0.1, 0.2, 0.3], requires_grad=True)

    def step():
        loss = (w * x).tanh().sum()
        loss.backward()
        with ember.no_grad():
            w.sub_(w.grad * 0.01)
        w.grad = None

    for _ in range(2000):
        step()
    blocks = sys.getallocatedblocks()
    for _ in range(7000):
        step()
    tracemalloc.start()
    try:
        for _ in range(100):
            step()
        before = tracemalloc.get_traced_memory()[0]
        for _ in range(900):
            step()
        after = tracemalloc.get_traced_memory()[0]
    finally:
        tracemalloc.stop()
    assert after - before < 4096, after - before  # bytes over 900 steps
    assert sys.getallocatedblocks() - blocks < 1000


def test_long_chain_backpropagates_without_recursion():
    x = ember.tensor(1.0, dtype=ember.float64, requires_grad=True)
    y = x
    for _ in range(100_000):
        y = y * 1.0000001
    y.backward()
    assert x.grad.item() == pytest.approx(1.0000001 ** 100_000, rel=1e-9)
    del y  # freeing the 100,000-node chain must not recurse either


# ---- work done ----------------------------------------------------------------------------------------------
@pytest.fixture
def mul_formula_calls(monkeypatch):
    """Counts the calls of MulBackward0's formula for each input ('self', 'other'), in
    either form (ember ops under create_graph, array code otherwise)."""
    from ember.ops.pointwise import MUL
    from ember.ops.registry import compile_array_backward
    calls = []
    for attr in ("formulas", "array_formulas"):
        wrapped = []
        for name, formula in zip(MUL.inputs, getattr(MUL, attr)):
            fn, slots, n = formula

            def counting(*args, _fn=fn, _name=name):
                calls.append(_name)
                return _fn(*args)
            wrapped.append((counting, slots, n))
        monkeypatch.setattr(MUL, attr, tuple(wrapped))
    monkeypatch.setattr(MUL, "array_backward", compile_array_backward(MUL))
    return calls


def test_only_needed_input_gradients_are_computed(rng, mul_formula_calls):
    a = ember.tensor(rng.standard_normal(3), requires_grad=True)
    b = ember.tensor(rng.standard_normal(3))
    (a * b).sum().backward()
    assert mul_formula_calls == ["self"]
    mul_formula_calls.clear()
    b.requires_grad_()
    y = (a * b).sum()
    ember.autograd.grad(y, b, retain_graph=True)
    assert mul_formula_calls == ["other"]
    mul_formula_calls.clear()
    y.backward(inputs=[a])
    assert mul_formula_calls == ["self"]
    assert b.grad is None


def test_nodes_that_get_no_gradient_do_not_run(rng, mul_formula_calls):
    a = ember.tensor(rng.standard_normal(3), requires_grad=True)
    h = a * 2
    below = h * 3  # needs h's gradient only through h
    (ge,) = ember.autograd.grad(below.sum(), h)
    assert mul_formula_calls == ["self"]  # the node of ``below`` only
    mul_formula_calls.clear()
    # A branch that feeds nothing reaching the output never runs.
    u = a * 5
    _unused = a * 7  # noqa: F841
    u.sum().backward()
    assert mul_formula_calls == ["self"]


@pytest.mark.parametrize("op", ["exp", "tanh", "sigmoid"])
def test_ops_that_save_their_output_not_their_input(rng, op):
    (ae, at), = twins(rng.standard_normal(3))
    ye, yt = getattr(ae, op)(), getattr(at, op)()
    assert_close(ye.grad_fn._saved_result, yt.grad_fn._saved_result)
    for y in (ye, yt):
        with pytest.raises(AttributeError, match="_saved_self"):
            y.grad_fn._saved_self  # noqa: B018
    ye.sum().backward()
    yt.sum().backward()
    assert_close(ae.grad, at.grad)


def test_ops_that_save_their_input(rng):
    (ae, at), (be, bt) = twins(rng.standard_normal(3), rng.standard_normal(3))
    assert_close(ae.sin().grad_fn._saved_self, at.sin().grad_fn._saved_self)
    assert_close((ae * be).grad_fn._saved_other, (at * bt).grad_fn._saved_other)
    for y in (ae.sin(), at.sin()):
        with pytest.raises(AttributeError, match="_saved_result"):
            y.grad_fn._saved_result  # noqa: B018
    ye, yt = ae.sin(), at.sin()
    ye.sum().backward()
    yt.sum().backward()
    raises_like(lambda: ye.grad_fn._saved_self, lambda: yt.grad_fn._saved_self,
                "Trying to backward through the graph a second time")


def test_grad_layout_and_ownership_as_torch(rng):
    """A linear layer's gradients are contiguous arrays of their own (torch's layout
    contract); a gradient that is a view of a tensor still in use is copied, not aliased."""
    x = rng.standard_normal((5, 4)).astype(np.float32)
    for lib in (ember, torch):
        layer = lib.nn.Linear(4, 3)
        layer(lib.tensor(x)).sum().backward()
        for p in layer.parameters():
            assert p.grad.is_contiguous() and p.grad.shape == p.shape
    np.testing.assert_allclose(layer.bias.grad.numpy(), np.full(3, 5.0))

    kept = []

    class Keep(ember.autograd.Function):
        @staticmethod
        def forward(ctx, t):
            return t * 1

        @staticmethod
        def backward(ctx, g):
            out = ember.ones(12).reshape(3, 4)  # a view of a tensor kept alive below
            kept.append(out)
            return out

    w = ember.zeros(3, 4, requires_grad=True)
    Keep.apply(w).sum().backward()
    w.grad.add_(1.0)
    assert kept[0].sum().item() == 12.0
    assert w.grad.sum().item() == 24.0
