"""The ``Optimizer`` base and ``SGD`` against torch: state-dict hooks, pickling, tensor
hyper-parameters, errors, and long SGD trajectories over every option."""

from __future__ import annotations

import copy
import pickle

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

import ember
from tests._surface_helpers import same_error


def _params(lib, shapes, dtype="float64"):
    rng = np.random.default_rng(0)
    return [lib.tensor(rng.standard_normal(s), dtype=getattr(lib, dtype), requires_grad=True)
            for s in shapes]


# ---- state-dict hooks ------------------------------------------------------------------------
def _hook_log(lib):
    log = []
    w, v = _params(lib, [(2,), (3,)])
    opt = lib.optim.SGD([w, v], lr=0.1, momentum=0.9)
    (w.sum() + (v * v).sum()).backward()
    opt.step()

    def pre(o, name):
        log.append(("pre", name, o is opt))

    def post(o, sd):
        log.append(("post", sorted(sd), sorted(sd["state"])))
        sd = dict(sd)
        sd["extra"] = 1
        return sd

    def load_pre(o, sd):
        log.append(("load_pre", sorted(sd), sd["param_groups"][0]["lr"]))
        sd["param_groups"][0]["lr"] = 0.25  # a shallow copy: the group dict is the caller's
        return None

    def load_pre_replace(o, sd):
        sd = copy.deepcopy(sd)
        sd["param_groups"][0]["momentum"] = 0.5
        return sd

    def load_post(o):
        log.append(("load_post", o.param_groups[0]["lr"], o.param_groups[0]["momentum"]))

    h1 = opt.register_state_dict_pre_hook(lambda o: pre(o, "first"))
    opt.register_state_dict_pre_hook(lambda o: pre(o, "prepended"), prepend=True)
    opt.register_state_dict_post_hook(post)
    sd = opt.state_dict()
    log.append(("result", sorted(sd)))
    h1.remove()
    opt.state_dict()
    opt.register_load_state_dict_pre_hook(load_pre)
    opt.register_load_state_dict_pre_hook(load_pre_replace)
    opt.register_load_state_dict_post_hook(load_post)
    opt.load_state_dict(sd)
    log.append(("loaded", sd["param_groups"][0]["lr"], opt.param_groups[0]["momentum"]))
    return log


def test_state_dict_and_load_state_dict_hooks_match_torch():
    assert _hook_log(ember) == _hook_log(torch)


def test_pickled_and_copied_optimizers_keep_working_like_torch():
    results = []
    for lib in (ember, torch):
        w = _params(lib, [(3,)])[0]
        opt = lib.optim.SGD([w], lr=0.1, momentum=0.9, nesterov=True)
        opt.register_state_dict_pre_hook(lambda o: None)
        w.sum().backward()
        opt.step()
        state = opt.__getstate__()
        assert sorted(state) == ["defaults", "param_groups", "state"]
        clone = copy.deepcopy(opt)
        del clone.defaults["differentiable"]
        clone.__setstate__(clone.__getstate__())  # old pickles lack it; it is filled in
        sd = clone.state_dict()
        loaded = pickle.loads(pickle.dumps(opt))
        results.append((clone.defaults["differentiable"], len(clone._optimizer_state_dict_pre_hooks),
                        sd["param_groups"], sorted(loaded.state_dict()["state"])))
    assert results[0] == results[1]


# ---- tensor hyper-parameters --------------------------------------------------------------------
def test_tensor_weight_decay_matches_torch():
    results = []
    for lib in (ember, torch):
        w = _params(lib, [(4,)])[0]
        opt = lib.optim.SGD([w], lr=lib.tensor(0.05), weight_decay=lib.tensor(0.3),
                            momentum=0.8)
        for _ in range(5):
            opt.zero_grad()
            (w ** 2).sum().backward()
            opt.step()
        results.append(w.detach().numpy().copy())
    np.testing.assert_allclose(results[0], results[1], rtol=1e-12)


@pytest.mark.filterwarnings("ignore:Using backward\\(\\) with create_graph=True")
@pytest.mark.parametrize("lr_shape", [(), (1,)])
@pytest.mark.parametrize("momentum,nesterov", [(0.0, False), (0.9, True)])
def test_differentiable_step_differentiates_tensor_hyperparameters_like_torch(
        lr_shape, momentum, nesterov):
    """With ``differentiable=True`` a learning rate and a weight decay that require grad get
    gradients through two steps, as in PyTorch's meta-learning recipes."""
    results = []
    for lib in (ember, torch):
        lr = lib.full(lr_shape, 0.1, dtype=lib.float64, requires_grad=True)
        wd = lib.tensor(0.2, dtype=lib.float64, requires_grad=True)
        c = lib.tensor([1.0, 2.0, -3.0], dtype=lib.float64, requires_grad=True)
        w0 = lib.tensor([0.5, -1.0, 2.0], dtype=lib.float64, requires_grad=True)
        w = w0 * 1.0
        w.retain_grad()
        opt = lib.optim.SGD([w], lr=lr, momentum=momentum, nesterov=nesterov,
                            weight_decay=wd, differentiable=True)
        for _ in range(2):
            (w * c).sum().backward(create_graph=True)
            opt.step()
            w.grad = None
        (w ** 2).sum().backward()
        results.append([t.detach().numpy().copy() for t in (w, lr.grad, wd.grad, w0.grad,
                                                            c.grad)])
    for e, t in zip(*results):
        np.testing.assert_allclose(e, t, rtol=1e-10, atol=1e-12)


