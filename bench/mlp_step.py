"""Seed 004's network: training steps and data loading, ember and torch side by side.

- ``train step``: one step of the seed's ``train()`` loop on its ``NeuralNetwork`` (Flatten,
  Linear 784-512-512-10 with ReLUs), ``CrossEntropyLoss`` and ``SGD(lr=1e-3)``, on a batch of
  64 images (28x28) with the same weights and data in both libraries: forward, loss,
  ``zero_grad``, ``backward``, ``step``. The matrix products are BLAS's; the rest is each
  library's overhead per layer.
- ``DataLoader epoch``: iterating a ``DataLoader(TensorDataset(images, labels),
  batch_size=64)`` over 10,000 images once. torch indexes and collates sample by sample;
  ember, where nothing can observe the samples (``default_collate``, ``TensorDataset``'s
  own ``__getitem__``), gathers each batch with one indexing per tensor. The second case
  passes a ``collate_fn`` of its own, so both libraries index sample by sample: per-sample
  indexing and collation, all Python.

Timing as in ``resnet_step.py``: alternating runs, each timed run after an untimed one of
the same library, median (and best) in milliseconds, and the ratio ember/torch. Before
timing, one step's losses and weight gradients are compared. A benchmark, not a test.

    python bench/mlp_step.py                    # or: make bench
"""

from __future__ import annotations

import sys

import numpy as np
from op_overhead import print_environment  # before torch: it lists NumPy's BLAS first

# isort: split
import torch
from resnet_step import parse_args, run_cases

import ember


def _network(lib):
    nn = lib.nn
    return nn.Sequential(nn.Flatten(), nn.Linear(28 * 28, 512), nn.ReLU(), nn.Linear(512, 512),
                         nn.ReLU(), nn.Linear(512, 10), nn.ReLU())


def train_step_case(batch: int = 64, seed: int = 0):
    ember.manual_seed(seed)
    models = {"ember": _network(ember), "torch": _network(torch)}
    models["torch"].load_state_dict({k: torch.from_numpy(v.numpy().copy())
                                     for k, v in models["ember"].state_dict().items()})
    rng = np.random.default_rng(seed)
    x = rng.random((batch, 1, 28, 28), dtype=np.float32)
    y = rng.integers(0, 10, batch)
    case = {}
    for name, lib in (("ember", ember), ("torch", torch)):
        model = models[name]
        loss_fn = lib.nn.CrossEntropyLoss()
        optimizer = lib.optim.SGD(model.parameters(), lr=1e-3)
        X, Y = lib.tensor(x), lib.tensor(y)

        def run(model=model, loss_fn=loss_fn, optimizer=optimizer, X=X, Y=Y):
            loss = loss_fn(model(X), Y)
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()

        case[name] = (run, lambda model=model: [p.grad for p in model.parameters()])
    return case


def loader_epoch_case(n: int = 10_000, batch: int = 64, seed: int = 0,
                      per_sample: bool = False):
    rng = np.random.default_rng(seed)
    images = rng.random((n, 1, 28, 28), dtype=np.float32)
    labels = rng.integers(0, 10, n)
    case = {}
    for name, lib in (("ember", ember), ("torch", torch)):
        data = lib.utils.data
        # A collate_fn of one's own sees every sample: ember then indexes sample by sample,
        # as torch always does; with default_collate it gathers each batch at once.
        collate = (lambda b, data=data: data.default_collate(b)) if per_sample else None
        loader = data.DataLoader(data.TensorDataset(lib.tensor(images), lib.tensor(labels)),
                                 batch_size=batch, collate_fn=collate)

        def run(loader=loader):
            last = None
            for X, _ in loader:
                last = X
            return last

        case[name] = (run, lambda run=run: [run()])
    return case


CASES = {
    "train step, batch 64": train_step_case,
    "DataLoader epoch, 10k images": loader_epoch_case,
    "  the same, sample by sample": lambda: loader_epoch_case(per_sample=True),
}


def check(case) -> None:
    """Both libraries must compute the same gradients (or batches), or the timing compares
    different work."""
    results = {}
    for name, (run, leaves) in case.items():
        run()
        results[name] = [g.numpy() for g in leaves()]
    for a, b in zip(results["ember"], results["torch"]):
        if not np.allclose(a, b, rtol=1e-4, atol=1e-6):
            raise SystemExit("ember and torch disagree")


def main(argv=None) -> int:
    args = parse_args(argv, __doc__.splitlines()[0])
    print_environment("Seed 004's network (see the docstring for the cases).")
    run_cases(CASES, check, args, digits=2)
    return 0


if __name__ == "__main__":
    sys.exit(main())
