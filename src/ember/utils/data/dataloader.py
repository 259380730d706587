"""``DataLoader``: iterate a dataset in batches (``torch.utils.data.DataLoader``).

The loader turns its arguments into an index sampler (a ``BatchSampler`` over a
``SequentialSampler`` or ``RandomSampler`` unless given one), and each ``iter(loader)``
makes an iterator that fetches the samples of each batch and collates them. With
``num_workers > 0`` the batches are fetched by worker threads (see ``_worker.py``).
"""

from __future__ import annotations

import collections
import concurrent.futures
import multiprocessing
import os
import warnings
from collections.abc import Callable, Iterable
from math import ceil
from typing import Any, Generic, TypeVar

from ... import accelerator
from ...random import Generator, rng_of
from . import _worker
from ._fetch import _IterableDatasetFetcher, _MapDatasetFetcher
from .collate import default_collate, default_convert
from .dataset import Dataset, IterableDataset
from .sampler import BatchSampler, RandomSampler, Sampler, SequentialSampler

__all__ = ["DataLoader"]

T_co = TypeVar("T_co", covariant=True)


class _DatasetKind:
    Map = 0
    Iterable = 1

    @staticmethod
    def create_fetcher(kind: int, dataset: Any, auto_collation: bool, collate_fn: Callable,
                       drop_last: bool) -> Any:
        if kind == _DatasetKind.Map:
            return _MapDatasetFetcher(dataset, auto_collation, collate_fn, drop_last)
        return _IterableDatasetFetcher(dataset, auto_collation, collate_fn, drop_last)


class _InfiniteConstantSampler(Sampler):
    """Yields None forever: the sampler of an ``IterableDataset``."""

    def __iter__(self):
        while True:
            yield None


