"""Tensor attributes, conversions, Python protocols and printing, compared with torch."""

from __future__ import annotations

import copy
import pickle

import numpy as np
import pytest
import torch

import ember
from tests._surface_helpers import assert_same, assert_same_error, outcome

SETUP = (
    "x = M.arange(6.).reshape(2, 3); i = M.tensor([[1, 2], [3, 4]]); s = M.tensor(2.5); "
    "b = M.tensor([True, False]); r = M.ones(2, requires_grad=True); y = r * 2; "
    "z = M.tensor(7); e = M.tensor([])"
)


def _eval_both(expr: str):
    results = []
    for M in (ember, torch):
        env = {"M": M, "np": np}
        exec(SETUP, env)  # noqa: S102 - fixed test setup
        results.append(outcome(lambda env=env: eval(expr, env)))  # noqa: S307
    return results


def _text(result) -> str:
    if result[0] == "err":
        return f"{result[1]}: {result[2].replace('torch.', 'ember.')}"
    return repr(result[1]).replace("torch.", "ember.")


EXPRESSIONS = """
x.shape; x.size(); x.size(1); x.size(-1); x.size(2); x.size(-3); x.size(dim=0); x.size(1.5); x.size('a')
x.shape[1]; x.shape[-1:]; x.shape == (2, 3); x.shape == M.Size([2, 3]); s.shape; e.shape
x.dtype; i.dtype; b.dtype; x.device; x.ndim; s.ndim; x.dim(); x.ndimension(); x.numel(); x.nelement(); e.numel()
s.item(); z.item(); b[0].item(); M.tensor([[3.5]]).item(); x.item(); e.item()
x.tolist(); s.tolist(); i.tolist(); b.tolist(); e.tolist(); M.tensor([[]]).tolist(); M.tensor(3, dtype=M.float16).tolist()
x.to(M.int64); x.to(dtype=M.float64); x.to('cpu'); x.to(M.device('cpu')); x.to('cpu', M.int32)
x.to(i); x.to(i, copy=True); x.to(x) is x; x.to(M.float32) is x; x.to(M.float32, copy=True) is x
x.to('cpu', dtype=M.float16); x.to(device='cpu'); x.to('cpu', copy=True) is x; x.to(M.device('cpu'), M.int8)
x.float(); x.double(); x.long(); x.int(); x.bool(); x.half(); x.short(); x.char(); x.byte()
x.float() is x; i.long() is i; x.type(); i.type(); b.type(); x.half().type(); x.type(M.int64)
x.type('torch.IntTensor'); x.type(M.float64); i.double().type(); x.type(M.float32) is x
x.clone(); x.contiguous() is x; x.is_contiguous(); x.t().is_contiguous(); x.t().contiguous().is_contiguous()
x[:, ::2].is_contiguous(); x.t().contiguous(); x.data; r.data; r.data.requires_grad; y.data.grad_fn
len(x); len(s); list(x); list(s); bool(M.tensor([1])); bool(M.tensor([0.])); bool(x); bool(e); bool(s)
float(s); int(s); float(x); int(x); int(M.tensor([3.7])); int(M.tensor(-3.7)); float(z); complex(s)
[0, 1, 2, 3][M.tensor(2)]; [0, 1][M.tensor(1.)]; [0, 1][M.tensor([1])]; [0, 1][M.tensor([1, 0])]
M.tensor(3).__index__(); M.tensor(3.).__index__(); M.tensor([3]).__index__(); x.__index__(); b[0].__index__()
f'{s:>7f}'; f'{s:.2f}'; f'{z:05d}'; f'{x}'; format(s); f'{x:>5}'; f'{b[0]}'; f'{s!r}'; f'{M.tensor(1e-8):e}'
np.asarray(x); np.asarray(x, dtype=np.float64); np.asarray(i); np.asarray(s); np.array(x).dtype
np.float32(2) * x; np.float64(2) + x; np.int64(3) * i; np.float32(2) * i; np.float64(2) - x; np.int32(2) ** i
r.numpy(); x.numpy().dtype; x.t().numpy().flags.c_contiguous; y.tolist(); y[0].item(); y.detach().numpy()
r.grad; y.is_leaf; r.is_leaf; y.requires_grad; x.requires_grad; i.requires_grad_(); x.requires_grad_().requires_grad
y.requires_grad_(False); y.detach().requires_grad_(False).requires_grad; hash(x) == hash(x); x.grad_fn; y.grad_fn.name()
x.element_size(); x.stride(); x.t().stride(); x.stride(1); x.nbytes; x.itemsize; i.itemsize; x.is_floating_point()
i.is_floating_point(); x.is_cuda; x.is_leaf; x.T; x.mT; s.T; x.t().T; M.ones(2, 3, 4).mT.shape; M.ones(2).mT
x.new_zeros(2); x.new_ones((2, 3)); x.new_full((2,), 3); x.new_tensor([1, 2]); x.new_empty(3).shape
i.new_zeros(2); x.new_zeros(2, 3, dtype=M.int64); x.new_tensor(M.ones(2)); x.new_full((2,), 3, requires_grad=True)
x.new_ones(2, requires_grad=True); i.new_tensor([1.5]); x.new_zeros(M.Size([1, 2]))
x.cpu() is x; M.is_tensor(x); M.is_tensor(3); M.numel(x); M.is_floating_point(x); iter(s)
M.tensor([1.5]).numpy().tolist(); s.__float__(); x.__float__(); M.tensor([[1, 2]]).tolist()
x.data_ptr() == x.view(6).data_ptr(); x[1].data_ptr() - x.data_ptr(); x[:, 1].data_ptr() - x.data_ptr()
x.requires_grad_(True).data.requires_grad; M.ones(2, dtype=M.int64).requires_grad_()
""".replace("\n", ";").split(";")


