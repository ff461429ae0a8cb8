"""Shape ops: they move or repeat elements without changing values, so each
VJP moves the gradient back (reshape back, inverse permutation, sum over copies)."""
from __future__ import annotations

import numpy as np

from minigrad.autograd import Primitive


class Reshape(Primitive):
    """y = x with shape ``shape`` (same elements, row-major order).   VJP: x̄ = ȳ reshaped to x's shape."""

    is_view = True

    @staticmethod
    def forward(ctx, x, shape):
        ctx.in_shape = x.shape
        try:
            return x.reshape(shape)
        except ValueError:
            raise RuntimeError(f"shape '{list(shape)}' is invalid for input of size {x.size}") from None

    @staticmethod
    def backward(ctx, grad):
        return np.reshape(grad, ctx.in_shape), None


class Permute(Primitive):
    """y = x with dimensions reordered: y.shape[i] = x.shape[dims[i]].   VJP: x̄ = ȳ permuted by the inverse of dims."""

    is_view = True

    @staticmethod
    def forward(ctx, x, dims):
        ctx.inverse = tuple(np.argsort(dims))
        return np.transpose(x, dims)

    @staticmethod
    def backward(ctx, grad):
        return np.transpose(grad, ctx.inverse), None


class Expand(Primitive):
    """y = x broadcast to ``shape`` (a read-only view).   VJP: x̄ = ȳ summed over the copies (done by the engine)."""

    is_view = True

    @staticmethod
    def forward(ctx, x, shape):
        try:
            return np.broadcast_to(x, shape)
        except ValueError:
            raise RuntimeError(
                f"The expanded size of the tensor {shape} must match the existing size {x.shape} "
                "at non-singleton dimensions"
            ) from None

    @staticmethod
    def backward(ctx, grad):
        return grad, None


class Cat(Primitive):
    """y = the inputs joined along ``dim``.   VJP: each input gets its slice of ȳ.

    Called as ``Cat.apply(dim, *tensors)`` so that every tensor is a positional input.
    """

    @staticmethod
    def forward(ctx, dim, *xs):
        ctx.dim = dim
        ctx.bounds = np.cumsum([x.shape[dim] for x in xs])[:-1]
        for k, x in enumerate(xs):
            if x.ndim == 0:
                raise RuntimeError(f"zero-dimensional tensor (at position {k}) cannot be concatenated")
            if x.ndim != xs[0].ndim or any(
                n != m for d, (n, m) in enumerate(zip(x.shape, xs[0].shape)) if d != dim
            ):
                raise RuntimeError(
                    f"Sizes of tensors must match except in dimension {dim}. Expected shape "
                    f"{list(xs[0].shape)} but got {list(x.shape)} for tensor number {k} in the list."
                )
        return np.concatenate(xs, axis=dim)

    @staticmethod
    def backward(ctx, grad):
        return (None,) + tuple(np.split(grad, ctx.bounds, axis=ctx.dim))


class Stack(Primitive):
    """y = the inputs stacked along a new dimension ``dim``.   VJP: input k gets ȳ indexed at k along dim."""

    @staticmethod
    def forward(ctx, dim, *xs):
        ctx.dim = dim
        return np.stack(xs, axis=dim)

    @staticmethod
    def backward(ctx, grad):
        lead = (slice(None),) * ctx.dim
        return (None,) + tuple(grad[lead + (k,)] for k in range(np.shape(grad)[ctx.dim]))
