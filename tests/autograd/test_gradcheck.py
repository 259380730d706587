"""``ember.autograd.gradcheck`` / ``gradgradcheck`` against ``torch.autograd``'s: the same
verdicts and messages for right and deliberately wrong derivatives."""

from __future__ import annotations

import warnings

import numpy as np
import pytest
import torch
from torch.autograd.gradcheck import GradcheckError as TorchGradcheckError

import ember
from ember.autograd import gradcheck, gradgradcheck
from ember.autograd.gradcheck import GradcheckError
from ember.ops._apply import apply, unary
from ember.ops.registry import Bound, defop

VALUES = [[0.5, -1.25, 2.0], [1.5, 0.75, -0.5]]


def pair(values=VALUES, dtype="float64", requires_grad=True):
    """The same tensor in ember and torch."""
    arr = np.array(values, dtype=dtype)
    return (ember.tensor(arr, requires_grad=requires_grad),
            torch.tensor(arr, requires_grad=requires_grad))


def torch_message(fn) -> str:
    with pytest.raises(TorchGradcheckError) as err:
        fn()
    return str(err.value).replace("torch.", "ember.")


# ---- deliberately wrong derivatives, in ember (defop) and torch (Function) -----------------
WRONG_SQUARE = defop("wrong_square", forward=np.square,
                     derivatives={"self": lambda grad, self: grad * self})  # misses the 2


class TorchWrongSquare(torch.autograd.Function):
    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return x * x

    @staticmethod
    def backward(ctx, grad):
        (x,) = ctx.saved_tensors
        return grad * x


def _detached_double(grad, self):
    # right first derivative, but built outside the graph: its own derivative is lost
    return grad * Bound.new(2 * self._data)


DETACHED_SQUARE = defop("detached_square", forward=np.square,
                        derivatives={"self": _detached_double})


class TorchDetachedSquare(torch.autograd.Function):
    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return x * x

    @staticmethod
    def backward(ctx, grad):
        (x,) = ctx.saved_tensors
        return grad * (2 * x.detach())


def test_gradcheck_is_the_function_and_error_a_runtime_error():
    import ember.autograd.gradcheck as module  # noqa: F401  (the module stays importable)

    assert callable(ember.autograd.gradcheck) and ember.autograd.gradcheck is gradcheck
    assert ember.autograd.gradgradcheck is gradgradcheck
    assert issubclass(GradcheckError, RuntimeError)
    assert callable(torch.autograd.gradcheck)


@pytest.mark.parametrize("fn", [
    lambda m, x: (x * x).sin(),
    lambda m, x: x.exp().sum(1),
    lambda m, x: m.matmul(x, x.t()),
    lambda m, x: x.max(1),  # (values, indices): the indices are not differentiable
    lambda m, x: (x.tanh(), x.sigmoid() * 2),
    lambda m, x: x[0] / (x[1] + 3),
])
def test_right_derivatives_pass_like_torch(fn):
    e, t = pair()
    assert torch.autograd.gradcheck(lambda x: fn(torch, x), (t,))
    assert gradcheck(lambda x: fn(ember, x), (e,))
    assert gradcheck(lambda x: fn(ember, x), (e,), fast_mode=True)
    assert torch.autograd.gradgradcheck(lambda x: fn(torch, x), (t,))
    assert gradgradcheck(lambda x: fn(ember, x), (e,))
    assert gradgradcheck(lambda x: fn(ember, x), (e,), gen_non_contig_grad_outputs=True)


def test_inputs_that_are_not_tensors_or_do_not_require_grad():
    x, _ = pair()
    y, _ = pair([[1.0, 2.0, 3.0]], requires_grad=False)
    assert gradcheck(lambda a, b, k: a * b * k, (x, y, 3.0))
    assert gradcheck(lambda a: a * y, x)  # a single tensor instead of a tuple
    # the input is perturbed in place, so a function that closes over it also works
    assert gradcheck(lambda a: x.sin() + 0 * a, (x,))


