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
    Sigmoid, Sqrt, Sub, Tanh, ToDtype, Where, Sin, Cos,
)
from minigrad.ops.indexing import Embedding, GetItem, IndexPut, _is_advanced, fit_value
from minigrad.ops.linalg import MatMul
from minigrad.ops.reduction import Amax, Amin, LogSumExp, MaxDim, Mean, Std, Sum, Var, normalize_dims
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


# PyTorch's names of the dtypes, as its error messages spell them.
_TORCH_DTYPE_NAMES = {
    "bool": "Bool", "uint8": "Byte", "int8": "Char", "int16": "Short", "int32": "Int", "int64": "Long",
    "float16": "Half", "float32": "Float", "float64": "Double",
}


def torch_dtype_name(dtype) -> str:
    """``'Long'`` for int64, ``'Float'`` for float32, ...: the name in PyTorch's messages."""
    name = np.dtype(dtype).name
    return _TORCH_DTYPE_NAMES.get(name, name)


def _to_float(input):
    """An integer or bool tensor as float32 (PyTorch's default dtype), others unchanged.

    Ops whose result is floating for any input (exp, log, sqrt, tanh, sigmoid,
    logsumexp) promote integer inputs this way in PyTorch, instead of computing in
    integers (sigmoid of an int tensor is not a tensor of integer zeros).
    """
    if input.dtype.kind in "biu":
        return to_dtype(input, np.float32)
    return input


def floating_only(name: str, *tensors) -> None:
    """PyTorch has only floating-point kernels for ``name``: integer and bool inputs raise its
    ``NotImplementedError`` ('"softmax" not implemented for 'Long'') instead of computing garbage."""
    for t in tensors:
        if t is not None and t.dtype.kind in "biu":
            raise NotImplementedError(f'"{name}" not implemented for \'{torch_dtype_name(t.dtype)}\'')


def _no_bool(input, message: str, error=RuntimeError) -> None:
    if getattr(input, "dtype", None) == np.bool_ or isinstance(input, (bool, np.bool_)):
        raise error(message)


_BOOL_SUB = ("Subtraction, the `-` operator, with a bool tensor is not supported. "
             "If you are trying to invert a mask, use the `~` or `logical_not()` operator instead.")
_BOOL_SUB_BOTH = ("Subtraction, the `-` operator, with two bool tensors is not supported. "
                  "Use the `^` or `logical_xor()` operator instead.")


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
    a_bool = getattr(input, "dtype", None) == np.bool_ or isinstance(input, bool)
    b_bool = getattr(other, "dtype", None) == np.bool_ or isinstance(other, bool)
    if a_bool or b_bool:
        raise RuntimeError(_BOOL_SUB_BOTH if a_bool and b_bool else _BOOL_SUB)
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
    _no_bool(input, "Negation, the `-` operator, on a bool tensor is not supported. "
                    "If you are trying to invert a mask, use the `~` or `logical_not()` operator instead.")
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
    a, b = _operand(input), _operand(exponent)
    ka, kb = _kind(a, getattr(a, "dtype", None)), _kind(b, getattr(b, "dtype", None))
    if ka == "b" and kb == "b":
        raise NotImplementedError("\"pow\" not implemented for 'Bool'")
    if ka in "biu" and kb in "biu":  # integer power, computed in integers as PyTorch does
        if ka == "b":
            a = _cast(a, np.dtype(np.int64))
        if kb == "b":
            b = _cast(b, np.dtype(np.int64))
        if isinstance(b, (int, np.integer)) and b < 0:
            raise RuntimeError("Integers to negative integer powers are not allowed.")
        if np.any(np.asarray(_data(b)) < 0):
            return _integer_power(a, b)
    return _binary(Pow, a, b)


def _integer_power(a, b):
    """a ** b for integer tensors with negative exponents: 1, ±1 for bases ±1, else 0 (PyTorch's
    integer rule; NumPy refuses). Integers are not differentiable, so no graph is recorded."""
    base, e = np.broadcast_arrays(np.asarray(_data(a)), np.asarray(_data(b)))
    dtype = np.result_type(base, e)
    neg = e < 0
    r = np.power(base, np.where(neg, 0, e)).astype(dtype, copy=False)
    ones = np.where(base == -1, np.where(e % 2 == 0, 1, -1), np.where(base == 1, 1, 0))
    return _tensor_cls()._make(np.where(neg, ones, r).astype(dtype, copy=False), False, None)


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
    return Exp.apply(_to_float(input))


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
    return Log.apply(_to_float(input))


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
    return Sqrt.apply(_to_float(input))


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
    _no_bool(input, "\"abs_cpu\" not implemented for 'Bool'", NotImplementedError)
    return Abs.apply(input)


def sin(input):
    """Sine.

    ``y = sin x``, elementwise. Vector-Jacobian product: ``x̄ = ȳ·cos x``.

    Parameters
    ----------
    input : Tensor

    Returns
    -------
    Tensor
    """
    return Sin.apply(_to_float(input))


