"""resnet18 training steps and one convolution, ember and torch side by side in one process.

Each case is one forward and backward pass in train mode (``loss = out.sum();
loss.backward()``), with the same weights and input in both libraries:

- ``resnet18`` at 1x3x64x64 (one image: the deep layers have fewer output positions than
  channels) and at 16x3x32x32 (a small batch);
- ``conv2d`` of a (16, 64, 32, 32) input with a (64, 64, 3, 3) weight, padding 1: the 3x3
  convolution of a resnet's first stage.

Runs alternate between the libraries so that drift in the machine's speed hits both alike.
Each timed run follows a pause (``--pause``) and an untimed run of the same library, so that
the other library's idle threads are not timed: OpenBLAS's workers spin on their cores for
tens of milliseconds after NumPy's last matrix product, and with no pause they took one of
the two cores from torch's next run, doubling its median. Each library gets warm-up runs
first, and the median (and the best) of the repeats is reported in milliseconds, with the
ratio ember/torch. Before timing, the gradients of both are compared, so that the timing
compares the same work. This is a benchmark, not a test: nothing here fails on a slow
result.

    python bench/resnet_step.py                  # or: make bench
    python bench/resnet_step.py --repeats 30 --torch-threads 1

ember's convolutions are matrix products in NumPy's BLAS (OpenBLAS, with its own threads,
printed below); torch runs on ``--torch-threads`` threads (default 2).
"""

from __future__ import annotations

import argparse
import gc
import statistics
import sys
import time
from pathlib import Path

import numpy as np
from op_overhead import print_environment  # before torch: it lists NumPy's BLAS first

# isort: split
import torch

import ember

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from tests.vision.torch_resnet import ResNet  # noqa: E402


def resnet_case(shape, seed: int = 0):
    """ember's resnet18 and a torch copy with the same weights, both in train mode, and one
    input: ``{name: (step, leaves)}``."""
    from ember.vision.models import resnet18

    ember.manual_seed(seed)
    model = resnet18().train()
    reference = ResNet().train()
    reference.load_state_dict({k: torch.from_numpy(v.numpy().copy())
                               for k, v in model.state_dict().items()})
    x = np.random.default_rng(seed).standard_normal(shape).astype(np.float32)
    xe, xt = ember.tensor(x), torch.tensor(x)

    def step(m, inp):
        def run():
            m.zero_grad(set_to_none=True)
            m(inp).sum().backward()
        return run

    return {"ember": (step(model, xe), lambda: [p.grad for p in model.parameters()]),
            "torch": (step(reference, xt), lambda: [p.grad for p in reference.parameters()])}


def conv_case(x_shape, w_shape, padding, seed: int = 0):
    rng = np.random.default_rng(seed)
    x = rng.standard_normal(x_shape).astype(np.float32)
    w = (rng.standard_normal(w_shape) / np.sqrt(np.prod(w_shape[1:]))).astype(np.float32)
    out = {}
    for name, lib in (("ember", ember), ("torch", torch)):
        xt = lib.tensor(x, requires_grad=True)
        wt = lib.tensor(w, requires_grad=True)

        def run(lib=lib, xt=xt, wt=wt):
            xt.grad = wt.grad = None
            lib.nn.functional.conv2d(xt, wt, padding=padding).sum().backward()
        out[name] = (run, lambda xt=xt, wt=wt: [xt.grad, wt.grad])
    return out


CASES = {
    "resnet18 1x3x64x64": lambda: resnet_case((1, 3, 64, 64)),
    "resnet18 16x3x32x32": lambda: resnet_case((16, 3, 32, 32)),
    "conv2d 16x64x32x32 * 64x64x3x3": lambda: conv_case((16, 64, 32, 32), (64, 64, 3, 3), 1),
}


def check(case) -> None:
    """Both libraries must compute the same gradients, or the timing compares different
    work. Compared relative to each gradient's scale, loosely: with one image, batch norm in
    the last layers normalises 4 values per channel, which magnifies float32 rounding to
    ~1e-2 (in float64 the two agree to 1e-12)."""
    grads = {}
    for name, (run, leaves) in case.items():
        run()
        grads[name] = [g.numpy() for g in leaves()]
    for a, b in zip(grads["ember"], grads["torch"]):
        scale = max(float(np.abs(b).max()), 1e-6)
        if not np.allclose(a, b, rtol=1e-2, atol=1e-2 * scale):
            raise SystemExit("ember and torch disagree on a gradient")


def measure(case, repeats: int, warmup: int, pause: float = 0.0) -> dict:
    for run, _ in case.values():
        for _ in range(warmup):
            run()
    gc.collect()  # one collection up front, none between runs, as in a training loop
    times = {name: [] for name in case}
    for _ in range(repeats):
        for name, (run, _) in case.items():
            # A pause and one untimed run first: the other library's BLAS/OpenMP threads
            # may still be spinning on the 2 cores right after its turn, which would be
            # timed otherwise.
            time.sleep(pause)
            run()
            t0 = time.perf_counter()
            run()
            times[name].append(time.perf_counter() - t0)
    return times


def parse_args(argv, description: str):
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument("--repeats", type=int, default=20)
    parser.add_argument("--warmup", type=int, default=3)
    parser.add_argument("--torch-threads", type=int, default=2,
                        help="torch.set_num_threads (default 2)")
    parser.add_argument("--only", default=None, help="run the cases whose name contains this")
    parser.add_argument("--pause", type=float, default=0.1,
                        help="seconds to wait before each library's turn, for the other "
                             "library's threads to stop spinning (default 0.1)")
    args = parser.parse_args(argv)
    torch.set_num_threads(args.torch_threads)
    return args


def run_cases(cases: dict, check, args, digits: int = 1) -> None:
    """Check, time and print each case of ``cases`` (name -> a function making the case)."""
    header = (f"{'case':<32}{'ember ms':>10}{'torch ms':>10}{'ember/torch':>13}"
              f"{'  (best: ember, torch, ratio)':>32}")
    print(header)
    print("-" * len(header))
    for name, make in cases.items():
        if args.only and args.only not in name:
            continue
        case = make()
        check(case)
        times = measure(case, args.repeats, args.warmup, args.pause)
        med = {k: statistics.median(v) * 1e3 for k, v in times.items()}
        best = {k: min(v) * 1e3 for k, v in times.items()}
        print(f"{name:<32}{med['ember']:>10.{digits}f}{med['torch']:>10.{digits}f}"
              f"{med['ember'] / med['torch']:>13.2f}{best['ember']:>14.{digits}f}"
              f"{best['torch']:>9.{digits}f}{best['ember'] / best['torch']:>9.2f}")
        sys.stdout.flush()
    print(f"\nMedian (and best) of {args.repeats} alternating runs after {args.warmup} "
          f"warm-up runs each, each after a {args.pause:g} s pause and an untimed run.")


def main(argv=None) -> int:
    args = parse_args(argv, __doc__.splitlines()[0])
    print_environment("One step: forward and backward in train mode, loss = out.sum(); "
                      "loss.backward().")
    run_cases(CASES, check, args)
    return 0


if __name__ == "__main__":
    sys.exit(main())
