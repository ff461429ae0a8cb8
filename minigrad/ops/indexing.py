"""Indexing: ``x[index]`` and the embedding lookup, both differentiated with index-add."""
from __future__ import annotations

import numpy as np

from minigrad import kernels
from minigrad.autograd import Function, sum_to_shape


def _is_advanced(index) -> bool:
    """True when NumPy would use advanced (copying) indexing for ``index``."""
    items = index if isinstance(index, tuple) else (index,)
    return any(isinstance(i, (np.ndarray, list)) for i in items)


class GetItem(Function):
    """y = x[index] (NumPy semantics: slices, ints, None, ..., bool masks, integer arrays).

    VJP: x̄ = zeros like x, then x̄[index] += ȳ *with duplicates accumulated*:
    ``x̄[index] += ȳ`` in NumPy would silently keep only one of two repeated
    positions, so the scatter uses ``np.add.at`` (the general form of index-add).
    Basic indexing (no arrays) selects each element at most once, so a plain
    assignment is enough and faster.
    """

    is_view = True  # basic indexing returns a view of x

    @staticmethod
    def forward(ctx, x, index):
        ctx.in_shape, ctx.index = x.shape, index
        ctx.advanced = _is_advanced(index)
        y = x[index]
        if isinstance(y, np.ndarray):
            return y
        # Integers in every dimension give a NumPy scalar (a copy); a trailing
        # Ellipsis gives the same value as a 0-d *view*, as PyTorch's x[i] is.
        items = index if isinstance(index, tuple) else (index,)
        if not any(i is Ellipsis for i in items):
            return x[items + (Ellipsis,)]
        return np.asarray(y)

    @staticmethod
    def backward(ctx, grad):
        out = np.zeros(ctx.in_shape, dtype=grad.dtype)
        index = ctx.index
        if not ctx.advanced:
            out[index] = grad
        elif isinstance(index, np.ndarray) and index.dtype.kind in "iu" and out.ndim >= 1:
            # x[idx] with one integer array selects whole rows: the row index-add kernel.
            rows = out.reshape(out.shape[0], int(np.prod(out.shape[1:])))
            idx = np.where(index < 0, index + out.shape[0], index)
            kernels.index_add(rows, idx, grad.reshape(idx.shape + (rows.shape[1],)))
        else:
            np.add.at(out, index, grad)
        return out, None


class IndexPut(Function):
    """y = x with y[index] = v.   VJP: x̄ = ȳ with the written positions zeroed,  v̄ = ȳ[index]."""

    @staticmethod
    def forward(ctx, x, index, v):
        ctx.index = index
        y = x.copy()
        v = np.asarray(v)
        ctx.v_shape = v.shape
        ctx.fitted_shape = fit_value(v, np.ndim(y[index])).shape
        y[index] = v.reshape(ctx.fitted_shape)
        return y

    @staticmethod
    def backward(ctx, grad):
        gx = grad.copy()
        gx[ctx.index] = 0
        gv = None
        if ctx.needs_input_grad[2]:
            gv = sum_to_shape(np.asarray(grad[ctx.index]), ctx.fitted_shape).reshape(ctx.v_shape)
        return gx, None, gv


def fit_value(v: np.ndarray, target_ndim: int) -> np.ndarray:
    """Drop leading size-1 dims that ``v`` has beyond the target's (PyTorch accepts
    ``x[0] = t`` for a 0-d slot and ``t`` of shape (1,); NumPy does not)."""
    extra = v.ndim - target_ndim
    if extra > 0 and all(n == 1 for n in v.shape[:extra]):
        return v.reshape(v.shape[extra:])
    return v


class Embedding(Function):
    """y[..., :] = W[idx[...], :] - a gather of rows from the table W (V, D).

    VJP: W̄ = zeros (V, D), then W̄[idx[i], :] += ȳ[i, :] for every position i:
    an *index-add*. Only the looked-up rows get gradient, and a row looked up
    k times receives the sum of its k output gradients. ``idx`` gets none.

    This is ``one_hot(idx) @ W`` without ever building the (n, V) one-hot
    matrix: O(n·D) work instead of O(n·V·D).
    """

    @staticmethod
    def forward(ctx, idx, weight):
        ctx.idx, ctx.num_rows = idx, weight.shape[0]
        return kernels.gather(weight, idx)

    @staticmethod
    def backward(ctx, grad):
        grad_w = np.zeros((ctx.num_rows, grad.shape[-1]), dtype=grad.dtype)
        kernels.index_add(grad_w, ctx.idx, grad)
        return None, grad_w
