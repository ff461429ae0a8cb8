"""``Tensor``: a NumPy array plus what autograd needs to know about it.

A tensor holds its values in a NumPy array (minigrad's only storage; ``numpy()``
returns it, the package reads it as ``_array``), ``requires_grad``, ``grad`` and ``grad_fn`` (the :class:`~minigrad.autograd.Node`
that produced it; ``None`` for a leaf). Every operation on tensors is a
:class:`~minigrad.autograd.Primitive` in :mod:`minigrad.ops`; the methods here only
forward to those, so there is exactly one definition of each op.
"""
from __future__ import annotations

import numbers
import weakref

import numpy as np

from minigrad import autograd as _autograd
from minigrad.autograd.function import RemovableHandle, _register_tensor_type, _Version, rename_node
from minigrad.autograd.grad_mode import is_grad_enabled, no_grad
from minigrad import dtypes as _dtypes
from minigrad.devices import _CPU, _check_device, _cuda_device, _not_available, _parse_to
from minigrad.random import _numpy_generator
from minigrad.size import Size

# Default dtype for Python floats, as in PyTorch.
_DEFAULT_FLOAT = np.dtype(np.float32)
_DTYPE_OF = _dtypes._BY_NUMPY  # NumPy dtype -> minigrad dtype
_FLOAT_KINDS = "f"

def _to_array(data, dtype=None) -> np.ndarray:
    """Convert ``data`` the way ``torch.tensor`` does.

    Python floats and lists of them become float32, Python ints int64, bools
    bool; a NumPy array (or NumPy scalar) keeps its dtype, so float64 work stays
    float64 unless a ``dtype`` is given.
    """
    if isinstance(data, Tensor):
        arr = data._array
    elif isinstance(data, (np.ndarray, np.generic)):
        arr = np.asarray(data)
    else:
        arr = np.asarray(data)
        if arr.dtype.kind not in "biuf":
            raise TypeError(f"could not make a tensor from data of type {type(data).__name__} (dtype {arr.dtype})")
        if dtype is not None:
            pass  # converted once below: a float64 request must not go through float32
        elif arr.dtype == np.float64:
            arr = arr.astype(_DEFAULT_FLOAT)
        elif arr.dtype.kind in "iu" and arr.dtype != np.int64:
            arr = arr.astype(np.int64)
    if dtype is not None:
        arr = arr.astype(np.dtype(dtype), copy=False)
    return arr


def _check_can_require_grad(arr: np.ndarray) -> None:
    if arr.dtype.kind not in _FLOAT_KINDS:
        raise RuntimeError(
            f"only Tensors of floating point dtype can require gradients (got {arr.dtype})"
        )


