"""Elementwise ops. Inputs broadcast as in NumPy; each backward returns the
gradient in the broadcast shape and the engine sums it back to each input's shape.

Every backward is written in NumPy and serves every order: at first order it
computes on arrays; recording a graph, its arguments are tensors and each NumPy
call runs the matching minigrad op (see :mod:`minigrad.ops._numpy_dispatch`).
Masks (comparisons, ``sign``) are constants at every order."""
from __future__ import annotations

import math

import numpy as np

from minigrad.autograd import Primitive, function


class Add(Primitive):
    """y = a + b.   VJP: ā = ȳ,  b̄ = ȳ."""

    @staticmethod
    def forward(ctx, a, b):
        return np.add(a, b)

    @staticmethod
    def backward(ctx, grad):
        return grad, grad


class Sub(Primitive):
    """y = a - b.   VJP: ā = ȳ,  b̄ = -ȳ."""

    @staticmethod
    def forward(ctx, a, b):
        return np.subtract(a, b)

    @staticmethod
    def backward(ctx, grad):
        return grad, (-grad if ctx.needs_input_grad[1] else None)


class Mul(Primitive):
    """y = a * b.   VJP: ā = ȳ * b,  b̄ = ȳ * a."""

    @staticmethod
    def forward(ctx, a, b):
        ctx.save_for_backward(a, b)
        return np.multiply(a, b)

    @staticmethod
    def backward(ctx, grad):
        a, b = ctx.saved_tensors
        need_a, need_b = ctx.needs_input_grad
        return (grad * b if need_a else None), (grad * a if need_b else None)


class Div(Primitive):
    """y = a / b.   VJP: ā = ȳ / b,  b̄ = -ȳ · a / b²."""

    @staticmethod
    def forward(ctx, a, b):
        ctx.save_for_backward(a, b)
        return np.true_divide(a, b)

    @staticmethod
    def backward(ctx, grad):
        a, b = ctx.saved_tensors
        need_a, need_b = ctx.needs_input_grad
        ga = grad / b if need_a else None
        # (a/b)/b rather than a/b²: b² underflows to 0 long before a/b does.
        gb = -grad * (a / b / b) if need_b else None
        return ga, gb


class Neg(Primitive):
    """y = -x.   VJP: x̄ = -ȳ."""

    @staticmethod
    def forward(ctx, x):
        return np.negative(x)

    @staticmethod
    def backward(ctx, grad):
        return -grad


def _power(a, b):
    """``a ** b`` with PyTorch's values at -inf and -0 for b = -0.5, which it computes as 1/√a
    (C's pow gives 0 and +inf there; 1/√a gives nan and -inf)."""
    if type(b) is not function.Tensor and np.ndim(b) == 0 and b == -0.5:
        return 1 / np.sqrt(a)
    return np.power(a, b)


class Pow(Primitive):
    """y = a ** b.   VJP: ā = ȳ · b · a^(b-1),  b̄ = ȳ · y · log a  (a > 0 where b̄ is needed)."""

    @staticmethod
    def forward(ctx, a, b):
        y = _power(a, b)
        ctx.save_for_backward(a, b, y)
        return y

    @staticmethod
    def backward(ctx, grad):
        a, b, y = ctx.saved_tensors
        need_a, need_b = ctx.needs_input_grad
        ga = gb = None
        with np.errstate(divide="ignore", invalid="ignore"):
            if need_a:
                # d/da a**0 = 0 everywhere, even at a = 0 where 0 * 0**-1 = nan.
                b_zero = np.equal(b, 0)
                if np.all(b_zero) and not isinstance(b, function.Tensor):
                    # A constant exponent 0: no a**-1 term, whose derivative would be nan at a = 0.
                    ga = grad * 0.0
                else:
                    ga = grad * b * _power(a, b - 1)
                    nan_at = b_zero & np.equal(a, 0)
                    if np.any(nan_at):
                        ga = np.where(nan_at, 0.0, ga)
            if need_b:
                # log(0) would give nan·0; PyTorch defines the term as 0 where a == 0.
                gb = np.where(np.equal(a, 0), 0.0, grad * y * np.log(a))
        return ga, gb


