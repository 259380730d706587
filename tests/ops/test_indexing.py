"""Indexing tensors (seed 004's NumPy indexing section, on tensors) against torch: reading,
assignment, errors and gradients."""

from __future__ import annotations

import numpy as np
import pytest
import torch

import ember
from tests._surface_helpers import ember_text, outcome

SETUP = ("x = M.arange(24).reshape(2, 3, 4); y = M.arange(35).reshape(5, 7); v = M.arange(10); "
         "s = M.tensor(5); f = M.arange(24.).reshape(2, 3, 4)")


def _text(result) -> str:
    if result[0] == "err":
        return f"{result[1]}: {ember_text(result[2])}"
    return ember_text(repr(result[1]))


def _both(code: str, *, statement: bool = False):
    texts = []
    for M in (ember, torch):
        env = {"M": M, "np": np}
        exec(SETUP, env)  # noqa: S102
        if statement:
            def run(env=env):
                exec(code, env)  # noqa: S102
                return [env["x"], env["v"], env["f"]]
        else:
            def run(env=env):
                return eval(code, env)  # noqa: S307
        texts.append(_text(outcome(run)))
    return texts


def _split(block: str):
    return [e.strip() for e in block.replace("\n", ";").split(";") if e.strip()]


# The seed's examples, then every kind of index and their combinations.
GET = _split("""
v[2]; v[-2]; y[1, 3]; y[1, -1]; y[0]; y[0][2]; v[2:5]; v[:-7]; v[1:7:2]; y[1:5:2, ::3]
M.arange(81).reshape(3, 3, 3, 3)[1, ..., 2]; M.arange(81).reshape(3, 3, 3, 3)[1, :, :, 2]
y[:, None, :].shape; M.arange(10, 1, -1)[M.tensor([3, 3, 1, 8])]
M.arange(10, 1, -1)[M.tensor([[1, 1], [2, 3]])]
y[M.tensor([0, 2, 4]), M.tensor([0, 1, 2])]; y[M.tensor([0, 2, 4]), M.tensor([0, 1])]
y[M.tensor([0, 2, 4]), 1]; y[M.tensor([0, 2, 4])]; y[y > 20]; (y > 20)[:, 5]; y[(y > 20)[:, 5]]
x[M.tensor([[True, True, False], [False, True, True]])]
x[1, ..., 2]; x[..., 1]; x[...]; x[None]; x[:, None, :, None].shape; x[..., None].shape
x[None, ..., None, 1].shape; x[1, 2, 3]; x[0, 0, 0, ...]; x[()]; s[()]; s[...]; s[None]
x[..., 0, ...]; x[0, ..., ...]; x[..., None, ...].shape
v[[1, 2]]; v[np.array([1, 2])]; v[[True, False] * 5]; v[M.tensor(3)]; v[np.int64(3)]
v[[-1, -2]]; v[M.tensor([1, 2], dtype=M.int32)]; v[M.tensor(2, dtype=M.int8)]
x[:, M.tensor([0, 2])]; x[:, M.tensor([0, 2]), 1:3]; x[M.tensor([1, 0]), :, M.tensor([0, 3])]
x[..., M.tensor([0, 1])]; x[M.tensor([0, 1]), ..., M.tensor([2, 3])]; x[None, M.tensor([1])]
x[M.tensor([True, False])]; x[:, M.tensor([True, False, True])]; x[M.tensor(True)]
x[M.tensor(False)]; x[True]; x[False]; x[None, True]; x[True, 0]; x[0, True]; x[False, 0]
x[True, M.tensor([0, 1])]; x[M.tensor([0, 1]), True].shape; x[M.tensor([0, 1]), False].shape
x[M.ones(2, 3, 4, dtype=M.bool)]; x[M.zeros(2, 3, dtype=M.bool)]; v[[]]
v[M.tensor([], dtype=M.int64)]; x[[0, 1], [1, 2]]; x[[[0, 1], [1, 2]]]; x[(0, 1)]; x[[0, 1]]
x[1, M.tensor([0, 2]), M.tensor([1, 3])]; x[M.tensor([1]), 1:, M.tensor([1, 3])]
x[0, :, [1, 2]]; x[:, 0, [1, 2]]; x[[0], :, [1, 2]]; x[M.tensor(0), :, M.tensor([1, 2])]
x[1, :, M.tensor([1, 2])]; x[M.tensor([0, 1]), 1, M.tensor([1, 2])]
x[M.tensor([0, 1]), None, M.tensor([1, 2])].shape; x[None, M.tensor([0, 1]), None, M.tensor([1, 2])].shape
x[M.tensor([[0, 1]]), M.tensor([[1], [2]])].shape; x[M.tensor([[0, 1]]), :, M.tensor([[1], [2]])].shape
x[:, M.tensor([[0, 1]]), M.tensor([[1], [2]])].shape
x[M.tensor([[True, False, True], [False, True, True]]), M.tensor([0, 1, 3, 2])]
x[M.tensor([[True, False, True], [False, True, True]]), 1:3]
x[1:, M.tensor([[True, False, True, False], [False, True, True, False], [True, True, True, True]])]
x[M.tensor([True, True]), M.tensor([0, 2])]; x[M.tensor([True, False]), M.tensor([0, 2])]
v[M.tensor([1, 2], dtype=M.uint8)]; v[M.tensor([1, 0] * 5, dtype=M.uint8)]
v[::-1]; v[M.tensor(3):]; v[:M.tensor(2)]; v[1:8:M.tensor(3)]; v[0:0]; v[5:2]; v[-100:100]
y[:, 7:]; M.ones(0, 3)[:, 1]; v[[0, [1]]]; v[[0, 1, slice(None)]]; x[[0, slice(None), 1]]
x[[None, 0]]; x[[..., 0]]; v[[M.tensor(1), M.tensor(2)]]; v[[M.tensor([1])]]
v[[np.array([1, 2])]]; v[M.tensor([1, 2])[None]]; v[np.array([[1], [2]])]; v[np.array(3)]
v[np.array([True] * 10)]; v[(1, 2)]; v[[[1, 2]]]; v[(slice(1, 3),)]
v[[1.5]]; v[[-1.5]]; v[[1, 2.9]]; v[[[1.5, True]]]; x[[1, 1.0]]; x[[[]], 0]; v[[[], [1]]]
v[np.array([1.5])]; v[np.array([-1.5], dtype=np.float32)]; v[np.array([1], dtype=np.int8)]
v[np.array([1], dtype=np.uint16)]; v[np.array([3], dtype=np.int16)]; v[(np.array([1.5]),)]
v[[np.float64(1.5), 2]]; v[np.array([1e30])]; x[[range(2), range(2)]]; x[[range(2)]]
x[range(2)]; v[range(0)]; v[np.array([[1], [2]], dtype=np.float64)]
""")
BAD_GET = _split("""
v[10]; v[-11]; x[2]; x[-3]; x[:, -4]; x[..., 4]; x[0, 5]; x[0, :, 5]; x[1, 2, 3, 0]
v[M.tensor([10])]; v[M.tensor([-11])]; x[:, M.tensor([3])]; x[:, M.tensor([-4])]
x[M.tensor([0]), :, M.tensor([9])]; x[M.tensor([5]), :, M.tensor([9])]
x[M.tensor([-3, 0, 5])]; x[M.tensor([[0, 5], [-7, 1]])]; x[1, 1, M.tensor([4])]
x[None, 1, M.tensor([4])]; x[M.tensor([True, False]), M.tensor([7])]
x[M.tensor([[True, False, True], [True, True, True]]), M.tensor([0, 1, 2, 7, 1])]
y[M.tensor([0, 2, 4]), M.tensor([0, 1])]; x[[0, 1], [0, 1], [0, 1, 2]]
x[0, [0, 1], [0, 1, 2]]; x[M.tensor([[True, False, True], [True, True, True]]), M.tensor([0, 1])]
x[M.tensor([True, False, True])]; x[M.ones(2, 3, 5, dtype=M.bool)]
v[M.tensor([[True] * 10])]; v[[True, False]]; x[M.tensor([1]), M.tensor([2]), M.tensor([3]), M.tensor([0])]
s[0]; s[:]; s[[0]]; s[0, 0]; M.tensor([])[0]; v[M.tensor([1.])]; v['a']; v[1.5]
v[np.bool_(True)]; v[M.tensor([2, 3], dtype=M.int8)]; v[M.tensor([2], dtype=M.int16)]
v[2**63]; v[-2**63 - 1]; v[::0]; v[::-1]; v[0, 0]; x[0, 0, 0, 0]
v[[1e30]]; v[[float('nan')]]; v[['a']]; v[b'a']; v[[b'a']]; v[[1.5, 20]]
""")


