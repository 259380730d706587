"""Intra-op parallelism (``ember.backend.threads``): chunked elementwise ops on a thread pool.

The parallel path must give exactly what the serial NumPy call gives (values bit for bit,
dtype, shape and strides) and the same errors; ``get_num_threads``/``set_num_threads``
behave as PyTorch's. Most tests shrink the size thresholds so that small arrays take the
parallel path; one runs at the real threshold through ember's ops.
"""

from __future__ import annotations

import os
import subprocess
import sys
import threading

import numpy as np
import pytest
import torch

import ember
from ember.backend import threads
from ember.ops import _apply, pointwise


@pytest.fixture(autouse=True)
def _restore_threads():
    saved = ember.get_num_threads()
    yield
    ember.set_num_threads(saved)


@pytest.fixture
def small_chunks(monkeypatch):
    """Let arrays of a few thousand elements take the parallel path, in up to 4 chunks."""
    monkeypatch.setattr(threads, "THRESHOLD", 2048)
    monkeypatch.setattr(threads, "GRAIN", 512)
    monkeypatch.setattr(_apply, "_PARALLEL_MIN", 2048)
    monkeypatch.setattr(_apply, "_PARALLEL_MIN_MEMORY", 2048)
    ember.set_num_threads(4)


@pytest.fixture
def pool_runs(monkeypatch):
    """Counts the jobs the pool ran (so a test knows the parallel path was taken)."""
    calls = []
    run = threads._Pool.run

    def counting(self, job):
        calls.append(job.n)
        return run(self, job)

    monkeypatch.setattr(threads._Pool, "run", counting)
    return calls


def assert_identical(got, want) -> None:
    """Same class, dtype, shape, strides and bytes."""
    assert type(got) is type(want)
    assert got.dtype == want.dtype, (got.dtype, want.dtype)
    assert got.shape == want.shape, (got.shape, want.shape)
    assert got.strides == want.strides, (got.strides, want.strides)
    assert got.tobytes() == want.tobytes()


def _arr(rng, shape, dtype):
    dtype = np.dtype(dtype)
    if dtype.kind == "b":
        return rng.random(shape) > 0.5
    if dtype.kind in "iu":
        info = np.iinfo(dtype)
        return rng.integers(max(info.min, -100), min(info.max, 100), shape, dtype=dtype,
                            endpoint=True)
    return (rng.standard_normal(shape) * 2).astype(dtype)


# ---- bit-identical results ----------------------------------------------------------------
FLOATS = ["float16", "float32", "float64"]

UNARY = {
    "tanh": np.tanh, "exp": np.exp, "negative": np.negative, "abs": np.abs,
    "log": pointwise.LOG.forward, "sqrt": pointwise.SQRT.forward,
    "sigmoid": pointwise.SIGMOID.forward, "relu": pointwise.RELU.forward,
    "round": np.round,
}


@pytest.mark.parametrize("dtype", FLOATS)
@pytest.mark.parametrize("name", sorted(UNARY))
def test_unary_bit_identical(small_chunks, pool_runs, rng, name, dtype):
    fn = UNARY[name]
    x = _arr(rng, (64, 80), dtype)
    for arg in (x, x.T, x[::2, ::-3], x[:, 5:7]):
        want = fn(arg)
        assert_identical(threads.elementwise(fn, (arg,)), want)
    assert pool_runs  # the large views went through the pool


def _tanh_backward(g, y):
    return pointwise.TANH_BACKWARD.forward(g, y)


BINARY = {
    "add": np.add, "multiply": np.multiply, "divide": np.true_divide, "maximum": np.maximum,
    "subtract": pointwise.SUB.forward, "tanh_backward": _tanh_backward,
    "sigmoid_backward": pointwise.SIGMOID_BACKWARD.forward,
}

# (shape a, shape b): equal, broadcast both ways, missing leading dims, a split axis that is
# not the first, size-1 leading dims.
SHAPES = [((64, 80), (64, 80)), ((64, 1), (1, 80)), ((80,), (64, 80)), ((2, 3, 900), (900,)),
          ((1, 5000), (1, 1)), ((3, 1, 700), (4, 1))]