class Tensor:
    """An n-dimensional array that can record the operations applied to it.

    Parameters
    ----------
    data : array_like
        Values. Python floats become float32; NumPy arrays keep their dtype.
        The array is copied (as ``torch.tensor`` copies).
    dtype : dtype, optional
    requires_grad : bool, default False
        Record operations on this tensor so that ``backward`` can reach it.

    Examples
    --------
    >>> import minigrad
    >>> x = minigrad.tensor([1.0, 2.0, 3.0], requires_grad=True)
    >>> y = (x * x).sum()
    >>> y.backward()
    >>> x.grad
    tensor([2., 4., 6.])
    """

    __slots__ = ("_array", "_requires_grad", "_grad", "grad_fn", "_vc", "_hooks", "__weakref__", "__dict__")

    def __init__(self, data, dtype=None, requires_grad: bool = False) -> None:
        arr = _to_array(data, dtype)
        if arr is data or (isinstance(data, Tensor) and arr is data._array):
            arr = arr.copy()
        if requires_grad:
            _check_can_require_grad(arr)
        self._array = arr
        self._requires_grad = bool(requires_grad)
        self._grad = None
        self.grad_fn = None
        self._vc = _Version()
        self._hooks = None

    @classmethod
    def _make(cls, data: np.ndarray, requires_grad: bool, grad_fn) -> "Tensor":
        """Wrap an array without copying or checks (the ops' fast path)."""
        t = object.__new__(Tensor)
        t._array = data if type(data) is np.ndarray else np.asarray(data)
        t._requires_grad = requires_grad
        t._grad = None
        t.grad_fn = grad_fn
        t._vc = _Version()
        t._hooks = None
        return t

    # -- basic properties -----------------------------------------------------
    @property
    def data(self) -> "Tensor":
        """The values as a new tensor outside the graph, sharing this tensor's memory (as ``torch.Tensor.data``).

        It does not require grad and has its own version counter: an in-place
        change made through it (``p.data.add_(p.grad, alpha=-lr)``) updates this
        tensor but is invisible to autograd, which therefore cannot report a
        value it saved being overwritten. :meth:`detach` shares the counter and is
        the checked way. Assigning ``t.data = other`` makes ``t`` use ``other``'s
        memory (its shape and dtype too); ``other`` must be a tensor.
        """
        return Tensor._make(self._array, False, None)

    @data.setter
    def data(self, value: "Tensor") -> None:
        if not isinstance(value, Tensor):
            cls = type(value)
            name = cls.__qualname__ if cls.__module__ == "builtins" else f"{cls.__module__.partition('.')[0]}.{cls.__qualname__}"
            raise TypeError(f"Variable data has to be a tensor, but got {name}")
        if self._requires_grad and value._array.dtype.kind not in _FLOAT_KINDS:
            raise RuntimeError("data set to a tensor that requires gradients must be floating point or complex dtype")
        self._array = value._array

    @property
    def shape(self) -> Size:
        """The size of each dimension, a :class:`~minigrad.Size` (a tuple that prints as ``minigrad.Size([2, 3])``)."""
        return tuple.__new__(Size, self._array.shape)

    @property
    def dtype(self) -> _dtypes.dtype:
        """The element type, a :class:`minigrad.dtype` (``minigrad.float32``, ...), which NumPy accepts as a dtype."""
        d = self._array.dtype
        return _DTYPE_OF.get(d) or _dtypes.of_numpy(d)

    @property
    def ndim(self) -> int:
        """The number of dimensions."""
        return self._array.ndim

    @property
    def device(self):
        """``device(type='cpu')``: minigrad computes with NumPy, on the CPU."""
        return _CPU

    @property
    def is_cuda(self) -> bool:
        """False: minigrad has only the CPU."""
        return False

    @property
    def is_sparse(self) -> bool:
        """False: a dense tensor (row-sparse gradients are :class:`~minigrad.sparse.SparseTensor`)."""
        return False

    def dim(self) -> int:
        """The number of dimensions (as :attr:`ndim`)."""
        return self._array.ndim

    def size(self, dim: int | None = None):
        """The shape (a :class:`~minigrad.Size`), or its ``dim``-th entry."""
        return tuple.__new__(Size, self._array.shape) if dim is None else self._array.shape[dim]

    def numel(self) -> int:
        """The number of elements."""
        return int(self._array.size)

    nelement = numel

    # -- new tensors of this tensor's dtype (PyTorch's Tensor.new_*) ---------------------------
    def _new(self, arr: np.ndarray, requires_grad: bool, device) -> "Tensor":
        _check_device(device)
        t = Tensor._make(arr, False, None)
        t.requires_grad = requires_grad
        return t

    def new_zeros(self, *size, dtype=None, device=None, requires_grad: bool = False) -> "Tensor":
        """Zeros of ``size``, of this tensor's dtype unless ``dtype`` is given."""
        return self._new(np.zeros(_shape_arg(size), dtype=dtype or self.dtype), requires_grad, device)

    def new_ones(self, *size, dtype=None, device=None, requires_grad: bool = False) -> "Tensor":
        """Ones of ``size``, of this tensor's dtype unless ``dtype`` is given."""
        return self._new(np.ones(_shape_arg(size), dtype=dtype or self.dtype), requires_grad, device)

    def new_empty(self, *size, dtype=None, device=None, requires_grad: bool = False) -> "Tensor":
        """An uninitialised tensor of ``size``, of this tensor's dtype unless ``dtype`` is given."""
        return self._new(np.empty(_shape_arg(size), dtype=dtype or self.dtype), requires_grad, device)

    def new_full(self, size, fill_value, *, dtype=None, device=None, requires_grad: bool = False) -> "Tensor":
        """``fill_value`` everywhere in ``size``, of this tensor's dtype unless ``dtype`` is given."""
        return self._new(np.full(tuple(size), fill_value, dtype=dtype or self.dtype), requires_grad, device)

    def new_tensor(self, data, *, dtype=None, device=None, requires_grad: bool = False) -> "Tensor":
        """A copy of ``data`` as a new leaf, of this tensor's dtype unless ``dtype`` is given."""
        return self._new(_to_array(data, dtype or self.dtype).copy(), requires_grad, device)

    def __len__(self) -> int:
        if self._array.ndim == 0:
            raise TypeError("len() of a 0-d tensor")
        return self._array.shape[0]

    def item(self):
        """The single value of a one-element tensor as a Python number."""
        if self._array.size != 1:
            raise RuntimeError(f"a Tensor with {self._array.size} elements cannot be converted to Scalar")
        return self._array.reshape(()).item()

    def numpy(self) -> np.ndarray:
        """The underlying array (shared, not copied), as ``torch.Tensor.numpy``."""
        if self._requires_grad:
            raise RuntimeError("Can't call numpy() on Tensor that requires grad. Use tensor.detach().numpy() instead.")
        return self._array

    def tolist(self):
        """The values as nested Python lists (a number for a 0-d tensor)."""
        return self._array.tolist()

    def __array__(self, dtype=None, copy=None):
        """``np.asarray(t)``: the values as a constant array (the deliberate way out of the graph)."""
        arr = self._array if dtype is None else self._array.astype(dtype, copy=False)
        return arr.copy() if copy else arr

    # NumPy functions on tensors run minigrad's differentiable ops. This is what lets
    # an op's backward, written once in NumPy, record its own graph when the engine
    # hands it tensors (create_graph=True); it also makes ndarray + Tensor a Tensor.
    # The table of NumPy functions lives in minigrad.ops._numpy_dispatch.
    def __array_ufunc__(self, ufunc, method, *inputs, **kwargs):
        fn = _numpy_dispatch.HANDLED.get(ufunc) if method == "__call__" else None
        if fn is None:
            name = ufunc.__name__ if method == "__call__" else f"{ufunc.__name__}.{method}"
            raise _not_handled(name)
        return fn(*inputs, **kwargs)

    def __array_function__(self, func, types, args, kwargs):
        fn = _numpy_dispatch.HANDLED.get(func)
        if fn is None:
            raise _not_handled(func.__name__)
        return fn(*args, **kwargs)

    def __float__(self) -> float:
        self._one_element_for_python()
        return float(self.item())

    def __int__(self) -> int:
        self._one_element_for_python()
        return int(self.item())

    def _one_element_for_python(self) -> None:
        if self._array.size != 1:  # PyTorch: ValueError here, RuntimeError from item()
            raise ValueError("only one element tensors can be converted to Python scalars")

    def __index__(self) -> int:
        if self._array.dtype.kind not in "iu" or self._array.size != 1:
            raise TypeError("only integer tensors of a single element can be converted to an index")
        return int(self.item())

    def __bool__(self) -> bool:
        if self._array.size != 1:
            raise RuntimeError(f"Boolean value of Tensor with {self._array.size} values is ambiguous")
        return bool(self.item())

    __hash__ = object.__hash__

    # -- autograd state ---------------------------------------------------------
    @property
    def is_leaf(self) -> bool:
        """True for tensors not produced by a recorded operation."""
        return self.grad_fn is None

    @property
    def requires_grad(self) -> bool:
        """Whether operations on this tensor are recorded for backward (settable on leaves only)."""
        return self._requires_grad

    @requires_grad.setter
    def requires_grad(self, value: bool) -> None:
        if self.grad_fn is not None:
            raise RuntimeError(
                "you can only change requires_grad flags of leaf variables. If you want to use a "
                "computed variable in a subgraph that doesn't require differentiation use "
                "var_no_grad = var.detach()."
            )
        if value:
            _check_can_require_grad(self._array)
        self._requires_grad = bool(value)

    def requires_grad_(self, requires_grad: bool = True) -> "Tensor":
        """Set :attr:`requires_grad` in place and return the tensor."""
        self.requires_grad = requires_grad
        return self

    @property
    def grad(self):
        """The accumulated gradient (a Tensor, or a SparseTensor), None until backward reaches it."""
        if self.grad_fn is not None and self._grad is None and not self.retains_grad:
            import warnings

            warnings.warn(
                "The .grad attribute of a Tensor that is not a leaf Tensor is being accessed. Its "
                ".grad attribute won't be populated during autograd.backward(). If you indeed want "
                "the gradient for a non-leaf Tensor, use .retain_grad() on the non-leaf Tensor.",
                UserWarning,
                stacklevel=2,
            )
        return self._grad

    @grad.setter
    def grad(self, value) -> None:
        if value is not None and not getattr(value, "is_sparse", False):
            if not isinstance(value, Tensor):
                raise TypeError(f"assigned grad expected to be a Tensor or None but got {type(value).__name__}")
            if value.shape != self.shape:
                raise RuntimeError(f"assigned grad has data of a different size: {value.shape} vs {self.shape}")
        self._grad = value

    @property
    def retains_grad(self) -> bool:
        """True when :meth:`retain_grad` was called on this non-leaf tensor."""
        return self.grad_fn is not None and self.grad_fn._retained is not None

    def retain_grad(self) -> None:
        """Populate ``.grad`` of this non-leaf tensor during backward."""
        if not self._requires_grad:
            raise RuntimeError("can't retain_grad on Tensor that has requires_grad=False")
        if self.grad_fn is not None:
            self.grad_fn._retained = weakref.ref(self)

    def register_hook(self, hook) -> RemovableHandle:
        """Call ``hook(grad)`` whenever a gradient for this tensor is computed.

        The hook may return a tensor to use instead of ``grad`` (of the same
        shape and dtype). On a leaf it runs before the gradient is accumulated
        into ``.grad``. Returns a handle whose ``remove()`` unregisters the hook.
        """
        if not self._requires_grad:
            raise RuntimeError("cannot register a hook on a tensor that doesn't require gradient")
        if self.grad_fn is not None:
            return self.grad_fn.register_hook(hook)
        if self._hooks is None:
            self._hooks = []
        self._hooks.append(hook)
        return RemovableHandle(self._hooks, hook)

    @property
    def _version(self) -> int:
        return self._vc.value

    def _bump_version(self) -> None:
        self._vc.value += 1

    def detach(self) -> "Tensor":
        """A new leaf sharing this tensor's data and version counter, cut off from the graph."""
        t = Tensor._make(self._array, False, None)
        t._vc = self._vc
        return t

    def detach_(self) -> "Tensor":
        """Cut this tensor out of the graph in place: it becomes a leaf that does not require grad."""
        if self.grad_fn is not None and self.grad_fn._retained is not None:
            self.grad_fn._retained = None
        self.grad_fn = None
        self._requires_grad = False
        return self

    def backward(self, gradient=None, retain_graph: bool | None = None, create_graph: bool = False,
                 inputs=None) -> None:
        """Accumulate d(self)/d(leaf) · ``gradient`` into the ``.grad`` of every leaf.

        ``gradient`` may be omitted only for a one-element tensor (it is then 1).
        The graph's saved values are freed afterwards unless ``retain_graph``
        (which defaults to ``create_graph``). With ``create_graph=True`` the
        backward pass is recorded: ``.grad`` gets a ``grad_fn`` and can be
        differentiated again. ``inputs`` restricts accumulation to those tensors.
        """
        _autograd.backward([self], None if gradient is None else [gradient], retain_graph=retain_graph,
                           create_graph=create_graph, inputs=inputs)

    # -- printing ------------------------------------------------------------------
    def __repr__(self) -> str:
        d = self._array
        kw = {}
        if d.dtype.kind == "f" and d.size:
            kw["formatter"] = {"float_kind": _float_formatter(d)}
        elif d.dtype == np.bool_ and d.size and d.all():
            # NumPy pads True to the width of False; PyTorch pads only when a False is shown.
            kw["formatter"] = {"bool": lambda v: "True"}
        body = np.array2string(d, separator=", ", prefix="tensor(", max_line_width=79 + max(d.ndim, 1), **kw)
        extras = []
        default = (np.float32,) if d.size == 0 else (np.float32, np.int64, np.bool_)
        if d.dtype not in default:
            extras.append(f"dtype=minigrad.{d.dtype.name}")
        if self.grad_fn is not None:
            extras.append(f"grad_fn=<{self.grad_fn.name()}>")
        elif self._requires_grad:
            extras.append("requires_grad=True")
        # As PyTorch: a suffix that would take the last line past 80 characters starts a new one.
        out = "tensor(" + body
        last = len(out) - out.rfind("\n") + 1
        for extra in extras:
            if last + len(extra) + 2 > 80:
                out, last = out + ",\n       " + extra, 7 + len(extra)
            else:
                out, last = out + ", " + extra, last + len(extra) + 2
        return out + ")"

    # -- dtype conversion ----------------------------------------------------------
    def to(self, *args, **kwargs) -> "Tensor":
        """This tensor converted to another dtype (and "moved" to the CPU, where it already is).

        The forms of PyTorch: ``to(dtype)``, ``to(device, dtype=None)``,
        ``to(other)`` (``other``'s dtype), with ``copy=True`` to force a copy.
        Returns the tensor itself when nothing changes. Differentiable between
        floating dtypes. A device other than the CPU is an error.
        """
        _, dtype, copy = _parse_to(args, kwargs)
        if dtype is not None and dtype != self.dtype:
            return _ops.to_dtype(self, dtype)
        return _ops.clone(self) if copy else self

    def type(self, dtype=None, non_blocking: bool = False):
        """Without ``dtype``, the legacy type name (``'minigrad.FloatTensor'``); with it, :meth:`to` that dtype.

        ``dtype`` may also be a legacy constructor (``minigrad.LongTensor``) or its
        name (``'minigrad.LongTensor'``; ``'torch.LongTensor'`` is read the same way).
        """
        from minigrad import legacy  # legacy imports this module

        if dtype is None:
            return legacy._legacy_name(self.dtype)
        if isinstance(dtype, str):
            cls = getattr(legacy, dtype.rpartition(".")[2], None)
            if cls is None or not isinstance(cls, legacy._LegacyType):
                raise ValueError(f"invalid type: '{dtype}'")
            dtype = cls
        return self.to(dtype.dtype if isinstance(dtype, legacy._LegacyType) else dtype)

    def float(self) -> "Tensor":
        """Convert to float32 (differentiable from float64)."""
        return self.to(np.float32)

    def double(self) -> "Tensor":
        """Convert to float64 (differentiable from float32)."""
        return self.to(np.float64)

    def half(self) -> "Tensor":
        """Convert to float16 (differentiable from the other floating dtypes)."""
        return self.to(np.float16)

    def long(self) -> "Tensor":
        """Convert to int64 (leaves the graph: integers carry no gradient)."""
        return self.to(np.int64)

    def int(self) -> "Tensor":
        """Convert to int32 (leaves the graph: integers carry no gradient)."""
        return self.to(np.int32)

    def bool(self) -> "Tensor":
        """Convert to bool (leaves the graph)."""
        return self.to(np.bool_)

    def clone(self) -> "Tensor":
        """A copy in new memory that stays in the graph (gradient flows back unchanged)."""
        return _ops.clone(self)

    def contiguous(self) -> "Tensor":
        """This tensor: NumPy handles any memory layout, so there is nothing to do."""
        return self

    def cpu(self) -> "Tensor":
        """This tensor (minigrad has no other device)."""
        return self

    def cuda(self, device=None, non_blocking: bool = False):
        """An error: minigrad runs on the CPU only."""
        raise _not_available(_cuda_device(device))

    def __format__(self, format_spec: str) -> str:
        # As PyTorch: a 0-d tensor formats as its value (f"{loss:.4f}"); others only with an empty spec.
        if self._array.ndim == 0:
            return self.item().__format__(format_spec)
        return object.__format__(self, format_spec)

    # -- arithmetic ----------------------------------------------------------------
    def __add__(self, other):
        return _ops.add(self, other)

    def __radd__(self, other):
        return _ops.add(other, self)

    def __sub__(self, other):
        return _ops.sub(self, other)

    def __rsub__(self, other):
        return _ops.sub(other, self)

    def __mul__(self, other):
        return _ops.mul(self, other)

    def __rmul__(self, other):
        return _ops.mul(other, self)

    def __truediv__(self, other):
        return _ops.div(self, other)

    def __rtruediv__(self, other):
        return _ops.div(other, self)

    def __pow__(self, other):
        return _ops.pow(self, other)

    def __rpow__(self, other):
        return _ops.pow(other, self)

    def __matmul__(self, other):
        return _ops.matmul(self, other)

    def __rmatmul__(self, other):
        return _ops.matmul(other, self)

    def __neg__(self):
        return _ops.neg(self)

    def __pos__(self):
        return self

    def __abs__(self):
        return _ops.abs(self)

    # Comparisons give bool tensors and are not differentiable (minigrad.ops.comparison).
    def __lt__(self, other):
        return _ops.lt(self, other)

    def __le__(self, other):
        return _ops.le(self, other)

    def __gt__(self, other):
        return _ops.gt(self, other)

    def __ge__(self, other):
        return _ops.ge(self, other)

    def __eq__(self, other):
        if other is None or isinstance(other, str):
            return NotImplemented  # Python's answer (False), as in PyTorch
        return _ops.eq(self, other)

    def __ne__(self, other):
        if other is None or isinstance(other, str):
            return NotImplemented
        return _ops.ne(self, other)

    def __floordiv__(self, other):
        return _ops.floor_divide(self, other)

    def __rfloordiv__(self, other):
        return _ops.floor_divide(other, self)

    def __mod__(self, other):
        return _ops.remainder(self, other)

    def __rmod__(self, other):
        return _ops.remainder(other, self)

    def __invert__(self):
        return Tensor._make(~self._array, False, None)

    def __and__(self, other):
        return Tensor._make(self._array & _data(other), False, None)

    def __or__(self, other):
        return Tensor._make(self._array | _data(other), False, None)

    def eq(self, other):
        return _ops.eq(self, other)

    def ne(self, other):
        return _ops.ne(self, other)

    def lt(self, other):
        return _ops.lt(self, other)

    def le(self, other):
        return _ops.le(self, other)

    def gt(self, other):
        return _ops.gt(self, other)

    def ge(self, other):
        return _ops.ge(self, other)

    def isclose(self, other, rtol: float = 1e-05, atol: float = 1e-08, equal_nan: bool = False):
        return _ops.isclose(self, other, rtol, atol, equal_nan)

    def allclose(self, other, rtol: float = 1e-05, atol: float = 1e-08, equal_nan: bool = False):
        return _ops.allclose(self, other, rtol, atol, equal_nan)

    def equal(self, other):
        return _ops.equal(self, other)

    def isnan(self):
        return _ops.isnan(self)

    def isinf(self):
        return _ops.isinf(self)

    def isfinite(self):
        return _ops.isfinite(self)

    def all(self, dim=None, keepdim: bool = False):
        return _ops.all(self, dim, keepdim)

    def any(self, dim=None, keepdim: bool = False):
        return _ops.any(self, dim, keepdim)

    def floor_divide(self, other):
        return _ops.floor_divide(self, other)

    def remainder(self, other):
        return _ops.remainder(self, other)

    def fmod(self, other):
        return _ops.fmod(self, other)

    def add(self, other, alpha=1):
        return _ops.add(self, other if alpha == 1 else _ops.mul(other, alpha))

    def sub(self, other, alpha=1):
        return _ops.sub(self, other if alpha == 1 else _ops.mul(other, alpha))

    def mul(self, other):
        return _ops.mul(self, other)

    def div(self, other):
        return _ops.div(self, other)

    def neg(self):
        return _ops.neg(self)

    def pow(self, exponent):
        return _ops.pow(self, exponent)

    def matmul(self, other):
        return _ops.matmul(self, other)

    def mm(self, mat2):
        return _ops.mm(self, mat2)

    def bmm(self, mat2):
        return _ops.bmm(self, mat2)

    def addmm(self, mat1, mat2, *, beta=1, alpha=1):
        return _ops.addmm(self, mat1, mat2, beta=beta, alpha=alpha)

    # -- gather, scatter, scans, sorting ---------------------------------------------
    def gather(self, dim, index, *, sparse_grad: bool = False):
        return _ops.gather(self, dim, index, sparse_grad=sparse_grad)

    def scatter(self, dim, index, src=None, *, value=None, reduce=None):
        return _ops.scatter(self, dim, index, src, value=value, reduce=reduce)

    def scatter_(self, dim, index, src=None, *, value=None, reduce=None):
        """In place: :meth:`scatter`."""
        self._check_inplace()
        return self._inplace(_ops.scatter(self._snapshot(src), dim, index, src, value=value, reduce=reduce))

    def scatter_add(self, dim, index, src):
        return _ops.scatter_add(self, dim, index, src)

    def scatter_add_(self, dim, index, src):
        """In place: :meth:`scatter_add`."""
        self._check_inplace()
        return self._inplace(_ops.scatter_add(self._snapshot(src), dim, index, src))

    def index_select(self, dim, index):
        return _ops.index_select(self, dim, index)

    def index_add(self, dim, index, source, *, alpha=1):
        return _ops.index_add(self, dim, index, source, alpha=alpha)

    def index_add_(self, dim, index, source, *, alpha=1):
        """In place: :meth:`index_add` (``self[index[k]] += alpha * source[k]`` along ``dim``)."""
        self._check_inplace()
        return self._inplace(_ops.index_add(self._snapshot(source), dim, index, source, alpha=alpha))

    def cumsum(self, dim, *, dtype=None):
        return _ops.cumsum(self, dim, dtype=dtype)

    def cumprod(self, dim, *, dtype=None):
        return _ops.cumprod(self, dim, dtype=dtype)

    def sort(self, dim: int = -1, descending: bool = False, *, stable: bool = False):
        return _ops.sort(self, dim, descending, stable=stable)

    def argsort(self, dim: int = -1, descending: bool = False, *, stable: bool = False):
        return _ops.argsort(self, dim, descending, stable=stable)

    def topk(self, k: int, dim: int = -1, largest: bool = True, sorted: bool = True):
        return _ops.topk(self, k, dim, largest, sorted)

    def exp(self):
        return _ops.exp(self)

    def log(self):
        return _ops.log(self)

    def sqrt(self):
        return _ops.sqrt(self)

    def abs(self):
        return _ops.abs(self)

    def tanh(self):
        return _ops.tanh(self)

    def sin(self):
        return _ops.sin(self)

    def cos(self):
        return _ops.cos(self)

    def tan(self):
        return _ops.tan(self)

    def log2(self):
        return _ops.log2(self)

    def log10(self):
        return _ops.log10(self)

    def log1p(self):
        return _ops.log1p(self)

    def expm1(self):
        return _ops.expm1(self)

    def exp2(self):
        return _ops.exp2(self)

    def rsqrt(self):
        return _ops.rsqrt(self)

    def square(self):
        return _ops.square(self)

    def reciprocal(self):
        return _ops.reciprocal(self)

    def erf(self):
        return _ops.erf(self)

    def floor(self):
        return _ops.floor(self)

    def ceil(self):
        return _ops.ceil(self)

    def trunc(self):
        return _ops.trunc(self)

    def round(self, *, decimals: int = 0):
        return _ops.round(self, decimals=decimals)

    def sign(self):
        return _ops.sign(self)

    def frac(self):
        return _ops.frac(self)

    def clamp_min(self, min):
        return _ops.clamp_min(self, min)

    def clamp_max(self, max):
        return _ops.clamp_max(self, max)

    def nan_to_num(self, nan: float = 0.0, posinf=None, neginf=None):
        return _ops.nan_to_num(self, nan, posinf, neginf)

    def sigmoid(self):
        return _ops.sigmoid(self)

    def relu(self):
        return _ops.relu(self)

    def clamp(self, min=None, max=None):
        return _ops.clamp(self, min, max)

    clip = clamp

    def maximum(self, other):
        return _ops.maximum(self, other)

    def minimum(self, other):
        return _ops.minimum(self, other)

    def where(self, condition, other):
        """``self`` where ``condition`` holds, else ``other``: ``minigrad.where(condition, self, other)``."""
        return _ops.where(condition, self, other)

    def masked_fill(self, mask, value):
        """``value`` where ``mask`` is True, else ``self``: see :func:`minigrad.masked_fill`."""
        return _masking.masked_fill(self, mask, value)

    def tril(self, diagonal: int = 0):
        """The lower triangle of the last two dims: see :func:`minigrad.tril`."""
        return _masking.tril(self, diagonal)

    def triu(self, diagonal: int = 0):
        """The upper triangle of the last two dims: see :func:`minigrad.triu`."""
        return _masking.triu(self, diagonal)

    # -- reductions ----------------------------------------------------------------
    def sum(self, dim=None, keepdim: bool = False):
        return _ops.sum(self, dim, keepdim)

    def mean(self, dim=None, keepdim: bool = False):
        return _ops.mean(self, dim, keepdim)

    def max(self, dim=None, keepdim: bool = False):
        """Largest value; with ``dim``, the pair ``(values, indices)`` as in PyTorch."""
        if isinstance(dim, Tensor):
            return _ops.maximum(self, dim)
        return _ops.max(self, dim, keepdim)

    def min(self, dim=None, keepdim: bool = False):
        if isinstance(dim, Tensor):
            return _ops.minimum(self, dim)
        return _ops.min(self, dim, keepdim)

    def var(self, dim=None, correction: int = 1, keepdim: bool = False, unbiased=None):
        if unbiased is not None:
            correction = int(bool(unbiased))
        return _ops.var(self, dim, correction, keepdim)

    def std(self, dim=None, correction: int = 1, keepdim: bool = False, unbiased=None):
        if unbiased is not None:
            correction = int(bool(unbiased))
        return _ops.std(self, dim, correction, keepdim)

    def logsumexp(self, dim, keepdim: bool = False):
        return _ops.logsumexp(self, dim, keepdim)

    def amax(self, dim=(), keepdim: bool = False):
        return _ops.amax(self, dim, keepdim)

    def amin(self, dim=(), keepdim: bool = False):
        return _ops.amin(self, dim, keepdim)

    def argmax(self, dim=None, keepdim: bool = False):
        return _ops.argmax(self, dim, keepdim)

    def argmin(self, dim=None, keepdim: bool = False):
        return _ops.argmin(self, dim, keepdim)

    def softmax(self, dim):
        return _ops.softmax(self, dim)

    def log_softmax(self, dim):
        return _ops.log_softmax(self, dim)

    # -- shape ---------------------------------------------------------------------
    def reshape(self, *shape):
        return _ops.reshape(self, _shape_arg(shape))

    def view(self, *shape):
        """Same as :meth:`reshape` (NumPy decides whether a copy is needed)."""
        return _ops.reshape(self, _shape_arg(shape))

    def flatten(self, start_dim: int = 0, end_dim: int = -1):
        return _ops.flatten(self, start_dim, end_dim)

    def unflatten(self, dim: int, sizes):
        return _ops.unflatten(self, dim, sizes)

    def squeeze(self, dim=None):
        return _ops.squeeze(self, dim)

    def unsqueeze(self, dim: int):
        return _ops.unsqueeze(self, dim)

    def transpose(self, dim0: int, dim1: int):
        return _ops.transpose(self, dim0, dim1)

    def permute(self, *dims):
        return _ops.permute(self, _shape_arg(dims))

    @property
    def T(self):
        """All dimensions reversed (the transpose of a matrix); a view."""
        return _ops.permute(self, tuple(range(self.ndim))[::-1])

    def t(self):
        """The transpose of a tensor with at most two dimensions."""
        if self.ndim > 2:
            raise RuntimeError(f"t() expects a tensor with <= 2 dimensions, but self is {self.ndim}D")
        return rename_node(self.T, "TBackward0")

    def expand(self, *sizes):
        return _ops.expand(self, _shape_arg(sizes))

    def flip(self, *dims):
        return _ops.flip(self, _shape_arg(dims))

    def roll(self, shifts, dims=None):
        return _ops.roll(self, shifts, dims)

    def narrow(self, dim: int, start: int, length: int):
        return _ops.narrow(self, dim, start, length)

    def repeat(self, *sizes):
        return _ops.repeat(self, *sizes)

    def repeat_interleave(self, repeats, dim=None, *, output_size=None):
        return _ops.repeat_interleave(self, repeats, dim, output_size=output_size)

    def diag(self, diagonal: int = 0):
        return _ops.diag(self, diagonal)

    def outer(self, vec2):
        return _ops.outer(self, vec2)

    def norm(self, p="fro", dim=None, keepdim: bool = False, dtype=None):
        return _ops.norm(self, p, dim, keepdim, dtype)

    def expand_as(self, other):
        """Broadcast to ``other``'s shape (a view; the gradient is summed back)."""
        return _ops.expand(self, other.shape)

    def broadcast_to(self, shape):
        return _ops.broadcast_to(self, tuple(shape))

    def split(self, split_size, dim: int = 0):
        return _ops.split(self, split_size, dim)

    def chunk(self, chunks: int, dim: int = 0):
        return _ops.chunk(self, chunks, dim)

    def unbind(self, dim: int = 0):
        return _ops.unbind(self, dim)

    def __iter__(self):
        # As PyTorch's: the rows are ``unbind(0)``, one node for them all (``q, k, v = x``).
        if self._array.ndim == 0:
            raise TypeError("iteration over a 0-d tensor")
        return iter(_ops.unbind(self, 0))

    def __contains__(self, element) -> bool:
        # As PyTorch's: whether any element equals it (broadcast), not a search through the rows.
        if isinstance(element, (Tensor, numbers.Number)):
            return bool((element == self).any().item())
        raise RuntimeError(f"Tensor.__contains__ only supports Tensor or scalar, but you passed in a {type(element)}.")

    def __getitem__(self, index):
        return _ops.getitem(self, index)

    def __setitem__(self, index, value) -> None:
        _ops.setitem(self, index, value)

    # -- in-place ------------------------------------------------------------------
    def _check_inplace(self) -> None:
        if not (self._requires_grad and is_grad_enabled()):
            return
        if self.grad_fn is None:
            raise RuntimeError("a leaf Variable that requires grad is being used in an in-place operation.")
        if self.__dict__.get("_recorded_view"):
            # PyTorch rewrites the base's history here ("view replay"); minigrad keeps the
            # engine simple and refuses, rather than give the base a silently wrong gradient.
            raise RuntimeError(
                f"an in-place operation on a view ({self.grad_fn.name()}) of a tensor that requires "
                "grad is not supported: the base tensor's gradient would be wrong. Use clone() on "
                "the view, or do the operation on the base tensor."
            )

    def _inplace(self, result: "Tensor") -> "Tensor":
        """Make this tensor hold ``result``: same memory, new graph position, version + 1."""
        np.copyto(self._array, result._array, casting="same_kind")
        if result.grad_fn is not None:
            retained = self.grad_fn._retained if self.grad_fn is not None else None
            self.grad_fn = result.grad_fn
            self._requires_grad = True
            if retained is not None:
                self.grad_fn._retained = weakref.ref(self)
        self._bump_version()
        return self

    def _snapshot(self, other=None) -> "Tensor":
        """This tensor's current value and graph position, in memory of its own.

        In-place ops are computed out of place from the snapshot and written
        back, so a recorded node never saves memory that is about to change.
        Without recording there is nothing to protect and no copy is made.
        """
        recording = is_grad_enabled() and (
            self._requires_grad or (isinstance(other, Tensor) and other._requires_grad)
        )
        if not recording:
            return self
        return Tensor._make(self._array.copy(), self._requires_grad, self.grad_fn)

    def add_(self, other, alpha=1):
        """In place: ``self += alpha * other``."""
        self._check_inplace()
        return self._inplace(self._snapshot(other).add(other, alpha=alpha))

    def sub_(self, other, alpha=1):
        """In place: ``self -= alpha * other``."""
        self._check_inplace()
        return self._inplace(self._snapshot(other).sub(other, alpha=alpha))

    def mul_(self, other):
        """In place: ``self *= other``."""
        self._check_inplace()
        return self._inplace(_ops.mul(self._snapshot(other), other))

    def div_(self, other):
        """In place: ``self /= other``."""
        self._check_inplace()
        return self._inplace(_ops.div(self._snapshot(other), other))

    def clamp_(self, min=None, max=None):
        """In place: ``self = clamp(self, min, max)``."""
        self._check_inplace()
        return self._inplace(_ops.clamp(self._snapshot(), min, max))

    def copy_(self, src):
        """Copy ``src`` (broadcast) into this tensor; the gradient flows to ``src``."""
        self._check_inplace()
        src_t = src if isinstance(src, Tensor) else Tensor(np.asarray(src))
        result = _ops.expand(_ops.to_dtype(src_t, self.dtype), self.shape)
        if result.grad_fn is None and self.grad_fn is not None and is_grad_enabled():
            # The old value is overwritten by a constant: its history no longer matters.
            self.grad_fn = None
            self._requires_grad = False
        return self._inplace(result)

    def zero_(self):
        """Fill with zeros in place."""
        return self.fill_(0)

    def fill_(self, value):
        """Fill with ``value`` in place (the old history no longer matters)."""
        self._check_inplace()
        if self.grad_fn is not None and is_grad_enabled():
            self.grad_fn = None  # the old history no longer influences this tensor
            self._requires_grad = False
        self._array[...] = _data(value)
        self._bump_version()
        return self

    def uniform_(self, a: float = 0.0, b: float = 1.0, *, generator=None):
        """Fill with U(a, b) draws from ``generator`` (default: the default generator, see ``manual_seed``)."""
        with no_grad():
            return self.fill_(_numpy_generator(generator).uniform(a, b, size=self.shape).astype(self.dtype))

    def normal_(self, mean: float = 0.0, std: float = 1.0, *, generator=None):
        """Fill with N(mean, std²) draws from ``generator`` (default: the default generator)."""
        with no_grad():
            return self.fill_(_numpy_generator(generator).normal(mean, std, size=self.shape).astype(self.dtype))

    def multinomial(self, num_samples: int, replacement: bool = False, *, generator=None) -> "Tensor":
        """Method form of :func:`minigrad.multinomial`."""
        from minigrad.creation import multinomial  # creation imports this module

        return multinomial(self, num_samples, replacement, generator=generator)

    __iadd__ = add_
    __isub__ = sub_
    __imul__ = mul_
    __itruediv__ = div_