@pytest.mark.parametrize("expr", [e.strip() for e in EXPRESSIONS if e.strip()])
def test_attribute_matches_torch(expr):
    ember_result, torch_result = _eval_both(expr)
    assert _text(ember_result) == _text(torch_result)


def test_item_types_match_torch():
    for data, dt in ((2.5, "float32"), (3, "int64"), (True, "bool"), (7, "uint8"),
                     (1.5, "float16"), (2, "int8")):
        ev = ember.tensor(data, dtype=getattr(ember, dt)).item()
        tv = torch.tensor(data, dtype=getattr(torch, dt)).item()
        assert type(ev) is type(tv) and ev == tv


def test_tolist_element_types():
    for dt in ("float32", "int64", "bool", "uint8"):
        el = ember.ones(2, 2, dtype=getattr(ember, dt)).tolist()
        tl = torch.ones(2, 2, dtype=getattr(torch, dt)).tolist()
        assert el == tl and type(el[0][0]) is type(tl[0][0])


def test_numpy_shares_memory_and_refuses_grad():
    t = ember.zeros(2, 3)
    a = t.numpy()
    a[0, 0] = 5
    assert t[0, 0].item() == 5
    t[1, 1] = 7
    assert a[1, 1] == 7
    r = ember.ones(2, requires_grad=True)
    tr = torch.ones(2, requires_grad=True)
    msg = assert_same_error(r.numpy, tr.numpy)
    assert "detach().numpy()" in msg
    assert_same_error(lambda: np.asarray(r), lambda: np.asarray(tr))
    assert np.shares_memory(r.detach().numpy(), r.numpy(force=True))


def test_array_protocol():
    t = ember.arange(6.0).reshape(2, 3)
    a = np.asarray(t)
    assert np.shares_memory(a, t.numpy())
    assert np.asarray(t, dtype=np.float64).dtype == np.float64
    assert (np.sin(t.numpy()) == np.sin(np.asarray(t))).all()


