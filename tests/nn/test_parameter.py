"""``nn.Parameter`` against torch: printing, storage sharing, and use as an op input."""

from __future__ import annotations

import copy
import pickle

import numpy as np
import pytest
import torch

import ember
from ember import nn


def _pair(shape, seed=0):
    arr = np.random.default_rng(seed).standard_normal(shape).astype(np.float32)
    return nn.Parameter(ember.tensor(arr)), torch.nn.Parameter(torch.tensor(arr))


def test_repr_matches_torch():
    for data in ([1.0, 2.5], [[0.0, 1.0], [2.0, 3.0]]):
        assert repr(nn.Parameter(ember.tensor(data))) == repr(torch.nn.Parameter(torch.tensor(data)))
    assert repr(nn.Parameter(ember.zeros(2), requires_grad=False)) == \
        repr(torch.nn.Parameter(torch.zeros(2), requires_grad=False))
    assert repr(nn.Parameter(ember.zeros(2, dtype=ember.float64))) == \
        repr(torch.nn.Parameter(torch.zeros(2, dtype=torch.float64))).replace("torch.", "ember.")
    assert repr(nn.Parameter()) == repr(torch.nn.Parameter())
    assert str(nn.Parameter(ember.ones(3))) == str(torch.nn.Parameter(torch.ones(3)))


def test_is_a_leaf_tensor_that_requires_grad():
    p = nn.Parameter(ember.ones(3))
    assert isinstance(p, ember.Tensor) and isinstance(p, nn.Parameter)
    assert p.requires_grad and p.is_leaf and p.grad_fn is None
    assert not nn.Parameter(ember.ones(3), requires_grad=False).requires_grad


def test_shares_storage_and_version_with_its_data():
    t = ember.zeros(3)
    p = nn.Parameter(t)
    tt = torch.zeros(3)
    pt = torch.nn.Parameter(tt)
    t.add_(1)
    tt.add_(1)
    assert p.tolist() == pt.tolist()
    assert p._version == pt._version and t._version == tt._version


def test_made_from_a_non_leaf_is_a_leaf():
    w = ember.ones(2, requires_grad=True)
    p = nn.Parameter(w * 2)
    wt = torch.ones(2, requires_grad=True)
    pt = torch.nn.Parameter(wt * 2)
    assert p.is_leaf == pt.is_leaf and p.grad_fn is None


def test_integer_data_cannot_require_grad():
    with pytest.raises(RuntimeError) as e:
        nn.Parameter(ember.tensor([1, 2]))
    with pytest.raises(RuntimeError) as et:
        torch.nn.Parameter(torch.tensor([1, 2]))
    assert str(e.value) == str(et.value)
    p = nn.Parameter(ember.tensor([1, 2]), requires_grad=False)
    assert p.dtype == ember.int64 and not p.requires_grad


def test_ops_on_a_parameter_return_plain_tensors():
    p, pt = _pair((2, 3))
    for fn in (lambda x: x * 2, lambda x: x.detach(), lambda x: x.data, lambda x: x[0],
               lambda x: x.sum(), lambda x: x.t(), lambda x: x.clone()):
        assert type(fn(p)) is ember.Tensor
        assert type(fn(pt)) is torch.Tensor


@pytest.mark.parametrize("op", [
    lambda x, y: (x * y + x / (y.abs() + 1) - x ** 2).sum(),
    lambda x, y: (x.tanh() + x.sigmoid() + x.exp() + x.relu()).mean(),
    lambda x, y: (x @ y.t()).sum(),
    lambda x, y: x.matmul(y.transpose(0, 1)).max(),
    lambda x, y: (x.view(6) * y.reshape(6)).sum() + x.unsqueeze(0).squeeze(0).sum(),
    lambda x, y: (x[0] * y[:, 1:].sum()).sum() + x[x > 0].sum(),
    lambda x, y: x.sum(dim=1).prod() + x.mean(0, keepdim=True).sum(),
    lambda x, y: ((x - y) ** 2).mean(),
], ids=["arith", "unary", "matmul", "matmul-max", "views", "indexing", "reductions", "mse"])
def test_parameter_as_op_input_gives_torch_grads(op):
    p, pt = _pair((2, 3), 1)
    q, qt = _pair((2, 3), 2)
    out = op(p, q)
    out_t = op(pt, qt)
    assert type(out) is ember.Tensor
    np.testing.assert_allclose(out.item(), out_t.item(), rtol=1e-5)
    out.backward()
    out_t.backward()
    for e, t in ((p, pt), (q, qt)):
        if t.grad is None:
            assert e.grad is None
        else:
            np.testing.assert_allclose(e.grad.numpy(), t.grad.numpy(), rtol=1e-5, atol=1e-6)


def test_in_place_update_under_no_grad_and_leaf_error():
    p, pt = _pair((3,))
    with ember.no_grad():
        p -= 0.5 * ember.ones(3)
        p.mul_(2)
    with torch.no_grad():
        pt -= 0.5 * torch.ones(3)
        pt.mul_(2)
    np.testing.assert_allclose(p.detach().numpy(), pt.detach().numpy())
    assert isinstance(p, nn.Parameter) and p._version == pt._version
    with pytest.raises(RuntimeError) as e:
        p.add_(1)
    with pytest.raises(RuntimeError) as et:
        pt.add_(1)
    assert str(e.value) == str(et.value)


def test_deepcopy_and_pickle_keep_the_class():
    p = nn.Parameter(ember.tensor([1.0, 2.0]))
    p.grad = ember.tensor([0.5, 0.5])
    q = copy.deepcopy(p)
    pt = torch.nn.Parameter(torch.tensor([1.0, 2.0]))
    pt.grad = torch.tensor([0.5, 0.5])
    qt = copy.deepcopy(pt)
    assert type(q) is nn.Parameter and q.requires_grad == qt.requires_grad
    assert q.tolist() == p.tolist() == qt.tolist()
    # torch's Parameter.__deepcopy__ copies the values and requires_grad, not the grad
    assert (q.grad is None) == (qt.grad is None) and q.is_leaf == qt.is_leaf
    frozen, frozen_t = (copy.deepcopy(lib.nn.Parameter(lib.ones(1), requires_grad=False))
                        for lib in (ember, torch))
    assert frozen.requires_grad == frozen_t.requires_grad
    with ember.no_grad():
        q.add_(1)
    assert p.tolist() == [1.0, 2.0]
    r = pickle.loads(pickle.dumps(nn.Parameter(ember.tensor([3.0]), requires_grad=False)))
    assert type(r) is nn.Parameter and r.tolist() == [3.0] and not r.requires_grad
