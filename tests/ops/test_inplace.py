"""In-place ops: values, version counters, autograd errors and gradients, against torch."""

from __future__ import annotations

import numpy as np
import pytest
import torch

import ember
from tests._surface_helpers import (
    assert_same,
    assert_same_error,
    assert_same_outcome,
    ember_text,
    outcome,
)


def _run(build):
    e, t = build(ember), build(torch)
    assert len(e) == len(t)
    for a, b in zip(e, t):
        if isinstance(b, torch.Tensor):
            assert_same(a, b, rtol=1e-5, atol=1e-6)
        else:
            assert a == b, (a, b)


def _name(t):
    return None if t.grad_fn is None else type(t.grad_fn).__name__


def _grad(t):
    return t.grad


# (method, args) where "T" is a tensor that requires grad, "S" a 0-d one.
INPLACE = [
    ("add_", (2.0,), {}), ("add_", ("T",), {}), ("add_", ("T",), {"alpha": 3}),
    ("sub_", (2.0,), {}), ("sub_", ("T",), {}), ("sub_", ("T",), {"alpha": 2}),
    ("mul_", (2.0,), {}), ("mul_", ("T",), {}), ("div_", (2.0,), {}), ("div_", ("T",), {}),
    ("zero_", (), {}), ("fill_", (3.0,), {}), ("fill_", ("S",), {}), ("copy_", ("T",), {}),
    ("copy_", ("R",), {}), ("clamp_", (0.0, 2.0), {}), ("clamp_", (), {"min": 0.0}),
    ("clamp_", (), {"max": 1.0}), ("clamp_", ("T", "T2"), {}), ("pow_", (2,), {}),
    ("exp_", (), {}), ("sigmoid_", (), {}), ("relu_", (), {}), ("tanh_", (), {}),
    ("neg_", (), {}), ("abs_", (), {}), ("sqrt_", (), {}), ("log_", (), {}),
]


@pytest.mark.parametrize("method,args,kwargs", INPLACE,
                         ids=[f"{m}{i}" for i, (m, _, _) in enumerate(INPLACE)])
def test_inplace_method_values_and_gradients(method, args, kwargs):
    def build(M):
        x = M.tensor([0.5, 1.5, 2.0], requires_grad=True)
        o = M.tensor([2.0, 3.0, 4.0], requires_grad=True)
        o2 = M.tensor([3.0, 1.0, 5.0], requires_grad=True)
        s = M.tensor(2.5, requires_grad=True)
        row = M.tensor([[7.0, 8.0, 9.0]], requires_grad=True)
        y = x * 1.5
        pick = {"T": o * 1, "T2": o2 * 1, "S": s * 1, "R": row[0] * 1}
        a = [pick.get(v, v) if isinstance(v, str) else v for v in args]
        out = getattr(y, method)(*a, **kwargs)
        result = [out is y, _name(y), y.detach().clone(), y._version]
        (y * M.tensor([1.0, 2.0, 3.0])).sum().backward()
        return result + [x.grad, o.grad is None, s.grad is None, row.grad is None] + [
            t.grad for t in (o, s, row, o2) if t.grad is not None]
    _run(build)


@pytest.mark.parametrize("op", ["+=", "-=", "*=", "/="])
def test_augmented_assignment_is_in_place(op):
    def build(M):
        x = M.tensor([0.5, -1.5, 2.0], requires_grad=True)
        o = M.tensor([2.0, 3.0, 4.0], requires_grad=True)
        y = x * 1.5
        before = y
        env = {"y": y, "o": o}
        exec(f"y {op} o", env)  # noqa: S102
        exec(f"y {op} 2", env)  # noqa: S102
        y = env["y"]
        out = [y is before, _name(y), y.detach().clone(), y._version]
        y.sum().backward()
        return out + [x.grad, o.grad]
    _run(build)


def test_augmented_assignment_without_grad_keeps_storage():
    def build(M):
        a = M.arange(6.0).reshape(2, 3)
        alias = a.view(6)
        a += 1
        a *= M.tensor([1.0, 2.0, 3.0])
        a -= 0.5
        a /= 2
        return [alias, a._version]
    _run(build)


