"""Derivatives of whole functions: ``jacobian``, ``hessian``, ``vjp``, ``jvp``, ``hvp``, ``vhp``.

The signatures and return structures are PyTorch's (``torch.autograd.functional``).
Everything is built from :func:`minigrad.autograd.grad`:

* ``vjp``: one reverse pass, ``vᵀJ``;
* ``jvp``: the *double-vjp trick*. ``g(u) = Jᵀu`` is linear in ``u``, so its own
  VJP with cotangent ``v`` is ``(Jᵀ)ᵀv = Jv``: two reverse passes, the first one
  recorded (``create_graph=True``) with a dummy ``u`` that only serves as a variable;
* ``jacobian``: one reverse pass per output element (a one-hot ``v``);
* ``hessian``: the Jacobian of the gradient (the gradient recorded with ``create_graph``);
* ``vhp``: ``vᵀH``, the VJP of the recorded gradient; ``hvp``: ``Hv``, the JVP of the
  gradient by the double-vjp trick (equal to ``vhp`` for a twice continuously
  differentiable function, whose Hessian is symmetric).

``create_graph=True`` makes the results differentiable with respect to the inputs;
otherwise they are detached. ``strict=True`` raises when an output does not depend
on an input (instead of returning zeros for that block).
"""
from __future__ import annotations

import numpy as np

from minigrad.autograd import grad as _grad
from minigrad.autograd.grad_mode import enable_grad
from minigrad.ops import reshape, stack
from minigrad.tensor import Tensor

__all__ = ["vjp", "jvp", "jacobian", "hessian", "hvp", "vhp"]


def _as_tuple(x, arg_name: str, fn_name: str):
    """(tuple of tensors, whether the caller passed a tuple)."""
    if isinstance(x, tuple):
        is_tuple = True
    elif isinstance(x, list):
        x, is_tuple = tuple(x), True
    else:
        x, is_tuple = (x,), False
    for k, t in enumerate(x):
        if not isinstance(t, Tensor):
            raise TypeError(
                f"The {arg_name} given to {fn_name} must be either a Tensor or a tuple of Tensors but the "
                f"value at index {k} has type {type(t).__name__}."
            )
    return x, is_tuple


def _untuple(x, is_tuple: bool):
    return x if is_tuple else x[0]


def _prepare_inputs(inputs, create_graph: bool):
    """Fresh tensors requiring grad; with create_graph, still connected to the caller's graph."""

    out = []
    for t in inputs:
        if create_graph and t.requires_grad:
            out.append(reshape(t, t.shape))  # an identity op: differentiable back to the caller's tensor
        else:
            out.append(t.detach().requires_grad_(t.dtype.kind == "f"))
    return tuple(out)


def _finish(xs, create_graph: bool):
    return tuple(x if (create_graph or x is None) else x.detach() for x in xs)


def _check_v(v, outputs, name: str, fn_name: str):
    if v is None:
        if len(outputs) != 1 or outputs[0].numel() != 1:
            raise RuntimeError(
                f"The vector v can only be None if the {name} to the user-provided function is a single "
                "Tensor with a single element."
            )
        return (Tensor._make(np.ones_like(outputs[0]._array), False, None),)
    v, _ = _as_tuple(v, "v", fn_name)
    if len(v) != len(outputs):
        raise RuntimeError(f"v has invalid size: should be {len(outputs)} but got {len(v)}.")
    for k, (a, b) in enumerate(zip(v, outputs)):
        if a.shape != b.shape:
            raise RuntimeError(
                f"Entry {k} in v has invalid size: should be {tuple(b.shape)} but got {tuple(a.shape)}."
            )
    return v


