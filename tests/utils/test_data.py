"""``ember.utils.data`` against ``torch.utils.data``: batching, collation, samplers, splits
and errors. Shuffled orders are ember's own (NumPy's PCG64), so only their properties are
compared; everything deterministic must be identical to torch's."""

from __future__ import annotations

import collections
import importlib
import threading
import time
import warnings

import numpy as np
import pytest
import torch
import torch.utils.data as tdata

import ember
import ember.utils.data as edata
from tests._surface_helpers import outcome

Point = collections.namedtuple("Point", "x y")


# ---- helpers ----------------------------------------------------------------------------
def plain(x):
    """A structure of builtins that compares equal between ember and torch results."""
    if isinstance(x, (ember.Tensor, torch.Tensor)):
        return ("tensor", str(x.dtype).split(".")[1], tuple(x.shape), x.tolist())
    if isinstance(x, tuple) and hasattr(x, "_fields"):
        return (type(x).__name__, *[plain(v) for v in x])
    if isinstance(x, dict):
        return {k: plain(v) for k, v in x.items()}
    if isinstance(x, (list, tuple)):
        return (type(x).__name__, [plain(v) for v in x])
    return x


def to_lib(x, lib):
    """``x`` with every NumPy array turned into a tensor of ``lib`` (ember or torch)."""
    if isinstance(x, np.ndarray):
        return lib.from_numpy(x.copy())
    if isinstance(x, tuple) and hasattr(x, "_fields"):
        return type(x)(*[to_lib(v, lib) for v in x])
    if isinstance(x, dict):
        return {k: to_lib(v, lib) for k, v in x.items()}
    if isinstance(x, (list, tuple)):
        return type(x)(to_lib(v, lib) for v in x)
    return x


def raises_like(fn_torch, fn_ember):
    """Both calls raise the same exception type with the same message."""
    with pytest.raises(Exception) as expected:
        fn_torch()
    with pytest.raises(expected.type) as got:
        fn_ember()
    assert str(got.value) == str(expected.value)


class MapData:
    """A map-style dataset of ``(array, int, float)`` samples, without Dataset as base."""

    def __init__(self, n):
        self.n = n

    def __len__(self):
        return self.n

    def __getitem__(self, i):
        if not 0 <= i < self.n:
            raise IndexError(i)
        return np.full(3, i, dtype=np.float32), i, i / 2


# ---- imports ----------------------------------------------------------------------------
def test_import_paths():
    mod = importlib.import_module("ember.utils.data")
    assert ember.utils.data is mod
    assert ember.utils.data.DataLoader is edata.DataLoader
    from ember.utils.data import DataLoader, Dataset  # noqa: F401


# ---- DataLoader: sequential batching is torch's ----------------------------------------
@pytest.mark.parametrize("n,batch_size,drop_last", [
    (10, 1, False), (10, 3, False), (10, 3, True), (10, 5, True), (10, 64, False),
    (10, 64, True), (130, 64, False), (0, 4, False), (7, 7, True)])
def test_sequential_batches_match_torch(n, batch_size, drop_last):
    x = np.arange(n * 2, dtype=np.float32).reshape(n, 2)
    y = np.arange(n) % 3
    e = edata.DataLoader(edata.TensorDataset(ember.from_numpy(x), ember.from_numpy(y)),
                         batch_size=batch_size, drop_last=drop_last)
    t = tdata.DataLoader(tdata.TensorDataset(torch.from_numpy(x), torch.from_numpy(y)),
                         batch_size=batch_size, drop_last=drop_last)
    assert len(e) == len(t)
    assert [plain(b) for b in e] == [plain(b) for b in t]


def test_batches_of_python_samples_match_torch():
    e = list(edata.DataLoader(MapData(7), batch_size=3))
    t = list(tdata.DataLoader(MapData(7), batch_size=3))
    assert [plain(b) for b in e] == [plain(b) for b in t]


def test_batch_size_none_converts_without_batching():
    e = list(edata.DataLoader(MapData(3), batch_size=None))
    t = list(tdata.DataLoader(MapData(3), batch_size=None))
    assert [plain(b) for b in e] == [plain(b) for b in t]
    assert len(edata.DataLoader(MapData(3), batch_size=None)) == 3


def test_custom_sampler_and_batch_sampler_match_torch():
    order = [4, 0, 3, 1, 2, 5]
    e = edata.DataLoader(MapData(6), batch_size=4, sampler=order)
    t = tdata.DataLoader(MapData(6), batch_size=4, sampler=order)
    assert [plain(b) for b in e] == [plain(b) for b in t]
    batches = [[5, 1], [0], [2, 3, 4]]
    e = edata.DataLoader(MapData(6), batch_sampler=batches)
    t = tdata.DataLoader(MapData(6), batch_sampler=batches)
    assert len(e) == len(t) == 3
    assert [plain(b) for b in e] == [plain(b) for b in t]


