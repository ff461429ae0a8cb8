"""The activations of :mod:`minigrad.nn.functional` (softplus, logsigmoid, silu, mish, elu,
hardtanh, leaky_relu, gelu): each ``Primitive`` (math and VJP in its docstring) beside the
function that checks the arguments and calls it.

A family of its own rather than part of :mod:`minigrad.ops.elementwise`, which holds the
arithmetic and the functions of ``torch.*`` (``sigmoid``, ``tanh``, ``relu``, ``clamp``);
these are ``torch.nn.functional``'s, with the parameters (β, threshold, α, bounds) and the
integer-input errors of PyTorch's kernels.

The formulas are written so that no intermediate overflows, forward or backward, at any
order: e^{−|z|} ≤ 1 replaces e^{z}, and |z| is spelled ``where(z ≥ 0, −z, z)`` rather than
``abs`` so that its derivative at z = 0 is one-sided (that of the branch whose value is
taken there), not the 0 of ``sign(0)``.
"""
from __future__ import annotations

import math

import numpy as np

from minigrad import kernels
from minigrad.autograd import Primitive
from minigrad.ops._promotion import floating_only, no_bool
from minigrad.ops.elementwise import erf, masked_grad

_SQRT1_2 = 1.0 / math.sqrt(2.0)
_INV_SQRT_2PI = 1.0 / math.sqrt(2.0 * math.pi)
_SQRT_2_OVER_PI = math.sqrt(2.0 / math.pi)


def _neg_abs(z):
    """−|z|, differentiable with slope −1 at 0 (see the module docstring)."""
    return np.where(z >= 0, -z, z)


def _sigmoid(z):
    """1/(1 + e^{−z}) through e^{−|z|} ≤ 1, for arrays and, differentiably, tensors."""
    e = np.exp(_neg_abs(z))
    return np.where(z >= 0, 1 / (1 + e), e / (1 + e))


def _softplus(z):
    """log(1 + e^{z}) = max(z, 0) + log1p(e^{−|z|}), for arrays and, differentiably, tensors."""
    return np.where(z >= 0, z, 0) + np.log1p(np.exp(_neg_abs(z)))


def _float(y, x):
    return y.astype(x.dtype, copy=False)


class Softplus(Primitive):
    """y = log(1 + e^{βx})/β where βx ≤ threshold, y = x above it (PyTorch's linear tail).

    VJP: x̄ = ȳ·σ(βx) where βx ≤ threshold, ȳ above it (σ the logistic sigmoid).
    """

    @staticmethod
    def forward(ctx, x, beta=1.0, threshold=20.0):
        ctx.save_for_backward(x)
        ctx.beta, ctx.threshold = beta, threshold
        z = x * beta
        return _float(np.where(z > threshold, x, _softplus(z) / beta), x)

    @staticmethod
    def backward(ctx, grad):
        (x,) = ctx.saved_tensors
        z = x * ctx.beta
        return np.where(z > ctx.threshold, grad, grad * _sigmoid(z))


def softplus(input, beta: float = 1.0, threshold: float = 20.0):
    """log(1 + e^{βx})/β, elementwise; x itself where βx > ``threshold`` (:class:`Softplus`)."""
    floating_only("softplus_cpu", input)
    return Softplus.apply(input, beta=float(beta), threshold=float(threshold))


class LogSigmoid(Primitive):
    """y = log σ(x) = −softplus(−x) = min(x, 0) − log1p(e^{−|x|}).   VJP: x̄ = ȳ·σ(−x)."""

    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        # min(x, 0) − log1p(e^{−|x|}) rather than −softplus(−x): 0, not −0, at x = +inf (PyTorch's sign).
        return _float(np.where(x < 0, x, 0) - np.log1p(np.exp(_neg_abs(x))), x)

    @staticmethod
    def backward(ctx, grad):
        (x,) = ctx.saved_tensors
        return grad * _sigmoid(-x)


def logsigmoid(input):
    """log(1/(1 + e^{−x})), elementwise, without overflow for large ``|x|`` (:class:`LogSigmoid`)."""
    floating_only("log_sigmoid_cpu", input)
    return LogSigmoid.apply(input)


