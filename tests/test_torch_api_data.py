"""``minigrad.utils.data`` against ``torch.utils.data``: batching, collation, samplers, splits and errors.

Where PyTorch's behaviour is deterministic (sequential order, batching,
drop_last, collation, lengths, error messages) the two are compared directly.
Random orders cannot match PyTorch's stream, so for those the tests check the
properties (a permutation, the right support, the right counts) and that a
seeded generator reproduces them.
"""
from __future__ import annotations

import collections
import warnings

import numpy as np
import pytest
import torch
import torch.utils.data as tud

import minigrad
import minigrad.utils.data as mud


def as_plain(batch):
    """Batches of either library as nested Python/NumPy values, to compare structure and values."""
    if isinstance(batch, (torch.Tensor, minigrad.Tensor)):
        arr = batch.numpy()
        return ("tensor", str(arr.dtype), arr.tolist())
    if isinstance(batch, dict):
        return {k: as_plain(v) for k, v in batch.items()}
    if isinstance(batch, tuple) and hasattr(batch, "_fields"):
        return (type(batch).__name__, [as_plain(v) for v in batch])
    if isinstance(batch, (list, tuple)):
        return (type(batch).__name__, [as_plain(v) for v in batch])
    return batch


Point = collections.namedtuple("Point", ["x", "label"])


def samples(lib):
    """Map-style datasets of each kind of sample default_collate handles, built with ``lib``."""
    return {
        "tensor pairs": lib.utils.data.TensorDataset(lib.arange(20).reshape(10, 2), lib.arange(10) * 2),
        "numpy arrays": [np.full(3, i, dtype=np.float32) for i in range(7)],
        "numpy scalars": [np.float32(i) / 2 for i in range(5)],
        "0-d arrays": [np.array(i * 1.5) for i in range(5)],
        "python numbers": [(float(i), i, i % 2 == 0) for i in range(6)],
        "strings in tuples": [(i, f"s{i}") for i in range(5)],
        "dicts": [{"x": np.arange(2) + i, "y": float(i), "name": f"n{i}"} for i in range(5)],
        "named tuples": [Point(np.ones(2) * i, i) for i in range(5)],
        "lists": [[i, i + 1] for i in range(5)],
        "nested": [({"a": (i, [i * 2.0])}, np.int64(i)) for i in range(4)],
    }


@pytest.mark.parametrize("kind", sorted(samples(torch)))
@pytest.mark.parametrize("batch_size, drop_last", [(1, False), (3, False), (3, True), (4, True), (None, False)])
def test_batches_and_collation_match_pytorch(kind, batch_size, drop_last):
    ours = mud.DataLoader(samples(minigrad)[kind], batch_size=batch_size, drop_last=drop_last)
    theirs = tud.DataLoader(samples(torch)[kind], batch_size=batch_size, drop_last=drop_last)
    got, want = [as_plain(b) for b in ours], [as_plain(b) for b in theirs]
    assert got == want
    assert len(ours) == len(theirs) == len(got)


def test_collate_fn_receives_the_list_of_samples():
    seen = []
    loader = mud.DataLoader(range(5), batch_size=2, collate_fn=lambda batch: seen.append(batch) or len(batch))
    assert list(loader) == [2, 2, 1]
    assert seen == [[0, 1], [2, 3], [4]]


def test_default_collate_errors_match_pytorch():
    cases = [
        [object()],
        [np.array(["a"])],
        [[1, 2], [3]],
    ]
    for batch in cases:
        with pytest.raises(Exception) as want:
            tud.default_collate(batch)
        with pytest.raises(type(want.value), match=str(want.value).replace("[", r"\[").replace("(", r"\(")):
            mud.default_collate(batch)


def test_default_convert_matches_pytorch():
    data = (np.zeros(2), 1, "x", {"k": np.ones(1, dtype=np.int32)})
    assert as_plain(mud.default_convert(data)) == as_plain(tud.default_convert(data))


def test_sampler_and_batch_sampler_options_give_pytorchs_batches():
    order = [4, 0, 3, 1, 2, 6, 5]
    ours = mud.DataLoader(list(range(10, 17)), batch_size=3, sampler=order)
    theirs = tud.DataLoader(list(range(10, 17)), batch_size=3, sampler=order)
    assert [as_plain(b) for b in ours] == [as_plain(b) for b in theirs]
    batches = [[0, 1], [5], [2, 3, 4]]
    ours = mud.DataLoader(list(range(10, 16)), batch_sampler=batches)
    theirs = tud.DataLoader(list(range(10, 16)), batch_sampler=batches)
    assert [as_plain(b) for b in ours] == [as_plain(b) for b in theirs]
    assert len(ours) == 3