def test_collate_fn_and_getitems():
    class Batched(edata.Dataset):
        def __init__(self):
            self.calls = []

        def __len__(self):
            return 5

        def __getitem__(self, i):
            raise AssertionError("__getitems__ should be used")

        def __getitems__(self, indices):
            self.calls.append(indices)
            return [i * 10 for i in indices]

    ds = Batched()
    out = list(edata.DataLoader(ds, batch_size=2, collate_fn=lambda b: b))
    assert out == [[0, 10], [20, 30], [40]]
    assert ds.calls == [[0, 1], [2, 3], [4]]


def test_training_loop_pattern():
    ds = edata.TensorDataset(ember.randn(130, 1, 28, 28), ember.randint(0, 10, (130,)))
    dataloader = edata.DataLoader(ds, batch_size=64)
    size = len(dataloader.dataset)
    seen = []
    for batch, (X, y) in enumerate(dataloader):
        seen.append((batch, len(X), batch * len(X), X.shape, y.dtype))
    assert size == 130
    assert [s[:3] for s in seen] == [(0, 64, 0), (1, 64, 64), (2, 2, 4)]
    assert seen[0][3] == ember.Size([64, 1, 28, 28]) and seen[0][4] == ember.int64


def test_dataloader_iterates_again_each_epoch():
    dl = edata.DataLoader(MapData(5), batch_size=2)
    first, second = [plain(b) for b in dl], [plain(b) for b in dl]
    assert first == second and len(first) == 3


# ---- DataLoader: shuffling ---------------------------------------------------------------
def test_shuffle_is_a_permutation_each_epoch_and_repeatable_with_a_generator():
    ds = edata.TensorDataset(ember.arange(50))

    def epoch(dl):
        return [v for (b,) in dl for v in b.tolist()]

    dl = edata.DataLoader(ds, batch_size=8, shuffle=True,
                          generator=ember.Generator().manual_seed(3))
    a, b = epoch(dl), epoch(dl)
    assert sorted(a) == sorted(b) == list(range(50))
    assert a != b  # a new order every epoch
    again = edata.DataLoader(ds, batch_size=8, shuffle=True,
                             generator=ember.Generator().manual_seed(3))
    assert epoch(again) == a
    assert [len(x) for (x,) in dl] == [8] * 6 + [2]


def test_shuffle_follows_the_global_seed():
    ds = list(range(20))
    ember.manual_seed(0)
    a = [v for b in edata.DataLoader(ds, batch_size=5, shuffle=True) for v in b.tolist()]
    ember.manual_seed(0)
    b = [v for b in edata.DataLoader(ds, batch_size=5, shuffle=True) for v in b.tolist()]
    assert a == b and sorted(a) == ds


# ---- DataLoader: errors are torch's ------------------------------------------------------
class Stream(edata.IterableDataset):
    def __init__(self, start, end):
        self.start, self.end = start, end

    def __iter__(self):
        return iter(range(self.start, self.end))


class TorchStream(tdata.IterableDataset):
    def __init__(self, start, end):
        self.start, self.end = start, end

    def __iter__(self):
        return iter(range(self.start, self.end))


@pytest.mark.parametrize("kwargs", [
    dict(shuffle=True, sampler=[0, 1]),
    dict(batch_sampler=[[0]], batch_size=2),
    dict(batch_sampler=[[0]], shuffle=True),
    dict(batch_sampler=[[0]], sampler=[0]),
    dict(batch_sampler=[[0]], drop_last=True),
    dict(batch_size=None, drop_last=True),
    dict(num_workers=-1),
    dict(timeout=-1),
    dict(prefetch_factor=2),
    dict(num_workers=1, prefetch_factor=-1),
    dict(persistent_workers=True),
    dict(multiprocessing_context="fork"),
    dict(num_workers=1, multiprocessing_context="nope"),
    dict(num_workers=1, multiprocessing_context=3),
    dict(batch_size=0),
    dict(batch_size=2.0),
    dict(drop_last=1),
])
def test_dataloader_errors_match_torch(kwargs):
    raises_like(lambda: tdata.DataLoader(MapData(4), **kwargs),
                lambda: edata.DataLoader(MapData(4), **kwargs))


@pytest.mark.parametrize("kwargs", [dict(shuffle=True), dict(sampler=[0]),
                                    dict(batch_sampler=[[0]])])
