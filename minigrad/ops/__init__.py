"""The user-facing tensor functions, each a thin wrapper over one ``Primitive``.

``Tensor``'s methods and operators call these, and so do ``minigrad.nn.functional``
and user code (``minigrad.exp(x)``), so every op has exactly one definition.
Argument names and defaults follow PyTorch.
"""
from __future__ import annotations

import builtins
from collections import namedtuple

import numpy as np

from minigrad.ops.elementwise import (
    Abs, Add, Clamp, Clone, Div, Exp, Log, Maximum, Minimum, Mul, Neg, Pow, ReLU,
    Sigmoid, Sqrt, Sub, Tanh, ToDtype, Where,
)
from minigrad.ops.indexing import Embedding, GetItem, IndexPut, fit_value
from minigrad.ops.linalg import MatMul
from minigrad.ops.reduction import Amax, Amin, LogSumExp, MaxDim, Mean, Sum, Var, normalize_dims
from minigrad.ops.shape import Cat, Expand, Permute, Reshape, Stack
from minigrad.ops.softmax import LogSoftmax, Softmax

MaxMin = namedtuple("MaxMin", ["values", "indices"])


def _tensor_cls():
    from minigrad.tensor import Tensor

    return Tensor


def _operand(x):
    """Lists become arrays (float32 for Python floats); tensors, arrays and Python numbers pass through."""
    if isinstance(x, (list, tuple)):
        from minigrad.tensor import _to_array

        return _to_array(x)
    return x


def _kind(x, dtype) -> str:
    if dtype is not None:
        return dtype.kind
    return "b" if isinstance(x, bool) else "i" if isinstance(x, int) else "f" if isinstance(x, float) else "?"


def _cast(x, dtype):
    if isinstance(x, np.ndarray):
        return x.astype(dtype)
    if isinstance(x, np.generic):
        return dtype.type(x)
    return to_dtype(x, dtype)


def _promote(fn, a, b, da, db):
    """PyTorch's type promotion where NumPy's differs.

    * integer (or bool) with floating: the floating operand's dtype - or float32 for a
      Python float - where NumPy would give float64;
    * integer / integer: float32 (true division), where NumPy gives float64;
    * a 0-d floating tensor does not widen a dimensioned one (float32 tensor + float64
      0-d tensor stays float32).
    """
    ka, kb = _kind(a, da), _kind(b, db)
    ints = "biu"
    if ka in ints and kb in ints:
        if fn is Div:
            f32 = np.dtype(np.float32)
            return (a if da is None else _cast(a, f32)), (b if db is None else _cast(b, f32))
        return a, b
    if ka == "f" and kb in ints:
        return a, (b if db is None else _cast(b, da if da is not None else np.dtype(np.float32)))
    if kb == "f" and ka in ints:
        return (a if da is None else _cast(a, db if db is not None else np.dtype(np.float32))), b
    if ka == "f" and kb == "f" and da is not None and db is not None:
        na, nb = np.ndim(a.data if hasattr(a, "grad_fn") else a), np.ndim(b.data if hasattr(b, "grad_fn") else b)
        if na == 0 and nb > 0:
            return _cast(a, db), b
        if nb == 0 and na > 0:
            return a, _cast(b, da)
    return a, b


def _dim(dim: int, ndim: int) -> int:
    return normalize_dims(dim, ndim)[0]


def _as_vector(input, dim):
    """A 0-d tensor as shape (1,), for ops that take a ``dim``.

    PyTorch lets such ops treat a 0-d tensor as one dimension of size 1 (``dim``
    0 or -1); routing through a reshape keeps one implementation per op.
    """
    normalize_dims(dim, 0)  # raises for a dim other than 0 / -1
    return reshape(input, (1,))


