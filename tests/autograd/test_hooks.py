"""Tensor hooks, node hooks, retain_grad, detach and requires_grad_ against torch."""

from __future__ import annotations

import numpy as np
import pytest
import torch

import ember
from tests.autograd._compare import assert_close, raises_like, twins

LIBS = (ember, torch)


def test_hook_on_a_leaf_modifies_what_is_accumulated(rng):
    (xe, xt), = twins(rng.standard_normal(3))
    seen = {}
    for key, x in (("e", xe), ("t", xt)):
        seen[key] = []
        x.register_hook(lambda g, k=key: seen[k].append(g * 1) or g * 2)
        (x * x).sum().backward()
    assert_close(seen["e"][0], seen["t"][0])
    assert_close(xe.grad, xt.grad)


def test_hook_on_a_non_leaf_changes_the_gradient_below(rng):
    (xe, xt), = twins(rng.standard_normal(3))
    for x in (xe, xt):
        y = x.exp()
        y.register_hook(lambda g: g * 10)
        (y * y).sum().backward()
    assert_close(xe.grad, xt.grad)


def test_hooks_run_in_order_and_none_keeps_the_gradient(rng):
    (xe, xt), = twins(rng.standard_normal(3))
    logs = {}
    for key, x in (("e", xe), ("t", xt)):
        log = logs[key] = []
        y = x * 1
        y.register_hook(lambda g, log=log: log.append(("first", g.tolist())))
        y.register_hook(lambda g, log=log: log.append("second") or g + 1)
        y.register_hook(lambda g, log=log: log.append(("third", g.tolist())))
        (y * 2).sum().backward()
    assert logs["e"] == logs["t"]
    assert_close(xe.grad, xt.grad)


def test_removing_a_hook_through_its_handle(rng):
    (xe, xt), = twins(rng.standard_normal(3))
    for x in (xe, xt):
        handle = x.register_hook(lambda g: g * 100)
        handle.remove()
        y = x * 1
        h2 = y.register_hook(lambda g: g * 100)
        h2.remove()
        (y * 3).sum().backward()
    assert_close(xe.grad, xt.grad)


def test_handle_as_a_context_manager(rng):
    (xe, xt), = twins(rng.standard_normal(3))
    for x in (xe, xt):
        with x.register_hook(lambda g: g * 5):
            (x * 2).sum().backward()
        (x * 2).sum().backward()  # the hook is gone
    assert_close(xe.grad, xt.grad)


def test_hook_sees_the_total_gradient_of_a_tensor_used_twice(rng):
    (xe, xt), = twins(rng.standard_normal(3))
    calls = {"e": [], "t": []}
    for key, x in (("e", xe), ("t", xt)):
        y = x * 2
        y.register_hook(lambda g, k=key: calls[k].append(g * 1))
        (y * y + y.sin()).sum().backward()
    assert len(calls["e"]) == len(calls["t"]) == 1
    assert_close(calls["e"][0], calls["t"][0])


def test_register_hook_needs_requires_grad():
    raises_like(lambda: ember.ones(2).register_hook(lambda g: g),
                lambda: torch.ones(2).register_hook(lambda g: g),
                "cannot register a hook on a tensor that doesn't require gradient")


def test_retain_grad(rng):
    (xe, xt), = twins(rng.standard_normal(3))
    out = {}
    for key, x in (("e", xe), ("t", xt)):
        y = x * 2
        y.retain_grad()
        z = y.exp()
        z.retain_grad()
        w = y * 3  # not retained
        (z * w).sum().backward()
        out[key] = (y, z, w)
        assert y.retains_grad and z.retains_grad and not w.retains_grad
        assert not x.retains_grad  # a leaf keeps its grad anyway
        x.retain_grad()  # a no-op on a leaf
    for e, t in zip(out["e"][:2], out["t"][:2]):
        assert_close(e.grad, t.grad)
    with pytest.warns(UserWarning, match="The .grad attribute of a Tensor that is not a leaf"):
        assert out["e"][2].grad is None
    raises_like(lambda: ember.ones(2).retain_grad(), lambda: torch.ones(2).retain_grad(),
                "can't retain_grad on Tensor that has requires_grad=False")


def test_retained_grad_is_taken_after_the_tensor_hooks(rng):
    (xe, xt), = twins(rng.standard_normal(2))
    for order in ("hook_first", "retain_first"):
        res = {}
        for key, x in (("e", xe), ("t", xt)):
            y = x * 2
            if order == "retain_first":
                y.retain_grad()
            y.register_hook(lambda g: g * 10)
            if order == "hook_first":
                y.retain_grad()
            (y * y).sum().backward()
            res[key] = y.grad
        assert_close(res["e"], res["t"])
    assert_close(xe.grad, xt.grad)


