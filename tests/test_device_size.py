"""``ember.device`` and ``ember.Size`` against torch's."""

from __future__ import annotations

import copy
import pickle

import pytest
import torch

import ember
from tests._surface_helpers import outcome


def _text(result) -> str:
    if result[0] == "err":
        return f"{result[1]}: {result[2].replace('torch.', 'ember.')}"
    return repr(result[1]).replace("torch.", "ember.")


def _same(expr: str) -> None:
    got = []
    for M in (ember, torch):
        env = {"M": M, "pickle": pickle, "copy": copy}
        got.append(_text(outcome(lambda env=env: eval(expr, env))))  # noqa: S307
    assert got[0] == got[1], expr


DEVICE = """
M.device('cpu'); M.device('cuda'); M.device('cuda:1'); M.device('cuda', 1); M.device('cpu', 0)
M.device('cpu:0'); M.device('mps'); M.device('meta'); M.device('xpu'); M.device('gpu'); M.device('cuda:-1')
M.device('cuda', -1); M.device(-1); M.device('cuda:x'); M.device('cuda:0', 1); M.device(' cpu'); M.device('CPU')
M.device('cuda:01'); M.device('cuda: 1'); M.device('cuda:1:2'); M.device(1.5); M.device(None)
M.device(M.device('cuda:2')); M.device(M.device('cuda:2'), 1); M.device(type='cuda', index=2)
M.device('cuda', index=2); M.device(type='cpu'); M.device('cuda:')
str(M.device('cpu')); str(M.device('cuda:3')); M.device('cpu') == M.device('cpu')
M.device('cpu') == M.device('cpu', 0); M.device('cpu') == 'cpu'; M.device('cuda:0') == M.device('cuda')
M.device('cpu') != M.device('cuda'); hash(M.device('cpu')) == hash(M.device('cpu'))
M.device('cuda:1').index; M.device('cuda:1').type; M.device('cpu').index; {M.device('cpu'): 1}[M.device('cpu')]
pickle.loads(pickle.dumps(M.device('cuda:1'))); copy.deepcopy(M.device('cpu')); f"{M.device('cuda:2')}"
M.ones(2).device; M.ones(2).device == M.device('cpu'); str(M.ones(2).device); M.ones(2, device='cpu').device
M.ones(2, device=M.device('cpu')).to('cpu').device; M.zeros(2).to(device=M.device('cpu')).device.type
""".replace("\n", ";").split(";")

SIZE = """
M.Size([2, 3]); M.Size(); M.Size([]); M.Size((4,)); str(M.Size([2, 3])); M.Size([2, 3])[1:]; M.Size([2, 3])[0]
M.Size([2, 3])[-1]; M.Size([2, 3]).numel(); M.Size([]).numel(); M.Size([2, 0]).numel(); len(M.Size([2, 3]))
M.Size([2, 3]) + (4,); (1,) + M.Size([2]); M.Size([2]) + M.Size([3]); M.Size([2, 3]) == (2, 3)
M.Size([2, 3]) == [2, 3]; M.Size([2]) * 2; 2 * M.Size([2]); list(M.Size([2, 3])); tuple(M.Size([2, 3]))
M.Size([2.5]); M.Size(['a']); M.Size(3); M.Size([M.tensor(2), 3]); M.Size([-1]); isinstance(M.Size([1]), tuple)
pickle.loads(pickle.dumps(M.Size([2, 3]))); M.Size([1, 2]).count(1); M.Size([1, 2]).index(2)
hash(M.Size([1])) == hash((1,)); M.Size([2, 3])[::-1]; type(M.Size([2, 3])[::-1]).__name__
type(M.Size([2]) + (3,)).__name__; type((3,) + M.Size([2])).__name__; type(M.Size([2]) * 2).__name__
f'{M.Size([2, 3])}'; format(M.Size([2])); M.Size([2, 3]) != (2, 3); M.Size([True]); M.Size(i for i in range(3))
M.Size([2]) + [3]; M.ones(2, 3).shape; M.ones(2, 3).size(); M.ones(()).shape; M.ones(2, 3).shape[1:]
type(M.ones(2, 3).shape[1:]).__name__; M.ones(2, 3).shape.numel(); M.zeros(M.ones(4, 1).shape).shape
copy.deepcopy(M.Size([1, 2]))
""".replace("\n", ";").split(";")


@pytest.mark.parametrize("expr", [e.strip() for e in DEVICE if e.strip()])
def test_device_matches_torch(expr):
    _same(expr)


@pytest.mark.parametrize("expr", [e.strip() for e in SIZE if e.strip()])
def test_size_matches_torch(expr):
    _same(expr)


def test_device_from_integer_without_accelerator():
    if ember.cuda.is_available():
        assert ember.device(0) == ember.device("cuda", 0)
    else:
        _same("M.device(0)")
