"""``Primitive``: the one way minigrad defines a differentiable operation.

An op is a subclass with two static methods written in NumPy::

    class Hypot(Primitive):
        '''y = √(a² + b²);  VJP: ā = ȳ · a / y,  b̄ = ȳ · b / y.'''

        @staticmethod
        def forward(ctx, a, b):
            y = np.hypot(a, b)
            ctx.save_for_backward(a, b, y)
            return y

        @staticmethod
        def backward(ctx, grad):
            a, b, y = ctx.saved_tensors
            return grad * a / y, grad * b / y

``Hypot.apply(x, y)`` unwraps the tensors, runs ``forward`` on their arrays and,
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
  as keywords - rather than their arrays, so that the check knows them. All
  of it is released after backward (arrays, and tuples or lists holding arrays
  at any depth; small attributes such as shapes stay).
* An op that returns a row-sparse gradient sets ``ctx.sparse = True`` in
  forward: such a gradient cannot be differentiated again, and the engine says
  so under ``create_graph`` before running its backward.
* Write backward with NumPy functions and operators (``np.exp(x)``,
  ``g.sum(axis=0)`` is not one: use ``np.sum(g, axis=0)``) so that it also
  runs on tensors.
* An op with several outputs (``Unbind``, ``Split``) returns a tuple of arrays
  from ``forward``. Each becomes a tensor with a small node of its own, and the
  op's ``backward`` runs once for all of them: its ``grad`` holds one gradient
  per output, ``None`` for an output that received none (iterate it). Such an
  op saves inputs only, not outputs.
"""
from __future__ import annotations

import functools

import numpy as np

from minigrad.autograd.grad_mode import is_grad_enabled, no_grad
from minigrad.sparse import SparseTensor

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
                if isinstance(t, Tensor) and t._array is a:
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
        """The node's name as shown in a tensor's repr, e.g. ``'MulBackward0'`` (its type's name, as in PyTorch)."""
        return type(self).__name__

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
        return f"<{self.name()} object at {id(self):#x}>"


_NODE_TYPES: dict = {}


def node_type(name: str, base: type = Node) -> type:
    """The subclass of ``base`` named ``name`` (``MulBackward0``), made once on first use.

    A node's type carries PyTorch's name for the op that recorded it, so
    ``type(y.grad_fn).__name__``, ``y.grad_fn.name()`` and the reprs read as PyTorch's.
    The subclasses add no slots: a node can change type to another name of the same base.
    """
    key = (name, base)
    t = _NODE_TYPES.get(key)
    if t is None:
        t = _NODE_TYPES[key] = type(name, (base,), {"__slots__": (), "__module__": __name__})
    return t


def rename_node(out, name: str):
    """Give the node that recorded ``out`` the name ``name``; return ``out``.

    For a public function that shares an op with others (``t``, ``transpose`` and
    ``permute`` are one ``Permute``) or is built from other ops: its result's
    node shows the name PyTorch gives the node of that function's result. Call it
    only on a tensor the function has just made (never on one of its inputs).
    """
    if out.grad_fn is not None:
        out.grad_fn.__class__ = node_type(name)
    return out