def test_input_values_are_restored():
    x, _ = pair()
    before = x.detach().numpy().copy()
    gradcheck(lambda a: a.exp(), (x,))
    np.testing.assert_array_equal(x.detach().numpy(), before)


def test_wrong_derivative_raises_torchs_message():
    x, t = pair([1.0, 2.0, 3.0])
    expected = torch_message(lambda: torch.autograd.gradcheck(TorchWrongSquare.apply, (t,)))
    with pytest.raises(GradcheckError) as err:
        gradcheck(lambda a: unary(WRONG_SQUARE, a), (x,))
    assert str(err.value) == expected
    assert str(err.value).startswith("Jacobian mismatch for output 0 with respect to input 0,"
                                     "\nnumerical:")
    assert "\nanalytical:" in str(err.value)


def test_wrong_derivative_of_the_second_input_and_output():
    x, _ = pair()

    def f(a, b):
        return a * b, unary(WRONG_SQUARE, b)

    with pytest.raises(GradcheckError, match="for output 1 with respect to input 1,"):
        gradcheck(f, (x, x.detach().clone().requires_grad_()))


def test_wrong_derivative_fast_mode():
    x, t = pair([1.0, 2.0, 3.0])
    expected = torch_message(
        lambda: torch.autograd.gradcheck(TorchWrongSquare.apply, (t,), fast_mode=True))
    with pytest.raises(GradcheckError) as err:
        gradcheck(lambda a: unary(WRONG_SQUARE, a), (x,), fast_mode=True)
    msg = str(err.value)
    # v^T J u differ (each library draws its own random u, v); the slow-mode part is equal
    assert msg.startswith("Jacobian mismatch for output 0 with respect to input 0,\nnumerical:")
    slow = "\nThe above quantities relating the numerical and analytical jacobians"
    assert msg[msg.index(slow):] == expected[expected.index(slow):]


def test_raise_exception_false_returns_false():
    x, t = pair()
    assert torch.autograd.gradcheck(TorchWrongSquare.apply, (t,), raise_exception=False) is False
    assert gradcheck(lambda a: unary(WRONG_SQUARE, a), (x,), raise_exception=False) is False
    assert gradgradcheck(lambda a: unary(DETACHED_SQUARE, a), (x,),
                         raise_exception=False) is False


def test_gradgradcheck_catches_a_wrong_second_derivative():
    x, t = pair()
    assert torch.autograd.gradcheck(TorchDetachedSquare.apply, (t,))
    assert gradcheck(lambda a: unary(DETACHED_SQUARE, a), (x,))
    torch.autograd.gradgradcheck(TorchDetachedSquare.apply, (t,), raise_exception=False)
    with pytest.raises(GradcheckError, match="Jacobian mismatch for output 0 with respect to "
                                             "input 0"):
        gradgradcheck(lambda a: unary(DETACHED_SQUARE, a), (x,))


def test_gradgradcheck_with_given_grad_outputs():
    x, t = pair()
    ge, gt = pair([[1.0, -2.0, 0.5], [0.25, 3.0, -1.0]])
    assert torch.autograd.gradgradcheck(lambda a: a.pow(3), (t,), (gt,))
    assert gradgradcheck(lambda a: a.pow(3), (x,), (ge,))
    assert gradgradcheck(lambda a: a.pow(3), (x,), ge)


def test_float32_input_warns_like_torch():
    x, t = pair(dtype="float32")
    with pytest.warns(UserWarning) as torch_warns:
        torch.autograd.gradcheck(lambda a: a * 2, (t,), eps=1e-3, atol=1e-2)
    with pytest.warns(UserWarning) as ember_warns:
        assert gradcheck(lambda a: a * 2, (x,), eps=1e-3, atol=1e-2)
    expected = [str(w.message) for w in torch_warns if "double precision" in str(w.message)]
    got = [str(w.message) for w in ember_warns if "double precision" in str(w.message)]
    assert got == expected == ["Input #0 requires gradient and is not a double precision "
                               "floating point or complex. This check will likely fail if all "
                               "the inputs are not of double precision floating point or "
                               "complex. "]


