"""Tensor factories, named and shaped as in PyTorch (``zeros(2, 3)`` and ``zeros((2, 3))`` both work)."""
from __future__ import annotations

import numpy as np

from minigrad.random import _generator
from minigrad.tensor import Tensor, _DEFAULT_FLOAT, _check_can_require_grad, _shape_arg


def _new(arr: np.ndarray, requires_grad: bool) -> Tensor:
    if requires_grad:
        _check_can_require_grad(arr)
    return Tensor._make(arr, bool(requires_grad), None)


def _float(dtype):
    return _DEFAULT_FLOAT if dtype is None else np.dtype(dtype)


def tensor(data, dtype=None, requires_grad: bool = False) -> Tensor:
    """A new tensor holding a copy of ``data`` (Python floats → float32; arrays keep their dtype)."""
    return Tensor(data, dtype=dtype, requires_grad=requires_grad)


def as_tensor(data, dtype=None) -> Tensor:
    """Like :func:`tensor` but shares memory with a NumPy array when it can."""
    if isinstance(data, Tensor) and (dtype is None or data.dtype == dtype):
        return data
    if isinstance(data, np.ndarray):
        return Tensor._make(data if dtype is None else data.astype(dtype, copy=False), False, None)
    return Tensor(data, dtype=dtype)


def from_numpy(arr: np.ndarray) -> Tensor:
    """A tensor sharing memory with ``arr``."""
    return Tensor._make(arr, False, None)


def zeros(*size, dtype=None, requires_grad: bool = False) -> Tensor:
    """A tensor filled with 0.

    Parameters
    ----------
    *size : int or tuple of int
    dtype : dtype, optional
        Default float32.
    requires_grad : bool, default False

    Returns
    -------
    Tensor

    Examples
    --------
    >>> import minigrad
    >>> minigrad.zeros(2, 3).shape
    (2, 3)
    """
    return _new(np.zeros(_shape_arg(size), dtype=_float(dtype)), requires_grad)


def ones(*size, dtype=None, requires_grad: bool = False) -> Tensor:
    """A tensor filled with 1.

    Parameters
    ----------
    *size : int or tuple of int
    dtype : dtype, optional
        Default float32.
    requires_grad : bool, default False

    Returns
    -------
    Tensor
    """
    return _new(np.ones(_shape_arg(size), dtype=_float(dtype)), requires_grad)


def empty(*size, dtype=None, requires_grad: bool = False) -> Tensor:
    """An uninitialised tensor (its values are arbitrary).

    Parameters
    ----------
    *size : int or tuple of int
    dtype : dtype, optional
        Default float32.
    requires_grad : bool, default False

    Returns
    -------
    Tensor
    """
    return _new(np.empty(_shape_arg(size), dtype=_float(dtype)), requires_grad)


def full(size, fill_value, dtype=None, requires_grad: bool = False) -> Tensor:
    """A tensor filled with ``fill_value``.

    Parameters
    ----------
    size : tuple of int
    fill_value : number
    dtype : dtype, optional
        Inferred from ``fill_value`` as in PyTorch when omitted.
    requires_grad : bool, default False

    Returns
    -------
    Tensor
    """
    if dtype is None:
        dtype = np.bool_ if isinstance(fill_value, bool) else np.int64 if isinstance(fill_value, int) else _DEFAULT_FLOAT
    return _new(np.full(tuple(size), fill_value, dtype=dtype), requires_grad)


def zeros_like(input, dtype=None, requires_grad: bool = False) -> Tensor:
    """Zeros with the shape (and, by default, the dtype) of ``input``.

    Parameters
    ----------
    input : Tensor
    dtype : dtype, optional
    requires_grad : bool, default False

    Returns
    -------
    Tensor
    """
    return _new(np.zeros(input.shape, dtype=input.dtype if dtype is None else dtype), requires_grad)


def ones_like(input, dtype=None, requires_grad: bool = False) -> Tensor:
    """Ones with the shape (and, by default, the dtype) of ``input``.

    Parameters
    ----------
    input : Tensor
    dtype : dtype, optional
    requires_grad : bool, default False

    Returns
    -------
    Tensor
    """
    return _new(np.ones(input.shape, dtype=input.dtype if dtype is None else dtype), requires_grad)