@pytest.mark.parametrize("expr", GET)
def test_getitem_matches_torch(expr):
    ember_text_, torch_text = _both(expr)
    assert not torch_text.startswith(("IndexError", "TypeError", "ValueError",
                                      "RuntimeError")) or ember_text_ == torch_text
    assert ember_text_ == torch_text


@pytest.mark.parametrize("expr", BAD_GET)
def test_getitem_errors_match_torch(expr):
    ember_text_, torch_text = _both(expr)
    assert torch_text.split(":")[0].endswith("Error"), torch_text
    assert ember_text_ == torch_text


SET = _split("""
v[1] = 3; v[1:3] = 2; v[2:7] = 1; v[2:7] = M.arange(5); v[::2] = M.tensor([1, 2, 3, 4, 5])
v[M.tensor([0, 0, 3])] = M.tensor([1, 2, 3]); v[M.tensor([1, 1, 3, 1])] += 1
v[[1, 1, 3, 1]] += 1; v[M.tensor([True, False, True, False, True] * 2)] = 7; v[v == 0] = -1
f[0] = 1; f[0, 1] = M.arange(4.); f[:, 1] = M.tensor([[5.], [6.]]); f[..., 0] = M.tensor([1., 2., 3.])
f[None, 0] = 9; f[f > 10] = 0; f[f > 10] = M.tensor(3.); f[M.tensor([[True, False, True], [False, True, True]])] = M.arange(4.)
f[0, :, [1, 2]] = M.tensor([[1., 2.], [3., 4.], [5., 6.]]); f[[0, 1], :, [1, 2]] = 0
f[M.tensor([1, 0]), 1] = M.tensor([1., 2., 3., 4.]); f[M.tensor([0, 1]), M.tensor([1, 2])] = M.tensor([[7.], [8.]])
x[0] = 2.7; x[0] = M.tensor([1.5, 2.5, 3.5, 4.5]); x[x > 2] = 1.9; x[0, 0] = True
f[0] = M.tensor(2); f[0] = M.ones(1, 3, 4); v[0] = np.float64(2.5); v[0] = M.tensor([2]); v[:] = 1
v[...] = 2; v[:] = M.tensor(4); v[M.tensor(1)] = 5; v[True] = 4; v[False] = 4; v[None] = 3
v[[]] = 1; M.tensor(1.)[...] = 2; f[0][1] = 5; f[0][M.tensor([1])] = 5; f[:, 0][1] = -1
x[0, 0] = 2**40; v[M.tensor([2, 3], dtype=M.uint8)] = 9; f[..., M.tensor([0, 3])] = M.tensor([[1.], [2.], [3.]])
f[M.tensor([0, 0]), M.tensor([1, 1])] = M.tensor([[1., 2., 3., 4.], [5., 6., 7., 8.]])
f[False] = 1.; f[False] = M.ones(5); x[False] = 'a' if False else 2; f[0] = 2 + 0j; x[[0]] = 3 + 0j
v[1:3] = np.int64(2); v[1:3] = np.int8(2); f[0] = np.float64(2.5); f[:, 0] = M.tensor(3.)
v[[1.5, 2.5]] = 7; f[0, [0.5, 1.9]] = M.tensor([1., 2.]); v[:] = v; v[...] = v; f[0] = f[1]
f[:, 0] = f[:, 1]; v[::2] = v[1::2]; v[[0, 1]] = v[[0, 1]]; v[:5] = v[5:]
""")
BAD_SET = _split("""
v[1] = M.tensor([1, 2]); v[M.tensor([0, 1])] = M.tensor([1, 2, 3]); f[0] = M.ones(4, 4)
f[0, 1] = M.ones(3); v[:2] = M.ones(3); f[f > 5] = M.ones(2); v[10] = 1; v[M.tensor([10])] = 1
v[-11] = 1; x[M.tensor([0])] = M.tensor([[1.5, 2.5, 3.5, 4.5]]); f[M.tensor([1, 2])] = M.tensor([True, False])
v[0] = [1.]; v[:2] = [1, 2]; v[:2] = np.array([1, 2]); v[M.tensor([0, 1])] = [3, 4]
x[0] = float('nan'); v[M.tensor([0, 1])] = M.tensor([1., 2.]); f[0, 0, 0, 0] = 1; v['a'] = 1
f[0] = 1j; x[0] = 1j; x[[0]] = 1j; f[M.tensor([0])] = 2j; f[0] = np.float32(2.)
v[1:3] = np.bool_(True); f[0] = np.float16(1.); v[False] = 'a'; v[1:] = v[:-1]
v[[1, 2]] = v[3:5]; v[[1, 2]] = v[1:3]; f[0, 0] = f[0, 0, 1:]; del v[0]; del f[0, 1]
""")


