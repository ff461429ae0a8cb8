"""The named tuples that ops returning values and indices give back (``max``/``min`` along a
dim, ``sort``, ``topk``), as ``torch.return_types``.

``values, indices = minigrad.sort(x)`` unpacks them; ``minigrad.sort(x).values`` names
them; they print as PyTorch's do, one field per line.
"""
from __future__ import annotations

from collections import namedtuple

__all__ = ["sort", "topk", "max", "min"]


def _values_indices(name: str):
    cls = namedtuple(name, ("values", "indices"))
    cls.__module__ = "minigrad.return_types"
    cls.__repr__ = lambda self: f"minigrad.return_types.{name}(\nvalues={self.values!r},\nindices={self.indices!r})"
    cls.__doc__ = f"What ``minigrad.{name}`` returns: ``(values, indices)``, fields by name too."
    return cls


sort = _values_indices("sort")
topk = _values_indices("topk")
max = _values_indices("max")
min = _values_indices("min")
