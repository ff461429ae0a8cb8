"""Elementwise ops: each ``Primitive`` (its math and VJP in its docstring) and, beside it,
the public function that calls it (``add``, ``exp``, ``clamp``, ...). Inputs broadcast as in
NumPy; each backward returns the gradient in the broadcast shape and the engine sums it back
to each input's shape.

Every backward is written in NumPy and serves every order: at first order it
computes on arrays; recording a graph, its arguments are tensors and each NumPy
call runs the matching minigrad op (see :mod:`minigrad.ops._numpy_dispatch`).
Masks (comparisons, ``sign``) are constants at every order."""
from __future__ import annotations

import math

import numpy as np

from minigrad.autograd import Primitive, function
from minigrad.autograd.function import rename_node
from minigrad.ops._promotion import (
    binary, broadcast_error, cast, data_of, kind, no_bool, operand, promote, to_dtype, to_float, torch_dtype_name,
)


class Add(Primitive):
    """y = a + b.   VJP: ā = ȳ,  b̄ = ȳ."""

    @staticmethod
    def forward(ctx, a, b):
        return np.add(a, b)

    @staticmethod
    def backward(ctx, grad):
        return grad, grad


def add(input, other):
    """``input + other``, elementwise, with broadcasting and PyTorch's type promotion (:class:`Add`).

    Parameters
    ----------
    input : Tensor or number
    other : Tensor or number
        Broadcast against ``input``.

    Returns
    -------
    Tensor

    Examples
    --------
    >>> import minigrad
    >>> minigrad.add(minigrad.tensor([1.0, 2.0]), 10)
    tensor([11., 12.])
    """
    return binary(Add, input, other)


class Sub(Primitive):
    """y = a - b.   VJP: ā = ȳ,  b̄ = -ȳ."""

    @staticmethod
    def forward(ctx, a, b):
        return np.subtract(a, b)

    @staticmethod
    def backward(ctx, grad):
        return grad, (-grad if ctx.needs_input_grad[1] else None)


_BOOL_SUB = ("Subtraction, the `-` operator, with a bool tensor is not supported. "
             "If you are trying to invert a mask, use the `~` or `logical_not()` operator instead.")
_BOOL_SUB_BOTH = ("Subtraction, the `-` operator, with two bool tensors is not supported. "
                  "Use the `^` or `logical_xor()` operator instead.")


def sub(input, other):
    """``input - other``, elementwise, with broadcasting and PyTorch's type promotion (:class:`Sub`).

    Parameters
    ----------
    input : Tensor or number
    other : Tensor or number
        Broadcast against ``input``.

    Returns
    -------
    Tensor
    """
    a_bool = getattr(input, "dtype", None) == np.bool_ or isinstance(input, bool)
    b_bool = getattr(other, "dtype", None) == np.bool_ or isinstance(other, bool)
    if a_bool or b_bool:
        raise RuntimeError(_BOOL_SUB_BOTH if a_bool and b_bool else _BOOL_SUB)
    if isinstance(input, (int, float)):  # 2 - x: PyTorch's rsub
        return rename_node(binary(Sub, input, other), "RsubBackward1")
    return binary(Sub, input, other)


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


def mul(input, other):
    """``input * other``, elementwise, with broadcasting and PyTorch's type promotion (:class:`Mul`).

    Parameters
    ----------
    input : Tensor or number
    other : Tensor or number
        Broadcast against ``input``.

    Returns
    -------
    Tensor
    """
    return binary(Mul, input, other)


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


def div(input, other):
    """True division ``input / other`` (integers divide to float32, as in PyTorch) (:class:`Div`).

    Parameters
    ----------
    input : Tensor or number
    other : Tensor or number
        Broadcast against ``input``.

    Returns
    -------
    Tensor
    """
    return binary(Div, input, other, true_division=True)


class Neg(Primitive):
    """y = -x.   VJP: x̄ = -ȳ."""

    @staticmethod
    def forward(ctx, x):
        return np.negative(x)

    @staticmethod
    def backward(ctx, grad):
        return -grad


