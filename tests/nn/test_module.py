"""``nn.Module`` and ``nn.Sequential`` against torch: registration order, state_dict,
printing, errors, modes, conversions and hooks."""

from __future__ import annotations

import warnings
from collections import OrderedDict

import numpy as np
import pytest
import torch

import ember
from tests._surface_helpers import same_error as _same_error


def _lib(name):
    return ember if name == "ember" else torch




def seed004_network(lib):
    nn = lib.nn

    class NeuralNetwork(nn.Module):
        def __init__(self):
            super(NeuralNetwork, self).__init__()  # noqa: UP008 - as the seed writes it
            self.flatten = nn.Flatten()
            self.linear_relu_stack = nn.Sequential(
                nn.Linear(28 * 28, 512),
                nn.ReLU(),
                nn.Linear(512, 512),
                nn.ReLU(),
                nn.Linear(512, 10),
                nn.ReLU()
            )

        def forward(self, x):
            x = self.flatten(x)
            logits = self.linear_relu_stack(x)
            return logits

    return NeuralNetwork()


def registry_model(lib):
    """Parameters, buffers (persistent and not), None entries, nesting and sharing."""
    nn = lib.nn

    class Block(nn.Module):
        def __init__(self):
            super().__init__()
            self.scale = nn.Parameter(lib.ones(2))
            self.register_buffer("running", lib.zeros(2))
            self.register_buffer("scratch", lib.zeros(1), persistent=False)
            self.lin = nn.Linear(2, 2)

        def forward(self, x):
            return self.lin(x * self.scale) + self.running

    class Net(nn.Module):
        def __init__(self):
            super().__init__()
            self.first = Block()
            self.register_parameter("gamma", nn.Parameter(lib.ones(1)))
            self.register_buffer("count", lib.zeros((), dtype=lib.int64))
            self.register_parameter("absent", None)
            self.register_buffer("none_buf", None)
            self.shared = self.first.lin
            self.stack = nn.Sequential(nn.Tanh(), Block(), nn.Sigmoid())
            self.empty = None

        def forward(self, x):
            return self.stack(self.first(x)) * self.gamma

    return Net()


def _state_dict_from_torch(torch_model):
    return OrderedDict((k, ember.tensor(v.detach().numpy()))
                       for k, v in torch_model.state_dict().items())


# ---- printing -------------------------------------------------------------------------------
def test_seed004_network_prints_like_torch():
    assert repr(seed004_network(ember)) == repr(seed004_network(torch))
    assert str(seed004_network(ember)) == str(seed004_network(torch))


def test_nested_printing_like_torch():
    for lib_pair in ((ember, torch),):
        texts = [repr(registry_model(lib)) for lib in lib_pair]
        assert texts[0] == texts[1]

    def leaves(lib):
        nn = lib.nn
        return [nn.Module(), nn.Sequential(), nn.Linear(3, 2, bias=False), nn.ReLU(),
                nn.ReLU(inplace=True), nn.Flatten(0, 2), nn.Tanh(), nn.Sigmoid(),
                nn.Sequential(OrderedDict([("a", nn.ReLU()), ("b", nn.Sequential(nn.Tanh()))]))]

    for e, t in zip(leaves(ember), leaves(torch)):
        assert repr(e) == repr(t)


def test_multiline_extra_repr_like_torch():
    def make(lib):
        class Odd(lib.nn.Module):
            def __init__(self):
                super().__init__()
                self.inner = lib.nn.Linear(1, 1)

            def extra_repr(self):
                return "alpha=1,\nbeta=2"

        outer = lib.nn.Sequential(Odd(), lib.nn.ReLU())
        return outer

    assert repr(make(ember)) == repr(make(torch))


