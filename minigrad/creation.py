"""Tensor factories, named and shaped as in PyTorch (``zeros(2, 3)`` and ``zeros((2, 3))`` both work)."""
from __future__ import annotations

import numpy as np

from minigrad.devices import _check_device
from minigrad.random import _numpy_generator
from minigrad.tensor import Tensor, _DEFAULT_FLOAT, _check_can_require_grad, _shape_arg


def _new(arr: np.ndarray, requires_grad: bool) -> Tensor:
    if requires_grad:
        _check_can_require_grad(arr)
    return Tensor._make(arr, bool(requires_grad), None)


def _float(dtype):
    return _DEFAULT_FLOAT if dtype is None else np.dtype(dtype)


def tensor(data, dtype=None, device=None, requires_grad: bool = False) -> Tensor:
    """A new tensor holding a copy of ``data`` (Python floats → float32; arrays keep their dtype)."""
    _check_device(device)
    return Tensor(data, dtype=dtype, requires_grad=requires_grad)


def as_tensor(data, dtype=None, device=None) -> Tensor:
    """Like :func:`tensor` but shares memory with a NumPy array when it can."""
    _check_device(device)
    if isinstance(data, Tensor) and (dtype is None or data.dtype == dtype):
        return data
    if isinstance(data, np.ndarray):
        return Tensor._make(data if dtype is None else data.astype(dtype, copy=False), False, None)
    return Tensor(data, dtype=dtype)


def from_numpy(arr: np.ndarray) -> Tensor:
    """A tensor sharing memory with ``arr``."""
    return Tensor._make(arr, False, None)


def zeros(*size, dtype=None, device=None, requires_grad: bool = False) -> Tensor:
    """A tensor filled with 0.

    Parameters
    ----------
    *size : int or tuple of int
    dtype : dtype, optional
        Default float32.
    device : str or device, optional
        Only the CPU exists (see :class:`minigrad.device`).
    requires_grad : bool, default False

    Returns
    -------
    Tensor

    Examples
    --------
    >>> import minigrad
    >>> minigrad.zeros(2, 3).shape
    minigrad.Size([2, 3])
    """
    _check_device(device)
    return _new(np.zeros(_shape_arg(size), dtype=_float(dtype)), requires_grad)


def ones(*size, dtype=None, device=None, requires_grad: bool = False) -> Tensor:
    """A tensor filled with 1.

    Parameters
    ----------
    *size : int or tuple of int
    dtype : dtype, optional
        Default float32.
    device : str or device, optional
        Only the CPU exists (see :class:`minigrad.device`).
    requires_grad : bool, default False

    Returns
    -------
    Tensor
    """
    _check_device(device)
    return _new(np.ones(_shape_arg(size), dtype=_float(dtype)), requires_grad)


def empty(*size, dtype=None, device=None, requires_grad: bool = False) -> Tensor:
    """An uninitialised tensor (its values are arbitrary).

    Parameters
    ----------
    *size : int or tuple of int
    dtype : dtype, optional
        Default float32.
    device : str or device, optional
        Only the CPU exists (see :class:`minigrad.device`).
    requires_grad : bool, default False

    Returns
    -------
    Tensor
    """
    _check_device(device)
    return _new(np.empty(_shape_arg(size), dtype=_float(dtype)), requires_grad)


def full(size, fill_value, dtype=None, device=None, requires_grad: bool = False) -> Tensor:
    """A tensor filled with ``fill_value``.

    Parameters
    ----------
    size : tuple of int
    fill_value : number
    dtype : dtype, optional
        Inferred from ``fill_value`` as in PyTorch when omitted.
    device : str or device, optional
        Only the CPU exists (see :class:`minigrad.device`).
    requires_grad : bool, default False

    Returns
    -------
    Tensor
    """
    _check_device(device)
    if dtype is None:
        dtype = np.bool_ if isinstance(fill_value, bool) else np.int64 if isinstance(fill_value, int) else _DEFAULT_FLOAT
    return _new(np.full(tuple(size), fill_value, dtype=dtype), requires_grad)


def zeros_like(input, dtype=None, device=None, requires_grad: bool = False) -> Tensor:
    """Zeros with the shape (and, by default, the dtype) of ``input``.

    Parameters
    ----------
    input : Tensor
    dtype : dtype, optional
    device : str or device, optional
        Only the CPU exists (see :class:`minigrad.device`).
    requires_grad : bool, default False

    Returns
    -------
    Tensor
    """
    _check_device(device)
    return _new(np.zeros(input.shape, dtype=input.dtype if dtype is None else dtype), requires_grad)


def ones_like(input, dtype=None, device=None, requires_grad: bool = False) -> Tensor:
    """Ones with the shape (and, by default, the dtype) of ``input``.

    Parameters
    ----------
    input : Tensor
    dtype : dtype, optional
    device : str or device, optional
        Only the CPU exists (see :class:`minigrad.device`).
    requires_grad : bool, default False

    Returns
    -------
    Tensor
    """
    _check_device(device)
    return _new(np.ones(input.shape, dtype=input.dtype if dtype is None else dtype), requires_grad)


