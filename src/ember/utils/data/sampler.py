"""Samplers (``torch.utils.data.sampler``): which indices a ``DataLoader`` reads, and in
what order and batches.

The random samplers draw from ember's generators (NumPy's PCG64): a seed gives the same
order every run, but not the order PyTorch gives for that seed.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterable, Iterator, Sequence, Sized
from typing import Generic, TypeVar

import numpy as np

from ...creation import as_tensor, randint, randperm
from ...dtype import float64, int64
from ...random import Generator, rng_of

__all__ = ["Sampler", "SequentialSampler", "RandomSampler", "SubsetRandomSampler",
           "WeightedRandomSampler", "BatchSampler"]

T_co = TypeVar("T_co", covariant=True)


class Sampler(Generic[T_co]):
    """Base class of samplers: ``__iter__`` yields indices (or lists of indices, for batch
    samplers); ``__len__``, where defined, says how many."""

    def __iter__(self) -> Iterator[T_co]:
        raise NotImplementedError

    # No default __len__: ``list(sampler)`` must be able to tell it is missing.


class SequentialSampler(Sampler[int]):
    """Samples ``0, 1, ..., len(data_source) - 1``, always in that order.

    Args:
        data_source (Sized): the dataset to sample from.
    """

    data_source: Sized

    def __init__(self, data_source: Sized) -> None:
        self.data_source = data_source

    def __iter__(self) -> Iterator[int]:
        return iter(range(len(self.data_source)))

    def __len__(self) -> int:
        return len(self.data_source)


def _seeded_generator(generator: Generator | None) -> Generator:
    """``generator``, or a fresh generator seeded from the global one (as PyTorch does)."""
    if generator is not None:
        return generator
    seed = int(rng_of(None).integers(-(1 << 63), 1 << 63, dtype="int64"))
    return Generator().manual_seed(seed)


class RandomSampler(Sampler[int]):
    """Samples elements in random order: a shuffled dataset, or with ``replacement=True``
    ``num_samples`` indices drawn independently.

    Args:
        data_source (Sized): the dataset to sample from.
        replacement (bool): draw with replacement. Default: False.
        num_samples (int): how many indices to draw. Default: ``len(data_source)``.
        generator (Generator): the generator to draw from. Default: a generator seeded from
            the global one on each ``iter``.
    """

    data_source: Sized
    replacement: bool

    def __init__(self, data_source: Sized, replacement: bool = False,
                 num_samples: int | None = None, generator: Generator | None = None) -> None:
        self.data_source = data_source
        self.replacement = replacement
        self._num_samples = num_samples
        self.generator = generator
        if not isinstance(self.replacement, bool):
            raise TypeError("replacement should be a boolean value, but got "
                            f"replacement={self.replacement}")
        if not isinstance(self.num_samples, int) or self.num_samples <= 0:
            raise ValueError("num_samples should be a positive integer value, but got "
                             f"num_samples={self.num_samples}")

    @property
    def num_samples(self) -> int:
        # the dataset's size may change at run time
        if self._num_samples is None:
            return len(self.data_source)
        return self._num_samples

    def __iter__(self) -> Iterator[int]:
        n = len(self.data_source)
        generator = _seeded_generator(self.generator)
        if self.replacement:
            for _ in range(self.num_samples // 32):
                yield from randint(high=n, size=(32,), dtype=int64,
                                   generator=generator).tolist()
            yield from randint(high=n, size=(self.num_samples % 32,), dtype=int64,
                               generator=generator).tolist()
        else:
            for _ in range(self.num_samples // n):
                yield from randperm(n, generator=generator).tolist()
            yield from randperm(n, generator=generator).tolist()[:self.num_samples % n]

    def __len__(self) -> int:
        return self.num_samples


class SubsetRandomSampler(Sampler[int]):
    """Samples the given indices in random order, without replacement.

    Args:
        indices (sequence): the indices to sample.
        generator (Generator): the generator to draw from. Default: the global one.
    """

    indices: Sequence[int]

    def __init__(self, indices: Sequence[int], generator: Generator | None = None) -> None:
        self.indices = indices
        self.generator = generator

    def __iter__(self) -> Iterator[int]:
        for i in randperm(len(self.indices), generator=self.generator).tolist():
            yield self.indices[i]

    def __len__(self) -> int:
        return len(self.indices)


class WeightedRandomSampler(Sampler[int]):
    """Samples ``0 .. len(weights) - 1`` with probabilities proportional to ``weights``.

    Args:
        weights (sequence): the weights, not necessarily summing to one.
        num_samples (int): how many indices to draw.
        replacement (bool): draw with replacement. Default: True.
        generator (Generator): the generator to draw from. Default: the global one.
    """

    num_samples: int
    replacement: bool

    def __init__(self, weights: Sequence[float], num_samples: int, replacement: bool = True,
                 generator: Generator | None = None) -> None:
        if not isinstance(num_samples, int) or isinstance(num_samples, bool) or \
                num_samples <= 0:
            raise ValueError("num_samples should be a positive integer value, but got "
                             f"num_samples={num_samples}")
        if not isinstance(replacement, bool):
            raise ValueError("replacement should be a boolean value, but got "
                             f"replacement={replacement}")
        weights_tensor = as_tensor(weights, dtype=float64)
        if len(weights_tensor.shape) != 1:
            raise ValueError("weights should be a 1d sequence but given weights have shape "
                             f"{tuple(weights_tensor.shape)}")
        self.weights = weights_tensor
        self.num_samples = num_samples
        self.replacement = replacement
        self.generator = generator

    def __iter__(self) -> Iterator[int]:
        yield from _multinomial(self.weights.numpy(force=True), self.num_samples,
                                self.replacement, rng_of(self.generator)).tolist()

    def __len__(self) -> int:
        return self.num_samples


def _multinomial(w: np.ndarray, n: int, replacement: bool, rng: np.random.Generator
                 ) -> np.ndarray:
    """``torch.multinomial(w, n, replacement)`` on a 1-d float array, with its checks and
    errors. Without replacement (or for one sample) the draw is PyTorch's: the ``n`` largest
    of ``w / q`` for ``q ~ Exp(1)``, so zero weights come last rather than never."""
    if not replacement and n > w.shape[0]:
        raise RuntimeError("cannot sample n_sample > prob_dist.size(-1) samples without "
                           "replacement")
    if not replacement or n == 1:
        if not w.size:
            raise RuntimeError("aminmax(): cannot compute aminmax over an empty dimension as "
                               "the operation has no identity.")
        if not (w.max() < np.inf and w.min() >= 0):
            raise RuntimeError("probability tensor contains either `inf`, `nan` or element < 0")
        if w.sum() == 0:
            raise RuntimeError("invalid multinomial distribution (sum of probabilities <= 0)")
        keys = w / rng.exponential(size=w.shape[0])
        return np.argsort(-keys, kind="stable")[:n]
    if not (w >= 0).all():
        raise RuntimeError("invalid multinomial distribution (encountering probability entry "
                           "< 0)")
    if not np.isfinite(w).all():
        raise RuntimeError("invalid multinomial distribution (encountering probability entry "
                           "= infinity or NaN)")
    total = w.sum()
    if not total > 0:
        raise RuntimeError("invalid multinomial distribution (sum of probabilities <= 0)")
    return rng.choice(w.shape[0], size=n, p=w / total)


class BatchSampler(Sampler[list[int]]):
    """Groups the indices of another sampler into lists of ``batch_size``.

    Args:
        sampler (Sampler or Iterable): the sampler whose indices to group.
        batch_size (int): the size of a mini-batch.
        drop_last (bool): drop the last batch if it would be smaller than ``batch_size``.

    Example::

        >>> list(BatchSampler(SequentialSampler(range(10)), batch_size=3, drop_last=False))
        [[0, 1, 2], [3, 4, 5], [6, 7, 8], [9]]
    """

    def __init__(self, sampler: Sampler[int] | Iterable[int], batch_size: int,
                 drop_last: bool) -> None:
        if not isinstance(batch_size, int) or isinstance(batch_size, bool) or batch_size <= 0:
            raise ValueError("batch_size should be a positive integer value, but got "
                             f"batch_size={batch_size}")
        if not isinstance(drop_last, bool):
            raise ValueError(f"drop_last should be a boolean value, but got drop_last={drop_last}")
        self.sampler = sampler
        self.batch_size = batch_size
        self.drop_last = drop_last

    def __iter__(self) -> Iterator[list[int]]:
        sampler_iter = iter(self.sampler)
        if self.drop_last:
            for batch in zip(*[sampler_iter] * self.batch_size):
                yield [*batch]
        else:
            batch = [*itertools.islice(sampler_iter, self.batch_size)]
            while batch:
                yield batch
                batch = [*itertools.islice(sampler_iter, self.batch_size)]

    def __len__(self) -> int:
        if self.drop_last:
            return len(self.sampler) // self.batch_size  # type: ignore[arg-type]
        return (len(self.sampler) + self.batch_size - 1) // self.batch_size  # type: ignore
