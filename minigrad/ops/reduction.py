"""Reductions over one or more dimensions (``dim`` an int, a tuple, or None for all).

The backward formulas are NumPy that serves every order (see
:mod:`minigrad.ops._numpy_dispatch`): ``np.reshape``/``np.broadcast_to`` on a
tensor gradient record the matching minigrad ops."""
from __future__ import annotations

import numpy as np

from minigrad.autograd import Primitive


def normalize_dims(dim, ndim: int) -> tuple:
    """``dim`` (None, int or tuple, negatives allowed) as a sorted tuple of axes."""
    if dim is None:
        return tuple(range(ndim))
    dims = (dim,) if isinstance(dim, (int, np.integer)) else tuple(dim)
    if not dims:
        return tuple(range(ndim))  # PyTorch: an empty dim list reduces over every dimension
    out = []
    for d in dims:
        d = int(d)
        if not -max(ndim, 1) <= d < max(ndim, 1):
            raise IndexError(
                f"Dimension out of range (expected to be in range of [{-max(ndim, 1)}, {max(ndim, 1) - 1}], but got {d})"
            )
        if ndim:  # a 0-d tensor accepts dim 0 / -1 and has nothing to reduce
            out.append(d % ndim)
    if len(set(out)) != len(out):
        raise RuntimeError(f"dim {dims} appears multiple times in the list of dims")
    return tuple(sorted(out))


def _expand_back(grad, in_shape, axes, keepdim):
    """Reshape a reduced gradient so it broadcasts against the input again."""
    if not keepdim and in_shape:
        shape = list(in_shape)
        for a in axes:
            shape[a] = 1
        grad = np.reshape(grad, tuple(shape))
    return grad


class Sum(Primitive):
    """y = Σ_dims x.   VJP: x̄ = ȳ broadcast back over the summed dims."""

    @staticmethod
    def forward(ctx, x, axes, keepdim):
        ctx.in_shape, ctx.axes, ctx.keepdim = x.shape, axes, keepdim
        return np.asarray(x.sum(axis=axes, keepdims=keepdim))

    @staticmethod
    def backward(ctx, grad):
        g = _expand_back(grad, ctx.in_shape, ctx.axes, ctx.keepdim)
        return np.broadcast_to(g, ctx.in_shape), None, None


class Mean(Primitive):
    """y = (1/n) Σ_dims x, n = number of reduced elements.   VJP: x̄ = ȳ / n broadcast back."""

    @staticmethod
    def forward(ctx, x, axes, keepdim):
        ctx.in_shape, ctx.axes, ctx.keepdim = x.shape, axes, keepdim
        ctx.n = int(np.prod([x.shape[a] for a in axes])) if axes else 1
        return np.asarray(x.mean(axis=axes, keepdims=keepdim))

    @staticmethod
    def backward(ctx, grad):
        g = _expand_back(grad, ctx.in_shape, ctx.axes, ctx.keepdim) / ctx.n
        return np.broadcast_to(g, ctx.in_shape), None, None


def _extremum_forward(ctx, x, axes, keepdim, reduce):
    y = np.asarray(reduce(x, axis=axes, keepdims=True))
    ctx.save_for_backward(x)
    ctx.y, ctx.axes, ctx.keepdim = y, axes, keepdim
    return y if keepdim else y.reshape([n for i, n in enumerate(x.shape) if i not in axes])


def _extremum_backward(ctx, grad):
    # Every position equal to the extremum shares ȳ equally (PyTorch's amax/amin rule);
    # which positions those are is a constant mask at every order.
    (x,) = ctx.saved_tensors
    hit = np.equal(x, ctx.y)
    g = _expand_back(grad, hit.shape, ctx.axes, ctx.keepdim)
    return g * (hit / hit.sum(axis=ctx.axes, keepdims=True)), None, None


class Amax(Primitive):
    """y = max_dims x.   VJP: ȳ shared equally among the positions that attain the max."""

    @staticmethod
    def forward(ctx, x, axes, keepdim):
        return _extremum_forward(ctx, x, axes, keepdim, np.max)

    backward = staticmethod(_extremum_backward)


class Amin(Primitive):
    """y = min_dims x.   VJP: ȳ shared equally among the positions that attain the min."""

    @staticmethod
    def forward(ctx, x, axes, keepdim):
        return _extremum_forward(ctx, x, axes, keepdim, np.min)

    backward = staticmethod(_extremum_backward)


