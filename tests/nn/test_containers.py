"""``nn.Sequential``, ``nn.ModuleList`` and ``nn.ModuleDict`` against torch: the same
snippet runs on both libraries and must print the same thing, or raise the same error."""

from __future__ import annotations

import copy
import pickle
from collections import OrderedDict

import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

import ember
from tests._surface_helpers import ember_text


def _outcome(lib, code: str):
    """What running ``code`` with ``nn`` bound to ``lib.nn`` gives: ``('ok', repr(out))`` or
    ``('err', type name, message)``, in ember's names."""
    ns = {"lib": lib, "nn": lib.nn, "OrderedDict": OrderedDict, "copy": copy,
          "pickle": pickle}
    try:
        exec(code, ns)
    except Exception as e:  # noqa: BLE001 - the exception itself is compared
        return ("err", type(e).__name__, ember_text(str(e)))
    return ("ok", ember_text(repr(ns.get("out"))))


def _same(code: str) -> None:
    assert _outcome(ember, code) == _outcome(torch, code)


SEQUENTIAL = [
    "s = nn.Sequential(nn.ReLU(), nn.Tanh()); out = s * 2",
    "s = nn.Sequential(nn.ReLU(), nn.Tanh()); out = 3 * s",
    "s = nn.Sequential(nn.ReLU(), nn.Tanh()); s *= 3; out = s",
    "s = nn.Sequential(nn.ReLU(), nn.Tanh()); s *= 1; out = s",
    "s = nn.Sequential(); s *= 2; out = s",
    "s = nn.Sequential(nn.ReLU(), nn.Tanh()); out = s * 0",
    "s = nn.Sequential(nn.ReLU(), nn.Tanh()); s *= -1",
    "s = nn.Sequential(nn.ReLU(), nn.Tanh()); out = s * 1.5",
    "s = nn.Sequential(nn.ReLU(), nn.Tanh()); s *= 1.5",
    "s = nn.Sequential(nn.Linear(2, 2)) * 2; out = (s[0] is s[1], len(list(s.parameters())))",
    "s = nn.Sequential(nn.ReLU(), nn.Tanh(), nn.Sigmoid()); out = (s[1:], s[-1], s[::2])",
    "s = nn.Sequential(nn.ReLU()); out = s[-2]",
    "s = nn.Sequential(nn.ReLU(), nn.Tanh()); del s[0]; s.insert(-1, nn.Sigmoid()); out = s",
    "s = nn.Sequential(OrderedDict(a=nn.ReLU(), b=nn.Tanh())); out = (s[1:], s.pop(0), s)",
    "s = nn.Sequential(nn.ReLU()); s += nn.Sequential(nn.Tanh()); out = s + s",
    "s = nn.Sequential(nn.ReLU()); out = s + nn.Tanh()",
]

MODULE_LIST = [
    "out = nn.ModuleList()",
    "out = nn.ModuleList([nn.Linear(2, 2) for _ in range(3)] + [nn.ReLU(), nn.ReLU(), nn.Tanh()])",
    "out = nn.ModuleList([nn.Sequential(nn.Linear(1, 1), nn.ReLU()) for _ in range(2)])",
    "l = nn.ModuleList([nn.ReLU(), nn.Tanh(), nn.Sigmoid()]); "
    "out = (l[1:], l[-1], l[::2], len(l), list(l))",
    "l = nn.ModuleList([nn.ReLU(), nn.Tanh(), nn.Sigmoid()]); out = l[3]",
    "l = nn.ModuleList([nn.ReLU(), nn.Tanh(), nn.Sigmoid()]); out = l['0']",
    "l = nn.ModuleList([nn.ReLU(), nn.Tanh(), nn.Sigmoid()]); del l[0]; out = l",
    "l = nn.ModuleList([nn.ReLU(), nn.Tanh(), nn.Sigmoid()]); del l[::2]; out = l",
    "l = nn.ModuleList([nn.ReLU(), nn.Tanh()]); l[-1] = nn.Identity(); out = l",
    "l = nn.ModuleList([nn.ReLU(), nn.Tanh()]); l[0] = 5",
    "l = nn.ModuleList([nn.ReLU()]); l.insert(0, nn.Tanh()); l.append(nn.Identity()); "
    "l.extend([nn.ReLU()]); out = (repr(l), l.pop(1), l)",
    "l = nn.ModuleList([nn.ReLU()]); l.extend(5)",
    "l = nn.ModuleList([nn.ReLU()]); l.extend([5])",
    "l = nn.ModuleList(5)",
    "l = nn.ModuleList([nn.ReLU()]); l += [nn.Tanh()]; "
    "out = (l, l + [nn.Sigmoid()], l + nn.ModuleList([nn.ReLU()]))",
    "l = nn.ModuleList([nn.ReLU()]); out = l(1)",
    "l = nn.ModuleList([nn.Linear(2, 2), nn.Linear(2, 2)]); "
    "out = (list(l.state_dict()), [n for n, _ in l.named_parameters()])",
    "l = nn.ModuleList([nn.ReLU()]); out = [k for k in dir(l) if k.isdigit()]",
    "out = (copy.deepcopy(nn.ModuleList([nn.ReLU()])), "
    "pickle.loads(pickle.dumps(nn.ModuleList([nn.Linear(1, 1)]))))",
]