def _broadcast_error(*operands) -> RuntimeError:
    """PyTorch's message for shapes that do not broadcast (checked from the last dimension)."""
    shapes = [np.shape(getattr(x, "data", x)) for x in operands]
    ndim = builtins.max(len(s) for s in shapes)
    padded = [(1,) * (ndim - len(s)) + tuple(s) for s in shapes]
    for i in range(ndim - 1, -1, -1):
        sizes = [s[i] for s in padded if s[i] != 1]
        if len(set(sizes)) > 1:
            a, b = sizes[0], next(n for n in sizes if n != sizes[0])
            return RuntimeError(
                f"The size of tensor a ({a}) must match the size of tensor b ({b}) at non-singleton dimension {i}"
            )
    return RuntimeError(f"shapes {shapes} cannot be broadcast together")


def _binary(fn, a, b):
    a, b = _operand(a), _operand(b)
    da, db = getattr(a, "dtype", None), getattr(b, "dtype", None)
    if da != db or (fn is Div and da is not None and da.kind in "biu"):
        # A floating tensor with a Python float keeps the tensor's dtype in NumPy too:
        # skip the promotion rules for this common case (x * 0.5).
        if not (db is None and type(b) is float and da is not None and da.kind == "f"):
            a, b = _promote(fn, a, b, da, db)
    try:
        return fn.apply(a, b)
    except ValueError:
        # NumPy's broadcasting error, raised as PyTorch raises it (a try block is free
        # in the common case, so this costs nothing when shapes agree).
        try:
            np.broadcast_shapes(np.shape(_data(_operand(a))), np.shape(_data(_operand(b))))
        except ValueError:
            raise _broadcast_error(a, b) from None
        raise


def _data(x):
    return getattr(x, "data", x)


# -- elementwise -------------------------------------------------------------------
def add(input, other):
    """Sum of two tensors.

    ``y = input + other``, elementwise, with broadcasting and PyTorch's type promotion.
    Vector-Jacobian product: ``ā = ȳ``, ``b̄ = ȳ`` (summed over broadcast dimensions by the engine).

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
    return _binary(Add, input, other)


def sub(input, other):
    """Difference of two tensors.

    ``y = input - other``, elementwise, with broadcasting and PyTorch's type promotion.
    Vector-Jacobian product: ``ā = ȳ``, ``b̄ = −ȳ``.

    Parameters
    ----------
    input : Tensor or number
    other : Tensor or number
        Broadcast against ``input``.

    Returns
    -------
    Tensor
    """
    return _binary(Sub, input, other)


def mul(input, other):
    """Product of two tensors.

    ``y = input * other``, elementwise, with broadcasting and PyTorch's type promotion.
    Vector-Jacobian product: ``ā = ȳ·b``, ``b̄ = ȳ·a``.

    Parameters
    ----------
    input : Tensor or number
    other : Tensor or number
        Broadcast against ``input``.

    Returns
    -------
    Tensor
    """
    return _binary(Mul, input, other)


def div(input, other):
    """True division (integers divide to float32, as in PyTorch).

    ``y = input / other``, elementwise, with broadcasting and PyTorch's type promotion.
    Vector-Jacobian product: ``ā = ȳ/b``, ``b̄ = −ȳ·a/b²``.

    Parameters
    ----------
    input : Tensor or number
    other : Tensor or number
        Broadcast against ``input``.

    Returns
    -------
    Tensor
    """
    return _binary(Div, input, other)


def neg(input):
    """Negation.

    ``y = −x``, elementwise. Vector-Jacobian product: ``x̄ = −ȳ``.

    Parameters
    ----------
    input : Tensor

    Returns
    -------
    Tensor
    """
    return Neg.apply(input)


def pow(input, exponent):
    """Power.

    ``y = input ** exponent``, elementwise, with broadcasting and PyTorch's type promotion.
    Vector-Jacobian product: ``ā = ȳ·b·a^(b−1)``, ``b̄ = ȳ·y·log(a)`` (0 where ``a = 0``).

    Parameters
    ----------
    input : Tensor or number
    exponent : Tensor or number
        Broadcast against ``input``.

    Returns
    -------
    Tensor
    """
    return _binary(Pow, input, exponent)


def exp(input):
    """Exponential.

    ``y = eˣ``, elementwise. Vector-Jacobian product: ``x̄ = ȳ·y``.

    Parameters
    ----------
    input : Tensor

    Returns
    -------
    Tensor
    """
    return Exp.apply(input)


def log(input):
    """Natural logarithm.

    ``y = log x``, elementwise. Vector-Jacobian product: ``x̄ = ȳ/x``.

    Parameters
    ----------
    input : Tensor

    Returns
    -------
    Tensor
    """
    return Log.apply(input)


def sqrt(input):
    """Square root.

    ``y = √x``, elementwise. Vector-Jacobian product: ``x̄ = ȳ/(2y)``.

    Parameters
    ----------
    input : Tensor

    Returns
    -------
    Tensor
    """
    return Sqrt.apply(input)


def abs(input):
    """Absolute value.

    ``y = |x|``, elementwise. Vector-Jacobian product: ``x̄ = ȳ·sign(x)`` (0 at 0, as in PyTorch).

    Parameters
    ----------
    input : Tensor

    Returns
    -------
    Tensor
    """
    return Abs.apply(input)


def tanh(input):
    """Hyperbolic tangent.

    ``y = tanh x``, elementwise. Vector-Jacobian product: ``x̄ = ȳ·(1 − y²)``.

    Parameters
    ----------
    input : Tensor

    Returns
    -------
    Tensor
    """
    return Tanh.apply(input)


def sigmoid(input):
    """Logistic sigmoid.

    ``y = 1/(1 + e⁻ˣ)``, elementwise. Vector-Jacobian product: ``x̄ = ȳ·y·(1 − y)``.

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
    return Sigmoid.apply(input)


