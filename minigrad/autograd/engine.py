"""The backward engine: reverse-mode differentiation over the recorded graph.

Given root tensors and their gradients, the engine

1. counts, for every reachable :class:`Node`, how many edges lead into it
   (an explicit stack, no recursion, so a 20,000-op chain is fine);
2. runs each node's ``backward`` only once all of its consumers have sent
   their gradient (Kahn's algorithm), so a node used twice - a diamond - sees
   the *sum* of its output gradients;
3. sums a broadcast gradient back to its input's shape, in one place for
   every op, and checks the result's shape;
4. accumulates into the ``.grad`` of leaves (``backward``) or hands the
   gradients back (``grad``), then frees what each node saved unless
   ``retain_graph``.

:func:`_propagate` is that walk, in one loop (:func:`run_backward` sets it up). Everything else - where a
gradient ends up (:class:`_Sink`: ``.grad``, or the results of
``autograd.grad``), hooks, ``retain_grad``, and who owns an array - lives in
the helpers below it.

With ``create_graph=True`` the same loop runs on tensors instead of arrays,
with grad mode on, so each backward records the graph of the gradient
(see :mod:`minigrad.autograd.function`).
"""
from __future__ import annotations

import threading
import weakref

import numpy as np

from minigrad.autograd import function as _function
from minigrad.autograd.function import _FREED_MESSAGE, Node, _OutputGrads
from minigrad.autograd.grad_mode import set_grad_enabled
from minigrad.sparse import SparseTensor


def sum_to_shape(grad, shape: tuple):
    """Sum ``grad`` over the dimensions that broadcasting added or stretched.

    The VJP of broadcasting ``x`` (shape ``shape``) to ``grad.shape`` is a sum
    over the broadcast dimensions: every copy of an element sends its gradient back.
    Written in NumPy, so it reduces a tensor (under ``create_graph``) as well.
    """
    if grad.shape == shape:
        return grad
    lead = grad.ndim - len(shape)
    if lead < 0:
        raise _unreducible(grad, shape)
    axes = list(range(lead))  # the dims broadcasting added, then those it stretched from 1
    for i, n in enumerate(shape):
        m = grad.shape[lead + i]
        if n == 1 and m != 1:
            axes.append(lead + i)
        elif n != m:
            raise _unreducible(grad, shape)
    # The method, not np.sum: one call for an array and a tensor alike, and on a
    # bias-sized gradient np.sum's dispatch costs as much as the summation itself.
    out = grad.sum(tuple(axes))
    return out if out.shape == shape else out.reshape(shape)


def _unreducible(grad, shape: tuple) -> RuntimeError:
    return RuntimeError(f"gradient of shape {grad.shape} cannot be reduced to input shape {shape}")


def run_backward(roots, grads, retain_graph: bool = False, create_graph: bool = False,
                 inputs=None, capture: bool = False, allow_unused: bool = False):
    """Backpropagate ``grads`` from ``roots``.

    Gradients are accumulated into the ``.grad`` of the leaves (only of
    ``inputs``, when given). With ``capture=True`` nothing is accumulated and a
    list with one gradient (or None) per entry of ``inputs`` is returned.
    """
    sink = _Sink(inputs, capture, create_graph)
    pending: dict = {}  # node -> the sum of the gradients its output received so far
    for t, g in zip(roots, grads):
        sink.owner.mark(g)
        if t.grad_fn is None:
            sink.to_leaf(t, g)
        else:
            pending[t.grad_fn] = _add(pending[t.grad_fn], g) if t.grad_fn in pending else g

    with set_grad_enabled(create_graph):
        _propagate(pending, _count_dependencies(pending), sink, retain_graph, create_graph)
    return sink.results(allow_unused)


