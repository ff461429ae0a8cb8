"""``Size``: the shape of a tensor, a tuple that prints as ``minigrad.Size([2, 3])``.

It is a ``tuple`` subclass, so it compares, hashes, unpacks and indexes as the
plain tuple of its sizes does (``x.shape == (2, 3)`` holds); slicing, ``+``
and ``*`` give a ``Size`` again, as in PyTorch.
"""
from __future__ import annotations

import math
import operator

__all__ = ["Size"]


class Size(tuple):
    """The sizes of a tensor's dimensions (``tensor.shape``, ``tensor.size()``).

    Parameters
    ----------
    sizes : iterable of int, optional

    Examples
    --------
    >>> import minigrad
    >>> s = minigrad.zeros(2, 3).shape
    >>> s
    minigrad.Size([2, 3])
    >>> s == (2, 3), s[1:], s.numel()
    (True, minigrad.Size([3]), 6)
    """

    __slots__ = ()

    def __new__(cls, sizes=()):
        sizes = tuple(sizes)
        for i, s in enumerate(sizes):
            if isinstance(s, bool) or not hasattr(s, "__index__"):
                raise TypeError(f"minigrad.Size() takes an iterable of 'int' (item {i} is '{type(s).__name__}')")
        return tuple.__new__(cls, map(operator.index, sizes))

    def __repr__(self) -> str:
        return f"minigrad.Size({list(self)})"

    __str__ = __repr__

    def __getitem__(self, index):
        item = tuple.__getitem__(self, index)
        return tuple.__new__(Size, item) if isinstance(index, slice) else item

    def __add__(self, other):
        if not isinstance(other, tuple):
            return NotImplemented
        return tuple.__new__(Size, tuple.__add__(self, other))

    def __radd__(self, other):
        if not isinstance(other, tuple):
            return NotImplemented
        return tuple.__new__(Size, tuple.__add__(other, self))

    def __mul__(self, n):
        return tuple.__new__(Size, tuple.__mul__(self, n))

    __rmul__ = __mul__

    def numel(self) -> int:
        """The number of elements a tensor of this shape holds."""
        return math.prod(self)