def full_like(input, fill_value, dtype=None, requires_grad: bool = False) -> Tensor:
    """``fill_value`` with the shape (and, by default, the dtype) of ``input``.

    Parameters
    ----------
    input : Tensor
    fill_value : number
    dtype : dtype, optional
    requires_grad : bool, default False

    Returns
    -------
    Tensor
    """
    return _new(np.full(input.shape, fill_value, dtype=input.dtype if dtype is None else dtype), requires_grad)


def rand_like(input, dtype=None, requires_grad: bool = False) -> Tensor:
    """U[0, 1) samples with the shape of ``input``, from minigrad's generator.

    Parameters
    ----------
    input : Tensor
    dtype : dtype, optional
    requires_grad : bool, default False

    Returns
    -------
    Tensor
    """
    return rand(input.shape, dtype=input.dtype if dtype is None else dtype, requires_grad=requires_grad)


def randn_like(input, dtype=None, requires_grad: bool = False) -> Tensor:
    """N(0, 1) samples with the shape of ``input``, from minigrad's generator.

    Parameters
    ----------
    input : Tensor
    dtype : dtype, optional
    requires_grad : bool, default False

    Returns
    -------
    Tensor
    """
    return randn(input.shape, dtype=input.dtype if dtype is None else dtype, requires_grad=requires_grad)


def arange(start, end=None, step=1, dtype=None, requires_grad: bool = False) -> Tensor:
    """Values in [start, end) spaced by ``step``; int64 for integer arguments, float32 otherwise."""
    if end is None:
        start, end = 0, start
    if dtype is None:
        ints = all(isinstance(v, (int, np.integer)) for v in (start, end, step))
        dtype = np.int64 if ints else _DEFAULT_FLOAT
    return _new(np.arange(start, end, step).astype(dtype), requires_grad)


def linspace(start, end, steps: int, dtype=None, requires_grad: bool = False) -> Tensor:
    """``steps`` evenly spaced values from ``start`` to ``end``, both included.

    Parameters
    ----------
    start, end : float
    steps : int
    dtype : dtype, optional
        Default float32.
    requires_grad : bool, default False

    Returns
    -------
    Tensor

    Examples
    --------
    >>> import minigrad
    >>> minigrad.linspace(0, 1, 5)
    tensor([0.0000, 0.2500, 0.5000, 0.7500, 1.0000])
    """
    return _new(np.linspace(start, end, steps).astype(_float(dtype)), requires_grad)


def eye(n: int, m: int | None = None, dtype=None, requires_grad: bool = False) -> Tensor:
    """The identity matrix (``n`` × ``m``, square by default).

    Parameters
    ----------
    n : int
    m : int, optional
    dtype : dtype, optional
        Default float32.
    requires_grad : bool, default False

    Returns
    -------
    Tensor
    """
    return _new(np.eye(n, m, dtype=_float(dtype)), requires_grad)


def rand(*size, dtype=None, requires_grad: bool = False) -> Tensor:
    """U[0, 1) samples from minigrad's generator."""
    return _new(_generator().random(_shape_arg(size)).astype(_float(dtype)), requires_grad)


def randn(*size, dtype=None, requires_grad: bool = False) -> Tensor:
    """N(0, 1) samples from minigrad's generator."""
    return _new(_generator().standard_normal(_shape_arg(size)).astype(_float(dtype)), requires_grad)


def randint(low, high=None, size=None, dtype=None, requires_grad: bool = False) -> Tensor:
    """Integers uniform in [low, high); ``randint(high, size)`` as in PyTorch."""
    if size is None:
        if isinstance(high, (tuple, list)):  # randint(high, size)
            low, high, size = 0, low, high
        else:
            size = ()
    if high is None:
        low, high = 0, low
    arr = _generator().integers(low, high, size=tuple(size)).astype(np.int64 if dtype is None else dtype)
    return _new(arr, requires_grad)


def randperm(n: int, dtype=None) -> Tensor:
    """A random permutation of ``0..n-1`` from minigrad's generator.

    Parameters
    ----------
    n : int
    dtype : dtype, optional
        Default int64.

    Returns
    -------
    Tensor
    """
    return _new(_generator().permutation(n).astype(np.int64 if dtype is None else dtype), False)