def _grads(outputs, inputs, grad_outputs, create_graph: bool, strict: bool, what: str):
    """autograd.grad with zeros (or, with ``strict``, an error) for inputs the outputs do not reach."""
    outs = [(o, g) for o, g in zip(outputs, grad_outputs) if o.requires_grad]
    if outs:
        res = _grad([o for o, _ in outs], list(inputs), grad_outputs=[g for _, g in outs],
                    retain_graph=True, create_graph=create_graph, allow_unused=True)
    else:
        res = (None,) * len(inputs)
    result = []
    for k, (g, x) in enumerate(zip(res, inputs)):
        if g is None:
            if strict:
                raise RuntimeError(
                    f"The output of the user-provided function is independent of input {k}. This is not "
                    f"allowed in strict mode{what}."
                )
            g = Tensor._make(np.zeros(x.shape, dtype=x.dtype), False, None)
        result.append(g)
    return tuple(result)


def vjp(func, inputs, v=None, create_graph: bool = False, strict: bool = False):
    """The vector-Jacobian product ``vᵀ J`` of ``func`` at ``inputs``.

    Parameters
    ----------
    func : callable
        Takes tensors, returns a Tensor or a tuple of Tensors.
    inputs : Tensor or tuple of Tensor
    v : Tensor or tuple of Tensor, optional
        Shaped like the outputs; may be omitted when the output has one element.
    create_graph : bool
        Record the computation, so that the result can be differentiated.
    strict : bool
        Raise if an input does not influence the outputs.

    Returns
    -------
    (func_output, vjp)
        ``vjp`` has the structure of ``inputs``.

    Examples
    --------
    >>> import minigrad
    >>> from minigrad.autograd.functional import vjp
    >>> x = minigrad.tensor([1.0, 2.0])
    >>> vjp(lambda t: (t ** 2).sum(), x)[1]
    tensor([2., 4.])
    """
    with enable_grad():
        xs, in_tuple = _as_tuple(inputs, "inputs", "vjp")
        xs = _prepare_inputs(xs, create_graph)
        outputs, out_tuple = _as_tuple(func(*xs), "outputs of the user-provided function", "vjp")
        vs = _check_v(v, outputs, "outputs", "vjp")
        res = _grads(outputs, xs, vs, create_graph, strict, "")
    return _untuple(_finish(outputs, create_graph), out_tuple), _untuple(_finish(res, create_graph), in_tuple)


def jvp(func, inputs, v=None, create_graph: bool = False, strict: bool = False):
    """The Jacobian-vector product ``J v`` of ``func`` at ``inputs`` (by the double-vjp trick).

    Parameters
    ----------
    func : callable
    inputs : Tensor or tuple of Tensor
    v : Tensor or tuple of Tensor, optional
        Shaped like ``inputs``; may be omitted when the input has one element.
    create_graph, strict : bool
        As in :func:`vjp`.

    Returns
    -------
    (func_output, jvp)
        ``jvp`` has the structure of the outputs.

    Examples
    --------
    >>> import minigrad
    >>> from minigrad.autograd.functional import jvp
    >>> x = minigrad.tensor([1.0, 2.0])
    >>> jvp(lambda t: t ** 2, x, minigrad.tensor([1.0, 1.0]))[1]
    tensor([2., 4.])
    """
    with enable_grad():
        xs, _ = _as_tuple(inputs, "inputs", "jvp")
        xs = _prepare_inputs(xs, create_graph)
        vs = _check_v(v, xs, "input", "jvp")
        outputs, out_tuple = _as_tuple(func(*xs), "outputs of the user-provided function", "jvp")
        # g(u) = Jᵀu, recorded; u is a dummy variable (its value does not matter: g is linear in u).
        us = tuple(Tensor._make(np.zeros_like(o._array), True, None) for o in outputs)
        g = _grads(outputs, xs, us, True, strict, "")
        # The VJP of g with cotangent v is J v.
        needed = [(k, gk) for k, gk in enumerate(g) if gk.requires_grad]
        if needed:
            res = _grad([gk for _, gk in needed], list(us), grad_outputs=[vs[k] for k, _ in needed],
                        retain_graph=True, create_graph=create_graph, allow_unused=True)
        else:
            res = (None,) * len(us)
        out = []
        for k, (r, o) in enumerate(zip(res, outputs)):
            if r is None:
                if strict:
                    raise RuntimeError(
                        f"The output {k} of the user-provided function is independent of the inputs. This is "
                        "not allowed in strict mode."
                    )
                r = Tensor._make(np.zeros(o.shape, dtype=o.dtype), False, None)
            out.append(r)
    return _untuple(_finish(outputs, create_graph), out_tuple), _untuple(_finish(out, create_graph), out_tuple)


