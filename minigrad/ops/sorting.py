"""Sorting: ``sort``, ``argsort`` and ``topk``.

The order is found on the array, as a constant: indices are not differentiable. The
values are then ``gather(x, dim, indices)`` (:mod:`minigrad.ops.gather_scatter`), so
their VJP is ȳ index-added back at the indices (each value's gradient goes to the
element it came from), and every higher order follows from gather and index-add
being each other's VJP.

Sorting is always stable: equal elements keep their order (ascending or descending),
which is one of the orders PyTorch allows with ``stable=False`` and the one it
guarantees with ``stable=True``. NaN sorts above every number, as in PyTorch.
"""
from __future__ import annotations

import numpy as np

from minigrad.autograd import function
from minigrad.autograd.function import rename_node
from minigrad.ops import return_types
from minigrad.ops.gather_scatter import gather
from minigrad.ops._promotion import normalize_dims

__all__ = ["sort", "argsort", "topk"]


def _dim(dim, ndim: int) -> int:
    if ndim == 0:
        normalize_dims(dim, 0)  # a 0-d tensor takes dim 0 / -1
        return 0
    return normalize_dims(dim, ndim)[0]


def _order(x: np.ndarray, dim: int, descending: bool) -> np.ndarray:
    """Stable sorting permutation along ``dim`` (int64), NaN last ascending and first descending.

    Descending sorts the reversed array ascending and reverses the result: ties then
    keep their original order, and NaN, last in NumPy's ascending order, comes first.
    """
    if x.ndim == 0:
        return np.zeros((), np.int64)
    if not descending:
        return np.argsort(x, axis=dim, kind="stable").astype(np.int64, copy=False)
    n = x.shape[dim]
    rev = np.flip(np.argsort(np.flip(x, dim), axis=dim, kind="stable"), dim)
    return (n - 1 - rev).astype(np.int64, copy=False)


def _indices(a: np.ndarray):
    return function.Tensor._make(a, False, None)


def sort(input, dim: int = -1, descending: bool = False, *, stable: bool = False):
    """Sort along ``dim``: the sorted values and, for each, its position in ``input``.

    ``values`` is differentiable (ȳ goes back to where each value came from);
    ``indices`` (int64) is not. Ties keep their order (a stable sort, always).

    Parameters
    ----------
    input : Tensor
    dim : int, default -1
    descending : bool, default False
    stable : bool, default False
        Accepted for PyTorch's signature; the sort is stable either way.

    Returns
    -------
    minigrad.return_types.sort
        ``(values, indices)``.

    Examples
    --------
    >>> import minigrad
    >>> minigrad.sort(minigrad.tensor([3.0, 1.0, 2.0]), descending=True).indices
    tensor([0, 2, 1])
    """
    d = _dim(dim, input.ndim)
    idx = _order(input._array, d, descending)
    return return_types.sort(rename_node(gather(input, d, idx), "SortBackward0"), _indices(idx))


def argsort(input, dim: int = -1, descending: bool = False, *, stable: bool = False):
    """The positions that sort ``input`` along ``dim`` (int64, stable): ``sort(...).indices``.

    Examples
    --------
    >>> import minigrad
    >>> minigrad.argsort(minigrad.tensor([3.0, 1.0, 2.0]))
    tensor([1, 2, 0])
    """
    return _indices(_order(input._array, _dim(dim, input.ndim), descending))


def topk(input, k: int, dim: int = -1, largest: bool = True, sorted: bool = True):
    """The ``k`` largest (or smallest) values along ``dim`` and their positions.

    The values are differentiable as :func:`sort`'s; among equal values the earlier
    position comes first. They are returned sorted whatever ``sorted`` says (PyTorch
    leaves the order unspecified when it is False).

    Parameters
    ----------
    input : Tensor
    k : int
        0 ≤ k ≤ the size of ``dim``.
    dim : int, default -1
    largest : bool, default True
        False gives the k smallest.
    sorted : bool, default True

    Returns
    -------
    minigrad.return_types.topk
        ``(values, indices)``.

    Examples
    --------
    >>> import minigrad
    >>> minigrad.topk(minigrad.tensor([1.0, 5.0, 3.0, 4.0]), 2)
    minigrad.return_types.topk(
    values=tensor([5., 4.]),
    indices=tensor([1, 3]))
    """
    if input.dtype == np.bool_:
        raise RuntimeError("topk does not support bool dtypes on CPU")
    d = _dim(dim, input.ndim)
    size = input.shape[d] if input.ndim else 1
    k = int(k)
    if not 0 <= k <= size:
        raise RuntimeError("selected index k out of range")
    order = _order(input._array, d, largest)
    idx = order if input.ndim == 0 else np.take(order, np.arange(k), axis=d)
    return return_types.topk(rename_node(gather(input, d, idx), "TopkBackward0"), _indices(idx))