@pytest.mark.parametrize("stmt", SET)
def test_setitem_matches_torch(stmt):
    ember_text_, torch_text = _both(stmt, statement=True)
    assert ember_text_ == torch_text


@pytest.mark.parametrize("stmt", BAD_SET)
def test_setitem_errors_match_torch(stmt):
    ember_text_, torch_text = _both(stmt, statement=True)
    assert torch_text.split(":")[0].endswith("Error"), torch_text
    assert ember_text_ == torch_text


def test_repeated_index_increment_adds_once():
    # The seed's example: x[[1, 1, 3, 1]] += 1 increments x[1] once, not three times.
    for M in (ember, torch):
        a = M.arange(0, 50, 10)
        a[M.tensor([1, 1, 3, 1])] += 1
        assert a.tolist() == [0, 11, 20, 31, 40]


def test_basic_indexing_returns_views_advanced_returns_copies():
    for M in (ember, torch):
        base = M.arange(12.0).reshape(3, 4).clone()
        view = base[1:, ::2]
        view[0, 0] = 100
        assert base[1, 0].item() == 100 and view._base is base
        copy = base[M.tensor([0, 1])]
        copy[0, 0] = -5
        assert base[0, 0].item() == 0 and copy._base is None
        masked = base[base > 5]
        masked.zero_()
        assert base.max().item() == 100