class SiLU(Primitive):
    """y = x·σ(x) (swish).   VJP: x̄ = ȳ·σ(x)·(1 + x·(1 − σ(x)))."""

    node_name = "SiluBackward0"

    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return _float(x * _sigmoid(x), x)

    @staticmethod
    def backward(ctx, grad):
        (x,) = ctx.saved_tensors
        s = _sigmoid(x)
        return grad * (s * (1 + x * (1 - s)))


def silu(input, inplace: bool = False):
    """x·σ(x), elementwise (:class:`SiLU`); ``inplace`` is accepted, the result is a new tensor."""
    floating_only("silu_cpu", input)
    return SiLU.apply(input)


class Mish(Primitive):
    """y = x·tanh(softplus(x)).

    VJP: x̄ = ȳ·(tanh s + x·σ(x)·(1 − tanh² s)),  s = softplus(x) (whose derivative is σ(x)).
    """

    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return _float(x * np.tanh(_softplus(x)), x)

    @staticmethod
    def backward(ctx, grad):
        (x,) = ctx.saved_tensors
        t = np.tanh(_softplus(x))
        return grad * (t + x * _sigmoid(x) * (1 - t * t))


def mish(input, inplace: bool = False):
    """x·tanh(log(1 + eˣ)), elementwise (:class:`Mish`); ``inplace`` is accepted, the result is a new tensor."""
    floating_only("mish_cpu", input)
    return Mish.apply(input)


class ELU(Primitive):
    """y = x if x > 0 else α(eˣ − 1).   VJP: x̄ = ȳ if x > 0 else ȳ·α·eˣ.

    eˣ is taken of min(x, 0) (as ``where``), so a large positive x, whose branch is not
    used, never makes an infinity whose zero gradient would turn into NaN.
    """

    node_name = "EluBackward0"

    @staticmethod
    def forward(ctx, x, alpha=1.0):
        ctx.save_for_backward(x)
        ctx.alpha = alpha
        neg = np.where(x > 0, 0, x)
        return _float(np.where(x > 0, x, alpha * np.expm1(neg)), x)

    @staticmethod
    def backward(ctx, grad):
        (x,) = ctx.saved_tensors
        # At x = 0 the slope is α (the left branch) but its derivative is 0 (the right one): PyTorch's
        # values at the kink, at first and second order.
        neg = np.where(x >= 0, 0, x)
        return np.where(x > 0, grad, grad * (ctx.alpha * np.exp(neg)))


def elu(input, alpha: float = 1.0, inplace: bool = False):
    """x if x > 0 else α(eˣ − 1), elementwise (:class:`ELU`); ``inplace`` is accepted, the result is new."""
    floating_only("elu_cpu", input)
    return ELU.apply(input, alpha=float(alpha))


class Hardtanh(Primitive):
    """y = min(max(x, lo), hi).   VJP: x̄ = ȳ·[lo < x < hi] (0 at the bounds, as PyTorch; ``clamp`` passes them)."""

    @staticmethod
    def forward(ctx, x, min_val=-1.0, max_val=1.0):
        ctx.save_for_backward(x)
        ctx.bounds = (min_val, max_val)
        kind = x.dtype.type
        return np.clip(x, kind(min_val), kind(max_val))

    @staticmethod
    def backward(ctx, grad):
        (x,) = ctx.saved_tensors
        lo, hi = ctx.bounds
        return masked_grad(np.logical_and(np.greater(x, lo), np.less(x, hi)), grad)


def hardtanh(input, min_val: float = -1.0, max_val: float = 1.0, inplace: bool = False):
    """x clipped to [min_val, max_val] (:class:`Hardtanh`); integer tensors stay integer, as in PyTorch."""
    if min_val > max_val:
        raise ValueError("min_val cannot be greater than max_val")
    no_bool(input, "Bool inputs not supported for hardtanh")
    if input.dtype.kind == "u" and min(min_val, max_val) < 0:
        raise RuntimeError("cannot do hardtanh on an unsigned type with negative limits")
    return Hardtanh.apply(input, min_val=min_val, max_val=max_val)


class LeakyReLU(Primitive):
    """y = x if x > 0 else s·x.   VJP: x̄ = ȳ if x > 0 else s·ȳ."""

    node_name = "LeakyReluBackward0"

    @staticmethod
    def forward(ctx, x, negative_slope=0.01):
        ctx.save_for_backward(x)
        ctx.slope = negative_slope
        return np.where(x > 0, x, x * x.dtype.type(negative_slope))

    @staticmethod
    def backward(ctx, grad):
        (x,) = ctx.saved_tensors
        return np.where(np.greater(x, 0), grad, grad * grad.dtype.type(ctx.slope))