# ---- registration ---------------------------------------------------------------------------
def test_registration_order_matches_torch():
    e, t = registry_model(ember), registry_model(torch)
    assert [n for n, _ in e.named_parameters()] == [n for n, _ in t.named_parameters()]
    assert [n for n, _ in e.named_parameters(remove_duplicate=False)] == \
        [n for n, _ in t.named_parameters(remove_duplicate=False)]
    assert [n for n, _ in e.named_parameters(prefix="m", recurse=False)] == \
        [n for n, _ in t.named_parameters(prefix="m", recurse=False)]
    assert [n for n, _ in e.named_buffers()] == [n for n, _ in t.named_buffers()]
    assert [n for n, _ in e.named_modules()] == [n for n, _ in t.named_modules()]
    assert [n for n, _ in e.named_modules(remove_duplicate=False)] == \
        [n for n, _ in t.named_modules(remove_duplicate=False)]
    assert [n for n, _ in e.named_children()] == [n for n, _ in t.named_children()]
    assert len(list(e.parameters())) == len(list(t.parameters()))
    assert len(list(e.parameters(recurse=False))) == len(list(t.parameters(recurse=False)))
    assert len(list(e.buffers())) == len(list(t.buffers()))
    assert len(list(e.children())) == len(list(t.children()))
    assert [type(m).__name__ for m in e.modules()] == [type(m).__name__ for m in t.modules()]
    assert e.first.lin is e.shared and e.absent is None and e.none_buf is None


def test_state_dict_keys_and_values_match_torch():
    e, t = registry_model(ember), registry_model(torch)
    assert list(e.state_dict()) == list(t.state_dict())
    e.load_state_dict(_state_dict_from_torch(t))
    for (ke, ve), (kt, vt) in zip(e.state_dict().items(), t.state_dict().items()):
        assert ke == kt and ve.dtype.name == str(vt.dtype).split(".")[1]
        np.testing.assert_array_equal(ve.numpy(), vt.numpy())
    assert list(e.state_dict(prefix="model.")) == list(t.state_dict(prefix="model."))
    assert list(e.state_dict()._metadata) == list(t.state_dict()._metadata)
    assert e.state_dict()._metadata[""] == t.state_dict()._metadata[""]


def test_state_dict_is_detached_and_shares_storage():
    m = ember.nn.Linear(3, 2)
    sd = m.state_dict()
    assert type(sd) is OrderedDict
    w = sd["weight"]
    assert type(w) is ember.Tensor and not w.requires_grad
    w.add_(1)  # writes through to the parameter, as in torch
    np.testing.assert_array_equal(m.weight.detach().numpy(), w.numpy())
    kept = m.state_dict(keep_vars=True)
    assert kept["weight"] is m.weight and kept["bias"] is m.bias


def test_load_state_dict_copies_into_parameters():
    e, t = seed004_network(ember), seed004_network(torch)
    weight = e.linear_relu_stack[0].weight
    result = e.load_state_dict(_state_dict_from_torch(t))
    assert repr(result) == repr(t.load_state_dict(t.state_dict()))
    assert e.linear_relu_stack[0].weight is weight  # copied in place, same Parameter
    x = np.random.default_rng(0).random((4, 28, 28), dtype=np.float32)
    np.testing.assert_allclose(e(ember.tensor(x)).detach().numpy(),
                               t(torch.tensor(x)).detach().numpy(), rtol=1e-5, atol=1e-6)