def test_float32_precision_fails_where_torch_fails():
    x, t = pair(dtype="float32")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        assert torch.autograd.gradcheck(lambda a: a.tanh(), (t,), raise_exception=False) is False
        with pytest.raises(GradcheckError, match="Jacobian mismatch"):
            gradcheck(lambda a: a.tanh(), (x,))


def test_no_input_requires_grad():
    x, t = pair(requires_grad=False)
    with pytest.raises(ValueError) as torch_err:
        torch.autograd.gradcheck(lambda a: a * 2, (t,))
    with pytest.raises(ValueError) as ember_err:
        gradcheck(lambda a: a * 2, (x,))
    assert str(ember_err.value) == str(torch_err.value)


def test_input_with_stride_zero():
    x, t = pair([1.0, 2.0])
    with pytest.raises(RuntimeError) as torch_err:
        torch.autograd.gradcheck(lambda a: a * 2, (t.detach().expand(3, 2).requires_grad_(),))
    with pytest.raises(RuntimeError) as ember_err:
        gradcheck(lambda a: a * 2, (x.detach().expand(3, 2).requires_grad_(),))
    assert str(ember_err.value) == str(torch_err.value)
    assert "has a dimension with stride 0" in str(ember_err.value)


def test_outputs_without_gradient():
    x, t = pair()
    assert torch.autograd.gradcheck(lambda a: a.argmax(), (t,))
    assert gradcheck(lambda a: a.argmax(), (x,))
    # an output that changes with the input but is cut from the graph
    torch_msg = torch_message(lambda: torch.autograd.gradcheck(lambda a: a.detach() * 2, (t,)))
    with pytest.raises(GradcheckError) as err:
        gradcheck(lambda a: a.detach() * 2, (x,))
    assert str(err.value) == torch_msg == "Numerical gradient for function expected to be zero"


def test_backward_not_reentrant():
    rng = np.random.default_rng(0)
    noisy = defop("noisy_double", forward=lambda x: 2 * x, derivatives={
        "self": lambda grad: grad * (2 + Bound.new(rng.uniform(-1e-9, 1e-9, grad.shape)))})
    x, _ = pair()
    with pytest.raises(GradcheckError, match="Backward is not reentrant, i.e., running backward "
                                             "with same input and grad_output multiple times "
                                             "gives different values"):
        gradcheck(lambda a: unary(noisy, a), (x,))
    assert gradcheck(lambda a: unary(noisy, a), (x,), nondet_tol=1e-6)


def test_backward_not_multiplied_by_grad_output():
    # with one output element the one-hot grad_output is 1, so the Jacobian looks right
    ignoring = defop("ignores_grad", forward=lambda x: 2 * x,
                     derivatives={"self": lambda grad: grad * 0 + 2})
    x, _ = pair([1.5])
    with pytest.raises(GradcheckError, match="^backward not multiplied by grad_output$"):
        gradcheck(lambda a: unary(ignoring, a), (x,))


def _two_outputs(formula):
    op = defop("split_double", forward=lambda x: (2 * x, 3 * x), outputs=2,
               derivatives={"self": formula})
    return lambda a: apply(op, (a,))