def cos(input):
    """Cosine.

    ``y = cos x``, elementwise. Vector-Jacobian product: ``x̄ = −ȳ·sin x``.

    Parameters
    ----------
    input : Tensor

    Returns
    -------
    Tensor
    """
    return Cos.apply(_to_float(input))


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
    return Tanh.apply(_to_float(input))


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
    return Sigmoid.apply(_to_float(input))


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
    _no_bool(input, "Boolean inputs not supported for relu")
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
    if input.dtype.kind in "biu":
        # PyTorch's promotion: a floating bound makes the result float32; bool input becomes int64
        if isinstance(min, float) or isinstance(max, float):
            input = to_dtype(input, np.float32)
        elif input.dtype == np.bool_:
            input = to_dtype(input, np.int64)
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
    if input.dtype.kind in "biu" and input.dtype != np.int64:
        input = to_dtype(input, np.int64)  # PyTorch sums every integer and bool dtype in int64
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
    if input.dtype.kind in "biu":
        raise RuntimeError("std and var only support floating point and complex dtypes")
    return Var.apply(input, normalize_dims(dim, input.ndim), correction, keepdim)


def std(input, dim=None, correction: int = 1, keepdim: bool = False):
    """Standard deviation, ``sqrt(var(...))``.

    ``y = √var(x)`` over ``dim``, one op (finite for float32 values whose variance overflows).
    Vector-Jacobian product: ``x̄ = ȳ·(x − mean)/((n − correction)·y)``.

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
    return Std.apply(input, normalize_dims(dim, input.ndim), correction, keepdim)


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
    return LogSumExp.apply(_to_float(input), normalize_dims(dim, input.ndim), keepdim)


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
    floating_only("softmax", input)
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
    floating_only("log_softmax", input)
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
    a, b = _operand(input), _operand(other)
    da, db = getattr(a, "dtype", None), getattr(b, "dtype", None)
    if da is not None and db is not None:
        _no_bool(a, "\"addmm_impl_cpu_\" not implemented for 'Bool'", NotImplementedError)
        _no_bool(b, "\"addmm_impl_cpu_\" not implemented for 'Bool'", NotImplementedError)
        if da != db:  # PyTorch does not promote in matmul
            c_name = {"float64": "double", "float32": "float", "float16": "c10::Half", "int64": "long int",
                      "int32": "int", "int16": "short int", "int8": "signed char", "uint8": "unsigned char",
                      "bool": "bool"}
            raise RuntimeError(f"expected m1 and m2 to have the same dtype, but got: "
                               f"{c_name.get(da.name, da.name)} != {c_name.get(db.name, db.name)}")
    return MatMul.apply(a, b)


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
        if step < 0:
            raise RuntimeError(f"split expects split_size be non-negative, but got split_size={step}")
        if step == 0:
            if n:
                raise RuntimeError(f"split_size can only be 0 if dimension size is 0, but got dimension size of {n}")
            return (input,)
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
    if chunks <= 0:
        raise RuntimeError(f"chunk expects `chunks` to be greater than 0, got: {chunks}")
    n = input.shape[_dim(dim, input.ndim)]
    return split(input, builtins.max(1, -(-n // chunks)), dim)


# -- indexing ----------------------------------------------------------------------
def _index_arg(index):
    """Lists inside an index become arrays (NumPy does the rest). Tensors stay
    tensors: ``apply`` hands their arrays to the op and version-checks them."""
    if isinstance(index, tuple):
        return tuple(_index_arg(i) for i in index)
    if isinstance(index, list):
        return np.asarray(index)
    return index


def _index_data(index):
    """An index with the arrays of its tensors, for NumPy."""
    if isinstance(index, tuple):
        return tuple(_data(i) for i in index)
    return _data(index)


def getitem(input, index):
    return GetItem.apply(input, _index_arg(index))


def setitem(input, index, value) -> None:
    """``input[index] = value``, in place (differentiable for non-leaf ``input``)."""
    Tensor = _tensor_cls()
    index = _index_arg(index)
    input._check_inplace()
    if isinstance(value, Tensor) and value.dtype != input.dtype and _is_advanced(index):
        raise RuntimeError(
            f"Index put requires the source and destination dtypes match, got {torch_dtype_name(input.dtype)} "
            f"for the destination and {torch_dtype_name(value.dtype)} for the source."
        )
    value_req = isinstance(value, Tensor) and value.requires_grad
    from minigrad.autograd import is_grad_enabled

    if is_grad_enabled() and (input.requires_grad or value_req):
        input._inplace(IndexPut.apply(input._snapshot(value), index, value))
    else:
        v = np.asarray(value.data if isinstance(value, Tensor) else value)
        index = _index_data(index)
        input.data[index] = fit_value(v, np.ndim(input.data[index]))
        input._bump_version()


def embedding(input, weight):
    """Rows of ``weight`` (V, D) at the integer positions ``input`` (any shape)."""
    idx = input.data if isinstance(input, _tensor_cls()) else np.asarray(input)
    return Embedding.apply(idx, weight)