def neg(input):
    """``-input``, elementwise (:class:`Neg`); bool tensors are refused, as in PyTorch.

    Parameters
    ----------
    input : Tensor

    Returns
    -------
    Tensor
    """
    no_bool(input, "Negation, the `-` operator, on a bool tensor is not supported. "
                   "If you are trying to invert a mask, use the `~` or `logical_not()` operator instead.")
    return Neg.apply(input)


def masked_grad(keep, grad):
    """ȳ where ``keep``, an exact 0 elsewhere: PyTorch *selects* the zero, so an infinite or
    NaN ȳ reaching a masked position gives 0 there, where ȳ·0 would give NaN."""
    if type(grad) is np.ndarray and np.isfinite(grad).all():
        return grad * keep  # the same numbers, and several times faster than np.where
    return np.where(keep, grad, np.zeros((), dtype=grad.dtype))


def _power(a, b):
    """``a ** b`` with PyTorch's values at -inf and -0 for b = -0.5, which it computes as 1/√a
    (C's pow gives 0 and +inf there; 1/√a gives nan and -inf)."""
    if type(b) is not function.Tensor and np.ndim(b) == 0 and b == -0.5:
        return 1 / np.sqrt(a)
    return np.power(a, b)


class Pow(Primitive):
    """y = a ** b.   VJP: ā = ȳ · b · a^(b-1)  (0 where b = 0),  b̄ = ȳ · y · log a  (0 where a = 0)."""

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


def pow(input, exponent):
    """``input ** exponent``, elementwise, with broadcasting and PyTorch's type promotion (:class:`Pow`).

    Integer tensors are raised in integers, as in PyTorch (negative integer exponents
    follow PyTorch's integer rule).

    Parameters
    ----------
    input : Tensor or number
    exponent : Tensor or number
        Broadcast against ``input``.

    Returns
    -------
    Tensor
    """
    a, b = operand(input), operand(exponent)
    ka, kb = kind(a, getattr(a, "dtype", None)), kind(b, getattr(b, "dtype", None))
    if ka == "b" and kb == "b":
        raise NotImplementedError("\"pow\" not implemented for 'Bool'")
    if ka in "biu" and kb in "biu":  # integer power, computed in integers as PyTorch does
        if ka == "b":
            a = cast(a, np.dtype(np.int64))
        if kb == "b":
            b = cast(b, np.dtype(np.int64))
        if isinstance(b, (int, np.integer)) and b < 0:
            raise RuntimeError("Integers to negative integer powers are not allowed.")
        if np.any(np.asarray(data_of(b)) < 0):
            return _integer_power(a, b)
    # PyTorch's three overloads: tensor ** number, tensor ** tensor, number ** tensor.
    if not isinstance(a, function.Tensor):
        return rename_node(binary(Pow, a, b), "PowBackward2")
    if isinstance(b, function.Tensor):
        return rename_node(binary(Pow, a, b), "PowBackward1")
    return binary(Pow, a, b)


def _integer_power(a, b):
    """a ** b for integer tensors with negative exponents: 1, ±1 for bases ±1, else 0 (PyTorch's
    integer rule; NumPy refuses). Integers are not differentiable, so no graph is recorded."""
    base, e = np.broadcast_arrays(np.asarray(data_of(a)), np.asarray(data_of(b)))
    dtype = np.result_type(base, e)
    neg = e < 0
    r = np.power(base, np.where(neg, 0, e)).astype(dtype, copy=False)
    ones = np.where(base == -1, np.where(e % 2 == 0, 1, -1), np.where(base == 1, 1, 0))
    return function.Tensor._make(np.where(neg, ones, r).astype(dtype, copy=False), False, None)


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


def exp(input):
    """Exponential ``eˣ``, elementwise (:class:`Exp`); integer inputs give float32.

    Parameters
    ----------
    input : Tensor

    Returns
    -------
    Tensor
    """
    return Exp.apply(to_float(input))


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