def test_load_state_dict_errors_match_torch():
    e, t = registry_model(ember), registry_model(torch)
    good_e, good_t = e.state_dict(), t.state_dict()

    def drop(sd, key):
        sd = OrderedDict(sd)
        del sd[key]
        return sd

    def extra(sd, lib):
        sd = OrderedDict(sd)
        sd["bogus"] = lib.zeros(1)
        sd["stack.1.bogus"] = lib.zeros(1)
        sd["nothere.weight"] = lib.zeros(1)
        return sd

    def resized(sd, lib):
        sd = OrderedDict(sd)
        sd["first.lin.weight"] = lib.zeros(3, 2)
        sd["gamma"] = lib.zeros(5)
        return sd

    def not_tensor(sd):
        sd = OrderedDict(sd)
        sd["gamma"] = [1.0]
        return sd

    # (make the state dict, whether strict=False loads it)
    cases = [
        (lambda lib, sd: drop(drop(sd, "gamma"), "stack.1.running"), True),
        (lambda lib, sd: extra(sd, lib), True),
        (lambda lib, sd: resized(sd, lib), False),
        (lambda lib, sd: extra(drop(resized(sd, lib), "count"), lib), False),
        (lambda lib, sd: not_tensor(sd), False),
    ]
    for make, loads_non_strict in cases:
        _same_error(lambda make=make: e.load_state_dict(make(ember, good_e)),
                    lambda make=make: t.load_state_dict(make(torch, good_t)), RuntimeError)
        if not loads_non_strict:
            _same_error(lambda make=make: e.load_state_dict(make(ember, good_e), strict=False),
                        lambda make=make: t.load_state_dict(make(torch, good_t), strict=False),
                        RuntimeError)
            continue
        res_e = e.load_state_dict(make(ember, good_e), strict=False)
        res_t = t.load_state_dict(make(torch, good_t), strict=False)
        assert res_e.missing_keys == res_t.missing_keys
        assert res_e.unexpected_keys == res_t.unexpected_keys
        assert repr(res_e) == repr(res_t)
    _same_error(lambda: e.load_state_dict([1]), lambda: t.load_state_dict([1]), TypeError)


def test_load_state_dict_assign_replaces_parameters():
    m = ember.nn.Linear(2, 2)
    new = OrderedDict(weight=ember.ones(2, 2), bias=ember.zeros(2))
    m.load_state_dict(new, assign=True)
    assert isinstance(m.weight, ember.nn.Parameter) and m.weight.requires_grad
    assert m.weight.tolist() == [[1.0, 1.0], [1.0, 1.0]]


def test_setattr_registers_and_replaces():
    for lib in (ember, torch):
        m = lib.nn.Module()
        m.w = lib.nn.Parameter(lib.ones(1))
        m.sub = lib.nn.Linear(1, 1)
        m.plain = 3
        assert list(m._parameters) == ["w"] and list(m._modules) == ["sub"]
        m.w = None
        assert m._parameters["w"] is None
        m.sub = None
        assert m._modules["sub"] is None
        m.register_buffer("b", lib.zeros(1))
        m.b = lib.ones(1)
        assert m._buffers["b"].tolist() == [1.0]
        m.plain = lib.nn.Parameter(lib.ones(1))  # a plain attribute becomes a parameter
        assert "plain" in m._parameters and "plain" not in m.__dict__
        del m.plain, m.b, m.sub
        assert "plain" not in m._parameters and "b" not in m._buffers
        assert "sub" not in m._modules
        assert "w" in dir(m) and "__call__" in dir(m)


def test_registration_errors_match_torch():
    def bad_calls(lib):
        nn = lib.nn

        def mod():
            m = nn.Module()
            m.p = nn.Parameter(lib.ones(1))
            m.c = nn.Linear(1, 1)
            m.register_buffer("b", lib.ones(1))
            m.attr = 1
            return m

        class NoInit(nn.Module):
            def __init__(self):
                self.x = nn.Parameter(lib.ones(1))

        class NoInitModule(nn.Module):
            def __init__(self):
                self.x = nn.Linear(1, 1)

        return [
            lambda: setattr(mod(), "p", lib.ones(1)),
            lambda: setattr(mod(), "c", 3),
            lambda: setattr(mod(), "b", "text"),
            lambda: mod().register_parameter(1, None),
            lambda: mod().register_parameter("a.b", None),
            lambda: mod().register_parameter("", None),
            lambda: mod().register_parameter("attr", None),
            lambda: mod().register_parameter("q", lib.ones(1)),
            lambda: mod().register_buffer(1, None),
            lambda: mod().register_buffer("a.b", None),
            lambda: mod().register_buffer("", None),
            lambda: mod().register_buffer("p", None),
            lambda: mod().register_buffer("q", 3),
            lambda: mod().add_module("x", 3),
            lambda: mod().add_module(1, None),
            lambda: mod().add_module("attr", None),
            lambda: mod().add_module("a.b", None),
            lambda: mod().add_module("", None),
            lambda: mod().missing,
            lambda: mod().forward(1),
            lambda: mod().train("yes"),
            lambda: nn.Module(3),
            lambda: nn.Module(flag=True),
            lambda: NoInit(),
            lambda: NoInitModule(),
            lambda: mod().get_submodule("c.weight"),
            lambda: mod().get_submodule("zzz"),
            lambda: mod().get_parameter("c.zzz"),
            lambda: mod().get_buffer("p"),
            lambda: mod().to(lib.int64),
        ]

    for fe, ft in zip(bad_calls(ember), bad_calls(torch)):
        _same_error(fe, ft)


