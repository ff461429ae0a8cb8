"""Datasets, samplers and ``DataLoader``, with PyTorch's names, defaults and errors (``torch.utils.data``).

A map-style :class:`Dataset` answers ``dataset[i]`` and ``len(dataset)``; a
sampler yields indices; a :class:`BatchSampler` groups them; a
:class:`DataLoader` fetches each group and collates it into a batch with
:func:`default_collate` (or your ``collate_fn``). Loading always happens in the
calling process (see :class:`DataLoader` for what ``num_workers`` means here).

>>> import minigrad
>>> from minigrad.utils.data import DataLoader, TensorDataset
>>> ds = TensorDataset(minigrad.arange(10), minigrad.arange(10) * 10)
>>> [y.tolist() for x, y in DataLoader(ds, batch_size=4)]
[[0, 10, 20, 30], [40, 50, 60, 70], [80, 90]]
"""
from minigrad.utils.data.collate import default_collate, default_convert
from minigrad.utils.data.dataloader import DataLoader, get_worker_info
from minigrad.utils.data.dataset import (
    ConcatDataset, Dataset, IterableDataset, Subset, TensorDataset, random_split,
)
from minigrad.utils.data.sampler import (
    BatchSampler, RandomSampler, Sampler, SequentialSampler, SubsetRandomSampler, WeightedRandomSampler,
)

__all__ = [
    "BatchSampler", "ConcatDataset", "DataLoader", "Dataset", "IterableDataset", "RandomSampler", "Sampler",
    "SequentialSampler", "Subset", "SubsetRandomSampler", "TensorDataset", "WeightedRandomSampler",
    "default_collate", "default_convert", "get_worker_info", "random_split",
]