def full_like(input, fill_value, dtype=None, device=None, requires_grad: bool = False) -> Tensor:
    """``fill_value`` with the shape (and, by default, the dtype) of ``input``.

    Parameters
    ----------
    input : Tensor
    fill_value : number
    dtype : dtype, optional
    device : str or device, optional
        Only the CPU exists (see :class:`minigrad.device`).
    requires_grad : bool, default False

    Returns
    -------
    Tensor
    """
    _check_device(device)
    return _new(np.full(input.shape, fill_value, dtype=input.dtype if dtype is None else dtype), requires_grad)


def rand_like(input, *, generator=None, dtype=None, device=None, requires_grad: bool = False) -> Tensor:
    """U[0, 1) samples with the shape of ``input``.

    Parameters
    ----------
    input : Tensor
    generator : Generator, optional
        Draw from this generator instead of the default one.
    dtype : dtype, optional
    device : str or device, optional
        Only the CPU exists (see :class:`minigrad.device`).
    requires_grad : bool, default False

    Returns
    -------
    Tensor
    """
    dtype = input.dtype if dtype is None else dtype
    return rand(input.shape, generator=generator, dtype=dtype, device=device, requires_grad=requires_grad)


def randn_like(input, *, generator=None, dtype=None, device=None, requires_grad: bool = False) -> Tensor:
    """N(0, 1) samples with the shape of ``input``.

    Parameters
    ----------
    input : Tensor
    generator : Generator, optional
        Draw from this generator instead of the default one.
    dtype : dtype, optional
    device : str or device, optional
        Only the CPU exists (see :class:`minigrad.device`).
    requires_grad : bool, default False

    Returns
    -------
    Tensor
    """
    dtype = input.dtype if dtype is None else dtype
    return randn(input.shape, generator=generator, dtype=dtype, device=device, requires_grad=requires_grad)


def _check_range(start, end, step) -> None:
    """PyTorch's errors for an arange it cannot make (not NumPy's ZeroDivisionError or ValueError)."""
    if step == 0:
        raise RuntimeError("step must be nonzero")
    if not (np.isfinite(start) and np.isfinite(end)):
        raise RuntimeError(f"unsupported range: {start} -> {end}")
    if (step > 0 and end < start) or (step < 0 and end > start):
        raise RuntimeError("upper bound and lower bound inconsistent with step sign")


def arange(start, end=None, step=1, dtype=None, device=None, requires_grad: bool = False) -> Tensor:
    """Values in [start, end) spaced by ``step``; int64 for integer arguments, float32 otherwise."""
    _check_device(device)
    if end is None:
        start, end = 0, start
    _check_range(start, end, step)
    if dtype is None:
        ints = all(isinstance(v, (int, np.integer)) for v in (start, end, step))
        dtype = np.int64 if ints else _DEFAULT_FLOAT
    return _new(np.arange(start, end, step).astype(dtype), requires_grad)