def test_retain_grad_accumulates_over_backward_calls(rng):
    (xe, xt), = twins(rng.standard_normal(2))
    res = {}
    for key, x in (("e", xe), ("t", xt)):
        y = x * 2
        y.retain_grad()
        z = (y * y).sum()
        z.backward(retain_graph=True)
        z.backward()
        res[key] = y.grad
    assert_close(res["e"], res["t"])


def test_node_hooks(rng):
    (xe, xt), = twins(rng.standard_normal(3))
    logs = {}
    for key, x in (("e", xe), ("t", xt)):
        log = logs[key] = []
        y = x.exp()
        node = y.grad_fn
        pre = node.register_prehook(lambda go, log=log: log.append(("pre", go[0].tolist()))
                                    or (go[0] * 2,))
        node.register_hook(lambda gi, go, log=log: log.append(
            ("post", [g.tolist() for g in gi], [g.tolist() for g in go])))
        y.sum().backward(retain_graph=True)
        pre.remove()
        y.sum().backward()
    # The same calls in the same order, with the same values up to the last bit of exp.
    assert [entry[0] for entry in logs["e"]] == [entry[0] for entry in logs["t"]]
    for e_entry, t_entry in zip(logs["e"], logs["t"]):
        np.testing.assert_allclose(np.array(e_entry[1:], dtype=float),
                                   np.array(t_entry[1:], dtype=float), rtol=1e-14)
    assert_close(xe.grad, xt.grad)


def test_node_post_hook_can_replace_grad_inputs(rng):
    (xe, xt), (we, wt) = twins(rng.standard_normal(3), rng.standard_normal(3))
    for x, w in ((xe, we), (xt, wt)):
        y = x * w
        y.grad_fn.register_hook(lambda gi, go: (gi[0] * 0, gi[1] * 3))
        y.sum().backward()
    assert_close(xe.grad, xt.grad)
    assert_close(we.grad, wt.grad)


def test_hooks_see_differentiable_gradients_with_create_graph(rng):
    (xe, xt), = twins(rng.standard_normal(3))
    flags = {}
    for key, lib, x in (("e", ember, xe), ("t", torch, xt)):
        y = x ** 3
        y.register_hook(lambda g, k=key: flags.setdefault(k, g.requires_grad) and None)
        (gx,) = lib.autograd.grad((y * x).sum(), x, create_graph=True)
        flags[key + "_result"] = gx.requires_grad
    assert flags["e"] == flags["t"]
    assert flags["e_result"] == flags["t_result"] is True


def test_detach_shares_storage_and_version(rng):
    (xe, xt), = twins(rng.standard_normal(3))
    for x in (xe, xt):
        d = x.detach()
        assert not d.requires_grad and d.grad_fn is None and d.is_leaf
        d.add_(1)
        assert x._version == 1
    assert_close(xe, xt)
    assert np.shares_memory(xe.detach().numpy(), xe.detach().numpy())
    # A change through a detached alias invalidates what the graph saved.
    ye, yt = xe * 1, xt * 1
    se, st = ye.sin(), yt.sin()
    ye.detach().mul_(2)
    yt.detach().mul_(2)
    raises_like(lambda: se.sum().backward(), lambda: st.sum().backward(),
                "has been modified by an inplace operation")


def test_detach_in_place(rng):
    (xe, xt), = twins(rng.standard_normal(3))
    for x in (xe, xt):
        y = x * 2
        assert y.detach_() is y
        assert y.is_leaf and not y.requires_grad and y.grad_fn is None
    raises_like(lambda: (xe * 2)[0:2].detach_(), lambda: (xt * 2)[0:2].detach_(),
                "Can't detach views in-place. Use detach() instead.")


def test_requires_grad_(rng):
    for lib in LIBS:
        x = lib.ones(2)
        assert x.requires_grad_() is x and x.requires_grad
        x.requires_grad_(False)
        assert not x.requires_grad
        x.requires_grad = True
        assert x.requires_grad
    raises_like(lambda: (ember.ones(2, requires_grad=True) * 2).requires_grad_(False),
                lambda: (torch.ones(2, requires_grad=True) * 2).requires_grad_(False),
                "you can only change requires_grad flags of leaf variables.")
    raises_like(lambda: ember.tensor([1, 2]).requires_grad_(),
                lambda: torch.tensor([1, 2]).requires_grad_(),
                "only Tensors of floating point")
