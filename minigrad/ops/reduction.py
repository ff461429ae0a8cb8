"""Reductions over one or more dimensions (``dim`` an int, a tuple, or None for all): each
``Primitive`` and, beside it, the public function that calls it (``sum``, ``mean``, ``max``, ...).

The backward formulas are NumPy that serves every order (see
:mod:`minigrad.ops._numpy_dispatch`): ``np.reshape``/``np.broadcast_to`` on a
tensor gradient record the matching minigrad ops."""
from __future__ import annotations

import builtins
import math

import numpy as np

from minigrad.autograd import Primitive, function
from minigrad.autograd.function import rename_node
from minigrad.ops import return_types
from minigrad.ops._promotion import dim_index, normalize_dims, to_dtype, to_float
from minigrad.ops.elementwise import masked_grad, maximum, minimum
from minigrad.ops.shape import as_vector


def _expand_back(grad, in_shape, axes, keepdim):
    """Reshape a reduced gradient so it broadcasts against the input again."""
    if not keepdim and in_shape:
        shape = list(in_shape)
        for a in axes:
            shape[a] = 1
        grad = np.reshape(grad, tuple(shape))
    return grad


def _broadcast_back(grad, in_shape):
    """``np.broadcast_to(grad, in_shape)``: a reduced gradient spread over the input again.

    A small first-order gradient is written into a new array instead: NumPy's
    ``broadcast_to`` sets up an iterator that costs ~4× filling a 32×32 array, and
    a leaf would copy the read-only view it returns before keeping it as ``.grad``.
    A large one stays a view (no memory for n copies of the same values); a tensor
    (under ``create_graph``) records the broadcast as usual.
    """
    if type(grad) is np.ndarray and math.prod(in_shape) <= _SMALL:
        out = np.empty(in_shape, grad.dtype)
        out[...] = grad
        return out
    return np.broadcast_to(grad, in_shape)


_SMALL = 1 << 16  # elements: below this the fixed cost of broadcast_to dominates


class Sum(Primitive):
    """y = Σ_dims x.   VJP: x̄ = ȳ broadcast back over the summed dims."""

    @staticmethod
    def forward(ctx, x, axes, keepdim):
        ctx.in_shape, ctx.axes, ctx.keepdim = x.shape, axes, keepdim
        return np.asarray(x.sum(axis=axes, keepdims=keepdim))

    @staticmethod
    def backward(ctx, grad):
        g = _expand_back(grad, ctx.in_shape, ctx.axes, ctx.keepdim)
        return _broadcast_back(g, ctx.in_shape), None, None


def sum(input, dim=None, keepdim: bool = False):
    """Sum of elements over ``dim`` (:class:`Sum`); integer and bool tensors sum in int64, as in PyTorch.

    Parameters
    ----------
    input : Tensor
    dim : int or tuple of int, optional
        Dimensions to reduce; all when None.
    keepdim : bool, default False
        Keep the reduced dimensions with size 1.

    Returns
    -------
    Tensor

    Examples
    --------
    >>> import minigrad
    >>> minigrad.sum(minigrad.tensor([[1.0, 2.0], [3.0, 4.0]]), dim=0)
    tensor([4., 6.])
    """
    if input.dtype.kind in "biu" and input.dtype != np.int64:
        input = to_dtype(input, np.int64)  # PyTorch sums every integer and bool dtype in int64
    out = Sum.apply(input, normalize_dims(dim, input.ndim), keepdim)
    return out if dim is None else rename_node(out, "SumBackward1")  # PyTorch's overload with dim


class Mean(Primitive):
    """y = (1/n) Σ_dims x, n = number of reduced elements.   VJP: x̄ = ȳ / n broadcast back."""

    @staticmethod
    def forward(ctx, x, axes, keepdim):
        ctx.in_shape, ctx.axes, ctx.keepdim = x.shape, axes, keepdim
        ctx.n = math.prod([x.shape[a] for a in axes]) if axes else 1
        return np.asarray(x.mean(axis=axes, keepdims=keepdim))

    @staticmethod
    def backward(ctx, grad):
        g = _expand_back(grad, ctx.in_shape, ctx.axes, ctx.keepdim) / ctx.n
        return _broadcast_back(g, ctx.in_shape), None, None