def relu(input):
    """Rectified linear unit.

    ``y = max(x, 0)``, elementwise. Vector-Jacobian product: ``x̄ = ȳ·[x > 0]`` (0 at 0).

    Parameters
    ----------
    input : Tensor

    Returns
    -------
    Tensor
    """
    return ReLU.apply(input)


def clamp(input, min=None, max=None):
    """Clamp every element into ``[min, max]`` (``clip`` is the same function).

    ``y = min(max(x, min), max)``. Vector-Jacobian product: ``x̄ = ȳ`` where ``min ≤ x ≤ max``, else 0.

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
    return Clamp.apply(input, min, max)


clip = clamp


def maximum(input, other):
    """Elementwise maximum.

    ``y = max(input, other)``, elementwise, with broadcasting and PyTorch's type promotion.
    Vector-Jacobian product: ``ȳ`` goes to the larger input; on ties it is split equally, as in PyTorch.

    Parameters
    ----------
    input : Tensor or number
    other : Tensor or number
        Broadcast against ``input``.

    Returns
    -------
    Tensor
    """
    return _binary(Maximum, input, other)


def minimum(input, other):
    """Elementwise minimum.

    ``y = min(input, other)``, elementwise, with broadcasting and PyTorch's type promotion.
    Vector-Jacobian product: ``ȳ`` goes to the smaller input; on ties it is split equally, as in PyTorch.

    Parameters
    ----------
    input : Tensor or number
    other : Tensor or number
        Broadcast against ``input``.

    Returns
    -------
    Tensor
    """
    return _binary(Minimum, input, other)


def where(condition, input, other):
    """Pick from ``input`` where ``condition`` holds, else from ``other``.

    Vector-Jacobian product: ``ā = ȳ·[condition]``, ``b̄ = ȳ·[not condition]``.

    Parameters
    ----------
    condition : Tensor of bool
    input, other : Tensor or number
        All three broadcast together.

    Returns
    -------
    Tensor
    """
    try:
        return Where.apply(_operand(condition), _operand(input), _operand(other))
    except ValueError:
        shapes = [np.shape(_data(_operand(x))) for x in (condition, input, other)]
        try:
            np.broadcast_shapes(*shapes)
        except ValueError:
            raise _broadcast_error(condition, input, other) from None
        raise


def to_dtype(input, dtype):
    dtype = np.dtype(dtype)
    if input.dtype == dtype:
        return input  # as torch's .to(): the same tensor when nothing changes
    if dtype.kind not in "fc":
        # Integer and bool tensors cannot require grad: the result leaves the graph.
        return _tensor_cls()._make(input.data.astype(dtype), False, None)
    return ToDtype.apply(input, dtype)


def clone(input):
    """A copy that stays in the graph.

    ``y = x``, elementwise. Vector-Jacobian product: ``x̄ = ȳ``.

    Parameters
    ----------
    input : Tensor

    Returns
    -------
    Tensor
    """
    return Clone.apply(input)


# -- reductions --------------------------------------------------------------------
def sum(input, dim=None, keepdim: bool = False):
    """Sum of elements.

    ``y = Σ x`` over ``dim``.
    Vector-Jacobian product: ``x̄ = ȳ`` broadcast back over the reduced dimensions.

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
    return Sum.apply(input, normalize_dims(dim, input.ndim), keepdim)