def _data(x):
    return x._array if isinstance(x, Tensor) else x


def _float_formatter(d: np.ndarray):
    """How PyTorch prints each element of a float tensor.

    Over the nonzero finite values: scientific notation (4 decimals) when the
    largest magnitude exceeds 1e8, the smallest is below 1e-4 or they are more
    than 1000 apart; otherwise integers as ``3.`` when every value is integral,
    else 4 fixed decimals. Every element is right-aligned to the widest.
    """
    values = d[np.isfinite(d) & (d != 0)].astype(np.float64)
    if values.size == 0:
        return lambda v: f"{v:.0f}" + ("." if np.isfinite(v) else "")
    mags = np.abs(values)
    big, small = mags.max(), mags.min()
    if big / small > 1000.0 or big > 1.0e8 or small < 1.0e-4:
        fmt = lambda v: f"{v:.4e}"  # noqa: E731
    elif np.all(values == np.ceil(values)):
        fmt = lambda v: f"{v:.0f}" + ("." if np.isfinite(v) else "")  # noqa: E731
    else:
        fmt = lambda v: f"{v:.4f}"  # noqa: E731
    # The widest string comes from an extreme value (the largest, the most negative, or the smallest magnitude).
    width = max(len(fmt(v)) for v in (values.max(), values.min(), values[np.argmin(mags)]))
    return lambda v: fmt(float(v)).rjust(width)