def test_undefined_output_gradients():
    # Each output's Jacobian is taken with the other output's gradient undefined (None), so
    # a formula that breaks on None alone fails there; these break only when the defined
    # gradient is zero as well, which is what the undefined-gradient check tries.
    def careful(grad):
        g0, g1 = grad
        return (0 if g0 is None else g0 * 2) + (0 if g1 is None else g1 * 3)

    def raises(grad):
        present = [g for g in grad if g is not None]
        if len(present) < 2 and not any(bool(g.abs().sum()) for g in present):
            raise RuntimeError("cannot handle an undefined gradient")
        return careful(grad)

    def invents(grad):
        present = [g for g in grad if g is not None]
        if len(present) < 2 and not any(bool(g.abs().sum()) for g in present):
            return present[0] + 1
        return careful(grad)

    x, _ = pair()
    assert gradcheck(_two_outputs(careful), (x,))
    assert gradcheck(_two_outputs(raises), (x,), check_undefined_grad=False)
    with pytest.warns(UserWarning, match="check_undefined_grad=False"):
        with pytest.raises(GradcheckError, match="^Expected backward function to handle "
                                                 "undefined output grads"):
            gradcheck(_two_outputs(raises), (x,))
    with pytest.warns(UserWarning, match="check_undefined_grad=False"):
        with pytest.raises(GradcheckError, match="^Expected all input grads to be undefined or "
                                                 "zero when all output grads are undefined"):
            gradcheck(_two_outputs(invents), (x,))


def test_check_batched_grad():
    x, t = pair()
    assert torch.autograd.gradcheck(lambda a: (a * a).sin().sum(0), (t,), check_batched_grad=True)
    assert gradcheck(lambda a: (a * a).sin().sum(0), (x,), check_batched_grad=True)
    assert gradcheck(lambda a: ember.matmul(a, a.t()), (x,), check_batched_grad=True)


@pytest.mark.parametrize("fast_mode", [False, True])
def test_check_forward_ad(fast_mode):
    x, t = pair()
    w, tw = pair()

    def f(m):
        return lambda a, b: ((a * b).sin().sum(0), m.matmul(a, b.t()).exp())
    for m, args in ((torch, (t, tw)), (ember, (x, w))):
        assert m.autograd.gradcheck(f(m), args, check_forward_ad=True, check_backward_ad=False,
                                    fast_mode=fast_mode)
        assert m.autograd.gradcheck(f(m), args, check_forward_ad=True, fast_mode=fast_mode)


@pytest.mark.parametrize("fast_mode", [False, True])
def test_check_forward_ad_catches_a_wrong_jvp(fast_mode):
    def wrong(m):
        class Square(m.autograd.Function):
            @staticmethod
            def forward(ctx, a):
                ctx.save_for_forward(a)
                return a * a

            @staticmethod
            def jvp(ctx, a_t):
                (a,) = ctx.saved_tensors
                return 3 * a * a_t  # should be 2 a a_t
        return Square.apply
    x, t = pair()
    messages = []
    for m, a in ((torch, t), (ember, x)):
        with pytest.raises(TorchGradcheckError if m is torch else GradcheckError) as err:
            m.autograd.gradcheck(wrong(m), (a,), check_forward_ad=True,
                                 check_backward_ad=False, fast_mode=fast_mode)
        messages.append(str(err.value).split(",")[0])
    assert messages[0] == messages[1] == \
        "Jacobian computed with forward mode mismatch for output 0 with respect to input 0"


@pytest.mark.parametrize("kwargs, phrase", [
    (dict(check_forward_ad=False, check_backward_ad=False),
     "Expected at least one of check_forward_ad or check_backward_ad to be True"),
    (dict(check_batched_grad=True, check_backward_ad=False, check_forward_ad=True),
     "Setting check_batched_grad=True requires check_backward_ad to be True"),
    (dict(check_batched_forward_grad=True),
     "Setting check_batched_forward_grad=True requires check_forward_ad to be True")])
def test_check_flags_errors_match_torch(kwargs, phrase):
    x, t = pair()
    for m, a in ((torch, t), (ember, x)):
        with pytest.raises(AssertionError, match=phrase):
            m.autograd.gradcheck(lambda v: v * 2, (a,), **kwargs)


def test_batched_forward_grad_needs_vmap():
    x, _ = pair()
    with pytest.raises(NotImplementedError, match="vmap"):
        gradcheck(lambda a: a * 2, (x,), check_forward_ad=True, check_batched_forward_grad=True)