def mean(input, dim=None, keepdim: bool = False):
    """Mean of elements (floating-point input only).

    ``y = Σ x / n`` over ``dim``.
    Vector-Jacobian product: ``x̄ = ȳ / n`` broadcast back.

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
    return Mean.apply(input, normalize_dims(dim, input.ndim), keepdim)


def _max_min(input, dim, keepdim, largest):
    if isinstance(dim, _tensor_cls()):  # torch.max(a, b) is the elementwise maximum
        return (maximum if largest else minimum)(input, dim)
    if input.numel() == 0:
        raise RuntimeError(f"{'max' if largest else 'min'}(): Expected reduction dim to be specified for input.numel() == 0.")
    if dim is None:
        return (Amax if largest else Amin).apply(input, normalize_dims(None, input.ndim), False)
    if input.ndim == 0:
        return _max_min(_as_vector(input, dim), 0, False, largest)
    d = _dim(dim, input.ndim)
    values = MaxDim.apply(input, d, keepdim, largest)
    arg = np.argmax(input.data, axis=d) if largest else np.argmin(input.data, axis=d)
    if keepdim:
        arg = np.expand_dims(arg, d)
    return MaxMin(values, _tensor_cls()._make(arg.astype(np.int64), False, None))


def max(input, dim=None, keepdim: bool = False):
    """Largest element; with ``dim`` a ``(values, indices)`` pair (first index on ties)."""
    return _max_min(input, dim, keepdim, True)


def min(input, dim=None, keepdim: bool = False):
    """Smallest element; with ``dim`` a ``(values, indices)`` pair (first index on ties)."""
    return _max_min(input, dim, keepdim, False)


def amax(input, dim=(), keepdim: bool = False):
    """Largest element along ``dim`` (values only).

    ``y = max x`` over ``dim``.
    Vector-Jacobian product: ``ȳ`` is shared equally among the tied maxima, as in PyTorch.

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
    return Amax.apply(input, normalize_dims(dim if dim != () else None, input.ndim), keepdim)


def amin(input, dim=(), keepdim: bool = False):
    """Smallest element along ``dim`` (values only).

    ``y = min x`` over ``dim``.
    Vector-Jacobian product: ``ȳ`` is shared equally among the tied minima, as in PyTorch.

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
    return Amin.apply(input, normalize_dims(dim if dim != () else None, input.ndim), keepdim)


def var(input, dim=None, correction: int = 1, keepdim: bool = False):
    """Variance with Bessel's ``correction``.

    ``y = Σ (x − x̄)² / (n − correction)`` over ``dim``.
    Vector-Jacobian product: ``x̄ = ȳ·2(x − mean)/(n − correction)``.

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
    return Var.apply(input, normalize_dims(dim, input.ndim), correction, keepdim)


