"""Tools for testing differentiable code: :func:`gradcheck`, :func:`gradgradcheck` and (with Hypothesis
installed) the strategies in :mod:`minigrad.testing.strategies`.

This module imports only NumPy and minigrad, so ``import minigrad.testing`` works
without any test-time dependency.
"""
from __future__ import annotations

import numpy as np

__all__ = ["gradcheck", "gradgradcheck", "GradcheckError"]


class GradcheckError(AssertionError):
    """Raised by :func:`gradcheck` when an analytic gradient disagrees with the numeric one.

    Attributes
    ----------
    input_index : int or None
        Position (in ``inputs``) of the worst input, or None for a non-numeric failure.
    element : tuple or None
        Index of the worst element inside that input.
    analytic, numeric : float or None
        The two values that disagree most.
    """

    def __init__(self, message, input_index=None, element=None, analytic=None, numeric=None):
        super().__init__(message)
        self.input_index = input_index
        self.element = element
        self.analytic = analytic
        self.numeric = numeric


def _dense(g) -> np.ndarray:
    if getattr(g, "is_sparse", False):
        return np.asarray(g.dense_array())
    return np.asarray(g._array)


def _as_float64_leaves(inputs):
    """Copy each floating tensor that requires grad into a float64 leaf; keep everything else."""
    from minigrad.tensor import Tensor

    call_args, diff = [], []
    for k, x in enumerate(inputs):
        if isinstance(x, Tensor) and x.requires_grad and x.dtype.kind == "f":
            leaf = Tensor._make(np.array(x._array, dtype=np.float64), True, None)
            call_args.append(leaf)
            diff.append((k, leaf))
        else:
            call_args.append(x)
    return call_args, diff


def _as_list(result) -> list:
    return list(result) if isinstance(result, (tuple, list)) else [result]


def central_difference(f, x: np.ndarray, eps: float) -> np.ndarray:
    """The gradient of the scalar ``f()`` with respect to the array ``x``, by central differences.

    ``f`` takes no argument: it reads ``x``, which is perturbed in place, one
    element at a time, and restored exactly. Element ``i`` of the result is
    ``(f(x + eps·e_i) − f(x − eps·e_i)) / (2·eps)``, whose truncation error is
    O(eps²) (a one-sided difference's is O(eps)).

    Returns
    -------
    numpy.ndarray
        float64, of ``x``'s shape.
    """
    numeric = np.zeros(x.shape)
    for idx in np.ndindex(*x.shape):
        orig = x[idx]
        x[idx] = orig + eps
        plus = f()
        x[idx] = orig - eps
        minus = f()
        x[idx] = orig
        numeric[idx] = (plus - minus) / (2 * eps)
    return numeric