def test_get_submodule_parameter_buffer():
    e = registry_model(ember)
    assert e.get_submodule("stack.1.lin") is e.stack[1].lin
    assert e.get_submodule("") is e
    assert e.get_parameter("stack.1.lin.weight") is e.stack[1].lin.weight
    assert e.get_buffer("first.running") is e.first.running


# ---- modes, gradients, conversions -----------------------------------------------------------
def test_train_eval_recurse():
    for lib in (ember, torch):
        m = registry_model(lib)
        assert m.training
        assert m.eval() is m
        assert [x.training for x in m.modules()] == [False] * len(list(m.modules()))
        m.stack.train()
        assert [x.training for x in m.modules()][:2] == [False, False]
        assert all(x.training for x in m.stack.modules())


def test_requires_grad_and_zero_grad():
    m = registry_model(ember)
    assert m.requires_grad_(False) is m
    assert not any(p.requires_grad for p in m.parameters())
    m.requires_grad_()
    out = m(ember.ones(3, 2)).sum()
    out.backward()
    assert all(p.grad is not None for p in m.parameters())
    m.zero_grad(set_to_none=False)
    assert all(p.grad is not None and not p.grad.any() for p in m.parameters())
    m.zero_grad()
    assert all(p.grad is None for p in m.parameters())


def test_to_dtype_keeps_parameter_objects():
    e, t = registry_model(ember), registry_model(torch)
    params = list(e.parameters())
    e(ember.ones(1, 2)).sum().backward()
    t(torch.ones(1, 2)).sum().backward()
    assert e.double() is e
    t.double()
    assert all(a is b for a, b in zip(e.parameters(), params))
    assert [(n, p.dtype.name, p.grad.dtype.name) for n, p in e.named_parameters()] == \
        [(n, str(p.dtype)[6:], str(p.grad.dtype)[6:]) for n, p in t.named_parameters()]
    assert all(isinstance(p, ember.nn.Parameter) for p in e.parameters())
    assert [b.dtype.name for b in e.buffers()] == [str(b.dtype)[6:] for b in t.buffers()]
    e.float()
    assert all(p.dtype == ember.float32 for p in e.parameters())
    e.to(ember.float64)
    assert e.count.dtype == ember.int64 and e.gamma.dtype == ember.float64
    e.to("cpu", dtype=ember.float32)
    e.to(ember.zeros(1, dtype=ember.float64))
    assert e.gamma.dtype == ember.float64
    e.half()
    assert e.gamma.dtype == ember.float16
    assert e.cpu() is e
    assert all(a is b for a, b in zip(e.parameters(), params))


def test_apply_visits_children_first():
    order = {}
    for lib in (ember, torch):
        seen = []
        registry_model(lib).apply(lambda m, seen=seen: seen.append(type(m).__name__))
        order[lib.__name__] = seen
    assert order["ember"] == order["torch"]