def test_inplace_on_integer_tensors():
    def build(M):
        a = M.arange(6).reshape(2, 3)
        a += 2
        a *= 3
        a.sub_(M.tensor([1, 2, 3]))
        a.clamp_(0, 10)
        a.fill_(4) if False else None
        a.copy_(M.tensor([1.7, 2.2, -3.9]))
        b = M.tensor([1, 2], dtype=M.uint8)
        b -= 3
        c = M.tensor([100, 120], dtype=M.int8)
        c += 100
        return [a, b, c]
    _run(build)


# ---- errors ------------------------------------------------------------------------------
LEAF_CASES = [
    lambda M, x: x.add_(1), lambda M, x: x[0].mul_(2), lambda M, x: x.__setitem__(0, 3.0),
    lambda M, x: x.zero_(), lambda M, x: x.view(3).fill_(1), lambda M, x: x.copy_(M.zeros(3)),
    lambda M, x: x.unsqueeze(0).clamp_(0, 1), lambda M, x: x.__setitem__(M.tensor([0]), 1.0),
    lambda M, x: x.__iadd__(1), lambda M, x: x.exp_(), lambda M, x: x[1:].sigmoid_(),
    lambda M, x: x.__setitem__(M.tensor([True, False, True]), M.ones(2)),
]


@pytest.mark.parametrize("case", range(len(LEAF_CASES)))
def test_inplace_on_leaf_or_view_of_leaf_raises(case):
    f = LEAF_CASES[case]
    ex, tx = ember.ones(3, requires_grad=True), torch.ones(3, requires_grad=True)
    assert_same_error(lambda: f(ember, ex), lambda: f(torch, tx))
    assert ex._version == tx._version


def test_inplace_on_leaf_under_no_grad_is_allowed():
    def build(M):
        x = M.ones(3, requires_grad=True)
        with M.no_grad():
            x.add_(1)
            x[0] = 5
            x.mul_(M.tensor([1.0, 2.0, 3.0]))
        (x * x).sum().backward()
        return [x.detach().clone(), x._version, x.grad, x.requires_grad, x.is_leaf]
    _run(build)


def test_modified_saved_tensor_raises_at_backward():
    for modify in (lambda y: y.add_(1), lambda y: y.__setitem__(0, 2.0),
                   lambda y: y[1:].mul_(2), lambda y: y.zero_()):
        def forward(M, modify=modify):
            x = M.ones(3, requires_grad=True)
            y = x * 2
            z = y * y
            modify(y)
            z.sum().backward()
        msg = assert_same_error(lambda: forward(ember), lambda: forward(torch))
        assert "modified by an inplace operation" in msg


def test_result_saving_ops_then_inplace_raise_or_work_like_torch():
    def modified_result(M):
        x = M.tensor([0.1, 0.2], requires_grad=True)
        y = x.exp()
        y.mul_(2)
        y.sum().backward()
    assert_same_error(lambda: modified_result(ember), lambda: modified_result(torch))

    for ops in (("exp_", "exp_"), ("sigmoid_", "relu_"), ("exp_", "mul_"), ("tanh_", "add_"),
                ("relu_", "neg_"), ("exp_",), ("sigmoid_",), ("relu_",)):
        def chain(M, ops=ops):
            x = M.tensor([0.1, -0.2], requires_grad=True)
            y = x * 1
            for op in ops:
                getattr(y, op)(*((2.0,) if op in ("mul_", "add_") else ()))
            y.sum().backward()
            return x.grad
        assert_same_outcome(lambda chain=chain: chain(ember), lambda chain=chain: chain(torch))

    def view_of_result(M):
        x = M.tensor([0.3, -0.2, 0.5], requires_grad=True)
        y = x.sigmoid()
        z = y * 1
        v = z[:2]
        v.exp_()
        (z * y).sum().backward()
        return [z, x.grad]
    _run(view_of_result)


def test_detached_alias_modified_in_place():
    def build(M):
        x = M.ones(3, requires_grad=True)
        y = x.exp()
        y.detach().zero_()
        try:
            y.sum().backward()
            return ["ok", x.grad]
        except RuntimeError as e:
            return [type(e).__name__, "modified by an inplace operation" in str(e)]
    _run(build)