def test_dataset_getitems_fetches_a_batch_in_one_call():
    class Rows(mud.Dataset):
        calls = []

        def __getitem__(self, i):
            raise AssertionError("one sample at a time was not expected")

        def __getitems__(self, indices):
            self.calls.append(list(indices))
            return [float(i) for i in indices]

        def __len__(self):
            return 5

    assert [b.tolist() for b in mud.DataLoader(Rows(), batch_size=2)] == [[0.0, 1.0], [2.0, 3.0], [4.0]]
    assert Rows.calls == [[0, 1], [2, 3], [4]]


class Stream:
    def __init__(self, lib, n):
        self.n = n

    def __iter__(self):
        return iter(range(self.n))

    def __len__(self):
        return self.n


def stream(lib, n):
    cls = type("Stream", (lib.utils.data.IterableDataset,), {"__iter__": Stream.__iter__, "__len__": Stream.__len__})
    ds = cls()
    ds.n = n
    return ds


@pytest.mark.parametrize("batch_size, drop_last", [(None, False), (2, False), (2, True), (3, False)])
def test_iterable_dataset_is_batched_in_order_as_in_pytorch(batch_size, drop_last):
    ours = mud.DataLoader(stream(minigrad, 7), batch_size=batch_size, drop_last=drop_last)
    theirs = tud.DataLoader(stream(torch, 7), batch_size=batch_size, drop_last=drop_last)
    assert [as_plain(b) for b in ours] == [as_plain(b) for b in theirs]
    assert len(ours) == len(theirs)


def errors_of(make):
    """The (type, message) each library raises for the same construction."""
    out = []
    for lib in (torch, minigrad):
        with pytest.raises(Exception) as info:
            make(lib)
        out.append((type(info.value), str(info.value)))
    return out


@pytest.mark.parametrize(
    "make",
    [
        lambda lib: lib.utils.data.DataLoader(range(4), num_workers=-1),
        lambda lib: lib.utils.data.DataLoader(range(4), timeout=-1),
        lambda lib: lib.utils.data.DataLoader(range(4), prefetch_factor=2),
        lambda lib: lib.utils.data.DataLoader(range(4), persistent_workers=True),
        lambda lib: lib.utils.data.DataLoader(range(4), sampler=[0, 1], shuffle=True),
        lambda lib: lib.utils.data.DataLoader(range(4), batch_sampler=[[0]], batch_size=2),
        lambda lib: lib.utils.data.DataLoader(range(4), batch_sampler=[[0]], drop_last=True),
        lambda lib: lib.utils.data.DataLoader(range(4), batch_size=None, drop_last=True),
        lambda lib: lib.utils.data.DataLoader(range(4), batch_size=0),
        lambda lib: lib.utils.data.DataLoader(range(4), batch_size=2, drop_last=1),
        lambda lib: lib.utils.data.DataLoader(stream(lib, 3), shuffle=True),
        lambda lib: lib.utils.data.DataLoader(stream(lib, 3), sampler=[0]),
        lambda lib: lib.utils.data.RandomSampler(range(3), replacement=1),
        lambda lib: lib.utils.data.RandomSampler(range(3), num_samples=0),
        lambda lib: lib.utils.data.RandomSampler([]),
        lambda lib: lib.utils.data.WeightedRandomSampler([1.0, 2.0], 0),
        lambda lib: lib.utils.data.WeightedRandomSampler([1.0, 2.0], 2, replacement=None),
        lambda lib: lib.utils.data.WeightedRandomSampler([[1.0, 2.0]], 2),
        lambda lib: lib.utils.data.BatchSampler(range(3), 2.0, False),
        lambda lib: lib.utils.data.TensorDataset(lib.zeros(2), lib.zeros(3)),
        lambda lib: lib.utils.data.ConcatDataset([]),
        lambda lib: lib.utils.data.random_split(range(10), [3, 3]),
        lambda lib: lib.utils.data.random_split(range(10), [1.5, -0.5]),
        lambda lib: lib.utils.data.Dataset()[0],
    ],
)
def test_errors_match_pytorch(make):
    (want_type, want), (got_type, got) = errors_of(make)
    assert got_type is want_type and got == want


def test_loader_attributes_are_frozen_after_construction_as_in_pytorch():
    loader = mud.DataLoader(range(4), batch_size=2)
    with pytest.raises(ValueError, match="batch_size attribute should not be set after DataLoader is initialized"):
        loader.batch_size = 3


def test_num_workers_loads_in_the_calling_process_with_the_same_batches():
    calls = []
    loader = mud.DataLoader(range(10), batch_size=4, num_workers=3, worker_init_fn=calls.append,
                            persistent_workers=True, prefetch_factor=4)
    assert [b.tolist() for b in loader] == [[0, 1, 2, 3], [4, 5, 6, 7], [8, 9]]
    assert calls == [] and mud.get_worker_info() is None


def test_shuffle_gives_a_permutation_each_epoch_reproducible_with_a_generator():
    def epochs(seed):
        loader = mud.DataLoader(range(20), batch_size=6, shuffle=True, generator=minigrad.Generator().manual_seed(seed))
        return [[x for b in loader for x in b.tolist()] for _ in range(3)]

    first = epochs(5)
    assert all(sorted(e) == list(range(20)) for e in first)
    assert first[0] != first[1]  # a new order each epoch
    assert first == epochs(5) and first != epochs(6)
    assert [len(b) for b in mud.DataLoader(range(20), batch_size=6, shuffle=True)] == [6, 6, 6, 2]