class Exp(Primitive):
    """y = eˣ.   VJP: x̄ = ȳ · y."""

    @staticmethod
    def forward(ctx, x):
        y = np.exp(x)
        ctx.save_for_backward(y)
        return y

    @staticmethod
    def backward(ctx, grad):
        (y,) = ctx.saved_tensors
        return grad * y


class Log(Primitive):
    """y = ln x.   VJP: x̄ = ȳ / x."""

    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return np.log(x)

    @staticmethod
    def backward(ctx, grad):
        (x,) = ctx.saved_tensors
        return grad / x


class Sqrt(Primitive):
    """y = √x.   VJP: x̄ = ȳ / (2y)."""

    @staticmethod
    def forward(ctx, x):
        y = np.sqrt(x)
        ctx.save_for_backward(y)
        return y

    @staticmethod
    def backward(ctx, grad):
        (y,) = ctx.saved_tensors
        return grad / (2 * y)


def sign_or_zero(x):
    """sign(x) as a constant mask, 0 at 0 *and at NaN* (PyTorch's gradient convention for |x|)."""
    return np.greater(x, 0).astype(np.int8) - np.less(x, 0)


class Abs(Primitive):
    """y = |x|.   VJP: x̄ = ȳ · sign(x)  (0 at x = 0 and at NaN, as PyTorch)."""

    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return np.abs(x)

    @staticmethod
    def backward(ctx, grad):
        (x,) = ctx.saved_tensors
        return grad * sign_or_zero(x)


class Sin(Primitive):
    """y = sin x.   VJP: x̄ = ȳ · cos x."""

    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return np.sin(x)

    @staticmethod
    def backward(ctx, grad):
        (x,) = ctx.saved_tensors
        return grad * np.cos(x)


class Cos(Primitive):
    """y = cos x.   VJP: x̄ = −ȳ · sin x."""

    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return np.cos(x)

    @staticmethod
    def backward(ctx, grad):
        (x,) = ctx.saved_tensors
        return -(grad * np.sin(x))


def erf_array(x):
    """Elementwise erf of an array. SciPy's is vectorised; it is imported on the first call, not
    with minigrad (the import would dominate ``import minigrad``). Without SciPy the standard
    library's erf does the work, element by element."""
    global erf_array
    try:
        from scipy.special import erf as vectorised
    except ImportError:  # pragma: no cover - depends on the environment
        scalar = np.frompyfunc(math.erf, 1, 1)

        def vectorised(x):
            x = np.asarray(x)
            return np.asarray(scalar(x), dtype=np.float64).astype(x.dtype, copy=False)
    erf_array = vectorised
    return erf_array(x)


_TWO_OVER_SQRT_PI = 2.0 / math.sqrt(math.pi)


class Erf(Primitive):
    """y = erf x = (2/√π) ∫₀ˣ e^(−t²) dt.   VJP: x̄ = ȳ · (2/√π) e^(−x²)."""

    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        # Integers and bools give float32, as in PyTorch.
        return np.asarray(erf_array(x), dtype=x.dtype if x.dtype.kind == "f" else np.float32)

    @staticmethod
    def backward(ctx, grad):
        (x,) = ctx.saved_tensors
        return grad * (_TWO_OVER_SQRT_PI * np.exp(-(x * x)))


def erf(x):
    """erf of an array (SciPy or the standard library) or, differentiably, of a tensor (:class:`Erf`)."""
    if isinstance(x, function.Tensor):
        return Erf.apply(x)
    return erf_array(x)


class Tanh(Primitive):
    """y = tanh x.   VJP: x̄ = ȳ · (1 - y²)."""

    @staticmethod
    def forward(ctx, x):
        y = np.tanh(x)
        ctx.save_for_backward(y)
        return y

    @staticmethod
    def backward(ctx, grad):
        (y,) = ctx.saved_tensors
        return grad * (1 - y * y)


class Sigmoid(Primitive):
    """y = 1 / (1 + e⁻ˣ).   VJP: x̄ = ȳ · y · (1 - y)."""

    @staticmethod
    def forward(ctx, x):
        # Written with exp(-|x|) so neither branch overflows for large |x|.
        e = np.exp(-np.abs(x))
        y = np.where(x >= 0, 1 / (1 + e), e / (1 + e)).astype(x.dtype, copy=False)
        ctx.save_for_backward(y)
        return y

    @staticmethod
    def backward(ctx, grad):
        (y,) = ctx.saved_tensors
        return grad * y * (1 - y)