def _not_handled(name: str) -> TypeError:
    return TypeError(
        f"numpy.{name} is not supported on minigrad Tensors: it has no differentiable "
        "counterpart in minigrad.ops._numpy_dispatch.HANDLED. Use minigrad's own function, or "
        "np.asarray(tensor) to compute on the values as a constant (outside the graph)."
    )


def _shape_arg(shape):
    """Accept both f(2, 3) and f((2, 3)), as PyTorch does."""
    if len(shape) == 1 and isinstance(shape[0], (tuple, list)):
        return tuple(shape[0])
    return tuple(int(s) for s in shape)


_register_tensor_type(Tensor)

# The declared seam between the tensor and ops layers: Tensor's methods call the ops, and
# the ops make Tensors, so the ops are imported once Tensor exists (the ops reach Tensor
# through minigrad.autograd.function.Tensor, registered just above).
from minigrad import ops as _ops  # noqa: E402
from minigrad.ops import _numpy_dispatch  # noqa: E402
from minigrad.ops import masking as _masking  # noqa: E402
from minigrad.ops import _spellings  # noqa: E402
from minigrad.ops._promotion import torch_dtype_name  # noqa: E402

# The method forms point to the functions (whose docstrings point to the op's Primitive, where
# its math and VJP are stated once).
for _name in (
    "add",
    "sub",
    "mul",
    "div",
    "neg",
    "pow",
    "matmul",
    "exp",
    "log",
    "sqrt",
    "abs",
    "tanh",
    "sin",
    "cos",
    "sigmoid",
    "relu",
    "clamp",
    "maximum",
    "minimum",
    "sum",
    "mean",
    "min",
    "var",
    "std",
    "logsumexp",
    "argmax",
    "argmin",
    "softmax",
    "log_softmax",
    "reshape",
    "flatten",
    "squeeze",
    "unsqueeze",
    "transpose",
    "permute",
    "expand",
    "broadcast_to",
    "split",
    "chunk",
    "mm",
    "bmm",
    "addmm",
    "gather",
    "scatter",
    "scatter_add",
    "index_select",
    "index_add",
    "cumsum",
    "cumprod",
    "sort",
    "argsort",
    "topk",
    "eq", "ne", "lt", "le", "gt", "ge", "isclose", "allclose", "equal", "isnan", "isinf", "isfinite",
    "all", "any", "floor_divide", "remainder", "fmod", "tan", "log2", "log10", "log1p", "expm1", "exp2",
    "rsqrt", "square", "reciprocal", "erf", "floor", "ceil", "trunc", "round", "sign", "frac",
    "clamp_min", "clamp_max", "nan_to_num", "flip", "roll", "narrow", "repeat", "repeat_interleave", "diag",
    "outer", "norm",
):
    _method = Tensor.__dict__[_name]
    if _method.__doc__ is None:
        _method.__doc__ = f"Method form of :func:`minigrad.{_name}`: ``x.{_name}(...)`` is ``minigrad.{_name}(x, ...)``."