def test_cast_errors_in_place():
    cases = [
        (lambda M: M.ones(2, dtype=M.int64).add_(1.5)),
        (lambda M: M.ones(2, dtype=M.int64).mul_(M.ones(2))),
        (lambda M: M.ones(2, dtype=M.int32).div_(2)),
        (lambda M: M.ones(2, dtype=M.bool).add_(1)),
        (lambda M: M.ones(2, dtype=M.uint8).sub_(M.ones(2, dtype=M.int8))),
        (lambda M: M.ones(2).add_(M.ones(3))),
        (lambda M: M.ones(2).mul_(M.ones(2, 2))),
        (lambda M: M.ones(2).copy_(M.ones(3))),
        (lambda M: M.ones(2).copy_(3)),
        (lambda M: M.ones(2).fill_(M.ones(2))),
        (lambda M: M.ones(2, dtype=M.int64).fill_(float("nan"))),
        (lambda M: M.ones(2, dtype=M.int8).fill_(300)),
        (lambda M: M.ones(2).clamp_()),
    ]
    for f in cases:
        assert_same_outcome(lambda f=f: f(ember), lambda f=f: f(torch))


def test_copy_casts_and_broadcasts():
    def build(M):
        a = M.zeros(2, 3)
        a.copy_(M.tensor([1, 2, 3]))
        b = M.zeros(2, 3, dtype=M.int64)
        b.copy_(M.tensor([[1.7], [-2.5]]))
        c = M.zeros(3, dtype=M.bool)
        c.copy_(M.tensor([0.0, 2.0, 0.0]))
        d = M.zeros(2, dtype=M.uint8)
        d.fill_(-1)
        return [a, b, c, d]
    _run(build)


def test_fill_with_values_of_other_types():
    def build(M):
        a = M.zeros(3, dtype=M.int32)
        a.fill_(2.9)
        b = M.zeros(2)
        b.fill_(True)
        c = M.zeros(2, dtype=M.bool)
        c.fill_(3)
        d = M.zeros(2)
        d.fill_(M.tensor(4))
        e = M.zeros(2, dtype=M.int64)
        e.fill_(np.int16(7))
        return [a, b, c, d, e]
    _run(build)


def test_grad_zero_and_accumulation_cycle():
    def build(M):
        w = M.tensor([1.0, 2.0], requires_grad=True)
        for _ in range(3):
            (w * w).sum().backward()
        g1 = w.grad.clone()
        w.grad.zero_()
        (w * 3).sum().backward()
        with M.no_grad():
            w -= 0.1 * w.grad
        return [g1, w.grad, w.detach().clone(), w.is_leaf, w._version]
    _run(build)


def test_inplace_on_a_view_made_in_no_grad_mode_raises_as_torch():
    for make_base in (lambda m: m.ones(3, requires_grad=True),
                      lambda m: m.ones(3, requires_grad=True) * 1):
        errors = []
        for m in (ember, torch):
            base = make_base(m)
            with m.no_grad():
                view = base[1:]
                view.mul_(2)  # inside no_grad: allowed, and not tracked
            with pytest.raises(RuntimeError) as err:
                view.add_(1)
            errors.append(str(err.value))
            base.detach().add_(1)  # a detached tensor is no view: allowed
            plain = m.ones(3)
            with m.no_grad():
                plain_view = plain[:2]
            plain_view.add_(1)  # a view of a tensor that does not require grad: allowed
            assert plain.tolist() == [2.0, 2.0, 1.0]
        assert errors[0] == errors[1]
        assert errors[0].startswith("A view was created in no_grad mode")


def test_inplace_on_a_view_made_in_inference_mode_raises_as_torch():
    errors = []
    for m in (ember, torch):
        base = m.ones(3, requires_grad=True)
        with m.inference_mode():
            view = base[1:]
        with pytest.raises(RuntimeError) as err:
            view.add_(1)
        errors.append(str(err.value))
    assert errors[0] == errors[1]
    assert errors[0].startswith("A view was created in inference mode")