@pytest.mark.parametrize("shapes", SHAPES, ids=str)
@pytest.mark.parametrize("name", sorted(BINARY))
def test_binary_bit_identical(small_chunks, pool_runs, rng, name, shapes):
    fn = BINARY[name]
    a, b = (_arr(rng, s, "float32") for s in shapes)
    assert_identical(threads.elementwise(fn, (a, b)), fn(a, b))
    assert pool_runs


@pytest.mark.parametrize("dtype", ["int8", "int16", "int32", "int64", "uint8", "bool"] + FLOATS)
def test_dtypes_and_scalars(small_chunks, pool_runs, rng, dtype):
    a = _arr(rng, (60, 70), dtype)
    b = _arr(rng, (60, 70), dtype)
    cases = [(np.add, (a, b)), (np.multiply, (a, 3)), (np.add, (a, 2.5)), (np.add, (a, True)),
             (np.multiply, (a, np.array(3, dtype=dtype))), (np.maximum, (a.T, b.T)),
             (np.where, (a > b, a, 0)), (np.where, (b.astype(bool), a[:, :1], b))]
    if dtype != "bool":
        cases.append((pointwise.CLAMP.forward, (a,), {"min": 1, "max": 5}))
    for fn, args, *kw in cases:
        kwargs = kw[0] if kw else None
        want = fn(*args) if kwargs is None else fn(*args, **kwargs)
        assert_identical(threads.elementwise(fn, args, kwargs), want)
    assert len(pool_runs) == len(cases)


def test_layout_follows_numpy(small_chunks, rng):
    # NumPy keeps the inputs' memory order ('K'): Fortran-ordered in, Fortran-ordered out.
    a = np.asfortranarray(_arr(rng, (70, 60), "float64"))
    b = _arr(rng, (70, 60), "float64")
    for args in ((a, a), (a, b), (b, a), (a, 1.5), (a.T, b.T[:, ::-1])):
        assert_identical(threads.elementwise(np.add, args), np.add(*args))
        assert_identical(threads.elementwise(BINARY["tanh_backward"], args),
                         BINARY["tanh_backward"](*args))


def test_serial_cases_bypass_the_pool(small_chunks, pool_runs, rng):
    x = _arr(rng, (64, 80), "float32")

    class Sub(np.ndarray):
        pass

    sub = x.view(Sub)
    out = threads.elementwise(np.add, (sub, 1.0))
    assert type(out) is Sub  # subclasses (and CuPy arrays) are not split
    assert_identical(threads.elementwise(np.add, (x[:10, :10], 1.0)), x[:10, :10] + 1.0)
    assert_identical(threads.elementwise(np.add, ([1.0, 2.0], 1.0)), np.add([1.0, 2.0], 1.0))
    assert not pool_runs
    ember.set_num_threads(1)
    assert_identical(threads.elementwise(np.add, (x, 1.0)), x + 1.0)
    assert not pool_runs


def test_a_result_of_another_shape_falls_back_to_serial(small_chunks, rng):
    x = _arr(rng, (64, 80), "float64")

    def row_sums(a):  # not elementwise: its chunks would not tile the output
        return a.sum(axis=1, keepdims=True)

    assert_identical(threads.elementwise(row_sums, (x,)), row_sums(x))


# ---- errors surface as in a serial call ---------------------------------------------------
def test_errors_match_serial(small_chunks, rng):
    a = _arr(rng, (64, 80), "float32")
    with pytest.raises(ValueError, match="broadcast"):
        threads.elementwise(np.add, (a, a[:, :3]))
    ints = _arr(rng, (64, 80), "int8")
    with pytest.raises(OverflowError):
        threads.elementwise(np.add, (ints, 1000))
    with pytest.raises(TypeError):
        threads.elementwise(np.subtract, (a > 0, a < 0))
    # An error in one chunk only (a zero divisor in the last rows) falls back to the serial
    # call, which raises it.
    b = np.ones((64, 80), dtype=np.int64)
    b[-1, -1] = 0
    with pytest.raises(RuntimeError, match="ZeroDivisionError"):
        threads.elementwise(pointwise.DIV_FLOOR.forward, (b, b))
    # NumPy's error state reaches the workers: an overflow in the last chunk raises.
    big = np.ones((64, 80))
    big[-1] = 1000.0
    with np.errstate(over="raise"), pytest.raises(FloatingPointError):
        threads.elementwise(np.exp, (big,))
    with np.errstate(over="ignore"):
        assert_identical(threads.elementwise(np.exp, (big,)), np.exp(big))


