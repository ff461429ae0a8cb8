"""Row-sparse helpers for the optimizers that accept ``Embedding(sparse=True)`` gradients.

A row-sparse gradient ``g`` (:class:`~minigrad.sparse.SparseTensor`) names the
rows it touches (``g._idx``, possibly repeated) and their values (``g._val``).
Every update here reads and writes only those rows: reads through the gather
kernel, writes through the index-add kernel, so no ``(V, D)`` temporary is ever
built - the point of a sparse gradient for a large vocabulary.
"""
from __future__ import annotations

import numpy as np

from minigrad import kernels
from minigrad.sparse import SparseTensor


def is_sparse(g) -> bool:
    return isinstance(g, SparseTensor)


def neg(g: SparseTensor) -> SparseTensor:
    """``-g`` (what ``maximize`` does to a sparse gradient)."""
    return SparseTensor(g._idx, -g._val, g.shape, is_coalesced=g.is_coalesced())


def combine(a: SparseTensor, ca: float, b: SparseTensor, cb: float) -> SparseTensor:
    """``ca * a + cb * b`` as a coalesced sparse tensor (rows: the union of both).

    The rows are concatenated and summed with the index-add kernel, so each
    output row is ``ca * a_row + cb * b_row`` over the rows each side holds.
    """
    idx = np.concatenate([a._idx, b._idx])
    val = np.concatenate([a._val * ca, b._val * cb])
    return SparseTensor(idx, val, a.shape).coalesce()


def add_rows_(dense: np.ndarray, g: SparseTensor, alpha: float = 1.0) -> None:
    """``dense[g's rows] += alpha * g's values`` in place (duplicates accumulate)."""
    vals = g._val if alpha == 1.0 else g._val * alpha
    kernels.index_add(dense, g._idx, vals.astype(dense.dtype, copy=False))


def rows(dense: np.ndarray, idx: np.ndarray) -> np.ndarray:
    """A copy of the rows ``idx`` of ``dense`` (the gather kernel)."""
    return kernels.gather(dense, idx)

