"""Named tuples returned by ops print and behave as torch's ``torch.return_types``."""

from __future__ import annotations

import pytest
import torch

import ember


@pytest.mark.parametrize("call", [
    lambda m, x: x.max(dim=1), lambda m, x: x.min(0), lambda m, x: m.max(x, 1, keepdim=True),
    lambda m, x: m.min(x, dim=-1),
])
def test_return_types_match_torch(call):
    data = [[0.5, -1.0, 2.0], [3.0, 0.25, -2.5]]
    e = call(ember, ember.tensor(data))
    t = call(torch, torch.tensor(data))
    assert repr(e) == repr(t).replace("torch.", "ember.")
    assert str(e) == str(t).replace("torch.", "ember.")
    assert type(e).__name__ == type(t).__name__
    assert type(e).__module__ == "ember.return_types"
    assert e.values.tolist() == t.values.tolist()
    assert e.indices.tolist() == t.indices.tolist()
    values, indices = e
    assert values is e[0] and indices is e[1]
    assert isinstance(e, tuple) and len(e) == 2
