"""Scans: running sums and products along a dimension (``cumsum``, ``cumprod``).

Both backward formulas are themselves scans (NumPy's ``cumsum``/``cumprod`` on a
tensor run these ops), so they serve every order."""
from __future__ import annotations

import numpy as np

from minigrad.autograd import Primitive
from minigrad.ops._promotion import normalize_dims, to_dtype
from minigrad.ops.shape import Reshape

__all__ = ["cumsum", "cumprod"]


def _reversed(a, dim: int):
    """``a`` reversed along ``dim`` (a negative-step slice: a view of an array, an op on a tensor)."""
    return a[(slice(None),) * dim + (slice(None, None, -1),)]


def _reverse_cumsum(a, dim: int):
    """``y_i = Σ_{j ≥ i} a_j`` along ``dim``."""
    return _reversed(np.cumsum(_reversed(a, dim), axis=dim), dim)


class Cumsum(Primitive):
    """y_i = Σ_{j ≤ i} x_j along ``dim``.   VJP: x̄_i = Σ_{j ≥ i} ȳ_j (a cumsum from the end)."""

    @staticmethod
    def forward(ctx, x, dim):
        ctx.dim = dim
        return np.cumsum(x, axis=dim)

    @staticmethod
    def backward(ctx, grad):
        return _reverse_cumsum(grad, ctx.dim), None


class Cumprod(Primitive):
    """y_i = Π_{j ≤ i} x_j along ``dim``.

    VJP: x̄_k = Σ_{j ≥ k} ȳ_j · Π_{m ≤ j, m ≠ k} x_m, which is (Σ_{j ≥ k} ȳ_j y_j) / x_k
    when every x is finite and non-zero. Otherwise the products leaving out x_k are formed directly, for
    every k: an n × n cumprod per slice (n the length of ``dim``), exact at every order
    and never dividing by 0.
    """

    @staticmethod
    def forward(ctx, x, dim):
        y = np.cumprod(x, axis=dim)
        ctx.save_for_backward(x, y)
        ctx.dim = dim
        return y

    @staticmethod
    def backward(ctx, grad):
        x, y = ctx.saved_tensors
        dim = ctx.dim
        # The division form needs every x finite and non-zero (±inf/±inf would be NaN).
        if not np.any(np.equal(x, 0)) and np.all(np.isfinite(x)):
            return _reverse_cumsum(grad * y, dim) / x, None
        # Along the last axis: row k of `left_out` is x with x_k replaced by 1.
        xl, gl = np.moveaxis(x, dim, -1), np.moveaxis(grad, dim, -1)
        n = np.shape(xl)[-1]
        dtype = np.result_type(x)
        left_out = np.cumprod(np.where(np.eye(n, dtype=bool), np.ones((), dtype), np.expand_dims(xl, -2)), axis=-1)
        # left_out[..., k, j] = Π_{m ≤ j, m ≠ k} x_m; only j ≥ k contributes to x̄_k.
        later = np.triu(np.ones((n, n), dtype=bool))
        if isinstance(left_out, np.ndarray):
            # First order: a product with a zero factor contributes an exact 0, selected rather
            # than multiplied, so an infinite or NaN ȳ_j there does not make it NaN (PyTorch's
            # values). Recorded for a higher order the term stays: its derivative with respect
            # to the other factors is not 0.
            later = np.logical_and(later, np.not_equal(left_out, 0))
        terms = np.where(later, np.expand_dims(gl, -2) * left_out, np.zeros((), dtype))
        return np.moveaxis(np.sum(terms, axis=-1), -1, dim), None


def _scan(cls, input, dim, dtype):
    if dtype is not None:
        input = to_dtype(input, np.dtype(dtype))
    elif input.dtype.kind in "biu":
        input = to_dtype(input, np.dtype(np.int64))  # PyTorch accumulates integers and bools in int64
    if input.ndim == 0:
        normalize_dims(dim, 0)  # a 0-d tensor takes dim 0 / -1
        return Reshape.apply(cls.apply(Reshape.apply(input, (1,)), 0), ())
    return cls.apply(input, normalize_dims(dim, input.ndim)[0])


def cumsum(input, dim: int, *, dtype=None):
    """Running sum along ``dim``: ``y_i = x_0 + … + x_i``.

    Integer and bool inputs sum in int64 (PyTorch's rule) unless ``dtype`` is given.
    The VJP, a running sum from the end, is in :class:`Cumsum`.

    Parameters
    ----------
    input : Tensor
    dim : int
    dtype : dtype, optional
        Convert ``input`` to it first.

    Examples
    --------
    >>> import minigrad
    >>> minigrad.cumsum(minigrad.tensor([1.0, 2.0, 3.0]), dim=0)
    tensor([1., 3., 6.])
    """
    return _scan(Cumsum, input, dim, dtype)


def cumprod(input, dim: int, *, dtype=None):
    """Running product along ``dim``: ``y_i = x_0 · … · x_i``.

    Integer and bool inputs multiply in int64 unless ``dtype`` is given. The gradient
    is exact where ``input`` has zeros (see :class:`Cumprod`).

    Examples
    --------
    >>> import minigrad
    >>> minigrad.cumprod(minigrad.tensor([1.0, 2.0, 3.0]), dim=0)
    tensor([1., 2., 6.])
    """
    return _scan(Cumprod, input, dim, dtype)
