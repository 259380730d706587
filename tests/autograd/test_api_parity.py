"""The autograd API's corners against torch: backward/grad arguments, AccumulateGrad, the
``.grad`` attribute, hook results, post-accumulate hooks, inference tensors, custom
Functions' checks."""

from __future__ import annotations

import warnings

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

import ember
from tests.autograd._compare import assert_close, graph_signature, raises_like

LIBS = (ember, torch)


def leaf(lib, shape=(3,), requires_grad=True):
    n = int(np.prod(shape))
    return lib.arange(float(n), dtype=lib.float64).reshape(shape).requires_grad_(requires_grad)


def same(e, t) -> None:
    """Nested results (tensors, None, bools, containers) are alike in ember and torch."""
    if isinstance(t, torch.Tensor):
        assert_close(e, t)
        assert e.requires_grad == t.requires_grad
    elif isinstance(t, (tuple, list)):
        assert type(e) is type(t) and len(e) == len(t), (e, t)
        for a, b in zip(e, t):
            same(a, b)
    elif isinstance(t, dict):
        assert type(e) is dict and list(e) == list(t), (e, t)
        for k in t:
            same(e[k], t[k])
    else:
        assert e == t, (e, t)


def both(fn):
    """Run ``fn(lib)`` on ember and torch and compare the results."""
    same(fn(ember), fn(torch))


def both_raise(fn, *phrases):
    return raises_like(lambda: fn(ember), lambda: fn(torch), *phrases)


# ---- backward / grad arguments ----------------------------------------------------------------
def test_grad_checks_outputs_before_inputs():
    both_raise(lambda lib: lib.autograd.grad((leaf(lib, requires_grad=False) * 2).sum(),
                                             leaf(lib, requires_grad=False)),
               "element 0 of tensors does not require grad and does not have a grad_fn")
    both_raise(lambda lib: lib.autograd.grad(
        [(leaf(lib) * 2).sum(), leaf(lib, requires_grad=False).sum()], leaf(lib)),
        "element 1 of tensors does not require grad and does not have a grad_fn")


def test_outputs_and_inputs_must_be_tensors_or_sequences():
    both_raise(lambda lib: lib.autograd.grad(3, leaf(lib)), "object is not iterable")
    both_raise(lambda lib: lib.autograd.grad((leaf(lib) * 2).sum(), 3),
               "object is not iterable")


def test_extra_gradients_are_ignored_and_missing_ones_raise():
    def extra(lib):
        a = leaf(lib)
        return lib.autograd.grad((a * a).sum(), a, [lib.tensor(2.0, dtype=lib.float64), None])
    both(extra)

    def extra_backward(lib):
        a = leaf(lib)
        lib.autograd.backward((a * a).sum(), [lib.tensor(2.0, dtype=lib.float64), None])
        return a.grad
    both(extra_backward)
    both_raise(lambda lib: lib.autograd.backward([(leaf(lib) * 2).sum()] * 2,
                                                 [lib.tensor(1.0, dtype=lib.float64)]),
               "got 2 tensors and 1 gradients")


def test_grad_variables_is_deprecated():
    def fn(lib):
        a = leaf(lib)
        with pytest.warns(FutureWarning, match="`grad_variables` is deprecated. Use "
                                               "`grad_tensors` instead."):
            lib.autograd.backward([(a * 2).sum()], grad_variables=[None])
        return a.grad
    both(fn)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", FutureWarning)
        both_raise(lambda lib: lib.autograd.backward([(leaf(lib) * 2).sum()], [None],
                                                     grad_variables=[None]),
                   "`grad_tensors` and `grad_variables` (deprecated) arguments both passed to "
                   "`backward()`. Please only use `grad_tensors`.")


def test_inputs_given_as_a_dict():
    def grad_dict(lib):
        a, b = leaf(lib), leaf(lib) + 1
        return lib.autograd.grad((a * b * b).sum(), {"a": a, "b": b})
    both(grad_dict)

    def backward_dict(lib):
        a, b = leaf(lib), leaf(lib)
        (a * b).sum().backward(inputs={"a": a})
        return a.grad, b.grad
    both(backward_dict)

    from collections import OrderedDict
    both_raise(lambda lib: lib.autograd.grad(leaf(lib).sum(), OrderedDict(a=leaf(lib))),
               "`inputs` argument to `grad()` must be a dict, not OrderedDict. Other Mapping "
               "types are not supported.")
    both_raise(lambda lib: leaf(lib).sum().backward(inputs=OrderedDict()),
               "`inputs` argument to `backward()` must be a dict, not OrderedDict.")