def _holds_array(v) -> bool:
    if isinstance(v, (tuple, list)):
        # nested too (Recurrence keeps a tuple of arrays per step); ints in a shape need no call
        return any(isinstance(e, (np.ndarray, tuple, list)) and _holds_array(e) for e in v)
    # isinstance, not getattr(v, "is_sparse", False): on the ints and None most
    # ops keep, getattr raises and catches an AttributeError (~1 µs per attribute).
    return isinstance(v, (np.ndarray, SparseTensor))


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
    #: PyTorch's name for the op's node, where it is not the class name + ``Backward0``.
    node_name = None

    def __init_subclass__(cls, **kwargs) -> None:
        super().__init_subclass__(**kwargs)
        cls._node_type = node_type(cls.__dict__.get("node_name") or f"{cls.__name__}Backward0")

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
        ndarray, or a tuple of ndarrays for an op with several outputs
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
            For an op with several outputs, an iterable of one such gradient (or
            None) per output.

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
                arrays.append(a._array)
                if a._requires_grad:
                    if edges is None:
                        edges = [None] * len(args)
                    edges[k] = a
            elif type(a) is tuple and _any_tensor(a):
                others = [e for e in a if isinstance(e, Tensor)] + (others or [])
                arrays.append(tuple(e._array if isinstance(e, Tensor) else e for e in a))
            else:
                arrays.append(a)
        if kwargs and _any_tensor(kwargs.values()):
            others = [v for v in kwargs.values() if isinstance(v, Tensor)] + (others or [])
            kwargs = {n: v._array if isinstance(v, Tensor) else v for n, v in kwargs.items()}
        ctx = cls._node_type(cls)
        record = edges is not None and is_grad_enabled()
        if record:
            ctx._inputs = args
            # (list comprehensions, not generators, in this function: a generator costs ~0.5 µs
            # to start, and apply runs for every op)
            ctx.needs_input_grad = tuple([e is not None for e in edges])
        out = cls.forward(ctx, *arrays, **kwargs)
        if not record:
            if type(out) is tuple:
                return _several_outputs(cls, None, out, args, others)
            result = Tensor._make(out, False, None)
            if cls.is_view and isinstance(args[0], Tensor) and np.may_share_memory(out, arrays[0]):
                result._vc = args[0]._vc
            return result

        ctx._inputs = ()
        # Per input: the edge (its node, the leaf itself, or None: needs no gradient) and
        # the shape and dtype its gradient must have.
        ctx.next_functions = tuple([None if a is None else a.grad_fn or a for a in edges])
        ctx.input_meta = tuple([None if a is None else (a._array.shape, a._array.dtype) for a in edges])
        if type(out) is tuple:
            return _several_outputs(cls, ctx, out, args, others)
        result = Tensor._make(out, True, ctx)
        if cls.is_view and isinstance(args[0], Tensor) and np.may_share_memory(out, arrays[0]):
            result._vc = args[0]._vc
            # Writing into this view in place would change its base behind the
            # base's own graph; Tensor._check_inplace refuses it.
            result._recorded_view = True
        # Most ops save only their inputs (Mul) or nothing (Add): the two passes
        # below then have nothing to do and are skipped.
        if None in ctx._saved_sources:
            _mark_saved_output(ctx, result, out)
        if ctx.__dict__ or None in ctx._saved_sources:
            _watch_kept_arrays(ctx, args, others, (result,))
        return result


def _several_outputs(cls, ctx, outs: tuple, args, others) -> tuple:
    """The tensors of an op whose ``forward`` returned a tuple of arrays (recorded when ``ctx`` is given).

    Each output's ``grad_fn`` is a node of its own, of the op's node type (so it
    has its own hooks and ``retain_grad``), which packs the output's gradient for
    ``ctx`` (:class:`_OutputGrads`): ``ctx``'s backward then runs once, with every
    output's gradient. Why: for ``q, k, v = x`` in the GPT of
    benchmarks/bench_training.py, one indexing node per piece made a zero array of
    x's shape each, wrote its slice, and the engine summed the three; one backward
    writes each piece's gradient once into one array. The unpack and its backward
    went from 5.3 to 2.4 ms per block (x's gradient alone, without unpacking: 2.4 ms),
    and the whole training step takes 3% less time.

    Outputs of a view op that share the first input's memory share its version
    counter, as a single output does.
    """
    base = args[0] if cls.is_view and isinstance(args[0], Tensor) else None
    results = []
    for k, o in enumerate(outs):
        grad_fn = None if ctx is None else _output_node(cls._node_type, ctx, cls.__name__, k, len(outs))
        t = Tensor._make(o, ctx is not None, grad_fn)
        if base is not None and np.may_share_memory(o, base._array):
            t._vc = base._vc
            if ctx is not None:
                t._recorded_view = True  # see Primitive.apply
        results.append(t)
    if ctx is not None and (ctx.__dict__ or None in ctx._saved_sources):
        _watch_kept_arrays(ctx, args, others, results)
    return tuple(results)


def _any_tensor(values) -> bool:
    for v in values:
        if isinstance(v, Tensor):
            return True
    return False