MODULE_DICT = [
    "d = nn.ModuleDict({'b': nn.ReLU(), 'a': nn.Tanh()}); "
    "out = (d, list(d), list(d.keys()), list(d.values()), list(d.items()), 'a' in d, len(d))",
    "out = nn.ModuleDict([('b', nn.ReLU()), ['a', nn.Tanh()]])",
    "d = nn.ModuleDict([('b', nn.ReLU(), 1)])",
    "d = nn.ModuleDict([5])",
    "d = nn.ModuleDict(5)",
    "d = nn.ModuleDict({'a': 5})",
    "d = nn.ModuleDict({'a.b': nn.ReLU()})",
    "d = nn.ModuleDict({'training': nn.ReLU()})",
    "d = nn.ModuleDict({'a': nn.ReLU()}); out = d['b']",
    "d = nn.ModuleDict({'a': nn.ReLU()}); d['b'] = nn.Tanh(); "
    "d.update(nn.ModuleDict({'c': nn.Sigmoid()})); d.update(OrderedDict(z=nn.ReLU())); out = d",
    "d = nn.ModuleDict({'a': nn.ReLU(), 'b': nn.Tanh()}); p = d.pop('a'); del d['b']; "
    "out = (p, d)",
    "d = nn.ModuleDict({'a': nn.ReLU(), 'b': nn.Tanh()}); d.clear(); out = d",
    "d = nn.ModuleDict({'a': nn.ReLU()}); out = d.pop('z')",
    "d = nn.ModuleDict({'a': nn.ReLU()}); out = d(1)",
    "out = pickle.loads(pickle.dumps(nn.ModuleDict({'a': nn.Linear(1, 1)})))",
]


@pytest.mark.parametrize("code", SEQUENTIAL)
def test_sequential_repeat_index_and_edit_match_torch(code):
    _same(code)


@pytest.mark.parametrize("code", MODULE_LIST)
def test_module_list_matches_torch(code):
    _same(code)


@pytest.mark.parametrize("code", MODULE_DICT)
def test_module_dict_matches_torch(code):
    _same(code)


def _model(lib):
    nn = lib.nn

    class Model(nn.Module):
        def __init__(self):
            super().__init__()
            self.layers = nn.ModuleList([nn.Linear(3, 3) for _ in range(2)])
            self.heads = nn.ModuleDict({"a": nn.Linear(3, 1), "b": nn.Linear(3, 2)})

        def forward(self, x):
            for layer in self.layers:
                x = layer(x).tanh()
            return self.heads["a"](x) + self.heads["b"](x).sum(-1, keepdim=True)

    return Model()


def test_containers_register_their_modules_and_train_as_torch():
    e, t = _model(ember), _model(torch)
    assert repr(e) == repr(t)
    assert list(e.state_dict()) == list(t.state_dict())
    e.load_state_dict({k: ember.tensor(v.numpy()) for k, v in t.state_dict().items()})
    x = torch.randn(4, 3)
    oe, ot = e(ember.tensor(x.numpy())), t(x)
    torch.testing.assert_close(torch.from_numpy(oe.detach().numpy()), ot.detach())
    oe.sum().backward()
    ot.sum().backward()
    for (ne, pe), (nt, pt) in zip(e.named_parameters(), t.named_parameters()):
        assert ne == nt
        torch.testing.assert_close(torch.from_numpy(pe.grad.numpy()), pt.grad)


_LAYERS = ("ReLU", "Tanh", "Sigmoid", "Identity")
_EDIT = st.one_of(
    st.tuples(st.just("getitem"), st.integers(-5, 5)),
    st.tuples(st.just("slice"), st.integers(-5, 5) | st.none(), st.integers(-5, 5) | st.none(),
              st.sampled_from([None, 1, 2, -1])),
    st.tuples(st.just("delitem"), st.integers(-5, 5)),
    st.tuples(st.just("delslice"), st.integers(-5, 5) | st.none(), st.integers(-5, 5) | st.none()),
    st.tuples(st.just("setitem"), st.integers(-5, 5), st.sampled_from(_LAYERS)),
    st.tuples(st.just("insert"), st.integers(-5, 5), st.sampled_from(_LAYERS)),
    st.tuples(st.just("append"), st.sampled_from(_LAYERS)),
    st.tuples(st.just("pop"), st.integers(-5, 5)),
)


def _edit_log(lib, kind: str, layers, edits):
    """Apply ``edits`` to a ``kind`` container of ``layers``; log each result or error."""
    nn = lib.nn
    box = getattr(nn, kind)(*[getattr(nn, n)() for n in layers]) if kind == "Sequential" \
        else nn.ModuleList([getattr(nn, n)() for n in layers])
    log = []
    for op, *args in edits:
        try:
            if op == "getitem":
                out = box[args[0]]
            elif op == "slice":
                out = box[slice(*args)]
            elif op == "delitem":
                del box[args[0]]
                out = None
            elif op == "delslice":
                del box[args[0]:args[1]]
                out = None
            elif op == "setitem":
                box[args[0]] = getattr(nn, args[1])()
                out = None
            elif op == "insert":
                out = box.insert(args[0], getattr(nn, args[1])())
            elif op == "append":
                out = box.append(getattr(nn, args[0])())
            else:
                out = box.pop(args[0])
            log.append(("ok", ember_text(repr(out))))
        except Exception as e:  # noqa: BLE001 - compared with torch's
            log.append(("err", type(e).__name__, ember_text(str(e))))
        log.append(ember_text(repr(box)))
    return log


@settings(max_examples=40, deadline=None)
@given(kind=st.sampled_from(["Sequential", "ModuleList"]),
       layers=st.lists(st.sampled_from(_LAYERS), max_size=4),
       edits=st.lists(_EDIT, max_size=5))
def test_container_edits_match_torch(kind, layers, edits):
    assert _edit_log(ember, kind, layers, edits) == _edit_log(torch, kind, layers, edits)