# ---- errors ------------------------------------------------------------------------------------
def test_add_param_group_errors_match_torch():
    def cases(lib):
        w, v = _params(lib, [(2,), (2,)])
        opt = lib.optim.SGD([w], lr=0.1)
        return [
            lambda: opt.add_param_group({"params": {v}}),
            lambda: opt.add_param_group({"params": [w]}),
            lambda: opt.add_param_group({"params": [v * 2]}),
            lambda: opt.add_param_group({"params": [v, 3]}),
            lambda: opt.add_param_group({"lr": 0.1}),
            lambda: opt.add_param_group(v),
            lambda: lib.optim.SGD([{"params": [w]}, {"params": {v}}], lr=0.1),
            lambda: lib.optim.SGD(iter([]), lr=0.1),
        ]

    for fe, ft in zip(cases(ember), cases(torch)):
        same_error(fe, ft)


def test_retained_non_leaf_can_be_optimized_like_torch():
    results = []
    for lib in (ember, torch):
        w = _params(lib, [(2,)])[0] * 2
        w.retain_grad()
        opt = lib.optim.SGD([w], lr=0.5)
        w.sum().backward()
        opt.step()
        results.append(w.tolist())
    assert results[0] == results[1]


def test_load_state_dict_errors_and_keys_match_torch():
    def cases(lib):
        w, v = _params(lib, [(2,), (2,)])
        one = lib.optim.SGD([w, v], lr=0.1)
        return [
            lambda: one.load_state_dict({"state": {}}),
            lambda: one.load_state_dict({"param_groups": [{"params": [0, 1]}]}),
            lambda: one.load_state_dict({"state": {}, "param_groups": [{"params": [0]}]}),
            lambda: one.load_state_dict({"state": {}, "param_groups": []}),
        ]

    for fe, ft in zip(cases(ember), cases(torch)):
        same_error(fe, ft)


def test_repr_with_names_and_tensor_lr_matches_torch():
    def build(lib):
        w, v = _params(lib, [(1,), (1,)])
        return lib.optim.SGD([{"params": [("w", w)], "lr": 0.5},
                              {"params": [("v", v)], "maximize": True}], lr=0.25,
                             weight_decay=1e-4, fused=True)

    assert repr(build(ember)) == repr(build(torch))


# ---- long trajectories --------------------------------------------------------------------------
_SHAPES = [(), (3,), (2, 3)]


@settings(deadline=None, max_examples=10)
@given(lr=st.sampled_from([0.0, 1e-3, 0.05, 0.3]), momentum=st.sampled_from([0.0, 0.5, 0.9]),
       dampening=st.sampled_from([0.0, 0.3]), nesterov=st.booleans(),
       weight_decay=st.sampled_from([0.0, 0.01, 0.5]), maximize=st.booleans(),
       variant=st.sampled_from([{}, {"foreach": True}, {"foreach": False}, {"fused": True}]),
       skip=st.integers(0, 3))
def test_sgd_trajectories_match_torch(lr, momentum, dampening, nesterov, weight_decay,
                                      maximize, variant, skip):
    """Twenty steps over parameters of several shapes, one of which gets no gradient at
    some steps (so it is skipped); parameters and momentum buffers after each step.
    (torch's fused SGD fails when only some parameters have a momentum buffer, so the
    fused variant gives every parameter a gradient at every step.)"""
    kwargs = dict(lr=lr, momentum=momentum, dampening=dampening, nesterov=nesterov,
                  weight_decay=weight_decay, maximize=maximize, **variant)
    if nesterov and (momentum <= 0 or dampening != 0):
        same_error(lambda: ember.optim.SGD(_params(ember, _SHAPES), **kwargs),
                   lambda: torch.optim.SGD(_params(torch, _SHAPES), **kwargs))
        return
    pe, pt = _params(ember, _SHAPES), _params(torch, _SHAPES)
    oe, ot = ember.optim.SGD(pe, **kwargs), torch.optim.SGD(pt, **kwargs)
    if variant.get("fused"):
        skip = -1
    for step in range(20):
        for params, opt in ((pe, oe), (pt, ot)):
            opt.zero_grad()
            used = params if step % 4 != skip else params[1:]
            sum(((i + 1) / 2 * p ** 2 + p.sin()).sum() for i, p in enumerate(used)).backward()
            opt.step()
        for i, (a, b) in enumerate(zip(pe, pt)):
            np.testing.assert_allclose(a.detach().numpy(), b.detach().numpy(), rtol=1e-9,
                                       atol=1e-12, err_msg=f"param {i} after step {step}")
        se, st_ = oe.state_dict()["state"], ot.state_dict()["state"]
        assert sorted(se) == sorted(st_)
        for k in st_:
            np.testing.assert_allclose(se[k]["momentum_buffer"].numpy(),
                                       st_[k]["momentum_buffer"].numpy(), rtol=1e-9,
                                       atol=1e-12)