def test_to_copies_and_conversions():
    x = ember.tensor([1.5, -2.5])
    tx = torch.tensor([1.5, -2.5])
    for dt in ("float16", "float64", "int8", "int32", "int64", "uint8", "bool"):
        assert_same(x.to(getattr(ember, dt)), tx.to(getattr(torch, dt)))
    c = x.to(ember.float32, copy=True)
    c[0] = 9
    assert x[0].item() == 1.5
    same = x.to("cpu")
    assert same is x
    d = x.double()
    d[0] = 0
    assert x[0].item() == 1.5


def test_conversions_record_grad_like_torch():
    x = ember.tensor([1.0, 2.0], requires_grad=True)
    tx = torch.tensor([1.0, 2.0], requires_grad=True)
    ey, ty = x.double() * 3, tx.double() * 3
    assert ey.grad_fn.next_functions[0][0].name() == type(ty.grad_fn.next_functions[0][0]).__name__
    ey.sum().backward()
    ty.sum().backward()
    assert_same(x.grad, tx.grad)
    assert x.long().requires_grad is tx.long().requires_grad
    c, tc = x.clone(), tx.clone()
    assert c.grad_fn.name() == type(tc.grad_fn).__name__
    (c * c).sum().backward()
    (tc * tc).sum().backward()
    assert_same(x.grad, tx.grad)


def test_data_setter_swaps_storage():
    a = ember.ones(2, requires_grad=True)
    ta = torch.ones(2, requires_grad=True)
    a.data = ember.zeros(2)
    ta.data = torch.zeros(2)
    assert repr(a) == repr(ta).replace("torch.", "ember.")
    a.data.add_(3)
    ta.data.add_(3)
    assert_same(a, ta)
    assert a.requires_grad and a.is_leaf
    assert_same_error(lambda: setattr(a, "data", 3), lambda: setattr(ta, "data", 3),
                      match_message=False)


def test_detach_shares_storage_and_version():
    a = ember.ones(3, requires_grad=True)
    d = a.detach()
    d[0] = 4
    assert a[0].item() == 4
    assert a._version == d._version == 1


def test_deepcopy_and_pickle():
    a = ember.tensor([[1.0, 2.0]], requires_grad=True)
    b = copy.deepcopy(a)
    assert b.requires_grad and b.tolist() == a.tolist()
    b.data[0, 0] = 5
    assert a[0, 0].item() == 1
    c = pickle.loads(pickle.dumps(a))
    assert c.tolist() == a.tolist() and c.requires_grad
    y = a * 2
    ty = torch.tensor([[1.0, 2.0]], requires_grad=True) * 2
    assert_same_error(lambda: copy.deepcopy(y), lambda: copy.deepcopy(ty))


