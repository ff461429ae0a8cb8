"""Row-sparse gradients: what ``Embedding(sparse=True)`` gives its weight.

A lookup of ``n`` rows from a ``(V, D)`` table touches at most ``n`` rows, so
its gradient is stored as the ``n`` row indices and the ``n`` value rows
(PyTorch's sparse COO layout with one sparse dimension), not as a ``(V, D)``
array of mostly zeros.

Like PyTorch's, the gradient is *uncoalesced*: an index that was looked up
twice appears twice, and its rows are summed only when :meth:`coalesce` or
:meth:`to_dense` is called - both through the index-add kernel, so duplicates
accumulate.
"""
from __future__ import annotations

import numpy as np

from minigrad import kernels


class SparseTensor:
    """A ``(V, D)`` matrix of which only the rows ``indices`` are non-zero.

    Parameters
    ----------
    indices : ndarray of int, shape (nnz,)
        Row of each value row; may repeat (uncoalesced) and be unsorted.
    values : ndarray, shape (nnz, D)
        The rows. Row ``k`` of the dense matrix is the sum of ``values[j]``
        over all ``j`` with ``indices[j] == k``.
    shape : tuple of int
        ``(V, D)``.

    Examples
    --------
    >>> import numpy as np
    >>> g = SparseTensor(np.array([2, 0, 2]), np.ones((3, 2)), (4, 2))
    >>> g.to_dense().numpy()
    array([[1., 1.],
           [0., 0.],
           [2., 2.],
           [0., 0.]])
    >>> g.coalesce().indices().numpy()
    array([[0, 2]])
    """

    is_sparse = True
    layout = "sparse_coo"

    def __init__(self, indices, values, shape, *, is_coalesced: bool = False) -> None:
        indices = np.asarray(indices).reshape(-1)
        values = np.asarray(values)
        shape = tuple(int(s) for s in shape)
        if len(shape) != 2 or values.ndim != 2 or values.shape != (indices.shape[0], shape[1]):
            raise ValueError(
                f"row-sparse tensor needs indices (nnz,), values (nnz, D) and shape (V, D); got "
                f"indices {indices.shape}, values {values.shape}, shape {shape}"
            )
        self._idx = indices.astype(np.int64, copy=False)
        self._val = values
        self.shape = shape
        self._coalesced = is_coalesced

    # -- what PyTorch's sparse tensors answer ---------------------------------
    @property
    def dtype(self):
        return self._val.dtype

    @property
    def ndim(self) -> int:
        return 2

    def dim(self) -> int:
        """Number of dimensions (always 2)."""
        return 2

    def size(self, dim=None):
        """The dense shape ``(V, D)``, or its size along ``dim``."""
        return self.shape if dim is None else self.shape[dim]

    def _nnz(self) -> int:
        return int(self._idx.shape[0])

    def is_coalesced(self) -> bool:
        """True when the row indices are sorted and unique (after :meth:`coalesce`)."""
        return self._coalesced

    def indices(self):
        """Row indices as a ``(1, nnz)`` tensor (PyTorch's layout for one sparse dim)."""
        # A declared seam (tests/test_layering.py): the engine, below the tensor layer,
        # keeps sparse gradients, so this module sits below it too; only these user-facing
        # accessors make tensors, importing the class when called.
        from minigrad.tensor import Tensor

        return Tensor(self._idx.reshape(1, -1))

    def values(self):
        """The value rows as a ``(nnz, D)`` tensor."""
        from minigrad.tensor import Tensor

        return Tensor(self._val)

    # PyTorch spells the uncoalesced accessors with an underscore.
    _indices = indices
    _values = values

    def coalesce(self) -> "SparseTensor":
        """Sort the indices and sum the rows of repeated ones (index-add)."""
        if self._coalesced:
            return self
        rows, inverse = np.unique(self._idx, return_inverse=True)
        summed = np.zeros((rows.shape[0], self.shape[1]), dtype=self._val.dtype)
        kernels.index_add(summed, inverse.reshape(-1), self._val)
        return SparseTensor(rows, summed, self.shape, is_coalesced=True)

    def to_dense(self):
        """The full ``(V, D)`` tensor."""
        from minigrad.tensor import Tensor

        return Tensor(self.dense_array())

    def dense_array(self) -> np.ndarray:
        """The dense ``(V, D)`` NumPy array, duplicates summed."""
        out = np.zeros(self.shape, dtype=self._val.dtype)
        return kernels.index_add(out, self._idx, self._val)

    def numpy(self) -> np.ndarray:
        """The dense ``(V, D)`` NumPy array (as :meth:`dense_array`)."""
        return self.dense_array()

    # -- arithmetic the engine and the optimizers need -------------------------
    def __add__(self, other):
        """sparse + sparse concatenates (stays sparse); sparse + dense gives a dense array."""
        if isinstance(other, SparseTensor):
            if other.shape != self.shape:
                raise RuntimeError(f"cannot add sparse tensors of shapes {self.shape} and {other.shape}")
            return SparseTensor(
                np.concatenate([self._idx, other._idx]),
                np.concatenate([self._val, other._val.astype(self._val.dtype, copy=False)]),
                self.shape,
            )
        dense = np.asarray(other)  # a Tensor gives its own array, not a copy
        if dense.shape != self.shape:
            raise RuntimeError(f"cannot add a sparse tensor of shape {self.shape} to a dense one of shape {dense.shape}")
        return kernels.index_add(dense.astype(np.result_type(dense, self._val), copy=True), self._idx, self._val)

    __radd__ = __add__

    def mul_(self, factor) -> "SparseTensor":
        """Scale the values in place (what gradient clipping does)."""
        self._val *= factor
        return self

    def __mul__(self, factor) -> "SparseTensor":
        return SparseTensor(self._idx, self._val * factor, self.shape, is_coalesced=self._coalesced)

    __rmul__ = __mul__

    def __repr__(self) -> str:
        return (
            f"SparseTensor(indices={self._idx.tolist()!r}, values of shape {self._val.shape}, "
            f"size={self.shape}, nnz={self._nnz()}, layout=sparse_coo)"
        )