def mean(input, dim=None, keepdim: bool = False):
    """Mean of elements over ``dim``, floating-point input only (:class:`Mean`).

    Parameters
    ----------
    input : Tensor
    dim : int or tuple of int, optional
        Dimensions to reduce; all when None.
    keepdim : bool, default False
        Keep the reduced dimensions with size 1.

    Returns
    -------
    Tensor
    """
    if input.dtype.kind not in "fc":
        raise RuntimeError(f"mean(): could not infer output dtype. Input dtype must be floating point, got {input.dtype}")
    out = Mean.apply(input, normalize_dims(dim, input.ndim), keepdim)
    return out if dim is None else rename_node(out, "MeanBackward1")  # PyTorch's overload with dim


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


def _require_nonempty(name, input, dim, error_if_all=RuntimeError) -> None:
    """Max and min have no identity: PyTorch refuses to reduce an empty slice, naming the dim."""
    if input.numel() != 0:
        return
    if dim is None:
        message = f"{name}(): Expected reduction dim to be specified for input.numel() == 0."
        if error_if_all is RuntimeError:
            message += " Specify the reduction dim with the 'dim' argument."
        raise error_if_all(message)
    for d in (dim,) if isinstance(dim, (int, np.integer)) else dim:
        if input.shape[dim_index(d, input.ndim)] == 0:
            raise IndexError(f"{name}(): Expected reduction dim {d} to have non-zero size.")


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


def amax(input, dim=(), keepdim: bool = False):
    """Largest element along ``dim``, values only (:class:`Amax`).

    Parameters
    ----------
    input : Tensor
    dim : int or tuple of int, optional
        All dimensions when omitted.
    keepdim : bool, default False
        Keep the reduced dimensions with size 1.

    Returns
    -------
    Tensor
    """
    dim = dim if dim != () else None
    _require_nonempty("amax", input, dim)
    return Amax.apply(input, normalize_dims(dim, input.ndim), keepdim)


def amin(input, dim=(), keepdim: bool = False):
    """Smallest element along ``dim``, values only (:class:`Amin`).

    Parameters
    ----------
    input : Tensor
    dim : int or tuple of int, optional
        All dimensions when omitted.
    keepdim : bool, default False
        Keep the reduced dimensions with size 1.

    Returns
    -------
    Tensor
    """
    dim = dim if dim != () else None
    _require_nonempty("amin", input, dim)
    return Amin.apply(input, normalize_dims(dim, input.ndim), keepdim)


class MaxDim(Primitive):
    """y = x at the first arg-max along ``dim`` (values of ``max(dim)``).   VJP: ȳ to that one position."""

    node_name = "MaxBackward0"

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


def _max_min(input, dim, keepdim, largest):
    if isinstance(dim, function.Tensor):  # torch.max(a, b) is the elementwise maximum
        return (maximum if largest else minimum)(input, dim)
    _require_nonempty("max" if largest else "min", input, dim)
    if dim is None:
        out = (Amax if largest else Amin).apply(input, normalize_dims(None, input.ndim), False)
        return rename_node(out, "MaxBackward1" if largest else "MinBackward1")
    if input.ndim == 0:
        return _max_min(as_vector(input, dim), 0, False, largest)
    d = dim_index(dim, input.ndim)
    values = MaxDim.apply(input, d, keepdim, largest)
    if not largest:
        rename_node(values, "MinBackward0")
    arg = np.argmax(input._array, axis=d) if largest else np.argmin(input._array, axis=d)
    if keepdim:
        arg = np.expand_dims(arg, d)
    pair = return_types.max if largest else return_types.min
    return pair(values, function.Tensor._make(arg.astype(np.int64), False, None))


def max(input, dim=None, keepdim: bool = False):
    """Largest element (:class:`Amax`); with ``dim`` a ``(values, indices)`` pair, first index on ties
    (:class:`MaxDim`); with a tensor second argument the elementwise :func:`maximum`."""
    return _max_min(input, dim, keepdim, True)


