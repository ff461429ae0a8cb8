"""The backward engine: reverse-mode differentiation over the recorded graph.

Given root tensors and their gradients, the engine

1. counts, for every reachable :class:`Node`, how many edges lead into it
   (an explicit stack, no recursion, so a 100,000-op chain is fine);
2. runs each node's ``backward`` only once all of its consumers have sent
   their gradient (Kahn's algorithm), so a node used twice - a diamond - sees
   the *sum* of its output gradients;
3. sums a broadcast gradient back to its input's shape, in one place for
   every op, and checks the result's shape;
4. accumulates into the ``.grad`` of leaves (``backward``) or hands the
   gradients back (``grad``), then frees what each node saved unless
   ``retain_graph``.
"""
from __future__ import annotations

import numpy as np

from minigrad.autograd import function as _function
from minigrad.autograd.function import Node
from minigrad.sparse import SparseTensor


def sum_to_shape(grad: np.ndarray, shape: tuple) -> np.ndarray:
    """Sum ``grad`` over the dimensions that broadcasting added or stretched.

    The VJP of broadcasting ``x`` (shape ``shape``) to ``grad.shape`` is a sum
    over the broadcast dimensions: every copy of an element sends its gradient back.
    """
    if grad.shape == shape:
        return grad
    lead = grad.ndim - len(shape)
    axes = tuple(range(lead)) + tuple(
        lead + i for i, n in enumerate(shape) if n == 1 and grad.shape[lead + i] != 1
    )
    out = grad.sum(axis=axes, keepdims=True) if axes else grad
    if lead:
        out = out.reshape(out.shape[lead:])
    if out.shape != shape:
        raise RuntimeError(f"gradient of shape {grad.shape} cannot be reduced to input shape {shape}")
    return out


def _add(a, b):
    """Out-of-place sum of two gradients, dense or row-sparse (never mutates either)."""
    if isinstance(a, SparseTensor):
        return a + b
    if isinstance(b, SparseTensor):
        return b + a
    return a + b


def _check_and_reduce(node: Node, i: int, g):
    shape, dtype = node.input_meta[i]
    if isinstance(g, SparseTensor):
        if g.shape != shape:
            raise RuntimeError(f"{node.name()} returned a sparse gradient of shape {g.shape} for input {i} of shape {shape}")
        return g
    if not isinstance(g, np.ndarray):
        g = np.asarray(g)
    if g.shape != shape:
        g = sum_to_shape(g, shape)
    if g.dtype != dtype:
        g = g.astype(dtype)
    return g


class _Owner:
    """Keeps ``.grad`` arrays private without copying every gradient.

    Ops may hand one array to several consumers (``Add`` returns ``grad`` twice).
    A leaf may keep an array as its ``.grad`` only if nothing else has seen it;
    otherwise it takes a copy. Arrays kept during this pass are then summed
    out of place, so a pending gradient that shares one is never changed under
    its feet. The result: in-place accumulation across backward calls and
    in-place clipping of ``.grad`` are safe, and the common case copies nothing.
    """

    __slots__ = ("seen", "kept")

    def __init__(self) -> None:
        self.seen = set()
        self.kept = set()

    def mark(self, g) -> None:
        if not isinstance(g, SparseTensor):
            self.seen.add(id(g))

    def claim(self, g):
        if isinstance(g, SparseTensor):
            return g
        if g.base is not None or id(g) in self.seen or not g.flags.writeable:
            g = g.copy()
        self.seen.add(id(g))
        self.kept.add(id(g))
        return g


def _accumulate_leaf(tensor, g, owner: _Owner) -> None:
    Tensor = _function.Tensor
    if tensor._hooks:
        for hook in tensor._hooks:
            r = hook(_wrap(g))
            if r is not None:
                g = r.data if isinstance(r, Tensor) else r
                owner.mark(g)  # the user may keep the returned tensor: never adopt its array
    old = tensor._grad
    if old is None:
        tensor._grad = _wrap(owner.claim(g))
    elif isinstance(old, SparseTensor) or isinstance(g, SparseTensor):
        tensor._grad = _wrap(_add(old if isinstance(old, SparseTensor) else old.data, g))
    elif id(old.data) in owner.kept:
        tensor._grad = _wrap(owner.claim(old.data + g))
    else:
        # In place, as PyTorch does: a reference to p.grad held by the user sees the sum.
        old.data += g


def _wrap(g):
    if isinstance(g, SparseTensor):
        return g
    return _function.Tensor._make(g, False, None)


