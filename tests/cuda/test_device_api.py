"""``ember.cuda``'s device API on a machine without a GPU: what needs none works, the rest
raises a clear RuntimeError (torch's CPU build raises its own "not compiled" errors)."""

from __future__ import annotations

import pytest
import torch

import ember

pytestmark = pytest.mark.skipif(ember.cuda.is_available(), reason="checks the no-GPU errors")


@pytest.mark.parametrize("call", [
    lambda m: m.cuda.device(1).__enter__(),
    lambda m: m.cuda.current_device(),
    lambda m: m.tensor([1.0]).cuda(),
    lambda m: m.tensor([1.0], device="cuda:0"),
    lambda m: m.zeros(2, device="cuda"),
])
def test_cuda_calls_raise_without_a_gpu(call):
    with pytest.raises(RuntimeError, match="Found no NVIDIA driver"):
        call(ember)
    with pytest.raises((RuntimeError, AssertionError)):  # torch: "not compiled with CUDA"
        call(torch)


@pytest.mark.parametrize("index", [None, -1])
def test_device_context_without_an_index_changes_nothing(index):
    with ember.cuda.device(index) as ctx:
        assert ember.zeros(1).device == ember.device("cpu")
    assert ctx.idx == -1


def test_device_context_refuses_a_cpu_device_as_torch():
    with pytest.raises(ValueError) as expected:
        torch.cuda.device("cpu")
    with pytest.raises(ValueError) as got:
        ember.cuda.device("cpu")
    assert str(got.value) == str(expected.value)


def test_set_device_with_a_negative_index_does_nothing():
    ember.cuda.set_device(-1)
    assert ember.cuda.device_count() == 0
