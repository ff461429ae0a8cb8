"""Datasets: the map-style :class:`Dataset` protocol, ready-made datasets, and :func:`random_split`."""
from __future__ import annotations

import bisect
import itertools
import math
import warnings

from minigrad.creation import randperm

__all__ = ["Dataset", "IterableDataset", "TensorDataset", "ConcatDataset", "Subset", "random_split"]


class Dataset:
    """A map-style dataset: ``dataset[i]`` is sample ``i`` (and usually ``len(dataset)`` is defined).

    Subclasses implement ``__getitem__`` (and ``__len__``, which the default
    samplers need). ``a + b`` concatenates two datasets (:class:`ConcatDataset`).
    A subclass may also define ``__getitems__(indices)`` returning a list of
    samples; :class:`DataLoader` then fetches a whole batch with one call.
    """

    def __getitem__(self, index):
        raise NotImplementedError("Subclasses of Dataset should implement __getitem__.")

    def __add__(self, other: "Dataset") -> "ConcatDataset":
        return ConcatDataset([self, other])


class IterableDataset(Dataset):
    """A dataset that is a stream: subclasses implement ``__iter__`` yielding samples.

    :class:`DataLoader` batches the stream in order; it cannot shuffle or sample
    it (those options are errors, as in PyTorch).
    """

    def __iter__(self):
        raise NotImplementedError("Subclasses of IterableDataset should implement __iter__.")


class TensorDataset(Dataset):
    """Samples are rows: ``dataset[i]`` is ``tuple(t[i] for t in tensors)``.

    Parameters
    ----------
    *tensors : Tensor
        All with the same size in dimension 0.

    Examples
    --------
    >>> import minigrad
    >>> from minigrad.utils.data import TensorDataset
    >>> ds = TensorDataset(minigrad.tensor([[1.0, 2.0], [3.0, 4.0]]), minigrad.tensor([0, 1]))
    >>> len(ds), ds[1]
    (2, (tensor([3., 4.]), tensor(1)))
    """

    def __init__(self, *tensors) -> None:
        assert all(tensors[0].size(0) == t.size(0) for t in tensors), "Size mismatch between tensors"
        self.tensors = tensors

    def __getitem__(self, index):
        return tuple(t[index] for t in self.tensors)

    def __len__(self) -> int:
        return self.tensors[0].size(0)


class ConcatDataset(Dataset):
    """The samples of several map-style datasets, one after another.

    Parameters
    ----------
    datasets : iterable of Dataset
        Not empty, and no :class:`IterableDataset`.
    """

    def __init__(self, datasets) -> None:
        self.datasets = list(datasets)
        assert len(self.datasets) > 0, "datasets should not be an empty iterable"
        for d in self.datasets:
            assert not isinstance(d, IterableDataset), "ConcatDataset does not support IterableDataset"
        self.cumulative_sizes = list(itertools.accumulate(len(d) for d in self.datasets))

    def __len__(self) -> int:
        return self.cumulative_sizes[-1]

    def __getitem__(self, idx):
        if idx < 0:
            if -idx > len(self):
                raise ValueError("absolute value of index should not exceed dataset length")
            idx = len(self) + idx
        which = bisect.bisect_right(self.cumulative_sizes, idx)
        start = self.cumulative_sizes[which - 1] if which > 0 else 0
        return self.datasets[which][idx - start]


class Subset(Dataset):
    """The samples of ``dataset`` at ``indices``, in that order.

    Parameters
    ----------
    dataset : Dataset
    indices : sequence of int
    """

    def __init__(self, dataset, indices) -> None:
        self.dataset = dataset
        self.indices = indices

    def __getitem__(self, idx):
        if isinstance(idx, list):
            return self.dataset[[self.indices[i] for i in idx]]
        return self.dataset[self.indices[idx]]

    def __getitems__(self, indices: list) -> list:
        wanted = [self.indices[i] for i in indices]
        if callable(getattr(self.dataset, "__getitems__", None)):
            return self.dataset.__getitems__(wanted)
        return [self.dataset[i] for i in wanted]

    def __len__(self) -> int:
        return len(self.indices)


def random_split(dataset, lengths, generator=None) -> list:
    """Split ``dataset`` at random into non-overlapping :class:`Subset` s of the given lengths.

    Parameters
    ----------
    dataset : Dataset
    lengths : sequence of int or of float
        Lengths summing to ``len(dataset)``, or fractions summing to 1: each
        split then gets ⌊fraction·len(dataset)⌋ samples and the remainder is
        handed out one at a time, round robin from the first split.
    generator : Generator, optional
        Draw the permutation from this generator (default: the default generator).

    Returns
    -------
    list of Subset

    Examples
    --------
    >>> import minigrad
    >>> from minigrad.utils.data import random_split
    >>> train, val = random_split(range(10), [0.8, 0.2], generator=minigrad.Generator().manual_seed(0))
    >>> len(train), len(val), sorted(list(train) + list(val)) == list(range(10))
    (8, 2, True)
    """
    if math.isclose(sum(lengths), 1) and sum(lengths) <= 1:
        counts = []
        for i, frac in enumerate(lengths):
            if frac < 0 or frac > 1:
                raise ValueError(f"Fraction at index {i} is not between 0 and 1")
            counts.append(math.floor(len(dataset) * frac))
        for i in range(len(dataset) - sum(counts)):
            counts[i % len(counts)] += 1
        for i, n in enumerate(counts):
            if n == 0:
                warnings.warn(f"Length of split at index {i} is 0. This might result in an empty dataset.", stacklevel=2)
        lengths = counts
    if sum(lengths) != len(dataset):
        raise ValueError("Sum of input lengths does not equal the length of the input dataset!")
    order = randperm(sum(lengths), generator=generator).tolist()
    return [Subset(dataset, order[end - n:end]) for end, n in zip(itertools.accumulate(lengths), lengths)]
