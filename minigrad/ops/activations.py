"""The activations of :mod:`minigrad.nn.functional` (softplus, logsigmoid, silu, mish, elu,
selu, celu, hardtanh, relu6, leaky_relu, gelu, hardswish, hardsigmoid, softshrink, hardshrink,
threshold, softsign, tanhshrink): each ``Primitive`` (math and VJP in its docstring) beside the
function that checks the arguments and calls it. As in PyTorch, ``relu6`` and ``selu`` are
``hardtanh`` and ``elu`` with fixed parameters, ``celu`` is ELU's primitive under a node name of
its own, and ``softsign`` and ``tanhshrink`` are compositions of tensor ops. The functions named
with a trailing underscore (``elu_``, ``selu_``, ``celu_``, ``hardtanh_``, ``leaky_relu_``,
``threshold_``) write their result into the input tensor.

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
from minigrad.autograd.function import rename_node
from minigrad.ops._promotion import floating_only, no_bool, torch_dtype_name
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
    """y = s·x if x > 0 else s·α(e^{i·x} − 1), s the ``scale`` and i the ``input_scale`` (1 for ``elu``).

    VJP: x̄ = ȳ·s if x > 0 else ȳ·s·α·i·e^{i·x}.

    ``selu`` is α = 1.6733, s = 1.0507 (the fixed point of Klambauer et al.); ``celu`` is i = 1/α
    (:class:`CELU`). e^{i·x} is taken of min(x, 0) (as ``where``), so a large positive x, whose
    branch is not used, never makes an infinity whose zero gradient would turn into NaN.
    """

    node_name = "EluBackward0"

    @staticmethod
    def forward(ctx, x, alpha=1.0, scale=1.0, input_scale=1.0):
        ctx.save_for_backward(x)
        ctx.coefficients = (alpha, scale, input_scale)
        neg = np.where(x > 0, 0, x)
        return _float(np.where(x > 0, x * scale, (alpha * scale) * np.expm1(neg * input_scale)), x)

    @staticmethod
    def backward(ctx, grad):
        (x,) = ctx.saved_tensors
        alpha, scale, input_scale = ctx.coefficients
        # At x = 0 the slope is s·α·i (the left branch) but its derivative is 0 (the right one):
        # PyTorch's values at the kink, at first and second order.
        neg = np.where(x >= 0, 0, x)
        return np.where(x > 0, grad * scale, grad * ((alpha * scale * input_scale) * np.exp(neg * input_scale)))


def elu(input, alpha: float = 1.0, inplace: bool = False):
    """x if x > 0 else α(eˣ − 1), elementwise (:class:`ELU`); ``inplace`` is accepted, the result is new
    (``elu_`` writes into the input)."""
    floating_only("elu_cpu", input)
    return ELU.apply(input, alpha=float(alpha))


def elu_(input, alpha: float = 1.0):
    """In place: ``elu(input, alpha)`` written into ``input``, which is returned."""
    return _in_place(elu, input, "EluBackward1", alpha)


_SELU_ALPHA = 1.6732632423543772848170429916717
_SELU_SCALE = 1.0507009873554804934193349852946


def selu(input, inplace: bool = False):
    """s·x if x > 0 else s·α(eˣ − 1), α = 1.6733 and s = 1.0507 (:class:`ELU` with these α, s);
    ``inplace`` is accepted, the result is new (``selu_`` writes into the input)."""
    floating_only("elu_cpu", input)
    return ELU.apply(input, alpha=_SELU_ALPHA, scale=_SELU_SCALE)


class CELU(ELU):
    """:class:`ELU` with input scale i = 1/α: y = max(0, x) + min(0, α(e^{x/α} − 1)), continuously
    differentiable for every α; the math and the VJP are ELU's. PyTorch names its node apart."""

    node_name = "CeluBackward0"


def celu(input, alpha: float = 1.0, inplace: bool = False):
    """max(0, x) + min(0, α(e^{x/α} − 1)), elementwise (:class:`CELU`); ``inplace`` is accepted,
    the result is new (``celu_`` writes into the input)."""
    if alpha == 0:
        raise RuntimeError("ZeroDivisionError: alpha cannot be 0 for CELU")
    floating_only("elu_cpu", input)
    return CELU.apply(input, alpha=float(alpha), input_scale=1.0 / alpha)


