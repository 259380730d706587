"""Intra-op parallelism on the CPU: large elementwise ops run in chunks on a thread pool.

NumPy's ufuncs release the GIL while their loops run, so an elementwise op over a large
array can be split along its output and the pieces computed at once on several cores, as
PyTorch's intra-op thread pool does. Every element is computed by the same NumPy loop as in
one serial call, so results are bit-identical to it: same values, dtype and memory layout.

``elementwise(fn, args, kwargs)`` is the entry point the ops call for arrays of at least
``THRESHOLD`` elements; anything it cannot split safely (CuPy arrays, shapes that do not
broadcast, inputs a probe call rejects, outputs that are not one array) runs as the plain
serial call, so errors surface exactly as they would without it. ``get_num_threads`` and
``set_num_threads`` are PyTorch's controls of the pool size.

The pool is made on first use (no threads at import), reused by every op, shared safely by
several Python threads, and never used from inside its own workers (they run serially).
"""

from __future__ import annotations

import contextvars
import itertools
import os
import threading
from math import prod
from queue import SimpleQueue

import numpy as np

__all__ = ["THRESHOLD", "elementwise", "get_num_threads", "set_num_threads"]

# Ops on fewer output elements run serially: below this, waking a worker (tens of µs) costs
# about what it saves. Measured on a 2-core machine; see tests/backend/test_threads.py.
THRESHOLD = 1 << 17

# A composite forward (several ufuncs: ``g * (1 - y * y)``) runs on chunks of about this
# many bytes of output, so that its temporaries stay in the core's cache; a plain ufunc
# writes straight into the output and gets fewer, larger chunks (``_UFUNC_CHUNKS_PER_THREAD``
# per thread, to even out threads that the OS schedules late).
_COMPOSITE_CHUNK_BYTES = 1 << 17
_UFUNC_CHUNKS_PER_THREAD = 2
_MIN_CHUNK = 1 << 14  # elements: no chunk smaller than this

_ndarray = np.ndarray
_ufunc = np.ufunc
_SCALARS = (int, float, bool, complex, type(None))
_ALL = slice(None)


class _State:
    num_threads: int | None = None  # resolved on first use, as PyTorch reads its env vars
    pool: _Pool | None = None
    lock = threading.Lock()


_local = threading.local()  # ``in_worker`` is set in the pool's own threads


def _env_threads(name: str) -> int:
    """A positive thread count from environment variable ``name``, or 0 if unset/invalid."""
    value = os.environ.get(name, "").split(",")[0].strip()
    try:
        n = int(value)
    except ValueError:
        return 0
    return n if n > 0 else 0


def _default_num_threads() -> int:
    # PyTorch: MKL_NUM_THREADS, else OMP_NUM_THREADS, else every core; never more threads
    # than cores by default.
    cores = os.cpu_count() or 1
    n = _env_threads("MKL_NUM_THREADS") or _env_threads("OMP_NUM_THREADS") or cores
    return min(n, cores)


def get_num_threads() -> int:
    """Returns the number of threads used for parallelizing CPU operations."""
    n = _State.num_threads
    if n is None:
        n = _State.num_threads = _default_num_threads()
    return n


def _type_name(t: type) -> str:
    # The type's name as PyTorch's C++ error text shows it ('float', 'numpy.float64').
    if t.__module__ == "builtins" or t.__flags__ & (1 << 9):  # builtin or Python class
        return t.__name__
    return f"{t.__module__}.{t.__name__}"


def set_num_threads(n: int, /) -> None:
    """Sets the number of threads used for intraop parallelism on CPU.

    ``set_num_threads(1)`` runs every op serially. The pool is rebuilt at the next large op.
    """
    if (type(n) is bool or not isinstance(n, int)) and not isinstance(n, np.integer):
        raise RuntimeError(f"set_num_threads expects an int, but got {_type_name(type(n))}")
    n = int(n)
    if not -(1 << 63) <= n < 1 << 63:
        raise ValueError("Overflow when unpacking long long")
    if not -(1 << 31) <= n < 1 << 31:
        raise ValueError("Overflow when unpacking long")
    if n < 1:
        raise RuntimeError("set_num_threads expects a positive integer")
    with _State.lock:
        _State.num_threads = n
        pool, _State.pool = _State.pool, None
    if pool is not None:
        pool.shutdown()