def std(input, dim=None, correction: int = 1, keepdim: bool = False):
    """Standard deviation, ``sqrt(var(...))``.

    ``y = √var(x)`` over ``dim``.
    Vector-Jacobian product: through ``sqrt`` and ``var``.

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
    return sqrt(var(input, dim, correction, keepdim))


def logsumexp(input, dim, keepdim: bool = False):
    """Stable ``log Σ exp(x)``.

    ``y = m + log Σ exp(x − m)``, ``m = max x``, over ``dim``.
    Vector-Jacobian product: ``x̄ = ȳ·softmax(x)``.

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
    return LogSumExp.apply(input, normalize_dims(dim, input.ndim), keepdim)


def _arg_extremum(input, dim, keepdim, arg):
    """``arg`` (np.argmax or np.argmin) as an int64 tensor, over all elements when dim is None."""
    if dim is None or input.ndim == 0:
        if dim is not None:
            normalize_dims(dim, 0)  # a 0-d tensor takes dim 0 / -1 (its single element)
        out = np.asarray(arg(input.data), dtype=np.int64)
    else:
        out = arg(input.data, axis=_dim(dim, input.ndim), keepdims=keepdim).astype(np.int64)
    return _tensor_cls()._make(out, False, None)


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


def softmax(input, dim: int):
    """Softmax along ``dim``.

    ``y = exp(x − max x) / Σ exp(x − max x)``. Vector-Jacobian product: ``x̄ = y·(ȳ − Σ ȳ·y)``.

    Parameters
    ----------
    input : Tensor
    dim : int

    Returns
    -------
    Tensor

    Examples
    --------
    >>> import minigrad
    >>> minigrad.softmax(minigrad.tensor([0.0, 0.0]), dim=0)
    tensor([0.5000, 0.5000])
    """
    if input.ndim == 0:
        return reshape(softmax(_as_vector(input, dim), 0), ())
    return Softmax.apply(input, _dim(dim, input.ndim))


def log_softmax(input, dim: int):
    """Logarithm of the softmax along ``dim``, computed stably.

    ``y = x − logsumexp(x)``. Vector-Jacobian product: ``x̄ = ȳ − softmax(x)·Σ ȳ``.

    Parameters
    ----------
    input : Tensor
    dim : int

    Returns
    -------
    Tensor
    """
    if input.ndim == 0:
        return reshape(log_softmax(_as_vector(input, dim), 0), ())
    return LogSoftmax.apply(input, _dim(dim, input.ndim))


# -- linear algebra ----------------------------------------------------------------
def matmul(input, other):
    """Matrix product with NumPy/PyTorch broadcasting of batch dimensions.

    ``y = a @ b``. Vector-Jacobian product: ``ā = ȳ @ bᵀ``, ``b̄ = aᵀ @ ȳ`` (1-D operands are treated as a row or column vector).

    Parameters
    ----------
    input, other : Tensor

    Returns
    -------
    Tensor

    Examples
    --------
    >>> import minigrad
    >>> minigrad.matmul(minigrad.eye(2), minigrad.tensor([[1.0], [2.0]]))
    tensor([[1.],
            [2.]])
    """
    return MatMul.apply(_operand(input), _operand(other))


# -- shape -------------------------------------------------------------------------
def reshape(input, shape):
    """The same elements in a new shape (one dimension may be -1).

    Vector-Jacobian product: ``x̄ = ȳ`` reshaped back.

    Parameters
    ----------
    input : Tensor
    shape : tuple of int

    Returns
    -------
    Tensor
    """
    return Reshape.apply(input, tuple(int(s) for s in shape))


