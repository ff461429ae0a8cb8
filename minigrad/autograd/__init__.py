"""Reverse-mode automatic differentiation.

* :class:`Function` - an op written by a user, on tensors, as PyTorch's ``torch.autograd.Function``;
* :class:`Primitive` - how minigrad defines its own ops (``forward``/``backward`` on NumPy arrays,
  one backward serving every order);
* :func:`backward` / :func:`grad` - run the engine from some outputs, to any order
  (``create_graph=True`` records the backward pass itself);
* :class:`no_grad`, :class:`enable_grad`, :class:`set_grad_enabled` - grad mode.
"""
from __future__ import annotations

import numpy as np

from minigrad.autograd import function as _function
from minigrad.autograd.engine import run_backward, sum_to_shape
from minigrad.autograd.function import (
    Function, FunctionCtx, Node, Primitive, RemovableHandle, once_differentiable,
)
from minigrad.autograd.grad_mode import enable_grad, is_grad_enabled, no_grad, set_grad_enabled

__all__ = [
    "Function",
    "FunctionCtx",
    "once_differentiable",
    "Primitive",
    "Node",
    "RemovableHandle",
    "backward",
    "grad",
    "no_grad",
    "enable_grad",
    "set_grad_enabled",
    "is_grad_enabled",
    "sum_to_shape",
]


def _as_list(x):
    if x is None:
        return None
    if isinstance(x, (list, tuple)):
        return list(x)
    return [x]


def _root_grads(outputs, grad_outputs, create_graph: bool):
    """Check the roots and build their initial gradients (ones for one-element outputs).

    Arrays for a first-order pass; tensors under ``create_graph`` (a given
    ``grad_outputs`` tensor is kept as it is, so the result can be
    differentiated with respect to it too).
    """
    if grad_outputs is not None and len(grad_outputs) != len(outputs):
        raise RuntimeError(f"got {len(outputs)} tensors and {len(grad_outputs)} gradients")
    Tensor = _function.Tensor
    grads = []
    for k, t in enumerate(outputs):
        if not t.requires_grad:
            raise RuntimeError(
                f"element {k} of tensors does not require grad and does not have a grad_fn"
            )
        g = None if grad_outputs is None else grad_outputs[k]
        if g is None:
            if t._array.size != 1:
                raise RuntimeError("grad can be implicitly created only for scalar outputs")
            g = np.ones_like(t._array)
        elif np.shape(g._array if isinstance(g, Tensor) else g) != t.shape:
            raise RuntimeError(
                f"Mismatch in shape: grad_output[{k}] has a shape of {np.shape(g._array if isinstance(g, Tensor) else g)} "
                f"and output[{k}] has a shape of {t.shape}."
            )
        if create_graph:
            if not isinstance(g, Tensor):
                g = Tensor._make(np.asarray(g, dtype=t._array.dtype), False, None)
            elif g.dtype != t.dtype:
                g = g.to(t.dtype)
        else:
            g = np.asarray(g._array if isinstance(g, Tensor) else g, dtype=t._array.dtype)
        grads.append(g)
    return grads


def backward(tensors, grad_tensors=None, retain_graph: bool | None = None, create_graph: bool = False,
             inputs=None) -> None:
    """Accumulate the gradients of ``tensors`` into the ``.grad`` of the leaves.

    Parameters
    ----------
    tensors : Tensor or sequence of Tensor
    grad_tensors : the vector in the vector-Jacobian product, one per tensor
        (may be omitted for one-element tensors).
    retain_graph : keep saved values so that backward can run again; defaults
        to ``create_graph``.
    create_graph : record the backward pass, so that the gradients (``.grad``
        then has a ``grad_fn``) can be differentiated again.
    inputs : if given, accumulate only into these tensors (leaves or not).
    """
    tensors = _as_list(tensors)
    if inputs is not None:
        inputs = _as_list(inputs)
        if not inputs:
            raise RuntimeError("`inputs` argument to `backward()` cannot be empty.")
        _check_inputs(inputs)
    if retain_graph is None:
        retain_graph = create_graph
    grads = _root_grads(tensors, _as_list(grad_tensors), create_graph)
    run_backward(tensors, grads, retain_graph=retain_graph, create_graph=create_graph, inputs=inputs)


def grad(outputs, inputs, grad_outputs=None, retain_graph: bool | None = None, create_graph: bool = False,
         allow_unused: bool | None = None, materialize_grads: bool = False):
    """Return d(outputs)/d(inputs) · ``grad_outputs`` without touching any ``.grad``.

    Parameters
    ----------
    outputs : Tensor or sequence of Tensor
    inputs : Tensor or sequence of Tensor
        The tensors to differentiate with respect to (leaves or not).
    grad_outputs : the vector in the vector-Jacobian product, one per output
        (may be omitted for one-element outputs).
    retain_graph : keep saved values so that backward can run again; defaults
        to ``create_graph``.
    create_graph : record the backward pass: the returned gradients have a
        ``grad_fn`` and can be differentiated again (higher-order derivatives).
    allow_unused : return ``None`` for an input the outputs do not depend on,
        instead of raising; defaults to ``materialize_grads``.
    materialize_grads : return zeros instead of ``None`` for such inputs.

    Returns
    -------
    tuple of Tensor
        One gradient per input.

    Examples
    --------
    >>> import minigrad
    >>> x = minigrad.tensor([3.0], requires_grad=True)
    >>> minigrad.autograd.grad((x ** 2).sum(), x)
    (tensor([6.]),)
    >>> (g,) = minigrad.autograd.grad((x ** 3).sum(), x, create_graph=True)
    >>> g                                             # 3x², recorded
    tensor([27.], grad_fn=<MulBackward0>)
    >>> minigrad.autograd.grad(g.sum(), x)            # 6x
    (tensor([18.]),)
    """
    Tensor = _function.Tensor
    outputs = _as_list(outputs)
    inputs = _as_list(inputs)
    if not inputs:
        raise RuntimeError("`inputs` argument to `grad()` cannot be empty.")
    if allow_unused is None:
        allow_unused = materialize_grads
    elif materialize_grads and not allow_unused:
        raise ValueError(
            "Expected allow_unused to be True or not passed when materialize_grads=True, "
            "but got: allow_unused=False."
        )
    _check_inputs(inputs)
    if retain_graph is None:
        retain_graph = create_graph
    grads = _root_grads(outputs, _as_list(grad_outputs), create_graph)
    results = run_backward(outputs, grads, retain_graph=retain_graph, create_graph=create_graph,
                           inputs=inputs, capture=True, allow_unused=allow_unused)
    out = []
    for t, g in zip(inputs, results):
        if g is None:
            g = Tensor._make(np.zeros_like(t._array), False, None) if materialize_grads else None
        elif not (create_graph or getattr(g, "is_sparse", False)):
            g = Tensor._make(np.array(g), False, None)  # a copy: the engine may share arrays
        out.append(g)
    return tuple(out)


def _check_inputs(inputs) -> None:
    for k, t in enumerate(inputs):
        if not t.requires_grad:
            raise RuntimeError(f"One of the differentiated Tensors (input {k}) does not require grad")


def __getattr__(name: str):
    # ``minigrad.autograd.functional`` (jacobian, hessian, ...) is built from tensor ops, a layer
    # above this package, so it is imported on first use rather than here (an eager import would
    # be a cycle); ``torch.autograd.functional`` is reachable the same way after a bare import.
    if name == "functional":
        import importlib  # (a from-import would ask this very __getattr__ first, and recurse)

        return importlib.import_module("minigrad.autograd.functional")
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