class _Job:
    """One op split into ``n`` chunks; ``run(i)`` computes chunk ``i``.

    Chunks are claimed from a shared counter by the caller and by any worker that picks the
    job up, so the caller never waits for a worker that has not started: it waits only for
    chunks others have claimed, and does the rest itself.
    """

    __slots__ = ("run", "n", "claim", "done", "error", "context")

    def __init__(self, run, n: int) -> None:
        self.run = run
        self.n = n
        self.claim = itertools.count().__next__  # atomic under the GIL
        self.done = SimpleQueue()  # workers report how many chunks they finished
        self.error = None
        self.context = contextvars.copy_context()  # e.g. NumPy's errstate for the workers

    def work(self, worker: bool = False) -> int:
        """Compute chunks until none are left; returns how many this thread computed."""
        run, n, claim = self.run, self.n, self.claim
        count = 0
        while True:
            i = claim()
            if i >= n:
                return count
            try:
                run(i)
            except Exception as e:  # reported to the caller, which falls back to serial
                self.error = e
            except BaseException as e:  # KeyboardInterrupt in the caller propagates
                if not worker:
                    raise
                self.error = e
            count += 1


def _worker(tasks: SimpleQueue) -> None:
    _local.in_worker = True
    get = tasks.get
    while True:
        job = get()
        if job is None:
            return
        count = job.context.copy().run(job.work, True)
        if count:
            job.done.put(count)


class _Pool:
    """``size - 1`` daemon worker threads; the calling thread is the last one."""

    def __init__(self, size: int) -> None:
        self.workers = size - 1
        self.tasks = SimpleQueue()
        for k in range(self.workers):
            threading.Thread(target=_worker, args=(self.tasks,), daemon=True,
                             name=f"ember-intraop-{k}").start()

    def run(self, job: _Job) -> None:
        """Compute every chunk of ``job``, with the workers' help; returns when all are done."""
        put = self.tasks.put
        for _ in range(min(self.workers, job.n - 1)):
            put(job)
        left = job.n - job.work()
        get = job.done.get
        while left > 0:
            left -= get()

    def shutdown(self) -> None:
        for _ in range(self.workers):
            self.tasks.put(None)


def _pool() -> _Pool | None:
    pool = _State.pool
    if pool is None:
        with _State.lock:
            pool = _State.pool
            if pool is None:
                n = get_num_threads()
                if n < 2:
                    return None
                pool = _State.pool = _Pool(n)
    return pool


def _forget_pool_after_fork() -> None:
    # A forked child (e.g. a DataLoader worker) has none of the parent's threads.
    _State.pool = None
    _State.lock = threading.Lock()


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_forget_pool_after_fork)