def flatten(input, start_dim: int = 0, end_dim: int = -1):
    """Merge dimensions ``start_dim..end_dim`` into one.

    Vector-Jacobian product: ``x̄ = ȳ`` reshaped back.

    Parameters
    ----------
    input : Tensor
    start_dim, end_dim : int

    Returns
    -------
    Tensor
    """
    if input.ndim == 0:
        return reshape(input, (1,))
    s, e = _dim(start_dim, input.ndim), _dim(end_dim, input.ndim)
    if s > e:
        raise RuntimeError("flatten() has invalid args: start_dim cannot come after end_dim")
    shape = input.shape
    return reshape(input, shape[:s] + (int(np.prod(shape[s : e + 1])),) + shape[e + 1 :])


def squeeze(input, dim=None):
    """Remove dimensions of size 1 (only ``dim`` when given).

    Vector-Jacobian product: ``x̄ = ȳ`` reshaped back.

    Parameters
    ----------
    input : Tensor
    dim : int or tuple of int, optional

    Returns
    -------
    Tensor
    """
    shape = input.shape
    if dim is None:
        return reshape(input, tuple(n for n in shape if n != 1))
    dims = normalize_dims(dim, input.ndim) if input.ndim else ()
    return reshape(input, tuple(n for i, n in enumerate(shape) if not (i in dims and n == 1)))


def unsqueeze(input, dim: int):
    """Insert a dimension of size 1 at ``dim``.

    Vector-Jacobian product: ``x̄ = ȳ`` reshaped back.

    Parameters
    ----------
    input : Tensor
    dim : int

    Returns
    -------
    Tensor
    """
    d = normalize_dims(dim, input.ndim + 1)[0]
    shape = input.shape
    return reshape(input, shape[:d] + (1,) + shape[d:])


def transpose(input, dim0: int, dim1: int):
    """Swap dimensions ``dim0`` and ``dim1``.

    Vector-Jacobian product: ``x̄ = ȳ`` with the same two dimensions swapped back.

    Parameters
    ----------
    input : Tensor
    dim0, dim1 : int

    Returns
    -------
    Tensor
    """
    if input.ndim == 0:
        return input
    dims = list(range(input.ndim))
    a, b = _dim(dim0, input.ndim), _dim(dim1, input.ndim)
    dims[a], dims[b] = dims[b], dims[a]
    return Permute.apply(input, tuple(dims))


def permute(input, dims):
    """Reorder the dimensions.

    Vector-Jacobian product: ``x̄ = ȳ`` permuted by the inverse permutation.

    Parameters
    ----------
    input : Tensor
    dims : tuple of int

    Returns
    -------
    Tensor
    """
    dims = tuple(int(d) for d in dims)
    if len(dims) != input.ndim:
        raise RuntimeError(
            f"permute(): number of dimensions in the tensor input does not match the length "
            f"of the desired ordering of dimensions i.e. input.dim() = {input.ndim} is not equal to len(dims) = {len(dims)}"
        )
    dims = tuple(_dim(d, input.ndim) for d in dims)
    if len(set(dims)) != len(dims):
        raise RuntimeError("permute(): duplicate dims are not allowed.")
    return Permute.apply(input, dims)


def expand(input, sizes):
    sizes = tuple(int(s) for s in sizes)
    lead = len(sizes) - input.ndim
    if lead < 0:
        raise RuntimeError(
            f"expand: the number of sizes provided ({len(sizes)}) must be greater or equal to the "
            f"number of dimensions in the tensor ({input.ndim})"
        )
    # -1 keeps the existing size, as in PyTorch.
    shape = tuple(input.shape[i - lead] if s == -1 else s for i, s in enumerate(sizes))
    return Expand.apply(input, shape)


def broadcast_to(input, shape):
    return expand(input, shape)