# ---- memory overlap: expanded views and partly overlapping inputs ---------------------------
OVERLAP = [
    "v.expand(3, 10)[0].add_(1)", "v.expand(3, 10).add_(1)", "v.expand(3, 10)[0].fill_(1)",
    "v.expand(3, 10).fill_(1)", "v.expand(3, 10)[:, 0].fill_(1)", "v.expand(3, 10)[0].zero_()",
    "v.expand(3, 10)[0].copy_(v)", "v.expand(3, 10).copy_(v)", "v.expand(3, 10)[[0]] = 1",
    "v.expand(3, 10)[0][[0]] = 1", "v.unsqueeze(0).expand(2, 10).add_(1)",
    "v[:1].expand(3).fill_(2)", "v.expand(2, 10).mul_(2)", "v.expand(2, 10).exp_()",
    "v.expand(2, 10)[0] = v", "v.expand(2, 10)[0] = M.ones(10)", "v.expand(2, 10)[:, 0] = 1",
    "v.expand(2, 10)[:, 0] = M.ones(2)", "v.expand(2, 10)[:, 0] = M.tensor(1.)",
    "v.expand(2, 10)[...] = 1", "v.expand(2, 10).zero_()", "v.expand(2, 10)[1:] += 1",
    "v.expand(2, 10).fill_(M.tensor(1.))", "v.expand(2, 10)[:, 0].fill_(M.tensor(1.))",
    "v.expand(2, 10).copy_(M.ones(2, 10))", "v.expand(2, 10).add_(1, alpha=2)",
    "v[1:].add_(v[:-1])", "v[1:].copy_(v[:-1])", "v[:5].copy_(v[5:])", "v[::2].copy_(v[1::2])",
    "v[[1, 2]] = v[3:5]", "v[[1, 2]] = v[1:3]", "v[[0, 1]] = v[[0, 1]]",
    "v.index_put_((M.tensor([1, 2]),), v[1:3])",
    "v.index_put_((M.tensor([1, 2]),), v[1:3], accumulate=True)", "v.add_(v)",
    "v.mul_(v.view(2, 5).view(10))", "v.view(2, 5).t().add_(v.view(2, 5).t())",
    "v[1:].mul_(2).add_(v[:-1])", "v.detach()[1:].add_(v[:-1])", "v[:5].add_(v[5:])",
    "v[1:].pow_(v[:-1])", "v[1:].clamp_(v[:-1])", "v[1:] = v[:-1]", "v[:] = v",
    "v.view(2, 5)[0] = v.view(2, 5)[1]", "v.view(2, 5)[:, 0] = v.view(2, 5)[:, 1]",
    "w[1:].add_(w[:-1])", "w[1:].mul_(w[:-1] * 1)", "w.clone()[1:].sub_(w[:-1])",
    "y = w * 1; y[1:].add_(y[:-1])", "y = w * 1; y[1:] = y[:-1]",
]


@pytest.mark.parametrize("stmt", OVERLAP)
def test_memory_overlap_like_torch(stmt):
    """Writing into an expanded view works where no two written elements share memory
    (PyTorch: ``fill_`` with a number, a row of the expansion) and raises otherwise; an
    input that partly overlaps the written tensor raises (for ``index_put_``, any overlap)."""
    results = []
    for M in (ember, torch):
        v = M.arange(10.0)
        w = M.arange(10.0, requires_grad=True) * 1
        r = outcome(lambda M=M, v=v, w=w: exec(stmt, {"M": M, "v": v, "w": w}))  # noqa: S102
        results.append(("ok", np.round(v.numpy(), 3).tolist(), v._version) if r[0] == "ok"
                       else (r[1], ember_text(r[2])))
    assert results[0] == results[1]


def test_deleting_items_is_a_type_error_and_complex_fills_like_torch():
    for stmt in ("del v[0]", "v.fill_(1j)", "i.fill_(2 + 0j)", "b.fill_(1j)", "h.fill_(1j)"):
        results = []
        for M in (ember, torch):
            env = {"v": M.arange(3.0), "i": M.arange(3), "b": M.zeros(2, dtype=M.bool),
                   "h": M.zeros(2, dtype=M.float16)}
            r = outcome(lambda env=env, stmt=stmt: exec(stmt, env))  # noqa: S102
            results.append((r[0], r[1:] and (r[1], ember_text(r[2])) if r[0] == "err" else
                            [env[k].tolist() for k in ("v", "i", "b")]))
        assert results[0] == results[1], stmt