def jacobian(func, inputs, create_graph: bool = False, strict: bool = False, vectorize: bool = False,
             strategy: str = "reverse-mode"):
    """The Jacobian of ``func`` at ``inputs``: block ``[i][j]`` has shape ``outputs[i].shape + inputs[j].shape``.

    One reverse pass per output element. ``vectorize`` is accepted for PyTorch
    compatibility and ignored; only ``strategy="reverse-mode"`` is implemented.

    Returns
    -------
    Tensor, or tuple (over inputs or outputs), or tuple of tuples (outputs × inputs),
    following the structure of the outputs and ``inputs`` as in PyTorch.

    Examples
    --------
    >>> import minigrad
    >>> from minigrad.autograd.functional import jacobian
    >>> jacobian(lambda t: t ** 2, minigrad.tensor([1.0, 3.0]))
    tensor([[2., 0.],
            [0., 6.]])
    """
    if strategy != "reverse-mode":
        raise NotImplementedError("minigrad's jacobian only implements strategy='reverse-mode'")

    with enable_grad():
        xs, in_tuple = _as_tuple(inputs, "inputs", "jacobian")
        xs = _prepare_inputs(xs, create_graph)
        outputs, out_tuple = _as_tuple(func(*xs), "outputs of the user-provided function", "jacobian")
        blocks = []
        for i, out in enumerate(outputs):
            rows = [[] for _ in xs]
            for j in range(out.numel()):
                onehot = np.zeros(out.numel(), dtype=out.dtype)
                onehot[j] = 1
                cot = [Tensor._make(onehot.reshape(out.shape), False, None)]
                gs = _grads([out], xs, cot, create_graph, strict, " for the Jacobian")
                for k, g in enumerate(gs):
                    rows[k].append(g)
            block = []
            for k, x in enumerate(xs):
                if out.numel():
                    jac = reshape(stack(rows[k], 0), tuple(out.shape) + tuple(x.shape))
                else:
                    jac = Tensor._make(np.zeros(tuple(out.shape) + tuple(x.shape), dtype=x.dtype), False, None)
                block.append(jac if create_graph else jac.detach())
            blocks.append(tuple(block))
    if out_tuple:
        return tuple(_untuple(b, in_tuple) for b in blocks)
    return _untuple(blocks[0], in_tuple)


def hessian(func, inputs, create_graph: bool = False, strict: bool = False, vectorize: bool = False,
            outer_jacobian_strategy: str = "reverse-mode"):
    """The Hessian of the scalar function ``func`` at ``inputs``: the Jacobian of its gradient.

    Block ``[i][j]`` has shape ``inputs[i].shape + inputs[j].shape``.

    Examples
    --------
    >>> import minigrad
    >>> from minigrad.autograd.functional import hessian
    >>> hessian(lambda t: (t ** 3).sum(), minigrad.tensor([1.0, 2.0]))
    tensor([[ 6.,  0.],
            [ 0., 12.]])
    """
    xs, in_tuple = _as_tuple(inputs, "inputs", "hessian")

    def gradient(*ys):
        out = func(*ys)
        outs, out_tuple = _as_tuple(out, "outputs of the user-provided function", "hessian")
        if out_tuple or outs[0].numel() != 1:
            raise RuntimeError("The function given to hessian should return a single Tensor with a single element")
        g = jacobian(func, ys, create_graph=True, strict=strict)
        return tuple(gk.reshape(yk.shape) for gk, yk in zip(g, ys))

    res = jacobian(gradient, xs, create_graph=create_graph, strict=strict, vectorize=vectorize,
                   strategy=outer_jacobian_strategy)
    return _untuple(tuple(_untuple(r, in_tuple) for r in res), in_tuple)