def test_shuffle_without_a_generator_follows_manual_seed():
    def order():
        return [int(x) for x in mud.DataLoader(range(15), batch_size=None, shuffle=True)]

    minigrad.manual_seed(3)
    a = order()
    minigrad.manual_seed(3)
    assert order() == a and sorted(a) == list(range(15))


def test_random_sampler_with_replacement_and_num_samples():
    g = minigrad.Generator().manual_seed(0)
    drawn = list(mud.RandomSampler(range(4), replacement=True, num_samples=1000, generator=g))
    assert len(drawn) == 1000 and set(drawn) == {0, 1, 2, 3}
    chained = list(mud.RandomSampler(range(4), num_samples=10, generator=g))
    assert sorted(chained[:4]) == sorted(chained[4:8]) == [0, 1, 2, 3] and len(set(chained[8:])) == 2
    assert len(mud.RandomSampler(range(4), num_samples=10)) == 10


def test_subset_random_sampler_permutes_the_given_indices():
    s = mud.SubsetRandomSampler([10, 20, 30, 40], generator=minigrad.Generator().manual_seed(1))
    assert sorted(s) == [10, 20, 30, 40] and len(s) == 4


def test_weighted_random_sampler_draws_in_proportion_to_the_weights():
    g = minigrad.Generator().manual_seed(0)
    drawn = np.array(list(mud.WeightedRandomSampler([1.0, 0.0, 3.0], 20000, generator=g)))
    counts = np.bincount(drawn, minlength=3) / len(drawn)
    np.testing.assert_allclose(counts, [0.25, 0.0, 0.75], atol=0.015)
    once = list(mud.WeightedRandomSampler([1.0, 5.0, 0.0, 2.0], 3, replacement=False, generator=g))
    assert sorted(once) == [0, 1, 3]


def test_sequential_sampler_and_batch_sampler_match_pytorch():
    for n, bs, drop in [(10, 3, False), (10, 3, True), (9, 3, True), (2, 5, False), (2, 5, True)]:
        ours = mud.BatchSampler(mud.SequentialSampler(range(n)), bs, drop)
        theirs = tud.BatchSampler(tud.SequentialSampler(range(n)), bs, drop)
        assert list(ours) == list(theirs) and len(ours) == len(theirs)


@pytest.mark.parametrize("lengths", [[3, 7], [0.3, 0.7], [0.3, 0.3, 0.4], [0.5, 0.5], [1 / 3] * 3, [1.0, 0.0]])
def test_random_split_sizes_and_warnings_match_pytorch_and_cover_the_dataset(lengths):
    n = 10
    with warnings.catch_warnings(record=True) as ours_warned:
        warnings.simplefilter("always")
        ours = mud.random_split(range(n), lengths, generator=minigrad.Generator().manual_seed(0))
    with warnings.catch_warnings(record=True) as theirs_warned:
        warnings.simplefilter("always")
        theirs = tud.random_split(range(n), lengths, generator=torch.Generator().manual_seed(0))
    assert [str(w.message) for w in ours_warned] == [str(w.message) for w in theirs_warned]
    assert [len(s) for s in ours] == [len(s) for s in theirs]
    assert sorted(i for s in ours for i in s) == list(range(n))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        again = mud.random_split(range(n), lengths, generator=minigrad.Generator().manual_seed(0))
    assert [list(s) for s in again] == [list(s) for s in ours]


def test_subset_and_concat_dataset_index_as_in_pytorch():
    base = list(range(100, 110))
    for lib in (torch, minigrad):
        sub = lib.utils.data.Subset(base, [9, 2, 5])
        cat = lib.utils.data.ConcatDataset([base[:3], base[3:]])
        assert [sub[i] for i in range(3)] == [109, 102, 105]
        assert [cat[i] for i in range(10)] == base and cat[-1] == 109 and len(cat) == 10
    with pytest.raises(ValueError, match="absolute value of index should not exceed dataset length"):
        mud.ConcatDataset([base])[-11]
    both = mud.TensorDataset(minigrad.zeros(2)) + mud.TensorDataset(minigrad.ones(3))
    assert isinstance(both, mud.ConcatDataset) and len(both) == 5 and float(both[4][0]) == 1.0


def test_tensor_dataset_rows_keep_the_graph():
    x = minigrad.randn(4, 3, requires_grad=True)
    (xb,) = next(iter(mud.DataLoader(mud.TensorDataset(x), batch_size=4)))
    xb.sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), np.ones((4, 3), dtype=np.float32))


def test_utils_is_reachable_as_an_attribute_after_import_minigrad():
    import minigrad.utils

    assert minigrad.utils.data.DataLoader is mud.DataLoader
