"""softmax and log_softmax along one dimension, written to be stable for any logits: each
``Primitive`` and, beside it, the public function that calls it."""
from __future__ import annotations

import numpy as np

from minigrad import kernels
from minigrad.autograd import Primitive
from minigrad.ops._promotion import dim_index, floating_only
from minigrad.ops.shape import as_vector, reshape


class Softmax(Primitive):
    """y = e^(x - max) / Σ e^(x - max) along ``dim``.   VJP: x̄ = y · (ȳ - Σ ȳ·y)."""

    @staticmethod
    def forward(ctx, x, dim):
        e = np.exp(x - np.max(x, axis=dim, keepdims=True, initial=-np.inf))  # initial: empty tensors work
        y = e / e.sum(axis=dim, keepdims=True)
        ctx.save_for_backward(y)
        ctx.dim = dim
        return y

    @staticmethod
    def backward(ctx, grad):
        (y,) = ctx.saved_tensors
        return y * (grad - np.sum(grad * y, axis=ctx.dim, keepdims=True)), None


def softmax(input, dim: int):
    """Softmax along ``dim`` (:class:`Softmax`); floating-point input only.

    Parameters
    ----------
    input : Tensor
    dim : int

    Returns
    -------
    Tensor

    Examples
    --------
    >>> import minigrad
    >>> minigrad.softmax(minigrad.tensor([0.0, 0.0]), dim=0)
    tensor([0.5000, 0.5000])
    """
    floating_only("softmax", input)
    if input.ndim == 0:
        return reshape(softmax(as_vector(input, dim), 0), ())
    return Softmax.apply(input, dim_index(dim, input.ndim))


def log_softmax_array(x, dim):
    """x − logsumexp(x) along ``dim``, of an array: only x − max(x) is exponentiated.

    A slice holding NaN, or +inf beside +inf, has no softmax: its result is NaN, without
    a warning (the losses meet such rows where they are ignored ones).
    """
    if dim == -1 or dim == x.ndim - 1:
        y = kernels.log_softmax_last(x)  # compiled row passes (see there); None: the code below
        if y is not None:
            return y
    # initial: an empty tensor works; log 0 only where the softmax dim is empty (nothing to return).
    # The method, not np.max: it skips NumPy's Python-level dispatch (a few µs of a 32×32 call).
    with np.errstate(divide="ignore", invalid="ignore"):
        shifted = x - x.max(axis=dim, keepdims=True, initial=-np.inf)
        return shifted - np.log(np.exp(shifted).sum(axis=dim, keepdims=True))


class LogSoftmax(Primitive):
    """y = x - logsumexp(x) along ``dim``.   VJP: x̄ = ȳ - softmax(x) · Σ ȳ."""

    @staticmethod
    def forward(ctx, x, dim):
        y = log_softmax_array(x, dim)
        ctx.save_for_backward(y)
        ctx.dim = dim
        return y

    @staticmethod
    def backward(ctx, grad):
        (y,) = ctx.saved_tensors
        return grad - np.exp(y) * np.sum(grad, axis=ctx.dim, keepdims=True), None


def log_softmax(input, dim: int):
    """Logarithm of the softmax along ``dim``, computed stably (:class:`LogSoftmax`); floating-point input only.

    Parameters
    ----------
    input : Tensor
    dim : int

    Returns
    -------
    Tensor
    """
    floating_only("log_softmax", input)
    if input.ndim == 0:
        return reshape(log_softmax(as_vector(input, dim), 0), ())
    return LogSoftmax.apply(input, dim_index(dim, input.ndim))