# ---- calling and hooks ------------------------------------------------------------------------
def test_forward_hooks_match_torch():
    logs = {}
    outs = {}
    for lib in (ember, torch):
        log = []
        m = lib.nn.Linear(2, 2)
        with lib.no_grad():
            m.weight.copy_(lib.tensor([[1.0, 2.0], [3.0, 4.0]]))
            m.bias.zero_()

        def pre(mod, args, log=log):
            log.append(("pre", len(args)))
            return args[0] * 2

        def pre_first(mod, args, log=log):
            log.append(("pre_first",))

        def pre_kw(mod, args, kwargs, log=log):
            log.append(("pre_kw", sorted(kwargs)))
            return args, kwargs

        def post(mod, args, output, log=log):
            log.append(("post", tuple(output.shape)))
            return output + 1

        def post_kw(mod, args, kwargs, output, log=log):
            log.append(("post_kw",))

        h1 = m.register_forward_pre_hook(pre)
        m.register_forward_pre_hook(pre_first, prepend=True)
        m.register_forward_pre_hook(pre_kw, with_kwargs=True)
        h2 = m.register_forward_hook(post)
        m.register_forward_hook(post_kw, with_kwargs=True)
        x = lib.tensor([[1.0, 1.0]])
        first = m(x).tolist()
        h1.remove()
        h2.remove()
        second = m(x).tolist()
        logs[lib.__name__] = log
        outs[lib.__name__] = (first, second)
    assert logs["ember"] == logs["torch"]
    assert outs["ember"] == outs["torch"]


def _always_called_log(lib, fail_in: str):
    """What the hooks of a module whose pre-hook, forward or plain hook raises record."""
    log = []

    class Net(lib.nn.Module):
        def forward(self, x, scale=1):
            if fail_in == "forward":
                raise ValueError("boom")
            return x * scale

    m = Net()

    def pre(mod, args):
        if fail_in == "pre":
            raise KeyError("pre")

    def bad(mod, args, output):
        raise KeyError("bad")

    m.register_forward_pre_hook(pre)
    m.register_forward_hook(lambda mod, args, out: log.append(("always", out is None)),
                            always_call=True)
    m.register_forward_hook(lambda mod, args, out: log.append(("plain",)))
    m.register_forward_hook(lambda mod, args, kwargs, out: log.append(("kw", sorted(kwargs))),
                            always_call=True, with_kwargs=True)
    m.register_forward_hook(bad, always_call=fail_in != "hook")
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            m(lib.ones(1), scale=2)
        except Exception as e:  # noqa: BLE001 - compared below
            log.append((type(e).__name__, str(e)))
    log.extend(str(w.message) for w in caught)
    return log


@pytest.mark.parametrize("fail_in", ["pre", "forward", "hook"])
def test_always_call_forward_hooks_run_when_forward_raises(fail_in):
    assert _always_called_log(ember, fail_in) == _always_called_log(torch, fail_in)


def test_modules_remove_duplicate_and_positional_state_dict_match_torch():
    for lib in (ember, torch):
        lin = lib.nn.Linear(2, 2)
        lin_e = lib.nn.Sequential(lin, lib.nn.Sequential(lin))
        kinds = [type(m).__name__ for m in lin_e.modules(remove_duplicate=False)]
        assert kinds == ["Sequential", "Linear", "Sequential", "Linear"]
    es, ts = [], []
    for lib, out in ((ember, es), (torch, ts)):
        m = lib.nn.Linear(2, 2)
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            dest = OrderedDict()
            got = m.state_dict(dest, "p.", True)
        out.append((got is dest, list(got), got["p.weight"].requires_grad,
                    [(w.category.__name__, str(w.message)) for w in caught]))
    assert es == ts


def test_missing_forward_error():
    _same_error(lambda: ember.nn.Module()(1), lambda: torch.nn.Module()(1), NotImplementedError)