del _name, _method

# NumPy's axis= and keepdims= on the methods whose PyTorch counterparts accept them (all
# that take dim or keepdim, except the three PyTorch writes in Python): see minigrad.ops._spellings.
_spellings.respell_public_names(Tensor, written_in_python=("norm", "split", "unflatten"))


# -- in-place forms: x.floor_() computes x.floor() and writes it into x ----------------------------
# One method per name, all made by _inplace_form: the value is computed out of place from a
# snapshot (Tensor._snapshot) by the method without the underscore, then written back by
# Tensor._inplace (version + 1; the node of the out-of-place op becomes x's grad_fn), after
# Tensor._check_inplace (a leaf that requires grad, or a recorded view, is refused).
_INPLACE_FORMS = (
    "abs", "addmm", "ceil", "clamp_max", "clamp_min", "clip", "cos", "cumprod", "cumsum", "eq", "erf", "exp",
    "exp2", "expm1", "floor", "floor_divide", "fmod", "frac", "ge", "gt", "le", "log", "log10", "log1p", "log2",
    "lt", "masked_fill", "nan_to_num", "ne", "neg", "pow", "reciprocal", "relu", "remainder", "round", "rsqrt",
    "sigmoid", "sign", "sin", "sqrt", "square", "tan", "tanh", "tril", "triu", "trunc",
)
_COMPARISONS = ("eq", "ne", "lt", "le", "gt", "ge")