def test_iterable_dataset_errors_match_torch(kwargs):
    # the sampler's repr is in the message: use the same object for both
    raises_like(lambda: tdata.DataLoader(TorchStream(0, 3), **kwargs),
                lambda: edata.DataLoader(Stream(0, 3), **kwargs))


@pytest.mark.parametrize("attr", ["batch_size", "batch_sampler", "sampler", "drop_last",
                                  "dataset", "persistent_workers"])
def test_attributes_are_frozen_after_init(attr):
    e, t = edata.DataLoader(MapData(4)), tdata.DataLoader(MapData(4))
    raises_like(lambda: setattr(t, attr, None), lambda: setattr(e, attr, None))
    e.collate_fn = None  # others may be set


def test_pin_memory_warns_without_an_accelerator():
    if ember.accelerator.is_available():
        pytest.skip("an accelerator is present")
    with pytest.warns(UserWarning, match="'pin_memory' argument is set as true but no "
                                         "accelerator is found"):
        next(iter(edata.DataLoader(MapData(2), pin_memory=True)))


# ---- IterableDataset ---------------------------------------------------------------------
@pytest.mark.parametrize("batch_size,drop_last", [(1, False), (2, False), (2, True),
                                                   (None, False), (10, False), (10, True)])
def test_iterable_dataset_batches_match_torch(batch_size, drop_last):
    e = edata.DataLoader(Stream(3, 8), batch_size=batch_size, drop_last=drop_last)
    t = tdata.DataLoader(TorchStream(3, 8), batch_size=batch_size, drop_last=drop_last)
    assert [plain(b) for b in e] == [plain(b) for b in t]


def test_iterable_dataset_len_uses_its_len():
    class Sized(Stream):
        def __len__(self):
            return self.end - self.start

    assert len(edata.DataLoader(Sized(0, 10), batch_size=3)) == 4
    assert len(edata.DataLoader(Sized(0, 10), batch_size=3, drop_last=True)) == 3
    with pytest.raises(TypeError):
        len(edata.DataLoader(Stream(0, 10)))


def test_iterable_dataset_warns_when_len_was_wrong():
    class Liar(Stream):
        def __len__(self):
            return 2

    dl = edata.DataLoader(Liar(0, 4), batch_size=None)
    assert len(dl) == 2
    with pytest.warns(UserWarning, match="was reported to be 2"):
        assert [int(x) for x in dl] == [0, 1, 2, 3]


# ---- worker threads ------------------------------------------------------------------------
@pytest.mark.filterwarnings("ignore:This DataLoader will create")
@pytest.mark.parametrize("num_workers", [1, 2, 3])
def test_workers_give_the_same_batches_in_order(num_workers):
    x = ember.arange(103.0).view(103, 1)
    ds = edata.TensorDataset(x, ember.arange(103))
    serial = [plain(b) for b in edata.DataLoader(ds, batch_size=10)]
    dl = edata.DataLoader(ds, batch_size=10, num_workers=num_workers)
    assert [plain(b) for b in dl] == serial
    assert [plain(b) for b in dl] == serial  # a second epoch
    assert len(dl) == 11


def test_worker_info_and_init_fn():
    seen = {}
    lock = threading.Lock()

    class Probe(edata.Dataset):
        def __len__(self):
            return 8

        def __getitem__(self, i):
            info = edata.get_worker_info()
            with lock:
                seen.setdefault(info.id, set()).add(i)
            assert info.num_workers == 2 and info.dataset is ds
            return i

    inits = []
    ds = Probe()
    out = [b.tolist() for b in edata.DataLoader(ds, batch_size=2, num_workers=2,
                                                worker_init_fn=inits.append)]
    assert out == [[0, 1], [2, 3], [4, 5], [6, 7]]
    assert sorted(inits) == [0, 1]
    assert seen == {0: {0, 1, 4, 5}, 1: {2, 3, 6, 7}}  # batches go round-robin
    assert edata.get_worker_info() is None