def test_materialized_grads_require_grad_with_create_graph():
    def fn(lib):
        a, b = leaf(lib), leaf(lib)
        ga, gb = lib.autograd.grad((a ** 2).sum(), [a, b], create_graph=True,
                                   materialize_grads=True)
        return ga, gb, gb.grad_fn is None, gb.is_leaf
    both(fn)


@settings(deadline=None, max_examples=15)
@given(shape=st.lists(st.integers(0, 3), max_size=3).map(tuple),
       grad_shape=st.lists(st.integers(0, 3), max_size=3).map(tuple))
def test_grad_output_shape_checks(shape, grad_shape):
    def fn(lib):
        a = leaf(lib, shape)
        return lib.autograd.grad(a * 2, a, lib.ones(grad_shape, dtype=lib.float64))
    if shape == grad_shape:
        both(fn)
    else:
        both_raise(fn, f"Mismatch in shape: grad_output[0] has a shape of "
                       f"torch.Size({list(grad_shape)}) and output[0] has a shape of "
                       f"torch.Size({list(shape)}).")


# ---- AccumulateGrad ---------------------------------------------------------------------------
def test_create_graph_grad_is_a_copy_in_the_graph():
    def fn(lib):
        a = leaf(lib)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # the reference-cycle warning
            (a ** 3).sum().backward(create_graph=True)
        return a.grad, graph_signature(a.grad.grad_fn)
    both(fn)


def test_plain_backward_adds_in_place_into_a_grad_with_history():
    def fn(lib):
        a = leaf(lib)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            (a ** 3).sum().backward(create_graph=True)
        g = a.grad
        (a ** 2).sum().backward()
        return a.grad, a.grad is g, a.grad.grad_fn.name().replace("torch::", "ember::"), \
            g._version
    both(fn)

    def twice(lib):
        a = leaf(lib)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            (a ** 3).sum().backward(create_graph=True)
            (a ** 2).sum().backward(create_graph=True)
        return a.grad, graph_signature(a.grad.grad_fn)
    both(twice)


@pytest.mark.filterwarnings("ignore:grad and param do not obey the gradient layout contract")
def test_accumulating_into_an_assigned_grad():
    def requires_grad(lib):
        a = leaf(lib)
        g = a.grad = lib.ones(3, dtype=lib.float64, requires_grad=True)
        (a * 2).sum().backward()
        return a.grad, a.grad is g, a.grad.is_leaf, a.grad._version
    both(requires_grad)

    def strided(lib):
        a = leaf(lib)
        g = a.grad = lib.ones(6, dtype=lib.float64)[::2]
        (a * 2).sum().backward()
        (a * 2).sum().backward()
        return a.grad, a.grad is g, g._version
    both(strided)
    both_raise(lambda lib: _accumulate_into_expanded(lib),
               "unsupported operation: more than one element of the written-to tensor refers "
               "to a single memory location.")


def _accumulate_into_expanded(lib):
    a = leaf(lib)
    a.grad = lib.ones(1, dtype=lib.float64).expand(3)
    (a * 2).sum().backward()


def test_retained_grad_is_a_clone():
    def fn(lib):
        a = leaf(lib)
        m = a * 2
        m.retain_grad()
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            (m ** 2).sum().backward(create_graph=True)
        return m.grad, m.grad.grad_fn.name()
    both(fn)


# ---- the .grad attribute ----------------------------------------------------------------------
def test_reading_grad_of_a_non_leaf_warns():
    msgs = {}
    for lib in LIBS:
        a = leaf(lib)
        m = a * 2
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            assert m.grad is None
            r = a * 3
            r.retain_grad()
            assert r.grad is None and a.grad is None  # retained or leaf: no warning
            m.grad = lib.ones(3, dtype=lib.float64)
            assert m.grad is not None  # set: no warning
        msgs[lib] = [str(w.message) for w in caught if w.category is UserWarning]
        assert len(msgs[lib]) == 1
        assert caught[0].filename == __file__
    assert msgs[torch][0].startswith(msgs[ember][0])


