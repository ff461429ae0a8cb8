"""``Primitive``: the one way minigrad defines a differentiable operation.

An op is a subclass with two static methods written in NumPy::

    class Mul(Primitive):
        '''y = a * b;  VJP: ā = ȳ * b,  b̄ = ȳ * a.'''

        @staticmethod
        def forward(ctx, a, b):
            ctx.save_for_backward(a, b)
            return a * b

        @staticmethod
        def backward(ctx, grad):
            a, b = ctx.saved_tensors
            return grad * b, grad * a

``Mul.apply(x, y)`` unwraps the tensors, runs ``forward`` on their arrays and,
when grad mode is on and an input requires grad, records a :class:`Node` in the
graph. ``backward`` returns one gradient (or ``None``) per positional input. It
may return a gradient in the *broadcast* shape: the engine sums it back to the
input's shape, once, for every op, so no op handles broadcasting by hand.

One backward, every order
-------------------------
The same ``backward`` serves first and higher order. For an ordinary
``backward()`` the engine passes NumPy arrays and ``saved_tensors`` gives
arrays: plain NumPy, nothing recorded. With ``create_graph=True`` it passes
tensors instead, and ``saved_tensors`` gives the input tensors themselves (and,
for the output, a tensor whose ``grad_fn`` is this node); NumPy then hands every
operation on them to ``Tensor.__array_ufunc__``/``__array_function__``, which
run minigrad's differentiable ops, so the backward records its own graph. An
array saved that is neither an input nor the output is a constant.

Rules for op authors
--------------------
* Never modify ``grad`` in place: the engine may hand the same array to several
  consumers.
* Save inputs and the output with ``ctx.save_for_backward``: only those become
  tensors under ``create_graph``. Other arrays may be stored as plain ``ctx``
  attributes. Every array kept either way that is, or shares memory with, the
  data of an input tensor or of the output is version-checked before backward
  runs. Pass tensors to ``apply`` - positionally, inside a tuple (an index) or
  as keywords - rather than their ``.data``, so that the check knows them. All
  of it is released after backward (arrays, and tuples or lists holding arrays;
  small attributes such as shapes stay).
* An op that returns a row-sparse gradient sets ``ctx.sparse = True`` in
  forward: such a gradient cannot be differentiated again, and the engine says
  so under ``create_graph`` before running its backward.
* Write backward with NumPy functions and operators (``np.exp(x)``,
  ``g.sum(axis=0)`` is not one: use ``np.sum(g, axis=0)``) so that it also
  runs on tensors.
"""
from __future__ import annotations

import numpy as np

from minigrad.autograd.grad_mode import is_grad_enabled

# The tensor class. The tensor layer sits above autograd and registers it on
# import (see the end of minigrad/tensor.py), so this module imports nothing above it.
Tensor = None


def _register_tensor_type(cls) -> None:
    global Tensor
    Tensor = cls


class _Version:
    """A mutable in-place version counter, shared by a tensor, its detach() and its views."""

    __slots__ = ("value",)

    def __init__(self) -> None:
        self.value = 0


class RemovableHandle:
    """Returned by ``register_hook``: ``handle.remove()`` unregisters the hook (as PyTorch's)."""

    __slots__ = ("_hooks", "_hook")

    def __init__(self, hooks: list, hook) -> None:
        self._hooks, self._hook = hooks, hook

    def remove(self) -> None:
        """Unregister the hook; removing twice is harmless."""
        for k, h in enumerate(self._hooks):
            if h is self._hook:
                del self._hooks[k]
                return

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.remove()
        return False