def _mark_saved_output(ctx: Node, out, raw) -> None:
    """Saved arrays that are the output: the output tensor's counter, and no input tensor.

    ``raw`` is what forward returned: a NumPy ufunc on 0-d inputs returns a scalar,
    which the tensor wraps in a new array, so the saved object is ``raw``, not ``out._array``.
    """
    counter = out._vc
    ctx._saved_sources = [
        (None, counter, counter.value) if (s is None and (a is raw or a is out._array)) else s
        for a, s in zip(ctx._saved, ctx._saved_sources)
    ]


def _watch_kept_arrays(ctx: Node, args, others, outs) -> None:
    """Version-check every array ctx keeps that the saved-tensor bookkeeping does not.

    Plain ctx attributes (and arrays inside tuples or lists there), and saved
    arrays that are not exactly an input's or the output's data, are checked
    if they are, or may share memory with, the data of a tensor given to
    ``apply`` or of an output: an in-place change to that tensor before
    backward would change them behind the op's back.
    """
    # Plain loops, names formatted only for what is watched: this runs for every recorded op
    # that keeps an array (embedding, tanh, the losses). With _may_share's owner test, an
    # embedding's check went from 4.8 to 2.8 µs, a reshape's from 2.8 to 1.1, a cross-entropy's
    # from 6.3 to 4.7 (the three are ~10% of a makemore MLP's forward pass).
    ndarray = np.ndarray
    kept = []
    for name, value in ctx.__dict__.items():
        if isinstance(value, ndarray):
            kept.append((name, value))
        elif type(value) is tuple or type(value) is list:
            for a in value:
                if isinstance(a, ndarray):
                    kept.append((name, a))
    if None in ctx._saved_sources:
        for i, (a, s) in enumerate(zip(ctx._saved, ctx._saved_sources)):
            if s is None and isinstance(a, ndarray):
                kept.append((i, a))
    if not kept:  # only shapes, axes and flags (Sum): nothing can change behind the op's back
        return
    tensors = [a for a in args if isinstance(a, Tensor)] + (others or []) + list(outs)
    watched = []
    for name, a in kept:
        for t in tensors:
            if _may_share(a, t._array):
                label = f"saved_tensors[{name}]" if type(name) is int else f"ctx.{name}"
                watched.append((label, a, t._vc, t._vc.value))
                break
    ctx._watched = tuple(watched)


def _may_share(a: np.ndarray, b) -> bool:
    """``np.may_share_memory(a, b)``, without the call where the answer is known.

    An array's memory belongs to its root: the array itself if it owns its data
    (``base`` None), else its ``base``, which NumPy points at the array owning the
    memory. Two arrays whose roots are different owning arrays share nothing: that
    answer costs a few attribute reads, where the NumPy call (~1-2 µs per pair) ran
    for every view an op kept (a reshaped output, a target's flattened indices).
    Views of one owner, and arrays viewing other objects' memory (a buffer,
    ``as_strided``), get NumPy's bounds check: two tensors made from disjoint slices
    of one array have version counters of their own, and a kept array must be
    watched with the counter of the one it really overlaps.
    """
    if a is b:
        return True
    ra = a.base
    if ra is None:
        ra = a
    rb = getattr(b, "base", 0)
    if rb is None:
        rb = b
    if ra is not rb and type(ra) is np.ndarray and ra.base is None and type(rb) is np.ndarray and rb.base is None:
        return False
    return np.may_share_memory(a, b)