def vhp(func, inputs, v=None, create_graph: bool = False, strict: bool = False):
    """``vᵀH`` for the scalar function ``func``: the VJP of its recorded gradient.

    Returns
    -------
    (func_output, vhp)
        ``vhp`` has the structure of ``inputs``.
    """
    return _second_order(func, inputs, v, create_graph, strict, "vhp")


def hvp(func, inputs, v=None, create_graph: bool = False, strict: bool = False):
    """``H v`` for the scalar function ``func``: the JVP of its gradient (double-vjp trick).

    Returns
    -------
    (func_output, hvp)
        ``hvp`` has the structure of ``inputs``.

    Examples
    --------
    >>> import minigrad
    >>> from minigrad.autograd.functional import hvp
    >>> hvp(lambda t: (t ** 3).sum(), minigrad.tensor([1.0, 2.0]), minigrad.tensor([1.0, 1.0]))[1]
    tensor([ 6., 12.])
    """
    return _second_order(func, inputs, v, create_graph, strict, "hvp")


def _second_order(func, inputs, v, create_graph, strict, name):
    with enable_grad():
        xs, in_tuple = _as_tuple(inputs, "inputs", name)
        xs = _prepare_inputs(xs, create_graph)
        vs = _check_v(v, xs, "input", name)
        outs, out_tuple = _as_tuple(func(*xs), "outputs of the user-provided function", name)
        if out_tuple or outs[0].numel() != 1:
            raise RuntimeError(f"The function given to {name} should return a single Tensor with a single element")
        out = outs[0]
        ones = Tensor._make(np.ones_like(out._array), False, None)
        g = _grads([out], xs, [ones], True, strict, f" for the gradient in {name}")
        if name == "vhp":
            # vᵀH: the VJP of the gradient with cotangent v.
            live = [k for k, gk in enumerate(g) if gk.requires_grad]
            res = _grads([g[k] for k in live], xs, [vs[k] for k in live], create_graph, strict, " for vhp")
        else:
            res = _double_vjp(g, xs, vs, create_graph, strict)
    return _finish((out,), create_graph)[0], _untuple(_finish(res, create_graph), in_tuple)


def _double_vjp(g, xs, vs, create_graph: bool, strict: bool) -> tuple:
    """``H v`` from the recorded gradient ``g`` (one tensor per input ``xs``) of a scalar f, in reverse mode only.

    The double-vjp trick: for a dummy cotangent u (zeros that require grad),
    w(u) = Hᵀu is the VJP of the gradient, recorded (``create_graph``); w is
    linear in u, so the VJP of w with respect to u, with cotangent v, is
    (Hᵀ)ᵀv = H v. A gradient that does not depend on the inputs (no graph) has
    a zero Hessian; inputs that get no gradient get zeros.
    """
    live = [k for k, gk in enumerate(g) if gk.requires_grad]
    us = [Tensor._make(np.zeros_like(g[k]._array), True, None) for k in live]
    w = _grads([g[k] for k in live], xs, us, True, strict, " for hvp")
    pairs = [(k, wk) for k, wk in enumerate(w) if wk.requires_grad]
    got = _grad([wk for _, wk in pairs], us, grad_outputs=[vs[k] for k, _ in pairs], retain_graph=True,
                create_graph=create_graph, allow_unused=True) if pairs and us else ()
    by_var = dict(zip(live, got))
    return tuple(by_var.get(k) if by_var.get(k) is not None else
                 Tensor._make(np.zeros(x.shape, dtype=x.dtype), False, None) for k, x in enumerate(xs))
