"""The fused layers behind :mod:`minigrad.nn.functional`: :class:`Linear`, :class:`LayerNorm`,
:class:`Dropout`, and the activations :class:`LeakyReLU` and :class:`GELU`.

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

from minigrad.autograd import Primitive
from minigrad.ops.elementwise import erf

_SQRT1_2 = 1.0 / math.sqrt(2.0)
_INV_SQRT_2PI = 1.0 / math.sqrt(2.0 * math.pi)
_SQRT_2_OVER_PI = math.sqrt(2.0 / math.pi)


class Linear(Primitive):
    """y = x Wᵀ + b, with x (*, in), W (out, in), b (out,) or None.

    VJP: x̄ = ȳ W,   W̄ = ȳᵀ x (summed over all leading dims),   b̄ = Σ ȳ over leading dims.
    """

    @staticmethod
    def forward(ctx, x, weight, bias):
        ctx.save_for_backward(x, weight)
        y = np.matmul(x, weight.T)
        if bias is not None:
            y += bias  # y is a fresh array; adding in place saves a temporary
        return y

    @staticmethod
    def backward(ctx, grad):
        x, weight = ctx.saved_tensors
        need_x, need_w, need_b = ctx.needs_input_grad
        gx = np.matmul(grad, weight) if need_x else None
        gw = gb = None
        if need_w or need_b:
            g2 = np.reshape(grad, (-1, np.shape(grad)[-1]))
            if need_w:
                gw = np.matmul(np.transpose(g2), np.reshape(x, (np.shape(g2)[0], np.shape(x)[-1])))
            if need_b:
                gb = np.sum(g2, axis=0)
        return gx, gw, gb


class LeakyReLU(Primitive):
    """y = x if x > 0 else s·x.   VJP: x̄ = ȳ if x > 0 else s·ȳ."""

    @staticmethod
    def forward(ctx, x, negative_slope=0.01):
        ctx.save_for_backward(x)
        ctx.slope = negative_slope
        return np.where(x > 0, x, x * x.dtype.type(negative_slope))

    @staticmethod
    def backward(ctx, grad):
        (x,) = ctx.saved_tensors
        return np.where(np.greater(x, 0), grad, grad * grad.dtype.type(ctx.slope))


class GELU(Primitive):
    """y = x·Φ(x), Φ the standard normal CDF ('none'), or its tanh approximation ('tanh').

    'none':  Φ(x) = ½(1 + erf(x/√2));   VJP: x̄ = ȳ·(Φ(x) + x·φ(x)),  φ(x) = e^{-x²/2}/√(2π).
    'tanh':  y = ½x(1 + tanh u),  u = √(2/π)(x + 0.044715x³);
             VJP: x̄ = ȳ·(½(1 + tanh u) + ½x(1 − tanh²u)·√(2/π)(1 + 3·0.044715x²)).
    """

    @staticmethod
    def forward(ctx, x, approximate="none"):
        ctx.save_for_backward(x)
        ctx.approximate = approximate
        if approximate == "tanh":
            t = np.tanh(_SQRT_2_OVER_PI * (x + 0.044715 * (x * x * x)))  # x*x*x: np.power is ~50x slower
            return (0.5 * x * (1.0 + t)).astype(x.dtype, copy=False)
        return (0.5 * x * (1.0 + erf(x * _SQRT1_2))).astype(x.dtype, copy=False)

    @staticmethod
    def backward(ctx, grad):
        (x,) = ctx.saved_tensors
        if ctx.approximate == "tanh":
            t = np.tanh(_SQRT_2_OVER_PI * (x + 0.044715 * (x * x * x)))  # x*x*x: np.power is ~50x slower
            du = _SQRT_2_OVER_PI * (1.0 + 3 * 0.044715 * x * x)
            d = 0.5 * (1.0 + t) + 0.5 * x * (1.0 - t * t) * du
        else:
            cdf = 0.5 * (1.0 + erf(x * _SQRT1_2))
            d = cdf + x * _INV_SQRT_2PI * np.exp(-0.5 * x * x)
        return grad * d


class Dropout(Primitive):
    """y = x · m / (1 − p), m ~ Bernoulli(1 − p) per element (inverted dropout).

    The mask is drawn by the caller (from minigrad's generator) and passed in,
    already scaled: ``mask`` holds 0 or 1/(1 − p).   VJP: x̄ = ȳ · mask.
    """

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

    @staticmethod
    def forward(ctx, x, weight, bias, k=1, eps=1e-5):
        axes = tuple(range(x.ndim - k, x.ndim))
        xhat, rstd = _normalize(x, axes, eps)
        ctx.save_for_backward(x, weight)
        # Kept for a first-order backward; recording a graph, backward recomputes them from x.
        ctx.xhat, ctx.rstd, ctx.axes, ctx.eps = xhat, rstd, axes, eps
        y = xhat * weight if weight is not None else xhat
        if bias is not None:
            y = y + bias
        return y.astype(x.dtype, copy=False)

    @staticmethod
    def backward(ctx, grad):
        x, weight = ctx.saved_tensors
        axes = ctx.axes
        if isinstance(grad, np.ndarray):
            xhat, rstd = ctx.xhat, ctx.rstd
        else:
            xhat, rstd = _normalize(x, axes, ctx.eps)  # x̂ and 1/σ depend on x: differentiate them too
        need_x, need_w, need_b = ctx.needs_input_grad
        lead = tuple(range(np.ndim(grad) - len(axes)))
        gw = np.sum(grad * xhat, axis=lead) if need_w else None
        gb = np.sum(grad, axis=lead) if need_b else None
        gx = None
        if need_x:
            gh = grad * weight if weight is not None else grad
            gx = (gh - np.mean(gh, axis=axes, keepdims=True) - xhat * np.mean(gh * xhat, axis=axes, keepdims=True)) * rstd
        return gx, gw, gb


def _normalize(x, axes, eps):
    """x̂ = (x − μ)/√(σ² + ε) and 1/√(σ² + ε) over ``axes`` (arrays, or tensors when recording)."""
    xc = x - np.mean(x, axis=axes, keepdims=True)
    rstd = 1.0 / np.sqrt(np.mean(xc * xc, axis=axes, keepdims=True) + eps)
    return xc * rstd, rstd