class ReLU(Primitive):
    """y = max(x, 0).   VJP: x̄ = ȳ · [not y ≤ 0].

    PyTorch's conventions: NaN stays NaN and passes ȳ through, −0 stays −0 and gets 0.
    """

    @staticmethod
    def forward(ctx, x):
        # maximum(0, x) with the zero first: NumPy returns its second operand on ties and
        # propagates NaN, so −0 stays −0 and NaN stays NaN (PyTorch's conventions), at
        # maximum's vectorised speed (np.where took 10× longer: 20% of an MLP step).
        y = np.maximum(np.zeros((), dtype=x.dtype), x)
        ctx.save_for_backward(y)
        return y

    @staticmethod
    def backward(ctx, grad):
        (y,) = ctx.saved_tensors
        return grad * np.logical_not(np.less_equal(y, 0))


class Clamp(Primitive):
    """y = min(max(x, lo), hi).   VJP: x̄ = ȳ · [lo ≤ x ≤ hi]  (PyTorch passes the gradient at the bounds)."""

    @staticmethod
    def forward(ctx, x, lo=None, hi=None):
        ctx.save_for_backward(x)
        ctx.lo, ctx.hi = lo, hi
        return np.clip(x, lo, hi)

    @staticmethod
    def backward(ctx, grad):
        (x,) = ctx.saved_tensors
        mask = np.ones(np.shape(x), dtype=bool)
        if ctx.lo is not None:
            mask &= np.greater_equal(x, ctx.lo)
        if ctx.hi is not None:
            mask &= np.less_equal(x, ctx.hi)
        return grad * mask, None, None


def _split_by_comparison(grad, a, b, loses):
    """ȳ to each input unless it ``loses`` the comparison; half to each on a tie.

    PyTorch's rule, which also sends the whole ȳ to *both* inputs where either is NaN
    (neither loses nor ties). The loser's zero is selected, not ȳ·0, so that a NaN or
    infinite ȳ does not reach the input that lost.
    """
    shared = np.where(np.equal(a, b), grad * 0.5, grad)  # the masks are constants
    zero = np.zeros((), dtype=grad.dtype)
    return np.where(loses(a, b), zero, shared), np.where(loses(b, a), zero, shared)


class Maximum(Primitive):
    """y = max(a, b) elementwise.   VJP: ȳ goes to the larger input; on ties it is split in half (as PyTorch)."""

    @staticmethod
    def forward(ctx, a, b):
        ctx.save_for_backward(a, b)
        return np.maximum(a, b)

    @staticmethod
    def backward(ctx, grad):
        a, b = ctx.saved_tensors
        return _split_by_comparison(grad, a, b, np.less)


class Minimum(Primitive):
    """y = min(a, b) elementwise.   VJP: ȳ goes to the smaller input; on ties it is split in half."""

    @staticmethod
    def forward(ctx, a, b):
        ctx.save_for_backward(a, b)
        return np.minimum(a, b)

    @staticmethod
    def backward(ctx, grad):
        a, b = ctx.saved_tensors
        return _split_by_comparison(grad, a, b, np.greater)


class Where(Primitive):
    """y = cond ? a : b.   VJP: ā = ȳ · cond,  b̄ = ȳ · ¬cond  (cond gets none)."""

    @staticmethod
    def forward(ctx, cond, a, b):
        cond = np.asarray(cond, dtype=bool)
        ctx.cond = cond
        return np.where(cond, a, b)

    @staticmethod
    def backward(ctx, grad):
        cond = ctx.cond
        zero = np.zeros((), dtype=grad.dtype)
        return None, np.where(cond, grad, zero), np.where(cond, zero, grad)


class ToDtype(Primitive):
    """y = x converted to ``dtype``.   VJP: x̄ = ȳ converted back (the engine casts to x's dtype)."""

    @staticmethod
    def forward(ctx, x, dtype):
        return x.astype(dtype, copy=False) if x.dtype != dtype else x

    @staticmethod
    def backward(ctx, grad):
        return grad, None


class Clone(Primitive):
    """y = a copy of x.   VJP: x̄ = ȳ."""

    @staticmethod
    def forward(ctx, x):
        return x.copy()

    @staticmethod
    def backward(ctx, grad):
        return grad