def gradcheck(fn, inputs, eps: float = 1e-6, atol: float = 1e-5, rtol: float = 1e-3, *, seed: int = 0,
              raise_exception: bool = True) -> bool:
    """Check the gradients of ``fn`` at ``inputs`` against central finite differences.

    Parameters
    ----------
    fn : callable
        Called as ``fn(*inputs)``; returns a Tensor or a tuple of Tensors.
    inputs : Tensor or sequence
        Tensors that require grad are differentiated (as float64 copies); any
        other value (integer tensors, ints, tuples) is passed through unchanged.
    eps : float
        Finite-difference step.
    atol, rtol : float
        Absolute and relative tolerance.
    seed : int
        Seed of the random cotangent.
    raise_exception : bool
        If False, return False instead of raising on failure.

    Returns
    -------
    bool
        True when every gradient matches.

    Raises
    ------
    GradcheckError
        Naming the worst element: which input, its index, the analytic and the
        numeric value.

    Notes
    -----
    **How it works.**
    Let ``y = fn(*inputs)`` and draw a random *cotangent* ``u`` shaped like ``y``.
    The scalar ``φ(x) = ⟨u, fn(x)⟩ = Σ u·y`` has gradient ``∇φ = Jᵀu``, which is
    exactly what reverse mode computes: ``minigrad.autograd.grad(y, x, grad_outputs=u)``.
    For every element ``x_i`` of every input that requires grad the numeric value is
    the central difference

        (φ(x + eps·e_i) − φ(x − eps·e_i)) / (2·eps),

    whose truncation error is O(eps²). The check passes when, for all elements,
    ``|analytic − numeric| ≤ atol + rtol·|numeric|``. A random ``u`` (rather than
    ``y.sum()``, i.e. ``u = 1``) matters: with ``u = 1`` an op whose backward forgets
    to multiply by the incoming gradient, or returns ``ones_like``, can still pass.

    It also runs backward a second time and requires the same result, bit for
    bit: a backward that changes its saved state (or the incoming gradient) in
    place is caught here.

    **Why float64.**
    A difference quotient divides a rounding error by ``eps``. In float32 the
    values of ``φ`` carry an error of about ``ulp·|φ| ≈ 1e-7·|φ|``, so with
    ``eps = 1e-6`` the numeric derivative is off by roughly ``1e-7/1e-6 ≈ 0.1``:
    useless. Every input that requires grad is therefore copied to float64
    (the caller's tensors are not touched) and the whole check runs in float64,
    where the same error is about ``1e-16/1e-6 = 1e-10``.

    Examples
    --------
    >>> import minigrad
    >>> from minigrad.testing import gradcheck
    >>> x = minigrad.randn(3, 4, dtype=minigrad.float64, requires_grad=True)
    >>> gradcheck(lambda t: (t.tanh() * t).sum(dim=1), [x])
    True
    """
    from minigrad import autograd
    from minigrad.autograd import no_grad
    from minigrad.tensor import Tensor

    if isinstance(inputs, Tensor) or not isinstance(inputs, (tuple, list)):
        inputs = [inputs]
    call_args, diff = _as_float64_leaves(inputs)
    if not diff:
        raise ValueError("gradcheck expects at least one floating-point input tensor that requires grad")

    all_outs = _as_list(fn(*call_args))
    positions = [i for i, o in enumerate(all_outs) if isinstance(o, Tensor) and o.requires_grad]
    outs = [all_outs[i] for i in positions]
    if not outs:
        raise ValueError("gradcheck: no output of fn requires grad")
    rng = np.random.default_rng(seed)
    cotangents = [rng.standard_normal(o.shape).astype(o.dtype) for o in outs]
    leaves = [leaf for _, leaf in diff]

    def analytic():
        grads = autograd.grad(outs, leaves, grad_outputs=[Tensor._make(u, False, None) for u in cotangents],
                              retain_graph=True, allow_unused=True)
        return [np.zeros(leaf.shape) if g is None else _dense(g).astype(np.float64) for g, leaf in zip(grads, leaves)]

    def fail(message, **info):
        if raise_exception:
            raise GradcheckError(message, **info)
        return False

    first = analytic()
    second = analytic()
    for (k, leaf), a, b in zip(diff, first, second):
        if a.shape != leaf.shape:
            return fail(f"gradcheck: the gradient of input {k} has shape {a.shape}, expected {leaf.shape}",
                        input_index=k)
        if not np.array_equal(a, b, equal_nan=True):
            return fail(
                f"gradcheck: backward is not reentrant: running it twice gave different gradients for input {k} "
                f"(max difference {np.nanmax(np.abs(a - b)):.3e}). Does a backward modify its saved values or "
                "the incoming gradient in place?",
                input_index=k,
            )

    def phi() -> float:
        with no_grad():
            ys = _as_list(fn(*call_args))
        return float(sum(np.sum(np.asarray(ys[i]._array, dtype=np.float64) * u) for i, u in zip(positions, cotangents)))

    worst = None  # (excess, k, index, analytic, numeric)
    for (k, leaf), a in zip(diff, first):
        numeric = central_difference(phi, leaf._array, eps)
        excess = np.abs(a - numeric) - (atol + rtol * np.abs(numeric))
        excess = np.where(np.isnan(excess), np.inf, excess)
        if excess.size:
            j = np.unravel_index(int(np.argmax(excess)), excess.shape)
            if excess[j] > 0 and (worst is None or excess[j] > worst[0]):
                worst = (excess[j], k, tuple(int(i) for i in j), float(a[j]), float(numeric[j]))
    if worst is not None:
        _, k, j, av, nv = worst
        return fail(
            f"gradcheck: gradient mismatch for input {k} at index {j}: analytic {av!r} vs numeric {nv!r} "
            f"(|difference| = {abs(av - nv):.3e} > atol + rtol*|numeric| = {atol + rtol * abs(nv):.3e}). "
            "The numeric value is a central difference of <u, fn(x)> with a random u.",
            input_index=k, element=j, analytic=av, numeric=nv,
        )
    return True


