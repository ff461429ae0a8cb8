"""``Primitive``: the one way minigrad defines a differentiable operation.

An op is a subclass with two static methods that work on NumPy arrays::

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

``Mul.apply(x, y)`` unwraps the tensors, runs ``forward`` and, when grad mode is
on and an input requires grad, records a :class:`Node` in the graph. ``backward``
returns one gradient (an array, or ``None``) per positional input. It may return
a gradient in the *broadcast* shape: the engine sums it back to the input's shape,
once, for every op, so no op handles broadcasting by hand.

Rules for op authors
--------------------
* Never modify ``grad`` in place: the engine may hand the same array to several
  consumers.
* Save with ``ctx.save_for_backward`` anything that is an input or the output
  (this is what the in-place version check watches); other arrays may be stored
  as plain ``ctx`` attributes. Both are released after backward (arrays, and
  tuples or lists holding arrays; small attributes such as shapes stay).
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
        "_saved_versions",
        "_had_state",
        "_freed",
        "_hooks",
        "_retained",
        "_inputs",
        "__dict__",
        "__weakref__",
    )

    def __init__(self, fn: type) -> None:
        self.fn = fn
        self.next_functions = ()
        self.input_meta = ()
        self.needs_input_grad = ()
        self._saved = ()
        self._saved_versions = ()
        self._had_state = False
        self._freed = False
        self._hooks = None
        self._retained = None
        self._inputs = ()

    # -- the ctx API ---------------------------------------------------------
    def save_for_backward(self, *arrays) -> None:
        """Keep ``arrays`` (inputs or the output of forward) for backward.

        The version of each tensor they belong to is recorded, so that an
        in-place change before backward raises instead of giving a wrong gradient.
        """
        versions = []
        for a in arrays:
            counter = None
            for t in self._inputs:
                if isinstance(t, Tensor) and t.data is a:
                    counter = t._vc
                    break
            versions.append(None if counter is None else (counter, counter.value))
        self._saved = arrays
        self._saved_versions = versions

    @property
    def saved_tensors(self) -> tuple:
        """The arrays given to :meth:`save_for_backward`, after the version check."""
        if self._freed and self._had_state:
            raise RuntimeError(_FREED_MESSAGE)
        for i, v in enumerate(self._saved_versions):
            if v is not None and v[0].value != v[1]:
                a = self._saved[i]
                raise RuntimeError(
                    "one of the variables needed for gradient computation has been modified by an "
                    f"inplace operation: [{a.dtype} array of shape {list(a.shape)}], saved by "
                    f"{self.name()}, is at version {v[0].value}; expected version {v[1]} instead. "
                    "Hint: do the in-place operation on a clone(), or after backward."
                )
        return self._saved

    def mark_saved_output(self, out_tensor) -> None:
        """Engine use: give output arrays saved in forward the output tensor's counter."""
        counter = out_tensor._vc
        self._saved_versions = [
            (counter, counter.value) if (v is None and a is out_tensor.data) else v
            for a, v in zip(self._saved, self._saved_versions)
        ]

    def name(self) -> str:
        """The node's name as shown in a tensor's repr, e.g. ``'MulBackward'``."""
        return f"{self.fn.__name__}Backward"

    def register_hook(self, fn) -> None:
        """Call ``fn(grad)`` on the gradient of this node's output before its backward; a non-None result replaces it."""
        if self._hooks is None:
            self._hooks = []
        self._hooks.append(fn)

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
        self._saved_versions = ()
        self._freed = True

    def __repr__(self) -> str:
        return f"<{self.name()}>"


def _holds_array(v) -> bool:
    if isinstance(v, (tuple, list)):
        return any(isinstance(e, np.ndarray) for e in v)
    return isinstance(v, np.ndarray) or getattr(v, "is_sparse", False)


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
        grad : ndarray
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
        """Run ``forward`` on the arrays of ``args`` and record the call if needed."""
        # One pass over the arguments collects the arrays and, per input, the edge
        # the node will need; the common no-grad case then builds nothing else.
        arrays = []
        edges = None
        for k, a in enumerate(args):
            if isinstance(a, Tensor):
                arrays.append(a.data)
                if a._requires_grad:
                    if edges is None:
                        edges = [None] * len(args)
                    edges[k] = a
            else:
                arrays.append(a)
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
            ctx.mark_saved_output(result)
        return result