def test_index_put_like_torch():
    def build(M):
        v = M.zeros(5)
        v.index_put_((M.tensor([0, 1]),), M.tensor([1.0, 2.0]), accumulate=True)
        v.index_put_((M.tensor([0, 0]),), M.tensor(1.0), accumulate=True)
        a = M.index_put(v, (M.tensor([0, 0]),), M.tensor([1.0, 3.0]), True)
        v.index_put_([M.tensor([0])], M.tensor([5.0]))
        b = v.index_put((M.tensor([1]),), M.tensor([9.0]))
        m = M.zeros(2, 3)
        m.index_put_((M.tensor([1, 0]), M.tensor([2, 2])), M.tensor([4.0, 6.0]))
        m.index_put_((M.tensor([True, False]),), M.tensor([7.0, 8.0, 9.0]))
        return [v, a, b, m]
    e, t = build(ember), build(torch)
    for a, b in zip(e, t):
        assert ember_text(repr(b)) == repr(a)
    for bad in ("M.zeros(5).index_put_((M.tensor([0]),), 3.)",
                "M.zeros(5).index_put_((M.tensor([[True, False, True, False, True]]),), "
                "M.tensor(2.))",
                "M.zeros(5).index_put_((M.tensor([7]),), M.tensor(2.))",
                "M.zeros(5).index_put_((M.tensor([1]),), M.tensor(2))"):
        ember_text_, torch_text = _both(bad)
        assert torch_text.split(":")[0].endswith("Error") and ember_text_ == torch_text


