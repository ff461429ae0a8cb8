"""The fused layers behind :mod:`minigrad.nn.functional`: :class:`Linear`, :class:`LayerNorm`
and :class:`Dropout` (the activations are in :mod:`minigrad.ops.activations`).

Each class is one fused ``Primitive``: its forward and its vector-Jacobian
product (VJP) sit on one screen, and one graph node replaces the handful of
small ops it would otherwise take (fewer temporaries, one pass over memory).
Argument checking lives in :mod:`minigrad.nn.functional` (``F.linear``,
``F.layer_norm``, ...); these classes assume well-formed arrays.

Notation: ȳ is the gradient arriving at the output, x̄ the one sent to input x.
"""
from __future__ import annotations

import math

import numpy as np

from minigrad import kernels
from minigrad.autograd import Primitive


class Linear(Primitive):
    """y = x Wᵀ + b, with x (*, in), W (out, in), b (out,) or None.

    VJP: x̄ = ȳ W,   W̄ = ȳᵀ x (summed over all leading dims),   b̄ = Σ ȳ over leading dims.
    """

    node_name = "AddmmBackward0"

    @staticmethod
    def forward(ctx, x, weight, bias):
        ctx.save_for_backward(x, weight)
        # The products run on 2-D views (*, in) → (rows, in): NumPy's matmul of a 3-D x with the
        # transposed weight is ~3x slower than one 2-D product (8.3 vs 2.8 ms for (32, 64, 128) by
        # (128, 384), float32, one thread) - about 25 ms of a 2-block GPT step.
        # forward always receives arrays: their methods skip NumPy's function dispatch
        # (np.reshape/np.shape cost ~1.5 µs more per call, 5 µs of a 32×30 layer's 25 µs).
        y = np.matmul(x.reshape(_rows(x)), weight.T)
        if bias is not None:
            y += bias  # y is a fresh array; adding in place saves a temporary
        return y.reshape(x.shape[:-1] + (weight.shape[0],))

    @staticmethod
    def backward(ctx, grad):
        x, weight = ctx.saved_tensors
        need_x, need_w, need_b = ctx.needs_input_grad
        g2 = np.reshape(grad, _rows(grad))  # 2-D, as in forward
        gx = np.reshape(np.matmul(g2, weight), np.shape(x)) if need_x else None
        gw = np.matmul(np.transpose(g2), np.reshape(x, _rows(x))) if need_w else None
        gb = sum_rows(g2) if need_b else None
        return gx, gw, gb


def sum_rows(g2):
    """Σ over the rows of a 2-D gradient (a bias's b̄), as a product with a vector of ones.

    NumPy's ``np.sum(g, axis=0)`` of a C-contiguous (rows, d) array adds one row into the
    result at a time and is slow on narrow rows; BLAS's matrix-vector product reads the same
    array once at full speed: 0.12 vs 0.97 ms for a (36864, 6) float32 gradient (LeNet's first
    convolution), 0.009 vs 0.15 ms for (4096, 16), 0.026 vs 0.081 ms for (1024, 256) (one
    thread). Both accumulate in the gradient's own precision. Other dtypes (float16: no BLAS)
    and tensors (under ``create_graph``) take ``np.sum``.
    """
    if type(g2) is np.ndarray and (g2.dtype == np.float32 or g2.dtype == np.float64):
        return np.matmul(np.ones(g2.shape[0], g2.dtype), g2)
    return np.sum(g2, axis=0)


def _rows(a) -> tuple:
    """The 2-D shape (rows, last) of an array or tensor of shape (*, last)."""
    shape = a.shape
    return (math.prod(shape[:-1]), shape[-1])


class Dropout(Primitive):
    """y = x · m / (1 − p), m ~ Bernoulli(1 − p) per element (inverted dropout).

    The mask is drawn by the caller (from minigrad's generator) and passed in,
    already scaled: ``mask`` holds 0 or 1/(1 − p).   VJP: x̄ = ȳ · mask.
    """

    node_name = "MulBackward0"

    @staticmethod
    def forward(ctx, x, mask):
        ctx.mask = mask
        return x * mask

    @staticmethod
    def backward(ctx, grad):
        return grad * ctx.mask, None