@pytest.mark.parametrize("value", [
    lambda lib: 3,
    lambda lib: lib.ones(3, dtype=lib.float32),
    lambda lib: lib.ones(3, dtype=lib.int64),
    lambda lib: lib.ones(4, dtype=lib.float64),
    lambda lib: lib.ones((3, 1), dtype=lib.float64),
    lambda lib: lib.ones((), dtype=lib.float32),
])
def test_assigning_a_wrong_grad(value):
    def fn(lib):
        a = leaf(lib)
        a.grad = value(lib)
    e_msg, t_msg = both_raise(fn)
    assert t_msg.startswith(e_msg), (e_msg, t_msg)


def test_assigning_own_grad_and_deleting():
    both_raise(lambda lib: setattr(a := leaf(lib), "grad", a),
               "can't assign Variable as its own grad")

    def delete(lib):
        a = leaf(lib)
        (a * 2).sum().backward()
        del a.grad
        return a.grad
    both(delete)


# ---- hooks ------------------------------------------------------------------------------------
@pytest.mark.parametrize("target", ["leaf", "non-leaf"])
@pytest.mark.parametrize("returns", [
    lambda g, lib: g[:2],
    lambda g, lib: g.float(),
    lambda g, lib: 3,
])
def test_tensor_hook_results_are_checked(target, returns):
    def fn(lib):
        a = leaf(lib)
        t = a if target == "leaf" else a * 1

        def my_hook(g):
            return returns(g, lib)
        t.register_hook(my_hook)
        (t * 2).sum().backward()
    e_msg, t_msg = both_raise(fn)
    assert e_msg == t_msg


@pytest.mark.parametrize("kind", ["pre", "post"])
@pytest.mark.parametrize("returns", [
    lambda gs: gs[0] * 5,            # not a tuple
    lambda gs: (gs[0] * 5,) * 3,     # too many
    lambda gs: (gs[0][:1],) + gs[1:],  # a changed size
    lambda gs: tuple(gs[0] for _ in gs),  # replaces a None gradient (post) / fine (pre)
    lambda gs: tuple(None if g is None else g * 5 for g in gs),  # fine
])
def test_node_hook_results_are_checked(kind, returns):
    def fn(lib):
        a = leaf(lib)
        y = a * 2  # MulBackward0: two grad_inputs, the second None

        def my_hook(*args):
            return returns(args[0])
        if kind == "pre":
            y.grad_fn.register_prehook(my_hook)
        else:
            y.grad_fn.register_hook(my_hook)
        y.sum().backward()
        return a.grad
    try:
        torch_result = fn(torch)
    except Exception:  # noqa: BLE001 - ember must raise the same
        e_msg, t_msg = both_raise(fn)
        assert e_msg == t_msg
    else:
        same(fn(ember), torch_result)


def test_node_post_hook_sees_gradients_summed_to_the_input_shape():
    def fn(lib):
        a, b = leaf(lib, (2, 1)), leaf(lib, (3,))
        y = a * b
        seen = []
        y.grad_fn.register_hook(lambda gi, go: seen.append([tuple(g.shape) for g in gi]))
        y.sum().backward()
        return seen
    both(fn)


def test_post_accumulate_grad_hook():
    def fn(lib):
        a = leaf(lib)
        seen = []
        handle = a.register_post_accumulate_grad_hook(lambda t: seen.append(t.grad.clone()))
        (a * 2).sum().backward()
        m = a * 3
        m.retain_grad()
        m.sum().backward()
        lib.autograd.grad((a * 4).sum(), a)  # no accumulation: no call
        handle.remove()
        (a * 5).sum().backward()
        return seen, a.grad
    both(fn)

    def order(lib):
        a = leaf(lib)
        log = []
        a.register_post_accumulate_grad_hook(lambda t: log.append(("post", t.grad.tolist())))
        a.register_hook(lambda g: log.append(("pre", g.tolist())))
        (a * a).sum().backward()
        return log
    both(order)
    both_raise(lambda lib: (leaf(lib) * 2).register_post_accumulate_grad_hook(print),
               "post accumulate grad hooks cannot be registered on non-leaf tensors")
    both_raise(lambda lib: leaf(lib, requires_grad=False).register_post_accumulate_grad_hook(
        print), "cannot register a hook on a tensor that doesn't require gradient")


def test_node_call_returns_a_tuple():
    both(lambda lib: (leaf(lib) * 2).grad_fn(lib.ones(3, dtype=lib.float64)))