@pytest.mark.filterwarnings("ignore:This DataLoader will create")
def test_iterable_dataset_split_across_workers_as_in_torch_docs():
    class Split(Stream):
        def __iter__(self):
            info = edata.get_worker_info()
            if info is None:
                return iter(range(self.start, self.end))
            per_worker = -(-(self.end - self.start) // info.num_workers)
            lo = self.start + info.id * per_worker
            return iter(range(lo, min(lo + per_worker, self.end)))

    # torch's documented outputs for MyIterableDataset(start=3, end=7)
    assert [int(x) for x in edata.DataLoader(Split(3, 7), num_workers=0)] == [3, 4, 5, 6]
    assert [int(x) for x in edata.DataLoader(Split(3, 7), num_workers=2)] == [3, 5, 4, 6]
    assert [int(x) for x in edata.DataLoader(Split(3, 7), num_workers=12)] == [3, 4, 5, 6]
    # without splitting, every worker yields the whole stream
    assert [int(x) for x in edata.DataLoader(Stream(3, 7), num_workers=2)] == \
        [3, 3, 4, 4, 5, 5, 6, 6]


def test_worker_errors_reach_the_caller_and_timeouts_raise():
    class Bad(edata.Dataset):
        def __len__(self):
            return 4

        def __getitem__(self, i):
            if i == 2:
                raise KeyError("bad sample")
            return i

    it = iter(edata.DataLoader(Bad(), batch_size=2, num_workers=2))
    assert next(it).tolist() == [0, 1]
    with pytest.raises(KeyError, match="bad sample"):
        next(it)

    class Slow(edata.Dataset):
        def __len__(self):
            return 2

        def __getitem__(self, i):
            time.sleep(0.5)
            return i

    with pytest.raises(RuntimeError, match=r"DataLoader timed out after 0.05 seconds"):
        next(iter(edata.DataLoader(Slow(), num_workers=1, timeout=0.05)))


def test_too_many_workers_warn():
    with pytest.warns(UserWarning, match="This DataLoader will create 10000 worker processes"):
        edata.DataLoader(MapData(2), num_workers=10000)


# ---- samplers ------------------------------------------------------------------------------
def test_sequential_and_batch_samplers_match_torch():
    assert list(edata.SequentialSampler(range(5))) == list(tdata.SequentialSampler(range(5)))
    for bs in (1, 3, 5, 6):
        for dl in (False, True):
            e = edata.BatchSampler(edata.SequentialSampler(range(10)), bs, dl)
            t = tdata.BatchSampler(tdata.SequentialSampler(range(10)), bs, dl)
            assert list(e) == list(t) and len(e) == len(t)


def test_random_sampler():
    g = ember.Generator().manual_seed(1)
    s = edata.RandomSampler(range(10), generator=g)
    a = list(s)
    assert sorted(a) == list(range(10)) and len(s) == 10
    # the order is ember's randperm for that generator
    assert a == ember.randperm(10, generator=ember.Generator().manual_seed(1)).tolist()
    s = edata.RandomSampler(range(10), num_samples=25)
    a = list(s)
    assert len(a) == len(s) == 25 and sorted(set(a)) == list(range(10))
    s = edata.RandomSampler(range(10), replacement=True, num_samples=70)
    a = list(s)
    assert len(a) == len(s) == 70 and all(0 <= i < 10 for i in a)


@pytest.mark.parametrize("kwargs", [dict(replacement=1), dict(num_samples=0),
                                    dict(num_samples=2.0)])
def test_random_sampler_errors_match_torch(kwargs):
    raises_like(lambda: tdata.RandomSampler(range(3), **kwargs),
                lambda: edata.RandomSampler(range(3), **kwargs))


def test_subset_random_and_weighted_samplers():
    s = edata.SubsetRandomSampler([7, 3, 9, 1])
    assert sorted(s) == [1, 3, 7, 9] and len(s) == 4
    w = edata.WeightedRandomSampler([0.0, 1.0, 0.0, 3.0], 50)
    drawn = list(w)
    assert len(drawn) == len(w) == 50 and set(drawn) <= {1, 3}
    assert sorted(edata.WeightedRandomSampler([1, 1, 0, 1], 3, replacement=False)) == [0, 1, 3]


@pytest.mark.parametrize("args", [([1.0], 0), ([1.0], 1, 1), ([[1.0]], 1)])
def test_weighted_sampler_errors_match_torch(args):
    raises_like(lambda: tdata.WeightedRandomSampler(*args),
                lambda: edata.WeightedRandomSampler(*args))


@pytest.mark.parametrize("args", [(0, False), (-1, False), (True, False), (2, 1)])
def test_batch_sampler_errors_match_torch(args):
    raises_like(lambda: tdata.BatchSampler(range(3), *args),
                lambda: edata.BatchSampler(range(3), *args))


# ---- datasets --------------------------------------------------------------------------------
def test_tensor_dataset():
    x, y = ember.arange(6.0).view(3, 2), ember.tensor([1, 0, 1])
    ds = edata.TensorDataset(x, y)
    assert len(ds) == 3
    a, b = ds[1]
    assert a.tolist() == [2.0, 3.0] and b.item() == 0
    raises_like(lambda: tdata.TensorDataset(torch.zeros(3), torch.zeros(2)),
                lambda: edata.TensorDataset(ember.zeros(3), ember.zeros(2)))


def test_subset_concat_stack_chain():
    sub = edata.Subset(list(range(10, 20)), [3, 1, 4])
    assert len(sub) == 3 and [sub[i] for i in range(3)] == [13, 11, 14]
    assert sub.__getitems__([0, 2]) == [13, 14]

    class D(edata.Dataset):
        def __init__(self, items):
            self.items = items

        def __len__(self):
            return len(self.items)

        def __getitem__(self, i):
            return self.items[i]

    cat = D([0, 1, 2]) + D([3, 4])
    assert isinstance(cat, edata.ConcatDataset)
    assert len(cat) == 5 and [cat[i] for i in range(5)] == [0, 1, 2, 3, 4] and cat[-1] == 4
    assert cat.cumulative_sizes == [3, 5]
    raises_like(lambda: tdata.ConcatDataset([[0, 1]])[-3],
                lambda: edata.ConcatDataset([[0, 1]])[-3])
    raises_like(lambda: tdata.ConcatDataset([]), lambda: edata.ConcatDataset([]))
    raises_like(lambda: tdata.ConcatDataset([TorchStream(0, 1)]),
                lambda: edata.ConcatDataset([Stream(0, 1)]))

    st = edata.StackDataset(D([1, 2]), D(["a", "b"]))
    assert st[1] == (2, "b") and len(st) == 2
    assert edata.StackDataset(x=D([1]), y=D([2]))[0] == {"x": 1, "y": 2}
    raises_like(lambda: tdata.StackDataset([1], [1, 2]), lambda: edata.StackDataset([1], [1, 2]))
    raises_like(lambda: tdata.StackDataset(), lambda: edata.StackDataset())

    chain = Stream(0, 2) + Stream(5, 7)
    assert isinstance(chain, edata.ChainDataset) and list(chain) == [0, 1, 5, 6]
    with pytest.raises(NotImplementedError):
        edata.Dataset()[0]


def test_subset_subclass_must_override_getitems():
    class Mine(edata.Subset):
        def __getitem__(self, idx):
            return 0

    raises_like(lambda: type("Mine", (tdata.Subset,), {"__getitem__": lambda s, i: 0})([1], [0]),
                lambda: Mine([1], [0]))


# ---- random_split ------------------------------------------------------------------------------
@pytest.mark.parametrize("n,lengths", [
    (10, [3, 7]), (30, [0.3, 0.3, 0.4]), (11, [0.5, 0.5]), (7, [0.1, 0.2, 0.7]),
    (10, [1.0]), (0, [0, 0]), (5, [5])])
def test_random_split_sizes_match_torch(n, lengths):
    e = edata.random_split(list(range(n)), lengths, generator=ember.Generator().manual_seed(0))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        t = tdata.random_split(list(range(n)), lengths,
                               generator=torch.Generator().manual_seed(0))
    assert [len(s) for s in e] == [len(s) for s in t]
    got = [i for s in e for i in s.indices]
    assert sorted(got) == list(range(n))  # disjoint, and covering the dataset
    again = edata.random_split(list(range(n)), lengths,
                               generator=ember.Generator().manual_seed(0))
    assert [s.indices for s in again] == [s.indices for s in e]


def test_random_split_errors_and_warnings_match_torch():
    raises_like(lambda: tdata.random_split(range(10), [3, 3]),
                lambda: edata.random_split(range(10), [3, 3]))
    raises_like(lambda: tdata.random_split(range(10), [1.5, -0.5]),
                lambda: edata.random_split(range(10), [1.5, -0.5]))
    with pytest.warns(UserWarning, match="Length of split at index 1 is 0"):
        edata.random_split(range(2), [1.0, 0.0])


# ---- default_collate / default_convert ------------------------------------------------------------
COLLATE_CASES = [
    [0, 1, 2, 3],
    [1.5, 2.0],
    [True, False],
    [1, 2.5],
    ["a", "b", "c"],
    [b"a", b"b"],
    [np.float32(1), np.float32(2)],
    [np.int32(1), np.int32(2)],
    [np.array([1, 2], dtype=np.int16), np.array([3, 4], dtype=np.int16)],
    [np.zeros((2, 2)), np.ones((2, 2))],
    [{"A": 0, "B": 1}, {"A": 100, "B": 100}],
    [Point(0, 0), Point(1, 1.0)],
    [(0, 1), (2, 3)],
    [[0, 1], [2, 3]],
    [(np.arange(3, dtype=np.float32), 7, "x"), (np.arange(3, dtype=np.float32) + 1, 8, "y")],
    [{"img": np.ones((1, 2, 2), np.uint8), "meta": {"id": 3, "name": "p"}},
     {"img": np.zeros((1, 2, 2), np.uint8), "meta": {"id": 4, "name": "q"}}],
]


@pytest.mark.parametrize("batch", COLLATE_CASES, ids=range(len(COLLATE_CASES)))
def test_default_collate_matches_torch(batch):
    assert plain(edata.default_collate(batch)) == plain(tdata.default_collate(batch))


@pytest.mark.parametrize("as_tensor", [True, False])
def test_default_collate_of_tensors_matches_torch(as_tensor):
    arrays = [np.arange(6, dtype=np.float32).reshape(2, 3) + i for i in range(4)]
    batch = [(a, i) for i, a in enumerate(arrays)]
    e, t = to_lib(batch, ember), to_lib(batch, torch)
    assert plain(edata.default_collate(e)) == plain(tdata.default_collate(t))
    mixed_e = [ember.zeros(2, dtype=ember.int64), ember.ones(2)]
    mixed_t = [torch.zeros(2, dtype=torch.int64), torch.ones(2)]
    assert plain(edata.default_collate(mixed_e)) == plain(tdata.default_collate(mixed_t))


def test_default_collate_stacks_into_a_new_array():
    a = ember.zeros(3)
    out = edata.default_collate([a, a])
    out[0, 0] = 5.0
    assert a.tolist() == [0.0, 0.0, 0.0] and out.shape == ember.Size([2, 3])


def test_default_collate_keeps_the_graph_of_tensors_that_require_grad():
    w = ember.ones(2, requires_grad=True)
    out = edata.default_collate([w * 2, w * 3])
    out.sum().backward()
    assert w.grad.tolist() == [5.0, 5.0]


@pytest.mark.parametrize("make", [
    lambda lib: [object(), object()],
    lambda lib: [[1, 2], [1]],
    lambda lib: [np.array(["a"]), np.array(["b"])],
    lambda lib: [lib.zeros(2), lib.zeros(3)],
    lambda lib: [lib.zeros(2, 2), lib.zeros(2, 3)],
])
def test_default_collate_errors_match_torch(make):
    raises_like(lambda: tdata.default_collate(make(torch)),
                lambda: edata.default_collate(make(ember)))


@pytest.mark.parametrize("data", [
    0, "s", np.arange(3), np.float64(2.0), [np.arange(2), np.arange(2)], (np.arange(2), 1),
    {"a": np.ones(2)}, Point(np.array(0), np.array(1)), np.array(["x"])])
def test_default_convert_matches_torch(data):
    assert plain(edata.default_convert(data)) == plain(tdata.default_convert(data))


@pytest.mark.cuda
def test_default_collate_stacks_on_the_tensors_device():
    arrays = [np.arange(6, dtype=np.float32).reshape(2, 3) + i for i in range(3)]
    e = edata.default_collate([(ember.from_numpy(a).cuda(), i) for i, a in enumerate(arrays)])
    t = tdata.default_collate([(torch.from_numpy(a).cuda(), i) for i, a in enumerate(arrays)])
    assert e[0].device == ember.device("cuda", 0) and e[1].device == ember.device("cpu")
    assert plain(e) == plain(t)
    with pytest.raises(RuntimeError, match="Expected all tensors to be on the same device"):
        edata.default_collate([ember.zeros(2).cuda(), ember.zeros(2)])


# ---- TensorDataset batches with default_collate: one gather per tensor ---------------------
def _tensor_loaders(arrays, **kwargs):
    """The same DataLoader over a TensorDataset of ``arrays`` in ember and in torch."""
    e = edata.DataLoader(edata.TensorDataset(*[ember.from_numpy(a.copy("K")) for a in arrays]),
                         **kwargs)
    t = tdata.DataLoader(tdata.TensorDataset(*[torch.from_numpy(a.copy("K")) for a in arrays]),
                         **kwargs)
    return e, t


def _layout(batch):
    return [(b.is_contiguous(), b.stride(), b._base is None, b.requires_grad) for b in batch]


@pytest.mark.parametrize("kwargs", [
    "{'batch_size': 4}", "{'batch_size': 3, 'drop_last': True}",
    "{'sampler': [5, -1, 0, -7, 2]}", "{'batch_sampler': [[3, 3, -2], (0,), [6, 1]]}",
    "{'batch_sampler': [[np.int64(1), 2], [5, 6]]}", "{'batch_sampler': [[4.0, 3]]}",
    "{'batch_sampler': [[True, False]]}", "{'batch_sampler': [[M.tensor(2), 1]]}",
    "{'batch_sampler': [iter([4, 2]), range(2)]}", "{'batch_size': 4, 'num_workers': 2}",
])
def test_tensor_dataset_batches_match_torch(kwargs):
    rng = np.random.default_rng(0)
    arrays = [rng.random((7, 1, 3, 2), dtype=np.float32), np.arange(7) % 3,
              np.arange(7) % 2 == 0, np.arange(14, dtype=np.uint8).reshape(7, 2),
              rng.random((2, 7)).T,  # float64, not contiguous
              rng.random((7, 3, 2)).transpose(0, 2, 1)]  # NumPy's gather keeps this layout
    e, _ = _tensor_loaders(arrays, **eval(kwargs, {"np": np, "M": ember}))  # noqa: S307
    _, t = _tensor_loaders(arrays, **eval(kwargs, {"np": np, "M": torch}))  # noqa: S307
    eb, tb = outcome(lambda: list(e)), outcome(lambda: list(t))
    assert eb[0] == tb[0] == "ok" or eb == tb, (eb, tb)
    if tb[0] == "err":
        return
    eb, tb = eb[1], tb[1]
    assert [plain(b) for b in eb] == [plain(b) for b in tb]
    assert [_layout(b) for b in eb] == [_layout(b) for b in tb]


def test_tensor_dataset_batch_is_a_new_array():
    x = ember.arange(6.0).view(3, 2)
    X, = next(iter(edata.DataLoader(edata.TensorDataset(x), batch_size=2)))
    X[0, 0] = 100.0
    assert x[0, 0].item() == 0.0 and X._base is None and x._version == 0


@pytest.mark.parametrize("sampler", [[0, 7], [-8], [1, 2**63]])
def test_tensor_dataset_index_errors_match_torch(sampler):
    e, t = _tensor_loaders([np.zeros((7, 2), np.float32), np.arange(7)], batch_size=2,
                           sampler=sampler)
    raises_like(lambda: list(t), lambda: list(e))


def test_tensor_dataset_sizes_changed_after_init_index_like_torch():
    e, t = _tensor_loaders([np.zeros((7, 2), np.float32), np.arange(7)], batch_size=4)
    e.dataset.tensors = (e.dataset.tensors[0], ember.arange(5))
    t.dataset.tensors = (t.dataset.tensors[0], torch.arange(5))
    raises_like(lambda: list(t), lambda: list(e))


def test_tensor_dataset_that_requires_grad_batches_with_a_graph_like_torch():
    results = []
    for M, data in ((ember, edata), (torch, tdata)):
        w = M.arange(8.0).reshape(4, 2).requires_grad_()
        loader = data.DataLoader(data.TensorDataset(w, M.arange(4)), batch_size=3)
        X, y = next(iter(loader))
        (X * M.tensor([1.0, 2.0])).sum().backward()
        with M.no_grad():
            Xn, _ = next(iter(loader))
        results.append((type(X.grad_fn).__name__, X.requires_grad, w.grad.tolist(),
                        Xn.requires_grad, Xn.grad_fn is None, y.requires_grad))
    assert results[0] == results[1]


def test_tensor_dataset_samples_reach_a_subclass_and_a_collate_fn():
    seen = []

    class Logged(edata.TensorDataset):
        def __getitem__(self, index):
            seen.append(index)
            return super().__getitem__(index)

    x, y = ember.arange(10.0).view(5, 2), ember.arange(5)
    batches = list(edata.DataLoader(Logged(x, y), batch_size=2))
    assert seen == [0, 1, 2, 3, 4] and [plain(b) for b in batches] == [
        plain(b) for b in edata.DataLoader(edata.TensorDataset(x, y), batch_size=2)]

    received = {}
    for M, data in ((ember, edata), (torch, tdata)):
        got = []

        def collate_fn(batch, got=got, collate=data.default_collate):
            got.append([[(type(s).__name__, s._base is not None, s.tolist()) for s in sample]
                        for sample in batch])
            return collate(batch)

        ds = data.TensorDataset(M.arange(10.0).view(5, 2), M.arange(5))
        out = list(data.DataLoader(ds, batch_size=2, collate_fn=collate_fn))
        received[M.__name__] = (got, [plain(b) for b in out])
    assert received["ember"] == received["torch"]


def test_tensor_dataset_uses_a_changed_default_collate_fn_map():
    from torch.utils.data._utils import collate as tcollate

    from ember.utils.data import collate as ecollate

    results = []
    for M, data, mod in ((ember, edata, ecollate), (torch, tdata, tcollate)):
        old = mod.default_collate_fn_map[M.Tensor]
        mod.default_collate_fn_map[M.Tensor] = lambda batch, *, collate_fn_map=None: len(batch)
        try:
            ds = data.TensorDataset(M.arange(6.0).view(3, 2))
            results.append(list(data.DataLoader(ds, batch_size=2)))
        finally:
            mod.default_collate_fn_map[M.Tensor] = old
    assert results[0] == results[1] == [[2], [1]]


@pytest.mark.parametrize("make", [
    lambda M: [M.arange(6.0).view(3, 2)[i] for i in (2, 0, 1)],
    lambda M: [M.arange(6).view(3, 2)[:, 1][i] for i in range(3)],
    lambda M: [M.arange(6.0).view(2, 3).t()[i] for i in range(3)],
    lambda M: [M.zeros(2, 0, dtype=M.uint8), M.ones(2, 0, dtype=M.uint8)],
    lambda M: [M.tensor(True), M.tensor(False)],
])
def test_default_collate_stacks_views_and_0d_tensors_like_torch(make):
    e, t = edata.default_collate(make(ember)), tdata.default_collate(make(torch))
    assert plain(e) == plain(t)
    assert _layout([e])[0][:3] == _layout([t])[0][:3] or e.numel() == 0


# ---- torch.multinomial's rules in WeightedRandomSampler --------------------------------------
@pytest.mark.parametrize("weights", [[1, -2], [float("nan"), 1.0], [float("inf"), 1.0], [0, 0],
                                     [-1, -1], [], [1.0], [0, 1], [2, 0, 1]])
@pytest.mark.parametrize("num_samples", [1, 2, 3])
@pytest.mark.parametrize("replacement", [True, False])
def test_weighted_sampler_draws_and_errors_match_torch(weights, num_samples, replacement):
    """The checks of ``torch.multinomial``, which differ with and without replacement (and
    for one sample); without replacement, zero weights are drawn last rather than never."""
    t = outcome(lambda: list(tdata.WeightedRandomSampler(weights, num_samples, replacement)))
    e = outcome(lambda: list(edata.WeightedRandomSampler(weights, num_samples, replacement)))
    if t[0] == "err":
        assert e == t
        return
    assert e[0] == "ok" and len(e[1]) == len(t[1]) == num_samples
    positive = {i for i, w in enumerate(weights) if w > 0}
    if replacement:
        assert set(e[1]) <= positive
    else:
        assert len(set(e[1])) == num_samples
        n = min(num_samples, len(positive))
        assert set(e[1][:n]) <= positive and set(t[1][:n]) <= positive


def test_weighted_sampler_without_replacement_follows_the_weights():
    """Which index comes first follows the weights, as torch.multinomial's draw does."""
    gen = ember.Generator().manual_seed(0)
    sampler = edata.WeightedRandomSampler([1.0, 3.0, 0.0], 2, replacement=False, generator=gen)
    firsts = collections.Counter(next(iter(sampler)) for _ in range(4000))
    assert set(firsts) == {0, 1}
    assert abs(firsts[1] / 4000 - 0.75) < 0.03


def test_iterable_dataset_is_abstract_like_torch():
    raises_like(lambda: tdata.IterableDataset(), lambda: edata.IterableDataset())
    raises_like(lambda: tdata.ConcatDataset([type("S", (tdata.IterableDataset,), {
        "__iter__": lambda self: iter([1])})()]),
                lambda: edata.ConcatDataset([type("S", (edata.IterableDataset,), {
                    "__iter__": lambda self: iter([1])})()]))


def _error_and_unraisables(fn):
    """The (type, message) ``fn`` raises, and the exceptions ignored in ``__del__`` of what
    it left behind (collected before returning)."""
    import gc
    import sys

    ignored = []
    saved, sys.unraisablehook = sys.unraisablehook, ignored.append
    try:
        try:
            fn()
        except Exception as exc:  # noqa: BLE001 - the error itself is compared
            error = (type(exc), str(exc))
        else:
            error = None
        gc.collect()
    finally:
        sys.unraisablehook = saved
    return error, [str(u.exc_value) for u in ignored]


def test_zero_prefetch_factor_with_workers_raises_like_torch():
    """PyTorch refuses ``prefetch_factor=0`` when the loader starts its workers; ember used
    to iterate over nothing. ember's half-made iterator is also collected quietly (torch's
    is not, which is torch's bug)."""
    expected, _ = _error_and_unraisables(
        lambda: iter(tdata.DataLoader(list(range(4)), num_workers=1, prefetch_factor=0)))
    got, ignored = _error_and_unraisables(
        lambda: iter(edata.DataLoader(list(range(4)), num_workers=1, prefetch_factor=0)))
    assert expected is not None and got == expected
    assert ignored == []