def min(input, dim=None, keepdim: bool = False):
    """Smallest element (:class:`Amin`); with ``dim`` a ``(values, indices)`` pair, first index on ties
    (:class:`MaxDim`); with a tensor second argument the elementwise :func:`minimum`."""
    return _max_min(input, dim, keepdim, False)


def _arg_extremum(input, dim, keepdim, arg):
    """``arg`` (np.argmax or np.argmin) as an int64 tensor, over all elements when dim is None."""
    _require_nonempty(arg.__name__, input, dim, error_if_all=IndexError)
    if dim is None or input.ndim == 0:
        if dim is not None:
            normalize_dims(dim, 0)  # a 0-d tensor takes dim 0 / -1 (its single element)
        out = np.asarray(arg(input._array), dtype=np.int64)
    else:
        out = arg(input._array, axis=dim_index(dim, input.ndim), keepdims=keepdim).astype(np.int64)
    return function.Tensor._make(out, False, None)


def argmax(input, dim=None, keepdim: bool = False):
    """Index of the largest element (first on ties); not differentiable.

    Parameters
    ----------
    input : Tensor
    dim : int, optional
        Over the flattened tensor when None.
    keepdim : bool, default False
        Keep the reduced dimensions with size 1.

    Returns
    -------
    Tensor of int64
    """
    return _arg_extremum(input, dim, keepdim, np.argmax)


def argmin(input, dim=None, keepdim: bool = False):
    """Index of the smallest element (first on ties); not differentiable.

    Parameters
    ----------
    input : Tensor
    dim : int, optional
        Over the flattened tensor when None.
    keepdim : bool, default False
        Keep the reduced dimensions with size 1.

    Returns
    -------
    Tensor of int64
    """
    return _arg_extremum(input, dim, keepdim, np.argmin)


def _variance(x, axes, denom, keepdim):
    """Σ (x − mean)² / denom, accumulated in float64 for narrower floats (as PyTorch's
    accumulator is), so float32 values above ~1.8e19 do not overflow on the way; returned
    in float64 for the caller to round once."""
    xw = x.astype(np.float64) if x.dtype.itemsize < 8 else x
    if all(xw.shape[a] for a in axes):
        # Shifted by each slice's first element: a constant slice is then exactly 0 and its
        # variance exactly 0 (sum/n of equal values need not round back to the value, and a
        # std of 1e-16 where PyTorch has 0 would turn std's gradient ȳ(x − mean)/y into O(1)).
        xw = xw - xw[tuple(slice(0, 1) if a in axes else slice(None) for a in range(xw.ndim))]
    centered = xw - xw.mean(axis=axes, keepdims=True)
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.asarray((centered * centered).sum(axis=axes, keepdims=keepdim) / denom)


def _variance_setup(ctx, x, axes, correction, keepdim, every_dim):
    """Keeps what the Var and Std VJPs need; returns the denominator max(n − c, 0) of forward."""
    n = math.prod([x.shape[a] for a in axes]) if axes else 1
    ctx.axes, ctx.keepdim, ctx.every_dim, ctx.dof = axes, keepdim, every_dim, n - correction
    return builtins.max(ctx.dof, 0)


def _variance_vjp(ctx, g, x):
    """x̄ for the variance, given ȳ already expanded to x's shape: 2·ȳ·(x − mean)/(n − c).

    With no degrees of freedom left (n ≤ c) over every element (no ``dim``), PyTorch's
    convention instead: ȳ·nan where x equals the mean, ȳ·inf elsewhere.
    """
    # x - mean is recomputed (not kept from forward) so that it is differentiated at higher order.
    mean = np.mean(x, axis=ctx.axes, keepdims=True)
    with np.errstate(divide="ignore", invalid="ignore"):
        if ctx.dof <= 0 and ctx.every_dim:
            return g * np.where(np.equal(x, mean), np.nan, np.inf).astype(g.dtype)
        return g * 2 * (x - mean) / ctx.dof