# ---- gradients ---------------------------------------------------------------------------
GRAD_INDICES = [
    "M.tensor([0, 1, 1])", "(0, slice(None), [1, 2])",
    "(M.tensor([1, 0]), slice(None), M.tensor([0, 3]))",
    "M.tensor([[True, False, True], [False, True, True]])", "(Ellipsis, M.tensor([0, 0, 3]))",
    "(None, 1, M.tensor([2, 2]))", "(slice(None), M.tensor([True, False, True]))",
    "(1, slice(0, 3, 2), 2)", "(True, 0)", "(M.tensor([0, 1]), M.tensor([[1], [2]]))",
    "[[0, 1], [1, 2]]", "(slice(None), None, 1)", "MASK", "(Ellipsis, 1)", "1",
    "slice(1, None)", "(slice(None), slice(None))",
]


@pytest.mark.parametrize("index", GRAD_INDICES)
def test_gradients_of_getitem_and_setitem(index):
    results = []
    for M in (ember, torch):
        x = M.arange(24.0).reshape(2, 3, 4).div(7).requires_grad_()
        y = x * 1
        i = eval(index.replace("MASK", "y.detach() > 1.5"), {"M": M, "y": y})  # noqa: S307
        r = y[i]
        w = M.arange(float(r.numel())).reshape(r.shape) + 1
        (r * w).sum().backward()
        out = [type(r.grad_fn).__name__, list(r.shape), x.grad]
        x.grad = None
        y = x * 2
        val = M.full(r.shape, 5.0, requires_grad=True)
        y[i] = val * 3
        (y * M.arange(24.0).reshape(2, 3, 4)).sum().backward()
        out += [type(y.grad_fn).__name__, x.grad, val.grad]
        x.grad = None
        y = x * 1
        y[i] += 1
        y[i] *= M.full(r.shape, 2.0)
        (y ** 2).sum().backward()
        out += [y, x.grad]
        g, = M.autograd.grad((x[i] ** 3).sum(), x, create_graph=True)
        g2, = M.autograd.grad(g.sum(), x)
        out += [g, g2]
        results.append(out)
    for a, b in zip(*results):
        if isinstance(b, torch.Tensor):
            np.testing.assert_allclose(a.detach().numpy(), b.detach().numpy(), rtol=1e-5,
                                       atol=1e-5)
        else:
            assert a == b


def test_setitem_on_non_leaf_sends_gradients_to_value_and_tensor():
    results = []
    for M in (ember, torch):
        x = M.arange(1.0, 7.0).reshape(2, 3).requires_grad_()
        val = M.tensor([10.0, 20.0, 30.0], requires_grad=True)
        y = x * 2
        y[0] = val * 3
        (y * M.arange(6.0).reshape(2, 3)).sum().backward()
        results.append((repr(y), x.grad.tolist(), val.grad.tolist()))
    assert results[0][0] == ember_text(results[1][0])
    assert results[0][1:] == results[1][1:]


def test_setitem_into_tensor_without_grad_with_value_requiring_grad():
    results = []
    for M in (ember, torch):
        base = M.zeros(2, 3)
        w = M.ones(3, requires_grad=True)
        base[1] = w * 3
        base[M.tensor([0, 0])] = w[:1] * 2
        (base * M.arange(6.0).reshape(2, 3)).sum().backward()
        results.append((repr(base), w.grad.tolist()))
    assert results[0][0] == ember_text(results[1][0]) and results[0][1] == results[1][1]


# ---- t[i] for a Python int: the short path in Tensor.__getitem__ ---------------------------
INT_CASES = [
    ("M.arange(5)", 0), ("M.arange(5)", 4), ("M.arange(5)", -1), ("M.arange(5)", -5),
    ("M.arange(12.).reshape(3, 4)", 1), ("M.arange(12.).reshape(3, 4)", -3),
    ("M.arange(24, dtype=M.float64).reshape(2, 3, 4)", 1), ("M.zeros(3, 0)", 2),
    ("M.tensor([True, False, True])", 1), ("M.arange(6, dtype=M.uint8).reshape(2, 3)", -1),
    ("M.arange(12.).reshape(3, 4).t()", 2), ("M.arange(12.).reshape(3, 4)[1:]", 0),
    ("M.arange(12.).reshape(3, 4)[:, ::2]", -1), ("M.arange(24.).reshape(2, 3, 4)[1]", 2),
]