def cat(tensors, dim: int = 0):
    """Concatenate tensors along an existing dimension.

    Vector-Jacobian product: each input receives its slice of ``ȳ``.

    Parameters
    ----------
    tensors : sequence of Tensor
        Same shape except along ``dim``.
    dim : int, default 0

    Returns
    -------
    Tensor
    """
    tensors = list(tensors)
    if not tensors:
        raise RuntimeError("torch.cat(): expected a non-empty list of Tensors")
    for k, t in enumerate(tensors):
        if t.ndim == 0:
            raise RuntimeError(f"zero-dimensional tensor (at position {k}) cannot be concatenated")
    return Cat.apply(_dim(dim, tensors[0].ndim), *tensors)


def stack(tensors, dim: int = 0):
    """Stack tensors of equal shape along a new dimension.

    Vector-Jacobian product: each input receives its slice of ``ȳ``.

    Parameters
    ----------
    tensors : sequence of Tensor
    dim : int, default 0

    Returns
    -------
    Tensor
    """
    tensors = list(tensors)
    if not tensors:
        raise RuntimeError("stack expects a non-empty TensorList")
    shapes = {t.shape for t in tensors}
    if len(shapes) > 1:
        raise RuntimeError(f"stack expects each tensor to be equal size, but got {sorted(shapes)}")
    return Stack.apply(_dim(dim, tensors[0].ndim + 1), *tensors)


def split(input, split_size_or_sections, dim: int = 0):
    """Split into pieces along ``dim``.

    Each piece is a differentiable slice of the input.

    Parameters
    ----------
    input : Tensor
    split_size_or_sections : int or list of int
        The size of every piece (the last may be smaller), or the list of sizes.
    dim : int, default 0

    Returns
    -------
    tuple of Tensor
    """
    d = _dim(dim, input.ndim)
    n = input.shape[d]
    if isinstance(split_size_or_sections, int):
        step = split_size_or_sections
        sizes = [builtins.min(step, n - s) for s in range(0, n, step)] or [0]
    else:
        sizes = list(split_size_or_sections)
        if builtins.sum(sizes) != n:
            raise RuntimeError(
                f"split_with_sizes expects split_sizes to sum exactly to {n} (input tensor's size at "
                f"dimension {d}), but got split_sizes={sizes}"
            )
    out, start = [], 0
    for size in sizes:
        index = (slice(None),) * d + (slice(start, start + size),)
        out.append(getitem(input, index))
        start += size
    return tuple(out)


def chunk(input, chunks: int, dim: int = 0):
    """Split into ``chunks`` pieces of (nearly) equal size along ``dim``.

    Parameters
    ----------
    input : Tensor
    chunks : int
    dim : int, default 0

    Returns
    -------
    tuple of Tensor
    """
    n = input.shape[_dim(dim, input.ndim)]
    return split(input, builtins.max(1, -(-n // chunks)), dim)


# -- indexing ----------------------------------------------------------------------
def _index_arg(index):
    """Tensors and lists inside an index become arrays (NumPy does the rest)."""
    Tensor = _tensor_cls()
    if isinstance(index, tuple):
        return tuple(_index_arg(i) for i in index)
    if isinstance(index, Tensor):
        return index.data
    if isinstance(index, list):
        return np.asarray(index)
    return index


def getitem(input, index):
    return GetItem.apply(input, _index_arg(index))


def setitem(input, index, value) -> None:
    """``input[index] = value``, in place (differentiable for non-leaf ``input``)."""
    Tensor = _tensor_cls()
    index = _index_arg(index)
    input._check_inplace()
    value_req = isinstance(value, Tensor) and value.requires_grad
    from minigrad.autograd import is_grad_enabled

    if is_grad_enabled() and (input.requires_grad or value_req):
        input._inplace(IndexPut.apply(input._snapshot(value), index, value))
    else:
        v = np.asarray(value.data if isinstance(value, Tensor) else value)
        input.data[index] = fit_value(v, np.ndim(input.data[index]))
        input._bump_version()


def embedding(input, weight):
    """Rows of ``weight`` (V, D) at the integer positions ``input`` (any shape)."""
    idx = input.data if isinstance(input, _tensor_cls()) else np.asarray(input)
    return Embedding.apply(idx, weight)