def _split(shape: tuple, parts: int):
    """Where to cut an output of ``shape`` into about ``parts`` pieces.

    Returns ``(axis, lead, per)``: the axes before ``axis`` are taken one index at a time
    (``lead`` combinations), and ``axis`` is cut into ``per`` ranges, so each chunk is a
    block of whole trailing rows.
    """
    lead = 1
    axis = 0
    while axis < len(shape) - 1 and lead * shape[axis] < parts:
        lead *= shape[axis]
        axis += 1
    return axis, lead, min(shape[axis], -(-parts // lead))


def _chunk_index(shape, axis: int, per: int, k: int):
    """The output index of chunk ``k``: one slice per axis up to and including ``axis``."""
    lead_k, part = divmod(k, per)
    index = []
    for size in reversed(shape[:axis]):
        lead_k, i = divmod(lead_k, size)
        index.append(slice(i, i + 1))
    index.reverse()
    size = shape[axis]
    index.append(slice(part * size // per, (part + 1) * size // per))
    return index


def _serial(fn, args, kwargs):
    return fn(*args) if kwargs is None else fn(*args, **kwargs)


def elementwise(fn, args, kwargs=None):
    """``fn(*args, **kwargs)`` for an elementwise ``fn``, computed in parallel chunks.

    ``args`` are NumPy arrays (broadcast together) and scalars or None (passed to every
    chunk); ``kwargs`` go to every chunk. The result equals the serial call bit for bit;
    anything out of the ordinary is handed to the serial call.
    """
    n_threads = _State.num_threads or get_num_threads()
    if n_threads < 2 or getattr(_local, "in_worker", False):
        return _serial(fn, args, kwargs)
    shape = None
    same = True
    for a in args:
        cls = a.__class__
        if cls is _ndarray:
            if shape is None:
                shape = a.shape
            elif a.shape != shape:
                same = False
        elif cls not in _SCALARS and not isinstance(a, np.generic):
            return _serial(fn, args, kwargs)  # CuPy arrays, lists, subclasses: not here
    if shape is None:
        return _serial(fn, args, kwargs)
    if not same:
        try:
            shape = np.broadcast_shapes(*[a.shape for a in args if a.__class__ is _ndarray])
        except ValueError:
            return _serial(fn, args, kwargs)  # the serial call raises the error its caller maps
    size = prod(shape)
    if size < THRESHOLD:
        return _serial(fn, args, kwargs)

    # A probe on a corner of every input (at most 2 along each axis) gives the result's
    # dtype and layout (strides keep their order in a slice) and checks that ``fn`` accepts
    # these inputs; if it raises, the serial call raises the same error.
    corner = (slice(0, 2),) * len(shape)
    try:
        probe = _serial(fn, [a[corner[len(corner) - a.ndim:]] if a.__class__ is _ndarray
                             else a for a in args], kwargs)
    except Exception:
        return _serial(fn, args, kwargs)
    if probe.__class__ is not _ndarray or probe.ndim != len(shape):
        return _serial(fn, args, kwargs)
    out = np.empty_like(probe, shape=shape)

    is_ufunc = fn.__class__ is _ufunc
    if is_ufunc:
        parts = n_threads * _UFUNC_CHUNKS_PER_THREAD
    else:
        parts = max(n_threads, size * out.itemsize // _COMPOSITE_CHUNK_BYTES)
    parts = min(parts, max(1, size // _MIN_CHUNK))
    if parts < 2:
        return _serial(fn, args, kwargs)
    axis, lead, per = _split(shape, parts)
    ndim = len(shape)
    # How each argument is cut: None (passed whole: scalars, inputs that lack the cut axes),
    # or, for each output axis up to ``axis`` that the input has, whether to slice it (its
    # size-1 axes broadcast and are taken whole).
    plans = []
    for a in args:
        if a.__class__ is _ndarray and a.ndim >= ndim - axis:
            off = ndim - a.ndim
            plans.append((off, tuple(a.shape[d - off] != 1 for d in range(off, axis + 1))))
        else:
            plans.append(None)

    def chunk_args(index):
        chunk = []
        for a, plan in zip(args, plans):
            if plan is None:
                chunk.append(a)
            else:
                off, cut = plan
                chunk.append(a[tuple([s if c else _ALL for s, c in zip(index[off:], cut)])])
        return chunk

    if is_ufunc:
        def run(k):
            index = _chunk_index(shape, axis, per, k)
            if kwargs is None:
                fn(*chunk_args(index), out=out[tuple(index)])
            else:
                fn(*chunk_args(index), out=out[tuple(index)], **kwargs)
    else:
        def run(k):
            index = _chunk_index(shape, axis, per, k)
            out[tuple(index)] = _serial(fn, chunk_args(index), kwargs)

    job = _Job(run, lead * per)
    pool = _pool()
    if pool is None:
        return _serial(fn, args, kwargs)
    pool.run(job)
    if job.error is not None:
        return _serial(fn, args, kwargs)  # the serial call raises (or computes) as it would
    return out
