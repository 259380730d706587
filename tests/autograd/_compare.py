"""Helpers for the autograd tests: make ember/torch twins and compare them."""

from __future__ import annotations

import numpy as np
import torch

import ember


def twins(*arrays, requires_grad: bool = True, dtype=np.float64):
    """For each NumPy array, an (ember, torch) pair of leaf tensors with its values."""
    out = []
    for a in arrays:
        a = np.asarray(a, dtype=dtype)
        e = ember.tensor(a.copy(), requires_grad=requires_grad)
        t = torch.tensor(a.copy(), requires_grad=requires_grad)
        out.append((e, t))
    return out


def assert_close(e, t, *, rtol: float = 1e-6, atol: float = 1e-8) -> None:
    """ember tensor ``e`` has torch tensor ``t``'s shape, dtype and values."""
    assert isinstance(e, ember.Tensor), type(e)
    assert isinstance(t, torch.Tensor), type(t)
    assert tuple(e.shape) == tuple(t.shape), (e.shape, t.shape)
    assert e.dtype.name == str(t.dtype).split(".")[-1], (e.dtype, t.dtype)
    np.testing.assert_allclose(e.detach().numpy(), t.detach().numpy(), rtol=rtol, atol=atol)


def assert_tree_close(e, t, *, check_requires_grad: bool = True, rtol: float = 1e-6,
                      atol: float = 1e-8) -> None:
    """Nested tuples/lists of tensors: the same structure (container types too) and values."""
    if isinstance(t, (tuple, list)):
        assert type(e) is type(t), (type(e), type(t))
        assert len(e) == len(t)
        for a, b in zip(e, t):
            assert_tree_close(a, b, check_requires_grad=check_requires_grad, rtol=rtol,
                              atol=atol)
        return
    assert_close(e, t, rtol=rtol, atol=atol)
    if check_requires_grad:
        assert e.requires_grad == t.requires_grad, (e.requires_grad, t.requires_grad)


def raises_like(fn_e, fn_t, *phrases):
    """Both calls raise the same exception type; ember's message has torch's key phrases
    (with ``torch.`` read as ``ember.``). Returns the two messages."""
    try:
        fn_t()
    except Exception as et:  # noqa: BLE001 - the oracle's type is what we compare
        t_exc = et
    else:
        raise AssertionError("torch did not raise")
    try:
        fn_e()
    except Exception as ee:  # noqa: BLE001
        e_exc = ee
    else:
        raise AssertionError(f"ember did not raise (torch raised {t_exc!r})")
    assert type(e_exc) is type(t_exc), (type(e_exc), type(t_exc), str(e_exc))
    e_msg, t_msg = str(e_exc), str(t_exc).replace("torch.", "ember.")
    for phrase in phrases:
        phrase = phrase.replace("torch.", "ember.")
        assert phrase in t_msg, f"phrase {phrase!r} not in torch's message {t_msg!r}"
        assert phrase in e_msg, f"phrase {phrase!r} not in ember's message {e_msg!r}"
    return e_msg, t_msg


def graph_signature(fn, memo=None):
    """A nested description of a graph: node names, leaf shapes, edge output numbers."""
    if fn is None:
        return None
    name = fn.name().replace("torch::", "ember::")
    if name.endswith("AccumulateGrad"):
        return ("AccumulateGrad", tuple(fn.variable.shape))
    return (name, tuple((graph_signature(child), nr) for child, nr in fn.next_functions))