@pytest.mark.parametrize("case", ["broadcast", "int_overflow", "bool_sub", "int_div_zero"])
def test_op_errors_match_torch_on_large_tensors(small_chunks, case):
    n = 5000

    def run(lib):
        if case == "broadcast":
            return lib.ones(n, 3) + lib.ones(n, 2)
        if case == "int_overflow":
            return (lib.ones(n, dtype=lib.int8) * 100 + 1000).tolist()[:3]
        if case == "bool_sub":
            return lib.ones(n, dtype=lib.bool) - lib.ones(n, dtype=lib.bool)
        x = lib.ones(n, dtype=lib.int64)
        return x // lib.zeros(n, dtype=lib.int64)

    try:
        want = run(torch)
    except Exception as e:  # noqa: BLE001 - the oracle's exception is what we compare
        with pytest.raises(type(e)) as info:
            run(ember)
        key = str(e).split("\n")[0][:60]
        assert key in str(info.value)
    else:
        assert run(ember) == want


# ---- ember's ops take the parallel path at the real threshold ------------------------------
def test_ops_at_real_threshold(pool_runs, rng, monkeypatch):
    ember.set_num_threads(2)
    n = threads.THRESHOLD + 8
    # memory-bound ops split only from MEMORY_THRESHOLD: lower it to this size for the test
    monkeypatch.setattr(_apply, "_PARALLEL_MIN_MEMORY", n)
    data = _arr(rng, (n,), "float32")
    x = ember.tensor(data)
    ops = [lambda t: t * 0.5, lambda t: t + t, lambda t: t.tanh(), lambda t: t ** 2,
           lambda t: ember.where(t > 0, t, 0.0), lambda t: t.clamp(-1, 1)]
    parallel = [op(x).numpy() for op in ops]
    assert len(pool_runs) == len(ops)
    ember.set_num_threads(1)
    for got, op in zip(parallel, ops):
        assert_identical(got, op(x).numpy())
    small = ember.tensor(data[: threads.THRESHOLD - 1])
    ember.set_num_threads(2)
    (small * 2).tanh()
    assert len(pool_runs) == len(ops)  # below the threshold: serial
    monkeypatch.setattr(_apply, "_PARALLEL_MIN_MEMORY", threads.MEMORY_THRESHOLD)
    x * 0.5
    x.tanh()
    assert len(pool_runs) == len(ops) + 1  # mul is memory-bound: serial below its threshold


def _chain(x):
    """The benchmark's chain (mul, add, tanh, pow) and a few other elementwise ops."""
    y = x
    for i in range(12):
        k = i % 4
        y = y * 0.5 if k == 0 else y + 0.25 if k == 1 else y.tanh() if k == 2 else y ** 2
    y = ember.maximum(y.sigmoid(), y * 0.9) if isinstance(x, ember.Tensor) else \
        torch.maximum(y.sigmoid(), y * 0.9)
    return (y.clamp(0.1, 0.9) / (y + 1)).exp()


def test_gradients_of_a_large_chain_equal_serial(small_chunks, pool_runs, rng):
    data = rng.random((48, 60), dtype=np.float32)

    def grad():
        x = ember.tensor(data, requires_grad=True)
        _chain(x).sum().backward()
        return x.grad.numpy()

    parallel = grad()
    assert len(pool_runs) > 20
    ember.set_num_threads(1)
    assert_identical(parallel, grad())
    t = torch.tensor(data, requires_grad=True)
    _chain(t).sum().backward()
    np.testing.assert_allclose(parallel, t.grad.numpy(), rtol=1e-5, atol=1e-6)