def _in_place(out_of_place, input, node_name, *args):
    """``out_of_place(input, *args)`` written into ``input`` (its memory, version + 1), its node
    named as PyTorch names that of the in-place call."""
    input._check_inplace()
    return input._inplace(rename_node(out_of_place(input._snapshot(), *args), node_name))


def selu_(input):
    """In place: ``selu(input)`` written into ``input``, which is returned."""
    return _in_place(selu, input, "EluBackward1")


def celu_(input, alpha: float = 1.0):
    """In place: ``celu(input, alpha)`` written into ``input``, which is returned."""
    return _in_place(celu, input, "CeluBackward1", alpha)


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


def hardtanh_(input, min_val: float = -1.0, max_val: float = 1.0):
    """In place: ``hardtanh(input, min_val, max_val)`` written into ``input``, which is returned."""
    return _in_place(hardtanh, input, "HardtanhBackward0", min_val, max_val)


def relu6(input, inplace: bool = False):
    """min(max(x, 0), 6): :func:`hardtanh` with bounds 0 and 6, as PyTorch computes it (its node,
    its gradient 0 at both bounds, integer tensors kept integer); ``inplace`` is accepted, the result is new."""
    return hardtanh(input, 0.0, 6.0)


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


def leaky_relu_(input, negative_slope: float = 0.01):
    """In place: ``leaky_relu(input, negative_slope)`` written into ``input``, which is returned."""
    return _in_place(leaky_relu, input, "LeakyReluBackward1", negative_slope)


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


class Hardswish(Primitive):
    """y = x·min(max(x + 3, 0), 6)/6.

    VJP: x̄ = 0 for x ≤ −3, ȳ for x ≥ 3, ȳ·(x/3 + ½) in between (PyTorch's vectorised
    kernel: ``0`` and ``ȳ`` at the kinks, NaN at a NaN input).
    """

    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return x * np.clip(x + 3, 0, 6) / 6

    @staticmethod
    def backward(ctx, grad):
        (x,) = ctx.saved_tensors
        return np.where(x <= -3, 0, np.where(x >= 3, grad, grad * (x / 3 + 0.5)))


def hardswish(input, inplace: bool = False):
    """x·relu6(x + 3)/6, elementwise (:class:`Hardswish`); ``inplace`` is accepted, the result is new."""
    floating_only("hardswish_cpu", input)
    return Hardswish.apply(input)


class Hardsigmoid(Primitive):
    """y = min(max(x + 3, 0), 6)/6.   VJP: x̄ = ȳ/6 for −3 < x < 3, else 0 (also at ±3 and NaN)."""

    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return np.clip(x + 3, 0, 6) / 6

    @staticmethod
    def backward(ctx, grad):
        (x,) = ctx.saved_tensors
        return masked_grad(np.logical_and(np.greater(x, -3), np.less(x, 3)), grad / 6)


def hardsigmoid(input, inplace: bool = False):
    """relu6(x + 3)/6, elementwise (:class:`Hardsigmoid`); ``inplace`` is accepted, the result is new."""
    floating_only("hardsigmoid_cpu", input)
    return Hardsigmoid.apply(input)


def _outside(x, lambd):
    """x < −λ or x > λ (false at ±λ and at NaN, as PyTorch's vectorised shrink gradients)."""
    return np.logical_or(np.less(x, -lambd), np.greater(x, lambd))


class Softshrink(Primitive):
    """y = x − λ if x > λ, x + λ if x < −λ, else 0.   VJP: x̄ = ȳ where x < −λ or x > λ, else 0."""

    @staticmethod
    def forward(ctx, x, lambd=0.5):
        ctx.save_for_backward(x)
        ctx.lambd = lambd
        # A NaN fails both comparisons and takes the last branch: NaN in, NaN out, as PyTorch.
        inside = np.logical_and(x >= -lambd, x <= lambd)
        return np.where(inside, np.zeros((), x.dtype), np.where(x > 0, x - lambd, x + lambd))

    @staticmethod
    def backward(ctx, grad):
        (x,) = ctx.saved_tensors
        return masked_grad(_outside(x, ctx.lambd), grad)


def softshrink(input, lambd: float = 0.5):
    """x shrunk toward 0 by ``lambd``, and 0 within [−lambd, lambd] (:class:`Softshrink`)."""
    floating_only("softshrink_check", input)
    top = float(np.finfo(input.dtype).max)
    if not 0 <= lambd <= top:
        raise RuntimeError(f"lambda must be in range [0, {top:g}] for input dtype {torch_dtype_name(input.dtype)}, "
                           f"but found {lambd:g}")
    return Softshrink.apply(input, lambd=float(lambd))