def log(input):
    """Natural logarithm, elementwise (:class:`Log`); integer inputs give float32.

    Parameters
    ----------
    input : Tensor

    Returns
    -------
    Tensor
    """
    return Log.apply(to_float(input))


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


def sqrt(input):
    """Square root, elementwise (:class:`Sqrt`); integer inputs give float32.

    Parameters
    ----------
    input : Tensor

    Returns
    -------
    Tensor
    """
    return Sqrt.apply(to_float(input))


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


def abs(input):
    """Absolute value, elementwise (:class:`Abs`).

    Parameters
    ----------
    input : Tensor

    Returns
    -------
    Tensor
    """
    no_bool(input, "\"abs_cpu\" not implemented for 'Bool'", NotImplementedError)
    return Abs.apply(input)


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


def sin(input):
    """Sine, elementwise (:class:`Sin`); integer inputs give float32.

    Parameters
    ----------
    input : Tensor

    Returns
    -------
    Tensor
    """
    return Sin.apply(to_float(input))


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


def cos(input):
    """Cosine, elementwise (:class:`Cos`); integer inputs give float32.

    Parameters
    ----------
    input : Tensor

    Returns
    -------
    Tensor
    """
    return Cos.apply(to_float(input))


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


def tanh(input):
    """Hyperbolic tangent, elementwise (:class:`Tanh`); integer inputs give float32.

    Parameters
    ----------
    input : Tensor

    Returns
    -------
    Tensor
    """
    return Tanh.apply(to_float(input))


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


def sigmoid(input):
    """Logistic sigmoid ``1/(1 + e⁻ˣ)``, elementwise (:class:`Sigmoid`); integer inputs give float32.

    Parameters
    ----------
    input : Tensor

    Returns
    -------
    Tensor

    Examples
    --------
    >>> import minigrad
    >>> minigrad.sigmoid(minigrad.tensor([0.0]))
    tensor([0.5000])
    """
    return Sigmoid.apply(to_float(input))


class ReLU(Primitive):
    """y = max(x, 0).   VJP: x̄ = ȳ · [not y ≤ 0].

    PyTorch's conventions: NaN stays NaN and passes ȳ through, −0 stays −0 and gets 0.
    """

    node_name = "ReluBackward0"

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
        return masked_grad(np.logical_not(np.less_equal(y, 0)), grad)


def relu(input):
    """Rectified linear unit ``max(x, 0)``, elementwise (:class:`ReLU`).

    Parameters
    ----------
    input : Tensor

    Returns
    -------
    Tensor
    """
    no_bool(input, "Boolean inputs not supported for relu")
    return ReLU.apply(input)


class Clamp(Primitive):
    """y = min(max(x, lo), hi).   VJP: x̄ = ȳ · [lo ≤ x ≤ hi]  (PyTorch passes the gradient at the bounds)."""

    node_name = "ClampBackward1"

    @staticmethod
    def forward(ctx, x, lo=None, hi=None):
        ctx.save_for_backward(x)
        ctx.lo, ctx.hi = lo, hi
        # maximum/minimum with x second return x on a tie, so −0 clamped at 0 stays −0 (as
        # in PyTorch; np.clip returns the bound), and NaN stays NaN.
        y = x if lo is None else np.maximum(lo, x)
        return y if hi is None else np.minimum(hi, y)

    @staticmethod
    def backward(ctx, grad):
        (x,) = ctx.saved_tensors
        mask = np.ones(np.shape(x), dtype=bool)
        if ctx.lo is not None:
            mask &= np.greater_equal(x, ctx.lo)
        if ctx.hi is not None:
            mask &= np.less_equal(x, ctx.hi)
        return masked_grad(mask, grad), None, None