def linspace(start, end, steps: int, dtype=None, device=None, requires_grad: bool = False) -> Tensor:
    """``steps`` evenly spaced values from ``start`` to ``end``, both included.

    Parameters
    ----------
    start, end : float
    steps : int
    dtype : dtype, optional
        Default float32.
    device : str or device, optional
        Only the CPU exists (see :class:`minigrad.device`).
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
    _check_device(device)
    return _new(np.linspace(start, end, steps).astype(_float(dtype)), requires_grad)


def eye(n: int, m: int | None = None, dtype=None, device=None, requires_grad: bool = False) -> Tensor:
    """The identity matrix (``n`` × ``m``, square by default).

    Parameters
    ----------
    n : int
    m : int, optional
    dtype : dtype, optional
        Default float32.
    device : str or device, optional
        Only the CPU exists (see :class:`minigrad.device`).
    requires_grad : bool, default False

    Returns
    -------
    Tensor
    """
    _check_device(device)
    return _new(np.eye(n, m, dtype=_float(dtype)), requires_grad)


def rand(*size, generator=None, dtype=None, device=None, requires_grad: bool = False) -> Tensor:
    """U[0, 1) samples, from ``generator`` or the default generator."""
    _check_device(device)
    return _new(_numpy_generator(generator).random(_shape_arg(size)).astype(_float(dtype)), requires_grad)


def randn(*size, generator=None, dtype=None, device=None, requires_grad: bool = False) -> Tensor:
    """N(0, 1) samples, from ``generator`` or the default generator."""
    _check_device(device)
    return _new(_numpy_generator(generator).standard_normal(_shape_arg(size)).astype(_float(dtype)), requires_grad)


def randint(low, high=None, size=None, *, generator=None, dtype=None, device=None, requires_grad: bool = False) -> Tensor:
    """Integers uniform in [low, high); ``randint(high, size)`` as in PyTorch."""
    _check_device(device)
    if size is None:
        if isinstance(high, (tuple, list)):  # randint(high, size)
            low, high, size = 0, low, high
        else:
            size = ()
    if high is None:
        low, high = 0, low
    arr = _numpy_generator(generator).integers(low, high, size=tuple(size)).astype(np.int64 if dtype is None else dtype)
    return _new(arr, requires_grad)


def randperm(n: int, *, generator=None, dtype=None, device=None, requires_grad: bool = False) -> Tensor:
    """A random permutation of ``0..n-1``, from ``generator`` or the default generator.

    Parameters
    ----------
    n : int
    generator : Generator, optional
        Draw from this generator instead of the default one.
    dtype : dtype, optional
        Default int64.
    device : str or device, optional
        Only the CPU exists (see :class:`minigrad.device`).
    requires_grad : bool, default False

    Returns
    -------
    Tensor
    """
    _check_device(device)
    return _new(_numpy_generator(generator).permutation(n).astype(np.int64 if dtype is None else dtype), requires_grad)


def multinomial(input, num_samples: int, replacement: bool = False, *, generator=None) -> Tensor:
    """Draw category indices with probability proportional to the rows of ``input``.

    Not differentiable (the result is an index tensor).

    Parameters
    ----------
    input : Tensor
        1-D (one distribution) or 2-D (one per row) non-negative float weights;
        they need not sum to 1.
    num_samples : int
        Draws per distribution.
    replacement : bool, default False
        Without replacement each category is drawn at most once per row, in
        the order of a sequential draw; once the positive-weight categories are
        used up, zero-weight ones follow in random order (as in PyTorch).
    generator : Generator, optional
        Draw from this generator instead of the default one.

    Returns
    -------
    Tensor
        int64, shape ``(num_samples,)`` or ``(rows, num_samples)``.

    Examples
    --------
    >>> import minigrad
    >>> g = minigrad.Generator().manual_seed(0)
    >>> minigrad.multinomial(minigrad.tensor([0.0, 1.0, 0.0]), 4, replacement=True, generator=g)
    tensor([1, 1, 1, 1])
    >>> sorted(minigrad.multinomial(minigrad.tensor([1.0, 2.0, 3.0]), 3, generator=g).tolist())
    [0, 1, 2]
    """
    if isinstance(num_samples, bool) or not isinstance(num_samples, (int, np.integer)):
        raise TypeError(
            f"multinomial(): argument 'num_samples' (position 2) must be int, not {type(num_samples).__name__}"
        )
    probs = input._array if isinstance(input, Tensor) else np.asarray(input)
    if probs.dtype.kind != "f":
        raise RuntimeError(f"multinomial only supports floating-point dtypes for input, got: {probs.dtype}")
    if probs.ndim not in (1, 2):
        raise RuntimeError("prob_dist must be 1 or 2 dim")
    if num_samples <= 0:
        raise RuntimeError("cannot sample n_sample <= 0 samples")
    if not replacement and num_samples > probs.shape[-1]:
        raise RuntimeError("cannot sample n_sample > prob_dist.size(-1) samples without replacement")
    rows = probs.reshape(-1, probs.shape[-1]).astype(np.float64)
    if not np.isfinite(rows).all() or (rows < 0).any():
        raise RuntimeError("probability tensor contains either `inf`, `nan` or element < 0")
    if rows.shape[0] and (rows.sum(axis=1) <= 0).any():
        raise RuntimeError("invalid multinomial distribution (sum of probabilities <= 0)")
    rng = _numpy_generator(generator)
    if replacement:
        # Inverse CDF: u in [cdf[k-1], cdf[k]) picks k, an empty interval for a zero weight.
        cdf = np.cumsum(rows, axis=1)
        u = rng.random((rows.shape[0], num_samples)) * cdf[:, -1:]
        out = np.empty(u.shape, dtype=np.int64)
        for i in range(rows.shape[0]):
            out[i] = np.searchsorted(cdf[i], u[i], side="right")
        last_positive = rows.shape[1] - 1 - np.argmax(rows[:, ::-1] > 0, axis=1)
        out = np.minimum(out, last_positive[:, None])  # u·total may round up onto the total
    else:
        # A sequential draw without replacement orders the categories by w / E, E ~ Exp(1)
        # (the exponential race): keep the num_samples largest keys.
        # Zero weights tie at key 0 and follow in random order (ties broken by E).
        e = rng.standard_exponential(rows.shape)
        out = np.lexsort((e, -(rows / e)), axis=1)[:, :num_samples]
    out = out.astype(np.int64).reshape(probs.shape[:-1] + (num_samples,))
    return Tensor._make(out, False, None)