# ---- Sequential -------------------------------------------------------------------------------
def test_sequential_container_behaviour_matches_torch():
    def build(lib):
        nn = lib.nn
        return nn.Sequential(nn.Linear(2, 3), nn.ReLU(), nn.Linear(3, 1), nn.Tanh())

    e, t = build(ember), build(torch)
    assert len(e) == len(t) == 4
    assert repr(e[0]) == repr(t[0]) and repr(e[-1]) == repr(t[-1])
    assert repr(e[1:3]) == repr(t[1:3]) and type(e[1:3]) is ember.nn.Sequential
    assert repr(e[::2]) == repr(t[::2])
    assert [type(m).__name__ for m in e] == [type(m).__name__ for m in t]
    _same_error(lambda: e[4], lambda: t[4], IndexError)
    _same_error(lambda: e[-5], lambda: t[-5], IndexError)
    for s in (e, t):
        lib = ember if s is e else torch
        s[1] = lib.nn.Sigmoid()
        del s[0]
        s.append(lib.nn.ReLU())
        s.insert(1, lib.nn.Flatten())
        s.insert(-1, lib.nn.Tanh())
        s.extend(lib.nn.Sequential(lib.nn.ReLU(inplace=True)))
        s.pop(0)
        del s[1:3]
    assert repr(e) == repr(t)
    assert list(e._modules) == list(t._modules)
    assert repr(e + build(ember)) == repr(t + build(torch))
    e += build(ember)
    t += build(torch)
    assert repr(e) == repr(t)
    _same_error(lambda: e + 1, lambda: t + 1, ValueError)
    _same_error(lambda: e.insert(99, ember.nn.ReLU()), lambda: t.insert(99, torch.nn.ReLU()),
                IndexError)
    assert "0" not in dir(e) and "append" in dir(e)


def test_sequential_forward_matches_torch():
    e, t = seed004_network(ember), seed004_network(torch)
    e.load_state_dict(_state_dict_from_torch(t))
    x = np.random.default_rng(1).random((2, 1, 28, 28), dtype=np.float32)
    ye, yt = e(ember.tensor(x)), t(torch.tensor(x))
    np.testing.assert_allclose(ye.detach().numpy(), yt.detach().numpy(), rtol=1e-5, atol=1e-6)
    assert ye.grad_fn.name() == yt.grad_fn.name()
    ye.sum().backward()
    yt.sum().backward()
    for (n, pe), (_, pt) in zip(e.named_parameters(), t.named_parameters()):
        np.testing.assert_allclose(pe.grad.numpy(), pt.grad.numpy(), rtol=1e-4, atol=1e-6,
                                   err_msg=n)


# ---- freezing and replacing a layer (seeds 000/001/002) ----------------------------------------
def test_freeze_then_replace_head_only_head_requires_grad():
    def build(lib):
        nn = lib.nn

        class TinyNet(nn.Module):
            def __init__(self):
                super().__init__()
                self.features = nn.Sequential(nn.Flatten(), nn.Linear(12, 512), nn.ReLU())
                self.fc = nn.Linear(512, 1000)

            def forward(self, x):
                return self.fc(self.features(x))

        model = TinyNet()
        for param in model.parameters():
            param.requires_grad = False
        model.fc = nn.Linear(512, 10)
        return model

    e, t = build(ember), build(torch)
    assert [(n, p.requires_grad) for n, p in e.named_parameters()] == \
        [(n, p.requires_grad) for n, p in t.named_parameters()]
    assert [n for n, p in e.named_parameters() if p.requires_grad] == ["fc.weight", "fc.bias"]
    assert repr(e) == repr(t)


def test_deepcopy_gives_independent_parameters_and_keeps_sharing():
    import copy
    for lib in (ember, torch):
        m = registry_model(lib)
        c = copy.deepcopy(m)
        assert repr(c) == repr(m)
        assert c.shared is c.first.lin and c.shared is not m.shared
        assert all(type(p) is lib.nn.Parameter for p in c.parameters())
        with lib.no_grad():
            c.gamma.add_(1)
        assert c.gamma.tolist() != m.gamma.tolist()
        assert [n for n, _ in c.named_parameters()] == [n for n, _ in m.named_parameters()]