def leaky_relu(input, negative_slope: float = 0.01, inplace: bool = False):
    """x if x > 0 else negative_slope·x, elementwise (:class:`LeakyReLU`; ``inplace`` is accepted
    and ignored: the result is a new tensor)."""
    floating_only("leaky_relu", input)
    return LeakyReLU.apply(input, negative_slope=float(negative_slope))


class GELU(Primitive):
    """y = x·Φ(x), Φ the standard normal CDF ('none'), or its tanh approximation ('tanh').

    'none':  Φ(x) = ½(1 + erf(x/√2));   VJP: x̄ = ȳ·(Φ(x) + x·φ(x)),  φ(x) = e^{-x²/2}/√(2π).
    'tanh':  y = ½x(1 + tanh u),  u = √(2/π)(x + 0.044715x³);
             VJP: x̄ = ȳ·(½(1 + tanh u) + ½x(1 − tanh²u)·√(2/π)(1 + 3·0.044715x²)).
    """

    node_name = "GeluBackward0"

    @staticmethod
    def forward(ctx, x, approximate="none"):
        ctx.save_for_backward(x)
        ctx.approximate = approximate
        if approximate == "tanh":
            fused = kernels.gelu_tanh(x)  # compiled: 2 passes and NumPy's tanh (the code below makes 8)
            if fused is not None:
                y, ctx.tanh = fused
                return y
            # In place on two private buffers, u = x·(√(2/π) + √(2/π)·0.044715·x²) (the plain
            # expression allocates seven arrays): 1.7x faster on (32, 64, 512) float32, one thread.
            # t is kept for a first-order backward, which then needs no tanh: one array of x's
            # size more per GELU (the GPT benchmark's peak memory stays ~0.6 of PyTorch's).
            t = np.multiply(x, x, out=np.empty_like(x))  # an array, also for 0-d x; np.power is ~50x slower
            t *= _SQRT_2_OVER_PI * 0.044715
            t += _SQRT_2_OVER_PI
            t *= x
            np.tanh(t, out=t)
            ctx.tanh = t
            y = np.add(t, 1.0, out=np.empty_like(x))
            y *= x
            y *= 0.5
            return y
        return (0.5 * x * (1.0 + erf(x * _SQRT1_2))).astype(x.dtype, copy=False)

    @staticmethod
    def backward(ctx, grad):
        (x,) = ctx.saved_tensors
        if ctx.approximate == "tanh":
            if not isinstance(grad, np.ndarray):  # recording: t as a function of x, differentiable
                t = np.tanh(_SQRT_2_OVER_PI * (x + 0.044715 * (x * x * x)))
                du = _SQRT_2_OVER_PI * (1.0 + 3 * 0.044715 * x * x)
                return grad * (0.5 * (1.0 + t) + 0.5 * x * (1.0 - t * t) * du)
            t = ctx.tanh
            fused = kernels.gelu_tanh_grad(x, t, grad)  # compiled: one pass
            if fused is not None:
                return fused
            # The same slope, in place on two buffers, with t from forward: 3x faster on
            # (32, 64, 512) float32 (the plain expression allocates ten temporaries and redoes tanh).
            du = np.multiply(x, x, out=np.empty_like(x))
            du *= 3 * 0.044715
            du += 1.0
            du *= _SQRT_2_OVER_PI
            d = np.multiply(t, t, out=np.empty_like(t))
            np.subtract(1.0, d, out=d)
            d *= x
            d *= du
            d += t
            d += 1.0
            d *= 0.5
            d *= grad
            return d
        cdf = 0.5 * (1.0 + erf(x * _SQRT1_2))
        d = cdf + x * _INV_SQRT_2PI * np.exp(-0.5 * x * x)
        return grad * d


def gelu(input, approximate: str = "none"):
    """x·Φ(x) (Φ the standard normal CDF), or its tanh approximation with ``approximate='tanh'`` (:class:`GELU`)."""
    if approximate not in ("none", "tanh"):
        raise RuntimeError("approximate argument must be either none or tanh.")
    floating_only("gelu", input)
    return GELU.apply(input, approximate=approximate)