# ---- inference tensors ------------------------------------------------------------------------
def test_inference_tensors():
    def fn(lib):
        normal = lib.ones(3)
        with lib.inference_mode():
            t = lib.ones(3)
            s = lib.ones(3, requires_grad=True)
            y = normal * 2
            v = normal.view(3)
            normal.add_(1)
            t.add_(1)
            inside = lib.is_inference_mode_enabled()
        return (t.is_inference(), s.is_inference(), s.requires_grad, y.is_inference(),
                v.is_inference(), normal.is_inference(), t.view(3).is_inference(),
                t.detach().is_inference(), t.data.is_inference(), t.clone().is_inference(),
                (t * 2).is_inference(), lib.is_inference(t), inside, t)
    both(fn)


def _inference(lib):
    with lib.inference_mode():
        return lib.ones(3, dtype=lib.float64)


def test_inference_tensors_in_autograd():
    saved = ("Inference tensors cannot be saved for backward. Please do not use Tensors created "
             "in inference mode in computation tracked by autograd. To work around this, you "
             "can make a clone to get a normal tensor and use it in autograd, or use "
             "`torch.no_grad()` instead of `torch.inference_mode()`.")
    both_raise(lambda lib: leaf(lib) * _inference(lib), saved)
    both_raise(lambda lib: leaf(lib).exp() * _inference(lib), saved)
    both_raise(lambda lib: leaf(lib).pow(_inference(lib)), saved)

    class Save(ember.autograd.Function):
        @staticmethod
        def forward(ctx, x, t):
            ctx.save_for_backward(t)
            return x * 1

        @staticmethod
        def backward(ctx, g):
            return g, None

    class TSave(torch.autograd.Function):
        forward = Save.forward
        backward = Save.backward
    raises_like(lambda: Save.apply(leaf(ember), _inference(ember)),
                lambda: TSave.apply(leaf(torch), _inference(torch)), saved)

    def not_saved(lib):  # an add saves nothing: allowed
        a = leaf(lib)
        (a + _inference(lib)).sum().backward()
        return a.grad
    both(not_saved)


def test_inference_tensors_outside_inference_mode():
    both_raise(lambda lib: _inference(lib).add_(1),
               "Inplace update to inference tensor outside InferenceMode is not allowed.")

    def under_no_grad(lib):
        with lib.no_grad():
            _inference(lib).zero_()
    both_raise(under_no_grad, "Inplace update to inference tensor outside InferenceMode")
    both_raise(lambda lib: _inference(lib).requires_grad_(),
               "Setting requires_grad=True on inference tensor outside InferenceMode is not "
               "allowed.")
    both_raise(lambda lib: _inference(lib)._version,
               "Inference tensors do not track version counter.")
    both(lambda lib: (_inference(lib).requires_grad_(False).requires_grad,
                      _inference(lib).clone().add_(1)))


def test_set_multithreading_enabled():
    for lib in LIBS:
        with lib.autograd.set_multithreading_enabled(False):
            a = leaf(lib)
            (a * 2).sum().backward()
        assert a.grad.tolist() == [2.0, 2.0, 2.0]


# ---- custom Function --------------------------------------------------------------------------
def _functions(lib):
    class Sq(lib.autograd.Function):
        @staticmethod
        def forward(ctx, a):
            ctx.save_for_backward(a)
            return a * a

        @staticmethod
        def backward(ctx, g):
            a, = ctx.saved_tensors
            return 2 * a * g

    class SaveNumber(lib.autograd.Function):
        @staticmethod
        def forward(ctx, a):
            ctx.save_for_backward(a, 3.0)
            return a * 2

        @staticmethod
        def backward(ctx, g):
            return g
    return Sq, SaveNumber


def test_function_checks():
    # save_for_backward's argument check happens when the call is recorded.
    both(lambda lib: _functions(lib)[1].apply(lib.ones(2)))
    both_raise(lambda lib: _functions(lib)[1].apply(leaf(lib)),
               "save_for_backward can only save variables, but argument 1 is of type float")
    both_raise(lambda lib: _functions(lib)[0].apply(leaf(lib), k=1),
               "forward() got an unexpected keyword argument 'k'")
    e_msg, t_msg = both_raise(lambda lib: _functions(lib)[0].apply(leaf(lib)).grad_fn(
        lib.ones(3)), "Backward' object is not callable")
    assert e_msg == t_msg

    def deprecated(lib):
        y = _functions(lib)[0].apply(leaf(lib))
        with pytest.warns(DeprecationWarning, match="'saved_variables' is deprecated; use "
                                                    "'saved_tensors'"):
            return y.grad_fn.saved_variables
    both(deprecated)
