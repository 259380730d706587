"""Worker threads for ``DataLoader(num_workers > 0)`` and ``get_worker_info``.

ember's workers are threads, not processes: each worker is a one-thread executor with its
own dataset fetcher, batches are handed to the workers round-robin and returned in order,
as PyTorch's worker processes do. NumPy releases the GIL in its array kernels, so loading
overlaps with the training step; pure-Python ``__getitem__`` code still runs one thread at a
time. All workers share the dataset object and ember's global generator (PyTorch gives each
process a copy of the dataset and reseeds it with ``seed = base_seed + worker_id``).
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from typing import Any

__all__ = ["WorkerInfo", "get_worker_info"]

_local = threading.local()


@dataclass
class WorkerInfo:
    """What a ``DataLoader`` worker knows about itself.

    Attributes:
        id: the worker's id, ``0 .. num_workers - 1``.
        num_workers: how many workers the loader has.
        seed: ``base_seed + id``, the base seed drawn once per ``iter(loader)``.
        dataset: the dataset the worker reads (in ember, the loader's own object).
        worker_method: ``"thread"``: ember's workers are threads.
    """

    id: int
    num_workers: int
    seed: int
    dataset: Any
    worker_method: str = "thread"


def get_worker_info() -> WorkerInfo | None:
    """The ``WorkerInfo`` of the ``DataLoader`` worker calling it, or None in the main
    thread (single-process loading).

    Use it in an ``IterableDataset``'s ``__iter__`` or a ``worker_init_fn`` to give each
    worker its own share of the data.
    """
    return getattr(_local, "info", None)


def _set_worker_info(info: WorkerInfo | None) -> None:
    _local.info = info
