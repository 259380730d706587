"""``ember.utils.data``: datasets, samplers and ``DataLoader`` (``torch.utils.data``).

``from torch.utils.data import DataLoader, Dataset`` runs on ember as it is. Shuffling
uses ember's generators (NumPy's PCG64): repeatable for a seed, but not PyTorch's orders;
sequential batching is PyTorch's exactly. ``num_workers > 0`` loads on worker threads.
"""

from .dataset import (
    ChainDataset, ConcatDataset, Dataset, IterableDataset, StackDataset, Subset, TensorDataset,
    random_split,
)
from .sampler import (
    BatchSampler, RandomSampler, Sampler, SequentialSampler, SubsetRandomSampler,
    WeightedRandomSampler,
)
from .collate import default_collate, default_convert
from ._worker import WorkerInfo, get_worker_info
from .dataloader import DataLoader, _DatasetKind

__all__ = ["BatchSampler", "ChainDataset", "ConcatDataset", "DataLoader", "Dataset",
           "IterableDataset", "RandomSampler", "Sampler", "SequentialSampler",
           "StackDataset", "Subset", "SubsetRandomSampler", "TensorDataset",
           "WeightedRandomSampler", "WorkerInfo", "default_collate", "default_convert",
           "get_worker_info", "random_split"]