# -- PyTorch's autograd.Function: ops written by users, on tensors -------------------------------
class FunctionCtx(Node):
    """The ``ctx`` of a :class:`Function` (and its node in the graph), as PyTorch's.

    ``save_for_backward`` takes tensors and ``saved_tensors`` gives tensors; the
    other methods are PyTorch's: ``needs_input_grad``, ``mark_non_differentiable``,
    ``set_materialize_grads``, ``mark_dirty``.
    """

    __slots__ = ("_non_differentiable", "_dirty", "_materialize", "_output_meta", "_output_ids")

    def __init__(self, fn) -> None:
        super().__init__(fn)
        self._non_differentiable = ()
        self._dirty = ()
        self._materialize = True
        self._output_meta = ()
        self._output_ids = ()

    def save_for_backward(self, *tensors) -> None:
        """Keep ``tensors`` (inputs, outputs or intermediate tensors, or None) for backward, version-checked."""
        for t in tensors:
            if t is not None and not isinstance(t, Tensor):
                raise TypeError(f"save_for_backward can only save variables, but argument {len(self._saved)} is of type {type(t).__name__}")
        self._saved = tensors
        self._saved_sources = tuple(None if t is None else (t, t._vc, t._vc.value) for t in tensors)

    @property
    def saved_tensors(self) -> tuple:
        """The tensors given to :meth:`save_for_backward`, after the version check."""
        if self._freed and self._had_state:
            raise RuntimeError(_FREED_MESSAGE)
        out = []
        for t, s in zip(self._saved, self._saved_sources):
            if s is None:
                out.append(None)
                continue
            tensor, counter, version = s
            if counter.value != version:
                what = f"{t._array.dtype} tensor of shape {list(t._array.shape)}"
                raise _modified_error(self, what, counter.value, version)
            if isinstance(t, _SavedOutput):
                t = self._remade_output(t)
                t._vc = counter
            out.append(t)
        return tuple(out)

    def _remade_output(self, saved: "_SavedOutput"):
        """An output, re-made around its array, with this node (or its output's node) as grad_fn."""
        grad_fn = self
        if saved.count > 1:
            name = self.fn.__name__
            grad_fn = _output_node(node_type(f"{name}Backward"), self, name, saved.k, saved.count)
        t = Tensor._make(saved.array, True, grad_fn)
        return t

    def mark_non_differentiable(self, *tensors) -> None:
        """Outputs that get no gradient (e.g. indices): they do not require grad, backward gets zeros (or None) for them."""
        self._non_differentiable = tuple(id(t) for t in tensors)

    def mark_dirty(self, *tensors) -> None:
        """Inputs that forward modified in place (and returns): they take the node as their history."""
        self._dirty = tuple(id(t) for t in tensors)

    def set_materialize_grads(self, value: bool) -> None:
        """Whether backward gets zeros (default) or None for outputs whose gradient was not computed."""
        self._materialize = bool(value)


class _SavedOutput:
    """An output given to save_for_backward: its position and array (the tensor is re-made on unpacking)."""

    __slots__ = ("k", "count", "array")

    def __init__(self, k: int, count: int, array) -> None:
        self.k, self.count, self.array = k, count, array


class _OutputGrads:
    """The gradients of the outputs of a multi-output node, summed as they arrive.

    Each output has a small node of its own (:class:`_SelectOutput`), so that a
    tensor's ``grad_fn`` stays one node; it sends the output's gradient on in a
    pack, the engine sums (``+``) the packs that meet at the node that made the
    outputs, and that node's backward iterates the sum: one gradient per output,
    None for an output that received none.
    """

    __slots__ = ("n", "by_output")

    def __init__(self, n: int, k: int, grad) -> None:
        self.n, self.by_output = n, {k: grad}

    def __add__(self, other: "_OutputGrads") -> "_OutputGrads":
        # Each pack is made by one output node's backward and then held by the engine's
        # table of pending gradients alone, so the sum grows the left pack in place:
        # O(1) per arriving gradient, where a new pack per sum makes the n rows of
        # ``for row in x`` cost O(n²). The gradients themselves are summed out of place.
        for k, g in other.by_output.items():
            mine = self.by_output.get(k)
            self.by_output[k] = g if mine is None else mine + g
        return self

    def __iter__(self):
        return (self.by_output.get(k) for k in range(self.n))


class _SelectOutput:
    """The backward of the node of output ``k`` of ``n``: packs its gradient for the node that made the outputs."""

    def __init__(self, name: str, k: int, n: int) -> None:
        self.__name__, self.k, self.n = name, k, n

    def backward(self, ctx, grad):
        return (_OutputGrads(self.n, self.k, grad),)


def _output_node(node_cls: type, source: Node, name: str, k: int, n: int) -> Node:
    """A node of type ``node_cls`` for output ``k`` of the ``n`` that ``source`` made: the output's ``grad_fn``."""
    node = node_cls(_SelectOutput(name, k, n))
    node.next_functions, node.input_meta, node.needs_input_grad = (source,), ((None, None),), (True,)
    return node