def clamp(input, min=None, max=None):
    """Clamp every element into ``[min, max]`` (:class:`Clamp`; ``clip`` is the same function).

    Parameters
    ----------
    input : Tensor
    min, max : number, optional
        Bounds; at least one must be given.

    Returns
    -------
    Tensor

    Raises
    ------
    RuntimeError
        If both bounds are None.
    """
    if min is None and max is None:
        raise RuntimeError("torch.clamp: At least one of 'min' or 'max' must not be None")
    if input.dtype.kind in "biu":
        # PyTorch's promotion: a floating bound makes the result float32; bool input becomes int64
        if isinstance(min, float) or isinstance(max, float):
            input = to_dtype(input, np.float32)
        elif input.dtype == np.bool_:
            input = to_dtype(input, np.int64)
    if isinstance(min, function.Tensor) or isinstance(max, function.Tensor):
        return rename_node(Clamp.apply(input, min, max), "ClampBackward0")
    return Clamp.apply(input, min, max)


clip = clamp


def _split_by_comparison(grad, a, b, loses):
    """ȳ to each input unless it ``loses`` the comparison; half to each on a tie.

    PyTorch's rule, which also sends the whole ȳ to *both* inputs where either is NaN
    (neither loses nor ties). The loser gets an exact 0 (see :func:`masked_grad`).
    """
    tie = np.equal(a, b)  # the masks are constants
    shared = np.where(tie, grad * 0.5, grad) if np.any(tie) else grad
    return masked_grad(np.logical_not(loses(a, b)), shared), masked_grad(np.logical_not(loses(b, a)), shared)


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


def maximum(input, other):
    """Elementwise maximum, with broadcasting and PyTorch's type promotion (:class:`Maximum`).

    Parameters
    ----------
    input : Tensor or number
    other : Tensor or number
        Broadcast against ``input``.

    Returns
    -------
    Tensor
    """
    return binary(Maximum, input, other)


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


def minimum(input, other):
    """Elementwise minimum, with broadcasting and PyTorch's type promotion (:class:`Minimum`).

    Parameters
    ----------
    input : Tensor or number
    other : Tensor or number
        Broadcast against ``input``.

    Returns
    -------
    Tensor
    """
    return binary(Minimum, input, other)


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


def where(condition, input, other):
    """Pick from ``input`` where ``condition`` holds, else from ``other`` (:class:`Where`).

    Parameters
    ----------
    condition : Tensor of bool
    input, other : Tensor or number
        All three broadcast together.

    Returns
    -------
    Tensor
    """
    input, other = operand(input), operand(other)
    da, db = getattr(input, "dtype", None), getattr(other, "dtype", None)
    if da is None and db is None:  # two Python numbers: PyTorch's default dtypes
        input, other = np.asarray(input), np.asarray(other)
        if input.dtype.kind == "f" or other.dtype.kind == "f":
            input, other = input.astype(np.float32), other.astype(np.float32)
    elif da != db:
        input, other = promote(input, other, da, db)
    try:
        return Where.apply(operand(condition), input, other)
    except ValueError:
        shapes = [np.shape(data_of(operand(x))) for x in (condition, input, other)]
        try:
            np.broadcast_shapes(*shapes)
        except ValueError:
            raise broadcast_error(condition, input, other) from None
        raise


class Clone(Primitive):
    """y = a copy of x.   VJP: x̄ = ȳ."""

    @staticmethod
    def forward(ctx, x):
        return x.copy()

    @staticmethod
    def backward(ctx, grad):
        return grad


def clone(input):
    """A copy that stays in the graph (:class:`Clone`).

    Parameters
    ----------
    input : Tensor

    Returns
    -------
    Tensor
    """
    return Clone.apply(input)


# -- more unary math -------------------------------------------------------------------
class Tan(Primitive):
    """y = tan x.   VJP: x̄ = ȳ · (1 + y²)."""

    @staticmethod
    def forward(ctx, x):
        y = np.tan(x)
        ctx.save_for_backward(y)
        return y

    @staticmethod
    def backward(ctx, grad):
        (y,) = ctx.saved_tensors
        return grad * (1 + y * y)


def tan(input):
    """Tangent, elementwise (:class:`Tan`); integer inputs give float32."""
    return Tan.apply(to_float(input))


