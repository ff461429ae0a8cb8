"""softmax and log_softmax along one dimension, written to be stable for any logits."""
from __future__ import annotations

import numpy as np

from minigrad.autograd import Primitive


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


class LogSoftmax(Primitive):
    """y = x - logsumexp(x) along ``dim``.   VJP: x̄ = ȳ - softmax(x) · Σ ȳ."""

    @staticmethod
    def forward(ctx, x, dim):
        shifted = x - np.max(x, axis=dim, keepdims=True, initial=-np.inf)  # initial: empty tensors work
        with np.errstate(divide="ignore"):  # log 0 only where the softmax dim is empty (nothing to return)
            y = shifted - np.log(np.exp(shifted).sum(axis=dim, keepdims=True))
        ctx.save_for_backward(y)
        ctx.dim = dim
        return y

    @staticmethod
    def backward(ctx, grad):
        (y,) = ctx.saved_tensors
        return grad - np.exp(y) * np.sum(grad, axis=ctx.dim, keepdims=True), None