class _TensorLevelBackward:
    """What the engine calls for a :class:`Function`: tensors in, the user's backward, arrays or tensors out."""

    def __init__(self, cls) -> None:
        self.cls = cls
        self.__name__ = cls.__name__
        # PyTorch names a custom Function's node after the class, without a number.
        self.node_type = node_type(f"{cls.__name__}Backward", FunctionCtx)

    def backward(self, ctx: FunctionCtx, grad):
        create_graph = ctx._create_graph
        grads = tuple(grad) if isinstance(grad, _OutputGrads) else (grad,)
        wrapped = []
        for g, meta in zip(grads, ctx._output_meta):
            if g is None and ctx._materialize:
                g = np.zeros(*meta)
            wrapped.append(g if g is None or isinstance(g, Tensor) else Tensor._make(g, False, None))
        user_backward = self.cls.backward
        if getattr(user_backward, "_once_differentiable", False) and create_graph:
            with no_grad():
                result = user_backward(ctx, *wrapped)
            result = _delay_error(result, self.__name__, wrapped)
        else:
            result = user_backward(ctx, *wrapped)
        if not isinstance(result, tuple):
            result = (result,)
        n = len(ctx.next_functions)
        if len(result) < n or any(g is not None for g in result[n:]):
            raise RuntimeError(
                f"function {self.__name__}Backward returned an incorrect number of gradients (expected {n}, got {len(result)})"
            )
        out = []
        for k, g in enumerate(result[:n]):
            if g is None or not ctx.needs_input_grad[k]:
                out.append(None)
            elif not isinstance(g, Tensor):
                raise TypeError(f"function {self.__name__}Backward returned a gradient of type {type(g).__name__} for input {k}, expected a Tensor or None")
            else:
                out.append(g if create_graph else g._array)
        return tuple(out)


def _delay_error(result, name, grad_outputs):
    """once_differentiable under create_graph: if the incoming gradients are part of a graph,
    the results are too - through a node that raises when differentiated (PyTorch's DelayedError)."""
    anchor = next((g for g in grad_outputs if isinstance(g, Tensor) and g.requires_grad), None)
    if anchor is None:
        return result
    items = result if isinstance(result, tuple) else (result,)
    out = tuple(_OnceDifferentiable.apply(g, anchor, name=name) if isinstance(g, Tensor) else g for g in items)
    return out if isinstance(result, tuple) else out[0]


class _OnceDifferentiable(Primitive):
    """y = x, whose backward raises: the gradient of a Function marked ``once_differentiable``."""

    @staticmethod
    def forward(ctx, x, anchor, name):
        ctx.fn_name = name
        return x

    @staticmethod
    def backward(ctx, grad):
        raise RuntimeError(
            f"trying to differentiate twice a function that was marked with @once_differentiable ({ctx.fn_name})"
        )


def once_differentiable(backward):
    """Decorate a :class:`Function`'s ``backward`` that cannot itself be differentiated.

    It then runs without recording even under ``create_graph``, and differentiating
    its result again raises instead of silently giving zero.
    """
    @functools.wraps(backward)
    def wrapper(ctx, *grads):
        return backward(ctx, *grads)

    wrapper._once_differentiable = True
    return wrapper