_LN2, _LN10 = math.log(2.0), math.log(10.0)


class Log2(Primitive):
    """y = log₂ x.   VJP: x̄ = ȳ / (x · ln 2)."""

    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return np.log2(x)

    @staticmethod
    def backward(ctx, grad):
        (x,) = ctx.saved_tensors
        return grad / (x * _LN2)


def log2(input):
    """Base-2 logarithm, elementwise (:class:`Log2`); integer inputs give float32."""
    return Log2.apply(to_float(input))


class Log10(Primitive):
    """y = log₁₀ x.   VJP: x̄ = ȳ / (x · ln 10)."""

    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return np.log10(x)

    @staticmethod
    def backward(ctx, grad):
        (x,) = ctx.saved_tensors
        return grad / (x * _LN10)


def log10(input):
    """Base-10 logarithm, elementwise (:class:`Log10`); integer inputs give float32."""
    return Log10.apply(to_float(input))


class Log1p(Primitive):
    """y = log(1 + x), accurate for tiny x.   VJP: x̄ = ȳ / (1 + x)."""

    node_name = "Log1PBackward0"

    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return np.log1p(x)

    @staticmethod
    def backward(ctx, grad):
        (x,) = ctx.saved_tensors
        return grad / (1 + x)


def log1p(input):
    """``log(1 + x)``, elementwise, accurate for tiny x (:class:`Log1p`); integer inputs give float32."""
    return Log1p.apply(to_float(input))


class Expm1(Primitive):
    """y = eˣ − 1, accurate for tiny x.   VJP: x̄ = ȳ · (y + 1)."""

    @staticmethod
    def forward(ctx, x):
        y = np.expm1(x)
        ctx.save_for_backward(y)
        return y

    @staticmethod
    def backward(ctx, grad):
        (y,) = ctx.saved_tensors
        return grad * (y + 1)


def expm1(input):
    """``exp(x) − 1``, elementwise, accurate for tiny x (:class:`Expm1`); integer inputs give float32."""
    return Expm1.apply(to_float(input))


class Exp2(Primitive):
    """y = 2ˣ.   VJP: x̄ = ȳ · y · ln 2."""

    @staticmethod
    def forward(ctx, x):
        y = np.exp2(x)
        ctx.save_for_backward(y)
        return y

    @staticmethod
    def backward(ctx, grad):
        (y,) = ctx.saved_tensors
        return grad * (y * _LN2)


def exp2(input):
    """``2 ** x``, elementwise (:class:`Exp2`); integer inputs give float32."""
    return Exp2.apply(to_float(input))


class Rsqrt(Primitive):
    """y = 1/√x.   VJP: x̄ = −ȳ · y³ / 2."""

    @staticmethod
    def forward(ctx, x):
        with np.errstate(divide="ignore"):  # 1/√0 = inf, as in PyTorch
            y = np.reciprocal(np.sqrt(x))
        ctx.save_for_backward(y)
        return y

    @staticmethod
    def backward(ctx, grad):
        (y,) = ctx.saved_tensors
        return grad * (y * y * y) * -0.5


def rsqrt(input):
    """``1/√x``, elementwise (:class:`Rsqrt`); integer inputs give float32."""
    return Rsqrt.apply(to_float(input))


def square(input):
    """``x * x``, elementwise (:class:`Mul` of x with itself, so x̄ = 2xȳ); bool inputs give int64."""
    if input.dtype == np.bool_:
        input = to_dtype(input, np.dtype(np.int64))
    return rename_node(Mul.apply(input, input), "PowBackward0")


def reciprocal(input):
    """``1/x``, elementwise (:class:`Div`); integer and bool inputs give float32."""
    return rename_node(binary(Div, 1.0, input, true_division=True), "ReciprocalBackward0")