class DataLoader(Generic[T_co]):
    """Combines a dataset and a sampler, and iterates over the dataset in batches.

    Args:
        dataset (Dataset): the dataset to load from (map-style or iterable).
        batch_size (int, optional): samples per batch; None turns automatic batching off.
            Default: 1.
        shuffle (bool, optional): reshuffle the data at every epoch. Default: False.
        sampler (Sampler or Iterable, optional): the order of the indices. Excludes
            ``shuffle``.
        batch_sampler (Sampler or Iterable, optional): yields lists of indices, a batch at a
            time. Excludes ``batch_size``, ``shuffle``, ``sampler`` and ``drop_last``.
        num_workers (int, optional): worker threads fetching batches; 0 loads in the main
            thread. Default: 0.
        collate_fn (Callable, optional): merges a list of samples into a batch. Default:
            ``default_collate`` (``default_convert`` without automatic batching).
        pin_memory (bool, optional): accepted for compatibility; ember does not pin memory.
        drop_last (bool, optional): drop the last incomplete batch. Default: False.
        timeout (numeric, optional): seconds to wait for a worker's batch. Default: 0
            (wait for ever).
        worker_init_fn (Callable, optional): called with the worker id in each worker.
        multiprocessing_context (str or context, optional): checked as PyTorch checks it,
            then unused (the workers are threads).
        generator (Generator, optional): the generator ``RandomSampler`` shuffles with and
            the base seed of the workers is drawn from.
        prefetch_factor (int, optional): batches fetched ahead per worker. Default: 2 with
            workers.
        persistent_workers (bool, optional): accepted; the worker threads are made anew for
            each epoch.
        pin_memory_device (str, optional): accepted for compatibility.
        in_order (bool, optional): accepted; batches always come in sampler order.
    """

    dataset: Dataset[T_co]
    batch_size: int | None
    num_workers: int
    pin_memory: bool
    drop_last: bool
    timeout: float
    sampler: Sampler | Iterable
    prefetch_factor: int | None
    __initialized = False

    def __init__(self, dataset: Dataset[T_co], batch_size: int | None = 1,
                 shuffle: bool | None = None, sampler: Sampler | Iterable | None = None,
                 batch_sampler: Sampler[list] | Iterable[list] | None = None,
                 num_workers: int = 0, collate_fn: Callable[[list], Any] | None = None,
                 pin_memory: bool = False, drop_last: bool = False, timeout: float = 0,
                 worker_init_fn: Callable[[int], None] | None = None,
                 multiprocessing_context: Any = None, generator: Generator | None = None, *,
                 prefetch_factor: int | None = None, persistent_workers: bool = False,
                 pin_memory_device: str = "", in_order: bool = True) -> None:
        if num_workers < 0:
            raise ValueError("num_workers option should be non-negative; "
                             "use num_workers=0 to disable multiprocessing.")
        if timeout < 0:
            raise ValueError("timeout option should be non-negative")
        if num_workers == 0 and prefetch_factor is not None:
            raise ValueError(
                "prefetch_factor option could only be specified in multiprocessing."
                "let num_workers > 0 to enable multiprocessing, otherwise set prefetch_factor "
                "to None.")
        elif num_workers > 0 and prefetch_factor is None:
            prefetch_factor = 2
        elif prefetch_factor is not None and prefetch_factor < 0:
            raise ValueError("prefetch_factor option should be non-negative")
        if persistent_workers and num_workers == 0:
            raise ValueError("persistent_workers option needs num_workers > 0")

        self.dataset = dataset
        self.num_workers = num_workers
        self.prefetch_factor = prefetch_factor
        self.pin_memory = pin_memory
        self.pin_memory_device = pin_memory_device
        self.timeout = timeout
        self.worker_init_fn = worker_init_fn
        self.multiprocessing_context = multiprocessing_context
        self.in_order = in_order

        # Checked before the samplers, so that users learn first that an iterable dataset
        # takes no sampler at all.
        if isinstance(dataset, IterableDataset):
            self._dataset_kind = _DatasetKind.Iterable
            if shuffle not in {False, None}:
                raise ValueError("DataLoader with IterableDataset: expected unspecified shuffle "
                                 f"option, but got shuffle={shuffle}")
            if sampler is not None:
                raise ValueError("DataLoader with IterableDataset: expected unspecified sampler "
                                 f"option, but got sampler={sampler}")
            if batch_sampler is not None:
                raise ValueError("DataLoader with IterableDataset: expected unspecified "
                                 f"batch_sampler option, but got batch_sampler={batch_sampler}")
        else:
            shuffle = bool(shuffle)
            self._dataset_kind = _DatasetKind.Map

        if sampler is not None and shuffle:
            raise ValueError("sampler option is mutually exclusive with shuffle")

        if batch_sampler is not None:
            if batch_size != 1 or shuffle or sampler is not None or drop_last:
                raise ValueError("batch_sampler option is mutually exclusive with batch_size, "
                                 "shuffle, sampler, and drop_last")
            batch_size = None
            drop_last = False
        elif batch_size is None and drop_last:
            raise ValueError("batch_size=None option disables auto-batching and is mutually "
                             "exclusive with drop_last")

        if sampler is None:
            if self._dataset_kind == _DatasetKind.Iterable:
                sampler = _InfiniteConstantSampler()
            elif shuffle:
                sampler = RandomSampler(dataset, generator=generator)  # type: ignore[arg-type]
            else:
                sampler = SequentialSampler(dataset)  # type: ignore[arg-type]

        if batch_size is not None and batch_sampler is None:
            batch_sampler = BatchSampler(sampler, batch_size, drop_last)

        self.batch_size = batch_size
        self.drop_last = drop_last
        self.sampler = sampler
        self.batch_sampler = batch_sampler
        self.generator = generator

        if collate_fn is None:
            collate_fn = default_collate if self._auto_collation else default_convert
        self.collate_fn = collate_fn
        self.persistent_workers = persistent_workers

        self.__initialized = True
        self._IterableDataset_len_called: int | None = None
        self.check_worker_number_rationality()

    @property
    def multiprocessing_context(self) -> Any:
        return self.__multiprocessing_context

    @multiprocessing_context.setter
    def multiprocessing_context(self, multiprocessing_context: Any) -> None:
        if multiprocessing_context is not None:
            if self.num_workers > 0:
                if isinstance(multiprocessing_context, str):
                    valid_start_methods = multiprocessing.get_all_start_methods()
                    if multiprocessing_context not in valid_start_methods:
                        raise ValueError(
                            "multiprocessing_context option should specify a valid start "
                            f"method in {valid_start_methods!r}, but got "
                            f"multiprocessing_context={multiprocessing_context!r}")
                    multiprocessing_context = multiprocessing.get_context(
                        multiprocessing_context)
                if not isinstance(multiprocessing_context, multiprocessing.context.BaseContext):
                    raise TypeError(
                        "multiprocessing_context option should be a valid context object or a "
                        "string specifying the start method, but got "
                        f"multiprocessing_context={multiprocessing_context}")
            else:
                raise ValueError(
                    "multiprocessing_context can only be used with multi-process loading "
                    f"(num_workers > 0), but got num_workers={self.num_workers}")
        self.__multiprocessing_context = multiprocessing_context

    def __setattr__(self, attr: str, val: Any) -> None:
        if self.__initialized and attr in ("batch_size", "batch_sampler", "sampler",
                                           "drop_last", "dataset", "persistent_workers"):
            raise ValueError(f"{attr} attribute should not be set after "
                             f"{self.__class__.__name__} is initialized")
        super().__setattr__(attr, val)

    def __iter__(self) -> _BaseDataLoaderIter:
        """A new iterator over the batches (a new shuffle, for ``shuffle=True``)."""
        if self.num_workers == 0:
            return _SingleProcessDataLoaderIter(self)
        return _ThreadedDataLoaderIter(self)

    @property
    def _auto_collation(self) -> bool:
        return self.batch_sampler is not None

    @property
    def _index_sampler(self) -> Any:
        # What the fetchers are given: batches of indices, or single indices.
        return self.batch_sampler if self._auto_collation else self.sampler

    def __len__(self) -> int:
        """The number of batches (for an ``IterableDataset``: from its ``__len__``)."""
        if self._dataset_kind == _DatasetKind.Iterable:
            length = self._IterableDataset_len_called = len(self.dataset)  # type: ignore
            if self.batch_size is not None:
                length = length // self.batch_size if self.drop_last else \
                    ceil(length / self.batch_size)
            return length
        return len(self._index_sampler)

    def check_worker_number_rationality(self) -> None:
        """Warn when more workers are asked for than this process may use CPUs."""
        if not self.num_workers:
            return
        cpuset_checked = hasattr(os, "sched_getaffinity")
        max_num_worker_suggest = len(os.sched_getaffinity(0)) if cpuset_checked \
            else os.cpu_count()
        if max_num_worker_suggest is None or self.num_workers > max_num_worker_suggest:
            if max_num_worker_suggest is not None:
                suggested = ("Our suggested max number of worker in current system is "
                             f"{max_num_worker_suggest}"
                             f"{'' if cpuset_checked else ' (`cpuset` is not taken into account)'}"
                             ", which is smaller than what this DataLoader is going to create.")
            else:
                suggested = ("DataLoader is not able to compute a suggested max number of "
                             "worker in current system.")
            warnings.warn(
                f"This DataLoader will create {self.num_workers} worker processes in total. "
                f"{suggested} Please be aware that excessive worker creation might get "
                "DataLoader running slow or even freeze, lower the worker number to avoid "
                "potential slowness/freeze if necessary.", stacklevel=2)