def _propagate(pending: dict, deps: dict, sink, retain_graph: bool, create_graph: bool) -> None:
    """The core loop: run every node's backward in topological order (Kahn's algorithm).

    ``pending`` maps each node that received a gradient to their sum so far (the
    roots, at the start); ``deps`` counts the edges into each node from nodes
    not yet run. A node runs once its count is 0, with the sum of what its
    consumers sent; its input gradients go to leaves (``sink.to_leaf``) or
    into ``pending``.
    """
    ready = [node for node in pending if node not in deps]
    check = _check_tensor_gradient if create_graph else _check_gradient
    ndarray = np.ndarray
    while ready:
        node = ready.pop()
        grad = pending.pop(node, None)
        if grad is not None and (node._hooks or node._retained is not None or sink.at_nodes):
            grad = sink.at_node(node, grad)
        in_grads = _call_backward(node, grad, retain_graph, create_graph)
        for i, (nxt, g) in enumerate(zip(node.next_functions, in_grads)):
            if nxt is None:
                continue
            if g is not None:
                # The common case - an array of the input's shape and dtype - needs no call.
                shape, dtype = node.input_meta[i]
                if type(g) is not ndarray or g.shape != shape or g.dtype != dtype:
                    g = check(node, i, g)
            if not isinstance(nxt, Node):
                if g is not None:
                    sink.to_leaf(nxt, g)
                continue
            if g is not None:
                if nxt in pending:
                    pending[nxt] = _add(pending[nxt], g)
                else:
                    pending[nxt] = g
                    sink.owner.mark(g)
            deps[nxt] -= 1
            if deps[nxt] == 0:
                ready.append(nxt)


# -- the walk ------------------------------------------------------------------------------
def _count_dependencies(roots) -> dict:
    """For each node reachable from ``roots``: how many edges lead into it (explicit stack)."""
    deps: dict = {}
    seen = set(roots)
    stack = list(roots)
    while stack:
        node = stack.pop()
        for nxt in node.next_functions:
            if isinstance(nxt, Node):
                deps[nxt] = deps.get(nxt, 0) + 1
                if nxt not in seen:
                    seen.add(nxt)
                    stack.append(nxt)
    return deps


def _call_backward(node: Node, grad, retain_graph: bool, create_graph: bool) -> tuple:
    """One gradient (or None) per input of ``node``; frees the node unless ``retain_graph``."""
    if grad is None:  # nothing reached this node: nothing flows on
        return (None,) * len(node.next_functions)
    if node._freed and node._had_state:
        raise RuntimeError(_FREED_MESSAGE)
    if node._watched:
        node.check_versions()
    if create_graph:
        if node.__dict__.get("sparse"):  # see "Rules for op authors" in function.py
            raise RuntimeError(_SPARSE_CREATE_GRAPH.format(node.name()))
        node._create_graph = True  # saved_tensors gives tensors
        try:
            in_grads = node.fn.backward(node, grad)
        finally:
            node._create_graph = False
    else:
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
    return in_grads


def _add(a, b):
    """Out-of-place sum of two gradients, dense or row-sparse (never mutates either; the
    packs of a multi-output node's output gradients are the engine's own: see _OutputGrads)."""
    if isinstance(a, SparseTensor):
        return a + b
    if isinstance(b, SparseTensor):
        return b + a
    return a + b


def _check_gradient(node: Node, i: int, g):
    """Input ``i``'s gradient from ``node``, summed to the input's shape and cast to its dtype."""
    shape, dtype = node.input_meta[i]
    if type(g) is _OutputGrads:  # an output's gradient on its way to the node that made several outputs
        return g
    if isinstance(g, SparseTensor):
        if g.shape != shape:
            raise RuntimeError(f"{node.name()} returned a sparse gradient of shape {g.shape} for input {i} of shape {shape}")
        return g
    if not isinstance(g, np.ndarray):
        g = np.asarray(g)
    if g.shape != shape:
        if g.ndim < len(shape):
            raise _fewer_dimensions(node, i, g.shape, shape)
        g = sum_to_shape(g, shape)
    if g.dtype != dtype:
        g = g.astype(dtype)
    return g


def _fewer_dimensions(node: Node, i: int, got: tuple, shape: tuple) -> RuntimeError:
    # Broadcasting only adds dimensions, so no sum can bring such a gradient back to the input's shape.
    return RuntimeError(f"{node.name()} returned a gradient of shape {got} for input {i} of shape {shape}: "
                        "a gradient with fewer dimensions than its input cannot be reduced to input shape "
                        "(backward returns one gradient per input, of the output's (broadcast) shape)")