class Rounding(Primitive):
    """y = f(x) for a piecewise-constant f (floor, ceil, trunc, round, sign).

    VJP: x̄ = 0 (the derivative wherever it exists; PyTorch's convention at the jumps).
    """

    @staticmethod
    def forward(ctx, x, fn, *args):
        return np.asarray(fn(x, *args))

    @staticmethod
    def backward(ctx, grad):
        # 0 selected rather than ȳ·0: it stays 0 where ȳ is inf or NaN, and it is still a
        # function of ȳ, so its own (zero) derivative is recorded under create_graph.
        zero = np.where(np.zeros(np.shape(grad), dtype=bool), grad, np.zeros((), dtype=np.result_type(grad)))
        return (zero,) + (None,) * (len(ctx.needs_input_grad) - 1)


def _rounding(name: str, fn, input, *args):
    """Integers are already whole: a copy (PyTorch's); bools have no kernel for these."""
    if input.dtype == np.bool_:
        raise NotImplementedError(f"\"{name}\" not implemented for 'Bool'")
    if input.dtype.kind in "iu":
        return function.Tensor._make(input._array.copy(), False, None)
    # floor -> FloorBackward0; round(decimals=...) is PyTorch's second overload of round.
    return rename_node(Rounding.apply(input, fn, *args), f"{name.capitalize()}Backward{int(bool(args and args[0]))}")


def floor(input):
    """The largest integer ≤ x, elementwise (:class:`Rounding`, zero gradient)."""
    return _rounding("floor", np.floor, input)


def ceil(input):
    """The smallest integer ≥ x, elementwise (:class:`Rounding`, zero gradient)."""
    return _rounding("ceil", np.ceil, input)


def trunc(input):
    """x rounded toward zero, elementwise (:class:`Rounding`, zero gradient)."""
    return _rounding("trunc", np.trunc, input)


def round(input, *, decimals: int = 0):
    """x rounded to ``decimals`` decimal places, halves to even (:class:`Rounding`, zero gradient).

    Examples
    --------
    >>> import minigrad
    >>> minigrad.round(minigrad.tensor([0.5, 1.5, 2.25]), decimals=1)
    tensor([0.5000, 1.5000, 2.2000])
    """
    if decimals and input.dtype.kind in "biu":
        raise NotImplementedError(f"\"round_cpu\" not implemented for '{torch_dtype_name(input.dtype)}'")
    return _rounding("round", np.round, input, int(decimals))


def sign(input):
    """−1, 0 or 1 by the sign of x, elementwise (:class:`Rounding`, zero gradient); bools stay bools."""
    if input.dtype == np.bool_:
        return function.Tensor._make(input._array.copy(), False, None)
    if input.dtype.kind in "iu":
        return function.Tensor._make(np.sign(input._array), False, None)
    return rename_node(Rounding.apply(input, np.sign), "SignBackward0")


def frac(input):
    """The fractional part ``x − trunc(x)``, elementwise (so x̄ = ȳ)."""
    if input.dtype.kind in "biu":
        raise NotImplementedError(f"\"frac_cpu\" not implemented for '{torch_dtype_name(input.dtype)}'")
    return rename_node(Sub.apply(input, Rounding.apply(input, np.trunc)), "FracBackward0")


def clamp_min(input, min):
    """``clamp(input, min=min)``."""
    return rename_node(clamp(input, min=min), "ClampMinBackward0")


def clamp_max(input, max):
    """``clamp(input, max=max)``."""
    return rename_node(clamp(input, max=max), "ClampMaxBackward0")


def nan_to_num(input, nan: float = 0.0, posinf=None, neginf=None):
    """NaN, +inf and −inf replaced by ``nan``, ``posinf`` and ``neginf`` (default: 0 and the dtype's
    largest and lowest finite values).

    A :class:`Where` on the constant mask of finite elements: ȳ reaches the finite
    elements and nothing else.

    Examples
    --------
    >>> import minigrad
    >>> minigrad.nan_to_num(minigrad.tensor([float("nan"), 1.0, float("-inf")]), neginf=-9.0)
    tensor([ 0.,  1., -9.])
    """
    x = input._array
    if x.dtype.kind != "f":
        return function.Tensor._make(x.copy(), False, None)
    fill = np.nan_to_num(x, nan=nan, posinf=posinf, neginf=neginf)
    return rename_node(Where.apply(np.isfinite(x), input, fill), "NanToNumBackward0")


