"""Shared test setup: torch is the oracle; CUDA tests skip without a GPU."""

from __future__ import annotations

import os

import numpy as np
import pytest
from hypothesis import settings

import ember

# CI must be repeatable: there, hypothesis draws the same examples every run (derandomize);
# elsewhere each run explores new ones.
settings.register_profile("ci", derandomize=True, database=None)
if os.environ.get("CI"):
    settings.load_profile("ci")


def pytest_collection_modifyitems(config, items):
    if ember.cuda.is_available():
        return
    skip = pytest.mark.skip(reason="needs a CUDA device")
    for item in items:
        if item.get_closest_marker("cuda") is not None:
            item.add_marker(skip)


@pytest.fixture(autouse=True)
def _restore_global_state():
    """Tests must not leak grad mode, default dtype or anomaly mode into each other."""
    from ember.autograd.anomaly_mode import AnomalyMode
    from ember.autograd.forward_ad import exit_dual_level
    from ember.autograd.forward_grad import ForwardAD, refresh
    from ember.autograd.grad_mode import GradMode, set_inference

    saved = (GradMode.enabled, GradMode.inference, ember.get_default_dtype(),
             AnomalyMode.enabled, AnomalyMode.check_forward)
    yield
    GradMode.enabled = saved[0]
    set_inference(saved[1])
    ember.set_default_dtype(saved[2])
    AnomalyMode.enabled, AnomalyMode.check_forward = saved[3], saved[4]
    if ForwardAD.level >= 0:
        exit_dual_level()
    refresh()


@pytest.fixture
def rng():
    return np.random.default_rng(0)