def _check_tensor_gradient(node: Node, i: int, g):
    """As :func:`_check_gradient`, recording the reduction and the cast (``create_graph``)."""
    if type(g) is _OutputGrads:
        return g
    if isinstance(g, SparseTensor):
        raise RuntimeError(_SPARSE_CREATE_GRAPH.format(node.name()))
    Tensor = _function.Tensor
    if not isinstance(g, Tensor):
        g = Tensor._make(np.asarray(g), False, None)  # computed from constants alone
    shape, dtype = node.input_meta[i]
    if g.shape != shape:
        if g.ndim < len(shape):
            raise _fewer_dimensions(node, i, tuple(g.shape), shape)
        g = sum_to_shape(g, shape)
    if g.dtype != dtype:
        g = g.to(dtype)
    return g


_SPARSE_CREATE_GRAPH = (
    "{} returned a sparse gradient, which cannot be differentiated again: create_graph=True "
    "is not supported with sparse gradients (use Embedding(sparse=False) or EmbeddingBag(sparse=False))"
)


# -- where gradients end up ----------------------------------------------------------------
class _Sink:
    """Where the gradients of one backward pass go, and the hooks on the way.

    * ``backward()``: into the ``.grad`` of every leaf reached;
    * ``backward(inputs=...)``: into the ``.grad`` of those tensors only (leaves
      or not);
    * ``autograd.grad`` (``capture=True``): into a list, one entry per input,
      touching no ``.grad``.
    """

    def __init__(self, inputs, capture: bool, create_graph: bool) -> None:
        self.create_graph = create_graph
        self.owner = _NoOwner() if create_graph else _Owner()
        self.capture = capture
        self.leaf_slots: dict = {}  # id(leaf) -> positions in ``inputs``
        self.node_slots: dict = {}  # node -> positions in ``inputs`` (non-leaf inputs)
        self.captured = None
        self.inputs = inputs
        if inputs is not None:
            for k, t in enumerate(inputs):
                if t.grad_fn is None:
                    self.leaf_slots.setdefault(id(t), []).append(k)
                else:
                    self.node_slots.setdefault(t.grad_fn, []).append(k)
            if capture:
                self.captured = [None] * len(inputs)
        self.at_nodes = bool(self.node_slots)

    def to_leaf(self, t, g) -> None:
        """A leaf's gradient: its hooks, then accumulation (or capture).

        As in PyTorch, a leaf that is not a destination (not among ``inputs``)
        is skipped, hooks included.
        """
        if self.inputs is not None and id(t) not in self.leaf_slots:
            return
        if t._hooks:
            g = _run_hooks(t._hooks, g, self.owner)
        if self.capture:
            for k in self.leaf_slots[id(t)]:
                self._capture(k, g)
        else:
            _accumulate(t, g, self.owner, self.create_graph)

    def at_node(self, node: Node, grad):
        """A non-leaf's complete gradient, before its node's backward: hooks, retain_grad, capture."""
        if node._hooks:
            grad = _run_hooks(node._hooks, grad, self.owner)
        if node._retained is not None:
            t = node._retained()
            if t is not None:
                _accumulate(t, grad, self.owner, self.create_graph, in_place=False)
        for k in self.node_slots.get(node, ()):
            if self.capture:
                self._capture(k, grad)
            else:
                t = self.inputs[k]
                if node._retained is None or node._retained() is not t:
                    _accumulate(t, grad, self.owner, self.create_graph, in_place=False)
        return grad

    def _capture(self, k: int, g) -> None:
        self.captured[k] = g if self.captured[k] is None else _add(self.captured[k], g)

    def results(self, allow_unused: bool):
        if not self.capture:
            return None
        if not allow_unused:
            for k, r in enumerate(self.captured):
                if r is None:
                    raise RuntimeError(
                        f"One of the differentiated Tensors (input {k}) appears to not have been used "
                        "in the graph. Set allow_unused=True if this is the desired behavior."
                    )
        return self.captured


def _run_hooks(hooks, grad, owner):
    """Each hook sees the gradient so far; a non-None result replaces it.

    As in PyTorch, the replacement must be a tensor of the same shape and dtype
    (anything else would reach ``.grad`` and the optimizer as a wrong update).
    """
    Tensor = _function.Tensor
    for hook in tuple(hooks):
        r = hook(_wrap(grad))
        if r is None:
            continue
        _check_hook_result(hook, grad, r)
        if isinstance(r, SparseTensor) or owner.create_graph:
            grad = r
        else:
            grad = r._array
            owner.mark(grad)  # the user may keep the returned tensor: never adopt its array
    return grad