class Function:
    """An op written by a user, on tensors: PyTorch's ``torch.autograd.Function``.

    ``forward(ctx, *args)`` receives tensors (it runs with grad mode off) and
    returns a tensor or a tuple of them; ``backward(ctx, *grad_outputs)``
    receives one gradient tensor per output and returns one tensor (or None) per
    input of forward. Call it as ``MyFn.apply(*args)``. Alternatively, as in
    PyTorch, write ``forward(*args)`` without ctx and a static
    ``setup_context(ctx, inputs, output)`` that fills ctx.

    ``backward`` is written with tensor operations, so under ``create_graph``
    it is recorded and differentiated again, unless decorated with
    :func:`once_differentiable`.

    minigrad's own ops are the lower level, :class:`Primitive`: NumPy arrays in
    and out, which is what lets one backward formula serve every order.

    Examples
    --------
    >>> import minigrad
    >>> class Cube(minigrad.autograd.Function):
    ...     @staticmethod
    ...     def forward(ctx, x):
    ...         ctx.save_for_backward(x)
    ...         return x ** 3
    ...
    ...     @staticmethod
    ...     def backward(ctx, grad_output):
    ...         (x,) = ctx.saved_tensors
    ...         return grad_output * 3 * x ** 2
    >>> x = minigrad.tensor([2.0], requires_grad=True)
    >>> Cube.apply(x).sum().backward()
    >>> x.grad
    tensor([12.])
    """

    @staticmethod
    def forward(*args, **kwargs):  # pragma: no cover - abstract
        """Compute the outputs from tensors (grad mode is off here)."""
        raise NotImplementedError("You must implement the forward function for custom autograd.Function.")

    @staticmethod
    def setup_context(ctx, inputs, output):
        """Fill ``ctx`` from the inputs and the output, when ``forward`` takes no ctx."""
        raise NotImplementedError("setup_context is not implemented.")

    @staticmethod
    def backward(ctx, *grad_outputs):  # pragma: no cover - abstract
        """One gradient tensor (or None) per input of forward, from one per output."""
        raise NotImplementedError("You must implement either the backward or vjp method for your custom autograd.Function to use it with backward mode AD.")

    @classmethod
    def apply(cls, *args, **kwargs):
        """Run ``forward`` and, when an input requires grad and grad mode is on, record the call."""
        adapter = cls.__dict__.get("_engine_backward")
        if adapter is None:
            adapter = _TensorLevelBackward(cls)
            cls._engine_backward = adapter
        ctx = adapter.node_type(adapter)
        edges = [a if isinstance(a, Tensor) and a._requires_grad else None for a in args]
        record = is_grad_enabled() and any(e is not None for e in edges)
        ctx.needs_input_grad = tuple(e is not None for e in edges)
        separate = cls.setup_context is not Function.setup_context
        with no_grad():
            if separate:
                output = cls.forward(*args, **kwargs)
                cls.setup_context(ctx, args, output)
            else:
                output = cls.forward(ctx, *args, **kwargs)
        if not record:
            return output
        ctx.next_functions = tuple(None if e is None else (e.grad_fn or e) for e in edges)
        ctx.input_meta = tuple(None if e is None else (e.shape, e.dtype) for e in edges)
        return _wire_outputs(ctx, args, output)


def _wire_outputs(ctx: FunctionCtx, args, output):
    """Make the outputs of a recorded Function point at its node (each through its own node if several)."""
    single = not isinstance(output, tuple)
    outputs = (output,) if single else output
    name = ctx.fn.__name__
    inputs = {id(a) for a in args if isinstance(a, Tensor)}
    wired, meta = [], []
    for k, o in enumerate(outputs):
        if not isinstance(o, Tensor):
            wired.append(o)
            meta.append(((), np.float32))
            continue
        meta.append((o.shape, o.dtype))
        if id(o) in ctx._dirty:
            if o.grad_fn is None and o._requires_grad:
                raise RuntimeError("a leaf Variable that requires grad has been used in an in-place operation.")
        elif id(o) in inputs:
            # An input returned as it is: a new tensor on the same data (PyTorch makes a view).
            shared = Tensor._make(o._array, False, None)
            shared._vc = o._vc
            o = shared
        if id(outputs[k]) in ctx._non_differentiable:
            o._requires_grad, o.grad_fn = False, None
        elif single:
            o._requires_grad, o.grad_fn = True, ctx
        else:
            o._requires_grad, o.grad_fn = True, _output_node(node_type(f"{name}Backward"), ctx, name, k, len(outputs))
        wired.append(o)
    ctx._output_meta = tuple(meta)
    # Saved outputs are kept as their arrays and re-made on unpacking: a node
    # holding its own output tensor would be a reference cycle.
    positions = {id(o): k for k, o in enumerate(outputs) if isinstance(o, Tensor) and id(o) not in ctx._dirty}
    saved, sources = [], []
    for t, s in zip(ctx._saved, ctx._saved_sources):
        k = positions.get(id(t)) if isinstance(t, Tensor) else None
        if k is None:
            saved.append(t)
            sources.append(s)
        else:
            saved.append(_SavedOutput(k, len(outputs), wired[k]._array))
            sources.append((None, s[1], s[2]))
    ctx._saved, ctx._saved_sources = tuple(saved), tuple(sources)
    return wired[0] if single else tuple(wired)
