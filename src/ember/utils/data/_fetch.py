"""Fetchers: read one batch (or one sample) of a dataset and collate it."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from .collate import _gather_tensor_rows, default_collate
from .dataset import TensorDataset

_TENSOR_DATASET_GETITEM = TensorDataset.__getitem__


class _BaseDatasetFetcher:
    def __init__(self, dataset: Any, auto_collation: bool, collate_fn: Callable,
                 drop_last: bool) -> None:
        self.dataset = dataset
        self.auto_collation = auto_collation
        self.collate_fn = collate_fn
        self.drop_last = drop_last


class _MapDatasetFetcher(_BaseDatasetFetcher):
    """Reads ``dataset[i]`` for each index of a batch (or ``__getitems__`` where the dataset
    has it) and collates the samples."""

    def fetch(self, possibly_batched_index: Any) -> Any:
        if self.auto_collation:
            getitems = getattr(self.dataset, "__getitems__", None)
            if getitems:
                data = getitems(possibly_batched_index)
            else:
                # A TensorDataset batched by default_collate: the same batch from one gather
                # per tensor, when nobody sees the samples in between.
                if self.collate_fn is default_collate and \
                        type(self.dataset).__getitem__ is _TENSOR_DATASET_GETITEM:
                    batch = _gather_tensor_rows(self.dataset.tensors, possibly_batched_index)
                    if batch is not None:
                        return batch
                data = [self.dataset[idx] for idx in possibly_batched_index]
        else:
            data = self.dataset[possibly_batched_index]
        return self.collate_fn(data)


class _IterableDatasetFetcher(_BaseDatasetFetcher):
    """Takes the next ``len(batch)`` samples of an iterable dataset's iterator and collates
    them; raises ``StopIteration`` when the iterator is exhausted (or, with ``drop_last``,
    when the last batch would be short)."""

    def __init__(self, dataset: Any, auto_collation: bool, collate_fn: Callable,
                 drop_last: bool) -> None:
        super().__init__(dataset, auto_collation, collate_fn, drop_last)
        self.dataset_iter = iter(dataset)
        self.ended = False

    def fetch(self, possibly_batched_index: Any) -> Any:
        if self.ended:
            raise StopIteration
        if self.auto_collation:
            data = []
            for _ in possibly_batched_index:
                try:
                    data.append(next(self.dataset_iter))
                except StopIteration:
                    self.ended = True
                    break
            if len(data) == 0 or (self.drop_last and len(data) < len(possibly_batched_index)):
                raise StopIteration
        else:
            data = next(self.dataset_iter)
        return self.collate_fn(data)