# ---- printing of real tensors --------------------------------------------------------------
def _build(M, name):
    g = (M.arange(24.0) - 11.5) / 3
    cases = {
        "float": lambda: M.tensor([1.0, 2.5, -3.25]),
        "int_valued": lambda: M.tensor([36.0, 81.0]),
        "sci": lambda: M.tensor([2.048e2, 2.048e3, 2.048e-1]),
        "matrix": lambda: g.reshape(4, 6),
        "cube": lambda: g.reshape(2, 3, 4),
        "int": lambda: M.arange(-5, 7).reshape(3, 4),
        "bool": lambda: M.tensor([True, False, True]),
        "zero_d": lambda: M.tensor(3.5),
        "zero_d_int": lambda: M.tensor(-4),
        "empty": lambda: M.ones(0, 3),
        "float64": lambda: M.tensor([1.5, 2.0], dtype=M.float64),
        "float16": lambda: M.tensor([1.5, 2.0], dtype=M.float16),
        "int8": lambda: M.tensor([1, -2], dtype=M.int8),
        "uint8": lambda: M.tensor([1, 200], dtype=M.uint8),
        "int32_empty": lambda: M.zeros(0, dtype=M.int32),
        "big": lambda: M.arange(2000.0).reshape(40, 50),
        "big_int": lambda: M.arange(5000),
        "leaf": lambda: M.ones(2, 2, requires_grad=True),
        "mul": lambda: M.ones(2, requires_grad=True) * 3,
        "add": lambda: M.ones(2, requires_grad=True) + 1,
        "sum": lambda: (M.arange(4.0, requires_grad=True) * 2).sum(),
        "mean": lambda: M.ones(3, requires_grad=True).mean(),
        "pow": lambda: M.ones(3, requires_grad=True) ** 2,
        "view": lambda: M.ones(2, 3, requires_grad=True).view(3, 2),
        "transpose": lambda: M.ones(2, 3, requires_grad=True).t(),
        "select": lambda: M.ones(2, 3, requires_grad=True)[0],
        "slice": lambda: M.ones(4, requires_grad=True)[1:3],
        "index": lambda: M.ones(4, requires_grad=True)[M.tensor([0, 2])],
        "expand": lambda: M.ones(1, 3, requires_grad=True).expand(2, 3),
        "unsqueeze": lambda: M.ones(3, requires_grad=True).unsqueeze(0),
        "detached": lambda: (M.ones(2, requires_grad=True) * 2).detach(),
        "float64_leaf": lambda: M.ones(2, dtype=M.float64, requires_grad=True),
        "float64_grad": lambda: M.ones(2, dtype=M.float64, requires_grad=True) * 2,
        "zero_d_grad": lambda: M.tensor(2.0, requires_grad=True) * 2,
        "nan_inf": lambda: M.tensor([float("nan"), float("inf"), -float("inf"), 1.5]),
        "tiny": lambda: M.tensor([1e-10, 1.0]),
        "neg_zero": lambda: M.tensor([-0.0, 0.0]),
        "divided": lambda: M.arange(1, 7).reshape(2, 3) / 7,
    }
    return cases[name]()


PRINT_CASES = [
    "float", "int_valued", "sci", "matrix", "cube", "int", "bool", "zero_d", "zero_d_int",
    "empty", "float64", "float16", "int8", "uint8", "int32_empty", "big", "big_int", "leaf",
    "mul", "add", "sum", "mean", "pow", "view", "transpose", "select", "slice", "index",
    "expand", "unsqueeze", "detached", "float64_leaf", "float64_grad", "zero_d_grad", "nan_inf",
    "tiny", "neg_zero", "divided",
]


@pytest.mark.parametrize("name", PRINT_CASES)
def test_repr_matches_torch(name):
    e, t = _build(ember, name), _build(torch, name)
    assert repr(e) == repr(t).replace("torch.", "ember.")
    assert str(e) == str(t).replace("torch.", "ember.")


def test_repr_under_float64_default():
    ember.set_default_dtype(ember.float64)
    torch.set_default_dtype(torch.float64)
    try:
        for build in (lambda M: M.tensor([1.5, 2.0]), lambda M: M.tensor([1.5], dtype=M.float32),
                      lambda M: M.ones(2, requires_grad=True) * 2):
            assert repr(build(ember)) == repr(build(torch)).replace("torch.", "ember.")
    finally:
        torch.set_default_dtype(torch.float32)


def test_tensor_class_prints_its_module():
    assert repr(ember.Tensor) == repr(torch.Tensor).replace("torch.", "ember.")
    assert isinstance(ember.ones(1), ember.Tensor)


def test_T_on_other_than_2_dims_warns_once_as_torch_does():
    import sys
    import warnings

    sys.modules["ember.tensor"]._T_WARNED.clear()  # (ember.tensor is also the function)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        assert ember.ones(3).T.shape == (3,)
        assert ember.ones(2, 3, 4).T.shape == (4, 3, 2)
        assert ember.ones(()).T.shape == ()
        assert ember.ones(2, 3).T.shape == (3, 2)  # 2 dims: no warning
    messages = [str(w.message) for w in caught]
    assert len(messages) == 2, messages  # once per process for n-d, once for 0-d
    assert messages[0].startswith("The use of `x.T` on tensors of dimension other than 2")
    assert messages[1].startswith("Tensor.T is deprecated on 0-D tensors")
    assert all(w.category is UserWarning for w in caught)
