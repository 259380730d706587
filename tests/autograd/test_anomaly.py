"""Anomaly detection: NaNs in backward (against torch) and ember's ``check_forward``."""

from __future__ import annotations

import inspect
import warnings

import numpy as np
import pytest
import torch

import ember
from tests.autograd._compare import raises_like


def _line_of(marker: str) -> int:
    """The line number in this file of the source line that contains ``marker``."""
    lines = inspect.getsource(inspect.getmodule(_line_of)).splitlines()
    return next(i for i, text in enumerate(lines, 1) if marker in text and "_line_of" not in text)


def _nan_in_backward(lib):
    x = lib.tensor([0.0, 1.0], requires_grad=True)
    y = x.sqrt()  # FORWARD-SQRT
    return (y * 0).sum()  # d sqrt at 0 is inf; inf * 0 is nan


def test_detect_anomaly_warns_when_enabled():
    for lib in (ember, torch):
        with pytest.warns(UserWarning, match="Anomaly Detection has been enabled"):
            with lib.autograd.detect_anomaly():
                pass


def test_nan_in_backward_raises_naming_the_node_and_the_forward_call():
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        with ember.autograd.detect_anomaly():
            loss_e = _nan_in_backward(ember)
            e_fn = loss_e.backward
            with torch.autograd.detect_anomaly():
                loss_t = _nan_in_backward(torch)
                e_msg, _ = raises_like(e_fn, loss_t.backward,
                                       "Function 'SqrtBackward0' returned nan values in its 0th "
                                       "output.")
    # The message and the warning both carry the traceback of the forward call.
    line = _line_of("FORWARD-SQRT")
    assert "Error detected in SqrtBackward0. Traceback of forward call that caused the " \
           "error:" in e_msg
    assert f'{__file__}", line {line}, in _nan_in_backward' in e_msg
    assert "y = x.sqrt()" in e_msg
    ember_warnings = [str(w.message) for w in caught if "Error detected in" in str(w.message)
                      and f"line {line}" in str(w.message)]
    assert len(ember_warnings) >= 2  # one from torch, one from ember


def test_without_anomaly_mode_nan_propagates():
    for lib in (ember, torch):
        x = lib.tensor([0.0, 1.0], requires_grad=True)
        with np.errstate(all="ignore"):
            (x.sqrt() * 0).sum().backward()
        assert np.isnan(x.grad.numpy()[0])


def test_set_detect_anomaly_as_call_and_context():
    for lib in (ember, torch):
        lib.autograd.set_detect_anomaly(True)
        assert lib.is_anomaly_enabled()
        lib.autograd.set_detect_anomaly(False)
        assert not lib.is_anomaly_enabled()
        with lib.autograd.set_detect_anomaly(True):
            assert lib.is_anomaly_enabled()
        assert not lib.is_anomaly_enabled()
    with ember.autograd.set_detect_anomaly(True), np.errstate(all="ignore"):
        with pytest.warns(UserWarning, match="Error detected in SqrtBackward0"):
            with pytest.raises(RuntimeError, match="returned nan values in its 0th output"):
                _nan_in_backward(ember).backward()


def test_check_nan_false_records_but_does_not_raise():
    for lib in (ember, torch):
        with lib.autograd.set_detect_anomaly(True, check_nan=False):
            assert lib.is_anomaly_enabled() and not lib.is_anomaly_check_nan_enabled()
            with np.errstate(all="ignore"):
                _nan_in_backward(lib).backward()


def test_nan_from_a_node_made_by_a_backward_pass_names_its_parent():
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        with ember.autograd.detect_anomaly(), np.errstate(all="ignore"):
            x = ember.tensor([0.0, 1.0], requires_grad=True)
            y = x.sqrt()  # PARENT-FORWARD
            (g,) = ember.autograd.grad(y.sum(), x, create_graph=True)
            with pytest.raises(RuntimeError) as info:
                (g * 0).sum().backward()
    msg = str(info.value)
    assert "returned nan values" in msg
    assert "Previous calculation was induced by SqrtBackward0. Traceback of forward call " \
           "that induced the previous calculation:" in msg
    assert f"line {_line_of('PARENT-FORWARD')}" in msg