class _BaseDataLoaderIter:
    def __init__(self, loader: DataLoader) -> None:
        self._dataset = loader.dataset
        self._dataset_kind = loader._dataset_kind
        self._IterableDataset_len_called = loader._IterableDataset_len_called
        self._auto_collation = loader._auto_collation
        self._drop_last = loader.drop_last
        self._index_sampler = loader._index_sampler
        self._num_workers = loader.num_workers
        if loader.pin_memory and not accelerator.is_available():
            warnings.warn("'pin_memory' argument is set as true but no accelerator is found, "
                          "then device pinned memory won't be used.", stacklevel=3)
        self._timeout = loader.timeout
        self._collate_fn = loader.collate_fn
        self._sampler_iter = iter(self._index_sampler)
        # Drawn on every iter(), as PyTorch does, so the generator advances the same way.
        self._base_seed = int(rng_of(loader.generator).integers(0, 1 << 63, dtype="int64"))
        self._num_yielded = 0

    def __iter__(self) -> _BaseDataLoaderIter:
        return self

    def _next_index(self) -> Any:
        return next(self._sampler_iter)  # may raise StopIteration

    def _next_data(self) -> Any:
        raise NotImplementedError

    def __next__(self) -> Any:
        data = self._next_data()
        self._num_yielded += 1
        if self._dataset_kind == _DatasetKind.Iterable and \
                self._IterableDataset_len_called is not None and \
                self._num_yielded > self._IterableDataset_len_called:
            warn_msg = (f"Length of IterableDataset {self._dataset} was reported to be "
                        f"{self._IterableDataset_len_called}(when accessing len(dataloader)), "
                        f"but {self._num_yielded} samples have been fetched. ")
            if self._num_workers > 0:
                warn_msg += ("For multiprocessing data-loading, this could be caused by not "
                             "properly configuring the IterableDataset replica at each worker.")
            warnings.warn(warn_msg, stacklevel=2)
        return data

    def __len__(self) -> int:
        return len(self._index_sampler)

    def __getstate__(self):
        raise NotImplementedError(f"{self.__class__.__name__} cannot be pickled")