@pytest.mark.parametrize("make,i", INT_CASES)
def test_int_index_is_a_view_like_torch(make, i):
    results = []
    for M in (ember, torch):
        x = eval(make, {"M": M})  # noqa: S307
        base = x if x._base is None else x._base
        r = x[i]
        same_storage = r._base is base
        # (Strides of empty tensors are NumPy's, not torch's: compared where non-empty.)
        offset, strides = (r.storage_offset(), r.stride()) if x.numel() else (None, None)
        start = base.clone()
        if r.numel():
            r.fill_(1)  # writes through to the base
        results.append((repr(r), r.dtype.is_floating_point, same_storage, offset, strides,
                        r.is_contiguous(), r._version, base._version, x._version,
                        repr(base), bool((base != start).any()), r.requires_grad,
                        r.grad_fn is None))
    assert results[0][0] == ember_text(results[1][0])
    assert results[0][9] == ember_text(results[1][9])
    assert results[0][1:9] + results[0][10:] == results[1][1:9] + results[1][10:]
    assert results[0][2]  # r._base is the base


@pytest.mark.parametrize("expr", [
    "M.arange(5)[5]", "M.arange(5)[-6]", "M.arange(5)[2**40]", "M.arange(5)[2**63]",
    "M.arange(5)[-2**63 - 1]", "M.tensor(3)[0]", "M.zeros(0, 2)[0]", "M.zeros(0)[-1]",
    "M.arange(12.).reshape(3, 4).t()[4]",
])
def test_int_index_errors_match_torch(expr):
    ember_text_, torch_text = _both(expr)
    assert torch_text.split(":")[0].endswith("Error"), torch_text
    assert ember_text_ == torch_text


def test_int_index_records_select_backward_and_gradients_match_torch():
    results = []
    for M in (ember, torch):
        x = M.arange(24.0).reshape(2, 3, 4).div(5).requires_grad_()
        a, b = x[1], x[-2][2]
        names = [type(a.grad_fn).__name__, type(b.grad_fn).__name__,
                 type(b.grad_fn.next_functions[0][0]).__name__,
                 type(x[0].t()[3].grad_fn).__name__]
        (a * a).sum().add(b.mul(3).sum()).backward()
        g, = M.autograd.grad((x[0] ** 3).sum(), x, create_graph=True)
        gg, = M.autograd.grad(g[0, 1].sum(), x)
        with M.no_grad():
            c = x[1]
        y = x * 1  # a non-leaf: its views carry its grad_fn
        names += [c.grad_fn is None, c._base is x,
                  type(y[0].grad_fn).__name__, type(y[0].grad_fn.next_functions[0][0]).__name__]
        results.append((names, x.grad, g, gg))
    assert results[0][0] == results[1][0]
    for a, b in zip(results[0][1:], results[1][1:]):
        np.testing.assert_allclose(a.detach().numpy(), b.detach().numpy(), rtol=1e-6)


def test_inplace_on_int_index_view_bumps_the_shared_version_like_torch():
    outcomes = []
    for M in (ember, torch):
        w = M.ones(3, 2, requires_grad=True)
        x = M.arange(6.0).reshape(3, 2)  # requires no grad: the view takes the short path
        y = (w * x).sum()  # saves x
        v = x[1]
        v.add_(1)
        versions = (v._version, x._version)
        err = outcome(y.backward)
        # On a non-leaf: the base gets CopySlices and the gradient goes through the view.
        w2 = M.arange(1.0, 7.0).reshape(3, 2).requires_grad_()
        z = w2 * 2
        z[-1].mul_(w2[0])
        z.sum().backward()
        # A view made before an in-place change of its base regenerates its grad_fn.
        u = w2 * 1
        row = u[1]
        u.mul_(2)
        names = (type(z.grad_fn).__name__, type(row.grad_fn).__name__)
        row.sum().backward()
        outcomes.append((versions, err[:2], names, w2.grad.tolist(), err[2] if err[0] == "err"
                         else None))
    assert outcomes[0][:4] == outcomes[1][:4]
    assert outcomes[0][1][0] == "err"
    assert outcomes[0][4] == ember_text(outcomes[1][4])


