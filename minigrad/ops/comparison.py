"""Comparisons and tests of values: ``eq ne lt le gt ge``, ``isclose``, ``allclose``, ``equal``,
``isnan isinf isfinite``, and the logical reductions ``all``/``any``.

None is differentiable: each gives a bool tensor (or a Python bool) computed on the
arrays, outside the graph, as PyTorch's do. Operands broadcast and promote as in NumPy,
which agrees with PyTorch for comparisons; shapes that do not broadcast raise PyTorch's
message.
"""
from __future__ import annotations

import numpy as np

from minigrad.autograd import function
from minigrad.ops._promotion import broadcast_error, data_of, normalize_dims, operand, torch_dtype_name

__all__ = ["eq", "ne", "lt", "le", "gt", "ge", "isclose", "allclose", "equal", "isnan", "isinf", "isfinite",
           "all", "any"]


def _constant(a: np.ndarray):
    return function.Tensor._make(np.asarray(a), False, None)


def _compare(ufunc, input, other):
    b = other._array if isinstance(other, function.Tensor) else operand(other)
    try:
        return function.Tensor._make(np.asarray(ufunc(data_of(input), b)), False, None)
    except ValueError:
        raise broadcast_error(input, other) from None


def eq(input, other):
    """``input == other``, elementwise: a bool tensor.

    Examples
    --------
    >>> import minigrad
    >>> minigrad.eq(minigrad.tensor([1, 2]), 2)
    tensor([False,  True])
    """
    return _compare(np.equal, input, other)


def ne(input, other):
    """``input != other``, elementwise: a bool tensor."""
    return _compare(np.not_equal, input, other)


def lt(input, other):
    """``input < other``, elementwise: a bool tensor."""
    return _compare(np.less, input, other)


def le(input, other):
    """``input <= other``, elementwise: a bool tensor."""
    return _compare(np.less_equal, input, other)


def gt(input, other):
    """``input > other``, elementwise: a bool tensor."""
    return _compare(np.greater, input, other)


def ge(input, other):
    """``input >= other``, elementwise: a bool tensor."""
    return _compare(np.greater_equal, input, other)


def _same_dtype(input, other) -> None:
    if input.dtype != other.dtype:
        raise RuntimeError(f"{torch_dtype_name(input.dtype)} did not match {torch_dtype_name(other.dtype)}")


def isclose(input, other, rtol: float = 1e-05, atol: float = 1e-08, equal_nan: bool = False):
    """``|input − other| ≤ atol + rtol·|other|``, elementwise: a bool tensor (the two of one dtype).

    Examples
    --------
    >>> import minigrad
    >>> minigrad.isclose(minigrad.tensor([1.0, 2.0]), minigrad.tensor([1.0 + 1e-9, 2.1]))
    tensor([ True, False])
    """
    _same_dtype(input, other)
    try:
        return _constant(np.isclose(input._array, other._array, rtol=rtol, atol=atol, equal_nan=equal_nan))
    except ValueError:
        raise broadcast_error(input, other) from None


def allclose(input, other, rtol: float = 1e-05, atol: float = 1e-08, equal_nan: bool = False) -> bool:
    """Whether :func:`isclose` holds everywhere: a Python bool.

    Examples
    --------
    >>> import minigrad
    >>> minigrad.allclose(minigrad.tensor([1.0, 2.0]), minigrad.tensor([1.0, 2.0 + 1e-7]))
    True
    """
    return bool(isclose(input, other, rtol, atol, equal_nan)._array.all())


def equal(input, other) -> bool:
    """Whether the two have the same shape and the same values: a Python bool (NaN equals nothing)."""
    a, b = data_of(input), data_of(other)
    return np.shape(a) == np.shape(b) and bool(np.all(np.equal(a, b)))


def isnan(input):
    """Where the elements are NaN: a bool tensor (all False for integers)."""
    return _constant(np.isnan(input._array))


def isinf(input):
    """Where the elements are +inf or −inf: a bool tensor."""
    return _constant(np.isinf(input._array))


def isfinite(input):
    """Where the elements are neither infinite nor NaN: a bool tensor."""
    return _constant(np.isfinite(input._array))


def _logical(reduce, input, dim, keepdim):
    x = input._array
    axes = None if dim is None else normalize_dims(dim, x.ndim)
    out = reduce(x, axis=axes, keepdims=keepdim)
    # uint8 inputs give uint8 results (PyTorch keeps that for compatibility); everything else bool
    return _constant(np.asarray(out, dtype=np.uint8 if x.dtype == np.uint8 else np.bool_))


def all(input, dim=None, keepdim: bool = False):
    """Whether every element (along ``dim``, an int or a tuple) is nonzero: a bool tensor.

    Examples
    --------
    >>> import minigrad
    >>> minigrad.all(minigrad.tensor([[1.0, 0.0], [2.0, 3.0]]), dim=1)
    tensor([False,  True])
    """
    return _logical(np.all, input, dim, keepdim)


def any(input, dim=None, keepdim: bool = False):
    """Whether some element (along ``dim``, an int or a tuple) is nonzero: a bool tensor."""
    return _logical(np.any, input, dim, keepdim)