class Var(Primitive):
    """y = Σ (x - x̄)² / (n - c) over dims (c = correction).   VJP: x̄ = ȳ · 2 (x - mean) / (n - c)."""

    @staticmethod
    def forward(ctx, x, axes, correction, keepdim, every_dim=False):
        denom = _variance_setup(ctx, x, axes, correction, keepdim, every_dim)
        ctx.save_for_backward(x)
        with np.errstate(over="ignore"):  # a float32 variance above 3.4e38 is inf, as in PyTorch
            return _variance(x, axes, denom, keepdim).astype(x.dtype)

    @staticmethod
    def backward(ctx, grad):
        (x,) = ctx.saved_tensors
        return _variance_vjp(ctx, _expand_back(grad, np.shape(x), ctx.axes, ctx.keepdim), x), None, None, None, None


def var(input, dim=None, correction: int = 1, keepdim: bool = False):
    """Variance over ``dim`` with Bessel's ``correction`` (:class:`Var`).

    Parameters
    ----------
    input : Tensor
    dim : int or tuple of int, optional
        Dimensions to reduce; all when None.
    correction : int, default 1
        1 for the unbiased estimate, 0 for the population variance.
    keepdim : bool, default False
        Keep the reduced dimensions with size 1.

    Returns
    -------
    Tensor
    """
    if input.dtype.kind in "biu":
        raise RuntimeError("std and var only support floating point and complex dtypes")
    return Var.apply(input, normalize_dims(dim, input.ndim), correction, keepdim, dim is None or input.ndim == 0)


class Std(Primitive):
    """y = √(Σ (x - x̄)² / (n - c)) over dims (c = correction).   VJP: x̄ = ȳ · (x - mean) / ((n - c) · y),
    and 0 where y = 0.

    One op rather than √var: the variance of float32 values above ~1.8e19 exceeds
    float32 while their standard deviation does not (PyTorch's std is finite there).
    """

    @staticmethod
    def forward(ctx, x, axes, correction, keepdim, every_dim=False):
        denom = _variance_setup(ctx, x, axes, correction, keepdim, every_dim)
        y = np.sqrt(_variance(x, axes, denom, keepdim)).astype(x.dtype)
        ctx.save_for_backward(x, y)
        return y

    @staticmethod
    def backward(ctx, grad):
        x, y = ctx.saved_tensors
        g = _expand_back(grad, np.shape(x), ctx.axes, ctx.keepdim)
        yb = _expand_back(y, np.shape(x), ctx.axes, ctx.keepdim)
        with np.errstate(divide="ignore", invalid="ignore"):
            # the variance's VJP at ȳ/(2y); where y = 0 every x equals the mean, and PyTorch
            # sets ȳ/(2y) to 0 there (not 0/0)
            g_var = masked_grad(np.not_equal(yb, 0), g / (2 * yb))
        return _variance_vjp(ctx, g_var, x), None, None, None, None


def std(input, dim=None, correction: int = 1, keepdim: bool = False):
    """Standard deviation over ``dim``, ``sqrt(var(...))`` as one op (:class:`Std`).

    Parameters
    ----------
    input : Tensor
    dim : int or tuple of int, optional
        Dimensions to reduce; all when None.
    correction : int, default 1
    keepdim : bool, default False
        Keep the reduced dimensions with size 1.

    Returns
    -------
    Tensor
    """
    if input.dtype.kind in "biu":
        raise RuntimeError("std and var only support floating point and complex dtypes")
    return Std.apply(input, normalize_dims(dim, input.ndim), correction, keepdim, dim is None or input.ndim == 0)


class LogSumExp(Primitive):
    """y = log Σ_dims eˣ, computed as m + log Σ e^(x-m) so it cannot overflow.   VJP: x̄ = ȳ · softmax(x)."""

    node_name = "LogsumexpBackward0"

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


def logsumexp(input, dim, keepdim: bool = False):
    """Stable ``log Σ exp(x)`` over ``dim`` (:class:`LogSumExp`); integer inputs give float32.

    Parameters
    ----------
    input : Tensor
    dim : int or tuple of int
    keepdim : bool, default False
        Keep the reduced dimensions with size 1.

    Returns
    -------
    Tensor
    """
    return LogSumExp.apply(to_float(input), normalize_dims(dim, input.ndim), keepdim)