def gradgradcheck(func, inputs, grad_outputs=None, *, eps: float = 1e-6, atol: float = 1e-5, rtol: float = 1e-3,
                  seed: int = 0, raise_exception: bool = True) -> bool:
    """Check second-order gradients: finite differences of the VJP against the VJP of the VJP.

    Parameters
    ----------
    func : callable
        Called as ``func(*inputs)``; returns a Tensor or a tuple of Tensors.
    inputs : Tensor or sequence
        As in :func:`gradcheck`: tensors that require grad are differentiated, as
        float64 copies; other values pass through unchanged.
    grad_outputs : Tensor or sequence of Tensor, optional
        The cotangents ``u`` of the first VJP, one per output of ``func`` that
        requires grad; random (seeded by ``seed``) when omitted.
    eps, atol, rtol, seed, raise_exception
        As in :func:`gradcheck`.

    Returns
    -------
    bool
        True when every second-order gradient matches.

    Notes
    -----
    The first VJP is itself a function, ``g(x, u) = J(x)ᵀu``, computed by
    ``minigrad.autograd.grad(func(x), x, u, create_graph=True)`` - so it records
    a graph. ``gradgradcheck`` runs :func:`gradcheck` on ``g``: a random cotangent
    ``w`` for ``g``'s outputs, the reverse-mode gradient of ``⟨w, g(x, u)⟩`` with
    respect to both ``x`` (the Hessian-type term) and ``u`` (which is ``J w``), and
    central differences of ``⟨w, g⟩`` in every element of ``x`` and ``u``. Both ``u``
    and ``w`` are random, so no term of the second-order VJP can hide (as PyTorch's
    ``torch.autograd.gradgradcheck`` does it).

    Examples
    --------
    >>> import minigrad
    >>> from minigrad.testing import gradgradcheck
    >>> x = minigrad.randn(3, dtype=minigrad.float64, requires_grad=True)
    >>> gradgradcheck(lambda t: (t.tanh() * t).sum(), [x])
    True
    """
    from minigrad import autograd
    from minigrad.autograd import enable_grad
    from minigrad.tensor import Tensor

    if isinstance(inputs, Tensor) or not isinstance(inputs, (tuple, list)):
        inputs = [inputs]
    inputs = list(inputs)
    call_args, diff = _as_float64_leaves(inputs)
    if not diff:
        raise ValueError("gradgradcheck expects at least one floating-point input tensor that requires grad")
    positions = [k for k, _ in diff]
    with enable_grad():
        outs = [o for o in _as_list(func(*call_args)) if isinstance(o, Tensor) and o.requires_grad]
    if not outs:
        raise ValueError("gradgradcheck: no output of func requires grad")
    if grad_outputs is None:
        rng = np.random.default_rng(seed + 1)
        cotangents = [Tensor._make(rng.standard_normal(o.shape), True, None) for o in outs]
    else:
        given = _as_list(grad_outputs)
        if len(given) != len(outs):
            raise ValueError(f"gradgradcheck: {len(given)} grad_outputs for {len(outs)} outputs that require grad")
        cotangents = [Tensor._make(np.array(u, dtype=np.float64), True, None) for u in given]
    n_in = len(inputs)

    def first_vjp(*args):
        xs, us = list(args[:n_in]), list(args[n_in:])
        with enable_grad():
            ys = [o for o in _as_list(func(*xs)) if isinstance(o, Tensor) and o.requires_grad]
            grads = autograd.grad(ys, [xs[k] for k in positions], grad_outputs=us, create_graph=True,
                                  allow_unused=True)
        return tuple(g for g in grads if g is not None)

    return gradcheck(first_vjp, inputs + cotangents, eps=eps, atol=atol, rtol=rtol, seed=seed,
                     raise_exception=raise_exception)