# ---- the pool ---------------------------------------------------------------------------
def test_several_python_threads_at_once(small_chunks, pool_runs, rng):
    arrays = [_arr(rng, (64, 80), "float64") for _ in range(6)]
    expected = [np.tanh(a) * a for a in arrays]
    results = [None] * len(arrays)
    errors = []

    def work(i):
        try:
            for _ in range(20):
                t = threads.elementwise(np.tanh, (arrays[i],))
                results[i] = threads.elementwise(np.multiply, (t, arrays[i]))
        except Exception as e:  # noqa: BLE001 - reported below
            errors.append(e)

    workers = [threading.Thread(target=work, args=(i,)) for i in range(len(arrays))]
    for w in workers:
        w.start()
    for w in workers:
        w.join(timeout=30)
    assert not errors and not any(w.is_alive() for w in workers)
    for got, want in zip(results, expected):
        assert_identical(got, want)
    assert len(pool_runs) == 2 * 20 * len(arrays)


def test_not_reentrant_inside_workers(small_chunks, pool_runs, rng):
    x = _arr(rng, (64, 80), "float64")

    def nested(a):  # a forward that itself runs a chunked op
        return threads.elementwise(np.tanh, (a,)) + 1

    assert_identical(threads.elementwise(nested, (x,)), np.tanh(x) + 1)
    # The outer call used the pool; the inner calls from the workers ran serially (the
    # caller's own chunk may use the pool once more).
    assert 1 <= len(pool_runs) <= 2


def test_set_num_threads_resizes_the_pool(small_chunks, pool_runs, rng):
    x = _arr(rng, (64, 80), "float64")
    for n in (3, 2, 4):
        ember.set_num_threads(n)
        assert_identical(threads.elementwise(np.exp, (x,)), np.exp(x))
        assert pool_runs[-1] == n
        assert len(threads._State.pool.queues) == n - 1


def test_no_threads_at_import_then_a_lazy_pool():
    code = ("import threading, numpy as np, ember\n"
            "before = threading.active_count()\n"
            "ember.set_num_threads(3)\n"
            "x = ember.tensor(np.ones(1 << 21, dtype=np.float32))\n"
            "after_small = threading.active_count() if (x[:10] * 2) is not None else 0\n"
            "(x * 2).tanh()\n"
            "print(before, after_small, threading.active_count())\n")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True, timeout=60).stdout.split()
    assert out == ["1", "1", "3"]


# ---- get_num_threads / set_num_threads against torch ----------------------------------------
def test_get_num_threads_matches_torch():
    assert type(ember.get_num_threads()) is int
    code = "import torch, ember; print(torch.get_num_threads(), ember.get_num_threads())"
    # Environment variables are read once per process; each case is a fresh interpreter.
    for env in ({"OMP_NUM_THREADS": "64"}, {"OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "2"}):
        full = {k: v for k, v in os.environ.items()
                if k not in ("OMP_NUM_THREADS", "MKL_NUM_THREADS")}
        out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                             check=True, timeout=120, env={**full, **env}).stdout.split()
        assert out[0] == out[1], (env, out)


@pytest.mark.parametrize("value", [1, 3, np.int32(2), np.uint8(2)], ids=repr)
def test_set_num_threads_values(value):
    saved = torch.get_num_threads()
    try:
        assert ember.set_num_threads(value) is torch.set_num_threads(value)
        assert ember.get_num_threads() == torch.get_num_threads() == int(value)
        assert type(ember.get_num_threads()) is int
    finally:
        torch.set_num_threads(saved)


@pytest.mark.parametrize("value", [0, -1, 2.0, "2", True, None, np.bool_(True), np.float64(2),
                                   2 ** 31, -(2 ** 31) - 1, 2 ** 63], ids=repr)
def test_set_num_threads_errors_match_torch(value):
    saved_ember, saved_torch = ember.get_num_threads(), torch.get_num_threads()
    with pytest.raises(Exception) as t_err:
        torch.set_num_threads(value)
    with pytest.raises(type(t_err.value)) as e_err:
        ember.set_num_threads(value)
    assert str(e_err.value) == str(t_err.value)
    assert ember.get_num_threads() == saved_ember
    assert torch.get_num_threads() == saved_torch


def test_set_num_threads_signature_errors():
    with pytest.raises(TypeError):
        ember.set_num_threads()
    with pytest.raises(TypeError):
        torch.set_num_threads()
    with pytest.raises(TypeError):
        ember.get_num_threads(1)
    with pytest.raises(TypeError):
        torch.get_num_threads(1)