class _SingleProcessDataLoaderIter(_BaseDataLoaderIter):
    def __init__(self, loader: DataLoader) -> None:
        super().__init__(loader)
        self._dataset_fetcher = _DatasetKind.create_fetcher(
            self._dataset_kind, self._dataset, self._auto_collation, self._collate_fn,
            self._drop_last)

    def _next_data(self) -> Any:
        index = self._next_index()  # may raise StopIteration
        return self._dataset_fetcher.fetch(index)  # may raise StopIteration


_ENDED = object()  # a worker's iterable dataset is exhausted


class _ThreadedDataLoaderIter(_BaseDataLoaderIter):
    """Fetches batches on ``num_workers`` worker threads, each a one-thread executor with its
    own fetcher; indices go to the workers round-robin, ``prefetch_factor`` batches ahead
    per worker, and batches come back in the order of the sampler."""

    _shutdown = True  # until the workers exist (so __del__ of a failed __init__ is quiet)

    def __init__(self, loader: DataLoader) -> None:
        super().__init__(loader)
        if loader.prefetch_factor <= 0:
            raise AssertionError("prefetch_factor must be greater than 0 for "
                                 "MultiProcessingDataLoaderIter")
        n = self._num_workers
        self._executors = [concurrent.futures.ThreadPoolExecutor(
            1, thread_name_prefix=f"ember-dataloader-{i}") for i in range(n)]
        self._fetchers: list[Any] = [None] * n
        self._active = [True] * n
        self._worker_cycle = 0
        self._tasks: collections.deque = collections.deque()
        self._shutdown = False
        for i, ex in enumerate(self._executors):
            ex.submit(self._init_worker, i, loader.worker_init_fn)
        for _ in range(n * loader.prefetch_factor):
            if not self._try_put_index():
                break

    def _init_worker(self, worker_id: int, worker_init_fn: Callable | None) -> None:
        _worker._set_worker_info(_worker.WorkerInfo(
            id=worker_id, num_workers=self._num_workers, seed=self._base_seed + worker_id,
            dataset=self._dataset))
        try:
            if worker_init_fn is not None:
                worker_init_fn(worker_id)
            self._fetchers[worker_id] = _DatasetKind.create_fetcher(
                self._dataset_kind, self._dataset, self._auto_collation, self._collate_fn,
                self._drop_last)
        except BaseException as e:  # raised in the main thread by the worker's first batch
            self._fetchers[worker_id] = e

    def _fetch(self, worker_id: int, index: Any) -> Any:
        fetcher = self._fetchers[worker_id]
        if isinstance(fetcher, BaseException):
            raise fetcher
        try:
            return fetcher.fetch(index)
        except StopIteration:
            return _ENDED

    def _try_put_index(self) -> bool:
        n = self._num_workers
        for _ in range(n):
            worker_id = self._worker_cycle
            self._worker_cycle = (self._worker_cycle + 1) % n
            if self._active[worker_id]:
                break
        else:
            return False
        try:
            index = self._next_index()
        except StopIteration:
            return False
        self._tasks.append((worker_id, self._executors[worker_id].submit(
            self._fetch, worker_id, index)))
        return True

    def _next_data(self) -> Any:
        while self._tasks:
            worker_id, future = self._tasks.popleft()
            try:
                data = future.result(timeout=self._timeout or None)
            except concurrent.futures.TimeoutError:
                self._shutdown_workers()
                raise RuntimeError(f"DataLoader timed out after {self._timeout} "
                                   "seconds") from None
            except BaseException:
                self._try_put_index()
                raise
            if data is _ENDED:
                self._active[worker_id] = False
                continue
            self._try_put_index()
            return data
        self._shutdown_workers()
        raise StopIteration

    def _shutdown_workers(self) -> None:
        if not self._shutdown:
            self._shutdown = True
            for ex in self._executors:
                ex.shutdown(wait=False, cancel_futures=True)

    def __del__(self) -> None:
        self._shutdown_workers()
