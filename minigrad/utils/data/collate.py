"""How :class:`DataLoader` turns a list of samples into a batch: :func:`default_collate`, :func:`default_convert`."""
from __future__ import annotations

import collections.abc

import numpy as np

from minigrad.creation import as_tensor, from_numpy, tensor
from minigrad.ops import stack
from minigrad.tensor import Tensor

__all__ = ["default_collate", "default_convert"]

_ERROR = "default_collate: batch must contain tensors, numpy arrays, numbers, dicts or lists; found {}"


def _is_text_or_object(dtype: np.dtype) -> bool:
    return dtype.kind in "SaUO"


def default_collate(batch):
    """Stack a list of samples into a batch, keeping the samples' structure.

    * tensors → ``stack(batch)`` (a new leading batch dimension);
    * NumPy arrays → tensors, then stacked; NumPy scalars → a 1-D tensor of their dtype;
    * Python floats → float64, ints → int64 (as PyTorch);
    * strings and bytes → left as the list;
    * dicts → a dict of collated values per key; named tuples → the same type
      of collated fields; other tuples and lists → a *list* of collated positions
      (every sample must have the same length).

    Examples
    --------
    >>> import minigrad
    >>> from minigrad.utils.data import default_collate
    >>> default_collate([(minigrad.tensor([1.0, 2.0]), 0), (minigrad.tensor([3.0, 4.0]), 1)])
    [tensor([[1., 2.],
            [3., 4.]]), tensor([0, 1])]
    >>> default_collate([{"x": 1.5, "id": "a"}, {"x": 2.5, "id": "b"}])
    {'x': tensor([1.5000, 2.5000], dtype=minigrad.float64), 'id': ['a', 'b']}
    """
    elem = batch[0]
    if isinstance(elem, Tensor):
        return stack(batch, 0)
    if isinstance(elem, np.ndarray):
        if _is_text_or_object(elem.dtype):
            raise TypeError(_ERROR.format(elem.dtype))
        return default_collate([from_numpy(np.asarray(b)) for b in batch])
    if isinstance(elem, np.generic) and not isinstance(elem, (np.str_, np.bytes_)):
        if _is_text_or_object(elem.dtype):
            raise TypeError(_ERROR.format(elem.dtype))
        return from_numpy(np.array(batch))
    if isinstance(elem, float):
        return tensor(batch, dtype=np.float64)
    if isinstance(elem, int):  # bool too: PyTorch makes a bool batch of bools
        return tensor(batch)
    if isinstance(elem, (str, bytes)):
        return batch
    if isinstance(elem, collections.abc.Mapping):
        collated = {key: default_collate([d[key] for d in batch]) for key in elem}
        try:
            return type(elem)(collated)
        except TypeError:  # a Mapping type that cannot be built from a dict
            return collated
    if isinstance(elem, tuple) and hasattr(elem, "_fields"):  # named tuple
        return type(elem)(*(default_collate(field) for field in zip(*batch)))
    if isinstance(elem, collections.abc.Sequence):
        size = len(elem)
        if not all(len(sample) == size for sample in batch):
            raise RuntimeError("each element in list of batch should be of equal size")
        positions = [default_collate(p) for p in zip(*batch)]  # each p a tuple (strings stay tuples, as in PyTorch)
        if isinstance(elem, tuple):
            return positions
        try:
            return type(elem)(positions)
        except TypeError:
            return positions
    raise TypeError(_ERROR.format(type(elem)))


def default_convert(data):
    """What :class:`DataLoader` does to each sample when batching is off (``batch_size=None``).

    NumPy arrays and scalars become tensors, containers are converted element
    by element (tuples become lists, as in PyTorch); everything else is left alone.
    """
    if isinstance(data, Tensor):
        return data
    if isinstance(data, (np.ndarray, np.generic)) and not isinstance(data, (np.str_, np.bytes_)):
        return data if _is_text_or_object(data.dtype) else as_tensor(np.asarray(data))
    if isinstance(data, collections.abc.Mapping):
        converted = {key: default_convert(data[key]) for key in data}
        try:
            return type(data)(converted)
        except TypeError:
            return converted
    if isinstance(data, tuple) and hasattr(data, "_fields"):
        return type(data)(*(default_convert(d) for d in data))
    if isinstance(data, tuple):
        return [default_convert(d) for d in data]
    if isinstance(data, collections.abc.Sequence) and not isinstance(data, (str, bytes)):
        converted = [default_convert(d) for d in data]
        try:
            return type(data)(converted)
        except TypeError:
            return converted
    return data
