"""PyTorch's legacy typed constructors: ``LongTensor([1, 2])``, ``FloatTensor(2, 3)`` and their kin.

Older tutorials build tensors with them. Each is a class only in name: calling
it returns an ordinary :class:`~minigrad.Tensor` of its dtype, and
``isinstance(t, minigrad.FloatTensor)`` asks whether ``t`` is a float32 tensor,
as in PyTorch. The rules of the call are PyTorch's:

* ``FloatTensor()`` is empty, shape (0,);
* ``FloatTensor(2, 3)`` (ints) is an uninitialised tensor of that size, like
  :func:`~minigrad.empty`;
* ``FloatTensor([[1, 2], [3, 4]])`` (a sequence or an array) converts the data
  to the dtype (floats are truncated towards 0 for integer types);
* ``FloatTensor(t)`` for a tensor ``t`` of the same dtype returns ``t``
  itself; another dtype is a ``TypeError``;
* the only keyword is ``device`` (the CPU).
"""
from __future__ import annotations

import numpy as np

from minigrad.devices import _check_device
from minigrad.tensor import Tensor, _to_array

__all__ = ["FloatTensor", "DoubleTensor", "HalfTensor", "LongTensor", "IntTensor", "CharTensor", "ByteTensor", "BoolTensor"]


class _LegacyType(type):
    """The metaclass: calling the class builds a Tensor; isinstance checks the dtype."""

    def __call__(cls, *args, device=None):
        _check_device(device)
        if not args:
            return Tensor._make(np.empty((0,), dtype=cls.dtype), False, None)
        if all(isinstance(a, (int, np.integer)) and not isinstance(a, bool) for a in args):
            size = tuple(int(a) for a in args)
            for s in size:
                if s < 0:
                    raise RuntimeError(f"Trying to create tensor with negative dimension {s}: {list(size)}")
            return Tensor._make(np.empty(size, dtype=cls.dtype), False, None)
        if len(args) > 1:
            raise TypeError(f"{cls.__name__}() takes sizes (ints) or one sequence of data, not {args!r}")
        (data,) = args
        if isinstance(data, Tensor):
            if data.dtype != cls.dtype:
                raise TypeError(f"expected a tensor of dtype {cls.dtype} (got {data.dtype})")
            return data
        if not isinstance(data, (list, tuple, np.ndarray)):
            raise TypeError(f"new(): data must be a sequence (got {type(data).__name__})")
        return Tensor._make(_to_array(data, cls.dtype).copy(), False, None)

    def __instancecheck__(cls, obj) -> bool:
        return isinstance(obj, Tensor) and obj.dtype == cls.dtype

    def __repr__(cls) -> str:
        return f"<class 'minigrad.{cls.__name__}'>"


class FloatTensor(metaclass=_LegacyType):
    """A float32 tensor (see :mod:`minigrad.legacy` for the call's rules)."""

    dtype = np.dtype(np.float32)


class DoubleTensor(metaclass=_LegacyType):
    """A float64 tensor."""

    dtype = np.dtype(np.float64)


class HalfTensor(metaclass=_LegacyType):
    """A float16 tensor."""

    dtype = np.dtype(np.float16)


class LongTensor(metaclass=_LegacyType):
    """An int64 tensor."""

    dtype = np.dtype(np.int64)


class IntTensor(metaclass=_LegacyType):
    """An int32 tensor."""

    dtype = np.dtype(np.int32)


class CharTensor(metaclass=_LegacyType):
    """An int8 tensor."""

    dtype = np.dtype(np.int8)


class ByteTensor(metaclass=_LegacyType):
    """A uint8 tensor."""

    dtype = np.dtype(np.uint8)


class BoolTensor(metaclass=_LegacyType):
    """A bool tensor."""

    dtype = np.dtype(np.bool_)


def _legacy_name(dtype: np.dtype):
    """The legacy constructor's name for ``dtype`` (``'minigrad.FloatTensor'``), or None."""
    for cls in (FloatTensor, DoubleTensor, HalfTensor, LongTensor, IntTensor, CharTensor, ByteTensor, BoolTensor):
        if cls.dtype == dtype:
            return f"minigrad.{cls.__name__}"
    return None