class Hardshrink(Primitive):
    """y = x if x < −λ or x > λ, else 0.   VJP: x̄ = ȳ where x < −λ or x > λ, else 0."""

    @staticmethod
    def forward(ctx, x, lambd=0.5):
        ctx.save_for_backward(x)
        ctx.lambd = lambd
        inside = np.logical_and(x >= -lambd, x <= lambd)  # (false at NaN: NaN is kept)
        return np.where(inside, np.zeros((), x.dtype), x)

    @staticmethod
    def backward(ctx, grad):
        (x,) = ctx.saved_tensors
        return masked_grad(_outside(x, ctx.lambd), grad)


def hardshrink(input, lambd: float = 0.5):
    """x where ``|x| > lambd``, else 0 (:class:`Hardshrink`); a negative ``lambd`` keeps every x, as in PyTorch."""
    floating_only("hardshrink_cpu", input)
    return Hardshrink.apply(input, lambd=float(lambd))


class Threshold(Primitive):
    """y = v if x ≤ θ else x.   VJP: x̄ = 0 where x ≤ θ, ȳ elsewhere (also at a NaN x or θ)."""

    @staticmethod
    def forward(ctx, x, threshold=0.0, value=0.0):
        ctx.save_for_backward(x)
        ctx.threshold = threshold
        return np.where(x <= threshold, value, x)

    @staticmethod
    def backward(ctx, grad):
        (x,) = ctx.saved_tensors
        return masked_grad(np.logical_not(np.less_equal(x, ctx.threshold)), grad)


_C_TYPE_NAMES = {"float16": "c10::Half", "float32": "float", "float64": "double", "int32": "int"}


def _scalar_of(dtype, number):
    """``number`` converted to ``dtype`` as PyTorch converts a number argument of a kernel: an error
    where it would overflow; a float truncated toward 0 for an integer dtype; a negative integer
    wrapped around for an unsigned dtype (down to −max, the range PyTorch accepts there)."""
    number = number.item() if hasattr(number, "item") else number
    if dtype.kind == "f":
        if not math.isfinite(number) or abs(number) <= float(np.finfo(dtype).max):
            return dtype.type(number)
    else:
        top = int(np.iinfo(dtype).max)
        wraps = dtype.kind == "u" and isinstance(number, (int, np.integer))
        low = -top if wraps else int(np.iinfo(dtype).min)
        if math.isfinite(number) and low <= number <= top:
            return dtype.type(int(number) % (top + 1) if wraps else int(number))
    raise RuntimeError(f"value cannot be converted to type {_C_TYPE_NAMES.get(dtype.name, dtype.name + '_t')} "
                       "without overflow")


def _thresholded(input, threshold, value):
    no_bool(input, '"threshold_cpu" not implemented for \'Bool\'', NotImplementedError)
    dtype = np.dtype(input.dtype)
    # PyTorch compares float16 in float32 (its "opmath" type): a threshold beyond float16's range is allowed.
    compared_in = np.dtype(np.float32) if dtype == np.float16 else dtype
    return Threshold.apply(input, threshold=_scalar_of(compared_in, threshold), value=_scalar_of(dtype, value))


def threshold(input, threshold: float, value: float, inplace: bool = False):
    """x where x > ``threshold``, else ``value`` (:class:`Threshold`); integer tensors stay integer,
    with ``threshold`` and ``value`` converted to their dtype as PyTorch converts them. ``inplace``
    is accepted, the result is new (``threshold_`` writes into the input)."""
    return _thresholded(input, threshold, value)


def threshold_(input, threshold: float, value: float):
    """In place: ``threshold(input, threshold, value)`` written into ``input``, which is returned."""
    return _in_place(_thresholded, input, "ThresholdBackward1", threshold, value)


def softsign(input):
    """x/(1 + ``|x|``), elementwise: a composition of tensor ops, as PyTorch's (its node is the division's)."""
    return input / (input.abs() + 1)


def tanhshrink(input):
    """x − tanh x, elementwise: a composition of tensor ops, as PyTorch's (its node is the subtraction's)."""
    return input - input.tanh()