# -- floor division and remainders -----------------------------------------------------------
def _integer_zero_division(a, b) -> None:
    """PyTorch raises for an integer division by zero (NumPy would warn and give 0)."""
    da, db = np.asarray(data_of(a)), np.asarray(data_of(b))
    if np.result_type(da, db).kind in "biu" and np.any(db == 0):
        raise RuntimeError("ZeroDivisionError")


def _both_bool(name, a, b) -> None:
    if kind(operand(a), getattr(operand(a), "dtype", None)) == "b" and kind(operand(b), getattr(operand(b), "dtype", None)) == "b":
        raise NotImplementedError(f"\"{name}\" not implemented for 'Bool'")


class FloorDivide(Primitive):
    """y = ⌊a / b⌋.   No gradient: PyTorch defines none (its backward raises), so none is recorded."""

    @staticmethod
    def forward(ctx, a, b):
        return np.floor_divide(a, b)

    @staticmethod
    def backward(ctx, grad):  # pragma: no cover - the op records no node
        raise RuntimeError("derivative for floor_divide is not implemented")


def floor_divide(input, other):
    """``⌊input / other⌋``, elementwise (``//``), with PyTorch's promotion; not differentiable.

    Integer division by zero raises PyTorch's ``RuntimeError: ZeroDivisionError``.

    Examples
    --------
    >>> import minigrad
    >>> minigrad.tensor([7, -7]) // 2
    tensor([ 3, -4])
    """
    _both_bool("div_floor_cpu", input, other)
    _integer_zero_division(input, other)
    from minigrad.autograd import no_grad

    with no_grad():  # PyTorch has no derivative for floor division
        return binary(FloorDivide, input, other)


class Remainder(Primitive):
    """y = a − b·⌊a/b⌋ (the sign of b, as Python's ``%``).   VJP: ā = ȳ,  b̄ = −ȳ · ⌊a/b⌋."""

    @staticmethod
    def forward(ctx, a, b):
        ctx.save_for_backward(a, b)
        return np.remainder(a, b)

    @staticmethod
    def backward(ctx, grad):
        a, b = ctx.saved_tensors
        need_a, need_b = ctx.needs_input_grad
        return (grad if need_a else None), (-grad * np.floor_divide(np.asarray(a), np.asarray(b)) if need_b else None)


def remainder(input, other):
    """Python's modulus ``input % other`` (the result has the sign of ``other``), elementwise (:class:`Remainder`).

    Examples
    --------
    >>> import minigrad
    >>> minigrad.tensor([7.0, -7.0]) % 3
    tensor([1., 2.])
    """
    _both_bool("remainder_cpu", input, other)
    _integer_zero_division(input, other)
    return binary(Remainder, input, other)


class Fmod(Primitive):
    """y = a − b·trunc(a/b) (the sign of a, as C's ``fmod``).   VJP: ā = ȳ,  b̄ = −ȳ · trunc(a/b)."""

    @staticmethod
    def forward(ctx, a, b):
        ctx.save_for_backward(a, b)
        return np.fmod(a, b)

    @staticmethod
    def backward(ctx, grad):
        a, b = ctx.saved_tensors
        need_a, need_b = ctx.needs_input_grad
        with np.errstate(divide="ignore", invalid="ignore"):
            q = np.trunc(np.asarray(a) / np.asarray(b))
        return (grad if need_a else None), (-grad * q if need_b else None)


def fmod(input, other):
    """C's remainder (the result has the sign of ``input``), elementwise (:class:`Fmod`).

    Examples
    --------
    >>> import minigrad
    >>> minigrad.fmod(minigrad.tensor([7.0, -7.0]), 3)
    tensor([ 1., -1.])
    """
    _both_bool("fmod_cpu", input, other)
    _integer_zero_division(input, other)
    return binary(Fmod, input, other)