def test_version_error_hint_in_anomaly_mode():
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        with ember.autograd.detect_anomaly():
            ae = ember.ones(3, requires_grad=True)
            ce = ae * 2
            se = ce.sin()
            ce.add_(1)
            with torch.autograd.detect_anomaly():
                at = torch.ones(3, requires_grad=True)
                ct = at * 2
                st = ct.sin()
                ct.add_(1)
                raises_like(lambda: se.sum().backward(), lambda: st.sum().backward(),
                            "Hint: the backtrace further above shows the operation that failed "
                            "to compute its gradient. The variable in question was changed in "
                            "there or anywhere later. Good luck!")


def test_errors_in_backward_warn_with_the_forward_trace():
    with pytest.warns(UserWarning, match="Anomaly Detection has been enabled"):
        mode = ember.autograd.detect_anomaly()
    with mode:
        ae = ember.ones(3, requires_grad=True)
        ce = ae * 2
        se = ce.sin()  # SIN-FORWARD
        ce.add_(1)
        with pytest.warns(UserWarning, match="Error detected in SinBackward0") as record:
            with pytest.raises(RuntimeError, match="modified by an inplace operation"):
                se.sum().backward()
    assert any(f"line {_line_of('SIN-FORWARD')}" in str(w.message) for w in record)


# ---- check_forward (ember only: PyTorch has no forward check) -------------------------------
def _forward_error(fn):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        with ember.autograd.detect_anomaly(check_forward=True), np.errstate(all="ignore"):
            with pytest.raises(RuntimeError) as info:
                fn()
    return str(info.value)


def test_check_forward_binary_op():
    a = ember.tensor([1.0, 0.0, 2.0])
    b = ember.zeros(3)
    msg = _forward_error(lambda: a / b)  # BINARY-CALL
    assert msg.startswith("Function 'DivBackward0' produced nan values in its forward output")
    assert "(op 'div', inputs: [3], [3])" in msg
    assert f'{__file__}", line {_line_of("BINARY-CALL")}' in msg
    assert "a / b" in msg


def test_check_forward_unary_op():
    x = ember.tensor([[1.0, -1.0]], requires_grad=True)
    msg = _forward_error(lambda: x.log())  # UNARY-CALL
    assert "Function 'LogBackward0' produced nan values" in msg
    assert "(op 'log', inputs: [1, 2])" in msg
    assert f"line {_line_of('UNARY-CALL')}" in msg


def test_check_forward_inf_and_scalar_operands():
    x = ember.tensor([1000.0], dtype=ember.float32)
    msg = _forward_error(lambda: x.exp())
    assert "produced inf values" in msg and "(op 'exp', inputs: [1])" in msg
    msg = _forward_error(lambda: x * 1e38)  # SCALAR-CALL
    assert "(op 'mul', inputs: [1], 1e+38)" in msg
    assert f"line {_line_of('SCALAR-CALL')}" in msg
    msg = _forward_error(lambda: 2.0 ** x)
    assert "produced inf values" in msg


def test_check_forward_apply_path():
    a = ember.full((2, 2), 1e200, dtype=ember.float64)
    msg = _forward_error(lambda: a.mm(a))  # APPLY-CALL
    assert "Function 'MmBackward0' produced inf values" in msg
    assert "(op 'mm', inputs: [2, 2], [2, 2])" in msg
    assert f"line {_line_of('APPLY-CALL')}" in msg


def test_check_forward_in_place_and_custom_function():
    t = ember.ones(2)
    msg = _forward_error(lambda: t.div_(0))
    assert "produced inf values" in msg

    class Blowup(ember.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            return ember.from_numpy(x.detach().numpy() / 0)  # outside ember's ops

        @staticmethod
        def backward(ctx, g):
            return g

    msg = _forward_error(lambda: Blowup.apply(ember.ones(3, requires_grad=True)))
    assert msg.startswith("Function 'BlowupBackward' produced inf values")
    assert "(op 'Blowup', inputs: [3])" in msg


def test_check_forward_is_off_by_default():
    with np.errstate(all="ignore"):
        out = ember.tensor([1.0]) / 0
    assert np.isinf(out.numpy()).all()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        with ember.autograd.detect_anomaly(), np.errstate(all="ignore"):
            out = ember.tensor([1.0]) / 0  # PyTorch's anomaly mode checks backward only
    assert np.isinf(out.numpy()).all()