class LayerNorm(Primitive):
    """Normalise over the last k dims: x̂ = (x − μ)/√(σ² + ε);  y = x̂·γ + β.

    μ, σ² are the mean and the biased variance over the normalised dims (n elements).
    VJP: γ̄ = Σ ȳ·x̂,  β̄ = Σ ȳ (sums over the leading dims);
         with ĝ = ȳ·γ:  x̄ = (ĝ − mean(ĝ) − x̂·mean(ĝ·x̂)) / √(σ² + ε)  (means over the normalised dims).
    """

    node_name = "NativeLayerNormBackward0"

    @staticmethod
    def forward(ctx, x, weight, bias, k=1, eps=1e-5):
        axes = tuple(range(x.ndim - k, x.ndim))
        ctx.save_for_backward(x, weight)
        ctx.axes, ctx.eps = axes, eps
        fused = kernels.layer_norm(x, weight, bias, eps, k)  # compiled, a row at a time in cache
        if fused is not None:
            y, ctx.xhat, ctx.rstd = fused
            return y
        xhat, rstd = _normalize(x, axes, eps)
        # Kept for a first-order backward; recording a graph, backward recomputes them from x.
        ctx.xhat, ctx.rstd = xhat, rstd
        if weight is not None:
            y = xhat * weight
            if bias is not None:
                y += bias  # y is private: in place saves a temporary
        else:
            y = xhat + bias if bias is not None else xhat
        return y.astype(x.dtype, copy=False)

    @staticmethod
    def backward(ctx, grad):
        x, weight = ctx.saved_tensors
        axes = ctx.axes
        need_x, need_w, need_b = ctx.needs_input_grad
        lead = tuple(range(np.ndim(grad) - len(axes)))
        if not isinstance(grad, np.ndarray):  # recording: x̂ and 1/σ depend on x, differentiate them too
            xhat, rstd = _normalize(x, axes, ctx.eps)
            gw = np.sum(grad * xhat, axis=lead) if need_w else None
            gb = np.sum(grad, axis=lead) if need_b else None
            gx = None
            if need_x:
                gh = grad * weight if weight is not None else grad
                gx = (gh - np.mean(gh, axis=axes, keepdims=True)
                      - xhat * np.mean(gh * xhat, axis=axes, keepdims=True)) * rstd
            return gx, gw, gb
        # The same VJP, in place on two private buffers (the expression above allocates eight
        # arrays of x's size): 1.4x faster on (32, 64, 128) float32, one thread.
        xhat, rstd = ctx.xhat, ctx.rstd
        fused = kernels.layer_norm_grad(grad, xhat, rstd, weight, need_x)  # compiled: one pass
        if fused is not None:
            gx, gw, gb = fused
            norm = np.shape(xhat)[len(lead):]
            return gx, (np.reshape(gw, norm) if need_w else None), (np.reshape(gb, norm) if need_b else None)
        gb = np.sum(grad, axis=lead) if need_b else None
        p = grad * xhat  # ȳ·x̂
        gw = np.sum(p, axis=lead) if need_w else None
        if not need_x:
            return None, gw, gb
        if weight is not None:
            p *= weight  # ĝ·x̂
            gh = grad * weight
        else:
            gh = grad.copy()
        np.multiply(xhat, np.mean(p, axis=axes, keepdims=True), out=p)
        gh -= p
        gh -= np.mean(gh, axis=axes, keepdims=True)  # = mean(ĝ): x̂ has mean 0 over the normalised dims
        gh *= rstd
        return gh, gw, gb


def _normalize(x, axes, eps):
    """x̂ = (x − μ)/√(σ² + ε) and 1/√(σ² + ε) over ``axes`` (arrays, or tensors when recording)."""
    xc = x - np.mean(x, axis=axes, keepdims=True)
    with np.errstate(over="ignore"):
        var = np.mean(xc * xc, axis=axes, keepdims=True)
        if type(var) is np.ndarray and np.isinf(var).any() and np.isfinite(xc).all():
            # The squares overflowed (|x − μ| above ~1e154 in float64, ~1e19 in float32),
            # not the values: with s = max|x − μ|, √(σ² + ε) = s·√(mean((xc/s)²) + ε/s²).
            s = np.max(np.abs(xc), axis=axes, keepdims=True)
            s = np.where(s == 0, 1, s).astype(xc.dtype)
            scaled = xc / s
            rstd = 1.0 / (s * np.sqrt(np.mean(scaled * scaled, axis=axes, keepdims=True) + eps / (s * s)))
        else:
            rstd = 1.0 / np.sqrt(var + eps)
    if type(xc) is np.ndarray:
        xc *= rstd  # xc is private: x̂ in place saves an array
        return xc, rstd
    return xc * rstd, rstd