def _check_hook_result(hook, grad, r) -> None:
    name = getattr(hook, "__name__", type(hook).__name__)
    if not isinstance(r, (_function.Tensor, SparseTensor)):
        raise TypeError(f"expected Tensor, but hook returned '{type(r).__name__}'")
    if r.shape != grad.shape:
        raise RuntimeError(f"hook '{name}' has changed the size of value (was {tuple(grad.shape)} got {tuple(r.shape)})")
    if r.dtype != grad.dtype:
        raise RuntimeError(f"hook '{name}' has changed the type of value (was {grad.dtype} got {r.dtype})")


# Accumulation into .grad is a read-modify-write: when several threads
# backpropagate into one shared leaf, each must see the sum the others left.
_accumulate_lock = threading.Lock()


def _accumulate(tensor, g, owner, create_graph: bool, in_place: bool = True) -> None:
    """Add ``g`` into ``tensor.grad``.

    First order: in place, as PyTorch does for leaves, so a reference to
    ``p.grad`` held by the user sees the sum (``retain_grad`` sums out of place,
    as PyTorch's does). Under ``create_graph``: out of place and recorded, so
    ``.grad`` has a ``grad_fn`` and can be differentiated again. Exact when
    several threads accumulate into one tensor (a lock).
    """
    with _accumulate_lock:
        old = tensor._grad
        if create_graph:
            if isinstance(old, SparseTensor):
                raise RuntimeError(_SPARSE_CREATE_GRAPH.format("a leaf"))
            tensor._grad = g.clone() if old is None else old + g
        elif old is None:
            tensor._grad = _wrap(owner.claim(g))
        elif isinstance(old, SparseTensor) or isinstance(g, SparseTensor):
            tensor._grad = _wrap(_add(old if isinstance(old, SparseTensor) else old._array, g))
        elif not in_place or old.grad_fn is not None or owner.kept_here(old._array):
            # A .grad left by create_graph is part of a graph: never write into it.
            tensor._grad = _wrap(owner.claim(old._array + g))
        else:
            old._array += g


def _wrap(g):
    if isinstance(g, (SparseTensor, _function.Tensor)):
        return g
    return _function.Tensor._make(g, False, None)


class _Owner:
    """Keeps ``.grad`` arrays private without copying every gradient.

    Ops may hand one array to several consumers (``Add`` returns ``grad`` twice).
    A leaf may keep an array as its ``.grad`` only if nothing else has seen it;
    otherwise it takes a copy. Arrays kept during this pass are then summed
    out of place, so a pending gradient that shares one is never changed under
    its feet. The result: in-place accumulation across backward calls and
    in-place clipping of ``.grad`` are safe, and the common case copies nothing.

    Arrays are remembered by weak reference, not by ``id()``: an array freed
    during the pass may give its id to a new one, which must not be mistaken
    for it (and copied for nothing).
    """

    __slots__ = ("seen", "kept")
    create_graph = False

    def __init__(self) -> None:
        self.seen: dict = {}  # id -> weakref of every array handed out during this pass
        self.kept: dict = {}  # the same, for arrays a .grad adopted

    def mark(self, g) -> None:
        if type(g) is np.ndarray:
            self.seen[id(g)] = weakref.ref(g)

    def claim(self, g):
        if isinstance(g, SparseTensor):
            return g
        if type(g) is not np.ndarray or g.base is not None or _holds(self.seen, g) or not g.flags.writeable:
            g = np.array(g)  # a NumPy scalar, a view, shared or read-only: a private copy
        self.seen[id(g)] = self.kept[id(g)] = weakref.ref(g)
        return g

    def kept_here(self, g) -> bool:
        return _holds(self.kept, g)


def _holds(table: dict, g) -> bool:
    ref = table.get(id(g))
    return ref is not None and ref() is g


class _NoOwner:
    """Under ``create_graph`` gradients are tensors combined out of place: nothing to own."""

    __slots__ = ()
    create_graph = True

    def mark(self, g) -> None:
        pass