def test_inplace_on_int_index_view_of_a_leaf_that_requires_grad():
    for M in (ember, torch):
        x = M.zeros(3, 2, requires_grad=True)
        with pytest.raises(RuntimeError, match="a view of a leaf Variable that requires grad "
                                               "is being used in an in-place operation"):
            x[1].add_(1)
        with M.no_grad():
            x[1].add_(1)
        assert x.tolist() == [[0.0, 0.0], [1.0, 1.0], [0.0, 0.0]] and x._version == 1


# ---- the graph a setitem records, and versions ------------------------------------------
def _node_names(t):
    fn = t.grad_fn
    if fn is None:
        return None
    return [type(fn).__name__, [None if n is None else type(n).__name__
                                for n, _ in fn.next_functions]]


SETITEM_GRAPHS = [
    "y[1] = val3", "y[0, 1] = val0", "y[0] = val0", "y[0] = val0.double()", "y[:, 0] = val2",
    "y[:] = val3[None]", "y[0] = val3[None]", "y[...] = 1", "y[0] = 1", "y[[0]] = 1",
    "y[M.tensor([1, 1])] = val3 * 2", "y[y > 2] = val0", "y[[0]] = val3[None]",
    "y[0] = 2 + 0j", "s[...] = 1", "s[...] = val0", "y[0][1] = val0", "y[True] = val3",
    "y[None, 1] = val3", "y[0] = M.tensor(4)", "z[0] = val3", "z[[0]] = val3", "z[0] = 1.5",
    "y[(True,)] = val3", "y[True, 0] = val3", "y[False] = val3", "y[None] = val3",
]


@pytest.mark.parametrize("stmt", SETITEM_GRAPHS)
def test_setitem_records_torchs_graph(stmt):
    """The nodes ``t[i] = v`` leaves (PyTorch: ``fill_`` with a 0-d tensor for numbers and
    0-d values, ``copy_`` of the value viewed without leading 1s and expanded, CopySlices
    wrapping the op for a view), the versions, and the gradients of ``t`` and ``v``."""
    results = []
    for M in (ember, torch):
        w = M.arange(1.0, 7.0).reshape(2, 3).requires_grad_()
        val0 = M.tensor(7.0, requires_grad=True)
        val2 = M.tensor([1.0, 2.0], requires_grad=True)
        val3 = M.tensor([1.0, 2.0, 3.0], requires_grad=True)
        y, s, z = w * 1, w.sum() * 1, M.zeros(2, 3)
        exec(stmt, {"M": M, "y": y, "s": s, "z": z, "val0": val0, "val2": val2,  # noqa: S102
                    "val3": val3})
        target = z if stmt.startswith("z") else s if stmt.startswith("s") else y
        out = [_node_names(target), target._version, target.requires_grad, target.is_leaf]
        if target.requires_grad:
            (target * M.arange(float(target.numel())).reshape(target.shape)).sum().backward()
        out += [None if t.grad is None else t.grad.tolist() for t in (w, val0, val2, val3)]
        results.append(out)
    assert results[0] == results[1]


@pytest.mark.parametrize("stmt", [
    "w[0] = 1", "w[[0]] = 1", "w[w > 2] = 1", "w[M.tensor([], dtype=M.int64)] = 1",
    "w[False] = 1", "w[...] = 1", "leafview[0] = 1", "leafview.zero_()", "leafview[0].add_(1)",
    "leafview[[0]] = 1",
])
def test_setitem_on_a_leaf_or_a_view_of_one_raises_like_torch(stmt):
    """A view that requires grad of a leaf (even one that does not require grad itself, as
    ``arange(6.).reshape(2, 3).requires_grad_()`` is) may not be changed in place."""
    results = []
    for M in (ember, torch):
        w = M.zeros(2, 3, requires_grad=True)
        leafview = M.arange(6.0).reshape(2, 3).requires_grad_()
        r = outcome(lambda M=M, w=w, lv=leafview: exec(stmt, {"M": M, "w": w, "leafview": lv}))  # noqa: S102
        results.append((r[0], r[1:] if r[0] == "err" else None, w._version, leafview._version))
    assert results[0][0] == results[1][0]
    assert results[0][1:] == (results[1][1] and (results[1][1][0], ember_text(results[1][1][1])),
                              ) + results[1][2:]