def _inplace_form(name: str):
    out_of_place = getattr(Tensor, name)

    def method(self, *args, **kwargs):
        self._check_inplace()
        grad_input = next((a for a in (*args, *kwargs.values()) if isinstance(a, Tensor) and a._requires_grad), None)
        result = out_of_place(self._snapshot(grad_input), *args, **kwargs)
        if not np.can_cast(result.dtype, self.dtype, "same_kind"):
            raise RuntimeError(f"result type {torch_dtype_name(result.dtype)} can't be cast to the desired output "
                               f"type {torch_dtype_name(self.dtype)}")
        if name in _COMPARISONS and self._requires_grad and is_grad_enabled():
            # As PyTorch: x stays in the graph, through a node whose gradient is zero.
            kept = _ops.where(np.ones(self.shape, dtype=bool), result.to(self.dtype), self._snapshot())
            overload = int(isinstance(args[0] if args else next(iter(kwargs.values())), Tensor))
            result = rename_node(kept, f"{name.capitalize()}Backward{overload}")
        elif result.grad_fn is None and self.grad_fn is not None and is_grad_enabled():
            # A result without a gradient (floor_divide): the old history no longer matters.
            self.grad_fn, self._requires_grad = None, False
        return self._inplace(result)

    method.__name__, method.__qualname__ = f"{name}_", f"Tensor.{name}_"
    method.__doc__ = f"In place: ``x.{name}_(...)`` writes ``x.{name}(...)`` into ``x`` (its memory, version + 1)."
    method.__wrapped__ = out_of_place  # its signature, for help() and the docs
    if getattr(out_of_place, "numpy_spellings", False):
        method.numpy_spellings = True  # axis= and keepdims= reach the out-of-place method
    return method


for _name in _INPLACE_FORMS:
    setattr(Tensor, f"{_name}_", _inplace_form(_name))
del _name