class Node:
    """A recorded call of a :class:`Primitive`; also the ``ctx`` its methods receive.

    Seen from a tensor it is ``tensor.grad_fn``. ``next_functions`` has one entry per
    positional input: the producing ``Node`` of a non-leaf, the leaf ``Tensor``
    itself (its gradient is accumulated into ``.grad``), or ``None`` when that
    input needs no gradient.
    """

    # Engine bookkeeping lives in slots; whatever an op stores on ctx goes into
    # __dict__, which backward clears so that a freed graph holds no arrays.
    __slots__ = (
        "fn",
        "next_functions",
        "input_meta",
        "needs_input_grad",
        "_saved",
        "_saved_sources",
        "_watched",
        "_had_state",
        "_freed",
        "_hooks",
        "_retained",
        "_inputs",
        "_create_graph",
        "__dict__",
        "__weakref__",
    )

    def __init__(self, fn: type) -> None:
        self.fn = fn
        self.next_functions = ()
        self.input_meta = ()
        self.needs_input_grad = ()
        self._saved = ()
        # Per saved array: None (a constant), or (tensor, counter, version) where
        # tensor is the input Tensor it is the data of, or None for the output.
        self._saved_sources = ()
        # (name, array, counter, version) of every other array kept on ctx that
        # shares memory with an input or the output: checked before backward.
        self._watched = ()
        self._had_state = False
        self._freed = False
        self._hooks = None
        self._retained = None
        self._inputs = ()
        self._create_graph = False

    # -- the ctx API ---------------------------------------------------------
    def save_for_backward(self, *arrays) -> None:
        """Keep ``arrays`` (inputs or the output of forward) for backward.

        The version of each tensor they belong to is recorded, so that an
        in-place change before backward raises instead of giving a wrong gradient.
        """
        sources = []
        for a in arrays:
            source = None
            for t in self._inputs:
                if isinstance(t, Tensor) and t.data is a:
                    source = (t, t._vc, t._vc.value)
                    break
            sources.append(source)
        self._saved = arrays
        self._saved_sources = sources

    @property
    def saved_tensors(self) -> tuple:
        """What :meth:`save_for_backward` kept, after the version check.

        Arrays for a first-order backward; under ``create_graph`` the inputs as
        their tensors and the output as a tensor whose ``grad_fn`` is this node.
        """
        if self._freed and self._had_state:
            raise RuntimeError(_FREED_MESSAGE)
        for a, s in zip(self._saved, self._saved_sources):
            if s is not None and s[1].value != s[2]:
                raise _modified_error(self, f"{a.dtype} array of shape {list(a.shape)}", s[1].value, s[2])
        if not self._create_graph:
            return self._saved
        return tuple(self._unpack(a, s) for a, s in zip(self._saved, self._saved_sources))

    def _unpack(self, a, source):
        if source is None:
            return a  # neither an input nor the output: a constant
        tensor, counter, _ = source
        if tensor is not None:
            return tensor
        # The output, re-made rather than kept: a node holding its own output
        # tensor would be a reference cycle (PyTorch's SavedVariable does the same).
        out = Tensor._make(a, True, self)
        out._vc = counter
        return out

    def check_versions(self) -> None:
        """Raise if an array kept outside ``save_for_backward`` was changed in place since forward."""
        for name, a, counter, version in self._watched:
            if counter.value != version:
                what = f"{a.dtype} array of shape {list(a.shape)} kept as {name}"
                raise _modified_error(self, what, counter.value, version)

    def name(self) -> str:
        """The node's name as shown in a tensor's repr, e.g. ``'MulBackward'``."""
        return f"{self.fn.__name__}Backward"

    def register_hook(self, fn) -> RemovableHandle:
        """Call ``fn(grad)`` on the gradient of this node's output before its backward; a non-None result replaces it."""
        if self._hooks is None:
            self._hooks = []
        self._hooks.append(fn)
        return RemovableHandle(self._hooks, fn)

    def release(self) -> None:
        """Drop every array saved for backward (called by the engine unless retain_graph).

        Small non-array attributes (shapes, axes, flags) stay, so - as in PyTorch -
        a node that saved no arrays (``SumBackward``) can run backward again, while
        one that did raises the "backward through the graph a second time" error.
        """
        d = self.__dict__
        dropped = [k for k, v in d.items() if _holds_array(v)]
        for k in dropped:
            del d[k]
        self._had_state = self._had_state or bool(self._saved) or bool(dropped)
        self._saved = ()
        self._saved_sources = ()
        self._watched = ()
        self._freed = True

    def __repr__(self) -> str:
        return f"<{self.name()}>"


def _holds_array(v) -> bool:
    if isinstance(v, (tuple, list)):
        return any(isinstance(e, np.ndarray) for e in v)
    return isinstance(v, np.ndarray) or getattr(v, "is_sparse", False)


def _modified_error(node: Node, what: str, now: int, expected: int) -> RuntimeError:
    return RuntimeError(
        "one of the variables needed for gradient computation has been modified by an "
        f"inplace operation: [{what}], saved by {node.name()}, is at version {now}; "
        f"expected version {expected} instead. Hint: do the in-place operation on a "
        "clone(), or after backward."
    )


_FREED_MESSAGE = (
    "Trying to backward through the graph a second time (or directly access saved tensors "
    "after they have already been freed). Saved intermediate values of the graph are freed "
    "when you call .backward() or autograd.grad(). Specify retain_graph=True if you need to "
    "backward through the graph a second time or if you need to access saved tensors after "
    "calling backward."
)


