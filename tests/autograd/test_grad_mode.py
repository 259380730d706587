"""Grad modes (no_grad, enable_grad, set_grad_enabled, inference_mode) against torch:
as context managers, as decorators with and without parentheses, on generators, nested."""

from __future__ import annotations

import warnings

import pytest
import torch

import ember
from tests.autograd._compare import raises_like

LIBS = (ember, torch)


def state(lib):
    return (lib.is_grad_enabled(), lib.is_inference_mode_enabled())


def test_no_grad_context(rng):
    for lib in LIBS:
        x = lib.ones(3, requires_grad=True)
        with lib.no_grad():
            assert state(lib) == (False, False)
            y = x * 2
        assert state(lib) == (True, False)
        assert not y.requires_grad and y.grad_fn is None
        assert (x * 2).requires_grad


def test_enable_grad_inside_no_grad():
    for lib in LIBS:
        x = lib.ones(3, requires_grad=True)
        with lib.no_grad():
            with lib.enable_grad():
                y = x * 2
            z = x * 2
        assert y.requires_grad and y.grad_fn is not None
        assert not z.requires_grad


def test_set_grad_enabled_as_call_and_context():
    results = []
    for lib in LIBS:
        out = []
        lib.set_grad_enabled(False)
        out.append(lib.is_grad_enabled())
        lib.set_grad_enabled(True)
        out.append(lib.is_grad_enabled())
        with lib.set_grad_enabled(False):
            out.append(lib.is_grad_enabled())
            with lib.set_grad_enabled(True):
                out.append(lib.is_grad_enabled())
            out.append(lib.is_grad_enabled())
        out.append(lib.is_grad_enabled())
        results.append(out)
    assert results[0] == results[1] == [False, True, False, True, False, True]


def test_set_grad_enabled_argument_type():
    raises_like(lambda: ember.set_grad_enabled("no"), lambda: torch.set_grad_enabled("no"),
                "set_grad_enabled(): argument 'enabled' (position 1) must be bool, not str")


def _decorated(lib):
    """The same functions decorated every way PyTorch allows."""
    @lib.no_grad
    def bare_no_grad():
        return state(lib)

    @lib.no_grad()
    def called_no_grad():
        return state(lib)

    @lib.enable_grad
    def bare_enable():
        return state(lib)

    @lib.enable_grad()
    def called_enable():
        return state(lib)

    @lib.set_grad_enabled(False)
    def set_off():
        return state(lib)

    @lib.inference_mode
    def bare_inference():
        return state(lib)

    @lib.inference_mode()
    def called_inference():
        return state(lib)

    @lib.inference_mode(False)
    def inference_off():
        return state(lib)

    return [bare_no_grad, called_no_grad, bare_enable, called_enable, set_off, bare_inference,
            called_inference, inference_off]


def test_decorators_with_and_without_parentheses():
    outcome = {}
    for lib in LIBS:
        funcs = _decorated(lib)
        assert state(lib) == (True, False)  # decorating does not change the mode
        rows = [f() for f in funcs]
        with lib.no_grad():
            rows += [f() for f in funcs]
        with lib.inference_mode():
            rows += [f() for f in funcs]
        assert state(lib) == (True, False)
        outcome[lib.__name__] = rows
    assert outcome["ember"] == outcome["torch"]


def test_decorator_keeps_the_function_metadata():
    for lib in LIBS:
        @lib.no_grad()
        def documented(a, b=2):
            """Docs."""
            return a + b
        assert documented.__name__ == "documented" and documented.__doc__ == "Docs."
        assert documented(1) == 3


def _generator_steps(lib):
    seen = []

    @lib.no_grad()
    def gen():
        received = yield lib.is_grad_enabled()
        seen.append((received, lib.is_grad_enabled()))
        yield lib.is_grad_enabled()
        return "done"

    g = gen()
    steps = [next(g), lib.is_grad_enabled(), g.send("hello"), lib.is_grad_enabled()]
    with pytest.raises(StopIteration) as stop:
        next(g)
    return steps + [stop.value.value, seen]


def test_decorated_generator_switches_mode_only_inside():
    assert _generator_steps(ember) == _generator_steps(torch) == [
        False, True, False, True, "done", [("hello", False)]]


def _throw_and_close(lib):
    log = []

    @lib.enable_grad()
    def gen():
        try:
            yield 1
        except ValueError:
            log.append(("caught", lib.is_grad_enabled()))
            yield 2
        finally:
            log.append(("closed", lib.is_grad_enabled()))

    with lib.no_grad():
        g = gen()
        next(g)
        second = g.throw(ValueError("x"))
        g.close()
    return second, log


def test_decorated_generator_forwards_throw_and_close():
    assert _throw_and_close(ember) == _throw_and_close(torch)


def test_nesting_all_modes():
    outcome = {}
    for lib in LIBS:
        trace = [state(lib)]
        with lib.no_grad():
            trace.append(state(lib))
            with lib.inference_mode():
                trace.append(state(lib))
                with lib.enable_grad():
                    trace.append(state(lib))
                    with lib.inference_mode(False):
                        trace.append(state(lib))
                    trace.append(state(lib))
                trace.append(state(lib))
            with lib.inference_mode(False):
                trace.append(state(lib))
            with lib.set_grad_enabled(True):
                trace.append(state(lib))
            trace.append(state(lib))
        trace.append(state(lib))
        outcome[lib.__name__] = trace
    assert outcome["ember"] == outcome["torch"]


def test_mode_restored_after_an_exception():
    for lib in LIBS:
        with pytest.raises(KeyError):
            with lib.no_grad():
                raise KeyError("x")
        assert lib.is_grad_enabled()

        @lib.no_grad()
        def fails():
            raise KeyError("y")
        with pytest.raises(KeyError):
            fails()
        assert lib.is_grad_enabled()


def test_inference_mode_records_nothing():
    for lib in LIBS:
        x = lib.ones(2, requires_grad=True)
        with lib.inference_mode():
            y = x * 2
        assert not y.requires_grad and y.grad_fn is None


def _decorate_class(lib):
    class Box:
        def __init__(self):
            self.grad_on = lib.is_grad_enabled()

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        wrapped = lib.no_grad()(Box)
    assert caught and caught[0].category is FutureWarning
    assert "Decorating classes is deprecated" in str(caught[0].message)
    return wrapped().grad_on


def test_decorating_a_class_warns():
    assert _decorate_class(ember) == _decorate_class(torch) is False


def test_grad_mode_does_not_leak_into_backward_of_no_grad_results():
    for lib in LIBS:
        x = lib.ones(2, requires_grad=True)
        with lib.no_grad():
            frozen = x * 3
        loss = (x * frozen).sum()
        loss.backward()
        assert x.grad.tolist() == [3.0, 3.0]
