"""Reverse-mode automatic differentiation.

* :class:`Primitive` - the one way minigrad defines an op (``forward``/``backward`` on arrays);
* :func:`backward` / :func:`grad` - run the engine from some outputs;
* :class:`no_grad`, :class:`enable_grad`, :class:`set_grad_enabled` - grad mode.
"""
from __future__ import annotations

import numpy as np

from minigrad.autograd.engine import run_backward, sum_to_shape
from minigrad.autograd.function import Node, Primitive
from minigrad.autograd.grad_mode import enable_grad, is_grad_enabled, no_grad, set_grad_enabled

__all__ = [
    "Primitive",
    "Node",
    "backward",
    "grad",
    "no_grad",
    "enable_grad",
    "set_grad_enabled",
    "is_grad_enabled",
    "sum_to_shape",
]


def _root_grads(outputs, grad_outputs):
    """Check the roots and build their initial gradients (ones for scalars)."""
    grads = []
    for k, t in enumerate(outputs):
        if not t.requires_grad:
            raise RuntimeError(
                f"element {k} of tensors does not require grad and does not have a grad_fn"
            )
        g = None if grad_outputs is None else grad_outputs[k]
        if g is None:
            if t.data.size != 1:
                raise RuntimeError("grad can be implicitly created only for scalar outputs")
            g = np.ones_like(t.data)
        else:
            g = np.asarray(getattr(g, "data", g), dtype=t.data.dtype)
            if g.shape != t.shape:
                raise RuntimeError(
                    f"Mismatch in shape: grad_output[{k}] has a shape of {g.shape} and output[{k}] "
                    f"has a shape of {t.shape}."
                )
        grads.append(g)
    return grads


def _as_list(x):
    if x is None:
        return None
    if isinstance(x, (list, tuple)):
        return list(x)
    return [x]


def backward(tensors, grad_tensors=None, retain_graph: bool | None = None, inputs=None) -> None:
    """Accumulate the gradients of ``tensors`` into the ``.grad`` of the leaves.

    Parameters
    ----------
    tensors : Tensor or sequence of Tensor
    grad_tensors : the vector in the vector-Jacobian product, one per tensor
        (may be omitted for one-element tensors).
    retain_graph : keep saved values so that backward can run again.
    inputs : if given, accumulate only into these leaves.
    """
    tensors = _as_list(tensors)
    grads = _root_grads(tensors, _as_list(grad_tensors))
    if inputs is None:
        run_backward(tensors, grads, retain_graph=bool(retain_graph))
        return
    inputs = _as_list(inputs)
    results = run_backward(tensors, grads, retain_graph=bool(retain_graph), inputs=inputs, allow_unused=True)
    from minigrad.autograd.engine import _accumulate_leaf, _Owner

    owner = _Owner()
    for t, g in zip(inputs, results):
        if g is not None:
            _accumulate_leaf(t, g, owner)


def grad(outputs, inputs, grad_outputs=None, retain_graph: bool | None = None, allow_unused: bool = False):
    """Return d(outputs)/d(inputs) · ``grad_outputs`` without touching any ``.grad``.

    Returns a tuple with one gradient Tensor (or ``None`` for an unused input
    when ``allow_unused=True``) per input.

    Examples
    --------
    >>> import minigrad
    >>> x = minigrad.tensor([3.0], requires_grad=True)
    >>> minigrad.autograd.grad((x ** 2).sum(), x)
    (tensor([6.]),)
    """
    from minigrad.tensor import Tensor

    outputs = _as_list(outputs)
    inputs = _as_list(inputs)
    grads = _root_grads(outputs, _as_list(grad_outputs))
    results = run_backward(outputs, grads, retain_graph=bool(retain_graph), inputs=inputs, allow_unused=allow_unused)
    return tuple(
        None if g is None else (g if getattr(g, "is_sparse", False) else Tensor._make(np.array(g), False, None))
        for g in results
    )