class Primitive:
    """Base class of every differentiable op of minigrad; see the module docstring.

    Subclasses set ``is_view = True`` when the output of ``forward`` may be a NumPy
    view of the first input: if it is, the output tensor shares the input's version
    counter, so an in-place change through the view is seen by the check.
    """

    is_view = False

    @staticmethod
    def forward(ctx: Node, *args, **kwargs):  # pragma: no cover - abstract
        """Compute the op's output from NumPy arrays.

        Parameters
        ----------
        ctx : Node
            Save what backward needs with ``ctx.save_for_backward`` or as attributes.
        *args
            The inputs: arrays where ``apply`` received tensors, other values unchanged.

        Returns
        -------
        ndarray
        """
        raise NotImplementedError

    @staticmethod
    def backward(ctx: Node, grad):  # pragma: no cover - abstract
        """The vector-Jacobian product: the gradient of each positional input.

        Parameters
        ----------
        ctx : Node
            The context ``forward`` filled in.
        grad : ndarray (a Tensor under ``create_graph``)
            Gradient of the loss with respect to the output; never modify it in place.

        Returns
        -------
        ndarray or None, or a tuple with one per positional input
            ``None`` for inputs that need no gradient (see ``ctx.needs_input_grad``);
            a gradient in the broadcast shape is summed back by the engine.
        """
        raise NotImplementedError

    @classmethod
    def apply(cls, *args, **kwargs):
        """Run ``forward`` on the arrays of ``args`` and record the call if needed.

        Tensors may be positional arguments (each one an input with its own
        gradient), inside a tuple argument (an index) or keyword arguments;
        ``forward`` receives their arrays.
        """
        # One pass over the arguments collects the arrays and, per input, the edge
        # the node will need; the common no-grad case then builds nothing else.
        arrays = []
        edges = None
        others = None  # tensors inside a tuple or passed by keyword: version-checked, no gradient
        for k, a in enumerate(args):
            if isinstance(a, Tensor):
                arrays.append(a.data)
                if a._requires_grad:
                    if edges is None:
                        edges = [None] * len(args)
                    edges[k] = a
            elif type(a) is tuple and _any_tensor(a):
                others = [e for e in a if isinstance(e, Tensor)] + (others or [])
                arrays.append(tuple(e.data if isinstance(e, Tensor) else e for e in a))
            else:
                arrays.append(a)
        if kwargs and _any_tensor(kwargs.values()):
            others = [v for v in kwargs.values() if isinstance(v, Tensor)] + (others or [])
            kwargs = {n: v.data if isinstance(v, Tensor) else v for n, v in kwargs.items()}
        ctx = Node(cls)
        record = edges is not None and is_grad_enabled()
        if record:
            ctx._inputs = args
            ctx.needs_input_grad = tuple(e is not None for e in edges)
        out = cls.forward(ctx, *arrays, **kwargs)
        if not record:
            result = Tensor._make(out, False, None)
            if cls.is_view and isinstance(args[0], Tensor) and np.may_share_memory(out, arrays[0]):
                result._vc = args[0]._vc
            return result

        ctx._inputs = ()
        next_functions = []
        input_meta = []
        for a in edges:
            if a is None:
                next_functions.append(None)
                input_meta.append(None)
            else:
                fn = a.grad_fn
                next_functions.append(a if fn is None else fn)
                data = a.data
                input_meta.append((data.shape, data.dtype))
        ctx.next_functions = tuple(next_functions)
        ctx.input_meta = tuple(input_meta)
        result = Tensor._make(out, True, ctx)
        if cls.is_view and isinstance(args[0], Tensor) and np.may_share_memory(out, arrays[0]):
            result._vc = args[0]._vc
            # Writing into this view in place would change its base behind the
            # base's own graph; Tensor._check_inplace refuses it.
            result._recorded_view = True
        if ctx._saved:
            _mark_saved_output(ctx, result)
        if ctx.__dict__ or (ctx._saved and None in ctx._saved_sources):
            _watch_kept_arrays(ctx, args, others, result)
        return result


def _any_tensor(values) -> bool:
    for v in values:
        if isinstance(v, Tensor):
            return True
    return False


def _mark_saved_output(ctx: Node, out) -> None:
    """Saved arrays that are the output: the output tensor's counter, and no input tensor."""
    counter = out._vc
    ctx._saved_sources = [
        (None, counter, counter.value) if (s is None and a is out.data) else s
        for a, s in zip(ctx._saved, ctx._saved_sources)
    ]


def _watch_kept_arrays(ctx: Node, args, others, out) -> None:
    """Version-check every array ctx keeps that the saved-tensor bookkeeping does not.

    Plain ctx attributes (and arrays inside tuples or lists there), and saved
    arrays that are not exactly an input's or the output's data, are checked
    if they are, or may share memory with, the data of a tensor given to
    ``apply`` or of the output: an in-place change to that tensor before
    backward would change them behind the op's back.
    """
    kept = list(ctx.__dict__.items())
    kept += [(f"saved_tensors[{i}]", a) for i, (a, s) in enumerate(zip(ctx._saved, ctx._saved_sources)) if s is None]
    tensors = [a for a in args if isinstance(a, Tensor)] + (others or []) + [out]
    watched = []
    for name, value in kept:
        for a in value if isinstance(value, (tuple, list)) else (value,):
            if not isinstance(a, np.ndarray):
                continue
            for t in tensors:
                if a is t.data or np.may_share_memory(a, t.data):
                    watched.append((name if name.startswith("saved") else f"ctx.{name}", a, t._vc, t._vc.value))
                    break
    ctx._watched = tuple(watched)