class MaxDim(Primitive):
    """y = x at the first arg-max along ``dim`` (values of ``max(dim)``).   VJP: ȳ to that one position."""

    @staticmethod
    def forward(ctx, x, dim, keepdim, largest=True):
        idx = np.argmax(x, axis=dim) if largest else np.argmin(x, axis=dim)
        idx = np.expand_dims(idx, dim)
        ctx.idx, ctx.dim, ctx.keepdim, ctx.in_shape = idx, dim, keepdim, x.shape
        y = np.take_along_axis(x, idx, axis=dim)
        return y if keepdim else np.squeeze(y, axis=dim)

    @staticmethod
    def backward(ctx, grad):
        # ȳ broadcast along dim, kept only at the arg-max: a scatter written as a
        # select, so that it is differentiable in ȳ.
        g = grad if ctx.keepdim else np.expand_dims(grad, ctx.dim)
        at_arg = np.arange(ctx.in_shape[ctx.dim]).reshape((-1,) + (1,) * (len(ctx.in_shape) - ctx.dim - 1)) == ctx.idx
        return np.where(at_arg, g, np.zeros((), dtype=grad.dtype)), None, None, None


def _variance(x, axes, denom, keepdim):
    """Σ (x − mean)² / denom, accumulated in float64 for narrower floats (as PyTorch's
    accumulator is), so float32 values above ~1.8e19 do not overflow on the way; returned
    in float64 for the caller to round once."""
    xw = x.astype(np.float64) if x.dtype.itemsize < 8 else x
    centered = xw - xw.mean(axis=axes, keepdims=True)
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.asarray((centered * centered).sum(axis=axes, keepdims=keepdim) / denom)


class Var(Primitive):
    """y = Σ (x - x̄)² / (n - c) over dims (c = correction).   VJP: x̄ = ȳ · 2 (x - mean) / (n - c)."""

    @staticmethod
    def forward(ctx, x, axes, correction, keepdim):
        n = int(np.prod([x.shape[a] for a in axes])) if axes else 1
        ctx.save_for_backward(x)
        ctx.axes, ctx.keepdim, ctx.denom = axes, keepdim, max(n - correction, 0)
        with np.errstate(over="ignore"):  # a float32 variance above 3.4e38 is inf, as in PyTorch
            return _variance(x, axes, ctx.denom, keepdim).astype(x.dtype)

    @staticmethod
    def backward(ctx, grad):
        (x,) = ctx.saved_tensors
        # x - mean is recomputed (not kept from forward) so that it is differentiated at higher order.
        centered = x - np.mean(x, axis=ctx.axes, keepdims=True)
        g = _expand_back(grad, np.shape(x), ctx.axes, ctx.keepdim)
        with np.errstate(divide="ignore", invalid="ignore"):
            return g * 2 * centered / ctx.denom, None, None, None


class Std(Primitive):
    """y = √(Σ (x - x̄)² / (n - c)) over dims (c = correction).   VJP: x̄ = ȳ · (x - mean) / ((n - c) · y).

    One op rather than √var: the variance of float32 values above ~1.8e19 exceeds
    float32 while their standard deviation does not (PyTorch's std is finite there).
    """

    @staticmethod
    def forward(ctx, x, axes, correction, keepdim):
        n = int(np.prod([x.shape[a] for a in axes])) if axes else 1
        ctx.axes, ctx.keepdim, ctx.denom = axes, keepdim, max(n - correction, 0)
        y = np.sqrt(_variance(x, axes, ctx.denom, keepdim)).astype(x.dtype)
        ctx.save_for_backward(x, y)
        return y

    @staticmethod
    def backward(ctx, grad):
        x, y = ctx.saved_tensors
        centered = x - np.mean(x, axis=ctx.axes, keepdims=True)
        g = _expand_back(grad, np.shape(x), ctx.axes, ctx.keepdim)
        yb = _expand_back(y, np.shape(x), ctx.axes, ctx.keepdim)
        with np.errstate(divide="ignore", invalid="ignore"):
            return g * centered / (yb * ctx.denom), None, None, None


class LogSumExp(Primitive):
    """y = log Σ_dims eˣ, computed as m + log Σ e^(x-m) so it cannot overflow.   VJP: x̄ = ȳ · softmax(x)."""

    @staticmethod
    def forward(ctx, x, axes, keepdim):
        m = np.max(x, axis=axes, keepdims=True, initial=-np.inf)  # nothing to reduce: -inf, as PyTorch
        m = np.where(np.isfinite(m), m, 0)  # all -inf: keep -inf, never inf - inf
        with np.errstate(divide="ignore"):  # log 0 = -inf for an empty or all -inf slice
            y = np.log(np.exp(x - m).sum(axis=axes, keepdims=True)) + m
        if not keepdim:
            y = y.reshape([n for i, n in enumerate(x.shape) if i not in axes])
        ctx.save_for_backward(x, y)
        ctx.axes, ctx.keepdim = axes, keepdim
        return y

    @staticmethod
    def backward(ctx, grad):
        x, y = ctx.saved_tensors
        shape = np.shape(x)
        g = _expand_back(grad, shape, ctx.axes, ctx.keepdim)
        return g * np.exp(x - _expand_back(y, shape, ctx.axes, ctx.keepdim)), None, None
