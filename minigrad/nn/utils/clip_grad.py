"""Gradient clipping: rescale gradients by their total norm, or clamp them elementwise.

Both functions act in place on ``p.grad`` of the given parameters and accept
dense gradients and the row-sparse gradients of ``Embedding(sparse=True)``
alike. A sparse gradient may list a row more than once (one entry per
lookup); the row's gradient is the *sum* of those entries, so it is coalesced
before any norm is taken or any value clamped - otherwise a row looked up
twice would be measured (and clipped) as two half-size rows.
"""
from __future__ import annotations

import types
import warnings

import numpy as np

from minigrad.sparse import SparseTensor
from minigrad.tensor import Tensor

__all__ = ["clip_grad_norm_", "clip_grad_value_"]


def _params_list(parameters) -> list:
    if isinstance(parameters, Tensor):
        return [parameters]
    is_generator = isinstance(parameters, types.GeneratorType)
    params = list(parameters)
    if is_generator and not params:
        warnings.warn("`parameters` is an empty generator, no gradient clipping will occur.", stacklevel=3)
    return params


def _values(g) -> np.ndarray:
    """The numbers a norm of ``g`` is taken over: the array, or a sparse grad's coalesced rows."""
    if isinstance(g, SparseTensor):
        return g.coalesce()._val
    return g._array


def _vector_norm(x: np.ndarray, p: float) -> np.ndarray:
    """``torch.linalg.vector_norm(x, p)`` of a flattened array, as a 0-d array of x's dtype.

    Computed in x's dtype, as PyTorch does, so Σ|x|ᵖ may overflow to inf (and the
    gradients are then scaled by 0, in both libraries); but the norm of one element is
    |x| for every p (PyTorch's special case too), so a single huge gradient is scaled,
    not zeroed.
    """
    x = np.abs(x.reshape(-1))
    if x.size == 1:
        return np.asarray(x[0])
    if p == np.inf:
        return x.max(initial=0.0).astype(x.dtype)
    if p == -np.inf:
        return (x.min() if x.size else np.asarray(np.inf)).astype(x.dtype)
    if p == 0:
        return np.asarray(np.count_nonzero(x), dtype=x.dtype)
    if p == 1:
        return x.sum()
    with np.errstate(over="ignore"):  # an overflowing norm is inf, silently, as in PyTorch
        if p == 2:
            return np.sqrt(np.dot(x, x))
        return (x ** p).sum() ** (1.0 / p)


def clip_grad_norm_(parameters, max_norm: float, norm_type: float = 2.0,
                    error_if_nonfinite: bool = False, foreach=None) -> Tensor:
    r"""Scale all gradients together so that their total norm is at most ``max_norm``.

    The total norm is the ``norm_type``-norm of the vector of per-parameter
    norms (the same as the norm of all gradients concatenated)::

        total = ‖(‖g₁‖ₚ, …, ‖gₙ‖ₚ)‖ₚ,   coef = min(max_norm / (total + 1e-6), 1)
        gᵢ ← coef · gᵢ

    Parameters
    ----------
    parameters : Tensor or iterable of Tensor
        Parameters without a gradient are skipped.
    max_norm : float
    norm_type : float, default 2.0
        ``float('inf')`` gives the largest absolute value.
    error_if_nonfinite : bool, default False
        Raise instead of scaling by a nan/inf total norm.
    foreach : None
        Accepted for PyTorch compatibility; ignored.

    Returns
    -------
    Tensor
        The total norm *before* clipping (0-d).

    Raises
    ------
    RuntimeError
        If ``error_if_nonfinite`` and the total norm is nan or inf.
    """
    params = _params_list(parameters)
    grads = [p.grad for p in params if p.grad is not None]
    norm_type = float(norm_type)
    max_norm = float(max_norm)
    if not grads:
        return Tensor(np.asarray(0.0, dtype=np.float32))
    if any(isinstance(g, SparseTensor) for g in grads):
        # Coalesce once, in place, so the norm and the scaling see the same rows.
        for g in grads:
            if isinstance(g, SparseTensor) and not g.is_coalesced():
                _coalesce_in_place(g)
    norms = [_vector_norm(_values(g), norm_type) for g in grads]
    dtype = np.result_type(*[n.dtype for n in norms])
    total = _vector_norm(np.stack([n.astype(dtype) for n in norms]), norm_type)
    if error_if_nonfinite and not np.isfinite(total):
        raise RuntimeError(
            f"The total norm of order {norm_type} for gradients from `parameters` is non-finite, so "
            "it cannot be clipped. To disable this error and scale the gradients by the non-finite "
            "norm anyway, set `error_if_nonfinite=False`"
        )
    with np.errstate(invalid="ignore", over="ignore"):
        coef = np.minimum(max_norm / (total + 1e-6), 1.0).astype(total.dtype)
        # A non-finite total scales by 0 or nan, as PyTorch does (error_if_nonfinite guards it).
        for g in grads:
            if isinstance(g, SparseTensor):
                g._val *= coef.astype(g._val.dtype)
            else:
                g._array *= coef.astype(g._array.dtype)
                g._bump_version()
    return Tensor(np.asarray(total))


def clip_grad_value_(parameters, clip_value: float, foreach=None) -> None:
    """Clamp every gradient entry into ``[-clip_value, clip_value]`` in place.

    Sparse gradients are coalesced first, so a row's *summed* gradient is
    clamped - the same result as clamping the dense gradient.

    Parameters
    ----------
    parameters : Tensor or iterable of Tensor
    clip_value : float
    foreach : None
        Accepted for PyTorch compatibility; ignored.
    """
    params = [parameters] if isinstance(parameters, Tensor) else list(parameters)
    clip_value = float(clip_value)
    for p in params:
        g = p.grad
        if g is None:
            continue
        if isinstance(g, SparseTensor):
            _coalesce_in_place(g)
            np.clip(g._val, -clip_value, clip_value, out=g._val)
        else:
            np.clip(g._array, -clip_value, clip_value, out=g._array)
            g._bump_version()


def _coalesce_in_place(g: SparseTensor) -> None:
    """Make ``g`` itself coalesced (clipping must change the very object ``p.grad`` holds)."""
    c = g.coalesce()
    if c is not g:
        g._idx, g._val, g._coalesced = c._idx, c._val, True
