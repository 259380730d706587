"""float16 tensors with Python numbers against torch.

PyTorch's float16 kernels differ per op: multiply and the divisions take the number at float
precision (so ``x * 2 ** 20`` is finite where float16 cannot hold the number), while add,
sub, pow, remainder and the reversed forms round it to float16 first.
"""

from __future__ import annotations

import numpy as np
import pytest
import torch

import ember

VALUES = [0.0, -1.0, 1.0, 0.3, 3.7, 1000.0, -0.0, 65504.0]
NUMBERS = [1.0001, 2.0 ** 20, 1e-8, 0.1, 3.3, 3, -7, 2 ** 40]
OPS = {
    "add": lambda x, s: x + s, "sub": lambda x, s: x - s, "rsub": lambda x, s: s - x,
    "mul": lambda x, s: x * s, "div": lambda x, s: x / s, "rdiv": lambda x, s: s / x,
    "pow": lambda x, s: x ** s, "rpow": lambda x, s: s ** x, "rem": lambda x, s: x % s,
    "rrem": lambda x, s: s % x, "floordiv": lambda x, s: x // s,
    "rfloordiv": lambda x, s: s // x, "add_": lambda x, s: x.clone().add_(s),
    "mul_": lambda x, s: x.clone().mul_(s), "sub_": lambda x, s: x.clone().sub_(s),
    "div_": lambda x, s: x.clone().div_(s), "mul()": lambda x, s: x.mul(s),
    "div_floor": lambda x, s: x.div(s, rounding_mode="floor"),
    "div_trunc": lambda x, s: x.div(s, rounding_mode="trunc"),
}


def _outcome(fn, x, s):
    try:
        return np.array(fn(x, s).tolist())
    except Exception as err:  # noqa: BLE001 - the oracle's error is what we compare
        return type(err).__name__


@pytest.mark.filterwarnings("ignore::RuntimeWarning")
@pytest.mark.parametrize("name", list(OPS))
@pytest.mark.parametrize("number", NUMBERS)
def test_half_tensor_with_a_number_matches_torch(name, number):
    fn = OPS[name]
    got = _outcome(fn, ember.tensor(VALUES, dtype=ember.float16), number)
    want = _outcome(fn, torch.tensor(VALUES, dtype=torch.float16), number)
    if isinstance(want, str):
        assert got == want
        return
    assert not isinstance(got, str), got
    np.testing.assert_array_equal(got, want)
