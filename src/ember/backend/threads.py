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
import os
import threading
from math import prod
from queue import SimpleQueue

import numpy as np

__all__ = ["THRESHOLD", "elementwise", "get_num_threads", "set_num_threads"]

# Ops with fewer output elements run serially, and an op is cut into one chunk per thread
# but never into chunks smaller than GRAIN elements. A worker takes the GIL to start its
# chunk and again to finish it, and handing the GIL to a sleeping thread cost 10-40 µs on
# the VMs measured, one thread after another; so chunks must be long. Measured (float32,
# median µs, serial -> parallel): on a 16-core VM, 1M elements in 4 chunks: mul 430 -> 300,
# tanh 565 -> 435, g * (1 - y * y) 1360 -> 940, while 256K elements gained nothing and 8 or
# 16 chunks of 1M lost to 4; on a shared 2-core VM, chunking lost at 64K-1M elements (mul
# 178 -> 481 at 1M) and broke even at 4M.
# That is why only compute-bound kernels (exp, tanh, ...: several ns per element) are split
# from THRESHOLD elements on; memory-bound ones (mul, add: a fraction of a ns per element)
# only from MEMORY_THRESHOLD, where the hand-overs stop mattering even on small machines.
THRESHOLD = 1 << 19
MEMORY_THRESHOLD = 1 << 22
GRAIN = 1 << 18

_ndarray = np.ndarray
_ufunc = np.ufunc
_SCALARS = (int, float, bool, complex, type(None))
_ALL = slice(None)


class _State:
    num_threads: int | None = None  # resolved on first use, as PyTorch reads its env vars
    pool: _Pool | None = None
    lock = threading.Lock()


_WORKERS: set = set()  # thread idents of the pool's workers (which never use the pool)
_get_ident = threading.get_ident


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
        if n == _State.num_threads:
            return
        _State.num_threads = n
        pool, _State.pool = _State.pool, None
    if pool is not None:
        pool.shutdown()


class _Job:
    """One op split into ``n`` chunks; ``run(k)`` computes chunk ``k``.

    Chunk ``k`` belongs to worker ``k`` (the caller does chunk 0), so that consecutive ops
    hand each thread the same part of the array, still in its core's cache, as an OpenMP
    static schedule does. A chunk is claimed before it is computed; once the caller is done
    with its own, it claims (steals) the chunks of workers that have not started yet, so it
    never waits for a thread the OS has not scheduled, only for chunks being computed.
    """

    __slots__ = ("run", "n", "pending", "done", "error", "context")

    def __init__(self, run, n: int) -> None:
        self.run = run
        self.n = n
        self.pending = dict.fromkeys(range(n), True)  # pop() claims: atomic under the GIL
        self.done = SimpleQueue()  # one item per chunk a worker finished
        self.error = None
        self.context = contextvars.copy_context()  # e.g. NumPy's errstate, for the workers

    def compute(self, k: int) -> None:
        try:
            self.run(k)
        except Exception as e:  # reported to the caller, which falls back to serial
            self.error = e


def _worker(tasks: SimpleQueue) -> None:
    _WORKERS.add(_get_ident())
    get = tasks.get
    while True:
        task = get()
        if task is None:
            _WORKERS.discard(_get_ident())
            return
        job, k = task
        if job.pending.pop(k, False):
            try:
                job.context.copy().run(job.compute, k)
            except BaseException as e:  # never leave the caller waiting
                job.error = e
            job.done.put(k)


class _Pool:
    """``size - 1`` daemon worker threads, each with its own queue; the caller is the last."""

    def __init__(self, size: int) -> None:
        self.queues = [SimpleQueue() for _ in range(size - 1)]
        for k, queue in enumerate(self.queues):
            threading.Thread(target=_worker, args=(queue,), daemon=True,
                             name=f"ember-intraop-{k + 1}").start()

    def run(self, job: _Job) -> None:
        """Compute every chunk of ``job`` (at most one per thread); returns when all are done."""
        n = job.n
        queues = self.queues
        for k in range(1, min(n, len(queues) + 1)):  # (the pool may be smaller than asked)
            queues[k - 1].put((job, k))
        pending = job.pending
        pending.pop(0)
        job.compute(0)
        waiting = 0
        for k in range(n - 1, 0, -1):
            if pending.pop(k, False):
                job.compute(k)
            else:
                waiting += 1
        get = job.done.get
        for _ in range(waiting):
            get()

    def shutdown(self) -> None:
        for queue in self.queues:
            queue.put(None)


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
    _WORKERS.clear()


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_forget_pool_after_fork)


def _split(shape: tuple, parts: int):
    """Where to cut an output of ``shape`` into at most ``parts`` pieces (``parts`` if the
    leading axes allow).

    Returns ``(axis, lead, per)``: the axes before ``axis`` are taken one index at a time
    (``lead`` combinations, fewer than ``parts``), and ``axis`` is cut into ``per`` ranges,
    so each chunk is a block of whole trailing rows.
    """
    lead = 1
    axis = 0
    while axis < len(shape) - 1 and lead * shape[axis] < parts:
        lead *= shape[axis]
        axis += 1
    return axis, lead, min(shape[axis], parts // lead)


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
    if n_threads < 2 or _get_ident() in _WORKERS:
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
    parts = min(n_threads, size // GRAIN)
    if size < THRESHOLD or parts < 2:
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

    axis, lead, per = _split(shape, parts)
    parts = lead * per
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
    # Every chunk's inputs and output slice are cut here, so that a worker holds the GIL
    # only to make its call (each hand-over of the GIL to a sleeping thread costs µs).
    chunks = []
    for k in range(parts):
        index = _chunk_index(shape, axis, per, k)
        chunk = []
        for a, plan in zip(args, plans):
            if plan is None:
                chunk.append(a)
            else:
                off, keep = plan
                chunk.append(a[tuple([s if c else _ALL for s, c in zip(index[off:], keep)])])
        chunks.append((chunk, out[tuple(index)]))

    kw = {} if kwargs is None else kwargs
    if fn.__class__ is _ufunc:
        def run(k):
            chunk, dest = chunks[k]
            fn(*chunk, out=dest, **kw)
    else:
        # A composite forward (``g * (1 - y * y)``) cannot write into ``out``: its chunk is
        # copied there. (Cutting it into cache-sized blocks would save memory traffic, but
        # each block costs GIL hand-overs between the threads, which cost more.)
        def run(k):
            chunk, dest = chunks[k]
            result = fn(*chunk, **kw)
            if result.shape != dest.shape:  # not elementwise after all: the serial call decides
                raise ValueError("chunk result of the wrong shape")
            dest[...] = result

    job = _Job(run, parts)
    pool = _pool()
    if pool is None:
        return _serial(fn, args, kwargs)
    pool.run(job)
    if job.error is not None:
        return _serial(fn, args, kwargs)  # the serial call raises (or computes) as it would
    return out