def run_backward(roots, grads, retain_graph: bool = False, inputs=None, allow_unused: bool = False):
    """Backpropagate ``grads`` from ``roots``.

    With ``inputs=None`` gradients are accumulated into leaves' ``.grad``;
    otherwise nothing is accumulated and a list with one gradient (array, sparse
    gradient or None) per entry of ``inputs`` is returned.
    """
    owner = _Owner()
    pending: dict = {}
    capture_leaf: dict = {}
    capture_node: dict = {}
    results = None
    if inputs is not None:
        results = [None] * len(inputs)
        for k, t in enumerate(inputs):
            if not t.requires_grad:
                raise RuntimeError(f"One of the differentiated Tensors (input {k}) does not require grad")
            if t.grad_fn is None:
                capture_leaf.setdefault(id(t), []).append(k)
            else:
                capture_node.setdefault(t.grad_fn, []).append(k)

    def send_to_leaf(t, g):
        if results is None:
            _accumulate_leaf(t, g, owner)
        else:
            for k in capture_leaf.get(id(t), ()):
                results[k] = g if results[k] is None else _add(results[k], g)

    root_nodes = []
    for t, g in zip(roots, grads):
        owner.mark(g)
        if t.grad_fn is None:
            send_to_leaf(t, g)
            continue
        node = t.grad_fn
        if node in pending:
            pending[node] = _add(pending[node], g)
        else:
            pending[node] = g
            root_nodes.append(node)

    # 1. dependency counts over the reachable graph, iteratively.
    deps: dict = {}
    seen = set(root_nodes)
    stack = list(root_nodes)
    while stack:
        node = stack.pop()
        for nxt in node.next_functions:
            if type(nxt) is Node:
                deps[nxt] = deps.get(nxt, 0) + 1
                if nxt not in seen:
                    seen.add(nxt)
                    stack.append(nxt)

    # 2. process nodes whose consumers have all reported.
    ready = [n for n in root_nodes if n not in deps]
    ndarray = np.ndarray
    while ready:
        node = ready.pop()
        grad = pending.pop(node, None)
        if grad is not None:
            # Hooks and retain_grad are rare: test for them here rather than pay a call per node.
            if node._hooks or node._retained is not None:
                grad = _run_output_hooks(node, grad, owner)
            if capture_node and node in capture_node:
                for k in capture_node[node]:
                    results[k] = grad
        if grad is None:
            in_grads = (None,) * len(node.next_functions)
        else:
            if node._freed and node._had_state:
                raise RuntimeError(
                    "Trying to backward through the graph a second time (or directly access saved "
                    "tensors after they have already been freed). Saved intermediate values of the "
                    "graph are freed when you call .backward() or autograd.grad(). Specify "
                    "retain_graph=True if you need to backward through the graph a second time or "
                    "if you need to access saved tensors after calling backward."
                )
            in_grads = node.fn.backward(node, grad)
            if type(in_grads) is not tuple:
                in_grads = (in_grads,)
            if len(in_grads) != len(node.next_functions):
                raise RuntimeError(
                    f"function {node.name()} returned {len(in_grads)} gradients, "
                    f"expected {len(node.next_functions)} (one per input)"
                )
            if not retain_graph:
                node.release()
        for i, (nxt, g) in enumerate(zip(node.next_functions, in_grads)):
            if nxt is None:
                continue
            if g is not None:
                # Fast path, no call: a dense gradient already of the input's shape and dtype
                # (the common case) needs neither a broadcast reduction nor a cast.
                meta = node.input_meta[i]
                if type(g) is not ndarray or g.shape != meta[0] or g.dtype != meta[1]:
                    g = _check_and_reduce(node, i, g)
            if type(nxt) is Node:
                if g is not None:
                    if nxt in pending:
                        pending[nxt] = _add(pending[nxt], g)
                    else:
                        pending[nxt] = g
                        owner.mark(g)
                deps[nxt] -= 1
                if deps[nxt] == 0:
                    ready.append(nxt)
            elif g is not None:
                send_to_leaf(nxt, g)

    if results is not None and not allow_unused:
        for k, r in enumerate(results):
            if r is None:
                raise RuntimeError(
                    f"One of the differentiated Tensors (input {k}) appears to not have been used "
                    "in the graph. Set allow_unused=True if this is the desired behavior."
                )
    return results


def _run_output_hooks(node: Node, grad, owner: _Owner):
    """Hooks registered on a non-leaf tensor, then its retain_grad()."""
    if node._hooks:
        Tensor = _function.Tensor
        for hook in node._hooks:
            r = hook(_wrap(grad))
            if r is not None:
                grad = r.data if isinstance(r, Tensor) else np.asarray(r)
                owner.mark(grad)
    if node._retained is not None:
        t = node._retained()
        if t is not None:
            if t._grad is None:
                t._grad = _wrap(owner.claim(grad))
            else:
                t._grad = _wrap(_add(t._grad.data, grad))
    return grad
